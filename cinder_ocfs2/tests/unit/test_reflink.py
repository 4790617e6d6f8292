# Copyright 2025 The cinder-ocfs2 Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


import errno
import os
from unittest import mock

import fixtures
import testtools

from cinder_ocfs2 import reflink


class ReflinkTestCase(testtools.TestCase):
    """The fallback side of reflink; the real one runs on the OCFS2 lab."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.source = os.path.join(self.dir, 'source')
        with open(self.source, 'wb') as source:
            source.write(b'x' * 4096)
        self.target = os.path.join(self.dir, 'target')

    def test_clone_file_unsupported_leaves_no_target(self):
        unsupported = OSError(errno.EOPNOTSUPP, 'Operation not supported')
        with mock.patch('fcntl.ioctl', side_effect=unsupported):
            self.assertRaises(reflink.ReflinkUnsupported, reflink.clone_file,
                              self.source, self.target, 0o600)
        self.assertFalse(os.path.exists(self.target))

    def test_clone_file_other_errors_are_not_unsupported(self):
        failure = OSError(errno.EIO, 'Input/output error')
        with mock.patch('fcntl.ioctl', side_effect=failure):
            err = self.assertRaises(OSError, reflink.clone_file,
                                    self.source, self.target, 0o600)
        self.assertNotIsInstance(err, reflink.ReflinkUnsupported)
        self.assertFalse(os.path.exists(self.target))

    def test_clone_file_refuses_existing_target(self):
        open(self.target, 'w').close()
        self.assertRaises(FileExistsError, reflink.clone_file, self.source,
                          self.target, 0o600)
        self.assertTrue(os.path.exists(self.target))

    def test_clone_file_calls_ficlone(self):
        with mock.patch('fcntl.ioctl') as ioctl:
            reflink.clone_file(self.source, self.target, 0o640)
        self.assertEqual(reflink.FICLONE, ioctl.call_args[0][1])
        self.assertEqual(0o640, os.stat(self.target).st_mode & 0o7777)

    def test_supported_probe_cleans_up(self):
        # Whatever the test host's filesystem answers, no probe is left.
        self.assertIsInstance(reflink.supported(self.dir), bool)
        self.assertEqual(['source'], os.listdir(self.dir))

    def test_supported_false_when_unsupported(self):
        unsupported = OSError(errno.EXDEV, 'Invalid cross-device link')
        with mock.patch('fcntl.ioctl', side_effect=unsupported):
            self.assertFalse(reflink.supported(self.dir))
        with mock.patch('fcntl.ioctl'):
            self.assertTrue(reflink.supported(self.dir))
