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

"""Driver-assisted migration: a volume file moved from LUN to LUN.

Every node mounts every LUN, so the node that runs a migration can copy the
volume's file straight onto the destination LUN: no temporary cinder
volume, no attach of two volumes, and the volume keeps its id and file
name. When the destination is not an OCFS2 LUN mounted here
(``cinder_ocfs2.migration``), cinder's host-assisted copy runs instead, as
for any driver.

The order makes a crash at any point safe. The copy is flushed to disk
(file and directory); then the volume's record is saved with the new host
and pool, and only then are the source files removed. cinder adds the new
type, the destination service and the migration's success once
migrate_volume returns. If cinder-volume dies or fails in between, the
record points at one complete copy (the source before the save, the
destination after it) and the other copy is left behind. A file named
after a volume on any LUN but the volume's own can only be such a
leftover: delete_volume and the next migration of the volume remove it
(_remove_leftovers), with a warning naming the pool.
"""

import os

from oslo_log import log as logging
from oslo_utils import excutils

from cinder import exception as cinder_exception

from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import luns
from cinder_ocfs2 import migration
from cinder_ocfs2 import mounts
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)


class MigrationMixin:
    """migrate_volume; mixed into OCFS2Driver.

    Uses the driver's _inventory, _lun_of, _lock, _cluster_state,
    _lun_problem, _remove_files, _volume_format, _local_path_active_image,
    _execute_quietly and _file_mode. delete_volume uses _remove_leftovers.
    """

    def migrate_volume(self, context, volume, host):
        """Move the volume's file to the destination pool's LUN.

        :returns: (True, model update) when the file was moved here, or
            (False, None) to let cinder copy the volume itself.
        """
        target, why_not = migration.destination(host)
        if target is None:
            return self._leave_to_cinder(volume, host, why_not)
        source = self._lun_of(volume)
        try:
            lun = self._migration_target(target)
        except (cinder_exception.CinderException, OSError) as err:
            return self._leave_to_cinder(volume, host, err)
        if lun.path == source.path:
            LOG.info('Volume %(id)s moves to %(host)s without a copy: its '
                     'file stays on %(lun)s.',
                     {'id': volume.id, 'host': host['host'], 'lun': lun})
            return True, {'provider_location': lun.pool}
        with self._lock(source, volume.id, 'migrate_volume') as lock:
            moved = self._copy_to(volume, source, lun)
            if moved is None:
                return self._leave_to_cinder(
                    volume, host, '%s already holds a file named %s'
                    % (lun, volume.name))
            self._point_record_at(volume, host, source, lun, moved)
            self._remove_source(volume, source)
            self._remove_leftovers(volume, keep=(source, lun))
            # From now on the volume's lock is on its new LUN.
            lock.remove_on_release()
        LOG.info('Migrated volume %(id)s from %(source)s to %(lun)s '
                 '(%(host)s) by copying its file.',
                 {'id': volume.id, 'source': source, 'lun': lun,
                  'host': host['host']})
        return True, {'provider_location': lun.pool}

    def _point_record_at(self, volume, host, source, lun, copy):
        """Save the volume's new host and pool before the source goes.

        From here on a crash leaves the record on the durable copy. When
        the save fails the copy is removed and the volume object names the
        source again, so that cinder's own save of the error status (which
        writes every changed field) keeps the record on the source.
        """
        fields = ('host', 'cluster_name', 'provider_location')
        before = {field: getattr(volume, field) for field in fields}
        volume.update({'host': host['host'],
                       'cluster_name': host.get('cluster_name'),
                       'provider_location': lun.pool})
        try:
            volume.save()
        except Exception:
            with excutils.save_and_reraise_exception():
                volume.update(before)
                LOG.error('Volume %(id)s: saving its new location failed; '
                          'removing its copy %(copy)s, the volume stays on '
                          '%(source)s.',
                          {'id': volume.id, 'copy': copy, 'source': source})
                volume_files.remove(copy)
        LOG.info('Volume %(id)s: its record now points at pool %(pool)s '
                 '(%(host)s); removing its files from %(source)s.',
                 {'id': volume.id, 'pool': lun.pool, 'host': host['host'],
                  'source': source})

    def _remove_source(self, volume, source):
        """Remove the volume's files from the LUN it was moved from.

        The record already points at the copy, so a failure here does not
        fail the migration: it is logged, and the files left are removed
        by the volume's delete or next migration.
        """
        try:
            self._remove_files(source, volume)
            volume_files.sync_directory(source.path)
        except OSError as err:
            LOG.warning('Volume %(id)s was moved, but its files on '
                        '%(source)s could not all be removed (%(err)s); '
                        'they go when the volume is deleted or migrated.',
                        {'id': volume.id, 'source': source, 'err': err})

    def _remove_leftovers(self, volume, keep=()):
        """Remove the volume's files from every LUN but those in keep.

        A file named after the volume on a LUN other than its own is a
        copy left by an interrupted migration of this very volume (see the
        module docstring). Every OCFS2 LUN mounted writable below the mount
        point base is looked at, not only this backend's (ocfs2_shares):
        a migration may have gone to another backend's LUN. A LUN that
        cannot be read is logged and skipped.

        :returns: the pools files were removed from.
        """
        kept = {lun.path for lun in keep}
        pools = []
        for lun in self._luns_below_base():
            if lun.path in kept:
                continue
            try:
                removed = self._remove_files(lun, volume)
            except OSError as err:
                LOG.warning('Could not remove leftover files of volume '
                            '%(name)s from %(lun)s; skipped: %(err)s',
                            {'name': volume.name, 'lun': lun, 'err': err})
                continue
            if removed:
                LOG.warning('Removed %(files)s from %(lun)s: files of '
                            'volume %(name)s left by an interrupted '
                            'migration or a rescheduled create.',
                            {'files': ', '.join(removed), 'lun': lun,
                             'name': volume.name})
                pools.append(lun.pool)
        return pools

    def _luns_below_base(self):
        """Every usable OCFS2 LUN below the mount point base, any backend's.

        :returns: Lun records sorted by pool name.
        """
        base = self._inventory.base
        selection = luns.select_luns(
            mounts.current_mounts(self._inventory.proc_root, below=base),
            base)
        return [lun for _pool, lun in sorted(selection.usable.items())]

    @staticmethod
    def _leave_to_cinder(volume, host, why):
        LOG.info('Volume %(id)s to %(host)s: cinder copies it '
                 '(host-assisted migration), because %(why)s.',
                 {'id': volume.id, 'host': host.get('host'), 'why': why})
        return False, None

    def _migration_target(self, target):
        """The LUN mounted here at the target's path, checked.

        :raises LunUnavailable: nothing usable is mounted there, or the
            cluster does not allow writing to it now.
        :raises LunIdentityMismatch: another filesystem is mounted there.
        """
        parent = os.path.dirname(target.path)
        lun = luns.usable_lun(luns.select_luns(
            mounts.current_mounts(self._inventory.proc_root, below=parent),
            parent, allowed=(target.pool,)), parent, target.pool)
        mounted = identity.mounted_identity(lun)
        if mounted.fsid != target.fsid:
            raise exception.LunIdentityMismatch(
                path=lun.path, pool=lun.pool,
                marker=os.path.join(lun.path, identity.MARKER_NAME),
                reason='the destination reports filesystem %s but this '
                       'node mounts %s there' % (target.fsid, mounted.fsid))
        # A LUN that never held a volume gets its marker, as on create.
        identity.verify(lun, create=True)
        problem = self._lun_problem(lun, self._cluster_state())
        if problem:
            raise exception.LunUnavailable(pool=lun.pool, path=lun.path,
                                           reason=problem)
        return lun

    def _copy_to(self, volume, source, lun):
        """Copy the volume's data onto lun, as one file under its name.

        :returns: the new path, or None when lun already has a file of
            that name (which is left alone).
        """
        target = os.path.join(lun.path, volume.name)
        if os.path.lexists(target):
            return None
        active = self._local_path_active_image(volume)
        self._require_file(volume, active)
        with volume_files.no_space_errors(lun, 'migrating', volume.name):
            volume_files.copy_standalone(
                self._execute_quietly, active, self._volume_format(volume),
                target, self._file_mode)
        return target
