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

"""Backups from snapshots: what cinder-backup attaches, for OCFS2Driver.

cinder's backup manager asks the volume service for a "backup device"
(``get_backup_device``). For a volume in use it is a temporary clone by
default, or, with ``backup_use_temp_snapshot = True`` in the backend's
section, a temporary snapshot; ``backup create --snapshot`` hands over the
snapshot itself in that mode. A snapshot is then attached on the backup
node with ``initialize_connection_snapshot`` and read like a volume.

Here a snapshot of a raw volume is a raw file on the volume's LUN, made
by reflink: one point in time, taken in milliseconds whatever the size,
and sharing the volume's extents. It is attached as a volume is: a
``gpfs`` connection whose ``device_path`` is the file, which os-brick's
GPFS (local file) connector opens as it is. Nothing is exported, so there
is nothing to tear down.

A snapshot of a qcow2 volume is a qcow2 overlay chain (RemoteFS): no
single file holds its data, and the file attach presents a file as raw.
So a backend making qcow2 volumes keeps cinder's temporary clones
(``backup_use_temp_snapshot`` answers False, with a warning), and a
snapshot of a qcow2 volume is never attached. (cinder-backup cannot read
qcow2 volumes of this backend in any case: they are not attachable.)
"""

import os

from oslo_log import log as logging

from cinder_ocfs2 import exception
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

RAW = volume_files.RAW


class BackupsMixin:
    """What cinder-backup needs from the volume driver; in OCFS2Driver.

    It comes ahead of RemoteFSSnapDriver and uses the driver's _lun_of,
    _volume_format, _snapshot_path (driver_snapshots), base and
    driver_volume_type.
    """

    def backup_use_temp_snapshot(self):
        """Whether a backup of a volume in use reads a temporary snapshot.

        The backend's ``backup_use_temp_snapshot`` says so; only a raw
        backend can: a raw snapshot is a reflinked file, readable alone.
        """
        if not self.configuration.safe_get('backup_use_temp_snapshot'):
            return False
        if self.configuration.ocfs2_volume_format != RAW:
            LOG.warning('backup_use_temp_snapshot is set, but this backend '
                        'makes %s volumes, whose snapshots are overlays no '
                        'backup can read alone: backups of volumes in use '
                        'read a temporary clone instead.',
                        self.configuration.ocfs2_volume_format)
            return False
        return True

    def get_backup_device(self, context, backup):
        """cinder's choice of what to back up, logged with its reason."""
        device, is_snapshot = super().get_backup_device(context, backup)
        if backup.temp_snapshot_id:
            what = ('temporary snapshot %s of the volume in use (reflink, '
                    'one point in time)' % backup.temp_snapshot_id)
        elif is_snapshot:
            what = 'snapshot %s' % device.id
        elif backup.temp_volume_id:
            what = ('temporary volume %s (a clone, or a volume made from '
                    'the snapshot)' % backup.temp_volume_id)
        else:
            what = 'the volume itself (not in use)'
        LOG.info('Backup %(backup)s of volume %(volume)s reads %(what)s.',
                 {'backup': backup.id, 'volume': backup.volume_id,
                  'what': what})
        return device, is_snapshot

    def create_export_snapshot(self, context, snapshot, connector):
        """Nothing is exported: the LUN is mounted on every node."""

    def remove_export_snapshot(self, context, snapshot):
        """Nothing was exported."""

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        """A file attach of a snapshot: its raw file, read-only.

        The same connection info as a volume's (``initialize_connection``),
        with the snapshot's file as ``device_path``.
        """
        volume = snapshot.volume
        lun = self._lun_of(volume)
        volume_format = self._volume_format(volume)
        if volume_format != RAW:
            raise exception.UnsupportedSnapshotAttachFormat(
                snapshot_id=snapshot.id, volume_id=volume.id,
                format=volume_format)
        path = self._snapshot_path(lun, snapshot)
        if not os.path.isfile(path):
            raise exception.VolumeFileMissing(name=snapshot.name, path=path,
                                              pool=lun.pool)
        LOG.debug('Attaching snapshot %(snap)s of volume %(vol)s read-only '
                  'at %(path)s for %(host)s.',
                  {'snap': snapshot.id, 'vol': volume.id, 'path': path,
                   'host': (connector or {}).get('host')})
        return {
            'driver_volume_type': self.driver_volume_type,
            'data': {'device_path': path,
                     'name': snapshot.name,
                     'format': RAW,
                     'export': lun.pool,
                     'access_mode': 'ro'},
            'mount_point_base': self.base,
        }

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        """Nothing to undo: the attach handed out a path, nothing else.

        The file is left alone (cinder deletes a temporary snapshot with
        delete_snapshot afterwards), even if it or its LUN is gone.
        """
        LOG.debug('Detached snapshot %(snap)s from %(host)s.',
                  {'snap': snapshot.id,
                   'host': (connector or {}).get('host')})
