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


"""OCFS2Driver on real files: a fake mount table, real I/O and qemu-img.

Only the mount table (which directories are OCFS2 LUNs) and the cinder
database (volume.save) are faked; every file the driver creates, copies or
removes is real. The reflink path needs a real OCFS2 filesystem and is
covered by the functional tests on the lab cluster.
"""

import datetime
import errno
import json
import os
import shutil
import stat
import subprocess
from unittest import mock
import uuid

import ddt
import fixtures
from os_brick.initiator import connector as brick_connector
from oslo_concurrency import processutils
from oslo_utils import timeutils
from oslo_utils import units

from cinder import context
from cinder import exception as cinder_exception
from cinder.interface import util as interface_util
from cinder.interface import volume_driver as volume_interface
from cinder import objects
from cinder.privsep import format_inspector
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
from cinder.tests.unit import test
from cinder.volume import configuration as conf
from cinder.volume import driver as base_driver

from cinder_ocfs2 import cluster_health
from cinder_ocfs2 import driver
from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import locks
from cinder_ocfs2 import member_views
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import options
from cinder_ocfs2 import privsep
from cinder_ocfs2.tests.unit import fake_node

GROUP = 'ocfs2-test'
MiB = units.Mi
HAVE_QEMU_IMG = shutil.which('qemu-img') is not None


def sha256(path):
    return subprocess.run(['sha256sum', path], check=True,
                          capture_output=True, text=True).stdout.split()[0]


class DriverTestBase(test.TestCase):

    def setUp(self):
        super().setUp()
        self.node = self.useFixture(fake_node.FakeNode())
        self.context = context.get_admin_context()
        self.configuration = conf.Configuration(base_driver.volume_opts,
                                                config_group=GROUP)
        self.driver = driver.OCFS2Driver(configuration=self.configuration)
        self.override_config('ocfs2_mount_point_base', self.node.base,
                             group=GROUP)
        self.save = self.mock_object(objects.Volume, 'save')
        # The image format inspector is a privsep entrypoint (it runs as
        # root in a service); run the same inspector unprivileged here.
        self.mock_object(format_inspector, 'get_format_if_safe',
                         format_inspector._get_format_if_safe)
        self.driver.do_setup(self.context)

    def _volume(self, pool='lun1', size=1, status='available',
                volume_format='raw', provider_location=True, **kwargs):
        volume = fake_volume.fake_volume_obj(
            self.context, id=str(uuid.uuid4()),
            host='node1@ocfs2#%s' % pool,
            size=size, status=status,
            provider_location=pool if provider_location else None,
            **kwargs)
        volume.admin_metadata = {'format': volume_format}
        return volume

    def _created(self, pool='lun1', size=1, data=None, **kwargs):
        volume = self._volume(pool=pool, size=size, **kwargs)
        volume.update(self.driver.create_volume(volume))
        if data:
            self._write(volume, data)
        return volume

    def _path(self, volume, pool=None):
        return os.path.join(self.node.base, pool or volume.provider_location,
                            volume.name)

    def _write(self, volume, data, offset=MiB):
        with open(self._path(volume), 'r+b') as volume_file:
            volume_file.seek(offset)
            volume_file.write(data)

    def _read(self, path, size, offset=MiB):
        with open(path, 'rb') as volume_file:
            volume_file.seek(offset)
            return volume_file.read(size)

    def _snapshot(self, volume):
        snapshot = fake_snapshot.fake_snapshot_obj(
            self.context, id=str(uuid.uuid4()), volume_id=volume.id,
            volume_size=volume.size)
        snapshot.volume = volume
        return snapshot


@ddt.ddt
class SetupTestCase(DriverTestBase):

    def test_do_setup_with_nothing_mounted(self):
        # setUp ran do_setup with no LUN mounted: the service comes up.
        self.assertEqual([], self.driver._inventory.usable())
        self.driver.check_for_setup_error()

    def test_do_setup_without_base_directory(self):
        self.override_config('ocfs2_mount_point_base', '/nonexistent/base',
                             group=GROUP)
        self.driver.do_setup(self.context)
        self.driver.check_for_setup_error()

    def test_nas_security_options_resolved_explicitly(self):
        self.assertEqual('true',
                         self.configuration.nas_secure_file_operations)
        self.assertEqual('true',
                         self.configuration.nas_secure_file_permissions)

    @ddt.data('0666', 'abc')
    def test_do_setup_refuses_unsafe_file_mode(self, mode):
        self.override_config('ocfs2_volume_file_mode', mode, group=GROUP)
        self.assertRaises(cinder_exception.InvalidConfigurationValue,
                          self.driver.do_setup, self.context)

    def test_get_driver_options(self):
        names = {opt.name for opt in self.driver.get_driver_options()}
        self.assertEqual({opt.name for opt in options.ocfs2_opts}, names)
        self.assertIn('ocfs2_mount_point_base', names)

    def test_list_opts_names_every_option(self):
        [(group, opts)] = options.list_opts()
        self.assertEqual('backend_defaults', group)
        self.assertIs(options.ocfs2_opts, opts)

    def test_driver_interface_compliance(self):
        # cinder's own compliance check, run on our driver.
        registered = [info for info in interface_util.get_volume_drivers()
                      if info.cls is driver.OCFS2Driver]
        self.assertEqual(1, len(registered))
        self.assertTrue(issubclass(registered[0].cls,
                                   volume_interface.VolumeDriverCore))
        self.assertEqual(driver.OCFS2Driver.VERSION, registered[0].version)


