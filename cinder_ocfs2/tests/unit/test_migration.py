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

"""Driver-assisted migration: location_info, and files moved between LUNs.

The LUNs are directories of a fake mount table on one real filesystem, so
they share one fsid; the copy, the removal of the source and every refusal
run on real files. The lab test moves a file between two real OCFS2 LUNs.
"""

import json
import os
import shutil
import subprocess
from unittest import mock

import ddt
from oslo_concurrency import processutils
from oslo_utils import units

from cinder import exception as cinder_exception
from cinder import objects
from cinder.tests.unit import test

from cinder_ocfs2 import driver_migration
from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import migration
from cinder_ocfs2.tests.unit import test_driver

MiB = units.Mi
GROUP = test_driver.GROUP
HAVE_QEMU_IO = shutil.which('qemu-io') is not None


@ddt.ddt
class LocationTestCase(test.TestCase):

    def test_location_info_round_trip(self):
        text = migration.location_info('0x1f2e', '/var/lib/cinder/ocfs2/lun3')
        self.assertEqual('ocfs2:0x1f2e:/var/lib/cinder/ocfs2/lun3', text)
        location = migration.parse_location_info(text)
        self.assertEqual(migration.Location(
            fsid='0x1f2e', path='/var/lib/cinder/ocfs2/lun3'), location)
        self.assertEqual('lun3', location.pool)

    def test_path_may_hold_colons(self):
        location = migration.parse_location_info(
            'ocfs2:0xab:/srv/ocfs2/10.0.0.1:sda/')
        self.assertEqual('/srv/ocfs2/10.0.0.1:sda', location.path)
        self.assertEqual('10.0.0.1:sda', location.pool)

    @ddt.data(None, 42, '', 'ocfs2', 'ocfs2:0xab',
              'ceph:/etc/ceph/ceph.conf:c414:cinder:volumes',
              'GPFSDriver:cluster:/gpfs/fs1', 'ocfs2:ab:/srv/lun1',
              'ocfs2:0xab:relative/lun1', 'ocfs2:0xab:/', 'ocfs2::/srv/lun1')
    def test_not_an_ocfs2_location(self, text):
        self.assertIsNone(migration.parse_location_info(text))

    def _host(self, host, location_info):
        return {'host': host, 'cluster_name': None,
                'capabilities': {'location_info': location_info}}

    def test_destination(self):
        location, why_not = migration.destination(self._host(
            'node2@ocfs2-b#lun3', 'ocfs2:0x9:/var/lib/cinder/ocfs2/lun3'))
        self.assertIsNone(why_not)
        self.assertEqual('/var/lib/cinder/ocfs2/lun3', location.path)

    @ddt.data(('node2@lvm#lvm', 'LVMVolumeDriver:node2:cinder-volumes'),
              ('node2@ocfs2-b#lun3', None),
              # A pool name that is not the LUN it reports.
              ('node2@ocfs2-b#lun4', 'ocfs2:0x9:/var/lib/cinder/ocfs2/lun3'),
              ('node2@ocfs2-b', 'ocfs2:0x9:/var/lib/cinder/ocfs2/lun3'))
    @ddt.unpack
    def test_no_destination(self, host, location_info):
        location, why_not = migration.destination(
            self._host(host, location_info))
        self.assertIsNone(location)
        self.assertIn(host, why_not)

    def test_no_capabilities(self):
        location, why_not = migration.destination({'host': 'h@b#p'})
        self.assertIsNone(location)
        self.assertIn('no OCFS2 location_info', why_not)


class MigrationTestBase(test_driver.DriverTestBase):

    def setUp(self):
        super().setUp()
        for pool in ('lun1', 'lun2', 'lun3'):
            self.node.mount(pool)

    def _location(self, pool):
        return {pool['pool_name']: pool['location_info']
                for pool in self.driver.get_volume_stats(True)['pools']}[pool]

    def _host(self, pool, location_info=None):
        return {'host': 'node2@ocfs2-b#%s' % pool, 'cluster_name': None,
                'capabilities': {'location_info':
                                 location_info or self._location(pool)}}

    def _listing(self, pool):
        return sorted(name for name in os.listdir(
            os.path.join(self.node.base, pool)) if name.startswith('volume-'))


