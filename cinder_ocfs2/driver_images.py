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

Images are written as raw through cinder's checks; raw volumes are
uploaded as raw without being probed. Both hold the volume's cluster-wide
lock.
"""

import os

from oslo_log import log as logging

from cinder.volume import volume_utils

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
        """
        lun = self._lun_of(volume)
        path = os.path.join(lun.path, volume.name)
        with self._lock(lun, volume.id, 'copy_image_to_volume'):
            with volume_files.no_space_errors(
                    lun, 'writing image %s to' % image_id, volume.name):
                try:
                    super().copy_image_to_volume(context, volume,
                                                 image_service, image_id,
                                                 disable_sparse)
                    os.chmod(path, self._file_mode)
                except BaseException:
                    # Leave no half-written image; the volume is in error
                    # and deleting it counts the missing file as deleted.
                    volume_files.remove(path)
                    raise
        self._record_format(volume, RAW)
        LOG.info('Copied image %(image)s to volume %(name)s.',
                 {'image': image_id, 'name': volume.name})

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