@ddt.ddt
class CreateDeleteTestCase(DriverTestBase):

    def test_create_volume_raw_sparse(self):
        self.node.mount('lun1')
        volume = self._volume(size=2)
        update = self.driver.create_volume(volume)
        self.assertEqual({'provider_location': 'lun1'}, update)
        info = os.stat(self._path(volume, 'lun1'))
        self.assertEqual(2 * units.Gi, info.st_size)
        self.assertEqual(0, info.st_blocks)
        self.assertEqual(0o660, stat.S_IMODE(info.st_mode))
        self.assertEqual('raw', volume.admin_metadata['format'])
        self.save.assert_called_once_with()

    def test_create_volume_never_world_writable(self):
        self.node.mount('lun1')
        with mock.patch('cinder.volume.drivers.remotefs.LOG') as base_log:
            volume = self._created()
        mode = stat.S_IMODE(os.stat(self._path(volume)).st_mode)
        self.assertEqual(0, mode & stat.S_IWOTH)
        for call in base_log.warning.call_args_list:
            self.assertNotIn('open permissions', call[0][0])

    def test_create_volume_preallocated(self):
        self.override_config('ocfs2_sparse_volumes', False, group=GROUP)
        self.node.mount('lun1')
        volume = self._created(size=1)
        info = os.stat(self._path(volume))
        self.assertGreaterEqual(info.st_blocks * 512, units.Gi)

    def test_create_volume_qcow2(self):
        if not HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        self.node.mount('lun1')
        volume = self._created(size=1)
        info = json.loads(processutils.execute(
            'qemu-img', 'info', '--output=json', self._path(volume))[0])
        self.assertEqual('qcow2', info['format'])
        self.assertEqual(units.Gi, info['virtual-size'])
        self.assertEqual('qcow2', volume.admin_metadata['format'])
        self.assertEqual(
            0o660, stat.S_IMODE(os.stat(self._path(volume)).st_mode))

    def test_create_volume_lun_mounted_between_two_calls(self):
        self.node.mount('lun1')
        self._created('lun1')
        self.assertRaises(exception.LunUnavailable,
                          self.driver.create_volume, self._volume('lun2'))
        self.node.mount('lun2')
        volume = self._created('lun2')
        self.assertTrue(os.path.exists(self._path(volume)))

    def test_create_volume_without_pool_picks_a_lun(self):
        self.node.mount('lun1')
        volume = self._volume(pool='')
        volume.host = 'node1@ocfs2'
        self.assertEqual({'provider_location': 'lun1'},
                         self.driver.create_volume(volume))

    def test_create_volume_nothing_mounted(self):
        volume = self._volume(pool='')
        volume.host = 'node1@ocfs2'
        err = self.assertRaises(exception.NoUsableLun,
                                self.driver.create_volume, volume)
        self.assertIn(self.node.base, str(err))

    @ddt.data('umount', 'read_only', 'ext4')
    def test_create_volume_pool_unusable_leaves_nothing(self, how):
        if how == 'read_only':
            self.node.mount('lun1', read_only=True)
        elif how == 'ext4':
            self.node.mount('lun1', fs_type='ext4')
        else:
            self.node.mount('lun1')
            self.node.umount('lun1')
        volume = self._volume()
        err = self.assertRaises(exception.LunUnavailable,
                                self.driver.create_volume, volume)
        self.assertIn('lun1', str(err))
        self.assertFalse(os.path.exists(self._path(volume, 'lun1')))

    def test_create_volume_wrong_device_at_pool_path(self):
        path = self.node.mount('lun1')
        with open(os.path.join(path, identity.MARKER_NAME), 'w') as marker:
            json.dump({'pool': 'lun2',
                       'fsid': hex(os.statvfs(path).f_fsid)}, marker)
        volume = self._volume()
        err = self.assertRaises(exception.LunIdentityMismatch,
                                self.driver.create_volume, volume)
        self.assertIn('pool lun2', str(err))
        self.assertFalse(os.path.exists(self._path(volume, 'lun1')))

    def test_create_volume_writes_marker(self):
        path = self.node.mount('lun1')
        self._created()
        with open(os.path.join(path, identity.MARKER_NAME)) as marker:
            self.assertEqual('lun1', json.load(marker)['pool'])

    def test_create_volume_no_space_leaves_nothing(self):
        self.override_config('ocfs2_sparse_volumes', False, group=GROUP)
        self.node.mount('lun1')
        volume = self._volume()
        no_space = OSError(errno.ENOSPC, 'No space left on device')
        with mock.patch('os.posix_fallocate', side_effect=no_space):
            err = self.assertRaises(exception.NoSpaceOnLun,
                                    self.driver.create_volume, volume)
        self.assertIn('ran out of space', str(err))
        self.assertFalse(os.path.exists(self._path(volume, 'lun1')))

    def test_create_encrypted_volume_refused(self):
        self.node.mount('lun1')
        volume = self._volume(encryption_key_id=fake_volume.fake.KEY_ID)
        self.assertRaises(exception.OCFS2DriverError,
                          self.driver.create_volume, volume)

    def test_delete_volume(self):
        self.node.mount('lun1')
        volume = self._created()
        self.driver.delete_volume(volume)
        self.assertFalse(os.path.exists(self._path(volume)))

    def test_delete_volume_missing_file_counts_as_deleted(self):
        self.node.mount('lun1')
        self.driver.delete_volume(self._volume())

    def test_delete_volume_without_provider_location(self):
        self.driver.delete_volume(self._volume(provider_location=False))

    def test_delete_volume_lun_unmounted_is_an_error(self):
        self.node.mount('lun1')
        volume = self._created()
        self.node.umount('lun1')
        self.assertRaises(exception.LunUnavailable,
                          self.driver.delete_volume, volume)
        self.assertTrue(os.path.exists(self._path(volume)))

    def test_delete_volume_removes_qcow2_chain_files_only(self):
        path = self.node.mount('lun1')
        volume = self._created()
        other = self._created()
        for name in (volume.name + '.info', volume.name + '.abc'):
            open(os.path.join(path, name), 'w').close()
        self.driver.delete_volume(volume)
        self.assertEqual(sorted([identity.MARKER_NAME, other.name,
                                 '.cinder-ocfs2-locks']),
                         sorted(os.listdir(path)))

    def test_ensure_export_with_lun_unmounted_does_not_fail(self):
        self.driver.ensure_export(self.context, self._volume())


