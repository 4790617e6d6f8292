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

import ddt
import testtools

from cinder_ocfs2 import mounts
from cinder_ocfs2.tests.unit import fake_node

# Optional fields vary in number: none here, two in the ocfs2 line.
SAMPLE = """\
22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw,errors=remount-ro
36 22 8:32 / /var/lib/cinder/ocfs2/192.168.10.91_sda rw,relatime shared:7 \
master:2 - ocfs2 /dev/sdc rw,_netdev,heartbeat=local,nointr,data=ordered,\
errors=remount-ro,atime_quantum=60,cluster_stack=o2cb,coherency=full,\
user_xattr,acl
37 22 8:48 / /var/lib/cinder/ocfs2/lun\\040two rw,relatime - ocfs2 \
/dev/sdd ro,_netdev,heartbeat=global
38 22 0:45 /sub /mnt/x\\134y ro,relatime shared:9 - tmpfs tmp\\011fs rw
"""

# An OCFS2 LUN mounted with "-o localflocks": OCFS2 writes the option as
# ",localflocks," (fs/ocfs2/super.c, ocfs2_show_options), so an empty
# option follows it.
LOCALFLOCKS_LINE = (
    '39 22 8:64 / /var/lib/cinder/ocfs2/lun3 rw,relatime shared:11 - ocfs2 '
    '/dev/sde rw,_netdev,heartbeat=local,nointr,data=ordered,'
    'errors=remount-ro,atime_quantum=60,localflocks,,cluster_stack=o2cb,'
    'coherency=full,user_xattr,acl')


@ddt.ddt
class ParseMountinfoTestCase(testtools.TestCase):

    def test_parse_mountinfo_fields(self):
        parsed = mounts.parse_mountinfo(SAMPLE)
        self.assertEqual(4, len(parsed))
        lun = parsed[1]
        self.assertEqual(36, lun.mount_id)
        self.assertEqual(22, lun.parent_id)
        self.assertEqual('8:32', lun.device_number)
        self.assertEqual('/var/lib/cinder/ocfs2/192.168.10.91_sda',
                         lun.mount_point)
        self.assertEqual('ocfs2', lun.fs_type)
        self.assertEqual('/dev/sdc', lun.source)
        self.assertEqual('local', lun.super_option('heartbeat'))
        self.assertEqual('o2cb', lun.super_option('cluster_stack'))
        self.assertIsNone(lun.super_option('nonexistent'))
        self.assertFalse(lun.read_only)

    def test_parse_mountinfo_octal_escapes(self):
        parsed = mounts.parse_mountinfo(SAMPLE)
        self.assertEqual('/var/lib/cinder/ocfs2/lun two',
                         parsed[2].mount_point)
        self.assertEqual('/mnt/x\\y', parsed[3].mount_point)
        self.assertEqual('tmp\tfs', parsed[3].source)
        self.assertEqual('/sub', parsed[3].root)

    @ddt.data((2, True), (3, True), (1, False))
    @ddt.unpack
    def test_read_only_from_mount_or_superblock(self, index, expected):
        # Line 2 is ro in its superblock options (OCFS2's errors=remount-ro
        # shows there), line 3 in its per-mount options.
        self.assertEqual(expected,
                         mounts.parse_mountinfo(SAMPLE)[index].read_only)

    def test_local_flocks_from_superblock_options(self):
        lun = mounts.parse_mountinfo_line(LOCALFLOCKS_LINE)
        self.assertEqual((True, False, 'o2cb'),
                         (lun.local_flocks, lun.read_only,
                          lun.super_option('cluster_stack')))
        self.assertEqual([False] * 4, [mount.local_flocks for mount
                                       in mounts.parse_mountinfo(SAMPLE)])

    def test_local_flocks_from_mount_options(self):
        lun = mounts.parse_mountinfo_line(LOCALFLOCKS_LINE.replace(
            'localflocks,,', '').replace('rw,relatime', 'rw,localflocks'))
        self.assertTrue(lun.local_flocks)

    @ddt.data('', '\n\n')
    def test_parse_mountinfo_empty(self, text):
        self.assertEqual([], mounts.parse_mountinfo(text))

    @ddt.data(
        ('36 22 8:32 / /mnt rw shared:1 ocfs2 /dev/sdc rw', 'separator'),
        ('36 22 8:32 / /mnt rw - ocfs2', 'too few fields'),
        ('x 22 8:32 / /mnt rw - ocfs2 /dev/sdc rw', 'not numbers'),
        ('garbage', 'separator'),
    )
    @ddt.unpack
    def test_parse_mountinfo_line_errors_quote_the_line(self, line, reason):
        err = self.assertRaises(mounts.MountinfoParseError,
                                mounts.parse_mountinfo_line, line)
        self.assertIn(reason, str(err))
        self.assertIn(repr(line), str(err))

    def test_parse_mountinfo_below_a_directory(self):
        parsed = mounts.parse_mountinfo(SAMPLE, below='/var/lib/cinder/ocfs2')
        self.assertEqual(['/var/lib/cinder/ocfs2/192.168.10.91_sda',
                          '/var/lib/cinder/ocfs2/lun two'],
                         [mount.mount_point for mount in parsed])
        # The prefix test does not match a sibling with a longer name.
        self.assertEqual([], mounts.parse_mountinfo(
            SAMPLE, below='/var/lib/cinder/ocfs'))

    def test_unescape_round_trip(self):
        path = '/a b\\c\td'
        self.assertEqual(path, mounts.unescape(fake_node.escape(path)))

    def test_current_mounts_reads_the_overridable_root(self):
        node = self.useFixture(fake_node.FakeNode())
        node.mount('lun1')
        found = [m.mount_point for m in mounts.current_mounts()]
        self.assertIn(node.base + '/lun1', found)

    def test_device_of(self):
        lun = mounts.parse_mountinfo(SAMPLE)[1]
        self.assertEqual(os.makedev(8, 32), mounts.device_of(lun))
        # Minor numbers above 255 are split in st_dev; makedev knows how.
        big = mounts.parse_mountinfo_line(LOCALFLOCKS_LINE.replace(
            ' 8:64 ', ' 259:1048575 '))
        self.assertEqual((259, 1048575), (os.major(mounts.device_of(big)),
                                          os.minor(mounts.device_of(big))))

    def test_mounted_device_is_the_newest_mount_at_the_directory(self):
        node = self.useFixture(fake_node.FakeNode())
        path = node.mount('lun1')
        self.assertEqual(os.stat(path).st_dev, mounts.mounted_device(path))
        node.mount('lun1', elsewhere=True)
        self.assertNotEqual(os.stat(path).st_dev,
                            mounts.mounted_device(path + '/'))

    def test_mounted_device_of_a_directory_not_mounted(self):
        node = self.useFixture(fake_node.FakeNode())
        path = node.mount('lun1')
        node.mount('lun10')
        # Not a directory inside a mount, nor one that was unmounted.
        self.assertIsNone(mounts.mounted_device(os.path.join(path, 'sub')))
        self.assertIsNone(mounts.mounted_device(node.base))
        node.umount('lun1')
        self.assertIsNone(mounts.mounted_device(path))

    def test_current_mounts_of_this_host(self):
        # The real /proc/self/mountinfo of the test host parses, and "/"
        # is in it.
        parsed = mounts.current_mounts(proc_root='/proc')
        self.assertIn('/', [m.mount_point for m in parsed])
