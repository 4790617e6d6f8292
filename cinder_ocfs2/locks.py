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
"""

import contextlib
import fcntl
import os
import time

from oslo_log import log as logging

from cinder_ocfs2 import exception

LOG = logging.getLogger(__name__)

LOCK_DIR_NAME = '.cinder-ocfs2-locks'
POLL_INTERVAL = 0.1


def lock_path(lun_path, name):
    """Path of the lock file for a name, e.g. a volume id, on a LUN."""
    return os.path.join(lun_path, LOCK_DIR_NAME, name)


@contextlib.contextmanager
def cluster_lock(lun_path, name, timeout, owner=''):
    """Hold the cluster-wide lock `name` on a LUN for the with-block.

    Logs how long the lock was waited for and held, like oslo's lockutils.

    :raises LockTimeout: not acquired within `timeout` seconds.
    """
    path = lock_path(lun_path, name)
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        waited = _acquire(fd, path, timeout)
        LOG.debug('Lock "%(path)s" acquired by "%(owner)s" :: waited '
                  '%(waited).3fs', {'path': path, 'owner': owner,
                                    'waited': waited})
        acquired_at = time.monotonic()
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            LOG.debug('Lock "%(path)s" released by "%(owner)s" :: held '
                      '%(held).3fs', {'path': path, 'owner': owner,
                                      'held': time.monotonic() - acquired_at})
    finally:
        os.close(fd)


def _acquire(fd, path, timeout):
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return time.monotonic() - started
        except BlockingIOError:
            waited = time.monotonic() - started
            if waited >= timeout:
                raise exception.LockTimeout(timeout=timeout, path=path)
            time.sleep(POLL_INTERVAL)


def remove_lock(lun_path, name):
    """Remove a lock file whose object is gone (after a volume's delete)."""
    try:
        os.unlink(lock_path(lun_path, name))
    except FileNotFoundError:
        pass
