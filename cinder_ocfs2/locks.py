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


"""Locks that hold across every node mounting a LUN.

On OCFS2 with the o2cb stack only flock() is cluster-wide: POSIX (fcntl,
lockf) and OFD locks are node-local, and so are oslo.concurrency's and
tooz's file locks, which use them. Operations on one volume therefore take
an flock on a lock file on the volume's own LUN, so two cinder-volume
services on different nodes (active-active) never work on it at once.

A blocking flock() would stall every green thread of the service under
eventlet, so the lock is polled with LOCK_NB and a short sleep.

A lock file is removed only by a process that holds its flock, and a
process that gets the flock checks that its open file is still the one at
the path: a waiter that opened the file before it was removed would
otherwise lock the removed file while a newcomer locks a new one at the
same path, and both would hold "the" lock.
"""

import contextlib
import fcntl
import os
import time

from oslo_log import log as logging

from cinder_ocfs2 import exception
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

LOCK_DIR_NAME = '.cinder-ocfs2-locks'
POLL_INTERVAL = 0.1


def lock_path(lun_path, name):
    """Path of the lock file for a name, e.g. a volume id, on a LUN."""
    return os.path.join(lun_path, LOCK_DIR_NAME, name)


class HeldLock:
    """A cluster lock held by a with-block of cluster_lock."""

    def __init__(self, path):
        # The lock file on the LUN.
        self.path = path
        # Whether to remove the lock file when the lock is released.
        self.removing = False

    def remove_on_release(self):
        """Remove the lock file as the lock is released.

        For an object that is gone, e.g. after a volume's delete: the file
        is unlinked while the flock is still held, so no other process can
        lock the removed file after it.
        """
        self.removing = True


@contextlib.contextmanager
def cluster_lock(lun_path, name, timeout, owner=''):
    """Hold the cluster-wide lock `name` on a LUN for the with-block.

    Yields a HeldLock. Logs how long the lock was waited for and held,
    like oslo's lockutils.

    :raises LunUnavailable: the LUN is no longer mounted at lun_path.
    :raises LockTimeout: not acquired within `timeout` seconds.
    """
    path = lock_path(lun_path, name)
    root_fd = volume_files.open_mount_root(lun_path)
    try:
        _make_lock_dir(root_fd)
        fd, waited = _open_and_acquire(root_fd, name, path, timeout)
    finally:
        os.close(root_fd)
    try:
        LOG.debug('Lock "%(path)s" acquired by "%(owner)s" :: waited '
                  '%(waited).3fs', {'path': path, 'owner': owner,
                                    'waited': waited})
        acquired_at = time.monotonic()
        held = HeldLock(path)
        try:
            yield held
        finally:
            if held.removing:
                _unlink_if_file_at(fd, path)
            fcntl.flock(fd, fcntl.LOCK_UN)
            LOG.debug('Lock "%(path)s" released by "%(owner)s" :: held '
                      '%(held).3fs', {'path': path, 'owner': owner,
                                      'held': time.monotonic() - acquired_at})
    finally:
        os.close(fd)


def _make_lock_dir(root_fd):
    """Make the lock directory in the LUN's open root directory."""
    try:
        os.mkdir(LOCK_DIR_NAME, 0o750, dir_fd=root_fd)
    except FileExistsError:
        pass


def _open_and_acquire(root_fd, name, path, timeout):
    """Open the lock file at path and flock it; returns (fd, waited).

    The file is opened (and compared with the one there) relative to
    root_fd, the LUN's root directory as volume_files.open_mount_root
    checked it: a LUN unmounted meanwhile never gets a lock file in the
    node's own mount point directory, where it would lock nothing
    cluster-wide.

    The file may be removed, and another created at the path, while this
    process waits for the flock on the file it opened: once it has the
    flock, it opens the path again unless its file is still the one there.
    """
    started = time.monotonic()
    in_root = os.path.join(LOCK_DIR_NAME, name)
    while True:
        fd = os.open(in_root, os.O_RDWR | os.O_CREAT, 0o600, dir_fd=root_fd)
        try:
            _acquire(fd, path, started, timeout)
            if _is_file_at(fd, in_root, dir_fd=root_fd):
                return fd, time.monotonic() - started
        except BaseException:
            os.close(fd)
            raise
        LOG.debug('Lock file "%s" was removed or replaced while waiting '
                  'for it; opening it again.', path)
        os.close(fd)


def _acquire(fd, path, started, timeout):
    """Poll for the flock of fd until `timeout` seconds after `started`."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() - started >= timeout:
                raise exception.LockTimeout(timeout=timeout, path=path)
            time.sleep(POLL_INTERVAL)


def _is_file_at(fd, path, dir_fd=None):
    """Whether the open file fd is the file at path (not removed).

    :param dir_fd: optional open directory that a relative path is in.
    """
    try:
        at_path = os.stat(path, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (at_path.st_dev,
                                              at_path.st_ino)


def _unlink_if_file_at(fd, path):
    """Unlink path if it is still the file of fd, whose flock is held.

    An error is logged, not raised: the lock is released anyway, and a
    lock file left behind does no harm.
    """
    try:
        if _is_file_at(fd, path):
            os.unlink(path)
    except OSError as error:
        LOG.warning('Could not remove lock file "%(path)s": %(error)s',
                    {'path': path, 'error': error})


def remove_lock(lun_path, name):
    """Remove a lock file whose object is gone (after a volume's delete).

    Only while holding its flock, which is taken without waiting: a lock
    file that another process holds stays, since removing it would let a
    newcomer lock a new file while that process still holds the old one.
    A holder can instead call HeldLock.remove_on_release.
    """
    path = lock_path(lun_path, name)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            LOG.debug('Lock "%s" is held; leaving its file in place.', path)
            return
        _unlink_if_file_at(fd, path)
    finally:
        # Closing the only descriptor of the open file releases the flock.
        os.close(fd)
