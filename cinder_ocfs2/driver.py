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

Every node mounts the same LUNs at ``ocfs2_mount_point_base/<pool>``; a
volume is a file on one LUN, attached by handing its path to the
hypervisor. ``OCFS2Driver`` below says how it is built.
"""

import os

from oslo_concurrency import processutils
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import units

from cinder import exception as cinder_exception
from cinder.i18n import _
from cinder.image import image_utils
from cinder import interface
from cinder.objects import fields
from cinder.volume.drivers import remotefs
from cinder.volume import volume_utils

from cinder_ocfs2 import cluster_health
from cinder_ocfs2 import config_check
from cinder_ocfs2 import driver_backups
from cinder_ocfs2 import driver_groups
from cinder_ocfs2 import driver_images
from cinder_ocfs2 import driver_manage
from cinder_ocfs2 import driver_migration
from cinder_ocfs2 import driver_snapshots
from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import locks
from cinder_ocfs2 import luns
from cinder_ocfs2 import member_views
from cinder_ocfs2 import migration
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import options
from cinder_ocfs2 import pools
from cinder_ocfs2 import privsep
from cinder_ocfs2 import reflink
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

RAW = volume_files.RAW
QCOW2 = volume_files.QCOW2


@interface.volumedriver
class OCFS2Driver(driver_snapshots.SnapshotsMixin,
                  driver_backups.BackupsMixin,
                  driver_manage.ManageMixin,
                  driver_migration.MigrationMixin,
                  driver_images.ImagesMixin,
                  driver_groups.GroupsMixin,
                  remotefs.RevertToSnapshotMixin,
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

    This class places, creates, extends, attaches and reports volumes;
    the mixins hold snapshots and copies (``driver_snapshots``), manage and
    retype (``driver_manage``), migration (``driver_migration``), images
    (``driver_images``), what cinder-backup attaches
    (``driver_backups``) and generic volume groups (``driver_groups``).
    RemoteFS
    hooks are overridden where the parent expects them ("Needed by parent
    class"); qcow2 volumes go to the RemoteFS qcow2 chain code.
    """

    # Version history:
    #     1.0.0 - Initial driver: LUNs discovered from the mount table,
    #             one pool per LUN, reflink snapshots and clones of raw
    #             volumes, cluster-wide flock locks.
    #     1.1.0 - Manage and unmanage volumes, the manageable-volumes
    #             listing, retype in place, multiattach.
    #     1.2.0 - Driver-assisted migration between LUNs (location_info).
    #     1.3.0 - Atomic rewrites (revert, reimage, images), one pool view
    #             for all cluster members, options and the cinder release
    #             checked at start-up, direct-I/O full copies, stats
    #             without a stat of every volume file, groups and group
    #             snapshots by reflink, snapshot manage and unmanage,
    #             backups from a temporary snapshot.
    VERSION = '1.3.0'
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
        # Roots of the o2cb state files; tests use captured trees.
        self._o2cb_roots = {}
        self._health_log = cluster_health.ChangeLog()
        self._withdrawn_log = member_views.WithdrawnLog()
        # Each LUN's volume count, listed again only when its root changed.
        self._volume_counter = pools.VolumeCounter()

    @staticmethod
    def get_driver_options():
        return options.ocfs2_opts

    # -- set-up ------------------------------------------------------------

    def do_setup(self, context):
        # Refuse an unsupported cinder or an invalid option now, not on the
        # first volume: cinder's volume manager then leaves the backend
        # uninitialized and the service down.
        config_check.check_cinder_release()
        config_check.require_valid_options(self.configuration)
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
        """Secure NAS options, never 'auto' (files: 0660, the service's)."""
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
        roots = self._o2cb_roots or {  # debugfs liveness is root-only
            'root_reader': privsep.read_o2hb_livenodes}
        return self._health_log.report(o2cb.get_cluster_state(
            self.configuration.ocfs2_cluster_name, **roots))

    def _cluster_down_reason(self, state):
        return cluster_health.down_reason(
            state, self.configuration.ocfs2_cluster_name)

    def _lun_problem(self, lun, state):
        return cluster_health.lun_problem(
            lun, state, self.configuration.ocfs2_cluster_name)

    def _volume_format(self, volume):
        """The recorded format of a volume's file, checked against it.

        A file recorded as qcow2 must start with the qcow2 header: the
        qcow2 code would otherwise take a raw disk, whose guest may have
        written anything, for an image. (A raw volume may start with such
        a header: it is guest data, and raw volumes are never probed.)
        """
        with volume.obj_as_admin():
            metadata = volume.admin_metadata or {}
        volume_format = metadata.get('format', RAW)
        if volume_format == QCOW2 and volume.provider_location:
            path = self._local_path_active_image(volume)
            if (os.path.exists(path) and
                    not volume_files.has_qcow2_header(path)):
                raise exception.VolumeFormatMismatch(
                    volume_id=volume.id, recorded=QCOW2, path=path)
        return volume_format

    @staticmethod
    def _is_attached(volume):
        """Whether a volume has attachments, whatever its status says.

        A backup or a migration changes an attached volume's status from
        in-use, but a guest may still be writing to it.
        """
        return bool(volume.volume_attachment) or volume.attach_status in (
            fields.VolumeAttachStatus.ATTACHED,
            fields.VolumeAttachStatus.ATTACHING)

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
        lun = self._place(volume)
        volume.provider_location = lun.pool
        with self._lock(lun, volume.id, 'create_volume') as lock:
            try:
                self._do_create_volume(volume)
            except BaseException:
                # cinder saves the volume before it reschedules the
                # create: it must not record a pool that holds no file of
                # it, nor keep a lock file for it there.
                volume.provider_location = None
                lock.remove_on_release()
                raise
        return {'provider_location': lun.pool}

    def _do_create_volume(self, volume):
        """Needed by parent class: create the file of a placed volume.

        A file of the volume's own name can only be left by an earlier
        attempt to create this volume (cinder reschedules a failed create,
        and cleans up after it only when it can): it is replaced.
        """
        lun = self._lun_of(volume)
        path = os.path.join(lun.path, volume.name)
        volume_format = self.configuration.ocfs2_volume_format
        if os.path.lexists(path):
            LOG.warning('Replacing %(path)s, left by an earlier attempt to '
                        'create volume %(id)s.', {'path': path,
                                                  'id': volume.id})
            volume_files.remove(path)
        with volume_files.no_space_errors(lun, 'creating', volume.name):
            if volume_format == QCOW2:
                volume_files.create_qcow2(self._execute_quietly, path,
                                          volume.size * units.Gi,
                                          self._file_mode)
            else:
                volume_files.create_raw(
                    path, volume.size * units.Gi, self._file_mode,
                    sparse=self.configuration.ocfs2_sparse_volumes)
        try:
            self._record_format(volume, volume_format)
        except BaseException:
            volume_files.remove(path)
            raise
        LOG.info('Created %(format)s volume %(name)s (%(size)d GiB) on '
                 '%(lun)s.',
                 {'format': volume_format, 'name': volume.name,
                  'size': volume.size, 'lun': lun})

    def delete_volume(self, volume):
        if not volume.provider_location:
            # A create that failed on some member, or was rescheduled, may
            # still have left a file on a LUN.
            found = self._remove_leftovers(volume, keep=())
            LOG.info('Volume %(name)s has no provider_location; %(what)s.',
                     {'name': volume.name, 'what': 'removed its files on '
                      'pool(s) %s' % ', '.join(found) if found else
                      'no LUN holds a file of it'})
            return
        lun = self._lun_of(volume)
        with self._lock(lun, volume.id, 'delete_volume') as lock:
            removed = self._remove_files(lun, volume)
            # Its files on any other LUN were left by an interrupted
            # migration (driver_migration); each is logged as a warning.
            elsewhere = self._remove_leftovers(volume, keep=(lun,))
            lock.remove_on_release()
        if removed:
            LOG.info('Deleted volume %(name)s from %(lun)s (%(files)s).',
                     {'name': volume.name, 'lun': lun,
                      'files': ', '.join(removed)})
        elif elsewhere:
            LOG.info('Deleted volume %(name)s: it had no file on %(lun)s, '
                     'only on pool(s) %(pools)s.',
                     {'name': volume.name, 'lun': lun,
                      'pools': ', '.join(elsewhere)})
        else:
            LOG.info('Volume %(name)s had no file on %(lun)s nor on any '
                     'other LUN; treating it as deleted.',
                     {'name': volume.name, 'lun': lun})

    def _remove_files(self, lun, volume):
        """Remove the volume's files from lun; returns the names removed."""
        return [name for name in self._files_of(lun, volume)
                if volume_files.remove(os.path.join(lun.path, name))]

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

    def _set_rw_permissions(self, path):
        """Needed by parent class: the configured mode, never ugo+rw."""
        os.chmod(path, self._file_mode)

    # -- stats -------------------------------------------------------------

    def _update_volume_stats(self):
        """Needed by parent class: one pool per usable, verified LUN."""
        state = self._cluster_state()
        selection = self._inventory.scan()
        unusable = dict(selection.skipped)
        measured = []
        for pool, lun in sorted(selection.usable.items()):
            try:
                mounted = identity.verify(lun)
                capacity = pools.read_capacity(
                    lun.path, self._volume_counter)
                can_reflink = self._can_reflink(lun)
            except (cinder_exception.CinderException, OSError) as err:
                LOG.warning('OCFS2 %(lun)s left out of the stats: %(err)s',
                            {'lun': lun, 'err': err})
                unusable[pool] = str(err)
                continue
            problem = self._lun_problem(lun, state)
            if problem:
                unusable[pool] = problem
            measured.append((lun, mounted, capacity, can_reflink, problem))
        # In a cinder cluster a pool is offered only if every member can
        # use it: either member may be handed the request.
        withdrawn = self._share_member_view(selection, unusable)
        pool_list = [
            pools.pool_stats(
                lun.pool, capacity, self.configuration, can_reflink,
                down_reason=problem or withdrawn.get(lun.pool),
                extra={'location_info':
                       migration.location_info(mounted.fsid, lun.path),
                       'cluster_name': state.name,
                       'cluster_status': state.status.value,
                       'cluster_live_nodes': state.live_node_names})
            for lun, mounted, capacity, can_reflink, problem in measured]
        self._stats = pools.backend_stats(
            self._backend_name(), self.VERSION, pool_list,
            down_reason=self._cluster_down_reason(state))

    def _backend_name(self):
        return (self.configuration.safe_get('volume_backend_name') or
                self.volume_backend_name)

    def _share_member_view(self, selection, unusable):
        """Tell the other members what this one cannot use; hear theirs.

        Only members of one cinder cluster (``[DEFAULT] cluster``) share
        requests, so only they share views; the cinder cluster's name
        (``<cluster>@<backend>``) keys them on the LUNs.

        :param unusable: pools this member cannot use: pool -> reason.
        :returns: pools another live member cannot use: pool -> reason
            (``cinder_ocfs2.member_views``). Empty for a service outside a
            cinder cluster.
        """
        if not (self.host and self.cluster_name):
            return {}
        paths = [lun.path for pool, lun in sorted(selection.usable.items())
                 if pool not in unusable]
        backend = self.cluster_name
        views = member_views.read_views(paths, backend)
        # A pool another member uses that is not mounted here at all.
        seen_here = set(selection.usable) | set(selection.skipped)
        allowed = set(self.configuration.ocfs2_shares or ())
        for view in views:
            for pool in view.used:
                if pool not in seen_here and (not allowed or
                                              pool in allowed):
                    unusable[pool] = '%s is not mounted on %s' % (
                        os.path.join(self.base, pool), self.host)
        now = timeutils.utcnow(with_timezone=True)
        member_views.publish(paths, backend, member_views.MemberView(
            host=self.host, written_at=now, unusable=unusable,
            used=sorted(set(selection.usable) - set(unusable))))
        withdrawn = member_views.withdrawn_pools(
            views, self.host, now, member_views.MAX_AGE)
        self._withdrawn_log.report(withdrawn)
        return withdrawn
