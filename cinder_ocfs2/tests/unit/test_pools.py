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


import os
from unittest import mock

import fixtures
import testtools

from cinder_ocfs2 import pools

VOLUME = 'volume-%s' % ('1' * 8 + '-1111-1111-1111-' + '1' * 12)
SNAPSHOT = 'snapshot-%s' % ('2' * 8 + '-2222-2222-2222-' + '2' * 12)
GiB = 1024 ** 3


class PoolsTestCase(testtools.TestCase):

    def test_read_capacity_counts_volume_files_by_name(self):
        lun = self.useFixture(fixtures.TempDir()).path
        sizes = {VOLUME: 3 * GiB, SNAPSHOT: GiB,
                 VOLUME + '.info': 100, VOLUME + '.' + SNAPSHOT[9:]: 5 * GiB,
                 '.cinder-ocfs2-lun': 10, 'volume-not-a-uuid': GiB}
        for name, size in sizes.items():
            with open(os.path.join(lun, name), 'wb') as f:
                f.truncate(size)
        # One statvfs for both sides: the test tree's filesystem is shared
        # with the other test workers, whose writes change its free space.
        stats = os.statvfs(lun)
        self.useFixture(fixtures.MonkeyPatch('os.statvfs',
                                             lambda path: stats))
        capacity = pools.read_capacity(lun)
        self.assertEqual(1, capacity.volume_count)
        self.assertEqual(stats.f_blocks * stats.f_frsize, capacity.total)
        self.assertEqual(stats.f_bavail * stats.f_frsize, capacity.free)

    def test_read_capacity_stats_no_volume_file(self):
        # On OCFS2 a stat takes the inode's cluster lock: the refresh
        # must read names only. Entries here fail on any inode access.
        lun = self.useFixture(fixtures.TempDir()).path
        entry = mock.Mock(spec=['name', 'stat', 'is_file', 'is_dir'])
        entry.name = VOLUME
        entry.stat.side_effect = AssertionError('stat of a volume file')
        entry.is_file.side_effect = AssertionError('stat of a volume file')
        entry.is_dir.side_effect = AssertionError('stat of a volume file')
        scandir = mock.MagicMock()
        scandir.return_value.__enter__.return_value = iter([entry] * 3)
        self.useFixture(fixtures.MonkeyPatch('os.scandir', scandir))
        self.useFixture(fixtures.MonkeyPatch(
            'os.stat', mock.Mock(side_effect=AssertionError('os.stat'))))
        self.assertEqual(3, pools.read_capacity(lun).volume_count)

    def test_pool_stats(self):
        config = mock.Mock(reserved_percentage=5,
                           max_over_subscription_ratio=20.0,
                           ocfs2_sparse_volumes=True,
                           ocfs2_volume_format='raw')
        capacity = pools.Capacity(total=100 * GiB, free=25 * GiB,
                                  volume_count=7)
        stats = pools.pool_stats('lun1', capacity, config, reflink=True,
                                 extra={'backend_state': 'up'})
        self.assertEqual('lun1', stats['pool_name'])
        self.assertEqual(100.0, stats['total_capacity_gb'])
        self.assertEqual(25.0, stats['free_capacity_gb'])
        # cinder's scheduler takes allocated_capacity_gb instead.
        self.assertNotIn('provisioned_capacity_gb', stats)
        self.assertEqual(5, stats['reserved_percentage'])
        self.assertEqual(20.0, stats['max_over_subscription_ratio'])
        self.assertTrue(stats['thin_provisioning_support'])
        self.assertFalse(stats['thick_provisioning_support'])
        self.assertTrue(stats['reflink_support'])
        self.assertFalse(stats['online_extend_support'])
        self.assertEqual(7, stats['volume_count'])
        self.assertEqual('up', stats['backend_state'])

    def test_pool_stats_thick(self):
        config = mock.Mock(reserved_percentage=0,
                           max_over_subscription_ratio=1.0,
                           ocfs2_sparse_volumes=False,
                           ocfs2_volume_format='raw')
        stats = pools.pool_stats('lun1', pools.Capacity(GiB, GiB, 0),
                                 config, reflink=False)
        self.assertFalse(stats['thin_provisioning_support'])
        self.assertTrue(stats['thick_provisioning_support'])
        self.assertFalse(stats['fast_snapshot_support'])


