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

"""Snapshots, clones, volumes from snapshots and reverts of OCFS2Driver.

Raw volumes: a snapshot is a raw file beside its volume
(``snapshot-<id>``), and every copy between a volume and a snapshot is a
reflink when the LUN supports it (``cinder_ocfs2.reflink``), else a full
``qemu-img convert -f raw``. A full copy of a volume in use would not be
consistent, so without reflink a snapshot or clone of an attached volume
is refused. qcow2 volumes use the RemoteFS qcow2 overlay chains.

Every operation holds the source volume's cluster-wide lock.
"""

import contextlib
import os

from oslo_log import log as logging
from oslo_utils import units

from cinder.i18n import _
from cinder.image import image_utils

from cinder_ocfs2 import exception
from cinder_ocfs2 import reflink
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

RAW = volume_files.RAW
# A point-in-time reflink of an attached volume, made beside it for the
# time of a full copy to another LUN; named after the new volume, so that
# the new volume's delete removes a leftover of a killed process.
POINT_IN_TIME_SUFFIX = '.source'
QCOW2 = volume_files.QCOW2


class SnapshotsMixin:
    """Snapshot and copy operations; mixed into OCFS2Driver.

    Uses the driver's _lun_of, _place, _lock, _can_reflink,
    _volume_format, _record_format, _require_file and _file_mode.
    """

    def _snapshot_path(self, lun, snapshot):
        return os.path.join(lun.path, snapshot.name)

    def create_snapshot(self, snapshot):
        volume = snapshot.volume
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'create_snapshot'):
            if self._volume_format(volume) == QCOW2:
                return self._create_snapshot(snapshot)
            source = os.path.join(lun.path, volume.name)
            self._require_file(volume, source)
            use_reflink = self._can_reflink(lun)
            if not use_reflink and self._is_attached(volume):
                raise exception.OCFS2DriverError(
                    reason=_('snapshot %(snap)s of attached volume %(vol)s '
                             'needs reflink, which %(lun)s does not '
                             'support; a full copy of a volume in use '
                             'would not be consistent. Detach the volume '
                             'first.') % {'snap': snapshot.id,
                                          'vol': volume.id, 'lun': lun})
            with volume_files.no_space_errors(lun, 'snapshotting',
                                              volume.name):
                method = volume_files.copy_raw(
                    self._execute_quietly, source,
                    self._snapshot_path(lun, snapshot), self._file_mode,
                    use_reflink)
        LOG.info('Created snapshot %(snap)s of %(vol)s by %(method)s.',
                 {'snap': snapshot.name, 'vol': volume.name,
                  'method': method})
        return {'provider_location': lun.pool}

    def delete_snapshot(self, snapshot):
        volume = snapshot.volume
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'delete_snapshot'):
            if self._volume_format(volume) == QCOW2:
                return self._delete_snapshot(snapshot)
            removed = volume_files.remove(self._snapshot_path(lun, snapshot))
        LOG.info('Deleted snapshot %(snap)s%(note)s.',
                 {'snap': snapshot.name,
                  'note': '' if removed else ' (it had no file)'})

    def create_volume_from_snapshot(self, volume, snapshot):
        source_volume = snapshot.volume
        source_lun = self._lun_of(source_volume)
        with self._lock(source_lun, source_volume.id,
                        'create_volume_from_snapshot'):
            if self._volume_format(source_volume) == QCOW2:
                return self._create_volume_from_snapshot(volume, snapshot)
            return self._copy_raw_volume(
                self._snapshot_path(source_lun, snapshot), source_lun,
                volume, 'snapshot %s' % snapshot.id)

    def create_cloned_volume(self, volume, src_vref):
        source_lun = self._lun_of(src_vref)
        with self._lock(source_lun, src_vref.id, 'create_cloned_volume'):
            if self._volume_format(src_vref) == QCOW2:
                return self._create_cloned_volume(volume, src_vref,
                                                  src_vref.obj_context)
            if (self._is_attached(src_vref) and
                    not self._can_reflink(source_lun)):
                raise exception.OCFS2DriverError(
                    reason=_('cloning attached volume %(vol)s needs reflink, '
                             'which %(lun)s does not support; detach it '
                             'first.') % {'vol': src_vref.id,
                                          'lun': source_lun})
            return self._copy_raw_volume(
                os.path.join(source_lun.path, src_vref.name), source_lun,
                volume, 'volume %s' % src_vref.id,
                live=self._is_attached(src_vref))

    def _copy_raw_volume(self, source_path, source_lun, volume, what,
                         live=False):
        """Make a new raw volume from a raw file, then grow it to size.

        :param live: the source is an attached volume's file, which a
            guest may be writing: a full copy to another LUN then reads a
            reflink of it made first (one point in time), not the file.
        """
        if not os.path.exists(source_path):
            raise exception.VolumeFileMissing(name=what, path=source_path,
                                              pool=source_lun.pool)
        lun = self._place(volume)
        target = os.path.join(lun.path, volume.name)
        same_lun = lun.path == source_lun.path
        with contextlib.ExitStack() as stack:
            if live and not same_lun:
                source_path = stack.enter_context(self._point_in_time(
                    source_path, source_lun, volume, what))
                what += ' (a reflink of it, one point in time)'
            self._copy_raw_file(source_path, lun, target, volume, what,
                                use_reflink=same_lun and
                                self._can_reflink(lun))
        self._record_format(volume, RAW)
        return {'provider_location': lun.pool}

    @contextlib.contextmanager
    def _point_in_time(self, source_path, source_lun, volume, what):
        """A reflink of source_path beside it while the block runs.

        Callers hold the source volume's lock and have checked that its
        LUN can reflink.
        """
        frozen = os.path.join(source_lun.path,
                              volume.name + POINT_IN_TIME_SUFFIX)
        volume_files.remove(frozen)
        with volume_files.no_space_errors(
                source_lun, 'taking a point-in-time reflink of %s for' % what,
                volume.name):
            # A reflink or nothing: a full copy would read the live file.
            reflink.clone_file(source_path, frozen, self._file_mode)
        try:
            yield frozen
        finally:
            volume_files.remove(frozen)

    def _copy_raw_file(self, source_path, lun, target, volume, what,
                       use_reflink):
        with volume_files.no_space_errors(lun, 'copying %s to' % what,
                                          volume.name):
            method = volume_files.copy_raw(
                self._execute_quietly, source_path, target, self._file_mode,
                use_reflink=use_reflink)
            try:
                volume_files.grow_raw(
                    target, volume.size * units.Gi,
                    sparse=self.configuration.ocfs2_sparse_volumes)
            except BaseException:
                volume_files.remove(target)
                raise
        LOG.info('Created volume %(name)s on %(lun)s from %(what)s by '
                 '%(method)s.',
                 {'name': volume.name, 'lun': lun, 'what': what,
                  'method': method})

    def _copy_volume_from_snapshot(self, snapshot, volume, volume_size,
                                   src_encryption_key_id=None,
                                   new_encryption_key_id=None):
        """Needed by parent class for qcow2 volumes: flatten a snapshot."""
        info_path = self._local_path_volume_info(snapshot.volume)
        snap_info = self._read_info_file(info_path)
        volume_dir = self._local_volume_dir(snapshot.volume)
        overlay = os.path.join(volume_dir, snap_info[snapshot.id])
        backing = self._qemu_img_info(overlay,
                                      snapshot.volume.name).backing_file
        source = os.path.join(volume_dir, backing)
        source_format = self._qemu_img_info(source,
                                            snapshot.volume.name).file_format
        target = self._local_path_volume(volume)
        try:
            image_utils.convert_image(source, target, QCOW2,
                                      src_format=source_format,
                                      run_as_root=False)
            os.chmod(target, self._file_mode)
            image_utils.resize_image(target, volume_size, run_as_root=False)
        except BaseException:
            volume_files.remove(target)
            raise
        # The file is qcow2 whatever ocfs2_volume_format says now.
        self._record_format(volume, QCOW2)

    def _qemu_img_info(self, path, volume_name):
        """Needed by parent class: qemu-img info, backing files checked."""
        return self._qemu_img_info_base(path, volume_name, self.base,
                                        run_as_root=False)

    def snapshot_revert_use_temp_snapshot(self):
        """Whether cinder takes a safety snapshot before a revert.

        For raw volumes it does: a reflink, made in milliseconds, that lets
        an operator get back the data a revert replaced (the revert itself
        swaps in a complete new file, so it never leaves a half-reverted
        volume). qcow2 chains can only revert to their latest snapshot, so
        a safety snapshot on top would make every revert fail.
        """
        return self.configuration.ocfs2_volume_format == RAW

    def revert_to_snapshot(self, context, volume, snapshot):
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'revert_to_snapshot'):
            if self._volume_format(volume) == QCOW2:
                return self._revert_to_snapshot(context, volume, snapshot)
            self._validate_state(volume.status, ('available', 'reverting'))
            method = self._swap_in_snapshot(volume, lun, snapshot, lun,
                                            'reverting')
        LOG.info('Reverted volume %(vol)s to snapshot %(snap)s by '
                 '%(method)s.', {'vol': volume.name, 'snap': snapshot.name,
                                 'method': method})

    def _swap_in_snapshot(self, volume, lun, snapshot, snapshot_lun,
                          action):
        """Replace a raw volume's file with a copy of a raw snapshot.

        The copy (a reflink when both are on one LUN that allows it) is a
        new file renamed over the volume's only when complete. Called
        under the volume's lock.

        :returns: "reflink" or "full copy".
        """
        source = self._snapshot_path(snapshot_lun, snapshot)
        target = os.path.join(lun.path, volume.name)
        self._require_file(volume, target)
        if not os.path.exists(source):
            raise exception.VolumeFileMissing(
                name=snapshot.name, path=source, pool=snapshot_lun.pool)
        with volume_files.no_space_errors(lun, action, volume.name):
            return volume_files.replace_raw(
                self._execute_quietly, source, target,
                volume.size * units.Gi,
                lun.path == snapshot_lun.path and self._can_reflink(lun))
