# Copyright 2026 The cinder-ocfs2 Authors.
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

"""Snapshot manage, unmanage and the manageable-snapshots listing.

Real files in a fake mount table, and cinder's test database for the
check that a snapshot-<id> file belongs to no other snapshot.
"""

import errno
import os
import stat
import subprocess
from unittest import mock
import uuid

from oslo_utils import units

from cinder import exception as cinder_exception
from cinder import objects
from cinder.tests.unit import utils as test_utils

from cinder_ocfs2 import exception
from cinder_ocfs2.tests.unit import test_driver
from cinder_ocfs2 import volume_files

MiB = units.Mi
Invalid = cinder_exception.ManageExistingInvalidReference


class ManageSnapshotTestCase(test_driver.DriverTestBase):

    def setUp(self):
        super().setUp()
        self.node.mount('lun1')
        self.node.mount('lun2')
        self.lun1 = os.path.join(self.node.base, 'lun1')
        self.volume = self._created(size=2, data=b'volume now')

    def _file(self, name, size=units.Gi, data=b'as it was', lun='lun1'):
        path = os.path.join(self.node.base, lun, name)
        with open(path, 'wb') as new:
            new.truncate(size)
            new.seek(MiB)
            new.write(data)
        os.chmod(path, 0o640)
        return path

    def _names(self, lun='lun1'):
        return sorted(name for name in
                      os.listdir(os.path.join(self.node.base, lun))
                      if not name.startswith('.'))

    def _manage(self, ref, volume=None):
        """As cinder's manage flow: the size first, then the manage."""
        snapshot = self._snapshot(volume or self.volume)
        size = self.driver.manage_existing_snapshot_get_size(snapshot, ref)
        update = self.driver.manage_existing_snapshot(snapshot, ref)
        snapshot.update(update)
        snapshot.volume_size = size
        return snapshot

    def _refused(self, ref, expected, volume=None):
        snapshot = self._snapshot(volume or self.volume)
        before = self._names()
        for call in (self.driver.manage_existing_snapshot_get_size,
                     self.driver.manage_existing_snapshot):
            err = self.assertRaises(Invalid, call, snapshot, ref)
            self.assertIn(expected, str(err))
        self.assertEqual(before, self._names())
        return err

    def _snap_path(self, snapshot, lun='lun1'):
        return os.path.join(self.node.base, lun, snapshot.name)

    # -- manage ------------------------------------------------------------

    def test_manage_by_name_renames_and_keeps_bytes_and_size(self):
        source = self._file('ops.snap', size=3 * units.Gi // 2)
        snapshot = self._manage({'source-name': 'ops.snap'})
        self.assertEqual(('lun1', 2),
                         (snapshot.provider_location, snapshot.volume_size))
        self.assertFalse(os.path.exists(source))
        path = self._snap_path(snapshot)
        info = os.stat(path)
        # Only the name and the mode change: a revert or a volume from the
        # snapshot sets the size of its copy.
        self.assertEqual((3 * units.Gi // 2, 0o660, 1),
                         (info.st_size, stat.S_IMODE(info.st_mode),
                          info.st_nlink))
        self.assertEqual(b'as it was', self._read(path, 9))

    def test_manage_by_absolute_path_rounds_up_to_whole_gib(self):
        source = self._file('small.snap', size=10 * MiB)
        snapshot = self._manage({'source-name': source})
        self.assertEqual(1, snapshot.volume_size)
        self.assertEqual(10 * MiB, os.stat(self._snap_path(snapshot)).st_size)

    def test_manage_holds_the_volume_lock(self):
        self._file('locked.snap')
        lock = self.mock_object(self.driver, '_lock',
                                wraps=self.driver._lock)
        self._manage({'source-name': 'locked.snap'})
        lun, volume_id, operation = lock.call_args[0]
        self.assertEqual(('lun1', self.volume.id, 'manage_existing_snapshot'),
                         (lun.pool, volume_id, operation))

    def test_managed_snapshot_serves_revert_and_new_volumes(self):
        self._file('ops.snap', size=2 * units.Gi)
        snapshot = self._manage({'source-name': 'ops.snap'})
        self.driver.revert_to_snapshot(self.context, self.volume, snapshot)
        self.assertEqual(b'as it was', self._read(self._path(self.volume), 9))
        new = self._volume(size=3)
        self.driver.create_volume_from_snapshot(new, snapshot)
        self.assertEqual(b'as it was', self._read(self._path(new), 9))
        self.assertEqual(3 * units.Gi, os.stat(self._path(new)).st_size)

    def test_larger_than_the_volume_is_refused(self):
        self._file('big.snap', size=2 * units.Gi + 1)
        self._refused({'source-name': 'big.snap'},
                      'more than volume %s (2 GiB)' % self.volume.id)

    def test_file_on_another_lun_is_refused_saying_so(self):
        source = self._file('other.snap', lun='lun2')
        for ref in ({'source-name': source}, {'source-name': 'other.snap'}):
            err = self._refused(ref, 'is on the LUN of pool lun2')
            self.assertIn('reflink', str(err))
        self.assertTrue(os.path.exists(source))

    def test_file_outside_the_lun_root_is_refused(self):
        os.mkdir(os.path.join(self.lun1, 'subdir'))
        inner = self._file('subdir/inner.snap')
        self._refused({'source-name': inner},
                      'is not in the root directory of the LUN of volume')
        self._refused({'source-name': '/tmp/elsewhere.snap'},
                      'is not in the root directory of the LUN of volume')

    def test_bad_references_are_refused(self):
        os.mkdir(os.path.join(self.lun1, 'subdir'))
        self._refused({}, 'give the file as source-name')
        self._refused({'source-id': str(uuid.uuid4())},
                      'give the file as source-name')
        self._refused({'source-name': 'missing.snap'}, 'there is no file')
        self._refused({'source-name': 'subdir/inner.snap'},
                      'is not a plain file name')
        self._refused({'source-name': 'subdir'}, 'is not a regular file')

    def test_driver_files_are_refused(self):
        # The driver's hidden files: the LUN marker, lock files, views.
        for name in ('.cinder-ocfs2-lun',
                     '.cinder-ocfs2-locks/volume-%s' % self.volume.id,
                     os.path.join(self.lun1, '.cinder-ocfs2-lun')):
            self._refused({'source-name': name}, 'is not a plain file name')
        # A volume's file, its own volume's included, and its parts.
        for name in (self.volume.name, 'volume-%s' % uuid.uuid4(),
                     'volume-%s.info' % uuid.uuid4(),
                     'volume-%s.%s' % (uuid.uuid4(), uuid.uuid4()),
                     'volume-%s.new' % uuid.uuid4()):
            if not os.path.exists(os.path.join(self.lun1, name)):
                self._file(name)
            self._refused({'source-name': name},
                          'named as a cinder volume\'s file')
        self.assertEqual(b'volume now', self._read(self._path(self.volume),
                                                   10))

    def test_symlink_is_refused(self):
        target = self._file('real.snap')
        os.symlink(target, os.path.join(self.lun1, 'link.snap'))
        self._refused({'source-name': 'link.snap'}, 'is a symbolic link')

    def test_second_hard_link_is_refused(self):
        # e.g. "ln volume-<id> my.snap": writes to the volume would change
        # the snapshot.
        os.link(self._path(self.volume), os.path.join(self.lun1, 'ln.snap'))
        self._refused({'source-name': 'ln.snap'}, 'has 2 hard links')

    def test_image_formats_are_refused_without_touching_them(self):
        if not test_driver.HAVE_QEMU_IMG:
            self.skipTest('qemu-img is not installed')
        path = os.path.join(self.lun1, 'disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '1G'],
                       check=True, capture_output=True)
        before = os.stat(path)
        self._refused({'source-name': 'disk.qcow2'},
                      'looks like a qcow2 image')
        after = os.stat(path)
        self.assertEqual((before.st_ino, before.st_size, before.st_mode),
                         (after.st_ino, after.st_size, after.st_mode))

    def test_file_of_another_snapshot_is_refused(self):
        volume = test_utils.create_volume(self.context,
                                          host='node1@ocfs2#lun1')
        owner = test_utils.create_snapshot(self.context, volume.id)
        self._file(owner.name)
        self._refused({'source-name': owner.name},
                      'is the file of cinder snapshot %s of volume %s; '
                      'unmanage that snapshot first' % (owner.id, volume.id))
        # Once cinder forgot it (unmanaged), it may be managed again.
        owner.destroy()
        snapshot = self._manage({'source-name': owner.name})
        self.assertEqual([snapshot.name, self.volume.name], self._names())

    def test_qcow2_volume_is_refused(self):
        volume = self._volume(size=2, volume_format='qcow2')
        self._file('ops.snap')
        self._refused({'source-name': 'ops.snap'},
                      'is a qcow2 volume, whose snapshots are overlays',
                      volume=volume)

    def test_unmounted_lun_is_refused(self):
        self._file('ops.snap')
        self.node.umount('lun1')
        snapshot = self._snapshot(self.volume)
        self.assertRaises(cinder_exception.VolumeDriverException,
                          self.driver.manage_existing_snapshot_get_size,
                          snapshot, {'source-name': 'ops.snap'})

    def test_failure_midway_keeps_the_old_name_and_mode(self):
        source = self._file('ops.snap')
        snapshot = self._snapshot(self.volume)
        # The last step: the old name is gone already when it fails.
        self.mock_object(volume_files, 'sync_directory',
                         side_effect=OSError(errno.EIO, 'I/O error'))
        self.assertRaises(OSError, self.driver.manage_existing_snapshot,
                          snapshot, {'source-name': 'ops.snap'})
        self.assertEqual(['ops.snap', self.volume.name], self._names())
        info = os.stat(source)
        self.assertEqual((0o640, 1), (stat.S_IMODE(info.st_mode),
                                      info.st_nlink))
        self.assertEqual(b'as it was', self._read(source, 9))

    def test_failure_before_the_old_name_goes_keeps_it(self):
        source = self._file('ops.snap')
        snapshot = self._snapshot(self.volume)
        # Removing the old name fails; then the new name is removed.
        with mock.patch.object(os, 'unlink', wraps=os.unlink) as unlink:
            unlink.side_effect = [OSError(errno.EIO, 'I/O error'),
                                  mock.DEFAULT]
            self.assertRaises(OSError, self.driver.manage_existing_snapshot,
                              snapshot, {'source-name': 'ops.snap'})
        self.assertEqual([mock.call(source),
                          mock.call(self._snap_path(snapshot))],
                         unlink.call_args_list)
        self.assertEqual(['ops.snap', self.volume.name], self._names())
        self.assertEqual(0o640, stat.S_IMODE(os.stat(source).st_mode))

    def test_existing_snapshot_file_is_never_replaced(self):
        self._file('ops.snap')
        snapshot = self._snapshot(self.volume)
        with open(self._snap_path(snapshot), 'wb') as existing:
            existing.write(b'keep me')
        err = self.assertRaises(Invalid,
                                self.driver.manage_existing_snapshot,
                                snapshot, {'source-name': 'ops.snap'})
        self.assertIn('already exists', str(err))
        with open(self._snap_path(snapshot), 'rb') as existing:
            self.assertEqual(b'keep me', existing.read())
        self.assertIn('ops.snap', self._names())

    # -- unmanage ----------------------------------------------------------

    def test_unmanage_then_manage_round_trip(self):
        # As tempest's test: manage_snapshot_ref = source-name, snapshot-%s
        old = self._snapshot(self.volume)
        old.update(self.driver.create_snapshot(old))
        self.driver.unmanage_snapshot(old)
        self.assertTrue(os.path.exists(self._snap_path(old)))
        again = self._manage({'source-name': 'snapshot-%s' % old.id})
        self.assertEqual(2, again.volume_size)
        self.assertFalse(os.path.exists(self._snap_path(old)))
        self.assertEqual(b'volume now', self._read(self._snap_path(again),
                                                   10))

    def test_unmanage_works_with_the_lun_unmounted(self):
        old = self._snapshot(self.volume)
        old.update(self.driver.create_snapshot(old))
        self.node.umount('lun1')
        self.driver.unmanage_snapshot(old)
        self.assertTrue(os.path.exists(self._snap_path(old)))

    def test_unmanage_of_a_qcow2_snapshot_is_refused(self):
        volume = self._volume(volume_format='qcow2')
        err = self.assertRaises(cinder_exception.SnapshotIsBusy,
                                self.driver.unmanage_snapshot,
                                self._snapshot(volume))
        self.assertIsInstance(err, exception.SnapshotInQcow2Chain)
        self.assertIn('backing chain', str(err))

    # -- listing -----------------------------------------------------------

    def test_get_manageable_snapshots(self):
        managed = self._snapshot(self.volume)
        managed.update(self.driver.create_snapshot(managed))
        free = self._file('free.snap', size=units.Gi + 1)
        unmanaged = self._file('snapshot-%s' % uuid.uuid4())
        os.link(unmanaged, os.path.join(self.lun1, 'twice.snap'))
        os.symlink(free, os.path.join(self.lun1, 'link.snap'))
        self._file('volume-%s.info' % self.volume.id)
        os.mkdir(os.path.join(self.lun1, 'somedir'))
        other = self._file('other.snap', lun='lun2')
        listed = self.driver.get_manageable_snapshots(
            [managed], None, 1000, 0, ['reference'], ['asc'])
        by_path = {entry['reference']['source-name']: entry
                   for entry in listed}
        self.assertEqual(
            sorted([self._snap_path(managed), free, unmanaged, other,
                    os.path.join(self.lun1, 'twice.snap'),
                    os.path.join(self.lun1, 'link.snap')]),
            sorted(by_path))
        self.assertEqual(
            {'reference': {'source-name': self._snap_path(managed)},
             'size': 2, 'safe_to_manage': False,
             'reason_not_safe': 'Snapshot already managed.',
             'cinder_id': managed.id, 'extra_info': {'pool': 'lun1'},
             'source_reference': {'source-name': self._path(self.volume)}},
            by_path[self._snap_path(managed)])
        self.assertEqual(
            {'reference': {'source-name': free}, 'size': 2,
             'safe_to_manage': True, 'reason_not_safe': None,
             'cinder_id': None, 'extra_info': {'pool': 'lun1'},
             'source_reference': {'source-name': None}},
            by_path[free])
        self.assertEqual((True, {'pool': 'lun2'}),
                         (by_path[other]['safe_to_manage'],
                          by_path[other]['extra_info']))
        for name, reason in (('twice.snap', 'has 2 hard links'),
                             ('link.snap', 'is a symbolic link')):
            entry = by_path[os.path.join(self.lun1, name)]
            self.assertFalse(entry['safe_to_manage'])
            self.assertIn(reason, entry['reason_not_safe'])
        # cinder turns every entry into a ManageableSnapshot.
        objects.ManageableSnapshotList.from_primitives(self.context, listed)

    def test_get_manageable_snapshots_paginates(self):
        for name in ('a.snap', 'b.snap', 'c.snap'):
            self._file(name)
        listed = self.driver.get_manageable_snapshots(
            [], {'source-name': os.path.join(self.lun1, 'a.snap')}, 1, 0,
            ['reference'], ['asc'])
        self.assertEqual([os.path.join(self.lun1, 'b.snap')],
                         [entry['reference']['source-name']
                          for entry in listed])