@ddt.ddt
class ExtendAttachTestCase(DriverTestBase):

    def setUp(self):
        super().setUp()
        self.node.mount('lun1')

    def test_extend_volume(self):
        volume = self._created(size=1, data=b'keep')
        self.driver.extend_volume(volume, 3)
        self.assertEqual(3 * units.Gi, os.stat(self._path(volume)).st_size)
        self.assertEqual(b'keep', self._read(self._path(volume), 4))

    def test_extend_volume_refuses_shrink(self):
        volume = self._created(size=2)
        err = self.assertRaises(cinder_exception.InvalidInput,
                                self.driver.extend_volume, volume, 1)
        self.assertIn('cannot shrink', str(err))
        self.assertEqual(2 * units.Gi, os.stat(self._path(volume)).st_size)

    def test_extend_volume_with_snapshots(self):
        volume = self._created(size=1, data=b'before')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        self.driver.extend_volume(volume, 2)
        self.assertEqual(2 * units.Gi, os.stat(self._path(volume)).st_size)
        snapshot_path = os.path.join(self.node.base, 'lun1', snapshot.name)
        self.assertEqual(units.Gi, os.stat(snapshot_path).st_size)

    def test_extend_volume_missing_file(self):
        self.assertRaises(exception.VolumeFileMissing,
                          self.driver.extend_volume, self._volume(), 2)

    def test_extend_volume_qcow2(self):
        if not HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        volume = self._created(size=1, volume_format='qcow2')
        volume.admin_metadata = {'format': 'qcow2'}
        self.driver.extend_volume(volume, 2)
        info = json.loads(processutils.execute(
            'qemu-img', 'info', '--output=json', self._path(volume))[0])
        self.assertEqual(2 * units.Gi, info['virtual-size'])

    @ddt.data({'host': 'compute1', 'initiator': 'iqn.x'}, None)
    def test_initialize_connection(self, connector):
        volume = self._created()
        info = self.driver.initialize_connection(volume, connector)
        self.assertEqual('gpfs', info['driver_volume_type'])
        self.assertEqual(self._path(volume), info['data']['device_path'])
        self.assertEqual('raw', info['data']['format'])
        self.driver.terminate_connection(volume, connector)

    def test_initialize_connection_usable_by_os_brick(self):
        volume = self._created(data=b'through os-brick')
        info = self.driver.initialize_connection(volume, None)
        brick = brick_connector.InitiatorConnector.factory(
            info['driver_volume_type'].upper(), root_helper=None)
        device = brick.connect_volume(info['data'])
        self.assertEqual(b'through os-brick',
                         self._read(device['path'], 16))
        brick.disconnect_volume(info['data'], device)

    def test_initialize_connection_refuses_qcow2(self):
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        volume = self._created(volume_format='qcow2')
        volume.admin_metadata = {'format': 'qcow2'}
        err = self.assertRaises(exception.UnsupportedAttachFormat,
                                self.driver.initialize_connection, volume,
                                {})
        self.assertIn('stored as qcow2', str(err))

    def test_initialize_connection_refuses_grown_file(self):
        volume = self._created(size=1)
        os.truncate(self._path(volume), 2 * units.Gi)
        self.assertRaises(exception.VolumeSizeMismatch,
                          self.driver.initialize_connection, volume, {})

    def test_initialize_connection_lun_gone(self):
        volume = self._created()
        self.node.umount('lun1')
        self.assertRaises(exception.LunUnavailable,
                          self.driver.initialize_connection, volume, {})


class TwoLunsTestBase(DriverTestBase):
    """lun1 and lun2 mounted, and qemu-img for full copies."""

    def setUp(self):
        super().setUp()
        if not HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.node.mount('lun1')
        self.node.mount('lun2')


