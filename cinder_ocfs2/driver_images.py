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

"""Images to volumes and volumes to images, for OCFS2Driver.

Images are written as raw through cinder's checks, into a new file that
replaces the volume's only when complete; raw volumes are uploaded as raw
without being probed. All hold the volume's cluster-wide lock.
"""

import os

from oslo_log import log as logging
from oslo_utils import units

from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder.image import image_utils
from cinder.volume import volume_utils

from cinder_ocfs2 import exception
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

RAW = volume_files.RAW
QCOW2 = volume_files.QCOW2


class ImagesMixin:
    """Image copies; mixed into OCFS2Driver.

    It comes ahead of RemoteFSSnapDriver, whose copy_image_to_volume it
    calls through super().
    """

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        """Write an image into the volume as raw, through cinder's checks.

        cinder's image_utils inspects the image before converting it and
        refuses qcow2 images with a backing file or an external data file,
        so no image can make the conversion read outside the volume. The
        file is raw afterwards, whatever the backend's volume format.

        The image is written into a new file beside the volume's, renamed
        over it only once complete and on disk. So a failure (a download
        error, an image cinder refuses, no space) never destroys an
        existing volume's data: a reimage (Nova's rebuild of a
        volume-backed server) that fails leaves the previous bytes. A new
        volume whose image copy fails is left with no file. The new file
        is written sparse unless the backend makes thick volumes: it
        starts empty, so skipping zeroes is always correct.
        """
        lun = self._lun_of(volume)
        path = os.path.join(lun.path, volume.name)
        is_new = volume.previous_status is None
        with self._lock(lun, volume.id, 'copy_image_to_volume'):
            self._require_file(volume, path)
            had_chain = self._check_reimageable(volume)
            try:
                with volume_files.no_space_errors(
                        lun, 'writing image %s to' % image_id, volume.name):
                    with volume_files.replacement(path) as new_path:
                        self._fetch_image(context, image_service, image_id,
                                          new_path, volume.size)
            except BaseException:
                if is_new:
                    # Nothing of a new volume's is lost; leave no file.
                    volume_files.remove(path)
                raise
            if had_chain:
                volume_files.remove(self._local_path_volume_info(volume))
        self._record_format(volume, RAW)
        LOG.info('Copied image %(image)s to %(what)s volume %(name)s.',
                 {'image': image_id, 'what': 'new' if is_new else 'existing',
                  'name': volume.name})

    def _fetch_image(self, context, image_service, image_id, path,
                     size_gb):
        """Download and convert an image to raw at path, checked."""
        image_utils.fetch_to_raw(
            context, image_service, image_id, path,
            self.configuration.volume_dd_blocksize, size=size_gb,
            run_as_root=False,
            disable_sparse=not self.configuration.ocfs2_sparse_volumes)
        # The conversion writes the image's own virtual size; the volume
        # keeps its size, which the image must fit in.
        image_utils.resize_image(path, size_gb, run_as_root=False)
        virtual_size = image_utils.qemu_img_info(
            path, run_as_root=False).virtual_size
        if virtual_size != size_gb * units.Gi:
            raise cinder_exception.ImageUnacceptable(
                image_id=image_id,
                reason=_('the volume is %(size)d GiB but the image made it '
                         '%(virtual)d bytes') % {'size': size_gb,
                                                 'virtual': virtual_size})

    def _check_reimageable(self, volume):
        """Refuse to write over a qcow2 chain; say if there is one at all.

        A qcow2 volume's snapshots are overlays on top of its base file:
        writing an image into the volume would orphan them. Such a volume
        is refused before anything is touched.

        :returns: True when the volume has a qcow2 snapshot info file (with
            no snapshots in it) that the new raw file makes obsolete.
        """
        if self._volume_format(volume) != QCOW2:
            return False
        info = self._read_info_file(self._local_path_volume_info(volume),
                                    empty_if_missing=True)
        snapshots = sorted(key for key in info if key != 'active')
        if snapshots or info.get('active', volume.name) != volume.name:
            raise exception.VolumeChainNotReimageable(
                volume_id=volume.id, snapshots=', '.join(snapshots) or
                info.get('active'))
        return bool(info)

    def _create_temp_volume_from_snapshot(self, context, volume, snapshot,
                                          volume_options=None, **kwargs):
        """Also write the snapshot over a volume being reimaged from it.

        cinder reimages a volume from a volume-backed image by making a
        temporary volume from the image's snapshot and copying it into the
        volume in place with a sparse copy: areas that are zero in the
        image would keep the volume's old data, and a failed copy would
        leave it torn. When the volume is being reimaged (status
        "downloading"), its file is first replaced, atomically, with a
        copy of the snapshot made to its size; cinder's copy then writes
        the same bytes again.
        """
        if volume.status == 'downloading':
            self._replace_with_snapshot(volume, snapshot)
        return super()._create_temp_volume_from_snapshot(
            context, volume, snapshot, volume_options=volume_options,
            **kwargs)

    def _replace_with_snapshot(self, volume, snapshot):
        snapshot_lun = self._lun_of(snapshot.volume)
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'reimage_from_snapshot'):
            if self._volume_format(snapshot.volume) != RAW:
                raise exception.OCFS2DriverError(
                    reason=_('volume %(vol)s cannot be reimaged from '
                             'snapshot %(snap)s of a qcow2 volume') %
                    {'vol': volume.id, 'snap': snapshot.id})
            had_chain = self._check_reimageable(volume)
            method = self._swap_in_snapshot(volume, lun, snapshot,
                                            snapshot_lun, 'reimaging')
            if had_chain:
                volume_files.remove(self._local_path_volume_info(volume))
        self._record_format(volume, RAW)
        LOG.info('Reimaged volume %(vol)s from snapshot %(snap)s by '
                 '%(method)s.', {'vol': volume.name, 'snap': snapshot.name,
                                 'method': method})

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        """Upload a volume; a raw one is read as raw, never probed.

        A guest can write anything into its raw volume, including a qcow2
        header naming a backing file; probing the format would let it make
        the upload read other files. So raw volumes are declared raw.
        """
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'copy_volume_to_image'):
            if self._volume_format(volume) == QCOW2:
                return self._copy_volume_to_image(context, volume,
                                                  image_service, image_meta)
            path = os.path.join(lun.path, volume.name)
            self._require_file(volume, path)
            volume_utils.upload_volume(context, image_service, image_meta,
                                       path, volume, volume_format=RAW,
                                       run_as_root=False)
        LOG.info('Uploaded volume %(name)s to image %(image)s.',
                 {'name': volume.name, 'image': image_meta['id']})
