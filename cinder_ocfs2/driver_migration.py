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
name. cinder records the new host, the new type and the migration's
success in one update. When the destination is not an OCFS2 LUN mounted
here (``cinder_ocfs2.migration``), cinder's host-assisted copy runs
instead, as for any driver.
"""

import os

from oslo_log import log as logging

from cinder import exception as cinder_exception

from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import locks
from cinder_ocfs2 import luns
from cinder_ocfs2 import migration
from cinder_ocfs2 import mounts
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)


class MigrationMixin:
    """migrate_volume; mixed into OCFS2Driver.

    Uses the driver's _inventory, _lun_of, _lock, _cluster_state,
    _lun_problem, _remove_files, _volume_format, _local_path_active_image,
    _execute_quietly and _file_mode.
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
        with self._lock(source, volume.id, 'migrate_volume'):
            moved = self._copy_to(volume, source, lun)
            if moved is None:
                return self._leave_to_cinder(
                    volume, host, '%s already holds a file named %s'
                    % (lun, volume.name))
            self._remove_files(source, volume)
            volume_files.sync_directory(source.path)
        locks.remove_lock(source.path, 'volume-%s' % volume.id)
        LOG.info('Migrated volume %(id)s from %(source)s to %(lun)s '
                 '(%(host)s) by copying its file.',
                 {'id': volume.id, 'source': source, 'lun': lun,
                  'host': host['host']})
        return True, {'provider_location': lun.pool}

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