@ddt.ddt
class SnapshotCloneTestCase(TwoLunsTestBase):

    def _snapshot_path(self, snapshot, pool='lun1'):
        return os.path.join(self.node.base, pool, snapshot.name)

    def test_create_delete_snapshot(self):
        volume = self._created(data=b'version 1')
        snapshot = self._snapshot(volume)
        update = self.driver.create_snapshot(snapshot)
        self.assertEqual({'provider_location': 'lun1'}, update)
        self._write(volume, b'version 2')
        self.assertEqual(b'version 1',
                         self._read(self._snapshot_path(snapshot), 9))
        self.assertEqual(0o660, stat.S_IMODE(
            os.stat(self._snapshot_path(snapshot)).st_mode))
        self.driver.delete_snapshot(snapshot)
        self.assertFalse(os.path.exists(self._snapshot_path(snapshot)))
        # Deleting again: a missing snapshot file counts as deleted.
        self.driver.delete_snapshot(snapshot)

    def test_create_snapshot_in_use_without_reflink_refused(self):
        volume = self._created(status='in-use', attach_status='attached')
        snapshot = self._snapshot(volume)
        err = self.assertRaises(exception.OCFS2DriverError,
                                self.driver.create_snapshot, snapshot)
        self.assertIn('needs reflink', str(err))
        self.assertFalse(os.path.exists(self._snapshot_path(snapshot)))

    @ddt.data(('lun1', 1), ('lun2', 3))
    @ddt.unpack
    def test_create_volume_from_snapshot(self, pool, size):
        volume = self._created(data=b'snapshotted')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        self._write(volume, b'changed!!!!')
        new = self._volume(pool=pool, size=size)
        update = self.driver.create_volume_from_snapshot(new, snapshot)
        self.assertEqual({'provider_location': pool}, update)
        new_path = self._path(new, pool)
        self.assertEqual(b'snapshotted', self._read(new_path, 11))
        self.assertEqual(size * units.Gi, os.stat(new_path).st_size)
        self.assertEqual('raw', new.admin_metadata['format'])

    def test_create_volume_from_missing_snapshot_file(self):
        volume = self._created()
        snapshot = self._snapshot(volume)
        new = self._volume()
        self.assertRaises(exception.VolumeFileMissing,
                          self.driver.create_volume_from_snapshot, new,
                          snapshot)
        self.assertFalse(os.path.exists(self._path(new, 'lun1')))

    @ddt.data(('lun1', 1), ('lun2', 2))
    @ddt.unpack
    def test_create_cloned_volume(self, pool, size):
        source = self._created(data=b'original')
        clone = self._volume(pool=pool, size=size)
        update = self.driver.create_cloned_volume(clone, source)
        self.assertEqual({'provider_location': pool}, update)
        clone_path = self._path(clone, pool)
        self.assertEqual(b'original', self._read(clone_path, 8))
        self.assertEqual(size * units.Gi, os.stat(clone_path).st_size)
        self.assertEqual(sha256(self._path(source)) if size == 1 else
                         None, sha256(clone_path) if size == 1 else None)

    def test_create_cloned_volume_copy_failure_leaves_nothing(self):
        source = self._created()
        clone = self._volume(pool='lun2')
        failure = processutils.ProcessExecutionError(exit_code=1)
        with mock.patch.object(self.driver, '_execute',
                               side_effect=failure):
            self.assertRaises(processutils.ProcessExecutionError,
                              self.driver.create_cloned_volume, clone,
                              source)
        self.assertFalse(os.path.exists(self._path(clone, 'lun2')))

    def test_create_cloned_volume_in_use_without_reflink_refused(self):
        source = self._created(status='in-use', attach_status='attached')
        clone = self._volume()
        self.assertRaises(exception.OCFS2DriverError,
                          self.driver.create_cloned_volume, clone, source)
        self.assertFalse(os.path.exists(self._path(clone, 'lun1')))

    def _fake_reflink(self):
        self.mock_object(self.driver, '_can_reflink', return_value=True)
        self.mock_object(driver.reflink, 'clone_into',
                         side_effect=fake_node.fake_clone_into)

    def _copy_reads(self):
        """Record what each qemu-img convert reads; still copy for real."""
        sources = []
        real = self.driver._execute

        def execute(*cmd, **kwargs):
            if cmd[:2] == ('qemu-img', 'convert'):
                sources.append(cmd[-2])
            return real(*cmd, **kwargs)
        self.mock_object(self.driver, '_execute', side_effect=execute)
        return sources

    def test_clone_of_attached_volume_to_another_lun_reads_a_reflink(self):
        # A guest may write the attached volume during the full copy: the
        # copy reads a reflink made first, one point in time.
        source = self._created(data=b'live data', status='in-use',
                               attach_status='attached')
        self._fake_reflink()
        reads = self._copy_reads()
        clone = self._volume(pool='lun2')
        update = self.driver.create_cloned_volume(clone, source)
        self.assertEqual({'provider_location': 'lun2'}, update)
        frozen = os.path.join(self.node.base, 'lun1',
                              clone.name + '.source')
        self.assertEqual([frozen], reads)
        self.assertEqual(b'live data', self._read(self._path(clone, 'lun2'),
                                                  9))
        self.assertFalse(os.path.exists(frozen))
        self.assertEqual(sha256(self._path(source)),
                         sha256(self._path(clone, 'lun2')))

    def test_clone_of_attached_volume_copy_failure_leaves_nothing(self):
        source = self._created(status='in-use', attach_status='attached')
        before = sha256(self._path(source))
        self._fake_reflink()
        clone = self._volume(pool='lun2')
        failure = processutils.ProcessExecutionError(exit_code=1,
                                                     stderr='EIO')

        def torn_copy(*cmd, **kwargs):
            with open(cmd[-1], 'r+b') as target:
                target.write(b'torn!' * 100)
            raise failure

        with mock.patch.object(self.driver, '_execute',
                               side_effect=torn_copy):
            self.assertRaises(processutils.ProcessExecutionError,
                              self.driver.create_cloned_volume, clone,
                              source)
        self.assertFalse(os.path.exists(self._path(clone, 'lun2')))
        self.assertFalse(os.path.exists(os.path.join(
            self.node.base, 'lun1', clone.name + '.source')))
        self.assertEqual(before, sha256(self._path(source)))

    def test_clone_of_attached_volume_reflink_failure_copies_nothing(self):
        # No fallback to a full copy of the live file.
        source = self._created(status='in-use', attach_status='attached')
        self.mock_object(self.driver, '_can_reflink', return_value=True)
        self.mock_object(driver.reflink, 'clone_into', side_effect=OSError(
            errno.ENOSPC, 'No space left on device'))
        reads = self._copy_reads()
        clone = self._volume(pool='lun2')
        self.assertRaises(exception.NoSpaceOnLun,
                          self.driver.create_cloned_volume, clone, source)
        self.assertEqual([], reads)
        self.assertFalse(os.path.exists(self._path(clone, 'lun2')))
        self.assertFalse(os.path.exists(os.path.join(
            self.node.base, 'lun1', clone.name + '.source')))

    def test_clone_of_detached_volume_to_another_lun_reads_its_file(self):
        source = self._created(data=b'at rest')
        reads = self._copy_reads()
        clone = self._volume(pool='lun2')
        self.driver.create_cloned_volume(clone, source)
        self.assertEqual([self._path(source)], reads)

    def test_leftover_point_in_time_copy_goes_with_the_volume(self):
        # A killed process leaves <new volume>.source on the source LUN;
        # deleting the new volume (cinder does, after a failed create)
        # removes it.
        clone = self._volume(pool='lun2')
        leftover = os.path.join(self.node.base, 'lun1',
                                clone.name + '.source')
        with open(leftover, 'wb') as out:
            out.write(b'frozen')
        clone.provider_location = None
        self.driver.delete_volume(clone)
        self.assertFalse(os.path.exists(leftover))

    def test_revert_to_snapshot(self):
        volume = self._created(data=b'good data')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        self._write(volume, b'bad  data')
        self.driver.revert_to_snapshot(self.context, volume, snapshot)
        self.assertEqual(b'good data', self._read(self._path(volume), 9))
        info = os.stat(self._path(volume))
        self.assertEqual(units.Gi, info.st_size)
        self.assertEqual(0o660, stat.S_IMODE(info.st_mode))
        self.assertFalse(os.path.exists(self._path(volume) + '.new'))

    def test_revert_to_snapshot_after_extend_keeps_size(self):
        volume = self._created(data=b'good data')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        self.driver.extend_volume(volume, 2)
        volume.size = 2
        self.driver.revert_to_snapshot(self.context, volume, snapshot)
        self.assertEqual(2 * units.Gi, os.stat(self._path(volume)).st_size)
        self.assertEqual(b'good data', self._read(self._path(volume), 9))


class Qcow2TestBase(DriverTestBase):
    """A backend making qcow2 volumes on lun1."""

    def setUp(self):
        super().setUp()
        if not HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        self.node.mount('lun1')
        self.mock_object(objects.Snapshot, 'save')


@ddt.ddt
class Qcow2ChainTestCase(Qcow2TestBase):
    """qcow2 volumes go through cinder's RemoteFS qcow2 overlay chains."""

    def _qcow2_volume(self):
        volume = self._created(size=1)
        volume.admin_metadata = {'format': 'qcow2'}
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c',
                        'write -P 0x5a 1M 64k', self._path(volume)],
                       check=True, capture_output=True)
        return volume

    def test_snapshot_and_volume_from_snapshot(self):
        volume = self._qcow2_volume()
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        snapshot.status = 'available'
        info_path = self._path(volume) + '.info'
        with open(info_path) as info:
            chain = json.load(info)
        self.assertEqual(volume.name + '.' + snapshot.id, chain['active'])
        new = self._volume(size=2)
        self.driver.create_volume_from_snapshot(new, snapshot)
        result = subprocess.run(
            ['qemu-io', '-f', 'qcow2', '-c', 'read -P 0x5a 1M 64k',
             self._path(new)], capture_output=True, text=True)
        self.assertNotIn('Pattern verification failed', result.stdout)
        self.assertEqual(0, result.returncode)
        self.driver.delete_snapshot(snapshot)
        with open(info_path) as info:
            self.assertEqual(volume.name, json.load(info)['active'])