class MigrateVolumeTestCase(MigrationTestBase):
    def test_stats_report_each_luns_location(self):
        location = migration.parse_location_info(self._location('lun2'))
        self.assertEqual(os.path.join(self.node.base, 'lun2'), location.path)
        self.assertEqual(hex(os.statvfs(location.path).f_fsid),
                         location.fsid)

    def test_raw_volume_moves_to_other_lun(self):
        volume = self._created(size=1, data=b'moving data')
        source = self._path(volume)
        digest = test_driver.sha256(source)
        moved, update = self.driver.migrate_volume(
            self.context, volume, self._host('lun2'))
        self.assertEqual((True, {'provider_location': 'lun2'}),
                         (moved, update))
        target = self._path(volume, 'lun2')
        self.assertEqual(digest, test_driver.sha256(target))
        self.assertEqual(units.Gi, os.stat(target).st_size)
        # Sparse stays sparse: 1 GiB with a few bytes written.
        self.assertLess(os.stat(target).st_blocks * 512, 16 * MiB)
        self.assertEqual(0o660, os.stat(target).st_mode & 0o7777)
        self.assertFalse(os.path.exists(source))
        self.assertEqual([], self._listing('lun1'))

    def test_migrated_volume_is_served_from_its_new_lun(self):
        volume = self._created(size=1, data=b'moving data')
        moved, update = self.driver.migrate_volume(
            self.context, volume, self._host('lun3'))
        volume.update(update)
        volume.host = 'node2@ocfs2-b#lun3'
        self.driver.extend_volume(volume, 2)
        volume.size = 2
        info = self.driver.initialize_connection(volume, {'host': 'node2'})
        self.assertEqual(self._path(volume, 'lun3'),
                         info['data']['device_path'])
        self.assertEqual(b'moving data',
                         self._read(info['data']['device_path'], 11))
        self.driver.delete_volume(volume)
        self.assertEqual([], self._listing('lun3'))

    def test_destination_without_marker_gets_one(self):
        volume = self._created(data=b'moving data')
        marker = os.path.join(self.node.base, 'lun2', identity.MARKER_NAME)
        self.assertFalse(os.path.exists(marker))
        self.assertTrue(self.driver.migrate_volume(
            self.context, volume, self._host('lun2'))[0])
        with open(marker) as text:
            self.assertEqual('lun2', json.load(text)['pool'])

    def test_same_lun_moves_without_copy(self):
        volume = self._created(data=b'stays')
        inode = os.stat(self._path(volume)).st_ino
        self.assertEqual(
            (True, {'provider_location': 'lun1'}),
            self.driver.migrate_volume(self.context, volume,
                                       self._host('lun1')))
        self.assertEqual(inode, os.stat(self._path(volume)).st_ino)

    def _assert_left_to_cinder(self, volume, host):
        before = test_driver.sha256(self._path(volume))
        self.assertEqual((False, None), self.driver.migrate_volume(
            self.context, volume, host))
        self.assertEqual(before, test_driver.sha256(self._path(volume)))

    def test_destination_of_another_driver_left_to_cinder(self):
        volume = self._created(data=b'stays')
        self._assert_left_to_cinder(
            volume, self._host('lvm', 'LVMVolumeDriver:n2:cinder-volumes'))
        self.assertEqual([], self._listing('lun2'))

    def test_destination_not_mounted_here_left_to_cinder(self):
        volume = self._created(data=b'stays')
        host = self._host('lun2')
        self.node.umount('lun2')
        self._assert_left_to_cinder(volume, host)
        self.assertEqual([], self._listing('lun2'))

    def test_other_filesystem_at_destination_left_to_cinder(self):
        volume = self._created(data=b'stays')
        location = migration.parse_location_info(self._location('lun2'))
        self._assert_left_to_cinder(volume, self._host(
            'lun2', migration.location_info('0x1234', location.path)))
        self.assertEqual([], os.listdir(location.path))

    def test_marker_of_another_pool_left_to_cinder(self):
        volume = self._created(data=b'stays')
        host = self._host('lun2')
        lun2 = os.path.join(self.node.base, 'lun2')
        with open(os.path.join(lun2, identity.MARKER_NAME), 'w') as marker:
            marker.write(identity.render_marker(identity.LunIdentity(
                pool='lun9', fsid=hex(os.statvfs(lun2).f_fsid))))
        self._assert_left_to_cinder(volume, host)
        self.assertEqual([], self._listing('lun2'))

    def test_file_of_same_name_at_destination_left_alone(self):
        volume = self._created(data=b'stays')
        squatter = self._path(volume, 'lun2')
        with open(squatter, 'wb') as new:
            new.write(b'someone else')
        self._assert_left_to_cinder(volume, self._host('lun2'))
        with open(squatter, 'rb') as kept:
            self.assertEqual(b'someone else', kept.read())

    def test_copy_failure_leaves_source_only(self):
        volume = self._created(data=b'stays')
        host = self._host('lun2')
        failure = processutils.ProcessExecutionError(exit_code=1)
        with mock.patch.object(self.driver, '_execute',
                               side_effect=failure):
            self.assertRaises(processutils.ProcessExecutionError,
                              self.driver.migrate_volume, self.context,
                              volume, host)
        self.assertEqual([], self._listing('lun2'))
        self.assertEqual(b'stays', self._read(self._path(volume), 5))

    def test_missing_source_file_raises_and_leaves_nothing(self):
        volume = self._created()
        os.unlink(self._path(volume))
        self.assertRaises(exception.VolumeFileMissing,
                          self.driver.migrate_volume, self.context, volume,
                          self._host('lun2'))
        self.assertEqual([], self._listing('lun2'))


