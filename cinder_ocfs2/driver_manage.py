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

"""Manage, unmanage, the manageable-volumes listing, and retype.

The rules for which files may be managed, and how a reference names one,
are in ``cinder_ocfs2.manageable``; this mixin applies them to the
driver's LUNs, under the new volume's cluster-wide lock.
"""

import os

from oslo_log import log as logging
from oslo_utils import units

from cinder import context as cinder_context
from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder import objects
from cinder.volume import volume_utils

from cinder_ocfs2 import locks
from cinder_ocfs2 import manageable
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)


class ManageMixin:
    """Manage, unmanage and retype; mixed into OCFS2Driver.

    Uses the driver's _inventory, _place, _lock, _record_format, base and
    _file_mode.
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