class FakeImageService:
    """Serves one local file as a glance image."""

    def __init__(self, path, disk_format):
        self.path, self.disk_format = path, disk_format
        # As cinder's GlanceImageService: no temporary image cache.
        self.temp_images = None

    def show(self, context, image_id):
        return {'id': image_id, 'status': 'active', 'size':
                os.path.getsize(self.path), 'disk_format': self.disk_format,
                'container_format': 'bare', 'properties': {}}

    def download(self, context, image_id, data=None):
        with open(self.path, 'rb') as image:
            shutil.copyfileobj(image, data)


@ddt.ddt
class ImageTestCase(DriverTestBase):

    def setUp(self):
        super().setUp()
        if not HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        self.lun = self.node.mount('lun1')
        self.images = self.useFixture(fixtures.TempDir()).path
        self.override_config('image_conversion_dir', self.images)

    def _image(self, *create_args):
        path = os.path.join(self.images, 'image.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', *create_args,
                        path, '64M'], check=True, capture_output=True)
        return path

    def test_copy_image_to_volume(self):
        image = self._image()
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c',
                        'write -P 0x42 1M 4k', image], check=True,
                       capture_output=True)
        volume = self._created(size=1)
        self.driver.copy_image_to_volume(
            self.context, volume, FakeImageService(image, 'qcow2'),
            str(uuid.uuid4()))
        self.assertEqual(b'\x42' * 4096, self._read(self._path(volume), 4096))
        info = os.stat(self._path(volume))
        self.assertEqual(units.Gi, info.st_size)
        self.assertEqual(0o660, stat.S_IMODE(info.st_mode))
        self.assertEqual('raw', volume.admin_metadata['format'])

    @ddt.data('backing', 'data_file')
    def test_copy_image_to_volume_refuses_files_outside(self, how):
        secret = os.path.join(self.images, 'host-secret')
        with open(secret, 'wb') as f:
            f.write(b'host data' * 1000)
        if how == 'backing':
            image = self._image('-b', secret, '-F', 'raw')
        else:
            image = self._image('-o', 'data_file=%s' % secret)
        volume = self._created(size=1)
        self.assertRaises(
            (cinder_exception.ImageUnacceptable, cinder_exception.Invalid),
            self.driver.copy_image_to_volume, self.context, volume,
            FakeImageService(image, 'qcow2'), str(uuid.uuid4()))
        # No half-written volume file is left behind.
        self.assertFalse(os.path.exists(self._path(volume)))

    def test_copy_volume_to_image_declares_raw(self):
        volume = self._created(size=1)
        # A guest wrote a qcow2 header naming a host file into its disk.
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', '-b',
                        '/etc/shadow', '-F', 'raw', self._path(volume)],
                       check=True, capture_output=True)
        os.truncate(self._path(volume), units.Gi)
        upload = self.mock_object(driver.volume_utils, 'upload_volume')
        self.driver.copy_volume_to_image(self.context, volume, mock.ANY,
                                         {'id': 'image-1'})
        upload.assert_called_once_with(
            self.context, mock.ANY, {'id': 'image-1'}, self._path(volume),
            volume, volume_format='raw', run_as_root=False)


class StatsTestCase(DriverTestBase):

    def _pools(self):
        return {pool['pool_name']: pool
                for pool in self.driver.get_volume_stats(True)['pools']}

    def test_stats_one_pool_per_lun(self):
        self.node.mount('lun1')
        self.node.mount('lun2')
        self._created('lun1', size=3)
        self._created('lun1', size=2)
        stats = self.driver.get_volume_stats(True)
        self.assertEqual('file', stats['storage_protocol'])
        self.assertEqual('Open Source', stats['vendor_name'])
        self.assertEqual(driver.OCFS2Driver.VERSION, stats['driver_version'])
        pools = {pool['pool_name']: pool for pool in stats['pools']}
        self.assertEqual(['lun1', 'lun2'], sorted(pools))
        self.assertEqual(2, pools['lun1']['volume_count'])
        vfs = os.statvfs(os.path.join(self.node.base, 'lun1'))
        self.assertAlmostEqual(vfs.f_blocks * vfs.f_frsize / units.Gi,
                               pools['lun1']['total_capacity_gb'], places=1)
        self.assertFalse(pools['lun1']['reflink_support'])
        self.assertFalse(pools['lun1']['online_extend_support'])

    def test_stats_follow_mounts(self):
        self.assertEqual({}, self._pools())
        self.node.mount('lun1')
        self.assertEqual(['lun1'], list(self._pools()))
        self.node.mount('lun2', read_only=True)
        self.assertEqual(['lun1'], list(self._pools()))
        self.node.umount('lun1')
        self.assertEqual({}, self._pools())

    def test_stats_leave_out_lun_with_wrong_marker(self):
        path = self.node.mount('lun1')
        self.node.mount('lun2')
        with open(os.path.join(path, identity.MARKER_NAME), 'w') as marker:
            marker.write('{"pool": "lun9", "fsid": "0x1"}')
        self.assertEqual(['lun2'], list(self._pools()))

    def test_stats_allow_list(self):
        self.override_config('ocfs2_shares', ['lun2'], group=GROUP)
        self.driver.do_setup(self.context)
        self.node.mount('lun1')
        self.node.mount('lun2')
        self.assertEqual(['lun2'], list(self._pools()))


CAPTURED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'fixtures', 'captured')


