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
import types

import ddt
import fixtures
import testtools

from cinder_ocfs2 import exception
from cinder_ocfs2 import locks
from cinder_ocfs2.tests.unit import fake_node


@ddt.ddt
class ClusterLockTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # Locks are taken in the root of a mounted LUN, checked against the
        # mount table: the test's LUN is a directory listed there.
        self.node = self.useFixture(fake_node.FakeNode())
        self.lun = self.node.mount('lun1')
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
        with locks.cluster_lock(self.lun, 'volume-1', 1) as lock:
            path = lock.path
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

    @ddt.data(False, True)
    def test_lock_on_an_unmounted_lun_creates_nothing(self, elsewhere):
        # A lock file in the node's own mount point directory would lock
        # nothing cluster-wide, and hide under the next mount.
        self.node.umount('lun1')
        if elsewhere:
            self.node.mount('lun1', elsewhere=True)
        err = self.assertRaises(exception.LunUnavailable,
                                locks.cluster_lock(self.lun, 'volume-1',
                                                   0.05).__enter__)
        self.assertIn('unmounted while the operation ran', str(err))
        self.assertEqual([], os.listdir(self.lun))

    def test_lock_on_an_unmounted_lun_with_its_lock_dir_creates_nothing(self):
        os.mkdir(os.path.dirname(locks.lock_path(self.lun, 'x')))
        self.node.umount('lun1')
        self.assertRaises(exception.LunUnavailable,
                          locks.cluster_lock(self.lun, 'volume-1',
                                             0.05).__enter__)
        self.assertEqual([], os.listdir(os.path.dirname(
            locks.lock_path(self.lun, 'x'))))

    def test_lock_file_is_made_in_the_checked_directory(self):
        # The path changes to another directory between the check and the
        # lock file's creation (as when another filesystem is mounted
        # there): the lock file is made in the checked one.
        moved = self.lun + '.moved'
        real_make_lock_dir = locks._make_lock_dir

        def path_changes_then_make(root_fd):
            os.rename(self.lun, moved)
            os.mkdir(self.lun)
            real_make_lock_dir(root_fd)

        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.locks._make_lock_dir', path_changes_then_make))
        with locks.cluster_lock(self.lun, 'volume-1', 0.05):
            self.assertEqual([], os.listdir(self.lun))
            self._assert_held(os.path.join(moved, locks.LOCK_DIR_NAME,
                                           'volume-1'))

    def _while_waiting(self, action):
        """Run action when cluster_lock first sleeps: it has opened the file.

        Stands in for the time module of locks, so that another "node"
        acts at a known point of the wait, without threads.
        """
        def sleep(seconds):
            if action not in done:
                done.append(action)
                action()
            time.sleep(seconds)
        done = []
        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.locks.time',
            types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep)))

    def _assert_held(self, path):
        """Another open file of path cannot take the flock."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT)
        self.addCleanup(os.close, fd)
        self.assertRaises(BlockingIOError, fcntl.flock, fd,
                          fcntl.LOCK_EX | fcntl.LOCK_NB)

    def test_waiter_on_a_removed_lock_file_does_not_share_the_lock(self):
        # The waiter opens the file, then its holder removes it and lets
        # go, and a newcomer takes a new file at the path: the waiter must
        # wait for the newcomer, not lock the removed file.
        path = locks.lock_path(self.lun, 'volume-1')
        os.makedirs(os.path.dirname(path))
        holder = self._hold_elsewhere('volume-1')

        def remove_and_lock_anew():
            os.unlink(path)
            fcntl.flock(holder, fcntl.LOCK_UN)
            self._hold_elsewhere('volume-1')

        self._while_waiting(remove_and_lock_anew)
        self.assertRaises(exception.LockTimeout,
                          locks.cluster_lock(self.lun, 'volume-1',
                                             0.2).__enter__)

    def test_waiter_on_a_removed_lock_file_locks_the_path_again(self):
        path = locks.lock_path(self.lun, 'volume-1')
        os.makedirs(os.path.dirname(path))
        holder = self._hold_elsewhere('volume-1')

        def remove_and_release():
            os.unlink(path)
            fcntl.flock(holder, fcntl.LOCK_UN)

        self._while_waiting(remove_and_release)
        with locks.cluster_lock(self.lun, 'volume-1', 1):
            # The lock is the file at the path, which a newcomer opens.
            self._assert_held(path)

    def test_remove_on_release(self):
        with locks.cluster_lock(self.lun, 'volume-1', 1) as lock:
            lock.remove_on_release()
            self.assertTrue(os.path.exists(lock.path))
        self.assertFalse(os.path.exists(lock.path))
        # And the lock can be taken again.
        with locks.cluster_lock(self.lun, 'volume-1', 0.05):
            pass

    def test_remove_on_release_while_another_waits(self):
        # A waiter that opened the file before its holder removed it gets
        # the lock of the file at the path, so a newcomer must wait.
        path = locks.lock_path(self.lun, 'volume-1')
        waiter_opened = threading.Event()
        waiter_has_it, waiter_done = threading.Event(), threading.Event()
        self._while_waiting(waiter_opened.set)

        def wait_for_lock():
            with locks.cluster_lock(self.lun, 'volume-1', 5):
                waiter_has_it.set()
                waiter_done.wait(5)

        with locks.cluster_lock(self.lun, 'volume-1', 1) as lock:
            waiter = threading.Thread(target=wait_for_lock)
            waiter.start()
            self.assertTrue(waiter_opened.wait(5))
            lock.remove_on_release()
        self.assertTrue(waiter_has_it.wait(5))
        try:
            self._assert_held(path)
        finally:
            waiter_done.set()
            waiter.join(5)

    def test_remove_lock(self):
        with locks.cluster_lock(self.lun, 'volume-1', 1):
            pass
        locks.remove_lock(self.lun, 'volume-1')
        self.assertFalse(os.path.exists(locks.lock_path(self.lun,
                                                        'volume-1')))
        locks.remove_lock(self.lun, 'volume-1')

    def test_remove_lock_leaves_a_held_lock_file(self):
        os.makedirs(os.path.dirname(locks.lock_path(self.lun, 'x')))
        self._hold_elsewhere('volume-1')
        started = time.monotonic()
        locks.remove_lock(self.lun, 'volume-1')
        # Without waiting for the holder.
        self.assertLess(time.monotonic() - started, 1)
        self.assertTrue(os.path.exists(locks.lock_path(self.lun,
                                                       'volume-1')))

    def test_remove_lock_leaves_a_file_that_replaced_the_one_it_locked(self):
        # Between opening the file and taking its flock, its holder removed
        # it and a newcomer created another at the path: that one stays.
        path = locks.lock_path(self.lun, 'volume-1')
        os.makedirs(os.path.dirname(path))
        open(path, 'w').close()
        real_flock = fcntl.flock

        def replaced_then_flock(fd, operation):
            if operation & fcntl.LOCK_EX:
                os.unlink(path)
                self._hold_elsewhere('volume-1')
            real_flock(fd, operation)

        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.locks.fcntl',
            types.SimpleNamespace(flock=replaced_then_flock,
                                  LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB,
                                  LOCK_UN=fcntl.LOCK_UN)))
        locks.remove_lock(self.lun, 'volume-1')
        self.assertTrue(os.path.exists(path))
