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

"""Generic volume groups and group snapshots (driver_groups), on real files.

As in test_driver: only the mount table and the cinder database saves are
faked. The group types live in cinder's test database, so the driver's
check of consistent_group_snapshot_enabled runs as in a service. Full
copies stand in for reflinks here (the lab tests the reflink path).
"""

import contextlib
import hashlib
import json
import os
import subprocess
from unittest import mock
import uuid

from oslo_config import cfg
from oslo_utils import importutils
from oslo_utils import units

from cinder import exception as cinder_exception
from cinder import objects
from cinder.tests.unit import fake_constants
from cinder.tests.unit import fake_group
from cinder.tests.unit import fake_group_snapshot
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
from cinder.tests.unit import utils as tests_utils
from cinder.volume import group_types

from cinder_ocfs2 import exception
from cinder_ocfs2 import locks
from cinder_ocfs2.tests.unit import test_driver
from cinder_ocfs2 import volume_files

CONF = cfg.CONF
GROUP = test_driver.GROUP
# Before any test switches them off.
VOLUME_SAVE = objects.Volume.save
SNAPSHOT_SAVE = objects.Snapshot.save
MiB = units.Mi
HEAD = 8 * MiB
CONSISTENT = {'consistent_group_snapshot_enabled': '<is> True'}


def sha256(path):
    """sha256 of a file's first 8 MiB (holes after them), and its size.

    The tests write below 8 MiB; hashing whole 1 GiB files would take
    seconds each on a loaded machine.
    """
    with open(path, 'rb') as data:
        return (hashlib.sha256(data.read(HEAD)).hexdigest(),
                os.fstat(data.fileno()).st_size)


class GroupTestBase(test_driver.TwoLunsTestBase):
    """lun1 and lun2 mounted; a plain and a consistent group type."""

    def setUp(self):
        super().setUp()
        self.mock_object(objects.Snapshot, 'save')
        self.plain_type = group_types.create(self.context, 'plain')['id']
        self.consistent_type = group_types.create(
            self.context, 'consistent', CONSISTENT)['id']
        self.group = self._group()

    def _group(self, group_type=None):
        return fake_group.fake_group_obj(
            self.context, id=str(uuid.uuid4()),
            group_type_id=group_type or self.plain_type)

    def _members(self, *pools, data=True):
        """Volumes on the given pools, in volume id order, with data."""
        ids = sorted(str(uuid.uuid4()) for _ in pools)
        volumes = []
        for number, (volume_id, pool) in enumerate(zip(ids, pools)):
            volume = fake_volume.fake_volume_obj(
                self.context, id=volume_id, host='node1@ocfs2#%s' % pool,
                size=1, status='available', provider_location=None,
                group_id=self.group.id)
            volume.admin_metadata = {'format': 'raw'}
            volume.update(self.driver.create_volume(volume))
            if data:
                self._write(volume, b'member %d' % number)
            volumes.append(volume)
        return volumes

    def _group_snapshot(self, volumes, group=None):
        group = group or self.group
        group_snapshot = fake_group_snapshot.fake_group_snapshot_obj(
            self.context, id=str(uuid.uuid4()), group_id=group.id,
            group_type_id=group.group_type_id)
        snapshots = []
        for volume in volumes:
            snapshot = fake_snapshot.fake_snapshot_obj(
                self.context, id=str(uuid.uuid4()), volume_id=volume.id,
                volume_size=volume.size,
                group_snapshot_id=group_snapshot.id)
            snapshot.volume = volume
            snapshots.append(snapshot)
        return group_snapshot, snapshots

    def _snapshot_file(self, snapshot):
        return os.path.join(self.node.base,
                            snapshot.volume.provider_location, snapshot.name)

    def _new_volumes(self, sources, field, pool='lun1'):
        """The volumes cinder makes for a group from a source.

        cinder gives every one the new group's host, so one pool.
        """
        group = self._group()
        volumes = []
        for source in sources:
            volume = fake_volume.fake_volume_obj(
                self.context, id=str(uuid.uuid4()),
                host='node1@ocfs2#%s' % pool, size=1, status='creating',
                provider_location=None, group_id=group.id,
                **{field: source.id})
            volume.admin_metadata = {}
            volumes.append(volume)
        return group, volumes

    def _files_everywhere(self):
        """Every file on every LUN, but hidden ones (locks, marker)."""
        found = set()
        for pool in os.listdir(self.node.base):
            for name in os.listdir(os.path.join(self.node.base, pool)):
                if not name.startswith('.'):
                    found.add('%s/%s' % (pool, name))
        return found