class ClusterHealthTestCase(DriverTestBase):
    """Pool health from real o2cb state captured on the lab's node1."""

    def _use_capture(self, scenario):
        root = os.path.join(CAPTURED, scenario)
        self.driver._o2cb_roots = {
            'sysfs_root': os.path.join(root, 'sys'),
            'etc_root': os.path.join(root, 'etc'), 'hostname': 'node1'}

    def _pools(self):
        stats = self.driver.get_volume_stats(True)
        return stats, {pool['pool_name']: pool for pool in stats['pools']}

    def test_live_heartbeat_pool_up_other_device_down(self):
        self._use_capture('local-heartbeat-node1')
        # The capture has live local heartbeat regions on vda, vdb, vdc.
        self.node.mount('lun1', device='/dev/vda')
        self.node.mount('lun9', device='/dev/sdz')
        stats, pools = self._pools()
        self.assertEqual('up', stats['backend_state'])
        self.assertEqual('up', pools['lun1']['pool_state'])
        self.assertGreater(pools['lun1']['free_capacity_gb'], 0)
        self.assertEqual('labcluster', pools['lun1']['cluster_name'])
        self.assertEqual('online', pools['lun1']['cluster_status'])
        self.assertEqual('down', pools['lun9']['pool_state'])
        self.assertEqual(0, pools['lun9']['free_capacity_gb'])
        self.assertIn('no live o2cb heartbeat region for /dev/sdz',
                      pools['lun9']['pool_down_reason'])
        self._created('lun1')
        volume = self._volume('lun9')
        err = self.assertRaises(exception.LunUnavailable,
                                self.driver.create_volume, volume)
        self.assertIn('heartbeat', str(err))
        self.assertFalse(os.path.exists(self._path(volume, 'lun9')))

    def test_live_nodes_in_pool_stats(self):
        self.node.mount('lun1', device='/dev/vda')
        seen = []
        for scenario in ('both-live-node1', 'node2-powered-off-node1',
                         'local-heartbeat-node1'):
            self._use_capture(scenario)
            stats, pools = self._pools()
            seen.append((pools['lun1']['cluster_live_nodes'],
                         pools['lun1']['pool_state'],
                         stats['backend_state']))
        # A dead node leaves the LUN usable on this node (o2cb recovers
        # its journal); without debugfs the live nodes are unknown.
        self.assertEqual([(('node1', 'node2'), 'up', 'up'),
                          (('node1',), 'up', 'up'),
                          (None, 'up', 'up')], seen)

    def test_cluster_offline_backend_down(self):
        self._use_capture('offline-node1')
        self.node.mount('lun1', device='/dev/vda')
        stats, pools = self._pools()
        self.assertEqual('down', stats['backend_state'])
        self.assertIn('offline', stats['backend_down_reason'])
        self.assertEqual('down', pools['lun1']['pool_state'])
        self.assertEqual(0, pools['lun1']['free_capacity_gb'])
        self.assertRaises(exception.LunUnavailable,
                          self.driver.create_volume, self._volume('lun1'))
        volume = self._volume(pool='')
        volume.host = 'node1@ocfs2'
        self.assertRaises(exception.NoUsableLun, self.driver.create_volume,
                          volume)

    def test_configured_cluster_name_must_be_online(self):
        self._use_capture('local-heartbeat-node1')
        self.override_config('ocfs2_cluster_name', 'zuler', group=GROUP)
        self.node.mount('lun1', device='/dev/vda')
        stats, pools = self._pools()
        self.assertEqual('down', stats['backend_state'])
        self.assertIn('zuler', stats['backend_down_reason'])

    def test_unreadable_o2cb_state_does_not_block(self):
        # Without o2cb (no /sys/fs/ocfs2) and no cluster name configured,
        # nothing is known against the LUNs.
        self.driver._o2cb_roots = {'sysfs_root': self.node.root,
                                   'etc_root': self.node.root}
        self.node.mount('lun1')
        stats, pools = self._pools()
        self.assertEqual('up', stats['backend_state'])
        self.assertEqual('unknown', pools['lun1']['cluster_status'])
        self._created('lun1')

    def test_liveness_read_through_privsep_by_default(self):
        # debugfs is root-only; cinder-volume may run as the cinder user.
        self.driver._o2cb_roots = {}
        with mock.patch.object(o2cb, 'get_cluster_state',
                               wraps=o2cb.get_cluster_state) as get_state:
            self.driver._cluster_state()
        self.assertIs(privsep.read_o2hb_livenodes,
                      get_state.call_args.kwargs['root_reader'])

    @mock.patch.object(cluster_health, 'LOG')
    def test_cluster_state_logged_once_per_change(self, log):
        self._use_capture('offline-node1')
        self.node.mount('lun1', device='/dev/vda')
        for _ in range(3):
            self.driver.get_volume_stats(True)
        self.assertEqual(1, log.warning.call_count)
        self._use_capture('local-heartbeat-node1')
        for _ in range(3):
            self.driver.get_volume_stats(True)
        self.assertEqual(1, log.warning.call_count)
        self.assertEqual(1, len([c for c in log.info.call_args_list
                                 if 'labcluster' in str(c)]))


