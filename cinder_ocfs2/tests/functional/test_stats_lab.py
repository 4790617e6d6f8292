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

"""A stats refresh takes no cluster lock on any volume file, on the lab.

On OCFS2 a stat of a file takes the cluster lock of its inode (the "M"
meta lock resource); a refresh that stat'ed every volume file took one
lock per volume, on every node, every minute. The node's own count of
lock resources (debugfs ``ocfs2/<uuid>/locking_state``) is the oracle:
after the caches are dropped, node1 holds none for volume files that node2
made; a stats refresh must not add one per file, while a plain ``stat`` of
every file (what the driver did before) does.

The count of volume files follows what the other node creates and
deletes although node1 lists a LUN root again only when it changed.
"""

import time
import uuid

from cinder_ocfs2 import pools
from cinder_ocfs2.tests.functional import base

FILES = 300
POOL = 'lun2'
# Inode lock resources node1 holds on every mounted OCFS2 filesystem:
# lines of locking_state (version, lock name, ...) whose lock name starts
# with M (inode meta data).
COUNT_META_LOCKS = (
    "cat /sys/kernel/debug/ocfs2/*/locking_state | "
    "awk -F'\\t' '$2 ~ /^M/' | wc -l")
DROP_CACHES = 'sync; echo 3 >/proc/sys/vm/drop_caches'


class StatsRefreshLocksTest(base.LabTestCase):

    def setUp(self):
        super().setUp()
        self.lun = '%s/%s' % (base.BASE, POOL)
        self.names = ['volume-%s' % uuid.uuid4() for _ in range(FILES)]
        self.addCleanup(self.sh, 'node2', 'cd %s && rm -f %s' % (
            self.lun, ' '.join(self.names)))
        # Made by node2, as volumes another node serves.
        self.sh('node2', 'cd %s && for f in %s; do truncate -s 1G $f; '
                'done' % (self.lun, ' '.join(self.names)), timeout=900)

    def _meta_locks_after(self, command):
        self.sh('node1', DROP_CACHES)
        before = int(self.sh('node1', COUNT_META_LOCKS))
        command()
        return int(self.sh('node1', COUNT_META_LOCKS)) - before

    def test_refresh_takes_no_lock_per_volume(self):
        stats = {}

        def refresh():
            stats.update(self.node1.call('get_volume_stats')[0])
        refresh_locks = self._meta_locks_after(refresh)
        pool = {p['pool_name']: p for p in stats['pools']}[POOL]
        self.assertGreaterEqual(pool['volume_count'], FILES)

        # The oracle can see per-file locks: a stat of every file takes
        # one each (what the refresh did before).
        stat_locks = self._meta_locks_after(lambda: self.sh(
            'node1', 'cd %s && stat -c %%s %s >/dev/null' % (
                self.lun, ' '.join(self.names))))
        base.record('inode locks taken on node1 by a cold stats refresh '
                    '(%d volume files made by node2)' % FILES,
                    '%d (a stat of each file: %d)' % (refresh_locks,
                                                      stat_locks))
        # (A few inodes may stay cached through drop_caches.)
        self.assertGreater(stat_locks, FILES * 0.8)
        # A few for the LUN roots, the marker and the member views.
        self.assertLess(refresh_locks, 30)

    def _volume_count(self):
        stats = self.node1.call('get_volume_stats')[0]
        return {p['pool_name']: p for p in stats['pools']}[POOL][
            'volume_count']

    def _quiet(self):
        # Older than the counter's racy window: node1 keeps its count of
        # the LUN root and lists it again only when the root changes.
        time.sleep(pools.VolumeCounter.RACY_SECONDS + 1)

    def test_count_follows_creates_and_deletes_on_the_other_node(self):
        self._quiet()
        counted = self._volume_count()
        self.assertEqual(counted, self._volume_count())
        self._quiet()
        # The root's mtime, changed by node2, is what node1 must see.
        extra = 'volume-%s' % uuid.uuid4()
        self.addCleanup(self.sh, 'node2', 'rm -f %s/%s' % (self.lun, extra))
        self.sh('node2', 'truncate -s 1G %s/%s' % (self.lun, extra))
        self.assertEqual(counted + 1, self._volume_count())
        self._quiet()
        self.assertEqual(counted + 1, self._volume_count())
        self.sh('node2', 'rm %s/%s %s/%s' % (self.lun, extra, self.lun,
                                             self.names[0]))
        self.assertEqual(counted - 1, self._volume_count())
