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


"""Volume and snapshot files on a LUN: create, copy, grow, remove.

Every function that creates a file removes it again if it fails, so a
failed operation never leaves a partial file on a LUN. Raw files are made
with system calls in the service's own process; qemu-img runs only for
qcow2 files and for full copies (which are slow and must not block the
service's green threads).
"""

import contextlib
import errno
import os
import stat

from oslo_concurrency import processutils

from cinder_ocfs2 import exception
from cinder_ocfs2 import reflink

# The formats of volume files (recorded in the volume's admin metadata).
RAW = 'raw'
QCOW2 = 'qcow2'
QCOW2_MAGIC = b'QFI\xfb'


def parse_file_mode(text):
    """Parse ocfs2_volume_file_mode, e.g. "0660" -> 0o660.

    :raises InvalidFileMode: not octal, or writable by other users.
    """
    try:
        mode = int(str(text), 8)
    except ValueError:
        raise exception.InvalidFileMode(
            value=text, reason='not an octal number') from None
    if mode & ~0o7777:
        raise exception.InvalidFileMode(value=text,
                                        reason='more than four octal digits')
    if mode & stat.S_IWOTH:
        raise exception.InvalidFileMode(
            value=text, reason='it lets every user of the node write to '
                               'volume data')
    if not mode & stat.S_IRUSR or not mode & stat.S_IWUSR:
        raise exception.InvalidFileMode(
            value=text, reason='the owner (the cinder-volume service) '
                               'needs read and write access')
    return mode


@contextlib.contextmanager
def new_file(path, mode):
    """Create `path` exclusively; remove it again if the with-block fails.

    The file is created before the cleanup scope starts, so an existing
    file (another volume's!) makes this fail with FileExistsError and is
    never removed. Yields an open file descriptor, closed afterwards.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        yield fd
    except BaseException:
        remove(path)
        raise
    finally:
        os.close(fd)


def create_raw(path, size_bytes, mode, sparse=True):
    """Create a raw file of size_bytes; allocate all of it unless sparse."""
    with new_file(path, mode) as fd:
        if sparse:
            os.ftruncate(fd, size_bytes)
        else:
            os.posix_fallocate(fd, 0, size_bytes)


def create_qcow2(execute, path, size_bytes, mode):
    """Create a qcow2 file with its metadata preallocated."""
    with new_file(path, mode):
        execute('qemu-img', 'create', '-f', 'qcow2',
                '-o', 'preallocation=metadata', path, str(size_bytes))
        os.chmod(path, mode)


def copy_raw(execute, source, target, mode, use_reflink):
    """Copy a raw file to a new file; by reflink when allowed.

    :returns: "reflink" or "full copy", the method used.
    """
    if use_reflink:
        try:
            reflink.clone_file(source, target, mode)
            return 'reflink'
        except reflink.ReflinkUnsupported:
            pass
    with new_file(target, mode):
        # -f raw is explicit so that a guest's data that looks like an
        # image header is never interpreted. -n: write into the file
        # reserved above rather than let qemu-img create one.
        os.truncate(target, os.stat(source).st_size)
        execute('qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw',
                source, target)
    return 'full copy'


def copy_standalone(execute, source, volume_format, target, mode):
    """Copy a volume's data into a new, self-contained file, durably.

    Used to move a volume to another LUN, where no extent can be shared:
    a raw file is copied as raw (zeroes stay holes), a qcow2 file and its
    backing chain become one qcow2 file. The copy and its directory entry
    are on disk before this returns, so the source may be removed after.
    """
    if volume_format == RAW:
        copy_raw(execute, source, target, mode, use_reflink=False)
    else:
        with new_file(target, mode):
            execute('qemu-img', 'convert', '-f', QCOW2, '-O', QCOW2,
                    source, target)
            os.chmod(target, mode)
    try:
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        sync_directory(os.path.dirname(target))
    except BaseException:
        remove(target)
        raise


def sync_directory(path):
    """Flush a directory's entries (a new or removed name) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def overwrite_raw(execute, source, target, use_reflink):
    """Replace the contents of an existing raw file, keeping its inode.

    Used to revert a volume to a snapshot: the volume file keeps its
    owner, mode and path.

    :returns: "reflink" or "full copy".
    """
    if use_reflink:
        with open(source, 'rb') as src, open(target, 'r+b') as dst:
            os.ftruncate(dst.fileno(), 0)
            try:
                reflink.clone_into(src.fileno(), dst.fileno())
                return 'reflink'
            except reflink.ReflinkUnsupported:
                os.ftruncate(dst.fileno(), os.fstat(src.fileno()).st_size)
    execute('qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw',
            source, target)
    return 'full copy'


def grow_raw(path, size_bytes, sparse=True):
    """Grow a raw file to size_bytes; refuse to shrink it."""
    current = os.stat(path).st_size
    if size_bytes < current:
        raise exception.OCFS2DriverError(
            reason='refusing to shrink %s from %d to %d bytes: shrinking '
                   'would destroy data' % (path, current, size_bytes))
    with open(path, 'r+b') as volume_file:
        if sparse:
            os.ftruncate(volume_file.fileno(), size_bytes)
        else:
            os.posix_fallocate(volume_file.fileno(), current,
                               size_bytes - current)


def set_size(path, size_bytes):
    """Set a raw file's size exactly (after a revert or a copy)."""
    os.truncate(path, size_bytes)


def remove(path):
    """Remove a file; a missing file counts as removed.

    :returns: True if a file was removed.
    """
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def is_no_space(err, directory):
    """Whether a failure was the LUN running out of space.

    An OSError says so by errno. A failed command (qemu-img) does not say
    so reliably, so look at the LUN itself: less than 1 MiB left for
    unprivileged writers means it filled up.
    """
    no_space = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(err, OSError) and err.errno in no_space:
        return True
    try:
        stats = os.statvfs(directory)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 1024 * 1024


@contextlib.contextmanager
def no_space_errors(lun, action, name):
    """Turn "the LUN filled up" failures into one NoSpaceOnLun error."""
    try:
        yield
    except (OSError, processutils.ProcessExecutionError) as err:
        if is_no_space(err, lun.path):
            raise exception.NoSpaceOnLun(pool=lun.pool, action=action,
                                         name=name) from err
        raise