class GroupTestCase(GroupTestBase):

    def test_create_and_update_group_change_nothing_on_the_luns(self):
        before = self._files_everywhere()
        self.assertEqual({'status': 'available'},
                         self.driver.create_group(self.context, self.group))
        members = self._members('lun1', 'lun2', data=False)
        self.assertEqual((None, None, None), self.driver.update_group(
            self.context, self.group, add_volumes=members[:1],
            remove_volumes=members[1:]))
        self.assertEqual(before | {'lun1/' + members[0].name,
                                   'lun2/' + members[1].name},
                         self._files_everywhere())

    def test_delete_group_deletes_members_on_both_luns(self):
        members = self._members('lun1', 'lun2', 'lun1')
        model, updates = self.driver.delete_group(self.context, self.group,
                                                  members)
        self.assertEqual({'status': 'deleted'}, model)
        self.assertEqual(sorted((volume.id, 'deleted') for volume in members),
                         sorted((u['id'], u['status']) for u in updates))
        self.assertEqual(set(), self._files_everywhere())

    def test_delete_group_one_failure_others_still_go(self):
        members = self._members('lun1', 'lun2', 'lun1')
        self.node.umount('lun2')
        model, updates = self.driver.delete_group(self.context, self.group,
                                                  members)
        self.assertEqual({'status': 'error'}, model)
        statuses = {update['id']: update['status'] for update in updates}
        self.assertEqual({members[0].id: 'deleted',
                          members[1].id: 'error_deleting',
                          members[2].id: 'deleted'}, statuses)
        self.assertFalse(os.path.exists(self._path(members[0])))
        self.assertFalse(os.path.exists(self._path(members[2])))
        # Mounted again, the retry deletes it; the others count as gone.
        self.node.mount('lun2')
        model, updates = self.driver.delete_group(self.context, self.group,
                                                  members)
        self.assertEqual({'status': 'deleted'}, model)
        self.assertEqual(set(), self._files_everywhere())

    def test_delete_empty_group(self):
        self.assertEqual(({'status': 'deleted'}, []),
                         self.driver.delete_group(self.context, self.group,
                                                  []))


