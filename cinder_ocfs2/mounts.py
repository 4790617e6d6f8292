# Copyright 2026 The cinder-ocfs2 Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The mount table of this node, as records, from /proc/self/mountinfo.

``parse_mountinfo`` is pure (text in, records out); ``read_mountinfo`` reads
the file. Reading it is one small read with no subprocess, cheap enough to
do on every volume operation, which is how the driver sees a LUN mounted a
moment ago.
"""

import dataclasses
import os
import re

# Root of the proc filesystem; tests and the status command point it at a
# captured tree (like psutil.PROCFS_PATH).
PROC_ROOT = '/proc'

# The mount option that makes flock() node-local on OCFS2 and GFS2.
LOCALFLOCKS = 'localflocks'

# An octal escape as the kernel writes it in mount paths: space is \040,
# tab \011, newline \012, backslash \134 (fs/proc_namespace.c, mangle()).
_OCTAL_ESCAPE = re.compile(r'\\([0-7]{3})')


class MountinfoParseError(ValueError):
    """A mountinfo line that does not have the kernel's layout."""

    def __init__(self, line, reason):
        super().__init__('unparsable mountinfo line (%s): %r' % (reason, line))
        self.line = line


@dataclasses.dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo (see proc(5))."""

    # Field 1: unique id of the mount.
    mount_id: int
    # Field 2: id of the parent mount.
    parent_id: int
    # Field 3: st_dev of files on this filesystem, "major:minor".
    device_number: str
    # Field 4: directory of the filesystem that forms the root of the mount.
    root: str
    # Field 5: where it is mounted, octal escapes decoded.
    mount_point: str
    # Field 6: per-mount options, e.g. ("rw", "relatime").
    mount_options: tuple
    # Field after the "-" separator: filesystem type, e.g. "ocfs2".
    fs_type: str
    # Next field: mount source, usually the device, e.g. "/dev/sdc".
    source: str
    # Last field: superblock options, e.g. ("rw", "heartbeat=local").
    super_options: tuple

    @property
    def read_only(self):
        """True if the mount or its superblock is read-only.

        OCFS2 remounts a filesystem read-only on errors
        (errors=remount-ro): that shows in the superblock options, while
        "mount -o remount,ro" shows in the per-mount options. Check both.
        """
        return 'ro' in self.mount_options or 'ro' in self.super_options

    @property
    def local_flocks(self):
        """True if mounted with "localflocks": flock() is node-local then.

        OCFS2 (like GFS2) then takes flock() locks on this node only, not
        through the cluster's DLM. The option shows in the superblock
        options, which OCFS2 writes as ",localflocks," (an empty option
        follows it); check the per-mount options too, like read_only.
        """
        return (LOCALFLOCKS in self.mount_options or
                LOCALFLOCKS in self.super_options)

    def super_option(self, name):
        """Value of a superblock option such as "heartbeat", or None."""
        prefix = name + '='
        for option in self.super_options:
            if option.startswith(prefix):
                return option[len(prefix):]
        return None

    def __str__(self):
        return '%s on %s type %s' % (self.source, self.mount_point,
                                     self.fs_type)


def unescape(field):
    r"""Decode the kernel's octal escapes: "a\040b" -> "a b"."""
    if '\\' not in field:
        return field
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def escape(path):
    r"""Encode a path as the kernel writes it: "a b" -> "a\040b"."""
    return (path.replace('\\', '\\134').replace(' ', '\\040')
            .replace('\t', '\\011').replace('\n', '\\012'))


def parse_mountinfo_line(line):
    """Parse one mountinfo line into a Mount.

    Example::

        36 25 8:32 / /var/lib/cinder/ocfs2/lun1 rw,relatime shared:1 - ocfs2
        /dev/sdc rw,heartbeat=local,cluster_stack=o2cb

    gives Mount(mount_id=36, parent_id=25, device_number='8:32', root='/',
    mount_point='/var/lib/cinder/ocfs2/lun1', fs_type='ocfs2',
    source='/dev/sdc', ...). Optional fields (field 7) vary in number, so
    the filesystem fields are found after the "-" separator.
    """
    fields = line.split(' ')
    try:
        separator = fields.index('-', 6)
    except ValueError:
        raise MountinfoParseError(line, 'no "-" separator') from None
    if separator < 6 or len(fields) < separator + 4:
        raise MountinfoParseError(line, 'too few fields')
    try:
        mount_id, parent_id = int(fields[0]), int(fields[1])
    except ValueError:
        raise MountinfoParseError(line, 'mount ids are not numbers') from None
    return Mount(
        mount_id=mount_id,
        parent_id=parent_id,
        device_number=fields[2],
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        mount_options=tuple(fields[5].split(',')),
        fs_type=unescape(fields[separator + 1]),
        source=unescape(fields[separator + 2]),
        super_options=tuple(fields[separator + 3].split(',')),
    )


def parse_mountinfo(text, below=None):
    """Parse /proc/self/mountinfo into a list of Mounts.

    :param below: optional directory; only mounts whose mount point is
        inside it are parsed (a cheap prefix test on the raw line first,
        so a node with hundreds of mounts costs little).
    """
    prefix = escape(below.rstrip('/') + '/') if below else None
    mounts = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if prefix is not None:
            fields = line.split(' ', 5)
            if len(fields) > 4 and not fields[4].startswith(prefix):
                continue
        mounts.append(parse_mountinfo_line(line))
    return mounts


def read_mountinfo(proc_root=None):
    """Return the text of this process's mountinfo."""
    with open(os.path.join(proc_root or PROC_ROOT, 'self', 'mountinfo'),
              encoding='utf-8', errors='surrogateescape') as mountinfo:
        return mountinfo.read()


def current_mounts(proc_root=None, below=None):
    """The mounts of this node now, in the kernel's order (newest last)."""
    return parse_mountinfo(read_mountinfo(proc_root), below)


def device_of(mount):
    """The st_dev of files on a mount, from its "major:minor" field."""
    major, _colon, minor = mount.device_number.partition(':')
    try:
        return os.makedev(int(major), int(minor))
    except ValueError:
        raise MountinfoParseError(mount.device_number,
                                  'not a "major:minor" device') from None


def mounted_device(directory, proc_root=None):
    """The st_dev of the filesystem mounted at `directory` now, or None.

    A file opened there is on that filesystem only if its st_dev says so:
    a LUN unmounted a moment ago leaves the directory of the filesystem
    below it at the same path. Of several mounts at one directory the last
    in the kernel's order is the one a path reaches (it hides the others).

    :returns: the device number, or None when nothing is mounted at
        `directory` (a directory inside a mount does not count).
    """
    directory = os.path.normpath(directory)
    found = None
    for mount in current_mounts(proc_root,
                                below=os.path.dirname(directory)):
        if mount.mount_point == directory:
            found = mount
    return None if found is None else device_of(found)
