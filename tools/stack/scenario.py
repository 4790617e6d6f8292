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

"""The user operations of the walkthrough, in order, each checked.

Data written through an attachment on node2 is followed through a
snapshot, a volume made from it, a clone, a backup and its restore, so
each step proves the bytes, not only the status.
"""

import hashlib
import pathlib
import shlex
import time

import compute
import consistency
import deployment
import guest
from openstack_cli import Cloud
import servers
from transcript import StepFailed

GIB = 1024 ** 3
TYPE = 'ocfs2'
IMAGE = 'ocfs2-test-image'
IMAGE_TEXT = 'cinder-ocfs2 test image'
BEFORE_SNAPSHOT = 'written on node2 through the attachment'
AFTER_SNAPSHOT = 'written on node1 after the snapshot'
BEFORE_REIMAGE = 'written on node1 before the reimage'
TAMPERED = 'ocfs2-tampered-image'
# Volumes created while lun1 is read-only on node1.
READ_ONLY_CREATES = ('vol-ro-a', 'vol-ro-b', 'vol-ro-c')
MOUNTED = ('lun1', 'lun2', 'lun3')
SPARE = 'lun4'
# The second backend (guest.BACKENDS), and its volume type.
SECOND = 'ocfs2-b'
# A second type of the first backend, with the same extra specs.
GOLD = deployment.GOLD_TYPE
# A raw image of real size: cinder downloads all of it to the node's
# image_conversion_dir before writing the volume.  Known bytes at the
# start and 1 MiB before the end, zeroes (a hole) in between.
BIG_IMAGE = 'ocfs2-2gib-image'
BIG_SIZE = 2 * 1024 ** 3
BIG_HEAD = 'cinder-ocfs2 2 GiB image, first bytes'
BIG_TAIL = 'cinder-ocfs2 2 GiB image, 1 MiB before the end'
BIG_TAIL_OFFSET = BIG_SIZE - 1024 ** 2
IN_PLACE = ('vol-retype-a', 'vol-retype-b')
# The generic volume group step: a member on each of two LUNs (and a
# third beside the first), each with a text of its own.
GROUP_TYPE = 'ocfs2-generic-group'
GROUP_MEMBERS = (('gvol-a', 'lun1'), ('gvol-b', 'lun2'), ('gvol-c', 'lun1'))
GROUP_BEFORE = 'group member %s before the group snapshot'
GROUP_AFTER = 'group member %s after the group snapshot'
# The snapshot manage step.
MANAGED_SNAPSHOT = 'snap-managed'
# Well inside cinder's service_down_time (60 s), and far more than chrony
# leaves (tens of milliseconds); a node without clock sync drifts past it
# within minutes under load.
MAX_CLOCK_OFFSET = 2.0
# How `openstack volume show` names a volume's migration status (admin).
MIGSTAT = 'os-vol-mig-status-attr:migstat'


