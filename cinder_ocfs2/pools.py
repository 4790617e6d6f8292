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


"""Capacity of each LUN and the pool record cinder's scheduler reads.

``read_capacity`` does the I/O for one LUN: one statvfs, one stat of the
LUN's root directory and, only when that directory changed, one listing of
its names; no stat of any volume file. ``pool_stats`` is pure.
"""

import dataclasses
import os
import re
import time

from oslo_utils import units

from cinder.common import constants

VENDOR_NAME = 'Open Source'

# Volume files: volume-<uuid>. Snapshot files, qcow2 overlays
# (volume-<id>.<snapshot id>) and .info files do not match.
_VOLUME_FILE = re.compile(
    r'^volume-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
    r'[0-9a-f]{12}$')


@dataclasses.dataclass(frozen=True)
class Capacity:
    """Space on one LUN, in bytes, and its number of volume files."""

    # statvfs: f_blocks * f_frsize.
    total: int
    # statvfs: f_bavail * f_frsize (what an unprivileged writer can use).
    free: int
    # Names volume-<uuid> in the LUN's root directory.
    volume_count: int


def read_capacity(path, counter=None):
    """Measure a LUN mounted at path: one statvfs, and its volume count.

    No volume file is stat'ed. On OCFS2 a stat of a file last used by
    another node takes that inode's cluster lock: with 2,000 volumes made
    by node2, a refresh on node1 that stat'ed each took 32 s with cold
    caches, and the lock traffic lands on the nodes writing to them. So
    the pool reports no provisioned capacity of its own, and cinder's
    scheduler uses the pool's allocated_capacity_gb instead, which the
    volume manager keeps from its database.

    :param counter: a VolumeCounter, which lists the directory again only
        when it changed; without one it is listed every time.
    """
    stats = os.statvfs(path)
    return Capacity(total=stats.f_blocks * stats.f_frsize,
                    free=stats.f_bavail * stats.f_frsize,
                    volume_count=(counter.count(path) if counter
                                  else count_volume_files(path)))


def count_volume_files(path):
    """The number of volume-<uuid> names in directory path.

    The names come from the directory blocks alone (no stat).
    """
    with os.scandir(path) as entries:
        return sum(1 for entry in entries if _VOLUME_FILE.match(entry.name))


class VolumeCounter:
    """Volume counts of LUN roots, each listed again only when it changed.

    A listing of 2,500 names with cold caches costs about 55 ms in a lab
    guest; a stat of the directory is one inode (the LUN root, never a
    volume file). Every create, unlink or rename in a directory, on any
    node, changes its mtime and ctime, which OCFS2 keeps coherent across
    the cluster, so a count is reused while the directory's device, inode,
    mtime and ctime are unchanged.

    Timestamps are taken from a coarse clock: a change in the same tick as
    the last one would leave them unchanged. A count is therefore kept
    only for a directory last changed at least RACY_SECONDS before it was
    listed (by this node's clock; the cluster's clocks are kept in step);
    a directory changed more recently is listed on every refresh until
    it has been quiet that long.
    """

    RACY_SECONDS = 5

    def __init__(self, clock=time.time):
        self._clock = clock
        self._counts = {}

    def count(self, path):
        before = os.stat(path)
        key = (before.st_dev, before.st_ino, before.st_mtime_ns,
               before.st_ctime_ns)
        known = self._counts.get(path)
        if known and known[0] == key:
            return known[1]
        count = count_volume_files(path)
        changed = max(before.st_mtime_ns, before.st_ctime_ns) / 1e9
        if self._clock() - changed >= self.RACY_SECONDS:
            self._counts[path] = (key, count)
        else:
            self._counts.pop(path, None)
        return count


def _gib(size_bytes):
    return round(size_bytes / units.Gi, 2)


def pool_stats(pool, capacity, config, reflink, down_reason=None,
               extra=None):
    """The scheduler's record of one pool.

    :param pool: pool name.
    :param capacity: the LUN's Capacity.
    :param config: the backend's configuration (reserved_percentage,
        max_over_subscription_ratio, ocfs2_sparse_volumes,
        ocfs2_volume_format).
    :param reflink: whether the LUN shares extents on copy.
    :param down_reason: why the LUN must take no new volume now (cluster
        offline, no live heartbeat), or None. A pool that is down reports
        no free space, so the scheduler's capacity filter passes it over,
        and says why in pool_down_reason.
    :param extra: more capabilities to report (e.g. the cluster's name).
    """
    thin = (config.ocfs2_sparse_volumes or
            config.ocfs2_volume_format == 'qcow2')
    stats = {
        'pool_name': pool,
        'total_capacity_gb': _gib(capacity.total),
        'free_capacity_gb': 0 if down_reason else _gib(capacity.free),
        'reserved_percentage': config.reserved_percentage,
        'max_over_subscription_ratio': config.max_over_subscription_ratio,
        'thin_provisioning_support': thin,
        'thick_provisioning_support': not thin,
        'QoS_support': False,
        # Raw files on a cluster filesystem: several guests can open one.
        'multiattach': config.ocfs2_volume_format == 'raw',
        'online_extend_support': False,
        'sparse_copy_volume': True,
        'reflink_support': reflink,
        'fast_snapshot_support': reflink,
        # Group snapshots take each member at its own instant (a reflink
        # writes metadata, so the LUN cannot be frozen around them):
        # driver_groups refuses group types that ask for consistency.
        'consistent_group_snapshot_enabled': False,
        'volume_count': capacity.volume_count,
        'pool_state': 'down' if down_reason else 'up',
    }
    if down_reason:
        stats['pool_down_reason'] = down_reason
    stats.update(extra or {})
    return stats


def backend_stats(backend_name, driver_version, pool_list,
                  down_reason=None):
    """The backend's record for the scheduler, around its pools.

    :param down_reason: why the whole backend is down (the o2cb cluster is
        offline), shown as backend_state in ``cinder service-list``.
    """
    stats = {
        'volume_backend_name': backend_name,
        'vendor_name': VENDOR_NAME,
        'driver_version': driver_version,
        # The volumes are files; they are attached as files ("gpfs").
        'storage_protocol': constants.FILE,
        'sparse_copy_volume': True,
        'backend_state': 'down' if down_reason else 'up',
        'pools': pool_list,
    }
    if down_reason:
        stats['backend_down_reason'] = down_reason
    return stats