@ddt.ddt
class DataSafetyTestCase(TwoLunsTestBase):
    """No failed or interrupted operation destroys or tears a volume."""

    def setUp(self):
        super().setUp()
        self.images = self.useFixture(fixtures.TempDir()).path
        self.override_config('image_conversion_dir', self.images)
        self.mock_object(objects.Snapshot, 'save')

    def _snapshotted(self):
        volume = self._created(data=b'snapshot data')
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        self._write(volume, b'current bytes')
        return volume, snapshot

    def _partial_copy_then(self, error):
        """An _execute whose qemu-img writes some garbage, then fails."""
        def execute(*cmd, **kwargs):
            with open(cmd[-1], 'r+b') as target:
                target.seek(MiB)
                target.write(b'torn!' * 100)
            raise error
        return execute

    def test_revert_copy_failure_keeps_volume(self):
        volume, snapshot = self._snapshotted()
        before = sha256(self._path(volume))
        failure = processutils.ProcessExecutionError(exit_code=1,
                                                     stderr='EIO')
        with mock.patch.object(self.driver, '_execute',
                               side_effect=self._partial_copy_then(failure)):
            self.assertRaises(processutils.ProcessExecutionError,
                              self.driver.revert_to_snapshot, self.context,
                              volume, snapshot)
        self.assertEqual(before, sha256(self._path(volume)))
        self.assertFalse(os.path.exists(self._path(volume) + '.new'))

    def test_revert_reflink_enospc_keeps_volume(self):
        volume, snapshot = self._snapshotted()
        before = sha256(self._path(volume))
        self.mock_object(self.driver, '_can_reflink', return_value=True)
        self.mock_object(driver.reflink, 'clone_into', side_effect=OSError(
            errno.ENOSPC, 'No space left on device'))
        self.assertRaises(exception.NoSpaceOnLun,
                          self.driver.revert_to_snapshot, self.context,
                          volume, snapshot)
        self.assertEqual(before, sha256(self._path(volume)))
        self.assertEqual(units.Gi, os.stat(self._path(volume)).st_size)

    def test_revert_takes_a_safety_snapshot_for_raw(self):
        self.assertTrue(self.driver.snapshot_revert_use_temp_snapshot())
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        self.assertFalse(self.driver.snapshot_revert_use_temp_snapshot())

    def test_revert_leftover_of_killed_process_is_replaced(self):
        volume, snapshot = self._snapshotted()
        with open(self._path(volume) + '.new', 'wb') as leftover:
            leftover.write(b'half a revert')
        self.driver.revert_to_snapshot(self.context, volume, snapshot)
        self.assertEqual(b'snapshot data',
                         self._read(self._path(volume), 13))
        self.assertFalse(os.path.exists(self._path(volume) + '.new'))
        # ... and a delete removes one left by a later kill.
        with open(self._path(volume) + '.new', 'wb'):
            pass
        self.driver.delete_volume(volume)
        self.assertEqual([], [name for name in os.listdir(
            os.path.join(self.node.base, 'lun1')) if volume.name in name])

    def _image(self, *create_args, pattern=None):
        path = os.path.join(self.images, 'image.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', *create_args,
                        path, '64M'], check=True, capture_output=True)
        if pattern:
            subprocess.run(['qemu-io', '-f', 'qcow2', '-c',
                            'write -P %d 0 4k' % pattern, path],
                           check=True, capture_output=True)
        return path

    def _reimage(self, volume, image):
        volume.previous_status = 'available'
        volume.status = 'downloading'
        self.driver.copy_image_to_volume(
            self.context, volume, FakeImageService(image, 'qcow2'),
            str(uuid.uuid4()), disable_sparse=True)

    def test_reimage_replaces_data_keeps_mode(self):
        volume = self._created(data=b'old data')
        self._reimage(volume, self._image(pattern=0x42))
        path = self._path(volume)
        self.assertEqual(b'\x42' * 4096, self._read(path, 4096, offset=0))
        # Zeroes of the image are zeroes in the volume, not old data.
        self.assertEqual(b'\0' * 8, self._read(path, 8))
        info = os.stat(path)
        self.assertEqual((units.Gi, 0o660),
                         (info.st_size, stat.S_IMODE(info.st_mode)))
        # Written sparse: a new file, so skipping zeroes is correct.
        self.assertLess(info.st_blocks * 512, 1 * MiB)

    def test_reimage_with_refused_image_keeps_data(self):
        volume = self._created(data=b'old data')
        before = sha256(self._path(volume))
        secret = os.path.join(self.images, 'host-secret')
        with open(secret, 'wb') as f:
            f.write(b'host data')
        image = self._image('-b', secret, '-F', 'raw')
        self.assertRaises(
            (cinder_exception.ImageUnacceptable, cinder_exception.Invalid),
            self._reimage, volume, image)
        self.assertEqual(before, sha256(self._path(volume)))
        self.assertFalse(os.path.exists(self._path(volume) + '.new'))

    @ddt.data(errno.ENOSPC, errno.EIO)
    def test_reimage_write_failure_keeps_data(self, error):
        volume = self._created(data=b'old data')
        before = sha256(self._path(volume))
        real_convert = driver.image_utils.convert_image

        def convert_then_fail(source, dest, *args, **kwargs):
            real_convert(source, dest, *args, **kwargs)
            raise OSError(error, os.strerror(error))
        self.mock_object(driver.image_utils, 'convert_image',
                         side_effect=convert_then_fail)
        self.assertRaises((OSError, cinder_exception.CinderException),
                          self._reimage, volume, self._image(pattern=1))
        self.assertEqual(before, sha256(self._path(volume)))

    def test_reimage_from_volume_backed_image_replaces_zeroes(self):
        # cinder copies the image's snapshot into the volume in place and
        # sparsely: the driver first swaps in a full copy of the snapshot.
        image_volume = self._created(size=1)
        image_snapshot = self._snapshot(image_volume)
        self.driver.create_snapshot(image_snapshot)
        volume = self._created(size=1, data=b'old data')
        volume.status = 'downloading'
        base = self.mock_object(base_driver.BaseVD,
                                '_create_temp_volume_from_snapshot',
                                return_value='temporary volume')
        self.assertEqual('temporary volume',
                         self.driver._create_temp_volume_from_snapshot(
                             self.context, volume, image_snapshot))
        base.assert_called_once()
        self.assertEqual(b'\0' * 8, self._read(self._path(volume), 8))

    def test_temp_volume_for_other_uses_leaves_volume_alone(self):
        image_volume = self._created(size=1)
        image_snapshot = self._snapshot(image_volume)
        self.driver.create_snapshot(image_snapshot)
        volume = self._created(size=1, data=b'old data',
                               status='backing-up')
        self.mock_object(base_driver.BaseVD,
                         '_create_temp_volume_from_snapshot')
        self.driver._create_temp_volume_from_snapshot(
            self.context, volume, image_snapshot)
        self.assertEqual(b'old data', self._read(self._path(volume), 8))

    def test_backup_of_attached_volume_without_reflink_refused(self):
        # A backup sets the status of an attached volume to backing-up.
        source = self._created(status='backing-up')
        source.attach_status = 'attached'
        clone = self._volume()
        self.assertRaises(exception.OCFS2DriverError,
                          self.driver.create_cloned_volume, clone, source)
        snapshot = self._snapshot(source)
        self.assertRaises(exception.OCFS2DriverError,
                          self.driver.create_snapshot, snapshot)

    @ddt.data('clone', 'snapshot', 'manage')
    def test_thick_volumes_of_the_same_size(self, how):
        self.override_config('ocfs2_sparse_volumes', False, group=GROUP)
        source = self._created(size=1, data=b'thick data')
        new = self._volume(size=1)
        if how == 'clone':
            self.driver.create_cloned_volume(new, source)
        elif how == 'snapshot':
            snapshot = self._snapshot(source)
            self.driver.create_snapshot(snapshot)
            self.driver.create_volume_from_snapshot(new, snapshot)
        else:
            existing = os.path.join(self.node.base, 'lun1', 'thick-disk')
            os.rename(self._path(source), existing)
            self.driver.manage_existing(new, {'source-name': 'thick-disk'})
        self.assertEqual(b'thick data', self._read(self._path(new), 10))
        self.assertEqual(units.Gi, os.stat(self._path(new)).st_size)


