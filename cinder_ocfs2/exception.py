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

"""Errors the OCFS2 driver raises, each a message template with fields.

Every class subclasses a cinder exception so that cinder's volume manager
sets the volume or snapshot to an error state and the operator reads the
message in the logs and in ``openstack volume show``. Each message names
the object (path, pool, volume) and says what to do next.
"""

from cinder import exception
from cinder.i18n import _


class OCFS2DriverError(exception.VolumeDriverException):
    message = _('OCFS2 driver error: %(reason)s')


class NoUsableLun(OCFS2DriverError):
    message = _('No usable OCFS2 LUN is mounted below %(base)s%(detail)s. '
                'Mount an OCFS2 LUN read-write at %(base)s/<pool name> on '
                'this node, or run cinder-ocfs2-status to see why the '
                'mounted ones are skipped.')


class LunUnavailable(OCFS2DriverError):
    message = _('OCFS2 pool %(pool)s (%(path)s) cannot be used: %(reason)s.')


class LunIdentityMismatch(OCFS2DriverError):
    message = _('The filesystem mounted at %(path)s is not pool %(pool)s: '
                '%(reason)s. Nothing was written to it. Mount the right LUN '
                'at %(path)s (compare the marker file %(marker)s with '
                '"mounted.ocfs2 -d") and retry.')


class InvalidFileMode(exception.InvalidConfigurationValue):
    message = _('ocfs2_volume_file_mode=%(value)s is invalid: %(reason)s. '
                'Use an octal mode such as 0660 that gives no write access '
                'to other users.')


class VolumeFileMissing(OCFS2DriverError):
    message = _('The file of %(name)s is missing at %(path)s. Check that '
                'the LUN of pool %(pool)s is the one the volume was created '
                'on and that it is mounted.')


class UnsupportedAttachFormat(OCFS2DriverError):
    message = _('Volume %(volume_id)s is stored as %(format)s, but the file '
                'attach used by Nova and os-brick presents every file as '
                'raw, so the guest would see %(format)s metadata instead of '
                'its data. Retype the volume to a raw backend, or set '
                'ocfs2_volume_format=raw for new volumes.')


class UnsupportedSnapshotAttachFormat(OCFS2DriverError):
    message = _('Snapshot %(snapshot_id)s of volume %(volume_id)s cannot be '
                'attached (for a backup): the volume is stored as '
                '%(format)s, so the snapshot is a %(format)s overlay that '
                'needs the files below it and is no disk image by itself. '
                'cinder-backup cannot read qcow2 volumes of this backend '
                '(they are not attachable either): upload the volume to an '
                'image, create a volume from that image on a raw OCFS2 '
                'backend (ocfs2_volume_format=raw) and back that one up.')


class VolumeFormatMismatch(OCFS2DriverError):
    message = _('Volume %(volume_id)s is recorded as %(recorded)s, but its '
                'file %(path)s is not: refusing to use it. Check the file '
                'with "qemu-img info -f raw" and set the volume\'s "format" '
                'admin metadata to what it is.')


class VolumeChainNotReimageable(OCFS2DriverError):
    message = _('Volume %(volume_id)s is a qcow2 volume with snapshots '
                '(%(snapshots)s); writing an image into it would orphan '
                'their overlays. Delete its snapshots first, or create a '
                'new volume from the image.')


class SnapshotInQcow2Chain(exception.SnapshotIsBusy):
    # A SnapshotIsBusy: cinder's volume manager then leaves the snapshot
    # available instead of error_deleting.
    message = _('Snapshot %(snapshot_name)s of qcow2 volume %(volume_id)s '
                'is an overlay in the volume\'s backing chain, not a file '
                'of its own, so it cannot be unmanaged: cinder would forget '
                'a file the chain still needs. It stays managed; delete it '
                'to merge it into the chain.')


class VolumeSizeMismatch(exception.InvalidVolume):
    message = _('Volume %(volume_id)s has a virtual size of %(virtual)d '
                'bytes but cinder records %(size)d GiB; the file was '
                'changed outside cinder, so it is not handed out.')


class NoSpaceOnLun(OCFS2DriverError):
    message = _('OCFS2 pool %(pool)s ran out of space while %(action)s '
                '%(name)s; nothing was left behind. Free space on the LUN, '
                'extend it, or mount another LUN below the mount point '
                'base.')


class LockTimeout(OCFS2DriverError):
    message = _('Timed out after %(timeout).0f s waiting for the '
                'cluster-wide lock %(path)s, held by another operation on '
                'this node or another node. Retry later; if no operation is '
                'running, check the LUN for I/O errors.')


class ConsistentGroupSnapshotUnsupported(OCFS2DriverError):
    message = _('Cannot %(action)s: its group type %(group_type)s sets '
                'consistent_group_snapshot_enabled="<is> True", which asks '
                'for one crash-consistent point in time across all its '
                'volumes. The OCFS2 backend cannot give that: a reflink '
                'writes metadata, so the volumes cannot be frozen while '
                'they are snapshotted, and each member is snapshotted at '
                'its own instant. Use a group type without that spec, whose '
                'group snapshots are consistent per volume only, and '
                'quiesce the applications first if they need more.')


class GroupMemberFailed(OCFS2DriverError):
    message = _('Could not %(action)s: volume %(volume)s (from %(source)s) '
                'failed: %(reason)s. The %(removed)d volume(s) this request '
                'had created were removed, and no source was changed. '
                'Correct the cause and create the group again.')


class InvalidBackendConfig(exception.InvalidConfigurationValue):
    message = _('The OCFS2 backend %(backend)s is not started because of '
                'invalid options in cinder.conf: %(problems)s Correct them '
                'in the [%(backend)s] section (or [backend_defaults]) and '
                'restart cinder-volume; cinder-ocfs2-status shows the same '
                'checks.')


class UnsupportedCinderRelease(OCFS2DriverError):
    message = _('cinder-ocfs2 %(package)s supports cinder %(minimum)s or '
                'later (OpenStack %(series)s); this cinder is %(found)s. '
                'Install a cinder-ocfs2 release made for it, or upgrade '
                'cinder.')
