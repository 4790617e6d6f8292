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

"""Backups from snapshots: what cinder-backup attaches (driver_backups).

The driver runs on temporary directories (fake_node); a "reflink" there
is a byte copy, since the test host's filesystem has none. What reads the
attached snapshot is os-brick's real connector for the connection info's
protocol, as in cinder's backup manager.
"""

import functools
import logging
import os
import types
from unittest import mock
import uuid

import ddt
import fixtures
from os_brick.initiator import connector as brick_connector

from cinder import objects
from cinder.volume import configuration as conf

from cinder_ocfs2 import driver
from cinder_ocfs2 import exception
from cinder_ocfs2.tests.unit import fake_node
from cinder_ocfs2.tests.unit import test_driver

GROUP = test_driver.GROUP
MiB = test_driver.MiB


def read_through_os_brick(info, offset, size):
    """Attach as cinder's backup manager does, read, detach."""
    brick = brick_connector.InitiatorConnector.factory(
        info['driver_volume_type'].upper(), root_helper=None)
    device = brick.connect_volume(info['data'])
    try:
        with open(device['path'], 'rb') as device_file:
            device_file.seek(offset)
            return device['path'], device_file.read(size)
    finally:
        brick.disconnect_volume(info['data'], device, force=True,
                                ignore_errors=True)


class BackupSnapshotTestBase(test_driver.DriverTestBase):

    def setUp(self):
        super().setUp()
        self.node.mount('lun1')
        self.mock_object(objects.Snapshot, 'save')
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='cinder_ocfs2.driver_backups', level=logging.DEBUG))

    def _snapshotted(self, data=b'point in time', **volume_args):
        volume = self._created(data=data, **volume_args)
        snapshot = self._snapshot(volume)
        snapshot.update(self.driver.create_snapshot(snapshot))
        return volume, snapshot

    def _snapshot_path(self, snapshot):
        return os.path.join(self.node.base, 'lun1', snapshot.name)

    def _files(self):
        """The volume and snapshot files on lun1."""
        return sorted(name for name in os.listdir(
            os.path.join(self.node.base, 'lun1'))
            if name.startswith(('volume-', 'snapshot-')))


@ddt.ddt
class UseTempSnapshotTestCase(BackupSnapshotTestBase):

    @ddt.data((False, 'raw', False), (True, 'raw', True),
              (False, 'qcow2', False), (True, 'qcow2', False))
    @ddt.unpack
    def test_by_option_and_format(self, option, volume_format, expected):
        self.override_config('backup_use_temp_snapshot', option,
                             group=GROUP)
        self.override_config('ocfs2_volume_format', volume_format,
                             group=GROUP)
        self.assertIs(expected, self.driver.backup_use_temp_snapshot())
        warned = 'temporary clone instead' in self.logs.output
        self.assertEqual(option and volume_format == 'qcow2', warned)

    def test_default_is_temp_clone(self):
        self.assertFalse(self.driver.backup_use_temp_snapshot())

    def test_read_from_backend_defaults(self):
        self.override_config('backup_use_temp_snapshot', True,
                             group=conf.SHARED_CONF_GROUP)
        self.assertTrue(self.driver.backup_use_temp_snapshot())

    def test_not_read_from_default_section(self):
        # cinder's driver configuration reads the backend's section, then
        # [backend_defaults]; [DEFAULT] is not one of them.
        self.override_config('backup_use_temp_snapshot', True)
        self.assertFalse(self.driver.backup_use_temp_snapshot())


