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
from oslo_log import log as logging

from cinder_ocfs2 import exception
from cinder_ocfs2 import mounts
from cinder_ocfs2 import reflink

LOG = logging.getLogger(__name__)

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

    `path` is a file directly in a LUN's root directory. It is created
    in the directory open_mount_root opened, so a LUN unmounted since the
    driver looked at the mount table gets LunUnavailable, not a file in
    the node's own mount point directory. The open directory also keeps
    the LUN mounted (umount: target is busy) until the block ends, and a
    failed block's file is removed through it, never by path.

    The file is created before the cleanup scope starts, so an existing
    file (another volume's!) makes this fail with FileExistsError and is
    never removed. Yields an open file descriptor, closed afterwards.

    :raises LunUnavailable: the LUN is no longer mounted at the directory.
    """
    directory, name = os.path.split(path)
    dir_fd = open_mount_root(directory)
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode,
                     dir_fd=dir_fd)
        try:
            os.fchmod(fd, mode)
            yield fd
        except BaseException:
            _remove_at(dir_fd, name)
            raise
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def open_mount_root(directory):
    """Open the directory a LUN is mounted at, checked to be that LUN's.

    Between the driver's look at the mount table and the creation of a
    file the LUN may be unmounted: a file created by path would then land
    in the node's own mount point directory, hidden by the next mount, and
    a lock file there would lock nothing cluster-wide. So files are made
    relative to this descriptor, whose filesystem (st_dev) is checked to be
    the one the mount table lists at `directory`.

    :returns: an O_RDONLY | O_DIRECTORY descriptor; the caller closes it.
    :raises LunUnavailable: nothing, or another filesystem, is mounted at
        `directory` now.
    """
    directory = os.path.normpath(directory)
    expected = mounts.mounted_device(directory)
    if expected is None:
        raise _unmounted(directory, 'nothing is mounted there now')
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        opened = os.fstat(fd).st_dev
    except BaseException:
        os.close(fd)
        raise
    if opened != expected:
        os.close(fd)
        raise _unmounted(directory, 'another filesystem is there now')
    return fd


def _unmounted(directory, now):
    return exception.LunUnavailable(
        pool=os.path.basename(directory), path=directory,
        reason='it was unmounted while the operation ran (%s)' % now)


def _remove_at(dir_fd, name):
    """Remove a file of the open directory dir_fd; a missing one is fine."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


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
    with new_file(target, mode):
        return _copy_into(execute, source, target, use_reflink)


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
        sync_file(target)
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


# Suffix of the file that replaces a volume's file: written beside it,
# renamed over it only when complete. A leftover of a killed process keeps
# this name, so the next replacement or the volume's delete removes it.
REPLACEMENT_SUFFIX = '.new'


@contextlib.contextmanager
def replacement(path):
    """Write a new version of an existing file; swap it in on success.

    Yields the path of a new, empty file beside ``path`` with the same
    mode (and owner, where the service may set it). When the with-block
    succeeds, the new file is flushed to disk and renamed over ``path``
    in one step, then the directory is flushed. When the block fails
    (an error, ENOSPC, EIO, a killed process) ``path`` keeps its previous
    bytes and the new file is removed (a killed process leaves it, under
    a name the next replacement or delete removes).

    Callers hold the volume's cluster-wide lock, so no two replacements of
    one file run at once.
    """
    existing = os.stat(path)
    temp = path + REPLACEMENT_SUFFIX
    remove(temp)
    mode = stat.S_IMODE(existing.st_mode)
    with new_file(temp, mode) as fd:
        _keep_owner(fd, temp, existing)
        yield temp
        sync_file(temp)
        os.rename(temp, path)
    sync_directory(os.path.dirname(path))


def _keep_owner(fd, path, existing):
    if (existing.st_uid, existing.st_gid) == (os.getuid(), os.getgid()):
        return
    try:
        os.fchown(fd, existing.st_uid, existing.st_gid)
    except PermissionError:
        LOG.warning('The new version of %(path)s belongs to this service, '
                    'not to uid %(uid)d gid %(gid)d as the previous one '
                    'did: only root may give a file away.',
                    {'path': path, 'uid': existing.st_uid,
                     'gid': existing.st_gid})


def sync_file(path):
    """Flush a file's data and size to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_raw(execute, source, target, size_bytes, use_reflink):
    """Replace a raw file's contents with a copy of source, atomically.

    Used to revert a volume to a snapshot: the new contents are cloned (or
    copied) into a new file that is renamed over the volume's file only
    when complete, so a failure at any point leaves the volume's previous
    bytes. The file keeps its path, mode and owner; its size is set to
    size_bytes.

    :returns: "reflink" or "full copy".
    """
    with replacement(target) as temp:
        method = _copy_into(execute, source, temp, use_reflink)
        set_size(temp, size_bytes)
    return method


def _copy_into(execute, source, target, use_reflink):
    """Copy a raw file into an existing empty file; by reflink if allowed.

    A full copy names the format (-f raw) so that a guest's data that looks
    like an image header is never interpreted, and writes into the file
    (-n) rather than let qemu-img create one.
    """
    if use_reflink:
        with open(source, 'rb') as src, open(target, 'r+b') as dst:
            try:
                reflink.clone_into(src.fileno(), dst.fileno())
                return 'reflink'
            except reflink.ReflinkUnsupported:
                pass
    os.truncate(target, os.stat(source).st_size)
    execute('qemu-img', 'convert', '-n', *direct_io_flags(source, target),
            '-f', 'raw', '-O', 'raw', source, target)
    return 'full copy'


def supports_direct_io(path):
    """Whether the filesystem holding path opens it with O_DIRECT."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as error:
        if error.errno == errno.EINVAL:
            return False
        raise
    os.close(fd)
    return True


def direct_io_flags(source, target):
    """qemu-img convert's cache flags for a full copy of source to target.

    Through the page cache a copy first fills the cache and then waits for
    the flush, and every page it touched must later be dropped cluster-wide;
    with O_DIRECT (``-T none`` reading, ``-t none`` writing) qemu-img streams
    straight to the LUN: 1 GiB in 17.8 s against 41.5 s on the lab
    (doc/source/benchmarks.rst). A filesystem without O_DIRECT (tmpfs, for
    example) gets the page cache for that side.
    """
    flags = []
    if supports_direct_io(source):
        flags += ['-T', 'none']
    if supports_direct_io(target):
        flags += ['-t', 'none']
    return flags


def has_qcow2_header(path):
    """Whether a file starts with the qcow2 magic."""
    with open(path, 'rb') as volume_file:
        return volume_file.read(len(QCOW2_MAGIC)) == QCOW2_MAGIC


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
        elif size_bytes > current:
            # posix_fallocate refuses a length of 0 (EINVAL).
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
