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


"""Cinder volume driver for volumes kept as files on OCFS2 LUNs.

Every storage and compute node mounts the same OCFS2 LUNs, through the o2cb
cluster stack, at ``ocfs2_mount_point_base/<pool>``. A volume is a file on
one LUN; attaching it is handing its path to the hypervisor.

Raw volumes (the default) keep a raw file as the only file a guest uses.
Their snapshots, clones, volumes made from snapshots and reverts are
reflinks (extent-sharing copies made with FICLONE) when the LUN supports
them, and full copies otherwise. qcow2 volumes (``ocfs2_volume_format =
qcow2``) use cinder's RemoteFS qcow2 overlay chains for snapshots.
"""

import os

from oslo_concurrency import processutils
from oslo_log import log as logging
from oslo_utils import units

from cinder import context as cinder_context
from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder.image import image_utils
from cinder import interface
from cinder import objects
from cinder.volume.drivers import remotefs
from cinder.volume import volume_utils

from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import locks
from cinder_ocfs2 import luns
from cinder_ocfs2 import manageable
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import options
from cinder_ocfs2 import pools
from cinder_ocfs2 import reflink
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

RAW = 'raw'
QCOW2 = 'qcow2'


@interface.volumedriver
class OCFS2Driver(remotefs.RevertToSnapshotMixin,
                  remotefs.RemoteFSSnapDriver):
    """Volumes as raw or qcow2 files on OCFS2 LUNs shared by o2cb nodes.

    Base class: ``RemoteFSSnapDriver``, not ``RemoteFSSnapDriverDistributed``.
    The distributed variant serialises with cinder's coordination locks,
    whose default (tooz file locks, POSIX fcntl) is node-local on OCFS2 and
    would only look safe. This driver instead takes its own cluster-wide
    flock on the volume's LUN (``cinder_ocfs2.locks``) in every operation
    that reads or changes an existing volume, which holds across nodes with
    no extra service, so several cinder-volume services may serve the
    backend (SUPPORTS_ACTIVE_ACTIVE).

    RemoteFS hooks overridden: ``_find_share``, ``_ensure_shares_mounted``,
    ``_ensure_share_mounted``, ``_get_mount_point_for_share``,
    ``_get_mount_point_base``, ``_qemu_img_info``,
    ``_copy_volume_from_snapshot``, ``_extend_volume``,
    ``_set_rw_permissions``, ``_update_volume_stats``,
    ``set_nas_security_options``. Public operations are overridden to add
    the cluster-wide lock and the raw/reflink path; qcow2 volumes go to the
    RemoteFS qcow2 chain code.
    """

    # Version history:
    #     1.0.0 - Initial driver: LUNs discovered from the mount table,
    #             one pool per LUN, reflink snapshots and clones of raw
    #             volumes, cluster-wide flock locks.
    #     1.1.0 - Manage and unmanage volumes, the manageable-volumes
    #             listing, retype in place, multiattach.
    VERSION = '1.1.0'
    CI_WIKI_NAME = 'cinder-ocfs2_CI'
    SUPPORTS_ACTIVE_ACTIVE = True

    # Nova's libvirt and os-brick protocol for a file that exists at the
    # same path on every host: it attaches device_path, mounting nothing.
    driver_volume_type = 'gpfs'
    driver_prefix = 'ocfs2'
    volume_backend_name = 'OCFS2'
    vendor_name = 'Open Source'

    def __init__(self, execute=processutils.execute, *args, **kwargs):
        super().__init__(*args, execute=execute, **kwargs)
        if self.configuration:
            self.configuration.append_config_values(options.ocfs2_opts)
        self._inventory = None
        self._file_mode = 0o660
        self._reflink_by_fsid = {}
        # Roots of /sys, configfs and /etc for o2cb state (tests point
        # them at captured trees).
        self._o2cb_roots = {}
        self._last_cluster_report = None

    @staticmethod
    def get_driver_options():
        return options.ocfs2_opts

    # -- set-up ------------------------------------------------------------

    def do_setup(self, context):
        super().do_setup(context)
        config = self.configuration
        self._file_mode = volume_files.parse_file_mode(
            config.ocfs2_volume_file_mode)
        self.set_nas_security_options(is_new_cinder_install=False)
        self.base = os.path.normpath(config.ocfs2_mount_point_base)
        self._inventory = luns.LunInventory(self.base, config.ocfs2_shares)
        found = self._inventory.usable()
        LOG.info('OCFS2 backend %(backend)s: %(count)d usable LUN(s) below '
                 '%(base)s now (%(pools)s); LUNs mounted later are used '
                 'without a restart.',
                 {'backend': config.safe_get('volume_backend_name'),
                  'count': len(found), 'base': self.base,
                  'pools': ', '.join(lun.pool for lun in found) or 'none'})
        self._cluster_state()

    def check_for_setup_error(self):
        if not os.path.isdir(self.base):
            LOG.warning('The OCFS2 mount point base %s does not exist yet; '
                        'volumes can be created once LUNs are mounted '
                        'below it.', self.base)

    def set_nas_security_options(self, is_new_cinder_install):
        """Resolve the NAS security options explicitly, never to 'auto'.

        Volume files are created and changed by the cinder-volume service
        user itself, with the mode of ocfs2_volume_file_mode (0660 by
        default), never world-writable.
        """
        self.configuration.nas_secure_file_operations = 'true'
        self.configuration.nas_secure_file_permissions = 'true'
        self._execute_as_root = False

    # -- where things are ----------------------------------------------------

    def _get_mount_point_for_share(self, share):
        """Needed by parent class: a share is a pool name."""
        return os.path.join(self.base, share)

    def _get_mount_point_base(self):
        """Needed by parent class."""
        return self.base

    def _ensure_shares_mounted(self):
        """Needed by parent class: LUNs are discovered on each call."""

    def _ensure_share_mounted(self, share):
        """Needed by parent class: the LUN of a pool must be usable."""
        self._lun(share)

    def _lun(self, pool):
        """The usable, verified LUN of a pool, or a clear error."""
        lun = self._inventory.get(pool)
        identity.verify(lun)
        return lun

    def _lun_of(self, volume):
        if not volume.provider_location:
            raise exception.OCFS2DriverError(
                reason=_('volume %s has no provider_location; it was never '
                         'created on a LUN') % volume.id)
        return self._lun(volume.provider_location)

    def _find_share(self, volume):
        """Needed by parent class: the pool a new volume goes to."""
        return self._place(volume).pool

    def _place(self, volume, pool=None):
        """The LUN for a new volume: the scheduler's pool, verified.

        The scheduler may have decided on stats a minute old, so the LUN's
        cluster health is checked again here.
        """
        pool = pool or volume_utils.extract_host(volume.host, level='pool')
        state = self._cluster_state()
        if pool:
            lun = self._inventory.get(pool)
        else:
            # No pool in the host (an old volume or a direct call): take
            # the healthy LUN with the most free space.
            healthy = [lun for lun in self._inventory.usable()
                       if not self._lun_problem(lun, state)]
            if not healthy:
                raise exception.NoUsableLun(base=self.base, detail='')
            lun = max(healthy,
                      key=lambda each: os.statvfs(each.path).f_bavail)
        problem = self._lun_problem(lun, state)
        if problem:
            raise exception.LunUnavailable(pool=lun.pool, path=lun.path,
                                           reason=problem)
        identity.verify(lun, create=True)
        return lun

    def _cluster_state(self):
        """The o2cb cluster's state now; logged once per change."""
        state = o2cb.get_cluster_state(
            self.configuration.ocfs2_cluster_name, **self._o2cb_roots)
        report = (state.status, tuple(p.code for p in state.problems))
        if report != self._last_cluster_report:
            self._last_cluster_report = report
            if state.problems:
                LOG.warning('%(state)s. Problems: %(problems)s',
                            {'state': state, 'problems': ' '.join(
                                '%s (fix: %s)' % (p.message, p.fix)
                                for p in state.problems)})
            else:
                LOG.info('%s.', state)
        return state

    def _cluster_down_reason(self, state):
        """Why no LUN of this backend can take volumes, or None."""
        wanted = self.configuration.ocfs2_cluster_name
        if state.status is o2cb.ClusterStatus.OFFLINE or (
                wanted and not state.online):
            first = state.problems[0].message if state.problems else ''
            return 'o2cb cluster %s is %s. %s' % (
                state.name or wanted or '(none)', state.status.value, first)
        return None

    def _lun_problem(self, lun, state):
        """Why a LUN must take no new volume now, or None.

        When o2cb cannot be read at all (and no cluster name is
        configured) nothing is known against the LUN, so it is used; the
        state was logged.
        """
        down = self._cluster_down_reason(state)
        if down:
            return down
        if state.online and not state.has_live_heartbeat(lun.device):
            return ('no live o2cb heartbeat region for %s on this node; '
                    'writing to it risks fencing. Check "o2cb '
                    'cluster-status" and dmesg' % lun.device)
        return None

    def _volume_format(self, volume):
        with volume.obj_as_admin():
            metadata = volume.admin_metadata or {}
        return metadata.get('format', RAW)

    def _record_format(self, volume, volume_format):
        volume.admin_metadata['format'] = volume_format
        with volume.obj_as_admin():
            volume.save()

    def _can_reflink(self, lun):
        fsid = identity.mounted_identity(lun).fsid
        if fsid not in self._reflink_by_fsid:
            self._reflink_by_fsid[fsid] = reflink.supported(lun.path)
            LOG.info('OCFS2 %(lun)s: reflink %(state)s.',
                     {'lun': lun, 'state': 'supported'
                      if self._reflink_by_fsid[fsid] else
                      'NOT supported; snapshots and clones are full copies'})
        return self._reflink_by_fsid[fsid]

    def _lock(self, lun, volume_id, operation):
        return locks.cluster_lock(lun.path, 'volume-%s' % volume_id,
                                  self.configuration.ocfs2_lock_timeout,
                                  owner=operation)

    def _execute_quietly(self, *cmd):
        return self._execute(*cmd, run_as_root=False)

    # -- volumes -----------------------------------------------------------

    def create_volume(self, volume):
        if volume.encryption_key_id:
            raise exception.OCFS2DriverError(
                reason=_('encrypted volumes are not supported by this '
                         'backend'))
        volume.provider_location = self._place(volume).pool
        self._do_create_volume(volume)
        return {'provider_location': volume.provider_location}

    def _do_create_volume(self, volume):
        """Needed by parent class: create the file of a placed volume."""
        lun = self._lun_of(volume)
        path = os.path.join(lun.path, volume.name)
        volume_format = self.configuration.ocfs2_volume_format
        with volume_files.no_space_errors(lun, 'creating', volume.name):
            if volume_format == QCOW2:
                volume_files.create_qcow2(self._execute_quietly, path,
                                          volume.size * units.Gi,
                                          self._file_mode)
            else:
                volume_files.create_raw(
                    path, volume.size * units.Gi, self._file_mode,
                    sparse=self.configuration.ocfs2_sparse_volumes)
        LOG.info('Created %(format)s volume %(name)s (%(size)d GiB) on '
                 '%(lun)s.',
                 {'format': volume_format, 'name': volume.name,
                  'size': volume.size, 'lun': lun})
        self._record_format(volume, volume_format)

    def delete_volume(self, volume):
        if not volume.provider_location:
            LOG.warning('Volume %s has no provider_location; nothing to '
                        'delete.', volume.name)
            return
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'delete_volume'):
            removed = [name for name in self._files_of(lun, volume)
                       if volume_files.remove(os.path.join(lun.path, name))]
        locks.remove_lock(lun.path, 'volume-%s' % volume.id)
        if removed:
            LOG.info('Deleted volume %(name)s from %(lun)s (%(files)s).',
                     {'name': volume.name, 'lun': lun,
                      'files': ', '.join(removed)})
        else:
            LOG.info('Volume %(name)s had no file on %(lun)s; treating it as '
                     'deleted.', {'name': volume.name, 'lun': lun})

    @staticmethod
    def _files_of(lun, volume):
        """The volume file and, for qcow2, its info and overlay files."""
        prefix = volume.name + '.'
        names = [volume.name]
        with os.scandir(lun.path) as entries:
            names.extend(sorted(entry.name for entry in entries
                                if entry.name.startswith(prefix)))
        return names

    def extend_volume(self, volume, new_size):
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'extend_volume'):
            self._extend_volume(volume, new_size)

    def _extend_volume(self, volume, size_gb):
        """Needed by parent class: grow the active file, raw or qcow2."""
        if size_gb < volume.size:
            raise cinder_exception.InvalidInput(
                reason=_('cannot shrink volume %(id)s from %(old)d GiB to '
                         '%(new)d GiB: shrinking would destroy data') %
                {'id': volume.id, 'old': volume.size, 'new': size_gb})
        path = self._local_path_active_image(volume)
        self._require_file(volume, path)
        if self._volume_format(volume) == QCOW2:
            image_utils.resize_image(path, size_gb, run_as_root=False)
        else:
            volume_files.grow_raw(
                path, size_gb * units.Gi,
                sparse=self.configuration.ocfs2_sparse_volumes)
        LOG.info('Extended volume %(name)s to %(size)d GiB.',
                 {'name': volume.name, 'size': size_gb})

    def _require_file(self, volume, path):
        if not os.path.exists(path):
            raise exception.VolumeFileMissing(
                name=volume.name, path=path, pool=volume.provider_location)

    # -- attach ------------------------------------------------------------

    def initialize_connection(self, volume, connector):
        """A file attach: the same path on every node, always raw.

        Nova's libvirt "gpfs" volume driver and os-brick's GPFS connector
        take ``device_path`` as a local file and present it as a raw disk,
        whatever ``format`` says; so only raw volumes are handed out.
        """
        lun = self._lun_of(volume)
        volume_format = self._volume_format(volume)
        if volume_format != RAW:
            raise exception.UnsupportedAttachFormat(volume_id=volume.id,
                                                    format=volume_format)
        path = os.path.join(lun.path, volume.name)
        self._require_file(volume, path)
        actual = os.stat(path).st_size
        if actual > volume.size * units.Gi:
            raise exception.VolumeSizeMismatch(
                volume_id=volume.id, virtual=actual, size=volume.size)
        LOG.debug('Attaching %(name)s at %(path)s for %(host)s.',
                  {'name': volume.name, 'path': path,
                   'host': (connector or {}).get('host')})
        return {
            'driver_volume_type': self.driver_volume_type,
            'data': {'device_path': path,
                     'name': volume.name,
                     'format': RAW,
                     'export': lun.pool,
                     'access_mode': 'rw'},
            'mount_point_base': self.base,
        }

    def ensure_export(self, context, volume):
        """Nothing is exported; an unmounted LUN must not fail start-up."""

    # -- snapshots ---------------------------------------------------------

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
            if not use_reflink and volume.status == 'in-use':
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
            if (src_vref.status == 'in-use' and
                    not self._can_reflink(source_lun)):
                raise exception.OCFS2DriverError(
                    reason=_('cloning attached volume %(vol)s needs reflink, '
                             'which %(lun)s does not support; detach it '
                             'first.') % {'vol': src_vref.id,
                                          'lun': source_lun})
            return self._copy_raw_volume(
                os.path.join(source_lun.path, src_vref.name), source_lun,
                volume, 'volume %s' % src_vref.id)

    def _copy_raw_volume(self, source_path, source_lun, volume, what):
        """Make a new raw volume from a raw file, then grow it to size."""
        if not os.path.exists(source_path):
            raise exception.VolumeFileMissing(name=what, path=source_path,
                                              pool=source_lun.pool)
        lun = self._place(volume)
        target = os.path.join(lun.path, volume.name)
        same_lun = lun.path == source_lun.path
        with volume_files.no_space_errors(lun, 'copying %s to' % what,
                                          volume.name):
            method = volume_files.copy_raw(
                self._execute_quietly, source_path, target, self._file_mode,
                use_reflink=same_lun and self._can_reflink(lun))
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
        self._record_format(volume, RAW)
        return {'provider_location': lun.pool}

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

    def _qemu_img_info(self, path, volume_name):
        """Needed by parent class: qemu-img info, backing files checked."""
        return self._qemu_img_info_base(path, volume_name, self.base,
                                        run_as_root=False)

    def revert_to_snapshot(self, context, volume, snapshot):
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'revert_to_snapshot'):
            if self._volume_format(volume) == QCOW2:
                return self._revert_to_snapshot(context, volume, snapshot)
            self._validate_state(volume.status, ('available', 'reverting'))
            source = self._snapshot_path(lun, snapshot)
            target = os.path.join(lun.path, volume.name)
            self._require_file(volume, target)
            if not os.path.exists(source):
                raise exception.VolumeFileMissing(
                    name=snapshot.name, path=source, pool=lun.pool)
            method = volume_files.overwrite_raw(
                self._execute_quietly, source, target,
                self._can_reflink(lun))
            volume_files.set_size(target, volume.size * units.Gi)
        LOG.info('Reverted volume %(vol)s to snapshot %(snap)s by '
                 '%(method)s.', {'vol': volume.name, 'snap': snapshot.name,
                                 'method': method})

    def _set_rw_permissions(self, path):
        """Needed by parent class: the configured mode, never ugo+rw."""
        os.chmod(path, self._file_mode)

    # -- images ------------------------------------------------------------

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

    # -- manage, unmanage, retype --------------------------------------------

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
        with self._lock(lun, volume.id, 'manage_existing'):
            try:
                os.link(path, target)
            except OSError as err:
                raise cinder_exception.ManageExistingInvalidReference(
                    existing_ref=existing_ref,
                    reason=_('cannot name %(path)s %(target)s: %(err)s') % {
                        'path': path, 'target': target, 'err': err})
            os.unlink(path)
            os.chmod(target, self._file_mode)
            volume_files.grow_raw(
                target, volume.size * units.Gi,
                sparse=self.configuration.ocfs2_sparse_volumes)
        self._record_format(volume, RAW)
        LOG.info('Managed %(path)s as volume %(name)s (%(size)d GiB) on '
                 '%(lun)s.', {'path': path, 'name': volume.name,
                              'size': volume.size, 'lun': lun})
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

    # -- stats -------------------------------------------------------------

    def _update_volume_stats(self):
        """Needed by parent class: one pool per usable, verified LUN."""
        state = self._cluster_state()
        pool_list = []
        for pool, lun in sorted(self._inventory.scan().usable.items()):
            try:
                identity.verify(lun)
                capacity = pools.read_capacity(lun.path)
                can_reflink = self._can_reflink(lun)
            except (cinder_exception.CinderException, OSError) as err:
                LOG.warning('OCFS2 %(lun)s left out of the stats: %(err)s',
                            {'lun': lun, 'err': err})
                continue
            pool_list.append(pools.pool_stats(
                pool, capacity, self.configuration, can_reflink,
                down_reason=self._lun_problem(lun, state),
                extra={'cluster_name': state.name,
                       'cluster_status': state.status.value}))
        self._stats = pools.backend_stats(
            self.configuration.safe_get('volume_backend_name') or
            self.volume_backend_name, self.VERSION, pool_list,
            down_reason=self._cluster_down_reason(state))