class Qcow2SafetyTestCase(Qcow2TestBase):
    """qcow2 chains are never overwritten or handed out as something else."""

    def _snapshotted(self):
        volume = self._created(size=1)
        volume.admin_metadata = {'format': 'qcow2'}
        snapshot = self._snapshot(volume)
        self.driver.create_snapshot(snapshot)
        snapshot.status = 'available'
        return volume, snapshot

    def test_volume_from_qcow2_snapshot_recorded_qcow2(self):
        volume, snapshot = self._snapshotted()
        # The operator switches new volumes back to raw.
        self.override_config('ocfs2_volume_format', 'raw', group=GROUP)
        new = self._volume(size=1)
        self.driver.create_volume_from_snapshot(new, snapshot)
        self.assertEqual('qcow2', new.admin_metadata['format'])
        self.assertRaises(exception.UnsupportedAttachFormat,
                          self.driver.initialize_connection, new, {})

    def test_reimage_of_qcow2_volume_with_snapshots_refused(self):
        volume, snapshot = self._snapshotted()
        files = sorted(os.listdir(os.path.join(self.node.base, 'lun1')))
        sums = {name: sha256(os.path.join(self.node.base, 'lun1', name))
                for name in files if name.startswith(volume.name)}
        volume.previous_status = 'available'
        image_service = mock.Mock()
        self.assertRaises(exception.VolumeChainNotReimageable,
                          self.driver.copy_image_to_volume, self.context,
                          volume, image_service, 'image-1')
        image_service.download.assert_not_called()
        self.assertEqual(files, sorted(os.listdir(
            os.path.join(self.node.base, 'lun1'))))
        self.assertEqual(sums, {name: sha256(os.path.join(
            self.node.base, 'lun1', name)) for name in sums})
        self.assertEqual('qcow2', volume.admin_metadata['format'])

    def test_file_recorded_qcow2_must_be_qcow2(self):
        volume = self._created(size=1)
        volume.admin_metadata = {'format': 'qcow2'}
        # The file became raw while the record still says qcow2.
        os.unlink(self._path(volume))
        with open(self._path(volume), 'wb') as raw:
            raw.truncate(units.Gi)
        self.assertRaises(exception.VolumeFormatMismatch,
                          self.driver.extend_volume, volume, 2)
        self.assertEqual(units.Gi, os.stat(self._path(volume)).st_size)


CLUSTER = 'labcluster@ocfs2'


class MembersTestCase(DriverTestBase):
    """In a cinder cluster a pool is offered only if every member can."""

    def setUp(self):
        super().setUp()
        self.driver.host = 'node2@ocfs2'
        self.driver.cluster_name = CLUSTER
        self.luns = [self.node.mount(pool) for pool in ('lun1', 'lun2')]

    def _pools(self):
        return {pool['pool_name']: pool
                for pool in self.driver.get_volume_stats(True)['pools']}

    def _other_member(self, seconds_ago=0, used=('lun1', 'lun2'),
                      **unusable):
        member_views.publish(self.luns, CLUSTER, member_views.MemberView(
            host='node1@ocfs2', unusable=unusable, used=tuple(used),
            written_at=timeutils.utcnow(with_timezone=True) -
            datetime.timedelta(seconds=seconds_ago)))

    def test_pool_read_only_on_another_member_is_down_everywhere(self):
        self._other_member(lun1='/x/lun1 is mounted read-only')
        pools = self._pools()
        self.assertEqual(('down', 'up'), (pools['lun1']['pool_state'],
                                          pools['lun2']['pool_state']))
        self.assertIn('member node1@ocfs2 of this backend cannot use it: '
                      '/x/lun1 is mounted read-only',
                      pools['lun1']['pool_down_reason'])
        self.assertEqual(0, pools['lun1']['free_capacity_gb'])
        # Once it can use the pool again, so can the scheduler.
        self._other_member()
        self.assertEqual('up', self._pools()['lun1']['pool_state'])

    def test_stale_view_of_a_stopped_member_is_ignored(self):
        self._other_member(seconds_ago=600, lun1='read-only')
        self.assertEqual('up', self._pools()['lun1']['pool_state'])

    def test_own_problems_are_shared(self):
        self.node.mount('lun3', read_only=True)
        # Another member uses lun4, which this node does not mount at all.
        self._other_member(used=('lun1', 'lun2', 'lun4'))
        self._pools()
        views = {view.host: view for view in
                 member_views.read_views(self.luns[:1], CLUSTER)}
        mine = views['node2@ocfs2']
        self.assertEqual(['lun3', 'lun4'], sorted(mine.unusable))
        self.assertIn('read-only', mine.unusable['lun3'])
        self.assertIn('is not mounted on node2@ocfs2', mine.unusable['lun4'])
        self.assertEqual(('lun1', 'lun2'), mine.used)

    def test_no_views_outside_a_cinder_cluster(self):
        self.driver.cluster_name = None
        self._other_member(lun1='read-only')
        self.assertEqual('up', self._pools()['lun1']['pool_state'])
        self.assertEqual(['node1@ocfs2'], [
            view.host for view in member_views.read_views(self.luns[:1],
                                                          CLUSTER)])


class CreateConvergesTestCase(DriverTestBase):
    """A create that fails or is retried leaves nothing a delete misses."""

    def setUp(self):
        super().setUp()
        self.node.mount('lun1')
        self.node.mount('lun2')

    def test_failed_record_leaves_no_file_and_no_location(self):
        volume = self._volume(provider_location=False)
        self.save.side_effect = cinder_exception.VolumeNotFound(
            volume_id=volume.id)
        self.assertRaises(cinder_exception.VolumeNotFound,
                          self.driver.create_volume, volume)
        self.assertIsNone(volume.provider_location)
        self.assertFalse(os.path.exists(self._path(volume, 'lun1')))

    def test_retried_create_replaces_its_own_leftover(self):
        volume = self._volume(provider_location=False)
        with open(self._path(volume, 'lun1'), 'wb') as leftover:
            leftover.write(b'first attempt')
        self.driver.create_volume(volume)
        path = self._path(volume, 'lun1')
        self.assertEqual(b'\0' * 13, self._read(path, 13, offset=0))

    def test_delete_without_location_removes_files_on_any_lun(self):
        volume = self._volume(provider_location=False)
        for pool in ('lun1', 'lun2'):
            with open(self._path(volume, pool), 'wb'):
                pass
        self.driver.delete_volume(volume)
        for pool in ('lun1', 'lun2'):
            self.assertFalse(os.path.exists(self._path(volume, pool)))

    def test_delete_removes_the_lock_file(self):
        volume = self._created()
        self.driver.delete_volume(volume)
        self.assertEqual([], os.listdir(os.path.join(
            self.node.base, 'lun1', locks.LOCK_DIR_NAME)))
