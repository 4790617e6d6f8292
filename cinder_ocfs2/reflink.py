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


"""Extent-sharing copies of files (reflinks) with the FICLONE ioctl.

OCFS2 made with the default mkfs features (``refcount``) shares extents
between a file and its clone: the copy takes milliseconds whatever the
size, and extents are unshared only when one side is written. Filesystems
without it answer EOPNOTSUPP (or EXDEV across filesystems); callers then
fall back to a full copy.
"""

import errno
import fcntl
import os
import tempfile

# _IOW(0x94, 9, int) from linux/fs.h.
FICLONE = 0x40049409

# errnos meaning "this filesystem (pair) cannot reflink", not a failure.
_UNSUPPORTED = frozenset((errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV,
                          errno.EINVAL, errno.ENOSYS))


class ReflinkUnsupported(OSError):
    """The filesystem cannot share extents between these two files."""


def clone_into(source_fd, target_fd):
    """Make the open file target_fd share all extents of source_fd.

    :raises ReflinkUnsupported: the filesystem has no reflink support.
    """
    try:
        fcntl.ioctl(target_fd, FICLONE, source_fd)
    except OSError as err:
        if err.errno in _UNSUPPORTED:
            raise ReflinkUnsupported(err.errno, os.strerror(err.errno)) \
                from err
        raise


def clone_file(source_path, target_path, mode):
    """Create target_path as a reflink of source_path.

    The target must not exist. On any failure nothing is left at
    target_path.
    """
    with open(source_path, 'rb') as source:
        fd = os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)
            clone_into(source.fileno(), fd)
        except BaseException:
            os.close(fd)
            os.unlink(target_path)
            raise
        os.close(fd)


def supported(directory):
    """Whether files in this directory can be reflinked, by trying it."""
    with tempfile.TemporaryDirectory(prefix='.reflink-probe-',
                                     dir=directory) as probe_dir:
        source = os.path.join(probe_dir, 'source')
        with open(source, 'wb') as probe:
            probe.write(b'\0' * 4096)
        try:
            clone_file(source, os.path.join(probe_dir, 'clone'), 0o600)
        except ReflinkUnsupported:
            return False
    return True
