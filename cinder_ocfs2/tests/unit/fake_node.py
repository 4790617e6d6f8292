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


"""A node's mount table in a temporary directory, for unit tests.

The mountinfo file names real temporary directories as ocfs2 mounts, with
the device number of the filesystem they are on, so the driver runs its
real file operations (and real qemu-img) on them, and finds them to be
the filesystem the mount table lists; only the fact that they are OCFS2
is made up. Reflink is not available on the
test host's filesystem, so these tests exercise the full-copy path; the
reflink path is tested on the real OCFS2 lab (tests/functional).
"""

import os

import fixtures

from cinder_ocfs2 import mounts

ROOT_LINE = '21 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw'
OCFS2_OPTIONS = ('rw,relatime,_netdev,heartbeat=local,nointr,data=ordered,'
                 'errors=remount-ro,atime_quantum=60,cluster_stack=o2cb,'
                 'coherency=full,user_xattr,acl')


escape = mounts.escape


def device_number(path, minor_offset=0):
    """The "major:minor" of the filesystem a path is on, as mountinfo has it.

    :param minor_offset: added to the minor number, for the device of
        another filesystem than the one the path is on.
    """
    device = os.stat(path).st_dev
    return '%d:%d' % (os.major(device), os.minor(device) + minor_offset)


class FakeNode(fixtures.Fixture):
    """A proc root and a mount point base with LUNs mounted on demand."""

    def _setUp(self):
        self.root = self.useFixture(fixtures.TempDir()).path
        self.proc = os.path.join(self.root, 'proc')
        self.base = os.path.join(self.root, 'ocfs2')
        os.makedirs(os.path.join(self.proc, 'self'))
        os.makedirs(self.base)
        self.lines = [ROOT_LINE]
        self._next_id = 100
        self._write()
        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.mounts.PROC_ROOT', self.proc))

    def mount(self, pool, fs_type='ocfs2', read_only=False, device=None,
              elsewhere=False):
        """Make a directory under the base and list it as mounted.

        :param elsewhere: list it with the device number of another
            filesystem than the directory's: as when the LUN listed there
            is unmounted after the mount table was read, and the directory
            opened at the path is then the one of the filesystem below.
        """
        path = os.path.join(self.base, pool)
        os.makedirs(path, exist_ok=True)
        self._next_id += 1
        mode = 'ro' if read_only else 'rw'
        options = OCFS2_OPTIONS if fs_type == 'ocfs2' else 'rw'
        self.lines.append(
            '%d 21 %s / %s %s,relatime shared:%d - %s %s %s' % (
                self._next_id, device_number(path, 1 if elsewhere else 0),
                escape(path), mode, self._next_id, fs_type,
                device or '/dev/sd%s' % chr(ord('a') + self._next_id % 26),
                options.replace('rw', mode, 1)))
        self._write()
        return path

    def umount(self, pool):
        """Drop a LUN from the mount table (its directory stays)."""
        needle = ' %s ' % escape(os.path.join(self.base, pool))
        self.lines = [line for line in self.lines if needle not in line]
        self._write()

    def _write(self):
        with open(os.path.join(self.proc, 'self', 'mountinfo'), 'w') as f:
            f.write('\n'.join(self.lines) + '\n')

    def current(self):
        return mounts.current_mounts()


def fake_clone_into(source_fd, target_fd):
    """A reflink where the filesystem has none: copy the data, keep holes."""
    size = os.fstat(source_fd).st_size
    os.ftruncate(target_fd, size)
    offset = 0
    while offset < size:
        try:
            start = os.lseek(source_fd, offset, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole is left
            break
        end = os.lseek(source_fd, start, os.SEEK_HOLE)
        while start < end:
            start += os.copy_file_range(source_fd, target_fd, end - start,
                                        start, start)
        offset = end