class ConnectionTestCase(BackupSnapshotTestBase):

    def test_gpfs_connection_of_the_snapshot_file(self):
        volume, snapshot = self._snapshotted()
        info = self.driver.initialize_connection_snapshot(
            snapshot, {'host': 'backup-node'})
        self.assertEqual('gpfs', info['driver_volume_type'])
        self.assertEqual(self.driver.driver_volume_type,
                         info['driver_volume_type'])
        self.assertEqual({'device_path': self._snapshot_path(snapshot),
                          'name': snapshot.name, 'format': 'raw',
                          'export': 'lun1', 'access_mode': 'ro'},
                         info['data'])
        self.assertEqual(self.node.base, info['mount_point_base'])
        # The same shape as a volume's connection info.
        volume_info = self.driver.initialize_connection(volume, None)
        self.assertEqual(set(volume_info), set(info))
        self.assertEqual(set(volume_info['data']), set(info['data']))

    def test_usable_by_os_brick(self):
        volume, snapshot = self._snapshotted(data=b'through os-brick')
        self._write(volume, b'changed after the snapshot')
        info = self.driver.initialize_connection_snapshot(snapshot, None)
        path, data = read_through_os_brick(info, MiB, 16)
        self.assertEqual(self._snapshot_path(snapshot), path)
        self.assertEqual(b'through os-brick', data)

    def test_terminate_never_touches_the_file(self):
        _, snapshot = self._snapshotted()
        path = self._snapshot_path(snapshot)
        self.driver.initialize_connection_snapshot(snapshot, None)
        before = os.stat(path)
        self.assertIsNone(self.driver.terminate_connection_snapshot(
            snapshot, {'host': 'backup-node'}, force=True))
        after = os.stat(path)
        self.assertEqual(b'point in time', self._read(path, 13))
        self.assertEqual((before.st_ino, before.st_size, before.st_mtime_ns,
                          before.st_mode),
                         (after.st_ino, after.st_size, after.st_mtime_ns,
                          after.st_mode))

    def test_terminate_after_the_file_and_lun_are_gone(self):
        _, snapshot = self._snapshotted()
        os.unlink(self._snapshot_path(snapshot))
        self.node.umount('lun1')
        self.driver.terminate_connection_snapshot(snapshot, None)

    def test_exports_are_no_ops(self):
        _, snapshot = self._snapshotted()
        self.assertIsNone(self.driver.create_export_snapshot(
            self.context, snapshot, {'host': 'backup-node'}))
        self.assertIsNone(self.driver.remove_export_snapshot(
            self.context, snapshot))
        self.assertTrue(os.path.exists(self._snapshot_path(snapshot)))

    def test_missing_snapshot_file(self):
        _, snapshot = self._snapshotted()
        path = self._snapshot_path(snapshot)
        os.unlink(path)
        err = self.assertRaises(exception.VolumeFileMissing,
                                self.driver.initialize_connection_snapshot,
                                snapshot, None)
        self.assertIn(snapshot.name, str(err))
        self.assertIn(path, str(err))
        self.assertIn('pool lun1', str(err))

    def test_lun_not_mounted(self):
        _, snapshot = self._snapshotted()
        self.node.umount('lun1')
        self.assertRaises(exception.LunUnavailable,
                          self.driver.initialize_connection_snapshot,
                          snapshot, None)

    def test_qcow2_snapshot_refused(self):
        if not test_driver.HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        volume = self._created(volume_format='qcow2')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        err = self.assertRaises(exception.UnsupportedSnapshotAttachFormat,
                                self.driver.initialize_connection_snapshot,
                                snapshot, None)
        self.assertIn('qcow2 overlay', str(err))
        self.assertIn(snapshot.id, str(err))


