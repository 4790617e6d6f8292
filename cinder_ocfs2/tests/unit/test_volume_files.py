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
import shutil
import stat
from unittest import mock

import ddt
from oslo_concurrency import processutils
import testtools

from cinder_ocfs2 import exception
from cinder_ocfs2.tests.unit import fake_node
from cinder_ocfs2 import volume_files

MiB = 1024 * 1024


def _qemu_img_missing():
    return shutil.which('qemu-img') is None


@ddt.ddt
class VolumeFilesTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # New files go to the root of a mounted LUN, checked against the
        # mount table: the test's LUN is a directory listed there.
        self.node = self.useFixture(fake_node.FakeNode())
        self.dir = self.node.mount('lun1')
        self.path = os.path.join(self.dir, 'volume-1')

    @ddt.data(('0660', 0o660), ('600', 0o600), ('0640', 0o640))
    @ddt.unpack
    def test_parse_file_mode(self, text, expected):
        self.assertEqual(expected, volume_files.parse_file_mode(text))

    @ddt.data(('0666', 'every user'), ('0662', 'every user'),
              ('rw', 'octal'), ('0460', 'owner'), ('17777', 'four'))
    @ddt.unpack
    def test_parse_file_mode_refused(self, text, reason):
        err = self.assertRaises(exception.InvalidFileMode,
                                volume_files.parse_file_mode, text)
        self.assertIn(reason, str(err))

    def test_create_raw_sparse(self):
        volume_files.create_raw(self.path, 64 * MiB, 0o660)
        info = os.stat(self.path)
        self.assertEqual(64 * MiB, info.st_size)
        self.assertEqual(0, info.st_blocks)
        self.assertEqual(0o660, stat.S_IMODE(info.st_mode))

    def test_create_raw_preallocated(self):
        volume_files.create_raw(self.path, 4 * MiB, 0o640, sparse=False)
        info = os.stat(self.path)
        self.assertEqual(4 * MiB, info.st_size)
        self.assertGreaterEqual(info.st_blocks * 512, 4 * MiB)
        self.assertEqual(0o640, stat.S_IMODE(info.st_mode))

    def test_create_raw_mode_ignores_umask(self):
        old = os.umask(0o077)
        self.addCleanup(os.umask, old)
        volume_files.create_raw(self.path, MiB, 0o660)
        self.assertEqual(0o660, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_create_raw_refuses_existing_file(self):
        volume_files.create_raw(self.path, MiB, 0o660)
        self.assertRaises(FileExistsError, volume_files.create_raw,
                          self.path, MiB, 0o660)
        # The existing file is untouched, not removed.
        self.assertTrue(os.path.exists(self.path))

    def test_create_raw_no_space_leaves_nothing(self):
        no_space = OSError(errno.ENOSPC, 'No space left on device')
        with mock.patch('os.posix_fallocate', side_effect=no_space):
            err = self.assertRaises(OSError, volume_files.create_raw,
                                    self.path, MiB, 0o660, sparse=False)
        self.assertEqual(errno.ENOSPC, err.errno)
        self.assertFalse(os.path.exists(self.path))

    @testtools.skipIf(_qemu_img_missing(), 'qemu-img is not installed')
    def test_create_qcow2(self):
        volume_files.create_qcow2(processutils.execute, self.path,
                                  64 * MiB, 0o660)
        with open(self.path, 'rb') as image:
            self.assertEqual(volume_files.QCOW2_MAGIC, image.read(4))
        self.assertEqual(0o660, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_create_qcow2_failure_leaves_nothing(self):
        def failing(*cmd, **kwargs):
            open(self.path, 'w').close()
            raise processutils.ProcessExecutionError(exit_code=1)
        self.assertRaises(processutils.ProcessExecutionError,
                          volume_files.create_qcow2, failing, self.path,
                          MiB, 0o660)
        self.assertFalse(os.path.exists(self.path))

    @testtools.skipIf(_qemu_img_missing(), 'qemu-img is not installed')
    def test_copy_raw_full_copy_keeps_data_and_holes(self):
        with open(self.path, 'wb') as source:
            source.truncate(32 * MiB)
            source.seek(8 * MiB)
            source.write(b'ocfs2' * 1000)
        target = os.path.join(self.dir, 'volume-2')
        # The test host's filesystem cannot reflink: the copy falls back.
        method = volume_files.copy_raw(processutils.execute, self.path,
                                       target, 0o600, use_reflink=True)
        self.assertEqual('full copy', method)
        with open(self.path, 'rb') as a, open(target, 'rb') as b:
            self.assertEqual(a.read(), b.read())
        info = os.stat(target)
        self.assertEqual(0o600, stat.S_IMODE(info.st_mode))
        self.assertLess(info.st_blocks * 512, 4 * MiB)

    @testtools.skipIf(_qemu_img_missing(), 'qemu-img is not installed')
    def test_copy_raw_full_copy_bypasses_the_page_cache(self):
        with open(self.path, 'wb') as source:
            source.write(b'direct' * 1000)
        target = os.path.join(self.dir, 'volume-2')
        calls = []

        def recording(*cmd, **kwargs):
            calls.append(cmd)
            return processutils.execute(*cmd, **kwargs)
        volume_files.copy_raw(recording, self.path, target, 0o660,
                              use_reflink=False)
        # The test LUN is a directory of the host's filesystem, which
        # takes O_DIRECT (ext4, xfs; not tmpfs).
        self.assertEqual(['-T', 'none', '-t', 'none'],
                         list(calls[0][3:7]))
        with open(target, 'rb') as copy:
            self.assertEqual(b'direct' * 1000, copy.read(6000))

    def test_direct_io_falls_back_where_refused(self):
        target = os.path.join(self.dir, 'volume-2')
        open(self.path, 'w').close()
        open(target, 'w').close()
        real_open = os.open

        def no_direct_on_target(path, flags, *args):
            if path == target and flags & os.O_DIRECT:
                raise OSError(errno.EINVAL, 'Invalid argument')
            return real_open(path, flags, *args)
        with mock.patch('os.open', side_effect=no_direct_on_target):
            self.assertEqual(['-T', 'none'],
                             volume_files.direct_io_flags(self.path, target))

    def test_direct_io_probe_other_errors_raise(self):
        self.assertRaises(FileNotFoundError, volume_files.supports_direct_io,
                          os.path.join(self.dir, 'missing'))

    def test_copy_raw_failure_leaves_nothing(self):
        target = os.path.join(self.dir, 'volume-2')

        def failing(*cmd, **kwargs):
            open(target, 'w').close()
            raise processutils.ProcessExecutionError(exit_code=1)
        open(self.path, 'w').close()
        self.assertRaises(processutils.ProcessExecutionError,
                          volume_files.copy_raw, failing, self.path, target,
                          0o660, use_reflink=False)
        self.assertFalse(os.path.exists(target))

    @testtools.skipIf(_qemu_img_missing(), 'qemu-img is not installed')
    def test_replace_raw_swaps_in_a_complete_copy(self):
        snapshot = os.path.join(self.dir, 'snapshot-1')
        with open(snapshot, 'wb') as f:
            f.write(b'A' * MiB)
        with open(self.path, 'wb') as f:
            f.write(b'B' * 2 * MiB)
        os.chmod(self.path, 0o640)
        method = volume_files.replace_raw(processutils.execute, snapshot,
                                          self.path, 3 * MiB,
                                          use_reflink=True)
        self.assertEqual('full copy', method)
        info = os.stat(self.path)
        self.assertEqual((3 * MiB, 0o640),
                         (info.st_size, stat.S_IMODE(info.st_mode)))
        with open(self.path, 'rb') as f:
            self.assertEqual(b'A' * MiB + b'\0' * MiB, f.read(2 * MiB))
        self.assertFalse(os.path.exists(self.path + '.new'))

    def test_replacement_failure_keeps_previous_bytes(self):
        with open(self.path, 'wb') as f:
            f.write(b'B' * MiB)
        with open(self.path + '.new', 'wb') as f:
            f.write(b'left by a killed process')

        def fail():
            with volume_files.replacement(self.path) as new_path:
                with open(new_path, 'wb') as f:
                    f.write(b'half')
                raise OSError(errno.EIO, 'I/O error')
        self.assertRaises(OSError, fail)
        with open(self.path, 'rb') as f:
            self.assertEqual(b'B' * MiB, f.read())
        self.assertFalse(os.path.exists(self.path + '.new'))

    def test_grow_raw(self):
        volume_files.create_raw(self.path, MiB, 0o660)
        volume_files.grow_raw(self.path, 3 * MiB)
        self.assertEqual(3 * MiB, os.stat(self.path).st_size)

    def test_grow_raw_preallocated(self):
        volume_files.create_raw(self.path, MiB, 0o660, sparse=False)
        volume_files.grow_raw(self.path, 3 * MiB, sparse=False)
        info = os.stat(self.path)
        self.assertEqual(3 * MiB, info.st_size)
        self.assertGreaterEqual(info.st_blocks * 512, 3 * MiB)

    def test_grow_raw_refuses_to_shrink(self):
        volume_files.create_raw(self.path, 2 * MiB, 0o660)
        err = self.assertRaises(exception.OCFS2DriverError,
                                volume_files.grow_raw, self.path, MiB)
        self.assertIn('refusing to shrink', str(err))
        self.assertEqual(2 * MiB, os.stat(self.path).st_size)

    def _open_fds(self):
        return len(os.listdir('/proc/self/fd'))

    def test_open_mount_root_is_the_mounted_directory(self):
        fd = volume_files.open_mount_root(self.dir + '/')
        self.addCleanup(os.close, fd)
        mounted, opened = os.stat(self.dir), os.fstat(fd)
        self.assertEqual((mounted.st_dev, mounted.st_ino),
                         (opened.st_dev, opened.st_ino))

    @ddt.data((False, 'nothing is mounted there now'),
              (True, 'another filesystem is there now'))
    @ddt.unpack
    def test_open_mount_root_of_an_unmounted_lun(self, elsewhere, reason):
        self.node.umount('lun1')
        if elsewhere:
            self.node.mount('lun1', elsewhere=True)
        fds = self._open_fds()
        err = self.assertRaises(exception.LunUnavailable,
                                volume_files.open_mount_root, self.dir)
        self.assertIn('OCFS2 pool lun1 (%s) cannot be used: it was '
                      'unmounted while the operation ran (%s)'
                      % (self.dir, reason), str(err))
        # The directory opened for the check is closed again.
        self.assertEqual(fds, self._open_fds())

    def test_open_mount_root_of_a_directory_inside_the_lun(self):
        # Only the LUN's root directory is a mount point.
        inside = os.path.join(self.dir, 'sub')
        os.mkdir(inside)
        self.assertRaises(exception.LunUnavailable,
                          volume_files.open_mount_root, inside)

    def test_open_mount_root_follows_the_newest_mount(self):
        # A LUN mounted over another at one directory hides it.
        self.node.mount('lun1', elsewhere=True)
        self.assertRaises(exception.LunUnavailable,
                          volume_files.open_mount_root, self.dir)
        self.node.umount('lun1')
        self.node.mount('lun1', elsewhere=True)
        self.node.mount('lun1')
        os.close(volume_files.open_mount_root(self.dir))

    @ddt.data(False, True)
    def test_create_on_an_unmounted_lun_creates_nothing(self, elsewhere):
        # The LUN was unmounted after the driver picked it: no file may
        # go to the node's own mount point directory.
        self.node.umount('lun1')
        if elsewhere:
            self.node.mount('lun1', elsewhere=True)
        self.assertRaises(exception.LunUnavailable, volume_files.create_raw,
                          self.path, MiB, 0o660)
        self.assertRaises(exception.LunUnavailable, volume_files.copy_raw,
                          processutils.execute, self.path,
                          os.path.join(self.dir, 'volume-2'), 0o660,
                          use_reflink=False)
        self.assertEqual([], os.listdir(self.dir))

    def test_new_file_removes_its_own_file_not_the_one_at_the_path(self):
        # While the block runs another directory comes to the path (as
        # when another filesystem is mounted there): a failed block
        # removes the file it created, not the one now at the path.
        moved = self.dir + '.moved'

        def fail_after_the_path_changed():
            with volume_files.new_file(self.path, 0o660):
                os.rename(self.dir, moved)
                os.mkdir(self.dir)
                open(self.path, 'w').close()
                raise ValueError('boom')

        self.assertRaises(ValueError, fail_after_the_path_changed)
        self.assertEqual([], os.listdir(moved))
        self.assertTrue(os.path.exists(self.path))

    def test_remove_missing_file_counts_as_removed(self):
        self.assertFalse(volume_files.remove(self.path))
        open(self.path, 'w').close()
        self.assertTrue(volume_files.remove(self.path))
        self.assertFalse(os.path.exists(self.path))

    @ddt.data((errno.ENOSPC, True), (errno.EDQUOT, True), (errno.EIO, False))
    @ddt.unpack
    def test_is_no_space_by_errno(self, number, expected):
        self.assertEqual(expected, volume_files.is_no_space(
            OSError(number, 'x'), self.dir))

    def test_is_no_space_checks_the_lun_for_failed_commands(self):
        failed = processutils.ProcessExecutionError(exit_code=1)
        self.assertFalse(volume_files.is_no_space(failed, self.dir))
        full = mock.Mock(f_bavail=10, f_frsize=4096)
        with mock.patch('os.statvfs', return_value=full):
            self.assertTrue(volume_files.is_no_space(failed, self.dir))