class GroupSnapshotTestCase(GroupTestBase):

    def test_members_on_two_luns_snapshotted_bytes_equal(self):
        members = self._members('lun1', 'lun2', 'lun1')
        before = [sha256(self._path(volume)) for volume in members]
        group_snapshot, snapshots = self._group_snapshot(members)
        model, updates = self.driver.create_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'available'}, model)
        self.assertEqual(
            sorted((snap.id, 'available', snap.volume.provider_location)
                   for snap in snapshots),
            sorted((u['id'], u['status'], u['provider_location'])
                   for u in updates))
        for volume in members:
            self._write(volume, b'changed after the group snapshot')
        for snapshot, digest in zip(snapshots, before):
            path = self._snapshot_file(snapshot)
            self.assertEqual(digest, sha256(path))
            self.assertEqual(units.Gi, os.stat(path).st_size)

    def test_each_member_under_its_own_lock_one_at_a_time(self):
        members = self._members('lun2', 'lun1', 'lun2')
        group_snapshot, snapshots = self._group_snapshot(members)
        held, copied = [], []
        real_lock, real_copy = locks.cluster_lock, volume_files.copy_raw

        @contextlib.contextmanager
        def tracked_lock(lun_path, name, *args, **kwargs):
            with real_lock(lun_path, name, *args, **kwargs) as lock:
                held.append(name)
                try:
                    yield lock
                finally:
                    held.remove(name)

        def tracked_copy(execute, source, target, *args, **kwargs):
            copied.append((os.path.basename(source), list(held)))
            return real_copy(execute, source, target, *args, **kwargs)

        self.mock_object(locks, 'cluster_lock', tracked_lock)
        self.mock_object(volume_files, 'copy_raw', tracked_copy)
        # Given in another order, snapshotted in volume id order.
        self.driver.create_group_snapshot(self.context, group_snapshot,
                                          snapshots[::-1])
        self.assertEqual([(volume.name, [volume.name]) for volume in members],
                         copied)

    def test_failure_midway_removes_what_was_made(self):
        members = self._members('lun1', 'lun2', 'lun1')
        before = self._files_everywhere()
        digests = [sha256(self._path(volume)) for volume in members]
        group_snapshot, snapshots = self._group_snapshot(members)
        real_copy = volume_files._copy_into
        calls = []

        def third_fails(execute, source, target, use_reflink):
            calls.append(target)
            if len(calls) == 3:
                # Some bytes written, then the failure.
                with open(target, 'wb') as partial:
                    partial.write(b'torn')
                raise OSError(5, 'Input/output error')
            return real_copy(execute, source, target, use_reflink)

        self.mock_object(volume_files, '_copy_into', third_fails)
        model, updates = self.driver.create_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual(sorted((snap.id, 'error') for snap in snapshots),
                         sorted((u['id'], u['status']) for u in updates))
        # Two snapshots were made before the third failed: no file of any
        # of the three is left, and the volumes are as they were.
        self.assertEqual([self._snapshot_file(snap) for snap in snapshots],
                         calls)
        self.assertEqual(before, self._files_everywhere())
        self.assertEqual(digests,
                         [sha256(self._path(volume)) for volume in members])

    def test_failure_of_a_missing_member_file_leaves_no_snapshot(self):
        members = self._members('lun1', 'lun2', 'lun2')
        os.unlink(self._path(members[1]))
        before = self._files_everywhere()
        group_snapshot, snapshots = self._group_snapshot(members)
        with mock.patch('cinder_ocfs2.driver_groups.LOG') as log:
            model, updates = self.driver.create_group_snapshot(
                self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual({'error'}, {u['status'] for u in updates})
        self.assertEqual(before, self._files_everywhere())
        message = log.error.call_args[0][0] % log.error.call_args[0][1]
        self.assertIn('snapshot of volume %s failed' % members[1].id,
                      message)
        self.assertIn('deleting the 1 member snapshot(s)', message)

    def test_undo_that_fails_is_logged_and_still_error(self):
        members = self._members('lun1', 'lun2')
        os.unlink(self._path(members[1]))
        group_snapshot, snapshots = self._group_snapshot(members)
        self.mock_object(self.driver, 'delete_snapshot',
                         side_effect=OSError(5, 'Input/output error'))
        model, updates = self.driver.create_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual({'error'}, {u['status'] for u in updates})
        self.driver.delete_snapshot.assert_called_once_with(snapshots[0])

    def test_delete_group_snapshot(self):
        members = self._members('lun1', 'lun2')
        before = self._files_everywhere()
        group_snapshot, snapshots = self._group_snapshot(members)
        self.driver.create_group_snapshot(self.context, group_snapshot,
                                          snapshots)
        os.unlink(self._snapshot_file(snapshots[1]))
        model, updates = self.driver.delete_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'deleted'}, model)
        self.assertEqual({'deleted'}, {u['status'] for u in updates})
        self.assertEqual(before, self._files_everywhere())

    def test_delete_group_snapshot_one_failure_others_still_go(self):
        members = self._members('lun1', 'lun2')
        group_snapshot, snapshots = self._group_snapshot(members)
        self.driver.create_group_snapshot(self.context, group_snapshot,
                                          snapshots)
        self.node.umount('lun1')
        model, updates = self.driver.delete_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual({snapshots[0].id: 'error_deleting',
                          snapshots[1].id: 'deleted'},
                         {u['id']: u['status'] for u in updates})
        self.assertFalse(os.path.exists(self._snapshot_file(snapshots[1])))

    def test_empty_group_snapshot(self):
        group_snapshot, _ = self._group_snapshot([])
        self.assertEqual(({'status': 'available'}, []),
                         self.driver.create_group_snapshot(
                             self.context, group_snapshot, []))


