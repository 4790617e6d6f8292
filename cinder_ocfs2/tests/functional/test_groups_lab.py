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

"""Group snapshots and groups from a source on the real OCFS2 cluster.

Three volumes on two LUNs (lun1, lun2). Each check reads the bytes from
the node that did not make them.

With writers running on both nodes, each member's snapshot must be the
member as it was at one instant of its own. A writer fills a ring of
4 KiB blocks at the start of its volume, one block per write, with
O_DIRECT: write number n puts the record n, repeated, into block
n mod 256. An image of the volume at one instant holds, for some K (the
last write before that instant), exactly the records K, K-1, ... K-255
in their blocks; an image copied over a time while the writer ran holds
blocks of different instants, which ``ring_cut`` rejects. The test shows
that it rejects one (stitched from two reads of the live volume) before
it trusts it.
"""

import json
import os
import sys
import time
import uuid

from cinder_ocfs2.tests.functional import base

MiB = 1024 * 1024
GiB = 1024 * MiB
HEAD_MIB = 64
SLOTS = 256
BLOCK = 4096
# Random data the writers never touch, after the ring.
STATIC_OFFSET_MIB = 16
STATIC_MIB = 8
WRITER_SECONDS = 600

WRITER_SCRIPT = r'''
import mmap
import os
import sys
import time

path, stop, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, %(block)d)
count = 0
deadline = time.monotonic() + seconds
while not os.path.exists(stop) and time.monotonic() < deadline:
    count += 1
    buf.seek(0)
    buf.write((b'%%015d\n' %% count) * (%(block)d // 16))
    os.pwrite(fd, buf, (count %% %(slots)d) * %(block)d)
os.close(fd)
print('written', count, flush=True)
''' % {'block': BLOCK, 'slots': SLOTS}

# Prints the record of each ring block: n, 0 for zeroes, -1 for a block
# that is not one record repeated (a torn write). first/count: a part.
READER_SCRIPT = r'''
import json
import mmap
import os
import sys

path = sys.argv[1]
first, count = int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, %(block)d)
values = []
for slot in range(first, first + count):
    os.preadv(fd, [buf], slot * %(block)d)
    data = bytes(buf)
    if data == bytes(%(block)d):
        values.append(0)
    elif data == data[:16] * (%(block)d // 16) and data[15:16] == b'\n':
        values.append(int(data[:15]))
    else:
        values.append(-1)
os.close(fd)
print(json.dumps(values))
''' % {'block': BLOCK}


def ring_cut(values):
    """The last write K that a ring image holds, or None if it is torn.

    The image is the ring at one instant iff every block holds the
    newest record n <= K with n mod SLOTS == its slot (0 before any).
    """
    if len(values) != SLOTS or min(values) < 0:
        return None
    last = max(values)
    for slot, value in enumerate(values):
        newest = last - ((last - slot) % SLOTS)
        if value != (newest if newest >= 1 else 0):
            return None
    return last


