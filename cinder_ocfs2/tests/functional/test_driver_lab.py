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


"""OCFS2Driver on the real two-node OCFS2 cluster (issue: the lab).

Each test drives the real driver in a node's guest and checks the result
on the real mounts, usually from the other node, with checksums.
"""

import json
import time

from cinder_ocfs2.tests.functional import base

MiB = 1024 * 1024
GiB = 1024 * MiB


class VolumeFilesOnLabTestCase(base.LabTestCase):

    def test_create_raw_sparse_preallocated_and_qcow2(self):
        sparse, _ = self.create(pool='lun1', size=1)
        thick, thick_s = self.create(
            pool='lun1', size=1, config={'ocfs2_sparse_volumes': False})
        qcow2, _ = self.create(pool='lun1', size=1,
                               config={'ocfs2_volume_format': 'qcow2'})
        size, blocks = self.sh('node2', 'stat -c "%%s %%b" %s'
                               % self.path(sparse)).split()
        self.assertEqual(GiB, int(size))
        self.assertLess(int(blocks) * 512, MiB)
        size, blocks = self.sh('node2', 'stat -c "%%s %%b" %s'
                               % self.path(thick)).split()
        self.assertGreaterEqual(int(blocks) * 512, GiB)
        info = json.loads(self.sh('node2', 'qemu-img info --output=json '
                                  '-f qcow2 %s' % self.path(qcow2)))
        self.assertEqual(GiB, info['virtual-size'])
        mode = self.sh('node2', 'stat -c %%a %s' % self.path(sparse))
        self.assertEqual('660', mode.strip())
        base.record('create 1 GiB raw sparse / thick / qcow2',
                    'allocated %d B sparse; thick created in %.2f s; '
                    'qcow2 virtual %d B; mode %s'
                    % (int(self.sh('node2', 'stat -c %%b %s' % self.path(
                        sparse))) * 512, thick_s, info['virtual-size'],
                       mode.strip()))

    def test_data_written_on_node1_reads_identical_on_node2(self):
        volume, _ = self.create(pool='lun2', size=1)
        path = self.path(volume)
        self.sh('node1', 'dd if=/dev/urandom of=%s bs=1M count=64 '
                'oflag=direct conv=notrunc status=none' % path)
        # The 64 MiB written, read back with O_DIRECT on each node.
        digest = ('dd if=%s bs=1M count=64 iflag=direct status=none | '
                  'sha256sum' % path)
        on_node1 = self.sh('node1', digest).split()[0]
        on_node2 = self.sh('node2', digest).split()[0]
        self.assertEqual(on_node1, on_node2)
        # Past the data, node2 reads the hole as zeros.
        tail = self.sh('node2', 'dd if=%s bs=1M skip=64 count=1 status=none '
                       '| tr -d "\\000" | wc -c' % path)
        self.assertEqual('0', tail.strip())
        base.record('64 MiB written on node1, read on node2',
                    'sha256 %s on both' % on_node1[:16])

    def test_fio_crc32c_written_node1_verified_node2(self):
        volume, _ = self.create(pool='lun1', size=1)
        job = ('fio --name=xnode --filename=%s --size=32M --bs=4k '
               '--rw=randwrite --randseed=2026 --direct=1 --ioengine=psync '
               '--verify=crc32c --verify_state_save=0 --output-format=terse '
               '--terse-version=3' % self.path(volume))
        started = time.monotonic()
        self.sh('node1', job + ' --do_verify=0', timeout=600)
        written = time.monotonic() - started
        result = self.lab.run('node2', job + ' --verify_only', timeout=600)
        self.assertEqual(0, result.exit_code, result.stdout + result.stderr)
        self.assertNotIn('verify failed', result.stdout + result.stderr)
        # A changed block must make the same verification fail.
        self.sh('node1', 'dd if=/dev/urandom of=%s bs=4k count=16 seek=100 '
                'oflag=direct conv=notrunc status=none' % self.path(volume))
        broken = self.lab.run('node2', job + ' --verify_only', timeout=600)
        self.assertNotEqual(0, broken.exit_code)
        base.record('fio crc32c 32 MiB 4k random: node1 -> node2',
                    'written in %.1f s, verified OK on node2; corrupted '
                    'blocks detected (exit %d)' % (written,
                                                   broken.exit_code))