class Qcow2MemberTestCase(GroupTestBase):
    """qcow2 members take the per-volume RemoteFS overlay path."""

    def _qcow2_member(self, volumes):
        self.override_config('ocfs2_volume_format', 'qcow2', group=GROUP)
        volume = fake_volume.fake_volume_obj(
            self.context, id=str(uuid.uuid4()), host='node1@ocfs2#lun1',
            size=1, status='available', provider_location=None,
            group_id=self.group.id)
        volume.admin_metadata = {'format': 'qcow2'}
        volume.update(self.driver.create_volume(volume))
        self.override_config('ocfs2_volume_format', 'raw', group=GROUP)
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c',
                        'write -P 0x5a 1M 64k', self._path(volume)],
                       check=True, capture_output=True)
        volumes.append(volume)
        return volume

    def _active(self, volume):
        info = self._path(volume) + '.info'
        if not os.path.exists(info):
            return volume.name
        with open(info) as info_file:
            return json.load(info_file)['active']

    def test_qcow2_and_raw_members(self):
        members = self._members('lun2')
        qcow2 = self._qcow2_member(members)
        group_snapshot, snapshots = self._group_snapshot(members)
        model, updates = self.driver.create_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'available'}, model)
        qcow2_snapshot = [snap for snap in snapshots
                          if snap.volume_id == qcow2.id][0]
        self.assertEqual(qcow2.name + '.' + qcow2_snapshot.id,
                         self._active(qcow2))
        model, updates = self.driver.delete_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'deleted'}, model)
        self.assertEqual(qcow2.name, self._active(qcow2))

    def test_failure_after_a_qcow2_member_restores_its_chain(self):
        members = []
        qcow2 = self._qcow2_member(members)
        # A raw member after it in id order, whose file is missing.
        raw_id = 'f' * 8 + qcow2.id[8:]
        raw = fake_volume.fake_volume_obj(
            self.context, id=raw_id, host='node1@ocfs2#lun2', size=1,
            status='available', provider_location='lun2')
        raw.admin_metadata = {'format': 'raw'}
        members.append(raw)
        group_snapshot, snapshots = self._group_snapshot(members)
        model, _ = self.driver.create_group_snapshot(
            self.context, group_snapshot, snapshots)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual(qcow2.name, self._active(qcow2))
        self.assertEqual([qcow2.name, qcow2.name + '.info'], sorted(
            name for name in os.listdir(os.path.join(self.node.base, 'lun1'))
            if name.startswith(qcow2.name)))
        result = subprocess.run(
            ['qemu-io', '-f', 'qcow2', '-c', 'read -P 0x5a 1M 64k',
             self._path(qcow2)], capture_output=True, text=True)
        self.assertNotIn('Pattern verification failed', result.stdout)
        self.assertEqual(0, result.returncode)