class GroupsOnLabTestCase(base.LabTestCase):

    def setUp(self):
        super().setUp()
        for node in base.NODES:
            for name, text in (('ring_writer.py', WRITER_SCRIPT),
                               ('ring_reader.py', READER_SCRIPT)):
                with open(os.path.join(str(self.lab.exchange_dir(node)),
                                       name), 'w') as out:
                    out.write(text)

    # -- helpers -----------------------------------------------------------

    def _members(self):
        """Three volumes: lun1 by node1, lun2 by node2, lun1 by node2."""
        members = []
        for client, pool in ((self.node1, 'lun1'), (self.node2, 'lun2'),
                             (self.node2, 'lun1')):
            volume, _ = self.create(client=client, pool=pool, size=1)
            members.append(volume)
        return members

    @staticmethod
    def _group():
        return {'id': str(uuid.uuid4())}

    def _group_snapshot(self, client, group, members):
        group_snapshot = {'id': str(uuid.uuid4()), 'group': group}
        snapshots = [base.snapshot_spec(volume) for volume in members]
        (model, updates), seconds = client.call(
            'create_group_snapshot', ('context', None),
            ('group_snapshot', group_snapshot), ('snapshots', snapshots))
        self.addCleanup(self._delete_group_snapshot_quietly, group_snapshot,
                        snapshots)
        return group_snapshot, snapshots, model, updates, seconds

    def _delete_group_snapshot_quietly(self, group_snapshot, snapshots):
        try:
            self.node1.call('delete_group_snapshot', ('context', None),
                            ('group_snapshot', group_snapshot),
                            ('snapshots', snapshots))
        except (base.RemoteDriverError, RuntimeError):
            pass

    def _from_source(self, client, sources, field, pool):
        """A group made from sources; cinder puts it all on one pool."""
        group = self._group()
        volumes = [base.volume_spec(pool, 1, **{field: source['id']})
                   for source in sources]
        for volume in volumes:
            self.addCleanup(self._delete_quietly, volume)
        args = [('context', None), ('group', group), ('volumes', volumes)]
        if field == 'snapshot_id':
            args += [('group_snapshot', {'id': str(uuid.uuid4()),
                                         'group': self._group()}),
                     ('snapshots', sources)]
        else:
            args += [('value', None), ('value', None),
                     ('group', self._group()), ('volumes', sources)]
        (model, updates), seconds = client.call('create_group_from_src',
                                                *args)
        self.assertEqual({'status': 'available'}, model)
        locations = {update['id']: update['provider_location']
                     for update in updates}
        for volume in volumes:
            volume['provider_location'] = locations[volume['id']]
        return group, volumes, seconds

    def snapshot_path(self, snapshot):
        return '%s/%s/snapshot-%s' % (base.BASE,
                                      snapshot['volume']['provider_location'],
                                      snapshot['id'])

    def _size(self, node, path):
        return int(self.sh(node, 'stat -c %%s %s' % path))

    def _ring(self, node, path, first=0, count=SLOTS):
        return json.loads(self.sh(node, '%s /lab/ring_reader.py %s %d %d' % (
            sys.executable, path, first, count)))

    def _static(self, node, path):
        """Random data after the ring; its sha256."""
        self.sh(node, 'dd if=/dev/urandom of=%s bs=1M seek=%d count=%d '
                'oflag=direct conv=notrunc status=none'
                % (path, STATIC_OFFSET_MIB, STATIC_MIB))
        return self._static_sha(node, path)

    def _static_sha(self, node, path):
        return self.sh(node, 'dd if=%s bs=1M skip=%d count=%d iflag=direct '
                       'status=none | sha256sum' % (
                           path, STATIC_OFFSET_MIB, STATIC_MIB)).split()[0]

    def _start_writer(self, node, volume):
        stop = '/lab/stop-%s' % volume['id']
        writer = self.lab.spawn(node, '%s /lab/ring_writer.py %s %s %d' % (
            sys.executable, self.path(volume), stop, WRITER_SECONDS),
            log_name='ring-writer-%s' % volume['id'][:8])
        stop_file = os.path.join(str(self.lab.exchange_dir(node)),
                                 'stop-%s' % volume['id'])
        self.addCleanup(self._stop_writer, writer, stop_file)
        return writer, stop_file

    def _stop_writer(self, writer, stop_file):
        """Stop a writer; the number of writes it made."""
        if writer.exit_code() is None:
            open(stop_file, 'w').close()
            deadline = time.monotonic() + 60
            while writer.exit_code() is None and time.monotonic() < deadline:
                time.sleep(0.2)
        if writer.exit_code() is None:
            self.lab.stop(writer)
        if os.path.exists(stop_file):
            os.unlink(stop_file)
        self.assertEqual(0, writer.exit_code(), writer.output())
        return int(writer.output().split()[-1])

    def _live_max(self, node, volume):
        """The newest record in the ring of a volume being written.

        Reading 256 blocks takes a while, so the blocks are of different
        instants: the newest record is a bound, not a cut. Every write
        done before the read began is at least this old.
        """
        return max(self._ring(node, self.path(volume)))

    def _wait_for_writes(self, node, volume, newest):
        """Wait until the ring of volume holds a record past newest."""
        deadline = time.monotonic() + 300
        while self._live_max(node, volume) <= newest:
            self.assertLess(time.monotonic(), deadline,
                            'the writer of %s made too few writes'
                            % volume['id'])
            time.sleep(0.5)

    # -- tests -------------------------------------------------------------

    def test_group_snapshot_and_groups_from_it_across_nodes(self):
        members = self._members()
        group = self._group()
        for number, volume in enumerate(members):
            self.write_random(base.NODES[number % 2], self.path(volume))
        wanted = [self.head_sha('node1', self.path(volume), HEAD_MIB)
                  for volume in members]

        # Taken by node2's driver; the members then change.
        group_snapshot, snapshots, model, updates, snap_s = (
            self._group_snapshot(self.node2, group, members))
        self.assertEqual({'status': 'available'}, model)
        self.assertEqual({'available'}, {u['status'] for u in updates})
        for volume in members:
            self.write_random('node1', self.path(volume))
        for snapshot, digest in zip(snapshots, wanted):
            self.assertEqual(digest, self.head_sha(
                'node1', self.snapshot_path(snapshot), HEAD_MIB))
            self.assertEqual(GiB, self._size('node1',
                                             self.snapshot_path(snapshot)))

        # A group from the group snapshot, by node1, read on node2: cinder
        # puts the new group on one pool (lun1), so the member from lun2
        # is a full copy and the others reflinks.
        _, from_snap, from_snap_s = self._from_source(
            self.node1, snapshots, 'snapshot_id', 'lun1')
        for volume, digest in zip(from_snap, wanted):
            self.assertEqual('lun1', volume['provider_location'])
            self.assertEqual(digest, self.head_sha(
                'node2', self.path(volume), HEAD_MIB))

        # A group from the source group, by node2, read on node1.
        now = [self.head_sha('node2', self.path(volume), HEAD_MIB)
               for volume in members]
        source_group, clones, clone_s = self._from_source(
            self.node2, members, 'source_volid', 'lun2')
        self.assertEqual(now, [self.head_sha('node1', self.path(volume),
                                             HEAD_MIB) for volume in clones])
        self.assertEqual(now, [self.head_sha('node1', self.path(volume),
                                             HEAD_MIB) for volume in members])

        # Deleted by node2, gone as node1 sees it.
        (model, updates), delete_s = self.node2.call(
            'delete_group', ('context', None), ('group', source_group),
            ('volumes', clones))
        self.assertEqual({'status': 'deleted'}, model)
        self.assertEqual({'deleted'}, {u['status'] for u in updates})
        (model, _), _ = self.node1.call(
            'delete_group_snapshot', ('context', None),
            ('group_snapshot', group_snapshot), ('snapshots', snapshots))
        self.assertEqual({'status': 'deleted'}, model)
        listing = self.sh('node1', 'ls %s/lun1 %s/lun2'
                          % (base.BASE, base.BASE))
        for name in (['volume-%s' % volume['id'] for volume in clones] +
                     ['snapshot-%s' % snap['id'] for snap in snapshots]):
            self.assertNotIn(name, listing)
        base.record('group snapshot 3 vols / 2 LUNs (node2)',
                    '%.3f s; group from it %.2f s (1 full copy); from '
                    'source group %.2f s; delete %.2f s; bytes equal on the '
                    'other node' % (snap_s, from_snap_s, clone_s, delete_s))

    def test_group_snapshot_while_both_nodes_write(self):
        at_300 = [300 - ((300 - slot) % SLOTS) for slot in range(SLOTS)]
        self.assertEqual(300, ring_cut(at_300))
        self.assertIsNone(ring_cut(at_300[:-1] + [at_300[-1] - SLOTS]))
        members = self._members()
        static = [self._static('node1', self.path(volume))
                  for volume in members]
        writers = [self._start_writer(node, volume) for node, volume in
                   zip(('node1', 'node2', 'node2'), members)]
        for volume in members:
            self._wait_for_writes('node1', volume, SLOTS)

        # The check can fail: an image read in two parts while a writer
        # runs, as a copy made over time is, is rejected. The lower half
        # is read once the writer is 2.5 rings past the upper half, so
        # every upper block is older than the lower half allows.
        path = self.path(members[1])
        upper = self._ring('node1', path, SLOTS // 2, SLOTS // 2)
        self._wait_for_writes('node1', members[1],
                              max(upper) + 5 * SLOTS // 2)
        lower = self._ring('node1', path, 0, SLOTS // 2)
        self.assertIsNone(ring_cut(lower + upper))

        # The group snapshot by node1 while node1 and node2 write.
        before = [self._live_max('node2', volume) for volume in members]
        group_snapshot, snapshots, model, updates, seconds = (
            self._group_snapshot(self.node1, self._group(), members))
        after = [self._live_max('node2', volume) for volume in members]
        written = [self._stop_writer(*writer) for writer in writers]
        self.assertEqual({'status': 'available'}, model)
        cuts = []
        for index, snapshot in enumerate(snapshots):
            snap_path = self.snapshot_path(snapshot)
            self.assertEqual(GiB, self._size('node2', snap_path))
            cut = ring_cut(self._ring('node2', snap_path))
            self.assertIsNotNone(cut, 'snapshot of member %d is not one '
                                 'instant of it' % index)
            self.assertLessEqual(before[index], cut)
            self.assertLessEqual(cut, after[index])
            self.assertLess(cut, written[index])
            self.assertEqual(static[index], self._static_sha('node2',
                                                             snap_path))
            cuts.append(cut)
        # Each writer was writing through the group snapshot.
        for newest_before, newest_after in zip(before, after):
            self.assertLess(newest_before, newest_after)
        base.record('group snapshot, writers on both nodes',
                    '%.3f s; each member one instant of its own (writes '
                    'in snapshot / total: %s)' % (seconds, ', '.join(
                        '%d/%d' % pair for pair in zip(cuts, written))))

    def test_failed_member_leaves_no_snapshot_file(self):
        members = self._members()
        # The last member in volume id order loses its file (as if
        # removed by hand), after the others are snapshotted.
        last = max(members, key=lambda volume: volume['id'])
        self.sh('node2', 'rm %s' % self.path(last))
        listing = 'ls -a %s/lun1 %s/lun2' % (base.BASE, base.BASE)
        before = self.sh('node2', listing)
        group_snapshot, snapshots, model, updates, _ = self._group_snapshot(
            self.node1, self._group(), members)
        self.assertEqual({'status': 'error'}, model)
        self.assertEqual({'error'}, {u['status'] for u in updates})
        self.assertEqual(before, self.sh('node2', listing))
        for snapshot in snapshots:
            self.assertNotIn(snapshot['id'], before)

        # A group type that asks for consistent group snapshots.
        consistent = {'id': str(uuid.uuid4()),
                      'group_type_id': str(uuid.uuid4()),
                      'group_specs': {'consistent_group_snapshot_enabled':
                                      '<is> True'}}
        err = self.assertRaises(base.RemoteDriverError, self.node2.call,
                                'create_group', ('context', None),
                                ('group', consistent))
        self.assertEqual('ConsistentGroupSnapshotUnsupported', err.error)
        base.record('group snapshot, member file missing',
                    'error; no snapshot file left on either LUN; '
                    'consistent group type refused')
