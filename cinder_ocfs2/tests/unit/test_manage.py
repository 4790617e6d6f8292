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

"""Manage, unmanage, the manageable-volumes listing and retype.

Real files in a fake mount table, and cinder's test database for the
check that a file belongs to no other volume.
"""

import errno
import os
import stat
import subprocess
import uuid

from oslo_utils import units

from cinder.db import api as db_api
from cinder import exception as cinder_exception
from cinder import objects
from cinder.tests.unit import utils as test_utils

from cinder_ocfs2 import manageable
from cinder_ocfs2.tests.unit import test_driver
from cinder_ocfs2 import volume_files

MiB = units.Mi
GROUP = test_driver.GROUP


class ManageTestCase(test_driver.DriverTestBase):

    def setUp(self):
        super().setUp()
        self.node.mount('lun1')
        self.node.mount('lun2')
        self.lun1 = os.path.join(self.node.base, 'lun1')

    def _file(self, name, size=3 * units.Gi // 2, data=b'managed data',
              lun='lun1'):
        path = os.path.join(self.node.base, lun, name)
        with open(path, 'wb') as new:
            new.truncate(size)
            new.seek(MiB)
            new.write(data)
        return path

    def _manage(self, ref, pool='lun1'):
        volume = self._volume(pool=pool, provider_location=False)
        if pool is None:
            volume.host = 'node1@ocfs2'
        size = self.driver.manage_existing_get_size(volume, ref)
        # As cinder's manage flow: the size is recorded after the call.
        volume.size = 0
        volume.update(self.driver.manage_existing(volume, ref))
        volume.size = size
        return volume

    def _refused(self, ref, expected, pool='lun1'):
        volume = self._volume(pool=pool, provider_location=False)
        for call in (self.driver.manage_existing_get_size,
                     self.driver.manage_existing):
            err = self.assertRaises(
                cinder_exception.ManageExistingInvalidReference,
                call, volume, ref)
            self.assertIn(expected, str(err))

    def test_manage_by_name_renames_and_grows_to_whole_gib(self):
        source = self._file('imported.img')
        volume = self._manage({'source-name': 'imported.img'})
        self.assertEqual(2, volume.size)
        self.assertEqual('lun1', volume.provider_location)
        self.assertFalse(os.path.exists(source))
        path = self._path(volume)
        self.assertEqual(2 * units.Gi, os.stat(path).st_size)
        self.assertEqual(0o660, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(b'managed data', self._read(path, 12))
        self.assertEqual('raw', volume.admin_metadata['format'])

    def test_manage_without_pool_finds_the_lun(self):
        # openstack volume create --remote-source ... --cluster c@ocfs2
        source = self._file('on-lun2.img', lun='lun2')
        volume = self._manage({'source-name': 'on-lun2.img'}, pool=None)
        self.assertEqual(('lun2', 'node1@ocfs2#lun2'),
                         (volume.provider_location, volume.host))
        self.assertFalse(os.path.exists(source))
        volume = self._manage(
            {'source-name': self._file('by-path.img', lun='lun2')},
            pool=None)
        self.assertEqual('lun2', volume.provider_location)

    def test_manage_without_pool_needs_one_holder(self):
        volume = self._volume(provider_location=False)
        volume.host = 'node1@ocfs2'
        self._file('twice.img', lun='lun1')
        self._file('twice.img', lun='lun2')
        for ref, expected in (({'source-name': 'twice.img'},
                               'found on pools lun1, lun2'),
                              ({'source-name': 'nowhere.img'},
                               'no usable LUN')):
            err = self.assertRaises(
                cinder_exception.ManageExistingInvalidReference,
                self.driver.manage_existing_get_size, volume, ref)
            self.assertIn(expected, str(err))

    def test_manage_by_absolute_path(self):
        source = self._file('by-path.img', size=units.Gi)
        volume = self._manage({'source-name': source})
        self.assertEqual(1, volume.size)
        self.assertEqual(b'managed data', self._read(self._path(volume), 12))

    def test_manage_path_on_another_lun_is_refused(self):
        source = self._file('elsewhere.img', lun='lun2')
        self._refused({'source-name': source},
                      'is not in the root directory of this pool')
        self.assertTrue(os.path.exists(source))

    def test_manage_refuses_bad_references(self):
        os.mkdir(os.path.join(self.lun1, 'subdir'))
        self._file('subdir/inner.img')
        self._refused({}, 'give the file as source-name')
        self._refused({'source-id': 'x'}, 'give the file as source-name')
        self._refused({'source-name': 'missing.img'}, 'there is no file')
        self._refused({'source-name': 'subdir/inner.img'},
                      'is not a plain file name')
        self._refused({'source-name': '.cinder-ocfs2-lun'},
                      'is not a plain file name')
        self._refused({'source-name': 'subdir'}, 'is not a regular file')

    def test_manage_refuses_symlink(self):
        target = self._file('real.img')
        os.symlink(target, os.path.join(self.lun1, 'link.img'))
        self._refused({'source-name': 'link.img'}, 'is a symbolic link')

    def test_manage_refuses_snapshot_files(self):
        for name in ('snapshot-%s' % uuid.uuid4(),
                     'volume-%s.%s' % (uuid.uuid4(), uuid.uuid4()),
                     'volume-%s.info' % uuid.uuid4()):
            self._file(name)
            self._refused({'source-name': name}, 'is a snapshot')

    def test_manage_refuses_image_formats_without_touching_them(self):
        if not test_driver.HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        path = os.path.join(self.lun1, 'disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '1G'],
                       check=True, capture_output=True)
        before = os.stat(path)
        self._refused({'source-name': 'disk.qcow2'},
                      'looks like a qcow2 image')
        after = os.stat(path)
        self.assertEqual((before.st_ino, before.st_size),
                         (after.st_ino, after.st_size))

    def test_partitioned_raw_disk_is_manageable(self):
        self.assertIsNone(manageable.format_problem(self._file('plain.img')))

    def test_manage_refuses_file_of_another_volume(self):
        owner = test_utils.create_volume(self.context, host='node1@ocfs2#lun1')
        name = 'volume-%s' % owner.id
        self._file(name)
        self._refused({'source-name': name}, 'unmanage that volume first')
        owner.destroy()
        volume = self._manage({'source-name': name})
        self.assertTrue(os.path.exists(self._path(volume)))

    def test_manage_refuses_file_of_a_migrated_volume(self):
        name_id = str(uuid.uuid4())
        owner = test_utils.create_volume(self.context, host='node1@ocfs2#lun1')
        # Volume.save is mocked out by the base class; write the row.
        db_api.volume_update(self.context, owner.id, {'_name_id': name_id})
        self._file('volume-%s' % name_id)
        self._refused({'source-name': 'volume-%s' % name_id},
                      'file of cinder volume %s' % owner.id)

    def test_failed_manage_keeps_the_old_name(self):
        source = self._file('keep-name.img')
        volume = self._volume(pool='lun1', provider_location=False)
        self.mock_object(volume_files, 'grow_raw',
                         side_effect=OSError(errno.EIO, 'I/O error'))
        self.assertRaises(OSError, self.driver.manage_existing, volume,
                          {'source-name': 'keep-name.img'})
        self.assertEqual(['keep-name.img'],
                         [name for name in os.listdir(self.lun1)
                          if not name.startswith('.')])
        self.assertEqual(b'managed data', self._read(source, 12))

    def test_manage_never_replaces_an_existing_file(self):
        source = self._file('new.img')
        volume = self._volume(pool='lun1', provider_location=False)
        volume.size = 2
        with open(os.path.join(self.lun1, volume.name), 'wb') as existing:
            existing.write(b'keep me')
        self.assertRaises(cinder_exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, volume,
                          {'source-name': 'new.img'})
        self.assertTrue(os.path.exists(source))
        with open(os.path.join(self.lun1, volume.name), 'rb') as existing:
            self.assertEqual(b'keep me', existing.read())

    def test_manage_on_unmounted_pool_is_refused(self):
        self._file('imported.img')
        self.node.umount('lun1')
        volume = self._volume(pool='lun1', provider_location=False)
        self.assertRaises(cinder_exception.VolumeDriverException,
                          self.driver.manage_existing_get_size, volume,
                          {'source-name': 'imported.img'})

    def test_unmanage_then_manage_round_trip(self):
        volume = self._created(data=b'round trip')
        path = self._path(volume)
        self.driver.unmanage(volume)
        self.assertTrue(os.path.exists(path))
        again = self._manage({'source-name': volume.name})
        self.assertFalse(os.path.exists(path))
        self.assertEqual(b'round trip', self._read(self._path(again), 10))

    def test_get_manageable_volumes(self):
        volume = self._created()
        self._file('free.img', size=units.Gi + 1)
        self._file('volume-%s.%s' % (volume.id, uuid.uuid4()))
        self._file('snapshot-%s' % uuid.uuid4())
        os.mkdir(os.path.join(self.lun1, 'somedir'))
        self._file('other.img', lun='lun2', size=units.Gi)
        listed = self.driver.get_manageable_volumes(
            [volume], None, 1000, 0, ['reference'], ['asc'])
        by_path = {entry['reference']['source-name']: entry
                   for entry in listed}
        self.assertEqual(
            sorted([self._path(volume), os.path.join(self.lun1, 'free.img'),
                    os.path.join(self.node.base, 'lun2', 'other.img')]),
            sorted(by_path))
        managed = by_path[self._path(volume)]
        self.assertEqual((False, volume.id),
                         (managed['safe_to_manage'], managed['cinder_id']))
        free = by_path[os.path.join(self.lun1, 'free.img')]
        self.assertEqual((True, 2, None, {'pool': 'lun1'}),
                         (free['safe_to_manage'], free['size'],
                          free['cinder_id'], free['extra_info']))
        # cinder turns every entry into a ManageableVolume.
        objects.ManageableVolumeList.from_primitives(self.context, listed)


class RetypeTestCase(test_driver.DriverTestBase):

    def test_retype_in_the_same_pool_keeps_the_host(self):
        volume = self._volume(pool='lun1')
        retyped, update = self.driver.retype(
            self.context, volume, {'name': 'gold'}, {},
            {'host': 'node2@ocfs2#lun1', 'cluster_name': 'c@ocfs2#lun1'})
        self.assertTrue(retyped)
        self.assertEqual({'host': 'node1@ocfs2#lun1'}, update)

    def test_retype_to_another_pool_needs_migration(self):
        volume = self._volume(pool='lun1')
        self.assertEqual(
            (False, None),
            self.driver.retype(self.context, volume, {'name': 'gold'}, {},
                               {'host': 'node1@ocfs2#lun2'}))

    def test_multiattach_reported_for_raw_backends_only(self):
        self.node.mount('lun1')
        self.driver._update_volume_stats()
        self.assertTrue(self.driver._stats['pools'][0]['multiattach'])
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        self.driver._update_volume_stats()
        self.assertFalse(self.driver._stats['pools'][0]['multiattach'])