class OperationsOnLabTestCase(base.LabTestCase):

    def test_snapshot_clone_extend_revert_delete_across_nodes(self):
        volume, _ = self.create(pool='lun1', size=1)
        path = self.path(volume)
        self.write_random('node1', path)
        version_a = self.head_sha('node1', path)

        # Snapshot taken by the driver on node2 of node1's volume.
        snapshot = base.snapshot_spec(volume)
        _, snap_s = self.node2.call('create_snapshot',
                                    ('snapshot', snapshot))
        snap_path = '%s/lun1/snapshot-%s' % (base.BASE, snapshot['id'])
        self.write_random('node1', path)
        version_b = self.head_sha('node1', path)
        self.assertNotEqual(version_a, version_b)
        self.assertEqual(version_a, self.head_sha('node1', snap_path))

        # Volume from snapshot, larger, on the same LUN (reflink).
        from_snap = base.volume_spec('lun1', size=2)
        update, from_snap_s = self.node1.call(
            'create_volume_from_snapshot', ('volume', from_snap),
            ('snapshot', snapshot))
        from_snap.update(update)
        self.addCleanup(self._delete_quietly, from_snap)
        self.assertEqual(version_a,
                         self.head_sha('node2', self.path(from_snap)))
        self.assertEqual(str(2 * GiB), self.sh(
            'node2', 'stat -c %%s %s' % self.path(from_snap)).strip())

        # Clone on node2, onto another LUN (full copy).
        clone = base.volume_spec('lun2', size=1)
        update, clone_s = self.node2.call(
            'create_cloned_volume', ('volume', clone), ('volume', volume))
        clone.update(update)
        self.addCleanup(self._delete_quietly, clone)
        self.assertEqual(self.sha256('node1', path),
                         self.sha256('node1', self.path(clone)))

        # Extend, then revert to the snapshot.
        self.node1.call('extend_volume', ('volume', volume), ('value', 2))
        self.assertEqual(str(2 * GiB), self.sh(
            'node2', 'stat -c %%s %s' % path).strip())
        volume['size'] = 2
        _, revert_s = self.node2.call('revert_to_snapshot', ('context', None),
                                      ('volume', volume),
                                      ('snapshot', snapshot))
        self.assertEqual(version_a, self.head_sha('node1', path))
        self.assertEqual(str(2 * GiB), self.sh(
            'node1', 'stat -c %%s %s' % path).strip())

        # Delete: files gone as seen from the other node.
        self.node1.call('delete_snapshot', ('snapshot', snapshot))
        self.node2.call('delete_volume', ('volume', from_snap))
        listing = self.sh('node2', 'ls %s/lun1' % base.BASE)
        self.assertNotIn('snapshot-%s' % snapshot['id'], listing)
        self.assertNotIn('volume-%s' % from_snap['id'], listing)
        base.record('snapshot / from-snapshot / clone / revert',
                    '%.3f / %.3f / %.3f (other LUN: full copy) / %.3f s'
                    % (snap_s, from_snap_s, clone_s, revert_s))

    def test_unmanage_on_node1_manage_on_node2(self):
        volume, _ = self.create(pool='lun2', size=1)
        old_path = self.path(volume)
        self.write_random('node1', old_path, mib=8)
        digest = self.head_sha('node1', old_path, mib=8)
        self.node1.call('unmanage', ('volume', volume))
        self.assertIn('volume-%s' % volume['id'],
                      self.sh('node2', 'ls %s/lun2' % base.BASE))
        # An image file is refused and left as it was.
        image = '%s/lun2/disk.qcow2' % base.BASE
        self.sh('node2', 'qemu-img create -q -f qcow2 %s 64M' % image)
        self.addCleanup(self.sh, 'node1', 'rm -f %s' % image)
        refused = base.volume_spec('lun2', size=1)
        err = self.assertRaises(
            base.RemoteDriverError, self.node2.call,
            'manage_existing_get_size', ('volume', refused),
            ('value', {'source-name': 'disk.qcow2'}))
        self.assertIn('looks like a qcow2 image', str(err))

        # The listing on node2 sees the unmanaged file, and the image
        # file as not safe to manage.
        listed, _ = self.node2.call(
            'get_manageable_volumes', ('value', []), ('value', None),
            ('value', 1000), ('value', 0), ('value', ['reference']),
            ('value', ['asc']))
        safe = {entry['reference']['source-name']: entry['safe_to_manage']
                for entry in listed}
        self.assertEqual((True, False), (safe[old_path], safe[image]))

        # As cinder's manage flow: the volume's size is 0 until the call
        # returns; the driver grows the file to the size it reported.
        managed = base.volume_spec('lun2', size=0)
        ref = ('value', {'source-name': 'volume-%s' % volume['id']})
        size, _ = self.node2.call('manage_existing_get_size',
                                  ('volume', managed), ref)
        self.assertEqual(1, size)
        update, seconds = self.node2.call('manage_existing',
                                          ('volume', managed), ref)
        managed.update(update, size=size)
        self.addCleanup(self._delete_quietly, managed)
        self.assertEqual('lun2', managed['provider_location'])
        self.assertEqual(digest,
                         self.head_sha('node1', self.path(managed), mib=8))
        self.assertEqual('missing', self.sh(
            'node1', 'test -e %s || echo missing' % old_path).strip())
        base.record('unmanage on node1, manage on node2',
                    'renamed in %.3f s, 8 MiB checksum equal on node1'
                    % seconds)

    def test_reflink_snapshot_shares_extents(self):
        volume, _ = self.create(pool='lun3', size=1)
        path = self.path(volume)
        self.write_random('node1', path, mib=256)
        used = 'df -B1 --output=used %s/lun3 | tail -1' % base.BASE
        self.sh('node1', 'sync')
        before = int(self.sh('node1', used))
        snapshot = base.snapshot_spec(volume)
        _, seconds = self.node1.call('create_snapshot',
                                     ('snapshot', snapshot))
        self.addCleanup(self.node1.call, 'delete_snapshot',
                        ('snapshot', snapshot))
        self.sh('node1', 'sync')
        growth = int(self.sh('node1', used)) - before
        self.assertLess(growth, 16 * MiB)
        stats, _ = self.node1.call('get_volume_stats')
        pools = {pool['pool_name']: pool for pool in stats['pools']}
        self.assertTrue(pools['lun3']['reflink_support'])
        base.record('reflink snapshot of 256 MiB written',
                    '%.3f s, df grew by %d KiB' % (seconds, growth // 1024))

    def test_stats_match_df(self):
        stats, _ = self.node1.call('get_volume_stats')
        pools = {pool['pool_name']: pool for pool in stats['pools']}
        self.assertEqual(set(), set(base.MOUNTED_AT_START) - set(pools))
        self.assertEqual('file', stats['storage_protocol'])
        lines = []
        for pool in base.MOUNTED_AT_START:
            size, avail = self.sh('node1', 'df -B1 --output=size,avail '
                                  '%s/%s | tail -1' % (base.BASE, pool)
                                  ).split()
            self.assertAlmostEqual(int(size) / GiB,
                                   pools[pool]['total_capacity_gb'],
                                   delta=0.01)
            self.assertAlmostEqual(int(avail) / GiB,
                                   pools[pool]['free_capacity_gb'],
                                   delta=0.05)
            lines.append('%s %.2f/%.2f GiB' % (
                pool, pools[pool]['free_capacity_gb'],
                pools[pool]['total_capacity_gb']))
        base.record('stats per LUN = df (free/total)', '; '.join(lines))

    def test_migrate_by_node2_to_other_lun_reads_on_node1(self):
        volume, _ = self.create(pool='lun1', size=1)
        old_path = self.path(volume)
        self.write_random('node1', old_path)
        digest = self.head_sha('node1', old_path)
        # The destination as cinder's scheduler has it: the pool's stats.
        stats, _ = self.node1.call('get_volume_stats')
        location = {pool['pool_name']: pool['location_info']
                    for pool in stats['pools']}['lun2']
        host = {'host': 'lab@ocfs2#lun2', 'cluster_name': None,
                'capabilities': {'location_info': location}}
        (moved, update), seconds = self.node2.call(
            'migrate_volume', ('context', None), ('volume', volume),
            ('value', host))
        self.assertEqual([True, {'provider_location': 'lun2'}],
                         [moved, update])
        volume.update(update)
        self.assertEqual(digest, self.head_sha('node1', self.path(volume)))
        self.assertEqual(str(GiB), self.sh(
            'node1', 'stat -c %%s %s' % self.path(volume)).strip())
        self.assertEqual('missing', self.sh(
            'node1', 'test -e %s || echo missing' % old_path).strip())

        # A location naming another filesystem than the one mounted at
        # its path is left to cinder's own copy; nothing is written there.
        wrong = {'host': 'lab@ocfs2#lun3', 'cluster_name': None,
                 'capabilities': {'location_info':
                                  'ocfs2:0x1:%s/lun3' % base.BASE}}
        before = self.sh('node1', 'ls -a %s/lun3' % base.BASE)
        (moved, update), _ = self.node1.call(
            'migrate_volume', ('context', None), ('volume', volume),
            ('value', wrong))
        self.assertEqual([False, None], [moved, update])
        self.assertEqual(before, self.sh('node1', 'ls -a %s/lun3' % base.BASE))
        base.record('migrate lun1 -> lun2 by node2 (32 MiB data)',
                    '%.3f s, checksum equal on node1' % seconds)

    def test_marker_written_on_node1_verified_on_node2(self):
        # OCFS2 derives statvfs f_fsid from the volume UUID: the marker a
        # node writes must match on every node.
        probe = ('python3 -c "import os; print(hex(os.statvfs(\'%s/lun1\')'
                 '.f_fsid))"' % base.BASE)
        self.assertEqual(self.sh('node1', probe), self.sh('node2', probe))

    def test_connection_info_usable_on_other_node(self):
        volume, _ = self.create(pool='lun2', size=1)
        self.write_random('node1', self.path(volume), mib=8)
        info, _ = self.node1.call('initialize_connection',
                                  ('volume', volume), ('value', None))
        self.assertEqual('gpfs', info['driver_volume_type'])
        device = info['data']['device_path']
        self.assertEqual(self.head_sha('node1', self.path(volume), 8),
                         self.head_sha('node2', device, 8))
        self.assertEqual('raw', info['data']['format'])


class DiscoveryOnLabTestCase(base.LabTestCase):

    def _pools(self, client):
        stats, _ = client.call('get_volume_stats')
        return {pool['pool_name'] for pool in stats['pools']}

    def test_lun_mounted_while_driver_runs_is_used_at_once(self):
        self.assertNotIn(base.SPARE_LUN, self._pools(self.node1))
        for node in base.NODES:
            self.lab.mount(node, base.SPARE_LUN)
            self.addCleanup(self.lab.umount, node, base.SPARE_LUN)
        mounted_at = time.monotonic()
        volume, seconds = self.create(pool=base.SPARE_LUN, size=1)
        picked_up = time.monotonic() - mounted_at
        self.assertEqual(base.SPARE_LUN, volume['provider_location'])
        self.sh('node2', 'test -f %s' % self.path(volume))
        self.assertIn(base.SPARE_LUN, self._pools(self.node1))
        self.assertIn(base.SPARE_LUN, self._pools(self.node2))
        self.node1.call('delete_volume', ('volume', volume))
        base.record('LUN mounted while the driver runs',
                    'first create on it %.2f s after the mount (driver '
                    'call %.3f s), no restart' % (picked_up, seconds))

    def test_unmounted_lun_skipped_once_and_others_served(self):
        # Other tests may have unmounted it before: count from here, with
        # the driver having seen it mounted.
        self.assertIn('lun3', self._pools(self.node1))
        log_start = self.node1.log_size()
        self.lab.umount('node1', 'lun3')
        self.addCleanup(self.lab.mount, 'node1', 'lun3')
        for _ in range(3):
            self.assertNotIn('lun3', self._pools(self.node1))
        self.assertIn('lun3', self._pools(self.node2))
        err = self.assertRaises(base.RemoteDriverError, self.create,
                                pool='lun3')
        self.assertEqual('LunUnavailable', err.error)
        self.assertIn('is not mounted', err.message)
        self.create(pool='lun1')
        gone = [line for line in
                self.node1.server_log(log_start).splitlines()
                if 'pool lun3 is gone' in line]
        self.assertEqual(1, len(gone), gone)
        base.record('LUN unmounted on node1', gone[0].split(' - ')[-1]
                    if ' - ' in gone[0] else gone[0][-100:])

    def test_read_only_lun_skipped_once_and_others_served(self):
        self.assertIn('lun2', self._pools(self.node1))
        log_start = self.node1.log_size()
        self.lab.remount_ro('node1', 'lun2')
        self.addCleanup(self.lab.run, 'node1', 'mount -o remount,rw %s/lun2'
                        % base.BASE)
        for _ in range(3):
            self.assertNotIn('lun2', self._pools(self.node1))
        err = self.assertRaises(base.RemoteDriverError, self.create,
                                pool='lun2')
        self.assertIn('read-only', err.message)
        volume, _ = self.create(client=self.node2, pool='lun2')
        self.sh('node1', 'test -f %s' % self.path(volume))
        skipped = [line for line in
                   self.node1.server_log(log_start).splitlines()
                   if 'pool lun2 skipped' in line and 'read-only' in line]
        self.assertEqual(1, len(skipped), skipped)
        base.record('LUN remounted read-only on node1',
                    'skipped with %d log line; node2 still serves it'
                    % len(skipped))


class ClusterLockOnLabTestCase(base.LabTestCase):

    def test_flock_on_node1_blocks_node2(self):
        lock = '%s/lun1/.flock-probe' % base.BASE
        holder = self.lab.spawn('node1', 'flock %s -c "sleep 15"' % lock,
                                log_name='flock-holder')
        self.addCleanup(self.lab.stop, holder)
        time.sleep(2)
        blocked = self.lab.run('node2', 'flock -n %s -c true' % lock)
        self.assertEqual(1, blocked.exit_code)
        # A POSIX lock is node-local on o2cb: node2 gets it regardless.
        self.lab.stop(holder)
        free = self.lab.run('node2', 'flock -n %s -c true' % lock)
        self.assertEqual(0, free.exit_code)
        base.record('flock held on node1', 'node2 LOCK_NB refused (exit 1); '
                    'free after release (exit 0)')
