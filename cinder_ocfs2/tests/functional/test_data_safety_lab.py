# Copyright 2026 The cinder-ocfs2 Authors
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

"""No failure destroys or tears a volume, on the real OCFS2 cluster.

Each test makes an operation that rewrites a volume fail the way it fails
on a site (a full LUN, an image cinder refuses, a killed qemu-img) through
the driver on one node, and reads the volume's bytes from the other node.
"""

import hashlib
import os
import subprocess
import time

from cinder_ocfs2.tests.functional import base
from cinder_ocfs2.tests.functional.lab import cluster
from cinder_ocfs2.tests.functional.lab import config as lab_config
from cinder_ocfs2.tests.functional.lab import errors

MiB = 1024 * 1024
GiB = 1024 * MiB
HEAD_MIB = 64
QCOW2 = {'ocfs2_volume_format': 'qcow2'}


class DataSafetyOnLabTestCase(base.LabTestCase):

    def _image(self, node, name, data_mib=0, image_format='qcow2',
               extra=()):
        """An image file in the node's /lab folder, with its checksum.

        :returns: (image_service spec, sha256 of the first HEAD_MIB MiB of
            the raw disk the image holds).
        """
        host_dir = str(self.lab.exchange_dir(node))
        raw = os.path.join(host_dir, name + '.raw')
        with open(raw, 'wb') as out:
            out.write(os.urandom(data_mib * MiB))
            out.truncate(HEAD_MIB * MiB)
        with open(raw, 'rb') as disk:
            expected = hashlib.sha256(disk.read()).hexdigest()
        image = os.path.join(host_dir, name)
        if image_format == 'raw':
            os.rename(raw, image)
        else:
            subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O',
                            image_format, *extra, raw, image], check=True,
                           capture_output=True)
            os.unlink(raw)
        self.addCleanup(os.unlink, image)
        return {'path': '/lab/' + name, 'disk_format': image_format}, expected

    def _reimage(self, client, volume, image):
        spec = dict(volume, status='downloading', previous_status='available')
        return client.call('copy_image_to_volume', ('context', None),
                           ('volume', spec), ('image_service', image),
                           ('value', 'image-%s' % volume['id']),
                           ('value', True))

    def _fill(self, node, lun):
        """Fill a LUN as the given node sees it, to the last block.

        OCFS2 hands each node a window of free space of its own (the local
        allocator), which df on another node still counts as free: so the
        node that will write fills it.
        """
        filler = '%s/%s/filler' % (base.BASE, lun)
        self.addCleanup(self.lab.run, node,
                        'rm -f %s %s.dd' % (filler, filler))
        free = int(self.sh(node, 'df -B1 --output=avail %s/%s | tail -1'
                           % (base.BASE, lun)))
        size = max(free - 4 * MiB, MiB)
        self.sh(node, 'fallocate -l %d %s' % (size, filler))
        self.lab.run(node, 'dd if=/dev/zero of=%s.dd bs=1M status=none'
                     % filler, timeout=300)
        return filler

    def _no_replacement_left(self, node, path):
        self.assertEqual('gone', self.sh(
            node, 'test -e %s.new && echo left || echo gone' % path).strip())

    def test_reimage_on_node2_replaces_or_keeps_bytes_read_on_node1(self):
        volume, _ = self.create(pool='lun1', size=1)
        path = self.path(volume)
        self.write_random('node1', path)

        # A good image: the volume holds it, zeroes included.
        good, expected = self._image('node2', 'good.qcow2', data_mib=16)
        _, seconds = self._reimage(self.node2, volume, good)
        self.assertEqual(expected, self.head_sha('node1', path, HEAD_MIB))
        self.assertEqual('raw', self.node2.recorded[volume['id']]['format'])
        self.assertEqual('660 %d' % GiB, self.sh(
            'node1', 'stat -c "%%a %%s" %s' % path).strip())
        before = self.head_sha('node1', path, HEAD_MIB)

        # An image cinder refuses (its backing file is a host file).
        refused, _ = self._image('node2', 'refused.qcow2', data_mib=1,
                                 extra=('-o', 'backing_file=/etc/hostname,'
                                        'backing_fmt=raw'))
        err = self.assertRaises(base.RemoteDriverError, self._reimage,
                                self.node2, volume, refused)
        self.assertIn(err.error, ('ImageUnacceptable', 'ImageCopyFailure',
                                  'Invalid'), err.message)
        self.assertEqual(before, self.head_sha('node1', path, HEAD_MIB))
        self._no_replacement_left('node1', path)

        # The LUN fills up during the conversion.
        big, _ = self._image('node2', 'big.qcow2', data_mib=48)
        self._fill('node2', 'lun1')
        err = self.assertRaises(base.RemoteDriverError, self._reimage,
                                self.node2, volume, big)
        self.assertEqual('NoSpaceOnLun', err.error, err.message)
        self.assertEqual(before, self.head_sha('node1', path, HEAD_MIB))
        self._no_replacement_left('node1', path)
        base.record('reimage on node2, read on node1',
                    'good %.1f s; refused image and full LUN: bytes kept'
                    % seconds)

    def test_reimage_with_qemu_img_killed_keeps_bytes(self):
        volume, _ = self.create(pool='lun2', size=1)
        path = self.path(volume)
        self.write_random('node2', path)
        before = self.head_sha('node1', path, HEAD_MIB)
        image, _ = self._image('node1', 'slow.qcow2', data_mib=48)
        # "[g]": the pattern must not match this shell's own command line.
        killer = self.lab.spawn(
            'node1', 'for i in $(seq 1200); do pkill -KILL -f '
            '"qemu-im[g] convert.*%s" && echo killed && break; sleep 0.05; '
            'done' % volume['id'], log_name='qemu-img-killer')
        self.addCleanup(self.lab.stop, killer)
        err = self.assertRaises(base.RemoteDriverError, self._reimage,
                                self.node1, volume, image)
        self.assertIn(err.error, ('ImageCopyFailure',
                                  'ProcessExecutionError'), err.message)
        self.assertEqual(before, self.head_sha('node2', path, HEAD_MIB))
        self._no_replacement_left('node2', path)
        base.record('reimage, qemu-img killed mid-copy',
                    'error %s; bytes kept, no partial file' % err.error)

    def test_revert_on_full_lun_is_all_or_nothing(self):
        volume, _ = self.create(pool='lun3', size=1)
        path = self.path(volume)
        self.write_random('node1', path)
        snapshot = base.snapshot_spec(volume)
        self.node2.call('create_snapshot', ('snapshot', snapshot))
        snapshot_sha = self.head_sha('node1', path, HEAD_MIB)
        self.write_random('node1', path)
        current_sha = self.head_sha('node1', path, HEAD_MIB)
        self._fill('node2', 'lun3')
        try:
            _, seconds = self.node2.call(
                'revert_to_snapshot', ('context', None), ('volume', volume),
                ('snapshot', snapshot))
            outcome, expected = 'reverted %.3f s' % seconds, snapshot_sha
        except base.RemoteDriverError as err:
            self.assertEqual('NoSpaceOnLun', err.error, err.message)
            outcome, expected = 'refused: no space', current_sha
        self.assertEqual(expected, self.head_sha('node1', path, HEAD_MIB))
        self.assertEqual(str(GiB), self.sh(
            'node1', 'stat -c %%s %s' % path).strip())
        self._no_replacement_left('node1', path)
        self.node1.call('delete_snapshot', ('snapshot', snapshot))
        base.record('revert on a full LUN', outcome + '; never torn')

    def test_revert_swaps_in_new_file_keeping_mode(self):
        volume, _ = self.create(pool='lun1', size=1)
        path = self.path(volume)
        self.write_random('node1', path)
        snapshot = base.snapshot_spec(volume)
        self.node1.call('create_snapshot', ('snapshot', snapshot))
        self.addCleanup(self.node1.call, 'delete_snapshot',
                        ('snapshot', snapshot))
        snapshot_sha = self.head_sha('node2', path, HEAD_MIB)
        inode = self.sh('node2', 'stat -c %%i %s' % path).strip()
        self.write_random('node2', path)
        self.node2.call('revert_to_snapshot', ('context', None),
                        ('volume', volume), ('snapshot', snapshot))
        self.assertEqual(snapshot_sha, self.head_sha('node1', path, HEAD_MIB))
        mode, new_inode = self.sh(
            'node1', 'stat -c "%%a %%i" %s' % path).split()
        self.assertEqual('660', mode)
        self.assertNotEqual(inode, new_inode)

    def test_thick_volumes_same_size_copies(self):
        thick = {'ocfs2_sparse_volumes': False}
        volume, _ = self.create(pool='lun2', size=1, config=thick)
        path = self.path(volume)
        self.write_random('node1', path, mib=8)
        wanted = self.head_sha('node1', path, HEAD_MIB)
        snapshot = base.snapshot_spec(volume)
        self.node2.call('create_snapshot', ('snapshot', snapshot),
                        config=thick)
        self.addCleanup(self.node1.call, 'delete_snapshot',
                        ('snapshot', snapshot))
        made = []
        for method, source in (('create_cloned_volume', ('volume', volume)),
                               ('create_volume_from_snapshot',
                                ('snapshot', snapshot))):
            new = base.volume_spec('lun2', size=1)
            update, _ = self.node2.call(method, ('volume', new), source,
                                        config=thick)
            new.update(update)
            self.addCleanup(self._delete_quietly, new)
            copied = self.head_sha('node1', self.path(new), HEAD_MIB)
            self.assertEqual(wanted, copied)
            self.assertEqual(str(GiB), self.sh(
                'node1', 'stat -c %%s %s' % self.path(new)).strip())
            made.append(method)
        base.record('thick volumes', 'same-size %s: OK' % ', '.join(made))

    def _qcow2_snapshotted(self, pool):
        """A qcow2 volume made on node1, with a snapshot."""
        volume, _ = self.create(pool=pool, size=1, config=QCOW2,
                                format='qcow2')
        snapshot = base.snapshot_spec(volume)
        self.node1.call('create_snapshot', ('snapshot', snapshot),
                        config=QCOW2)
        return volume, snapshot

    def test_reimage_of_qcow2_chain_refused_before_anything(self):
        volume, snapshot = self._qcow2_snapshotted('lun2')
        chain = 'cd %s/lun2 && sha256sum volume-%s*' % (base.BASE,
                                                        volume['id'])
        before = self.sh('node1', chain)
        # The base file, the snapshot's overlay and the .info file.
        self.assertEqual(3, len(before.splitlines()), before)
        image, _ = self._image('node2', 'chain.qcow2', data_mib=1)
        err = self.assertRaises(base.RemoteDriverError, self._reimage,
                                self.node2, dict(volume, format='qcow2'),
                                image)
        self.assertEqual('VolumeChainNotReimageable', err.error)
        self.assertEqual(before, self.sh('node1', chain))
        self.node1.call('delete_snapshot', ('snapshot', snapshot),
                        config=QCOW2)
        base.record('reimage of a qcow2 volume with a snapshot',
                    'refused; base, overlay and .info unchanged')

    def test_volume_from_qcow2_snapshot_stays_qcow2(self):
        volume, snapshot = self._qcow2_snapshotted('lun1')
        # The operator switched new volumes back to raw on node2.
        new = base.volume_spec('lun1', size=1)
        update, _ = self.node2.call('create_volume_from_snapshot',
                                    ('volume', new), ('snapshot', snapshot))
        new.update(update)
        self.addCleanup(self._delete_quietly, new)
        self.assertEqual('qcow2', self.node2.recorded[new['id']]['format'])
        self.assertIn('file format: qcow2', self.sh(
            'node1', 'qemu-img info %s' % self.path(new)))
        new['format'] = 'qcow2'
        err = self.assertRaises(base.RemoteDriverError, self.node1.call,
                                'initialize_connection', ('volume', new),
                                ('value', {'host': 'node1'}))
        self.assertEqual('UnsupportedAttachFormat', err.error)
        # A file recorded qcow2 that is raw is not used as qcow2 either.
        other, _ = self.create(pool='lun1', size=1)
        raw = dict(other, format='qcow2')
        err = self.assertRaises(base.RemoteDriverError, self.node2.call,
                                'extend_volume', ('volume', raw),
                                ('value', 2))
        self.assertEqual('VolumeFormatMismatch', err.error)
        self.node1.call('delete_snapshot', ('snapshot', snapshot),
                        config=QCOW2)
        base.record('volume from a qcow2 snapshot', 'recorded qcow2 with '
                    'the backend now raw; attach refused')