class BackupDeviceTestCase(BackupSnapshotTestBase):
    """cinder's get_backup_device (BaseVD) on top of this driver."""

    def setUp(self):
        super().setUp()
        # A LUN with reflink: snapshots of volumes in use are allowed.
        self.mock_object(self.driver, '_can_reflink', return_value=True)
        self.mock_object(driver.reflink, 'clone_into',
                         side_effect=fake_node.fake_clone_into)
        self.mock_object(objects.Backup, 'save')
        self.mock_object(objects.Snapshot, 'create', autospec=True,
                         side_effect=self._db_create)

    @staticmethod
    def _db_create(snapshot):
        snapshot.id = str(uuid.uuid4())

    def _in_use(self, data):
        volume = self._created(data=data, status='backing-up',
                               previous_status='in-use')
        volume.attach_status = 'attached'
        self.mock_object(objects.Volume, 'get_by_id',
                         return_value=volume)
        return volume

    def _backup(self, volume, snapshot=None):
        return objects.Backup(context=self.context, id=str(uuid.uuid4()),
                              volume_id=volume.id,
                              snapshot_id=snapshot.id if snapshot else None,
                              temp_snapshot_id=None, temp_volume_id=None)

    def test_attached_volume_backs_up_a_temporary_snapshot(self):
        self.override_config('backup_use_temp_snapshot', True, group=GROUP)
        volume = self._in_use(b'at backup time')
        backup = self._backup(volume)
        device, is_snapshot = self.driver.get_backup_device(self.context,
                                                            backup)
        self.assertTrue(is_snapshot)
        self.assertEqual(device.id, backup.temp_snapshot_id)
        driver.reflink.clone_into.assert_called_once()
        path = self._snapshot_path(device)
        self.assertTrue(os.path.isfile(path))
        self.assertIn('temporary snapshot %s of the volume in use'
                      % device.id, self.logs.output)
        # The guest keeps writing; the backup reads the point in time.
        self._write(volume, b'written later!')
        info = self.driver.initialize_connection_snapshot(device, {})
        self.assertEqual((path, b'at backup time'),
                         read_through_os_brick(info, MiB, 14))
        self.driver.terminate_connection_snapshot(device, {})
        self.driver.remove_export_snapshot(self.context, device)
        # cinder then deletes the temporary snapshot.
        self.driver.delete_snapshot(device)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(b'written later!',
                         self._read(self._path(volume), 14))

    def test_through_cinders_managers(self):
        """cinder's backup manager attaches, reads and detaches it.

        Its calls reach the volume manager (the RPC layer is left out),
        which calls the driver; os-brick's connector is the real one.
        """
        # Imported here: the managers need cinder's objects registered,
        # which importing cinder's test package (test_driver) does.
        from cinder.backup import manager as backup_manager
        from cinder.volume import manager as volume_manager

        self.override_config('backup_use_temp_snapshot', True, group=GROUP)
        volume = self._in_use(b'read by cinder-backup')
        snapshot, is_snapshot = self.driver.get_backup_device(
            self.context, self._backup(volume))
        self.mock_object(objects.Snapshot, 'get_by_id',
                         return_value=snapshot)
        self.driver.set_initialized()
        volume_service = types.SimpleNamespace(driver=self.driver)

        class VolumeAPI:
            """The backup manager's volume_rpcapi, calling directly."""

            def __getattr__(self, name):
                method = getattr(volume_manager.VolumeManager, name)

                def call(ctxt, snap, *args, sync=False, **kwargs):
                    return method(volume_service, ctxt, snap.id, *args,
                                  **kwargs)
                return call

        backup_service = types.SimpleNamespace(volume_rpcapi=VolumeAPI())
        for name in ('_attach_snapshot', '_connect_device'):
            setattr(backup_service, name, functools.partial(
                getattr(backup_manager.BackupManager, name),
                backup_service))
        properties = {'host': 'backup-node', 'multipath': False}
        attach_info = backup_manager.BackupManager._attach_device(
            backup_service, self.context, snapshot, properties, is_snapshot)
        self.assertEqual(self._snapshot_path(snapshot),
                         attach_info['device']['path'])
        self._write(volume, b'the guest writes on!!')
        self.assertEqual(b'read by cinder-backup',
                         self._read(attach_info['device']['path'], 21))
        backup_manager.BackupManager._detach_device(
            backup_service, self.context, attach_info, snapshot, properties,
            is_snapshot, force=True, ignore_errors=True)
        self.assertEqual(b'read by cinder-backup',
                         self._read(self._snapshot_path(snapshot), 21))

    def test_backup_of_a_snapshot_attaches_it(self):
        self.override_config('backup_use_temp_snapshot', True, group=GROUP)
        volume, snapshot = self._snapshotted(data=b'chosen snapshot')
        self.mock_object(objects.Volume, 'get_by_id', return_value=volume)
        self.mock_object(objects.Snapshot, 'get_by_id',
                         return_value=snapshot)
        backup = self._backup(volume, snapshot)
        device, is_snapshot = self.driver.get_backup_device(self.context,
                                                            backup)
        self.assertEqual((snapshot, True), (device, is_snapshot))
        self.assertIsNone(backup.temp_snapshot_id)
        self.assertIn('reads snapshot %s' % snapshot.id, self.logs.output)
        info = self.driver.initialize_connection_snapshot(device, {})
        self.assertEqual(b'chosen snapshot',
                         read_through_os_brick(info, MiB, 15)[1])

    def test_without_the_option_a_temporary_clone(self):
        volume = self._in_use(b'cloned')
        backup = self._backup(volume)
        clone = self._volume()

        def create_clone(context, volume, status):
            backup.temp_volume_id = clone.id
            return clone
        self.mock_object(self.driver, '_create_temp_cloned_volume',
                         side_effect=create_clone)
        device, is_snapshot = self.driver.get_backup_device(self.context,
                                                            backup)
        self.assertEqual((clone, False), (device, is_snapshot))
        self.assertIn('temporary volume %s' % clone.id, self.logs.output)

    def test_available_volume_read_directly(self):
        self.override_config('backup_use_temp_snapshot', True, group=GROUP)
        volume = self._created(status='backing-up',
                               previous_status='available')
        self.mock_object(objects.Volume, 'get_by_id', return_value=volume)
        device, is_snapshot = self.driver.get_backup_device(
            self.context, self._backup(volume))
        self.assertEqual((volume, False), (device, is_snapshot))
        self.assertIn('the volume itself', self.logs.output)
        self.assertEqual([volume.name], self._files())

    def test_temporary_snapshot_failure_leaves_nothing(self):
        self.override_config('backup_use_temp_snapshot', True, group=GROUP)
        volume = self._in_use(b'data')
        self.mock_object(driver.reflink, 'clone_into',
                         side_effect=OSError(5, 'Input/output error'))
        destroy = self.mock_object(objects.Snapshot, 'destroy')
        self.driver.db = mock.Mock()
        backup = self._backup(volume)
        self.assertRaises(OSError, self.driver.get_backup_device,
                          self.context, backup)
        destroy.assert_called_once_with()
        self.assertIsNone(backup.temp_snapshot_id)
        self.assertEqual([volume.name], self._files())
