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

"""Manage, unmanage, the manageable listings, and retype.

The rules for which files may be managed, and how a reference names one,
are in ``cinder_ocfs2.manageable``; this mixin applies them to the
driver's LUNs, under the new volume's cluster-wide lock (for a snapshot,
its volume's).
"""

import os
import stat

from oslo_log import log as logging
from oslo_utils import units

from cinder import context as cinder_context
from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder import objects
from cinder.volume import volume_utils

from cinder_ocfs2 import exception
from cinder_ocfs2 import locks
from cinder_ocfs2 import manageable
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)


class ManageMixin:
    """Manage, unmanage and retype; mixed into OCFS2Driver.

    Uses the driver's _inventory, _place, _lock, _record_format, base and
    _file_mode; for snapshots also _lun_of, _volume_format and
    _snapshot_path.
    """

    def _manage_target(self, volume, existing_ref):
        """The LUN, and the path on it, that a manage request names."""
        pool = volume_utils.extract_host(volume.host, level='pool')
        if not pool:
            # Managed through --cluster, or a host without #pool.
            holders = manageable.pools_holding(
                existing_ref,
                [(lun.pool, lun.path) for lun in self._inventory.usable()])
            if len(holders) != 1:
                raise cinder_exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref,
                    reason=_('%(found)s; name the pool in the host, as '
                             '<host>@<backend>#<pool>') % {
                        'found': _('found on pools %s') % ', '.join(holders)
                        if holders else _('no usable LUN of this backend '
                                          'holds this file')})
            pool = holders[0]
        lun = self._place(volume, pool)
        name = manageable.file_name(existing_ref, lun.path)
        path = os.path.join(lun.path, name)
        reason = (manageable.unsafe_reason(path, name) or
                  self._managed_elsewhere(volume, name))
        if reason:
            raise cinder_exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason=reason)
        return lun, path

    @staticmethod
    def _managed_elsewhere(volume, name):
        """Why name is another cinder volume's file, or None."""
        owner_id = manageable.volume_id_of(name)
        if not owner_id or owner_id == volume.name_id:
            return None
        admin = cinder_context.get_admin_context()
        for filters in ({'id': owner_id}, {'_name_id': owner_id}):
            owners = objects.VolumeList.get_all(admin, filters=filters)
            if owners:
                return _('%(name)s is the file of cinder volume %(id)s; '
                         'unmanage that volume first') % {
                             'name': name, 'id': owners[0].id}
        return None

    def manage_existing_get_size(self, volume, existing_ref):
        return manageable.size_gb(self._manage_target(volume,
                                                      existing_ref)[1])

    def manage_existing(self, volume, existing_ref):
        """Adopt a raw file in the pool's LUN root as this volume.

        The file is renamed to the volume's name (a hard link, then the
        old name removed, so an existing file is never replaced) and grown
        to the volume's whole GiB size.
        """
        lun, path = self._manage_target(volume, existing_ref)
        target = os.path.join(lun.path, volume.name)
        # cinder records the size after this call (volume.size is 0 here):
        # grow to what manage_existing_get_size reported.
        size_gb = manageable.size_gb(path)
        with self._lock(lun, volume.id, 'manage_existing'):
            try:
                os.link(path, target)
            except OSError as err:
                raise cinder_exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref,
                    reason=_('cannot name %(path)s %(target)s: %(err)s') % {
                        'path': path, 'target': target, 'err': err})
            try:
                os.chmod(target, self._file_mode)
                volume_files.grow_raw(
                    target, size_gb * units.Gi,
                    sparse=self.configuration.ocfs2_sparse_volumes)
            except BaseException:
                os.unlink(target)  # the file keeps its old name only
                raise
            os.unlink(path)
        self._record_format(volume, volume_files.RAW)
        LOG.info('Managed %(path)s as volume %(name)s (%(size)d GiB) on '
                 '%(lun)s.', {'path': path, 'name': volume.name,
                              'size': size_gb, 'lun': lun})
        return {'provider_location': lun.pool,
                'host': volume_utils.append_host(
                    volume_utils.extract_host(volume.host), lun.pool)}

    def unmanage(self, volume):
        """Let cinder forget the volume; its files stay where they are."""
        path = os.path.join(self.base, volume.provider_location or '',
                            volume.name)
        try:
            locks.remove_lock(os.path.dirname(path), 'volume-%s' % volume.id)
        except OSError:
            pass
        LOG.info('Volume %(id)s is no longer managed by cinder; its file '
                 'stays at %(path)s.', {'id': volume.id, 'path': path})

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        managed = {volume.name: volume.id for volume in cinder_volumes}
        entries = [
            manageable.listing_entry(candidate, managed.get(candidate.name))
            for lun in self._inventory.usable()
            for candidate in manageable.candidates(lun.pool, lun.path,
                                                   managed)]
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)

    # -- snapshots ---------------------------------------------------------

    def _snapshot_manage_target(self, snapshot, existing_ref, lun):
        """The path, on lun, of the file a snapshot manage request names.

        :param lun: the LUN of the snapshot's volume.
        :raises ManageExistingInvalidReference: the file may not become
            this snapshot; the reason says why and what to do.
        """
        volume = snapshot.volume
        volume_format = self._volume_format(volume)
        if volume_format != volume_files.RAW:
            reason = _(
                'volume %(volume)s is a %(format)s volume, whose snapshots '
                'are overlays in its backing chain, recorded in its .info '
                'file: a file cannot be adopted as one. Snapshot the volume '
                'with cinder, or manage the file as a volume of its '
                'own') % {'volume': volume.id, 'format': volume_format}
        else:
            try:
                name = manageable.snapshot_file_name(
                    existing_ref, volume.id, lun.pool, lun.path,
                    [(each.pool, each.path)
                     for each in self._inventory.usable()])
            except cinder_exception.ManageExistingInvalidReference as err:
                LOG.warning('Refused to manage %(ref)s as snapshot %(id)s: '
                            '%(err)s', {'ref': existing_ref,
                                        'id': snapshot.id, 'err': err})
                raise
            path = os.path.join(lun.path, name)
            reason = (manageable.snapshot_unsafe_reason(path, name) or
                      manageable.snapshot_size_problem(path, volume.id,
                                                       volume.size) or
                      self._snapshot_managed_elsewhere(snapshot, name))
            if not reason:
                return path
        LOG.warning('Refused to manage %(ref)s as snapshot %(id)s: '
                    '%(reason)s', {'ref': existing_ref, 'id': snapshot.id,
                                   'reason': reason})
        raise cinder_exception.ManageExistingInvalidReference(
            existing_ref=existing_ref, reason=reason)

    @staticmethod
    def _snapshot_managed_elsewhere(snapshot, name):
        """Why name is another cinder snapshot's file, or None.

        The file of a snapshot cinder no longer knows (unmanaged, or its
        row deleted) may be managed again, as volume files are.
        """
        owner_id = manageable.snapshot_id_of(name)
        if not owner_id or owner_id == snapshot.id:
            return None
        owners = objects.SnapshotList.get_all(
            cinder_context.get_admin_context(), filters={'id': owner_id})
        if not owners:
            return None
        return _('%(name)s is the file of cinder snapshot %(id)s of volume '
                 '%(volume)s; unmanage that snapshot first') % {
                     'name': name, 'id': owners[0].id,
                     'volume': owners[0].volume_id}

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        lun = self._lun_of(snapshot.volume)
        return manageable.size_gb(
            self._snapshot_manage_target(snapshot, existing_ref, lun))

    def manage_existing_snapshot(self, snapshot, existing_ref):
        """Adopt a raw file beside a raw volume as a snapshot of it.

        Under the volume's lock the file is checked again and renamed to
        the snapshot's name (a hard link, then the old name removed, so an
        existing file is never replaced; then the directory is flushed).
        Its bytes and size are left as they are: a revert or a volume from
        the snapshot sets the size of the copy. If anything fails, the
        file keeps its old name (and mode) only.
        """
        volume = snapshot.volume
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'manage_existing_snapshot'):
            path = self._snapshot_manage_target(snapshot, existing_ref, lun)
            target = self._snapshot_path(lun, snapshot)
            if path != target:
                try:
                    _take_name(path, target, self._file_mode)
                except FileExistsError:
                    raise cinder_exception.ManageExistingInvalidReference(
                        existing_ref=existing_ref,
                        reason=_('%s already exists; it was left as it was, '
                                 'and so was the file to manage') % target
                    ) from None
            else:
                os.chmod(target, self._file_mode)
        LOG.info('Managed %(path)s as snapshot %(snap)s of volume %(vol)s '
                 '(%(size)d bytes) on %(lun)s.',
                 {'path': path, 'snap': snapshot.name, 'vol': volume.name,
                  'size': os.stat(target).st_size, 'lun': lun})
        return {'provider_location': lun.pool}

    def unmanage_snapshot(self, snapshot):
        """Let cinder forget a raw snapshot; its file stays where it is.

        Like a volume's, the file keeps its name, snapshot-<id>, by which
        it can be managed again (to any raw volume on its LUN). A qcow2
        volume's snapshot is an overlay its chain needs: refused, and it
        stays available.
        """
        volume = snapshot.volume
        if self._volume_format(volume) != volume_files.RAW:
            LOG.warning('Not unmanaging snapshot %(snap)s: it is an overlay '
                        'in the qcow2 chain of volume %(vol)s; it stays '
                        'managed.', {'snap': snapshot.id, 'vol': volume.id})
            raise exception.SnapshotInQcow2Chain(
                snapshot_name=snapshot.name, volume_id=volume.id)
        path = os.path.join(self.base, volume.provider_location or '',
                            snapshot.name)
        LOG.info('Snapshot %(id)s of volume %(vol)s is no longer managed by '
                 'cinder; its file stays at %(path)s.',
                 {'id': snapshot.id, 'vol': volume.id, 'path': path})

    def get_manageable_snapshots(self, cinder_snapshots, marker, limit,
                                 offset, sort_keys, sort_dirs):
        managed = {snapshot.name: snapshot for snapshot in cinder_snapshots}
        entries = []
        for lun in self._inventory.usable():
            for candidate in manageable.snapshot_candidates(
                    lun.pool, lun.path, managed):
                snapshot = managed.get(candidate.name)
                entries.append(manageable.snapshot_listing_entry(
                    candidate, snapshot and snapshot.id,
                    snapshot and os.path.join(lun.path,
                                              snapshot.volume.name)))
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)

    def retype(self, context, volume, new_type, diff, host):
        """Change the type of a volume that stays in its pool.

        Nothing in a volume type changes how a file is stored here, so a
        retype to the volume's own pool is done in place. Another pool is
        another LUN: cinder then migrates the volume, if the policy allows.
        In an active-active cluster the scheduler names whichever member
        reported last; the volume keeps its host.
        """
        pool = volume_utils.extract_host(volume.host, level='pool')
        if volume_utils.extract_host(host['host'], level='pool') != pool:
            LOG.info('Retype of volume %(id)s to %(host)s moves it to '
                     'another LUN; leaving it to migration.',
                     {'id': volume.id, 'host': host['host']})
            return False, None
        LOG.info('Retyped volume %(id)s to type %(type)s in place.',
                 {'id': volume.id, 'type': new_type['name']})
        return True, {'host': volume.host}


def _take_name(path, target, mode):
    """Rename the file at path to target, which must not exist; set mode.

    A hard link, then the old name removed: an existing target is never
    replaced (FileExistsError). The new name is flushed to disk before
    this returns. On any failure the file has its old name only, and its
    old mode.
    """
    old_mode = stat.S_IMODE(os.lstat(path).st_mode)
    os.link(path, target)
    try:
        os.chmod(target, mode)
        os.unlink(path)
        volume_files.sync_directory(os.path.dirname(target))
    except BaseException:
        if not os.path.lexists(path):
            os.link(target, path)
        os.chmod(path, old_mode)
        os.unlink(target)
        raise
