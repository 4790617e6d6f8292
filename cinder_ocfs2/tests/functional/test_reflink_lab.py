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


"""Reflink snapshots on the real lab: point-in-time, shared, freed last.

The writer on node2 attaches the volume as a consumer would: the
connection info from initialize_connection goes to os-brick's connector
for its protocol, and qemu-io writes to the path it returns, with the
format the connection info declares.
"""

import json
import os
import sys
import time

from cinder_ocfs2.tests.functional import base

MiB = 1024 * 1024
BLOCK = 64 * 1024
BLOCKS = 300

# Checks a file holds an exact prefix of the writer's blocks: block i is
# all byte (i % 250 + 1) for i < k, all zero for i >= k. Prints k.
PREFIX_CHECK = r'''
import sys
path, block, blocks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
written = None
with open(path, "rb") as f:
    for i in range(blocks):
        data = f.read(block)
        if data == bytes([i % 250 + 1]) * block:
            if written is not None:
                sys.exit("block %d written after unwritten block %d" % (
                    i, written))
        elif data == bytes(block):
            written = i if written is None else written
        else:
            sys.exit("block %d is torn: %r" % (i, data[:8]))
print(blocks if written is None else written)
'''

CONNECT = (
    'import json, sys\n'
    'from os_brick.initiator import connector\n'
    'info = json.load(open(sys.argv[1]))\n'
    'brick = connector.InitiatorConnector.factory(\n'
    '    info["driver_volume_type"].upper(), None)\n'
    'print(brick.connect_volume(info["data"])["path"])\n')


class ReflinkOnLabTestCase(base.LabTestCase):

    def _used(self, node, pool):
        self.sh(node, 'sync')
        return int(self.sh(node, 'df -B1 --output=used %s/%s | tail -1'
                           % (base.BASE, pool)))

    def test_snapshot_of_attached_volume_is_point_in_time(self):
        volume, _ = self.create(pool='lun1', size=1, status='in-use')
        info, _ = self.node1.call('initialize_connection',
                                  ('volume', volume), ('value', None))
        self.assertEqual('raw', info['data']['format'])
        exchange = str(self.lab.exchange_dir('node2'))
        with open(os.path.join(exchange, 'connection.json'), 'w') as out:
            json.dump(info, out)
        with open(os.path.join(exchange, 'connect.py'), 'w') as out:
            out.write(CONNECT)
        for node in base.NODES:
            checker = os.path.join(str(self.lab.exchange_dir(node)),
                                   'prefix_check.py')
            with open(checker, 'w') as out:
                out.write(PREFIX_CHECK)
        progress = os.path.join(exchange, 'writer.progress')
        if os.path.exists(progress):
            os.unlink(progress)
        writer = self.lab.spawn('node2', (
            'path=$(%(python)s /lab/connect.py /lab/connection.json) && '
            'i=0; while [ $i -lt %(blocks)d ]; do '
            'qemu-io -f %(format)s -t none -c "write -P $((i %% 250 + 1)) '
            '$((i * %(block)d)) %(block)d" "$path" >/dev/null || exit 1; '
            'i=$((i + 1)); echo $i > /lab/writer.progress; done'
            % {'python': self.python, 'blocks': BLOCKS, 'block': BLOCK,
               'format': info['data']['format']}), log_name='writer')
        self.addCleanup(self.lab.stop, writer)
        deadline = time.monotonic() + 600
        while self._progress(progress) < BLOCKS // 4:
            self.assertIsNone(writer.exit_code(), writer.output())
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)
        snapshot = base.snapshot_spec(volume)
        _, seconds = self.node1.call('create_snapshot',
                                     ('snapshot', snapshot))
        at_snapshot = self._progress(progress)
        self.addCleanup(self.node1.call, 'delete_snapshot',
                        ('snapshot', snapshot))
        while writer.exit_code() is None:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)
        self.assertEqual(0, writer.exit_code(), writer.output())
        snap_path = '%s/lun1/snapshot-%s' % (base.BASE, snapshot['id'])
        check = 'python3 /lab/prefix_check.py %s %d %d'
        blocks_in_snapshot = int(self.sh('node1', check % (
            snap_path, BLOCK, BLOCKS)))
        self.assertEqual(BLOCKS, int(self.sh('node1', check % (
            self.path(volume), BLOCK, BLOCKS))))
        self.assertGreater(blocks_in_snapshot, 0)
        self.assertLess(blocks_in_snapshot, BLOCKS)
        base.record('snapshot while node2 writes through qemu',
                    'reflink in %.3f s; snapshot holds exactly the first '
                    '%d of %d blocks (writer was at ~%d)'
                    % (seconds, blocks_in_snapshot, BLOCKS, at_snapshot))

    @property
    def python(self):
        return sys.executable

    @staticmethod
    def _progress(path):
        try:
            with open(path) as progress:
                return int(progress.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _used_after_settling(self, pool, until, timeout=90):
        """df's used bytes once until(used) holds, or the last reading.

        OCFS2 returns freed clusters to the global bitmap through its
        truncate log, flushed a few seconds later, so space shows as free
        only after a while.
        """
        deadline = time.monotonic() + timeout
        used = self._used('node1', pool)
        while not until(used) and time.monotonic() < deadline:
            time.sleep(3)
            used = self._used('node1', pool)
        return used

    def test_shared_extents_freed_when_last_user_goes(self):
        # All allocations from node1: a node's first allocation on a LUN
        # reserves a local-alloc window that df counts as used.
        volume, _ = self.create(pool='lun2', size=1)
        self.sh('node1', 'dd if=/dev/urandom of=%s bs=1M count=256 '
                'oflag=direct conv=notrunc status=none' % self.path(volume))
        with_volume = self._used('node1', 'lun2')
        snapshot = base.snapshot_spec(volume)
        self.node1.call('create_snapshot', ('snapshot', snapshot))
        clone = base.volume_spec('lun2', 1)
        clone.update(self.node1.call('create_cloned_volume',
                                     ('volume', clone),
                                     ('volume', volume))[0])
        with_copies = self._used('node1', 'lun2')
        # Two copies of 256 MiB cost almost nothing.
        self.assertLess(with_copies - with_volume, 16 * MiB)
        # Deleted from node2: the snapshot still holds the extents.
        self.node2.call('delete_volume', ('volume', volume))
        self.node2.call('delete_volume', ('volume', clone))
        snapshot_only = self._used_after_settling(
            'lun2', lambda used: with_copies - used > 64 * MiB, timeout=20)
        self.assertLess(with_copies - snapshot_only, 16 * MiB)
        self.sh('node1', 'cmp -n %d /dev/zero %s/lun2/snapshot-%s; test $? '
                '-eq 1' % (MiB, base.BASE, snapshot['id']))
        # The last user goes: the extents are freed.
        self.node2.call('delete_snapshot', ('snapshot', snapshot))
        final = self._used_after_settling(
            'lun2', lambda used: snapshot_only - used > 240 * MiB)
        freed = snapshot_only - final
        self.assertGreater(freed, 240 * MiB)
        base.record('256 MiB volume + reflink snapshot + clone',
                    'df +%d KiB for both copies; -%d KiB after deleting '
                    'volume and clone; -%d MiB after the snapshot (last '
                    'user)' % ((with_copies - with_volume) // 1024,
                               (with_copies - snapshot_only) // 1024,
                               freed // MiB))
