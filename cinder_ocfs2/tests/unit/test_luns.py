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


from unittest import mock

import ddt
import testtools

from cinder_ocfs2 import exception
from cinder_ocfs2 import luns
from cinder_ocfs2 import mounts
from cinder_ocfs2.tests.unit import fake_node
from cinder_ocfs2.tests.unit import test_mounts

BASE = '/var/lib/cinder/ocfs2'


def _line(mount_id, path, fs_type='ocfs2', mode='rw', super_mode='rw'):
    return ('%d 22 8:%d / %s %s,relatime - %s /dev/sd%d %s,heartbeat=local'
            % (mount_id, mount_id, path, mode, fs_type, mount_id,
               super_mode))


def _mounts(*lines):
    return mounts.parse_mountinfo('\n'.join(lines))


@ddt.ddt
class SelectLunsTestCase(testtools.TestCase):

    def test_select_luns_only_direct_ocfs2_children(self):
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1'),
            _line(2, BASE + '/lun1/nested'),
            _line(3, '/var/lib/cinder/other/lun9'),
            _line(4, BASE),
            _line(5, BASE + '/lun2')), BASE + '/')
        self.assertEqual(['lun1', 'lun2'], sorted(selection.usable))
        lun = selection.usable['lun1']
        self.assertEqual(BASE + '/lun1', lun.path)
        self.assertEqual('/dev/sd1', lun.device)
        self.assertEqual('local', lun.heartbeat)
        self.assertEqual({}, selection.skipped)

    @ddt.data(('ro', 'rw'), ('rw', 'ro'))
    @ddt.unpack
    def test_select_luns_skips_read_only(self, mode, super_mode):
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1', mode=mode, super_mode=super_mode)),
            BASE)
        self.assertEqual({}, selection.usable)
        self.assertIn('read-only', selection.skipped['lun1'])

    @ddt.data(('rw,localflocks', 'rw'), ('rw', 'rw,localflocks,'))
    @ddt.unpack
    def test_select_luns_skips_localflocks(self, mode, super_mode):
        # flock() is node-local there: the driver's locks would not hold.
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1', mode=mode, super_mode=super_mode),
            _line(2, BASE + '/lun2')), BASE)
        self.assertEqual(['lun2'], list(selection.usable))
        self.assertEqual(
            {'lun1': BASE + '/lun1 is mounted with localflocks: flock() is '
             'node-local there, so cinder-ocfs2\'s cluster-wide locks would '
             'not hold across nodes; unmount it and mount it again without '
             'localflocks'}, selection.skipped)

    def test_select_luns_skips_localflocks_as_ocfs2_shows_it(self):
        selection = luns.select_luns(
            _mounts(test_mounts.LOCALFLOCKS_LINE), BASE)
        self.assertEqual({}, selection.usable)
        self.assertIn('mounted with localflocks', selection.skipped['lun3'])

    def test_get_localflocks_pool_says_why(self):
        selection = luns.select_luns(
            _mounts(test_mounts.LOCALFLOCKS_LINE), BASE)
        err = self.assertRaises(exception.LunUnavailable, luns.usable_lun,
                                selection, BASE, 'lun3')
        self.assertIn('without localflocks', str(err))

    def test_select_luns_skips_other_filesystems(self):
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1', fs_type='ext4')), BASE)
        self.assertIn('ext4 filesystem, not ocfs2',
                      selection.skipped['lun1'])

    def test_select_luns_last_mount_hides_earlier(self):
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1', fs_type='ext4'),
            _line(2, BASE + '/lun1')), BASE)
        self.assertEqual('/dev/sd2', selection.usable['lun1'].device)

    def test_select_luns_allow_list(self):
        selection = luns.select_luns(_mounts(
            _line(1, BASE + '/lun1'), _line(2, BASE + '/lun2')), BASE,
            allowed=('lun2', 'lun3'))
        self.assertEqual(['lun2'], list(selection.usable))
        self.assertEqual({'lun3': BASE + '/lun3 is not mounted'},
                         selection.skipped)


class LunInventoryTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.node = self.useFixture(fake_node.FakeNode())
        self.inventory = luns.LunInventory(self.node.base)

    def test_lun_mounted_between_two_calls_is_used(self):
        self.node.mount('lun1')
        self.assertEqual(['lun1'],
                         [lun.pool for lun in self.inventory.usable()])
        self.node.mount('lun2')
        self.assertEqual(['lun1', 'lun2'],
                         [lun.pool for lun in self.inventory.usable()])

    def test_get_unmounted_pool_says_why(self):
        self.node.mount('lun1')
        self.node.umount('lun1')
        err = self.assertRaises(exception.LunUnavailable,
                                self.inventory.get, 'lun1')
        self.assertIn('lun1 is not mounted', str(err))

    def test_get_read_only_pool_says_why(self):
        self.node.mount('lun1', read_only=True)
        err = self.assertRaises(exception.LunUnavailable,
                                self.inventory.get, 'lun1')
        self.assertIn('read-only', str(err))

    @mock.patch.object(luns, 'LOG')
    def test_state_logged_once_per_change(self, log):
        self.node.mount('lun1', read_only=True)
        for _ in range(5):
            self.inventory.scan()
        self.assertEqual(1, log.warning.call_count)
        self.node.umount('lun1')
        self.node.mount('lun1')
        for _ in range(5):
            self.inventory.scan()
        self.assertEqual(1, log.info.call_count)
        self.node.umount('lun1')
        self.inventory.scan()
        self.inventory.scan()
        self.assertEqual(2, log.warning.call_count)
        self.assertIn('is gone', log.warning.call_args[0][0])
