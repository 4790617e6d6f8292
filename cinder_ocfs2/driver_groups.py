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

"""Generic volume groups and group snapshots of OCFS2Driver.

A group is a record in cinder's database only: nothing on the LUNs names
it, and its volumes may be on different LUNs. The group operations
orchestrate the driver's per-volume operations, which they never
duplicate: a group snapshot calls ``create_snapshot`` for each member (a
reflink on the member's own LUN, under the member's cluster-wide lock, as
for a single snapshot), a group from a source calls
``create_volume_from_snapshot`` or ``create_cloned_volume`` per volume,
and a group's delete calls ``delete_volume``.

What a group snapshot guarantees: each member's snapshot is an exact
point-in-time image of that member (OCFS2's reflink takes the file's
cluster locks, so no write from any node is half in it), and the members
are snapshotted one after another, in volume id order, each instantly.
The members' instants differ (by milliseconds per member; the log gives
the time from the first to the last): there is NO common point in time
across members. OCFS2 cannot reflink a frozen filesystem (a reflink
writes metadata), so the driver cannot pause guest writes around the
whole group. Applications that need one instant across volumes must be
quiesced (e.g. fsfreeze in the guest, or the database's own backup mode)
while the group snapshot runs. So the pools report
``consistent_group_snapshot_enabled: False``, and a group type that asks
for consistent group snapshots
(``consistent_group_snapshot_enabled="<is> True"``) is refused.

All or nothing: when a member fails, the group operation removes what it
had made (the other members' snapshots, or the volumes it created), and
never changes a source volume.

qcow2 volumes go through the same per-volume path (RemoteFS overlay
chains); since the driver never attaches a qcow2 volume, no guest writes
to one while it is snapshotted. Undoing a qcow2 member's snapshot is the
driver's ``delete_snapshot``, which commits the empty new overlay back
into the volume's chain: the volume's data is unchanged.
"""

import time

from oslo_log import log as logging

from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder.objects import fields
from cinder.volume import volume_utils

from cinder_ocfs2 import exception

LOG = logging.getLogger(__name__)

GROUP_AVAILABLE = fields.GroupStatus.AVAILABLE
GROUP_ERROR = fields.GroupStatus.ERROR
GROUP_DELETED = fields.GroupStatus.DELETED
SNAPSHOT_AVAILABLE = fields.SnapshotStatus.AVAILABLE
SNAPSHOT_ERROR = fields.SnapshotStatus.ERROR
SNAPSHOT_DELETED = fields.SnapshotStatus.DELETED
SNAPSHOT_ERROR_DELETING = fields.SnapshotStatus.ERROR_DELETING
VOLUME_AVAILABLE = 'available'
VOLUME_DELETED = 'deleted'
VOLUME_ERROR_DELETING = 'error_deleting'


