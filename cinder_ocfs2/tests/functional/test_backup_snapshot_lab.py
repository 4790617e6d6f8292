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

"""A backup of an attached volume from a temporary snapshot, on the lab.

What cinder does with ``backup_use_temp_snapshot = True``, step by step,
with the real driver on both nodes:

* node2 attaches the volume (initialize_connection, os-brick's connector)
  and a qemu-io process writes to it in passes: pass p writes the byte p
  into block 0, 1, ... N-1 in order, one O_DIRECT write each, and records
  how many writes completed;
* on node1 the driver makes the temporary snapshot (create_snapshot, as
  cinder's ``_create_temp_snapshot`` calls it), initialize_connection_
  snapshot gives its connection info, os-brick's connector on node1
  attaches it and a reader copies every byte as cinder-backup reads a
  volume (open the path, read it in chunks) to the host, while node2 keeps
  writing;
* then the writer stops, and cinder's detach (terminate_connection_
  snapshot) and the delete of the temporary snapshot follow.

The copy must equal the snapshot file, and be one point in time: blocks
0..k-1 from pass p and k..N-1 from pass p-1, i.e. exactly the first n
writes, where n lies between the writer's count before the snapshot call
and after it. A copy of the live volume would mix passes (a later pass
after an earlier one, or two boundaries), which the check reports.

The same writer and check show that a clone of the attached volume onto
another LUN (a full copy) is one point in time too: the driver copies a
reflink it makes first, not the file the guest is writing.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time

import testtools

from cinder_ocfs2.tests.functional import base

MiB = 1024 * 1024
BLOCK = 64 * 1024
STRIDE = 4 * MiB           # block i at i * STRIDE: spread over 1 GiB
BLOCKS = 256
MAX_PASSES = 249           # the pass number is one byte, 0 = never written
CONFIG = {'backup_use_temp_snapshot': True}

# node2: attach through os-brick, then write passes through one qemu-io
# process until /lab/<stop> exists; /lab/<progress> holds the number of
# completed writes. Prints that number at the end.
WRITER = r'''
import json, os, subprocess, sys
from os_brick.initiator import connector
info_path, progress, stop, block, stride, blocks, max_passes = sys.argv[1:]
block, stride, blocks, max_passes = (int(block), int(stride), int(blocks),
                                     int(max_passes))
info = json.load(open(info_path))
brick = connector.InitiatorConnector.factory(
    info["driver_volume_type"].upper(), None)
device = brick.connect_volume(info["data"])
qemu_io = subprocess.Popen(
    ["qemu-io", "-f", info["data"]["format"], "-t", "none", device["path"]],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
done = 0
while not os.path.exists(stop) and done < max_passes * blocks:
    number, index = divmod(done, blocks)
    qemu_io.stdin.write("write -P %d %d %d\n" % (number + 1, index * stride,
                                                 block))
    qemu_io.stdin.flush()
    answer = qemu_io.stdout.readline()
    if "wrote %d/%d bytes" % (block, block) not in answer:
        sys.exit("qemu-io: %r" % answer)
    qemu_io.stdout.readline()  # the rate line
    done += 1
    with open(progress + ".tmp", "w") as out:
        out.write("%d\n" % done)
    os.rename(progress + ".tmp", progress)
while not os.path.exists(stop):
    import time; time.sleep(0.2)
qemu_io.stdin.close()
if qemu_io.wait() != 0:
    sys.exit("qemu-io exited with %d" % qemu_io.returncode)
brick.disconnect_volume(info["data"], device)
print("writes=%d" % done)
'''

# node1: what cinder-backup does with the connection info of a snapshot:
# os-brick's connector for its protocol, then open the path and read it in
# chunks. The copy is written to a file (holes where all is zero) and
# hashed on the way.
READER = r'''
import hashlib, json, os, sys, time
from os_brick.initiator import connector
info_path, copy_path = sys.argv[1:]
info = json.load(open(info_path))
brick = connector.InitiatorConnector.factory(
    info["driver_volume_type"].upper(), None)
started = time.monotonic()
device = brick.connect_volume(info["data"])
digest = hashlib.sha256()
total = 0
piece = 64 * 1024
with open(device["path"], "rb") as source, open(copy_path, "wb") as copy:
    while True:
        chunk = source.read(1024 * 1024)
        if not chunk:
            break
        digest.update(chunk)
        for at in range(0, len(chunk), piece):
            part = chunk[at:at + piece]
            if part.count(0) != len(part):
                copy.seek(total + at)
                copy.write(part)
        total += len(chunk)
    copy.truncate(total)
brick.disconnect_volume(info["data"], device, force=True, ignore_errors=True)
print(json.dumps({"path": device["path"], "bytes": total,
                  "sha256": digest.hexdigest(),
                  "seconds": time.monotonic() - started}))
'''

# The byte of each block of a file; exits non-zero if a block is torn.
BLOCK_VALUES = r'''
import json, sys
path, block, stride, blocks = sys.argv[1], *map(int, sys.argv[2:])
values = []
with open(path, "rb") as f:
    for i in range(blocks):
        f.seek(i * stride)
        data = f.read(block)
        if len(data) != block or data.count(data[0]) != block:
            sys.exit("block %d is torn: %r" % (i, data[:16]))
        values.append(data[0])
print(json.dumps(values))
'''


def writes_in(values):
    """How many of the writer's writes a file holds, if one point in time.

    :returns: n such that the file holds exactly the first n writes
        (blocks 0..k-1 from pass p, the others from pass p-1), or raises
        AssertionError naming the first block that breaks it.
    """
    first = values[0]
    k = next((i for i, value in enumerate(values) if value != first),
             len(values))
    for i in range(k, len(values)):
        if values[i] != first - 1:
            raise AssertionError(
                'not one point in time: blocks 0-%d are from pass %d, so '
                'the blocks after them must be from pass %d, but block %d '
                'is from pass %d' % (k - 1, first, first - 1, i, values[i]))
    return (first - 1) * len(values) + k


class BackupFromSnapshotOnLabTestCase(base.LabTestCase):

    def _put(self, node, name, text):
        with open(os.path.join(str(self.lab.exchange_dir(node)), name),
                  'w') as out:
            out.write(text)
        return '/lab/' + name

    def _host_path(self, node, name):
        return os.path.join(str(self.lab.exchange_dir(node)), name)

    def _remove(self, *paths):
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)

    @staticmethod
    def _touch(path):
        open(path, 'w').close()

    def _writes(self, progress):
        try:
            with open(progress) as count:
                return int(count.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _sha256(self, node, path):
        """sha256sum of a 1 GiB file: slow in an emulated guest."""
        return self.sh(node, 'sha256sum %s' % path, timeout=1200).split()[0]

    def _block_values(self, node, path):
        script = self._put(node, 'block_values.py', BLOCK_VALUES)
        return json.loads(self.sh(node, '%s %s %s %d %d %d' % (
            sys.executable, script, path, BLOCK, STRIDE, BLOCKS)))

    @staticmethod
    def _copy_values(path):
        """The byte of each block of a copy on the host."""
        checker = subprocess.run(
            [sys.executable, '-c', BLOCK_VALUES, path, str(BLOCK),
             str(STRIDE), str(BLOCKS)], capture_output=True, text=True)
        if checker.returncode:
            raise AssertionError(checker.stderr.strip().splitlines()[-1])
        return json.loads(checker.stdout)

    def _start_writer(self, volume, name):
        """node2 attaches volume and writes passes to it through qemu-io.

        name: the writer's log, one per test (the count is read from it).

        Returns once the writer is into its second pass (every block holds
        data by then): (writer, progress file, stop file, deadline).
        """
        attach, _ = self.node2.call('initialize_connection',
                                    ('volume', volume),
                                    ('value', {'host': 'node2'}))
        self.assertEqual('gpfs', attach['driver_volume_type'])
        progress = self._host_path('node2', 'backup-writer.progress')
        stop = self._host_path('node2', 'backup-writer.stop')
        self._remove(progress, progress + '.tmp', stop)
        self._put('node2', 'backup-connection.json', json.dumps(attach))
        writer_script = self._put('node2', 'backup_writer.py', WRITER)
        writer = self.lab.spawn('node2', '%s %s %s %s %s %d %d %d %d' % (
            sys.executable, writer_script, '/lab/backup-connection.json',
            '/lab/backup-writer.progress', '/lab/backup-writer.stop',
            BLOCK, STRIDE, BLOCKS, MAX_PASSES), log_name=name)
        self.addCleanup(self._remove, progress, stop)
        self.addCleanup(self.lab.stop, writer)
        self.addCleanup(self._touch, stop)
        deadline = time.monotonic() + 600
        while self._writes(progress) < BLOCKS + BLOCKS // 3:
            self.assertIsNone(writer.exit_code(), writer.output())
            self.assertLess(time.monotonic(), deadline, 'writer too slow')
            time.sleep(0.2)
        return writer, progress, stop, deadline

    def _stop_writer(self, writer, stop, deadline):
        """Stop the writer; returns how many writes it made in all."""
        self._touch(stop)
        while writer.exit_code() is None:
            self.assertLess(time.monotonic(), deadline + 600)
            time.sleep(0.2)
        self.assertEqual(0, writer.exit_code(), writer.output())
        return int(re.search(r'writes=(\d+)', writer.output()).group(1))

    def test_clone_of_attached_volume_to_another_lun_is_one_point_in_time(
            self):
        # cinder clones an attached volume (--source of an in-use volume,
        # or a backup's temporary clone without backup_use_temp_snapshot)
        # and the scheduler may place the clone on another LUN: a full
        # copy, which must not read the file the guest is writing.
        volume, _ = self.create(pool='lun1', size=1, status='in-use',
                                attach_status='attached')
        writer, progress, stop, deadline = self._start_writer(
            volume, 'clone-writer')
        clone = base.volume_spec('lun2', 1)
        before = self._writes(progress)
        update, seconds = self.node1.call(
            'create_cloned_volume', ('volume', clone), ('volume', volume))
        after = self._writes(progress)
        clone.update(update)
        self.addCleanup(self.node1.call, 'delete_volume', ('volume', clone))
        total_writes = self._stop_writer(writer, stop, deadline)
        clone_path = '%s/lun2/volume-%s' % (base.BASE, clone['id'])
        in_clone = writes_in(self._block_values('node2', clone_path))
        self.assertGreaterEqual(in_clone, before)
        self.assertLessEqual(in_clone, after + 1)
        self.assertGreater(after, before, 'the guest wrote during the copy')
        self.sh('node1', 'test ! -e %s/lun1/volume-%s.source'
                % (base.BASE, clone['id']))
        base.record('clone of an attached volume to another LUN, node2 '
                    'writing', 'copied in %.1f s while node2 made writes '
                    '%d-%d; the clone holds exactly the first %d (of %d)'
                    % (seconds, before, after, in_clone, total_writes))

    def test_backup_of_attached_volume_reads_one_point_in_time(self):
        self.assertTrue(self.node1.call('backup_use_temp_snapshot',
                                        config=CONFIG)[0])
        volume, _ = self.create(pool='lun1', size=1, status='in-use',
                                attach_status='attached', config=CONFIG)
        # node2: the guest's disk, written through qemu.
        writer, progress, stop, deadline = self._start_writer(
            volume, 'backup-writer')

        # node1: cinder's get_backup_device, then the backup's attach.
        volume.update(status='backing-up', previous_status='in-use')
        snapshot = base.snapshot_spec(volume)
        before = self._writes(progress)
        _, snap_seconds = self.node1.call(
            'create_snapshot', ('snapshot', snapshot), config=CONFIG)
        after = self._writes(progress)
        snap_path = '%s/lun1/snapshot-%s' % (base.BASE, snapshot['id'])
        self.addCleanup(self._delete_snapshot_quietly, snapshot)
        info, _ = self.node1.call('initialize_connection_snapshot',
                                  ('snapshot', snapshot),
                                  ('value', {'host': 'node1'}),
                                  config=CONFIG)
        self.assertEqual('gpfs', info['driver_volume_type'])
        self.assertEqual(snap_path, info['data']['device_path'])
        self.assertEqual('raw', info['data']['format'])
        self._put('node1', 'backup-snapshot-connection.json',
                  json.dumps(info))
        reader = self._put('node1', 'backup_reader.py', READER)
        copy = self._host_path('node1', 'backup-copy.raw')
        self.addCleanup(self._remove, copy)
        at_read = self._writes(progress)
        read = json.loads(self.sh('node1', '%s %s %s %s' % (
            sys.executable, reader, '/lab/backup-snapshot-connection.json',
            '/lab/backup-copy.raw'), timeout=1200))
        after_read = self._writes(progress)
        self.assertEqual(snap_path, read['path'])
        self.assertEqual(1024 * MiB, read['bytes'])
        # The guest wrote on while the backup read.
        self.assertGreater(after_read, at_read)
        # Then the writer stops; cinder detaches and deletes the snapshot.
        total_writes = self._stop_writer(writer, stop, deadline)
        self.node1.call('terminate_connection_snapshot',
                        ('snapshot', snapshot), ('value', {'host': 'node1'}),
                        config=CONFIG)
        self.node1.call('remove_export_snapshot', ('context', None),
                        ('snapshot', snapshot), config=CONFIG)

        # The copy is the snapshot file, byte for byte.
        snapshot_sha = self._sha256('node1', snap_path)
        with open(copy, 'rb') as copied:
            copy_sha = hashlib.file_digest(copied, 'sha256').hexdigest()
        self.assertEqual(snapshot_sha, read['sha256'])
        self.assertEqual(snapshot_sha, copy_sha)
        # ... and one point in time, taken during the snapshot call.
        in_copy = writes_in(self._copy_values(copy))
        self.assertGreaterEqual(in_copy, before)
        self.assertLessEqual(in_copy, after + 1)
        # The volume went on: it holds every write, the snapshot did not.
        in_volume = writes_in(self._block_values('node1', self.path(volume)))
        self.assertEqual(total_writes, in_volume)
        self.assertGreater(in_volume, in_copy)

        # The terminate left the file alone; cinder's delete removes it.
        self.node1.call('delete_snapshot', ('snapshot', snapshot),
                        config=CONFIG)
        self.sh('node1', 'test ! -e %s' % snap_path)
        base.record('backup from temp snapshot, node2 writing',
                    'reflink snapshot in %.3f s at write %d (writer at '
                    '%d-%d); 1 GiB read through os-brick on node1 in '
                    '%.1f s while node2 wrote %d more; copy = snapshot '
                    '(sha256), volume then at write %d'
                    % (snap_seconds, in_copy, before, after,
                       read['seconds'], after_read - at_read, in_volume))

    def _delete_snapshot_quietly(self, snapshot):
        try:
            self.node1.call('delete_snapshot', ('snapshot', snapshot))
        except (base.RemoteDriverError, RuntimeError):
            pass


class WritesInTestCase(testtools.TestCase):
    """The point-in-time check itself, without the lab."""

    def test_one_boundary(self):
        self.assertEqual(2 * 4 + 1, writes_in([3, 2, 2, 2]))
        self.assertEqual(3 * 4, writes_in([3, 3, 3, 3]))
        self.assertEqual(2, writes_in([1, 1, 0, 0]))

    def test_mixed_passes_detected(self):
        for torn in ([3, 2, 3, 3], [3, 1, 1, 1], [3, 3, 2, 4], [2, 3, 3]):
            self.assertRaises(AssertionError, writes_in, torn)