def _volume_name(number):
    return 'volume-%08d-0000-0000-0000-000000000000' % number


class VolumeCounterTestCase(testtools.TestCase):
    """The count is reused only while the LUN root is unchanged and old."""

    def setUp(self):
        super().setUp()
        self.lun = self.useFixture(fixtures.TempDir()).path
        for number in range(3):
            open(os.path.join(self.lun, _volume_name(number)), 'wb').close()
        self.listings = mock.Mock(wraps=pools.count_volume_files)
        self.useFixture(fixtures.MonkeyPatch(
            'cinder_ocfs2.pools.count_volume_files', self.listings))
        self.now = os.stat(self.lun).st_ctime + 60
        self.counter = pools.VolumeCounter(clock=lambda: self.now)

    def touch_directory(self, seconds_later):
        # Gives the directory a new mtime (and ctime) whatever the
        # filesystem's timestamp granularity.
        mtime = os.stat(self.lun).st_mtime + seconds_later
        os.utime(self.lun, (mtime, mtime))
        self.now = os.stat(self.lun).st_ctime + 60

    def test_unchanged_directory_is_listed_once(self):
        self.assertEqual(3, self.counter.count(self.lun))
        self.assertEqual(3, self.counter.count(self.lun))
        self.assertEqual(3, pools.read_capacity(
            self.lun, self.counter).volume_count)
        self.assertEqual(1, self.listings.call_count)

    def test_new_volume_file_is_counted(self):
        self.assertEqual(3, self.counter.count(self.lun))
        open(os.path.join(self.lun, _volume_name(7)), 'wb').close()
        self.touch_directory(1)
        self.assertEqual(4, self.counter.count(self.lun))
        self.assertEqual(2, self.listings.call_count)

    def test_removed_volume_file_is_counted(self):
        self.assertEqual(3, self.counter.count(self.lun))
        os.unlink(os.path.join(self.lun, _volume_name(0)))
        self.touch_directory(1)
        self.assertEqual(2, self.counter.count(self.lun))

    def test_recently_changed_directory_is_listed_every_time(self):
        # Changed within RACY_SECONDS: a change in the same timestamp tick
        # would not show, so nothing is kept.
        self.now = os.stat(self.lun).st_ctime + 1
        self.assertEqual(3, self.counter.count(self.lun))
        self.assertEqual(3, self.counter.count(self.lun))
        self.assertEqual(2, self.listings.call_count)
        self.now += pools.VolumeCounter.RACY_SECONDS
        self.counter.count(self.lun)
        self.counter.count(self.lun)
        self.assertEqual(3, self.listings.call_count)

    def test_another_directory_at_the_path_is_listed(self):
        # A LUN unmounted and another mounted there: another inode/device.
        self.assertEqual(3, self.counter.count(self.lun))
        other = self.useFixture(fixtures.TempDir()).path
        open(os.path.join(other, _volume_name(9)), 'wb').close()
        moved = self.lun + '.old'
        os.rename(self.lun, moved)
        os.rename(other, self.lun)
        self.addCleanup(os.rename, moved, other)
        self.now = os.stat(self.lun).st_ctime + 60
        self.assertEqual(1, self.counter.count(self.lun))

    def test_stats_no_volume_file(self):
        stat = mock.Mock(wraps=os.stat)
        self.useFixture(fixtures.MonkeyPatch('os.stat', stat))
        self.counter.count(self.lun)
        self.counter.count(self.lun)
        self.assertEqual([mock.call(self.lun)] * 2, stat.call_args_list)