class Scenario:

    def __init__(self, transcript, lab, services, env):
        self.t = transcript
        self.lab = lab
        self.services = services
        self.clone_id = None
        self.cache_id = None
        self.attachment = None
        self.cloud = Cloud(transcript)
        self.env = env
        self.nova = guest.nova_enabled(env)
        self.mysql_socket = env['MYSQL_SOCKET']
        self.stack_data = pathlib.Path(env['STACK_DATA'])
        self.glance_images = self.stack_data / 'glance' / 'images'

    # --- helpers

    def guest(self, node, line, timeout=120):
        self.t.write('[%s]$ %s\n' % (node, line))
        result = self.lab.run(node, line, timeout=timeout)
        self.t.write(result.stdout if result.stdout.endswith('\n') or
                     not result.stdout else result.stdout + '\n')
        if result.stderr.strip():
            self.t.write(result.stderr.rstrip('\n') + '\n')
        if result.exit_code:
            raise StepFailed('on %s, %r exited %d' % (node, line,
                                                      result.exit_code))
        return result.stdout

    def path_of(self, volume):
        """The volume's file: <mount base>/<pool>/volume-<name id>.

        The name id is the volume's id, or after a migration the id of the
        volume it was copied into.
        """
        shown = self.cloud.openstack_json('volume', 'show', volume,
                                          quiet=True)
        pool = shown['os-vol-host-attr:host'].rpartition('#')[2]
        name_id = shown.get('os-vol-mig-status-attr:name_id') or shown['id']
        return '%s/%s/volume-%s' % (guest.MOUNT_BASE, pool, name_id)

    def id_of(self, kind, name):
        return self.cloud.show(kind, name)['id']

    def read_text(self, node, path, length):
        line = 'head -c %d %s' % (length, shlex.quote(path))
        return self.guest(node, line)

    def expect_text(self, node, path, text):
        got = self.read_text(node, path, len(text))
        self.t.check(got == text, '%s holds %r (read on %s)'
                     % (path, text, node))

    def create_volume(self, name, *options, size=1):
        self.cloud.openstack('volume', 'create', '--size', str(size),
                             *options, name)
        self.cloud.wait('volume', name)
        return self.cloud.show('volume', name)

    def delete_images_and_cache(self, *images):
        """Delete images and their image-volume cache entries.

        A volume made from an image leaves a cache entry (a volume named
        image-<image id>, owned by cinder's internal tenant) that outlives
        the image: left behind, it is a volume file no user deleted.
        """
        cached = []
        for image in images:
            image_id = self.id_of('image', image)
            cached += [item['ID'] for item in self.cloud.openstack_json(
                'volume', 'list', '--all-projects', '--name',
                'image-%s' % image_id, quiet=True)]
        self.t.note('image-volume cache entries of %s: %s'
                    % (', '.join(images), ', '.join(cached) or 'none'))
        if cached:
            self.cloud.openstack('volume', 'delete', *cached)
            for volume_id in cached:
                self.cloud.wait_gone('volume', volume_id)
        self.cloud.openstack('image', 'delete', *images)
        for image in images:
            self.cloud.wait_gone('image', image)

    def pool_states(self):
        """{pool: (pool_state, pool_down_reason)} from get-pools --detail."""
        out = self.cloud.cinder('get-pools', '--detail', quiet=True)
        states, pool = {}, None
        for line in out.splitlines():
            cells = [cell.strip() for cell in line.split('|')]
            if len(cells) < 3:
                continue
            if cells[1] == 'name':
                pool = cells[2].rpartition('#')[2]
                states[pool] = ('up', '')
            elif cells[1] == 'pool_state' and pool:
                states[pool] = (cells[2], states[pool][1])
            elif cells[1] == 'pool_down_reason' and pool:
                states[pool] = (states[pool][0], cells[2])
        return states

    def wait_pool_state(self, pool, want, timeout=300):
        deadline = time.monotonic() + timeout
        while True:
            state = self.pool_states().get(pool, ('absent', ''))
            if state[0] == want:
                return state
            if time.monotonic() > deadline:
                raise StepFailed('pool %s is %s, not %s, after %d s'
                                 % (pool, state[0], want, timeout))
            # Each member reports every 60 s; the scheduler shows the last
            # report (node1 leaves a pool it cannot use out of its own).
            time.sleep(10)

    def pools(self):
        """{pool: backend} from cinder get-pools (host@backend#pool)."""
        out = self.cloud.cinder('get-pools', '--detail')
        names = [line.split('|')[2].strip() for line in out.splitlines()
                 if line.startswith('| name ')]
        return {name.rpartition('#')[2]:
                name.partition('@')[2].partition('#')[0] for name in names}

    # --- the steps

    def run(self):
        self.clocks('at the start')
        self.services_and_type()
        self.pools_per_lun()
        self.create_show_list()
        self.groups()
        if self.nova:
            servers.Servers(self).run()
        self.attach()
        self.backup_restore()
        self.detach()
        self.extend()
        self.snapshots()
        self.from_snapshot_and_clone()
        self.manage_snapshot()
        self.revert()
        if not self.nova:
            # With nova, the server rebuild drives the same cinder reimage
            # (a refused image, then a good one) and checks the same bytes.
            self.reimage()
        self.retype_in_place()
        self.retype_to_second_backend()
        self.unmanage_and_manage()
        self.image_round_trip()
        self.image_cache()
        self.image_of_real_size()
        self.spare_lun()
        self.lun_read_only_on_one_node()
        self.check_consistency('with every volume still there')
        self.delete_everything()
        self.check_consistency('after deleting everything', expect_empty=True)
        self.clocks('at the end')

    def clocks(self, when):
        """Each node's clock against the host's (chrony on the RTC).

        cinder's scheduler counts a volume service as down when its last
        report (stamped with the node's clock) is older than 60 s: a node
        whose clock fell behind would look dead.
        """
        self.t.section('node clocks against the host, %s' % when)
        for offset in self.lab.clock_offsets().values():
            self.t.write('%s\n' % offset.summary())
            self.t.check(abs(offset.offset) < MAX_CLOCK_OFFSET,
                         '%s is within %.1f s of the host'
                         % (offset.node, MAX_CLOCK_OFFSET))

    def services_and_type(self):
        self.t.section('services and the volume type')
        rows = self.cloud.openstack_json('volume', 'service', 'list')
        self.cloud.openstack('volume', 'service', 'list')
        clusters = {r['Cluster'] for r in rows
                    if r['Binary'] == 'cinder-volume'}
        wanted = {'%s@%s' % (guest.CINDER_CLUSTER, backend)
                  for backend in guest.BACKENDS}
        self.t.check(clusters == wanted,
                     'both nodes serve each backend, as clusters %s'
                     % ', '.join(sorted(wanted)))
        deployment.create_volume_types(self.cloud)

    def pools_per_lun(self):
        self.t.section('one pool per mounted LUN')
        deadline = time.monotonic() + 180
        wanted = {pool: backend
                  for backend, shares in guest.BACKENDS.items()
                  for pool in shares if pool in MOUNTED}
        while True:
            pools = self.pools()
            if pools == wanted or time.monotonic() > deadline:
                break
            time.sleep(10)
        self.t.check(pools == wanted, 'pools %s = mounted LUNs, each in its '
                     'backend %s' % (pools, wanted))

    def create_show_list(self):
        self.t.section('create (--type), show, list')
        vol = self.create_volume('vol1', '--type', TYPE)
        self.t.check(vol['type'] == TYPE and vol['size'] == 1,
                     'vol1 is a 1 GiB volume of type %s, served by %s in '
                     'cluster %s' % (TYPE, vol['os-vol-host-attr:host'],
                                     vol['cluster_name']))
        self.cloud.openstack('volume', 'list')
        self.guest('node1', 'ls -l %s' % self.path_of('vol1'))

    def log_lines_with(self, text):
        """The cinder-volume log lines of both nodes that contain text."""
        lines = [line for node in ('node1', 'node2')
                 for line in self.services.log_lines(node, 'cinder-volume')
                 if text in line]
        self.t.write(''.join(lines))
        return lines

    def write_text(self, node, path, text):
        self.guest(node, 'printf %%s %s | dd of=%s conv=notrunc,fsync '
                   'status=none' % (shlex.quote(text), path))

    def group_volumes(self, group):
        """{volume id: volume} of the volumes in group (cinder list)."""
        group_id = self.cloud.show('group', group)['ID']
        out = self.cloud.cinder('list', '--group_id', group_id)
        ids = [cells[1].strip() for cells in
               (line.split('|') for line in out.splitlines())
               if len(cells) > 2 and len(cells[1].strip()) == 36]
        return {each: self.cloud.show('volume', each) for each in ids}

    def groups(self):
        self.t.section('generic volume group on two LUNs: a group snapshot '
                       '(one reflink per member), a group made from it, a '
                       'group made from the group')
        types = {}
        for _, pool in GROUP_MEMBERS:
            if pool not in types:
                types[pool] = 'ocfs2-group-%s' % pool
                self.cloud.openstack(
                    'volume', 'type', 'create', '--property',
                    'volume_backend_name=ocfs2', '--property',
                    'pool_name=%s' % pool, types[pool])
        self.cloud.openstack('volume', 'group', 'type', 'create',
                             GROUP_TYPE)
        self.cloud.openstack(
            'volume', 'group', 'create', '--volume-group-type', GROUP_TYPE,
            *[arg for name in types.values()
              for arg in ('--volume-type', name)], '--name', 'grp1')
        self.cloud.wait('group', 'grp1')
        group_id = self.cloud.show('group', 'grp1')['ID']
        writers = {}
        for index, (name, pool) in enumerate(GROUP_MEMBERS):
            self.cloud.cinder('create', '--group-id', group_id,
                              '--volume-type', types[pool], '--name', name,
                              '1')
            self.cloud.wait('volume', name)
            host = self.cloud.show('volume', name)['os-vol-host-attr:host']
            self.t.check(host.endswith('#' + pool), '%s is in grp1, on %s'
                         % (name, host))
            writers[name] = ('node1', 'node2')[index % 2]
            self.write_text(writers[name], self.path_of(name),
                            GROUP_BEFORE % name)
        self.cloud.openstack('volume', 'group', 'snapshot', 'create',
                             '--name', 'gsnap1', 'grp1')
        self.cloud.wait('group snapshot', 'gsnap1')
        gsnap_id = self.cloud.show('group snapshot', 'gsnap1')['ID']
        lines = self.log_lines_with('Group snapshot %s: %d member(s)'
                                    % (gsnap_id, len(GROUP_MEMBERS)))
        self.t.check(len(lines) == 1, 'the driver snapshotted the %d '
                     'members of grp1, each by reflink on its own LUN'
                     % len(GROUP_MEMBERS))
        self.t.note('now change every member: the group snapshot must keep '
                    'the old data')
        for name, _ in GROUP_MEMBERS:
            self.write_text(writers[name], self.path_of(name),
                            GROUP_AFTER % name)
        ids = {self.cloud.show('volume', name)['id']: name
               for name, _ in GROUP_MEMBERS}
        # openstackclient 7 sends source_group_id null with
        # --group-snapshot, which the API refuses: the cinder CLI it is.
        self.cloud.cinder('group-create-from-src', '--group-snapshot',
                          'gsnap1', '--name', 'grp-from-gsnap')
        self.cloud.wait('group', 'grp-from-gsnap')
        self.check_group_copy('grp-from-gsnap', ids, writers, GROUP_BEFORE,
                              lambda vol: self.cloud.show(
                                  'snapshot', vol['snapshot_id'])['volume_id'])
        # The project's quota is 10 volumes: this copy goes before the next.
        self.cloud.openstack('volume', 'group', 'delete', '--force',
                             'grp-from-gsnap')
        self.cloud.wait_gone('group', 'grp-from-gsnap')
        self.cloud.cinder('group-create-from-src', '--source-group', 'grp1',
                          '--name', 'grp-clone')
        self.cloud.wait('group', 'grp-clone')
        self.check_group_copy('grp-clone', ids, writers, GROUP_AFTER,
                              lambda vol: vol['source_volid'])
        self.cloud.openstack('volume', 'group', 'delete', '--force',
                             'grp-clone')
        self.cloud.wait_gone('group', 'grp-clone')
        self.cloud.openstack('volume', 'group', 'snapshot', 'delete',
                             'gsnap1')
        self.cloud.wait_gone('group snapshot', 'gsnap1')
        self.cloud.openstack('volume', 'group', 'delete', '--force', 'grp1')
        self.cloud.wait_gone('group', 'grp1')

    def check_group_copy(self, group, ids, writers, text, source_of):
        """Each volume of group holds text of its source member.

        cinder gives every volume of a group made from a source one pool,
        the source group's: a copy of a member on that LUN is a reflink,
        of one on another LUN a full copy.

        :param ids: {member volume id: member name} of grp1.
        :param source_of: a copy's member volume id, from its volume show.
        """
        copies = self.group_volumes(group)
        sources, pools = {}, set()
        for copy_id, vol in copies.items():
            name = ids.get(source_of(vol))
            if name is None:
                raise StepFailed('volume %s of %s comes from no member of '
                                 'grp1' % (copy_id, group))
            sources[name] = copy_id
            pool = vol['os-vol-host-attr:host'].rpartition('#')[2]
            pools.add(pool)
            self.t.note('%s: the copy of %s is on %s (%s)' % (
                group, name, pool, 'a reflink' if pool == dict(
                    GROUP_MEMBERS)[name] else 'a full copy from another LUN'))
            other = 'node2' if writers[name] == 'node1' else 'node1'
            self.expect_text(other, self.path_of(copy_id), text % name)
        self.t.check(sorted(sources) == sorted(ids.values()) and
                     len(pools) == 1, '%s holds one copy of each member of '
                     'grp1, all on pool %s' % (group, ', '.join(pools)))

    def attach(self):
        self.t.section('attach to node2 through the attachments API')
        # No server id: cinder would ask nova (absent here) before deleting
        # an attachment that names a server.
        out = self.cloud.cinder('attachment-create', 'vol1')
        self.attachment = next(line.split('|')[2].strip()
                               for line in out.splitlines()
                               if line.startswith('| id '))
        info = self.cloud.openstack_json(
            'volume', 'attachment', 'set', '--host', 'node2',
            '--ip', '198.51.100.12', '--platform', 'x86_64',
            '--os-type', 'linux', self.attachment)
        connection = info['Properties'] if 'Properties' in info else info
        self.t.write('connection info: %s\n' % connection)
        device_path = _find_key(connection, 'device_path')
        self.t.check(device_path == self.path_of('vol1'),
                     'device_path is the volume file %s' % device_path)
        self.cloud.openstack('volume', 'attachment', 'complete',
                             self.attachment)
        self.cloud.wait('volume', 'vol1', 'in-use')
        self.guest('node2', 'ls -l %s' % device_path)
        self.guest('node2', 'printf %%s %s | dd of=%s conv=notrunc,fsync '
                   'status=none' % (shlex.quote(BEFORE_SNAPSHOT), device_path))
        self.expect_text('node1', device_path, BEFORE_SNAPSHOT)

    def detach(self):
        self.t.section('detach from node2')
        self.cloud.openstack('volume', 'attachment', 'delete',
                             self.attachment)
        self.cloud.wait('volume', 'vol1')

    def extend(self):
        self.t.section('extend')
        self.cloud.openstack('volume', 'set', '--size', '2', 'vol1')
        self.cloud.wait('volume', 'vol1')
        path = self.path_of('vol1')
        size = int(self.guest('node2', 'stat -c %%s %s' % path))
        self.t.check(size == 2 * GIB, 'vol1 file is 2 GiB (%d bytes)' % size)

    def snapshots(self):
        self.t.section('snapshot create, list')
        self.cloud.openstack('volume', 'snapshot', 'create', '--volume',
                             'vol1', 'snap1')
        self.cloud.wait('snapshot', 'snap1')
        self.cloud.openstack('volume', 'snapshot', 'list')
        self.t.note('now change vol1: the snapshot must keep the old data')
        self.guest('node1', 'printf %%s %s | dd of=%s conv=notrunc,fsync '
                   'status=none' % (shlex.quote(AFTER_SNAPSHOT),
                                    self.path_of('vol1')))

    def from_snapshot_and_clone(self):
        self.t.section('volume from snapshot, clone (--source)')
        self.create_volume('vol-from-snap', '--snapshot', 'snap1', size=2)
        self.expect_text('node2', self.path_of('vol-from-snap'),
                         BEFORE_SNAPSHOT)
        self.create_volume('vol-clone', '--source', 'vol1', size=2)
        self.expect_text('node2', self.path_of('vol-clone'), AFTER_SNAPSHOT)

    def manage_snapshot(self):
        self.t.section('unmanage a snapshot, then manage its file again')
        self.cloud.openstack('volume', 'snapshot', 'create', '--volume',
                             'vol1', 'snap2')
        self.cloud.wait('snapshot', 'snap2')
        snap_id = self.cloud.show('snapshot', 'snap2')['id']
        pool = self.path_of('vol1').split('/')[-2]
        path = '%s/%s/snapshot-%s' % (guest.MOUNT_BASE, pool, snap_id)
        self.cloud.openstack('volume', 'snapshot', 'delete', '--remote',
                             'snap2')
        self.cloud.wait_gone('snapshot', 'snap2')
        self.t.note('cinder forgot snap2; its file stays on the LUN')
        self.expect_text('node2', path, AFTER_SNAPSHOT)
        self.cloud.openstack('volume', 'snapshot', 'create', '--volume',
                             'vol1', '--remote-source',
                             'source-name=snapshot-%s' % snap_id,
                             MANAGED_SNAPSHOT)
        self.cloud.wait('snapshot', MANAGED_SNAPSHOT)
        managed = self.cloud.show('snapshot', MANAGED_SNAPSHOT)
        managed_path = '%s/%s/snapshot-%s' % (guest.MOUNT_BASE, pool,
                                              managed['id'])
        self.t.check(managed['size'] == 2, '%s is a 2 GiB snapshot of vol1'
                     % MANAGED_SNAPSHOT)
        self.guest('node1', 'test ! -e %s && ls -l %s' % (path,
                                                          managed_path))
        self.create_volume('vol-from-managed', '--snapshot',
                           MANAGED_SNAPSHOT, size=2)
        self.expect_text('node1', self.path_of('vol-from-managed'),
                         AFTER_SNAPSHOT)
        self.cloud.openstack('volume', 'delete', 'vol-from-managed')
        self.cloud.wait_gone('volume', 'vol-from-managed')
        self.cloud.openstack('volume', 'snapshot', 'delete',
                             MANAGED_SNAPSHOT)
        self.cloud.wait_gone('snapshot', MANAGED_SNAPSHOT)

    def retype_in_place(self):
        self.t.section('retype in place: same backend, the volume keeps its '
                       'file and its host')
        # Two volumes, so that (the cluster queue being shared round-robin)
        # each member most likely creates one. cinder's scheduler names the
        # cluster by one member; ClusterMemberFilterScheduler keeps the
        # member that created the volume.
        before = {}
        for name in IN_PLACE:
            vol = self.create_volume(name, '--type', TYPE)
            before[name] = (vol['os-vol-host-attr:host'], self.path_of(name))
        members = {host.partition('@')[0] for host, _ in before.values()}
        self.t.write('created by %s\n' % ', '.join(sorted(members)))
        for name in IN_PLACE:
            self.guest('node1', 'printf %%s %s | dd of=%s conv=notrunc,fsync '
                       'status=none' % (name, before[name][1]))
            self.cloud.openstack('volume', 'set', '--type', GOLD,
                                 '--migration-policy', 'never', name)
        for name in IN_PLACE:
            deadline = time.monotonic() + 120
            while True:
                shown = self.cloud.show('volume', name)
                if shown['type'] == GOLD or time.monotonic() > deadline:
                    break
                time.sleep(3)
            self.t.check(shown['type'] == GOLD and shown['status'] ==
                         'available' and shown['os-vol-host-attr:host'] ==
                         before[name][0],
                         '%s is of type %s, %s, still on %s (was %s)'
                         % (name, shown['type'], shown['status'],
                            shown['os-vol-host-attr:host'], before[name][0]))
            self.expect_text('node2', before[name][1], name)

    def retype_to_second_backend(self):
        self.t.section('retype to the other backend: the file moves LUN')
        # By id: while it migrates, a second volume has the same name.
        clone = self.cloud.show('volume', 'vol-clone')['id']
        before = self.path_of(clone)
        self.cloud.openstack('volume', 'set', '--type', SECOND,
                             '--migration-policy', 'on-demand', clone)
        self.cloud.wait('volume', clone, timeout=900)
        deadline = time.monotonic() + 300
        while True:
            shown = self.cloud.show('volume', clone)
            if (shown.get(MIGSTAT) in ('success', 'error', None)
                    or time.monotonic() > deadline):
                break
            time.sleep(10)
        self.t.check(shown['type'] == SECOND and
                     '@%s#' % SECOND in shown['os-vol-host-attr:host'],
                     'vol-clone is of type %s on %s (migration %s)'
                     % (shown['type'], shown['os-vol-host-attr:host'],
                        shown.get(MIGSTAT)))
        # The driver moved the file itself (driver-assisted migration):
        # the volume keeps its own file name, no temporary volume.
        self.t.check(not shown.get('os-vol-mig-status-attr:name_id') and
                     shown.get(MIGSTAT) == 'success',
                     'vol-clone was moved by the driver: name id %s, '
                     'migration %s' % (
                         shown.get('os-vol-mig-status-attr:name_id'),
                         shown.get(MIGSTAT)))
        self.expect_text('node1', self.path_of(clone), AFTER_SNAPSHOT)
        # The source volume is deleted after the migration completes.
        deadline = time.monotonic() + 300
        while len(self.cloud.openstack_json(
                'volume', 'list', '--all-projects', '--name', 'vol-clone',
                quiet=True)) > 1 and time.monotonic() < deadline:
            time.sleep(10)
        self.guest('node2', 'test ! -e %s' % before)
        self.clone_id = clone

    def unmanage_and_manage(self):
        self.t.section('unmanage, then manage the file again')
        path = self.path_of(self.clone_id)
        host = self.cloud.show('volume',
                               self.clone_id)['os-vol-host-attr:host']
        self.cloud.openstack('volume', 'delete', '--remote', self.clone_id)
        self.cloud.wait_gone('volume', self.clone_id)
        self.guest('node2', 'ls -l %s' % path)
        cluster = '%s@%s' % (guest.CINDER_CLUSTER, host.partition('@')[2])
        # --non-bootable: without it the client sends "bootable": null,
        # which the API refuses (python-openstackclient 7).
        self.cloud.openstack('volume', 'create', '--remote-source',
                             'source-name=%s' % path.rpartition('/')[2],
                             '--cluster', cluster, '--type', SECOND,
                             '--non-bootable', 'vol-managed')
        self.cloud.wait('volume', 'vol-managed')
        self.expect_text('node2', self.path_of('vol-managed'),
                         AFTER_SNAPSHOT)
        self.guest('node1', 'test ! -e %s' % path)

    def image_round_trip(self):
        self.t.section('volume from image, image from volume')
        self.create_volume('vol-from-image', '--type', TYPE, '--image', IMAGE)
        self.expect_text('node1', self.path_of('vol-from-image'), IMAGE_TEXT)
        self.cloud.openstack('image', 'create', '--volume', 'vol-from-image',
                             '--disk-format', 'raw', '--container-format',
                             'bare', 'image-from-volume')
        self.cloud.wait('image', 'image-from-volume', 'active')
        self.cloud.wait('volume', 'vol-from-image')
        image = self.cloud.show('image', 'image-from-volume')
        self.t.check(image['size'] == GIB, 'the image is 1 GiB (%s bytes)'
                     % image['size'])
        with open(self.glance_images / image['id'], 'rb') as stored:
            head = stored.read(len(IMAGE_TEXT)).decode(errors='replace')
        self.t.check(head == IMAGE_TEXT, 'the image in glance starts with %r'
                     % IMAGE_TEXT)

    def image_cache(self):
        self.t.section('image-volume cache: the next volume from the image '
                       'is a reflink of the cached one')
        image_id = self.cloud.show('image', IMAGE)['id']
        first = self.cloud.show('volume', 'vol-from-image')
        pool = first['os-vol-host-attr:host'].rpartition('#')[2]
        cached = self.cloud.openstack_json(
            'volume', 'list', '--all-projects', '--name',
            'image-%s' % image_id)
        self.t.check(len(cached) == 1, 'one cached image-volume, %s, '
                     'owned by the internal tenant' % 'image-%s' % image_id)
        self.cache_id = cached[0]['ID']
        cache = self.cloud.show('volume', self.cache_id)
        self.t.check(cache['os-vol-host-attr:host'].endswith('#' + pool),
                     'the cache is on %s, the pool of vol-from-image'
                     % cache['os-vol-host-attr:host'])
        # The cache is per pool: a type pinned to that pool hits it.
        pinned = 'ocfs2-%s' % pool
        self.cloud.openstack('volume', 'type', 'create', '--property',
                             'volume_backend_name=ocfs2', '--property',
                             'pool_name=%s' % pool, pinned)
        vol = self.create_volume('vol-from-cache', '--type', pinned,
                                 '--image', IMAGE)
        self.expect_text('node2', self.path_of('vol-from-cache'),
                         IMAGE_TEXT)
        wanted = 'Created volume volume-%s on pool %s (' % (vol['id'], pool)
        lines = [line for node in ('node1', 'node2')
                 for line in self.services.log_lines(node, 'cinder-volume')
                 if wanted in line]
        self.t.write(''.join(lines))
        self.t.check(len(lines) == 1 and
                     'from volume %s by reflink' % self.cache_id in lines[0],
                     'the driver made vol-from-cache from the cached '
                     'image-volume by reflink')

    def image_of_real_size(self):
        self.t.section('volume from a 2 GiB raw image: downloaded whole '
                       'into the node\'s conversion disk, read on the '
                       'other node')
        started = time.monotonic()
        source = self.stack_data / 'image-2gib.raw'
        write_big_image(source)
        self.t.note('made %s: %d bytes, %r at 0 and %r at %d, zeroes '
                    'between (sparse: nothing downloaded, not in the repo)'
                    % (source, BIG_SIZE, BIG_HEAD, BIG_TAIL,
                       BIG_TAIL_OFFSET))
        try:
            self.cloud.openstack('image', 'create', '--disk-format', 'raw',
                                 '--container-format', 'bare', '--file',
                                 str(source), BIG_IMAGE)
            self.cloud.wait('image', BIG_IMAGE, 'active')
        finally:
            source.unlink()
        uploaded = time.monotonic()
        vol = self.create_volume('vol-2gib-image', '--type', TYPE,
                                 '--image', BIG_IMAGE, size=2)
        created = time.monotonic()
        made_on = vol['os-vol-host-attr:host'].partition('@')[0]
        other = next(node for node, _ in deployment.NODES
                     if node != made_on)
        path = self.path_of('vol-2gib-image')
        size = int(self.guest(other, 'stat -c %%s %s' % path))
        self.t.check(size == BIG_SIZE, 'the volume file is 2 GiB (%d '
                     'bytes), made by %s' % (size, made_on))
        self.expect_text(other, path, BIG_HEAD)
        tail = self.guest(other, 'dd if=%s bs=1M skip=%d count=1 '
                          'status=none | head -c %d'
                          % (path, BIG_TAIL_OFFSET // 1024 ** 2,
                             len(BIG_TAIL)))
        self.t.check(tail == BIG_TAIL, '%s holds %r at %d (read on %s)'
                     % (path, BIG_TAIL, BIG_TAIL_OFFSET, other))
        conversion = guest.CONVERSION_DIR
        mounted = self.guest(made_on, 'findmnt -n -o FSTYPE,SOURCE,SIZE %s'
                             % conversion).split()
        # nova-compute keeps its state on the same disk, in its folder.
        left = [name for name in self.guest(
            made_on, 'ls -A %s' % conversion).split()
            if '%s/%s' % (conversion, name) != compute.NOVA_STATE]
        self.t.check(mounted[:1] == ['ext4'] and left == ['lost+found'],
                     '%s on %s is the node\'s own disk (%s), and cinder '
                     'left no download there'
                     % (conversion, made_on, ' '.join(mounted)))
        # Delete the volume, the image and its image-volume cache entry:
        # the project's quota is 10 volumes, and the later steps need room.
        self.cloud.openstack('volume', 'delete', 'vol-2gib-image')
        self.cloud.wait_gone('volume', 'vol-2gib-image')
        self.delete_images_and_cache(BIG_IMAGE)
        self.t.note('2 GiB image: upload to glance %.0fs, volume from it '
                    '%.0fs, the whole step %.0fs'
                    % (uploaded - started, created - uploaded,
                       time.monotonic() - started))

    def backup_restore(self):
        self.t.section('backup of the attached volume (--force), restore')
        self.cloud.openstack('volume', 'backup', 'create', '--force',
                             '--name', 'bak1', 'vol1')
        self.cloud.wait('backup', 'bak1', timeout=900)
        # backup_use_temp_snapshot = true (guest.py): cinder backs up an
        # attached volume from a temporary snapshot, which the driver makes
        # by reflink: one point in time of the live disk, made at once.
        lines = self.log_lines_with(
            'Backup %s of volume %s reads temporary snapshot'
            % (self.id_of('backup', 'bak1'), self.id_of('volume', 'vol1')))
        self.t.check(len(lines) == 1, 'the backup read a temporary '
                     'snapshot (a reflink) of attached vol1, not the live '
                     'file')
        self.cloud.openstack('volume', 'backup', 'restore', 'bak1',
                             'vol-restored')
        self.cloud.wait('backup', 'bak1', timeout=900)
        self.cloud.wait('volume', 'vol-restored', timeout=900)
        self.expect_text('node2', self.path_of('vol-restored'),
                         BEFORE_SNAPSHOT)

    def revert(self):
        self.t.section('revert vol1 to snap1: a complete new file is '
                       'swapped in')
        self.cloud.cinder('revert-to-snapshot', 'snap1')
        self.cloud.wait('volume', 'vol1')
        self.expect_text('node2', self.path_of('vol1'), BEFORE_SNAPSHOT)
        # cinder took a safety snapshot (a reflink) and dropped it after.
        snapshots = self.cloud.openstack_json(
            'volume', 'snapshot', 'list', '--all-projects', quiet=True)
        self.t.check([item['Name'] for item in snapshots] == ['snap1'],
                     'only snap1 is left (%s)'
                     % ', '.join(item['Name'] for item in snapshots))

    def reimage(self):
        self.t.section('reimage: a refused image keeps the old bytes, a '
                       'good image replaces them')
        self.create_volume('vol-reimage', '--type', TYPE)
        path = self.path_of('vol-reimage')
        self.guest('node1', 'printf %%s %s | dd of=%s conv=notrunc,fsync '
                   'status=none' % (shlex.quote(BEFORE_REIMAGE), path))
        head = 'head -c 64M %s | sha256sum' % path
        before = self.guest('node2', head)
        bad = self.tampered_image()
        self.cloud.cinder('reimage', 'vol-reimage', bad)
        self.cloud.wait('volume', 'vol-reimage', 'error', timeout=300)
        self.t.check(self.guest('node2', head) == before,
                     'the failed reimage left vol-reimage\'s bytes as they '
                     'were (sha256 of its first 64 MiB, read on node2)')
        # cinder gives a reimaged volume back the status it had before:
        # the operator clears the failed one's error first.
        self.cloud.cinder('reset-state', '--state', 'available',
                          'vol-reimage')
        self.cloud.wait('volume', 'vol-reimage')
        self.cloud.cinder('reimage', 'vol-reimage',
                          self.cloud.show('image', IMAGE)['id'])
        self.cloud.wait('volume', 'vol-reimage')
        self.expect_text('node2', path, IMAGE_TEXT)
        # glance.sh made the image from this 64 MiB raw disk.
        raw = self.glance_images.parent.parent / 'test-image.raw'
        with open(raw, 'rb') as disk:
            wanted = hashlib.sha256(disk.read()).hexdigest()
        self.t.check(self.guest('node2', head).split()[0] == wanted,
                     'the first 64 MiB of vol-reimage are the image\'s, '
                     'nothing of the old data is left')
        # The project's quota is 10 volumes: make room for later steps.
        self.cloud.openstack('volume', 'delete', 'vol-reimage')
        self.cloud.wait_gone('volume', 'vol-reimage')

    def tampered_image(self):
        """An image whose stored bytes no longer match its checksum."""
        data = self.glance_images.parent.parent / 'tampered-image.raw'
        with open(data, 'wb') as out:
            out.write(b'an image that will be tampered with\n')
            out.truncate(1024 * 1024)
        self.cloud.openstack('image', 'create', '--disk-format', 'raw',
                             '--container-format', 'bare', '--file',
                             str(data), TAMPERED)
        self.cloud.wait('image', TAMPERED, 'active')
        image_id = self.cloud.show('image', TAMPERED)['id']
        with open(self.glance_images / image_id, 'r+b') as stored:
            stored.write(b'TAMPERED')
        self.t.note('overwrote the first bytes of %s in the glance store: '
                    'cinder must refuse its data' % TAMPERED)
        return image_id

    def spare_lun(self):
        self.t.section('mount the spare LUN %s while everything runs' % SPARE)
        pids = [str(s) for s in self.services.spawned]
        for node in ('node1', 'node2'):
            self.t.write('[%s] lab.mount(%s)\n' % (node, SPARE))
            self.lab.mount(node, SPARE)
        deadline = time.monotonic() + 240
        while SPARE not in self.pools():
            if time.monotonic() > deadline:
                raise StepFailed('pool %s not reported 240 s after the mount'
                                 % SPARE)
            time.sleep(15)
        self.cloud.openstack('volume', 'type', 'create', '--property',
                             'volume_backend_name=ocfs2', '--property',
                             'pool_name=%s' % SPARE, 'ocfs2-%s' % SPARE)
        vol = self.create_volume('vol-on-spare', '--type', 'ocfs2-%s' % SPARE)
        self.t.check(vol['os-vol-host-attr:host'].endswith('#' + SPARE),
                     'vol-on-spare landed on %s'
                     % vol['os-vol-host-attr:host'])
        self.t.check([str(s) for s in self.services.spawned] == pids and
                     not self.services.dead(),
                     'no service restarted (%s)' % ', '.join(pids))

    def lun_read_only_on_one_node(self):
        self.t.section('lun1 read-only on node1 only (as OCFS2 does after '
                       'an I/O error): no member offers it, creates go on')
        mount_point = '%s/lun1' % guest.MOUNT_BASE
        self.guest('node1', 'mount -o remount,ro %s' % mount_point)
        try:
            state, reason = self.wait_pool_state('lun1', 'down')
            self.t.check('cannot use it' in reason, 'lun1 is %s: %s'
                         % (state, reason))
            # One at a time, within the project's quota of 10 volumes.
            for name in READ_ONLY_CREATES:
                vol = self.create_volume(name, '--type', TYPE)
                self.t.check(not vol['os-vol-host-attr:host'].endswith(
                    '#lun1'), '%s is available on %s' % (
                        name, vol['os-vol-host-attr:host']))
                self.cloud.openstack('volume', 'delete', name)
                self.cloud.wait_gone('volume', name)
        finally:
            self.guest('node1', 'mount -o remount,rw %s' % mount_point)
        state, _ = self.wait_pool_state('lun1', 'up')
        self.t.note('lun1 is %s again after the remount' % state)

    def check_consistency(self, when, expect_empty=False):
        self.t.section('database and LUNs agree, %s' % when)
        known = consistency.known_files(self.mysql_socket)
        files, locks = consistency.lun_files(self.lab, 'node1',
                                             guest.MOUNT_BASE)
        for pool, name in sorted(files):
            self.t.write('  %s/%s\n' % (pool, name))
        problems = consistency.compare(known, files, locks)
        if expect_empty and files:
            problems.append('volume files left after deleting everything')
        self.t.check(not problems, '%d DB entries, %d files on the LUNs'
                     % (len(known), len(files)) if not problems else
                     '; '.join(problems))

    def delete_everything(self):
        self.t.section('delete: snapshot, backup, image, volumes')
        self.cloud.openstack('volume', 'snapshot', 'delete', 'snap1')
        self.cloud.wait_gone('snapshot', 'snap1')
        self.cloud.openstack('volume', 'backup', 'delete', 'bak1')
        self.cloud.wait_gone('backup', 'bak1')
        # With nova, the rebuild step deleted its own tampered image.
        self.cloud.openstack('image', 'delete', 'image-from-volume',
                             *(() if self.nova else (TAMPERED,)))
        names = ('vol1', 'vol-from-snap', 'vol-managed', 'vol-from-image',
                 'vol-from-cache', 'vol-restored', 'vol-on-spare',
                 self.cache_id) + IN_PLACE
        self.cloud.openstack('volume', 'delete', *names)
        for name in names:
            self.cloud.wait_gone('volume', name)
        self.cloud.openstack('volume', 'list', '--all-projects')


def write_big_image(path):
    """BIG_SIZE bytes, sparse: BIG_HEAD at 0, BIG_TAIL at BIG_TAIL_OFFSET."""
    with open(path, 'wb') as image:
        image.write(BIG_HEAD.encode())
        image.seek(BIG_TAIL_OFFSET)
        image.write(BIG_TAIL.encode())
        image.truncate(BIG_SIZE)


def _find_key(data, key):
    """The value of key anywhere in nested dicts."""
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    return None