class MemberFaultsOnLabTestCase(base.LabTestCase):
    """A LUN one member cannot use is offered by no member."""

    def _pools(self, client):
        stats, _ = client.call('get_volume_stats')
        return {pool['pool_name']: pool for pool in stats['pools']}

    def _both_refresh(self):
        """Both members refresh their stats, node1 first; node2's pools."""
        self._pools(self.node1)
        return self._pools(self.node2)

    def test_lun_read_only_on_node1_is_withdrawn_by_node2(self):
        self.assertEqual('up', self._both_refresh()['lun2']['pool_state'])
        self.lab.remount_ro('node1', 'lun2')
        remount_rw = 'mount -o remount,rw %s/lun2' % base.BASE
        self.addCleanup(self.lab.run, 'node1', remount_rw)
        pool = self._both_refresh()['lun2']
        self.assertEqual('down', pool['pool_state'])
        self.assertIn('member node1@ocfs2 of this backend cannot use it',
                      pool['pool_down_reason'])
        self.assertIn('read-only', pool['pool_down_reason'])
        self.assertEqual('up', self._both_refresh()['lun1']['pool_state'])
        self.sh('node1', remount_rw)
        self.assertEqual('up', self._both_refresh()['lun2']['pool_state'])
        base.record('LUN read-only on node1 only',
                    'node2 reports it down with the reason; up again '
                    'after the remount')

    def test_lun_unmounted_on_node1_is_withdrawn_by_node2(self):
        self._pools(self.node2)
        self.lab.umount('node1', 'lun3')
        unmounted = [True]

        def mount_again():
            # o2hb stops the LUN's heartbeat region some seconds after the
            # umount; mounting before that fails with EBUSY.
            if not unmounted.pop():
                return
            for attempt in range(20):
                try:
                    return self.lab.mount('node1', 'lun3')
                except errors.CommandFailed:
                    if attempt == 19:
                        raise
                    time.sleep(3)
        self.addCleanup(mount_again)
        pool = self._both_refresh()['lun3']
        self.assertEqual('down', pool['pool_state'])
        self.assertIn('is not mounted on node1@ocfs2',
                      pool['pool_down_reason'])
        mount_again()
        unmounted.append(False)
        self.assertEqual('up', self._both_refresh()['lun3']['pool_state'])

    def test_lun_mounted_with_localflocks_is_not_used(self):
        heartbeat = (self.lab.spec.heartbeat if self.lab.spec else
                     lab_config.Heartbeat.LOCAL)
        line = cluster.mount(base.SPARE_LUN, heartbeat)
        self.sh('node1', line.replace(' -o ', ' -o localflocks,', 1))
        self.addCleanup(self.lab.umount, 'node1', base.SPARE_LUN)
        self.assertIn('localflocks', self.sh(
            'node1', 'grep " %s/%s " /proc/self/mountinfo'
            % (base.BASE, base.SPARE_LUN)))
        self.assertNotIn(base.SPARE_LUN, self._pools(self.node1))
        err = self.assertRaises(base.RemoteDriverError, self.create,
                                pool=base.SPARE_LUN)
        self.assertEqual('LunUnavailable', err.error)
        self.assertIn('localflocks', err.message)
        base.record('LUN mounted with localflocks', 'not offered; a create '
                    'for it refused: %s' % err.message[:60])