class MigrationCrashTestCase(MigrationTestBase):
    """The record moves before the source goes; leftovers are removed.

    A crash is simulated by the files it leaves: the copy on the
    destination LUN and the source files, with the record on either.
    """

    def _copy(self, volume, pool, companions=()):
        """A leftover copy of the volume's files on another LUN."""
        shutil.copy(self._path(volume), self._path(volume, pool))
        for suffix in companions:
            open(self._path(volume, pool) + suffix, 'w').close()

    def test_record_saved_before_source_removed(self):
        volume = self._created(data=b'moving data')
        source, target = self._path(volume), self._path(volume, 'lun2')
        seen = []
        self.save.side_effect = lambda: seen.append(
            (volume.host, volume.provider_location,
             os.path.exists(source), os.path.exists(target)))
        moved, update = self.driver.migrate_volume(
            self.context, volume, self._host('lun2'))
        self.assertEqual((True, {'provider_location': 'lun2'}),
                         (moved, update))
        # Saved once, pointing at the copy, while the source still existed.
        self.assertEqual([('node2@ocfs2-b#lun2', 'lun2', True, True)], seen)
        self.assertFalse(os.path.exists(source))

    def test_failed_save_leaves_source_and_no_copy(self):
        volume = self._created(data=b'stays')
        digest = test_driver.sha256(self._path(volume))
        host = volume.host
        self.save.side_effect = cinder_exception.CinderException('db gone')
        self.assertRaises(cinder_exception.CinderException,
                          self.driver.migrate_volume, self.context, volume,
                          self._host('lun2'))
        self.assertEqual([], self._listing('lun2'))
        self.assertEqual(digest, test_driver.sha256(self._path(volume)))
        # cinder's save of the error status writes the source back.
        self.assertEqual((host, 'lun1'),
                         (volume.host, volume.provider_location))

    def test_failed_source_removal_does_not_fail_migration(self):
        volume = self._created(data=b'moving data')
        remove_files = self.driver._remove_files

        def remove_files_but_source(lun, volume):
            if lun.pool == 'lun1':
                raise PermissionError(13, 'Permission denied')
            return remove_files(lun, volume)

        with mock.patch.object(self.driver, '_remove_files',
                               side_effect=remove_files_but_source):
            self.assertEqual(
                (True, {'provider_location': 'lun2'}),
                self.driver.migrate_volume(self.context, volume,
                                           self._host('lun2')))
        self.assertEqual([volume.name], self._listing('lun1'))
        self.assertEqual([volume.name], self._listing('lun2'))

    def test_migration_removes_leftover_of_earlier_one(self):
        volume = self._created(data=b'moving data')
        self._copy(volume, 'lun3', companions=('.info',))
        self.assertTrue(self.driver.migrate_volume(
            self.context, volume, self._host('lun2'))[0])
        self.assertEqual([], self._listing('lun1'))
        self.assertEqual([volume.name], self._listing('lun2'))
        self.assertEqual([], self._listing('lun3'))

    @mock.patch.object(driver_migration, 'LOG')
    def test_delete_after_crash_removes_both_copies(self, log):
        # Crash after the record was saved: it names lun2, the source
        # files are still on lun1.
        volume = self._created(data=b'moving data')
        other = self._created(pool='lun1')
        open(self._path(volume) + '.info', 'w').close()
        self._copy(volume, 'lun2')
        self._copy(other, 'lun2')
        volume.provider_location = 'lun2'
        self.driver.delete_volume(volume)
        self.assertEqual([other.name], self._listing('lun1'))
        self.assertEqual([other.name], self._listing('lun2'))
        warning = log.warning.call_args
        self.assertIn('interrupted migration', warning[0][0])
        self.assertEqual('lun1', warning[0][1]['lun'].pool)
        self.assertIn(volume.name + '.info', warning[0][1]['files'])

    def test_delete_after_crash_before_save_removes_both_copies(self):
        volume = self._created(data=b'moving data')
        self._copy(volume, 'lun2')
        self.driver.delete_volume(volume)
        self.assertEqual([], self._listing('lun1'))
        self.assertEqual([], self._listing('lun2'))

    def test_delete_removes_file_found_only_on_another_lun(self):
        # What the old order could leave: the source removed, the record
        # not moved.
        volume = self._created(data=b'moving data')
        self._copy(volume, 'lun2')
        os.unlink(self._path(volume))
        self.driver.delete_volume(volume)
        self.assertEqual([], self._listing('lun2'))

    def test_delete_removes_copy_on_another_backends_lun(self):
        # The lab's ocfs2-b: lun3 below the same base, not in this
        # backend's ocfs2_shares; a retype moves volumes there.
        self.override_config('ocfs2_shares', ['lun1', 'lun2'], group=GROUP)
        self.driver.do_setup(self.context)
        volume = self._created(data=b'moving data')
        self._copy(volume, 'lun3')
        self.driver.delete_volume(volume)
        self.assertEqual([], self._listing('lun3'))

    def test_delete_skips_lun_it_cannot_read(self):
        volume = self._created(data=b'moving data')
        self._copy(volume, 'lun2')
        self._copy(volume, 'lun3')
        files_of = self.driver._files_of

        def unreadable_lun2(lun, volume):
            if lun.pool == 'lun2':
                raise OSError(5, 'Input/output error')
            return files_of(lun, volume)

        with mock.patch.object(self.driver, '_files_of',
                               side_effect=unreadable_lun2):
            self.driver.delete_volume(volume)
        self.assertEqual([], self._listing('lun1'))
        self.assertEqual([volume.name], self._listing('lun2'))
        self.assertEqual([], self._listing('lun3'))


