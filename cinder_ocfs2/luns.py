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

"""Which OCFS2 LUNs this backend may use right now: one pool per LUN.

A LUN is an ocfs2 mount directly below ``ocfs2_mount_point_base``; its pool
is named after its directory. Nothing is cached between calls: every
operation reads the mount table again (design decision 1), so a LUN mounted
a moment ago is used at once and one unmounted is never written to.

``select_luns`` is pure (mounts in, LUNs and skip reasons out). The
``LunInventory`` reads the mount table and logs each LUN's state once per
change, never once per call.
"""

import dataclasses
import os
import threading

from oslo_log import log as logging

from cinder_ocfs2 import exception
from cinder_ocfs2 import mounts as mounts_mod

LOG = logging.getLogger(__name__)

FS_TYPE = 'ocfs2'


@dataclasses.dataclass(frozen=True)
class Lun:
    """An ocfs2 mount below the mount point base: one cinder pool."""

    # Directory name below the base, e.g. "192.168.10.91_sda".
    pool: str
    # Mount point (mountinfo field 5).
    path: str
    # Mount source, the block device (mountinfo field 10).
    device: str
    # Mounted read-only, by the operator or by OCFS2 after an error.
    read_only: bool
    # Heartbeat mode from the superblock options ("local", "global"), or
    # None when the kernel does not say.
    heartbeat: object

    def __str__(self):
        return 'pool %s (%s on %s)' % (self.pool, self.device, self.path)


@dataclasses.dataclass(frozen=True)
class Selection:
    """What select_luns found below the base."""

    # Pools that can take volumes, by pool name.
    usable: dict
    # Pools seen but not usable: pool name -> reason, for the operator.
    skipped: dict


def select_luns(mounts, base, allowed=()):
    """Pick the LUNs of a backend from the mount table.

    :param mounts: Mount records in kernel order (later mounts hide earlier
        ones at the same mount point).
    :param base: the mount point base, e.g. "/var/lib/cinder/ocfs2".
    :param allowed: optional allow-list of pool names.
    :returns: a Selection. A pool named in ``allowed`` that has no mount is
        reported as skipped, so an operator learns why it is not used.
    """
    base = os.path.normpath(base)
    visible = {}
    for mount in mounts:
        if os.path.dirname(mount.mount_point) == base:
            visible[mount.mount_point] = mount
    usable, skipped = {}, {}
    for path, mount in sorted(visible.items()):
        pool = os.path.basename(path)
        if allowed and pool not in allowed:
            continue
        if mount.fs_type != FS_TYPE:
            skipped[pool] = ('%s is a %s filesystem, not ocfs2'
                             % (path, mount.fs_type))
        elif mount.read_only:
            skipped[pool] = ('%s is mounted read-only (OCFS2 remounts '
                             'read-only after I/O or cluster errors; check '
                             'dmesg on this node)' % path)
        elif mount.local_flocks:
            # flock() on the LUN is how cinder_ocfs2.locks keeps other
            # nodes off a volume; with localflocks it excludes no one.
            skipped[pool] = ('%s is mounted with localflocks: flock() is '
                             'node-local there, so cinder-ocfs2\'s '
                             'cluster-wide locks would not hold across '
                             'nodes; unmount it and mount it again without '
                             'localflocks' % path)
        else:
            usable[pool] = Lun(pool=pool, path=path, device=mount.source,
                               read_only=False,
                               heartbeat=mount.super_option('heartbeat'))
    for pool in allowed:
        if pool not in usable and pool not in skipped:
            skipped[pool] = '%s is not mounted' % os.path.join(base, pool)
    return Selection(usable=usable, skipped=skipped)


def usable_lun(selection, base, pool):
    """The usable LUN of a pool in a Selection, or LunUnavailable why not."""
    if pool in selection.usable:
        return selection.usable[pool]
    path = os.path.join(base, pool)
    raise exception.LunUnavailable(
        pool=pool, path=path,
        reason=selection.skipped.get(pool, '%s is not mounted' % path))


class LunInventory:
    """The LUNs of one backend, read again from the mount table each time."""

    def __init__(self, base, allowed=(), proc_root=None):
        self.base = os.path.normpath(base)
        self.allowed = tuple(allowed)
        self.proc_root = proc_root
        self._last_states = {}
        self._log_lock = threading.Lock()

    def scan(self):
        """Read the mount table now and return a Selection."""
        mounts = mounts_mod.current_mounts(self.proc_root, below=self.base)
        selection = select_luns(mounts, self.base, self.allowed)
        self._log_changes(selection)
        return selection

    def usable(self):
        """The usable LUNs now, sorted by pool name."""
        return [lun for _pool, lun in sorted(self.scan().usable.items())]

    def get(self, pool):
        """The usable LUN of a pool, or LunUnavailable saying why not."""
        return usable_lun(self.scan(), self.base, pool)

    def _log_changes(self, selection):
        states = {pool: 'usable' for pool in selection.usable}
        states.update(selection.skipped)
        with self._log_lock:
            for pool, state in sorted(states.items()):
                if self._last_states.get(pool) == state:
                    continue
                if state == 'usable':
                    LOG.info('OCFS2 %s is usable.', selection.usable[pool])
                else:
                    LOG.warning('OCFS2 pool %(pool)s skipped: %(why)s.',
                                {'pool': pool, 'why': state})
            for pool in sorted(set(self._last_states) - set(states)):
                LOG.warning('OCFS2 pool %(pool)s is gone: nothing is mounted '
                            'at %(path)s any more.',
                            {'pool': pool,
                             'path': os.path.join(self.base, pool)})
            self._last_states = states