class GroupsMixin:
    """Generic volume group operations; mixed into OCFS2Driver.

    Uses the driver's create_snapshot, delete_snapshot,
    create_volume_from_snapshot, create_cloned_volume and delete_volume.

    A group type that asks for consistent group snapshots is refused with
    ConsistentGroupSnapshotUnsupported, not with NotImplementedError: on
    NotImplementedError cinder 29's volume manager falls back to its
    generic code, which would create the group and then snapshot its
    members one by one, silently giving less than the type asked for.
    (cinder's scheduler does not filter groups on this capability: group
    specs are not matched against pool capabilities.) Deleting and
    updating such a group are never refused.
    """

    # -- groups ------------------------------------------------------------

    def create_group(self, context, group):
        """Accept a group: it exists only in cinder's database.

        :raises ConsistentGroupSnapshotUnsupported: the group type asks
            for consistent group snapshots. cinder sets the group to
            'error'; the message is in cinder-volume's log.
        """
        self._refuse_consistent_type(group, 'create group %s' % group.id)
        LOG.info('Group %s created: its volumes may be on any LUN of this '
                 'backend; its snapshots are consistent per volume only.',
                 group.id)
        return {'status': GROUP_AVAILABLE}

    def update_group(self, context, group, add_volumes=None,
                     remove_volumes=None):
        """Nothing changes on the LUNs; cinder records the membership.

        Never refused, not even for a group type asking for consistent
        group snapshots: a group of such a type made before this driver
        refused them (cinder's generic code accepted it) must still be
        emptied, to delete it or to move its volumes to another group.
        """
        return None, None, None

    def delete_group(self, context, group, volumes):
        """Delete every member volume; a failure does not stop the others.

        :returns: (model_update, volumes_model_update). A volume whose
            delete failed is 'error_deleting' (as after a failed volume
            delete; cinder then sets the group to 'error'); deleting the
            group again retries it, and the volumes already deleted count
            as deleted again.
        """
        updates = [self._delete_member(group, volume)
                   for volume in sorted(volumes, key=lambda vol: vol.id)]
        failed = [update['id'] for update in updates
                  if update['status'] != VOLUME_DELETED]
        if failed:
            LOG.error('Group %(group)s: %(count)d of %(total)d volume(s) '
                      'could not be deleted (%(ids)s); the others were. '
                      'Delete the group again once the cause is corrected.',
                      {'group': group.id, 'count': len(failed),
                       'total': len(updates), 'ids': ', '.join(failed)})
            return {'status': GROUP_ERROR}, updates
        LOG.info('Group %(group)s: deleted its %(count)d volume(s).',
                 {'group': group.id, 'count': len(updates)})
        return {'status': GROUP_DELETED}, updates

    def _delete_member(self, group, volume):
        try:
            self.delete_volume(volume)
        except Exception as err:
            LOG.error('Group %(group)s: could not delete volume %(vol)s: '
                      '%(err)s', {'group': group.id, 'vol': volume.id,
                                  'err': err})
            return {'id': volume.id, 'status': VOLUME_ERROR_DELETING}
        return {'id': volume.id, 'status': VOLUME_DELETED}

    # -- group snapshots ---------------------------------------------------

    def create_group_snapshot(self, context, group_snapshot, snapshots):
        """Snapshot each member in turn, by the per-volume create_snapshot.

        Each member is reflinked on its own LUN under its own cluster-wide
        lock, taken and released by create_snapshot: one lock is held at a
        time, so no two group operations can deadlock. Each member's
        snapshot is a point-in-time image of that member; the members'
        instants differ (see the module docstring): the group snapshot is
        NOT crash-consistent across members.

        :returns: (model_update, snapshots_model_update). If a member
            fails, the snapshots already made are deleted again, so every
            member is returned 'error' (none has a file), and cinder sets
            the group snapshot to 'error'; deleting it then succeeds.
        :raises ConsistentGroupSnapshotUnsupported: the group type asks
            for consistent group snapshots; cinder sets the group
            snapshot and its snapshots to 'error'.
        """
        self._refuse_consistent_type(
            group_snapshot, 'snapshot group %s' % group_snapshot.group_id)
        made = []
        started = time.monotonic()
        for snapshot in sorted(snapshots, key=lambda snap: snap.volume_id):
            try:
                update = self.create_snapshot(snapshot) or {}
            except Exception as err:
                self._undo_snapshots(group_snapshot, snapshot, err, made)
                return ({'status': GROUP_ERROR},
                        [{'id': each.id, 'status': SNAPSHOT_ERROR}
                         for each in snapshots])
            made.append((snapshot, update))
        LOG.info('Group snapshot %(id)s: %(count)d member(s) snapshotted '
                 'one after another within %(spread).3f s; each is '
                 'consistent on its own, not with the others.',
                 {'id': group_snapshot.id, 'count': len(made),
                  'spread': time.monotonic() - started})
        return ({'status': GROUP_AVAILABLE},
                [dict(update, id=snapshot.id, status=SNAPSHOT_AVAILABLE)
                 for snapshot, update in made])

    def _undo_snapshots(self, group_snapshot, failed, err, made):
        """Delete the member snapshots a failed group snapshot made.

        The failed member's own create_snapshot has removed its partial
        file already (volume_files.new_file); the volumes are untouched.
        """
        LOG.error('Group snapshot %(id)s: snapshot of volume %(vol)s '
                  'failed (%(err)s); deleting the %(count)d member '
                  'snapshot(s) it had made.',
                  {'id': group_snapshot.id, 'vol': failed.volume_id,
                   'err': err, 'count': len(made)})
        for snapshot, _update in reversed(made):
            try:
                self.delete_snapshot(snapshot)
            except Exception as undo_err:
                LOG.error('Group snapshot %(id)s: could not delete member '
                          'snapshot %(snap)s of volume %(vol)s: %(err)s; '
                          'deleting the group snapshot retries it.',
                          {'id': group_snapshot.id, 'snap': snapshot.id,
                           'vol': snapshot.volume_id, 'err': undo_err})

    def delete_group_snapshot(self, context, group_snapshot, snapshots):
        """Delete each member snapshot; a failure does not stop the others.

        :returns: (model_update, snapshots_model_update); a snapshot whose
            delete failed is 'error_deleting', and deleting the group
            snapshot again retries it (a snapshot without a file counts
            as deleted).
        """
        updates = []
        for snapshot in sorted(snapshots, key=lambda snap: snap.volume_id):
            try:
                self.delete_snapshot(snapshot)
                updates.append({'id': snapshot.id,
                                'status': SNAPSHOT_DELETED})
            except Exception as err:
                LOG.error('Group snapshot %(id)s: could not delete member '
                          'snapshot %(snap)s: %(err)s',
                          {'id': group_snapshot.id, 'snap': snapshot.id,
                           'err': err})
                updates.append({'id': snapshot.id,
                                'status': SNAPSHOT_ERROR_DELETING})
        if any(update['status'] != SNAPSHOT_DELETED for update in updates):
            return {'status': GROUP_ERROR}, updates
        LOG.info('Group snapshot %(id)s: deleted its %(count)d member '
                 'snapshot(s).', {'id': group_snapshot.id,
                                  'count': len(updates)})
        return {'status': GROUP_DELETED}, updates

    # -- groups from a source ----------------------------------------------

    def create_group_from_src(self, context, group, volumes,
                              group_snapshot=None, snapshots=None,
                              source_group=None, source_vols=None):
        """Make each volume from its member snapshot or source volume.

        Each new volume goes where cinder placed it (its host's pool; for
        a group from a source cinder gives every volume the source
        group's pool): from a source on the same LUN it is a reflink,
        from one on another LUN a full copy, as for a single volume.

        All or nothing: if one volume fails, the volumes made so far and
        any file of the failed one (all named after volumes this request
        creates) are removed, and GroupMemberFailed is raised. Raising is
        what makes cinder 29 mark the group and its volumes 'error': for
        this call its manager applies the returned model updates and then
        sets every volume 'available', whatever their status said.

        :returns: (model_update, volumes_model_update) on success.
        :raises ConsistentGroupSnapshotUnsupported: the group type asks
            for consistent group snapshots.
        :raises GroupMemberFailed: a volume could not be made.
        """
        self._refuse_consistent_type(group, 'create group %s' % group.id)
        if group_snapshot or snapshots:
            source = 'group snapshot %s' % getattr(group_snapshot, 'id', '')
        else:
            source = 'group %s' % getattr(source_group, 'id', '')
        plan = self._group_source_plan(group, volumes, snapshots,
                                       source_vols)
        made = []
        started = time.monotonic()
        for volume, what, make in plan:
            try:
                update = make() or {}
            except Exception as err:
                self._undo_volumes(group, made + [(volume, {})])
                raise exception.GroupMemberFailed(
                    action='create group %s from %s' % (group.id, source),
                    volume=volume.id, source=what, reason=err,
                    removed=len(made)) from err
            made.append((volume, update))
        LOG.info('Group %(group)s: created its %(count)d volume(s) from '
                 '%(source)s in %(seconds).3f s.',
                 {'group': group.id, 'count': len(made), 'source': source,
                  'seconds': time.monotonic() - started})
        return ({'status': GROUP_AVAILABLE},
                [dict(update, id=volume.id, status=VOLUME_AVAILABLE)
                 for volume, update in made])

    def _group_source_plan(self, group, volumes, snapshots, source_vols):
        """Pair each new volume with its source, as cinder's manager does.

        A volume made from a group snapshot names its snapshot in
        snapshot_id, one made from a group names its source in
        source_volid. Nothing is made before every volume has a source.

        :returns: [(volume, source description, callable making it)], in
            volume id order.
        """
        if bool(snapshots) == bool(source_vols):
            raise cinder_exception.InvalidInput(
                reason=_('group %s must be made from either a group '
                         'snapshot or a source group, with members') %
                group.id)
        plan = []
        for volume in sorted(volumes, key=lambda vol: vol.id):
            if snapshots:
                source = self._source_of(group, volume, 'snapshot_id',
                                         snapshots)
                plan.append((volume, 'snapshot %s' % source.id,
                             self._maker(self.create_volume_from_snapshot,
                                         volume, source)))
            else:
                source = self._source_of(group, volume, 'source_volid',
                                         source_vols)
                plan.append((volume, 'volume %s' % source.id,
                             self._maker(self.create_cloned_volume,
                                         volume, source)))
        return plan

    @staticmethod
    def _source_of(group, volume, field, sources):
        wanted = getattr(volume, field)
        for source in sources:
            if source.id == wanted:
                return source
        raise cinder_exception.InvalidInput(
            reason=_('volume %(vol)s of group %(group)s names %(field)s '
                     '%(wanted)s, which is not among the sources given') %
            {'vol': volume.id, 'group': group.id, 'field': field,
             'wanted': wanted})

    @staticmethod
    def _maker(method, volume, source):
        return lambda: method(volume, source)

    def _undo_volumes(self, group, made):
        """Delete volumes a failed group creation made, newest first.

        delete_volume removes the files named after each volume on its
        pool and on every other LUN, so a partial file of the failed
        volume goes too. A volume whose delete fails keeps its
        provider_location (cinder saves it with the 'error' status), so
        deleting it later finds its file.
        """
        for volume, update in reversed(made):
            volume.provider_location = (update.get('provider_location') or
                                        volume.provider_location)
            try:
                self.delete_volume(volume)
            except Exception as err:
                LOG.error('Group %(group)s: could not remove volume '
                          '%(vol)s, made before a member failed: %(err)s; '
                          'delete the group with its volumes once the LUN '
                          'is usable.',
                          {'group': group.id, 'vol': volume.id, 'err': err})
                continue
            volume.provider_location = None

    # -- group types -------------------------------------------------------

    @staticmethod
    def _refuse_consistent_type(group_or_snapshot, action):
        if not volume_utils.is_group_a_cg_snapshot_type(group_or_snapshot):
            return
        LOG.warning('Refusing to %(action)s: its group type %(type)s asks '
                    'for consistent group snapshots, which this backend '
                    'cannot take.',
                    {'action': action,
                     'type': group_or_snapshot.group_type_id})
        raise exception.ConsistentGroupSnapshotUnsupported(
            action=action, group_type=group_or_snapshot.group_type_id)
