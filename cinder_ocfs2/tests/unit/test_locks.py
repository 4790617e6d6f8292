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


import fcntl
import os
import threading
import time

import fixtures
import testtools

from cinder_ocfs2 import exception
from cinder_ocfs2 import locks


class ClusterLockTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lun = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.locks.POLL_INTERVAL', 0.01))

    def _hold_elsewhere(self, name):
        """Take the flock through another open file, as another node."""
        path = locks.lock_path(self.lun, name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd

    def test_cluster_lock_creates_lock_file_on_the_lun(self):
        with locks.cluster_lock(self.lun, 'volume-1', 1) as path:
            self.assertEqual(
                os.path.join(self.lun, locks.LOCK_DIR_NAME, 'volume-1'), path)
            # While held, another open file cannot take it.
            fd = os.open(path, os.O_RDWR)
            self.addCleanup(os.close, fd)
            self.assertRaises(BlockingIOError, fcntl.flock, fd,
                              fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Released afterwards.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def test_cluster_lock_times_out_with_clear_error(self):
        os.makedirs(os.path.dirname(locks.lock_path(self.lun, 'x')))
        self._hold_elsewhere('volume-1')
        err = self.assertRaises(exception.LockTimeout,
                                locks.cluster_lock(self.lun, 'volume-1',
                                                   0.05).__enter__)
        self.assertIn('volume-1', str(err))

    def test_cluster_lock_waits_for_release(self):
        os.makedirs(os.path.dirname(locks.lock_path(self.lun, 'x')))
        fd = self._hold_elsewhere('volume-1')
        threading.Timer(0.2, fcntl.flock, (fd, fcntl.LOCK_UN)).start()
        started = time.monotonic()
        with locks.cluster_lock(self.lun, 'volume-1', 5):
            waited = time.monotonic() - started
        self.assertGreaterEqual(waited, 0.15)

    def test_cluster_lock_released_on_error(self):
        def fail():
            with locks.cluster_lock(self.lun, 'volume-1', 1):
                raise ValueError('boom')
        self.assertRaises(ValueError, fail)
        with locks.cluster_lock(self.lun, 'volume-1', 0.05):
            pass

    def test_remove_lock(self):
        with locks.cluster_lock(self.lun, 'volume-1', 1) as path:
            pass
        locks.remove_lock(self.lun, 'volume-1')
        self.assertFalse(os.path.exists(path))
        locks.remove_lock(self.lun, 'volume-1')