class GroupFromSourceTestCase(GroupTestBase):

    def _snapshotted(self):
        members = self._members('lun1', 'lun2')
        digests = {volume.id: sha256(self._path(volume))
                   for volume in members}
        group_snapshot, snapshots = self._group_snapshot(members)
        self.driver.create_group_snapshot(self.context, group_snapshot,
                                          snapshots)
        for volume in members:
            self._write(volume, b'changed after the group snapshot')
        return group_snapshot, snapshots, digests

    def test_from_group_snapshot(self):
        group_snapshot, snapshots, digests = self._snapshotted()
        group, volumes = self._new_volumes(snapshots, 'snapshot_id')
        model, updates = self.driver.create_group_from_src(
            self.context, group, volumes, group_snapshot=group_snapshot,
            snapshots=snapshots)
        self.assertEqual({'status': 'available'}, model)
        self.assertEqual(sorted((volume.id, 'available', 'lun1')
                                for volume in volumes),
                         sorted((u['id'], u['status'],
                                 u['provider_location']) for u in updates))
        for volume, snapshot in zip(volumes, snapshots):
            self.assertEqual(digests[snapshot.volume_id],
                             sha256(self._path(volume, 'lun1')))
            self.assertEqual('raw', volume.admin_metadata['format'])

    def test_from_source_group(self):
        members = self._members('lun1', 'lun2')
        digests = [sha256(self._path(volume)) for volume in members]
        # Given in another order than the volumes: paired by source_volid.
        group, volumes = self._new_volumes(members, 'source_volid',
                                           pool='lun2')
        model, updates = self.driver.create_group_from_src(
            self.context, group, volumes, source_group=self.group,
            source_vols=members[::-1])
        self.assertEqual({'status': 'available'}, model)
        self.assertEqual({'lun2'}, {u['provider_location'] for u in updates})
        self.assertEqual(digests, [sha256(self._path(volume, 'lun2'))
                                   for volume in volumes])
        self.assertEqual(digests, [sha256(self._path(volume))
                                   for volume in members])

    def test_failure_midway_removes_the_new_volumes_only(self):
        group_snapshot, snapshots, _ = self._snapshotted()
        group, volumes = self._new_volumes(snapshots, 'snapshot_id')
        # The last new volume (in id order) fails during its copy.
        last = max(volumes, key=lambda volume: volume.id)
        before = self._files_everywhere()
        sources = {path: sha256(os.path.join(self.node.base, path))
                   for path in before}
        real_grow = volume_files.grow_raw

        def grow(path, *args, **kwargs):
            if os.path.basename(path) == last.name:
                raise OSError(28, 'No space left on device')
            return real_grow(path, *args, **kwargs)

        self.mock_object(volume_files, 'grow_raw', grow)
        err = self.assertRaises(
            exception.GroupMemberFailed, self.driver.create_group_from_src,
            self.context, group, volumes, group_snapshot=group_snapshot,
            snapshots=snapshots)
        self.assertIn('volume %s' % last.id, str(err))
        self.assertIn('The 1 volume(s) this request had created were '
                      'removed', str(err))
        self.assertEqual(before, self._files_everywhere())
        self.assertEqual(sources, {path: sha256(os.path.join(
            self.node.base, path)) for path in before})
        self.assertEqual({None}, {volume.provider_location
                                  for volume in volumes})

    def test_failure_of_a_missing_source_file(self):
        members = self._members('lun1', 'lun2')
        os.unlink(self._path(members[0]))
        before = self._files_everywhere()
        group, volumes = self._new_volumes(members, 'source_volid')
        self.assertRaises(exception.GroupMemberFailed,
                          self.driver.create_group_from_src, self.context,
                          group, volumes, source_group=self.group,
                          source_vols=members)
        self.assertEqual(before, self._files_everywhere())

    def test_volume_without_its_source_refused_before_anything(self):
        members = self._members('lun1', 'lun2')
        before = self._files_everywhere()
        group, volumes = self._new_volumes(members, 'source_volid')
        self.assertRaises(cinder_exception.InvalidInput,
                          self.driver.create_group_from_src, self.context,
                          group, volumes, source_group=self.group,
                          source_vols=members[:1])
        self.assertRaises(cinder_exception.InvalidInput,
                          self.driver.create_group_from_src, self.context,
                          group, volumes)
        self.assertEqual(before, self._files_everywhere())


class ConsistentTypeTestCase(GroupTestBase):
    """A group type asking for consistent group snapshots is refused."""

    def test_create_group_refused(self):
        group = self._group(self.consistent_type)
        err = self.assertRaises(exception.ConsistentGroupSnapshotUnsupported,
                                self.driver.create_group, self.context,
                                group)
        self.assertIn('consistent_group_snapshot_enabled', str(err))
        self.assertIn('Use a group type without that spec', str(err))
        self.assertIsInstance(err, cinder_exception.CinderException)

    def test_update_group_allowed_to_empty_an_older_group(self):
        group = self._group(self.consistent_type)
        members = self._members('lun1')
        self.assertEqual((None, None, None), self.driver.update_group(
            self.context, group, remove_volumes=members))

    def test_group_snapshot_refused_before_anything(self):
        self.group = self._group(self.consistent_type)
        members = self._members('lun1', 'lun2')
        before = self._files_everywhere()
        group_snapshot, snapshots = self._group_snapshot(members)
        self.assertRaises(exception.ConsistentGroupSnapshotUnsupported,
                          self.driver.create_group_snapshot, self.context,
                          group_snapshot, snapshots)
        self.assertEqual(before, self._files_everywhere())

    def test_group_from_source_refused_before_anything(self):
        members = self._members('lun1')
        group, volumes = self._new_volumes(members, 'source_volid')
        group.group_type_id = self.consistent_type
        before = self._files_everywhere()
        self.assertRaises(exception.ConsistentGroupSnapshotUnsupported,
                          self.driver.create_group_from_src, self.context,
                          group, volumes, source_group=self.group,
                          source_vols=members)
        self.assertEqual(before, self._files_everywhere())

    def test_delete_is_never_refused(self):
        group = self._group(self.consistent_type)
        self.assertEqual(({'status': 'deleted'}, []),
                         self.driver.delete_group(self.context, group, []))

    def test_pools_report_no_consistent_group_snapshots(self):
        pools = self.driver.get_volume_stats(True)['pools']
        self.assertEqual(['lun1', 'lun2'],
                         sorted(pool['pool_name'] for pool in pools))
        self.assertEqual({False}, {pool['consistent_group_snapshot_enabled']
                                   for pool in pools})