class MigrateQcow2TestCase(MigrationTestBase):

    def setUp(self):
        super().setUp()
        if not HAVE_QEMU_IO:
            self.skipTest('qemu-io (qemu-utils) is not installed')
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        self.mock_object(objects.Snapshot, 'save')

    def _qemu_io(self, path, command):
        result = subprocess.run(['qemu-io', '-f', 'qcow2', '-c', command,
                                 path], capture_output=True, text=True)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn('verification failed', result.stdout)

    def test_qcow2_chain_becomes_one_file(self):
        volume = self._created(size=1, volume_format='qcow2')
        self._qemu_io(self._path(volume), 'write -P 0x5a 1M 64k')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        active = self.driver._local_path_active_image(volume)
        self.assertNotEqual(self._path(volume), active)
        self._qemu_io(active, 'write -P 0xa5 2M 64k')
        # cinder refuses to migrate a volume with snapshots; here the
        # chain stands for one left by snapshots deleted out of order.
        moved, _update = self.driver.migrate_volume(
            self.context, volume, self._host('lun2'))
        self.assertTrue(moved)
        target = self._path(volume, 'lun2')
        info = json.loads(subprocess.run(
            ['qemu-img', 'info', '--output=json', target], check=True,
            capture_output=True, text=True).stdout)
        self.assertEqual('qcow2', info['format'])
        self.assertNotIn('backing-filename', info)
        self._qemu_io(target, 'read -P 0x5a 1M 64k')
        self._qemu_io(target, 'read -P 0xa5 2M 64k')
        self.assertEqual([], self._listing('lun1'))
        self.assertEqual([volume.name], self._listing('lun2'))