class ThroughVolumeManagerTestCase(GroupTestBase):
    """cinder 29's volume manager driving the group calls, database real.

    What the manager does with each return value and exception is what
    the operator sees: these tests read the statuses back from cinder's
    (test) database.
    """

    def setUp(self):
        super().setUp()
        # DriverTestBase switched saves off; the manager needs them.
        self.mock_object(objects.Volume, 'save', VOLUME_SAVE)
        self.mock_object(objects.Snapshot, 'save', SNAPSHOT_SAVE)
        self.manager = importutils.import_object(CONF.volume_manager)
        self.manager.driver = self.driver
        self.manager.stats = {'allocated_capacity_gb': 0, 'pools': {}}
        self.driver.set_initialized()
        self.group = tests_utils.create_group(
            self.context, host=self._host('lun1'),
            group_type_id=self.plain_type,
            volume_type_ids=[fake_constants.VOLUME_TYPE_ID])

    def _host(self, pool):
        return '%s#%s' % (self.manager.host, pool)

    def _db_members(self, *pools, group=None, status='available', **extra):
        volumes = []
        for number, pool in enumerate(pools):
            volume = tests_utils.create_volume(
                self.context, host=self._host(pool), status=status,
                group_id=(group or self.group).id,
                admin_metadata={'format': 'raw'}, **extra)
            if status == 'available':
                volume.update(self.driver.create_volume(volume))
                volume.save()
                self._write(volume, b'member %d' % number)
            volumes.append(volume)
        return volumes

    def _db_group_snapshot(self, volumes):
        group_snapshot = tests_utils.create_group_snapshot(
            self.context, self.group.id, group_type_id=self.plain_type)
        snapshots = [tests_utils.create_snapshot(
            self.context, volume.id, group_snapshot_id=group_snapshot.id)
            for volume in volumes]
        return group_snapshot, snapshots

    def _status(self, cls, some_id):
        return cls.get_by_id(self.context, some_id).status

    def test_group_snapshot_and_failure_as_the_operator_sees_them(self):
        members = self._db_members('lun1', 'lun2')
        group_snapshot, snapshots = self._db_group_snapshot(members)
        self.manager.create_group_snapshot(self.context, group_snapshot)
        self.assertEqual('available', self._status(objects.GroupSnapshot,
                                                   group_snapshot.id))
        for snapshot in snapshots:
            snapshot = objects.Snapshot.get_by_id(self.context, snapshot.id)
            self.assertEqual('available', snapshot.status)
            self.assertTrue(os.path.exists(self._snapshot_file(snapshot)))
        # A member's file disappears: the next group snapshot fails and
        # leaves no file; all its snapshots are 'error'.
        os.unlink(self._path(members[1]))
        before = self._files_everywhere()
        failed, failed_snapshots = self._db_group_snapshot(members)
        self.assertRaises(cinder_exception.VolumeDriverException,
                          self.manager.create_group_snapshot, self.context,
                          failed)
        self.assertEqual('error', self._status(objects.GroupSnapshot,
                                               failed.id))
        self.assertEqual({'error'}, {
            self._status(objects.Snapshot, snapshot.id)
            for snapshot in failed_snapshots})
        self.assertEqual(before, self._files_everywhere())
        # ... and deleting the failed group snapshot succeeds.
        failed.status = 'deleting'
        failed.save()
        self.manager.delete_group_snapshot(self.context, failed)
        self.assertRaises(cinder_exception.GroupSnapshotNotFound,
                          objects.GroupSnapshot.get_by_id, self.context,
                          failed.id)

    def test_group_from_group_snapshot_and_its_failure(self):
        members = self._db_members('lun1', 'lun2')
        group_snapshot, snapshots = self._db_group_snapshot(members)
        self.manager.create_group_snapshot(self.context, group_snapshot)
        new_group = tests_utils.create_group(
            self.context, host=self._host('lun1'),
            group_type_id=self.plain_type, status='creating',
            group_snapshot_id=group_snapshot.id)
        made = [tests_utils.create_volume(
            self.context, host=self._host('lun1'), status='creating',
            group_id=new_group.id, snapshot_id=snapshot.id)
            for snapshot in snapshots]
        self.manager.create_group_from_src(self.context, new_group,
                                           group_snapshot=group_snapshot)
        self.assertEqual('available', self._status(objects.Group,
                                                   new_group.id))
        for volume, source in zip(made, members):
            volume = objects.Volume.get_by_id(self.context, volume.id)
            self.assertEqual(('available', 'lun1'),
                             (volume.status, volume.provider_location))
            self.assertEqual(sha256(self._path(source)),
                             sha256(self._path(volume)))
        # A source snapshot's file is gone: every new volume is 'error'
        # and none has a file.
        os.unlink(self._snapshot_file(snapshots[1]))
        before = self._files_everywhere()
        broken = tests_utils.create_group(
            self.context, host=self._host('lun2'),
            group_type_id=self.plain_type, status='creating',
            group_snapshot_id=group_snapshot.id)
        failing = [tests_utils.create_volume(
            self.context, host=self._host('lun2'), status='creating',
            group_id=broken.id, snapshot_id=snapshot.id)
            for snapshot in snapshots]
        self.assertRaises(exception.GroupMemberFailed,
                          self.manager.create_group_from_src, self.context,
                          broken, group_snapshot=group_snapshot)
        self.assertEqual('error', self._status(objects.Group, broken.id))
        self.assertEqual({('error', None)}, {
            (volume.status, volume.provider_location) for volume in
            (objects.Volume.get_by_id(self.context, each.id)
             for each in failing)})
        self.assertEqual(before, self._files_everywhere())

    def test_group_from_source_group(self):
        members = self._db_members('lun1', 'lun2')
        new_group = tests_utils.create_group(
            self.context, host=self._host('lun2'),
            group_type_id=self.plain_type, status='creating',
            source_group_id=self.group.id)
        made = [tests_utils.create_volume(
            self.context, host=self._host('lun2'), status='creating',
            group_id=new_group.id, source_volid=source.id)
            for source in members]
        self.manager.create_group_from_src(self.context, new_group,
                                           source_group=self.group)
        for volume, source in zip(made, members):
            volume = objects.Volume.get_by_id(self.context, volume.id)
            self.assertEqual(('available', 'lun2'),
                             (volume.status, volume.provider_location))
            self.assertEqual(sha256(self._path(source)),
                             sha256(self._path(volume)))

    def test_consistent_type_refused_group_in_error(self):
        group = tests_utils.create_group(
            self.context, host=self._host('lun1'),
            group_type_id=self.consistent_type, status='creating')
        self.assertRaises(exception.ConsistentGroupSnapshotUnsupported,
                          self.manager.create_group, self.context, group)
        self.assertEqual('error', self._status(objects.Group, group.id))

    def test_consistent_type_group_snapshot_refused_in_error(self):
        # A group of that type made before (by cinder's generic code).
        self.group.group_type_id = self.consistent_type
        self.group.save()
        members = self._db_members('lun1', 'lun2')
        before = self._files_everywhere()
        group_snapshot = tests_utils.create_group_snapshot(
            self.context, self.group.id, group_type_id=self.consistent_type)
        snapshots = [tests_utils.create_snapshot(
            self.context, volume.id, group_snapshot_id=group_snapshot.id)
            for volume in members]
        self.assertRaises(exception.ConsistentGroupSnapshotUnsupported,
                          self.manager.create_group_snapshot, self.context,
                          group_snapshot)
        self.assertEqual('error', self._status(objects.GroupSnapshot,
                                               group_snapshot.id))
        self.assertEqual({'error'}, {
            self._status(objects.Snapshot, snapshot.id)
            for snapshot in snapshots})
        self.assertEqual(before, self._files_everywhere())

    def test_delete_group_with_its_volumes(self):
        members = self._db_members('lun1', 'lun2')
        self.group.status = 'deleting'
        self.group.save()
        self.manager.delete_group(self.context, self.group)
        self.assertEqual(set(), self._files_everywhere())
        for volume in members:
            self.assertRaises(cinder_exception.VolumeNotFound,
                              objects.Volume.get_by_id, self.context,
                              volume.id)
