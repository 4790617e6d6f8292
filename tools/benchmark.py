#!/usr/bin/env python3
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


"""Benchmarks of cinder-ocfs2 on the real two-node OCFS2 lab.

    tox -e bench                 # or: python tools/benchmark.py [--quick]

Prints a table per part (the figures in doc/source/benchmarks.rst come
from here):

1. snapshot, clone, volume from snapshot and revert by the driver
   (reflink) against a full copy with ``qemu-img convert`` (what cinder's
   NFS driver does), for volumes with 256 MiB, 1 GiB and 2 GiB written;
2. sequential 1 MiB and random 4 KiB O_DIRECT I/O with fio on a volume
   file against the raw LUN device, in the same VM;
3. LUN rediscovery (parse mountinfo, select LUNs) with 200 mounts;
4. 20 volumes from one cached image-volume (clones) against 20 copies;
5. migration of a 2 GiB volume to another LUN by the driver against the
   copy cinder's host-assisted migration makes (``dd`` with direct I/O and
   ``conv=sparse``, cinder's ``volume_utils.copy_volume``);
6. the capacity part of a stats refresh with cold caches on node1, for
   16 LUNs x 2,500 volume files made by node2 (``--only stats``; a lab of
   its own, so run it alone), against a stat of every file as before;
7. what a backup of an attached 1 GiB volume copies first: the temporary
   snapshot (``backup_use_temp_snapshot = True``, a reflink) against the
   temporary clone (the default, also a reflink on one LUN) and the full
   copy a driver without reflink makes (``qemu-img convert``);
8. a group snapshot of 10 volumes (1 GiB, 256 MiB written, on lun1 and
   lun2) by ``create_group_snapshot`` against 10 ``create_snapshot``
   calls (``--only groups``; driver calls only: cinder's generic group
   path adds an RPC and database round trip per member, not counted);
9. ``volume_files.copy_standalone`` of a raw 2 GiB volume to another LUN
   (the copy migrations and clones across LUNs make, then fsync) with
   direct I/O, as since 1.3.0, against the page cache, as before
   (``--only copy_raw``).

Times are measured where the work runs: the driver call inside the guest,
commands by the guest's clock.
"""

import argparse
import json
import os
import shlex
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from cinder_ocfs2 import luns  # noqa: E402
from cinder_ocfs2 import mounts  # noqa: E402
from cinder_ocfs2.tests.functional import base  # noqa: E402

MiB = 1024 * 1024


# Run in a lab node: the driver's own copy, page cache or direct I/O.
COPY_RAW = '''
import sys
from oslo_concurrency import processutils
from cinder_ocfs2 import volume_files
source, target, mode = sys.argv[1:]
if mode == 'cache':
    volume_files.supports_direct_io = lambda path: False
volume_files.copy_standalone(processutils.execute, source, volume_files.RAW,
                             target, 0o660)
'''


def table(title, header, rows):
    widths = [max(len(str(cell)) for cell in column)
              for column in zip(header, *rows)]
    line = '  '.join('%%-%ds' % width for width in widths)
    print('\n' + title)
    print(line % tuple(header))
    print(line % tuple('-' * width for width in widths))
    for row in rows:
        print(line % tuple(row))


class Bench:

    def __init__(self, quick):
        self.quick = quick

    @property
    def lab(self):
        return base.session()[0]

    @property
    def driver(self):
        return base.session()[1]['node1']

    def sh(self, command, node='node1', timeout=1800):
        return self.lab.run(node, command, timeout=timeout).check()

    def timed(self, command, node='node1'):
        return self.sh(command, node).duration

    def volume(self, pool, size_gib, written_mib):
        volume = base.volume_spec(pool, size_gib)
        volume.update(self.driver.call('create_volume',
                                       ('volume', volume))[0])
        path = '%s/%s/volume-%s' % (base.BASE, pool, volume['id'])
        self.sh('dd if=/dev/urandom of=%s bs=1M count=%d oflag=direct '
                'conv=notrunc status=none' % (path, written_mib))
        return volume, path

    def delete(self, *volumes):
        for volume in volumes:
            self.driver.call('delete_volume', ('volume', volume))

    # -- 1. copies ---------------------------------------------------------

    def copies(self):
        rows = []
        sizes = (256, 1024) if self.quick else (256, 1024, 2048)
        for written in sizes:
            size_gib = max(1, written // 1024)
            volume, path = self.volume('lun1', size_gib, written)
            snapshot = base.snapshot_spec(volume)
            snap_s = self.driver.call('create_snapshot',
                                      ('snapshot', snapshot))[1]
            clone = base.volume_spec('lun1', size_gib)
            update, clone_s = self.driver.call(
                'create_cloned_volume', ('volume', clone),
                ('volume', volume))
            clone.update(update)
            from_snap = base.volume_spec('lun1', size_gib)
            update, from_snap_s = self.driver.call(
                'create_volume_from_snapshot', ('volume', from_snap),
                ('snapshot', snapshot))
            from_snap.update(update)
            revert_s = self.driver.call('revert_to_snapshot',
                                        ('context', None),
                                        ('volume', volume),
                                        ('snapshot', snapshot))[1]
            copy_path = path + '.benchcopy'
            full_s = self.timed('qemu-img convert -f raw -O raw %s %s'
                                % (path, copy_path))
            self.sh('rm -f %s' % copy_path)
            slowest = max(snap_s, clone_s, from_snap_s, revert_s)
            rows.append(('%d MiB' % written, '%.3f' % snap_s,
                         '%.3f' % clone_s, '%.3f' % from_snap_s,
                         '%.3f' % revert_s, '%.2f' % full_s,
                         '%.0fx' % (full_s / slowest)))
            self.driver.call('delete_snapshot', ('snapshot', snapshot))
            self.delete(volume, from_snap, clone)
        table('1. Copies of a volume (seconds; driver = reflink)',
              ('written', 'snapshot', 'clone', 'from snapshot', 'revert',
               'qemu-img convert', 'full copy / slowest reflink'), rows)

    # -- 2. I/O ------------------------------------------------------------

    def spare_device(self):
        out = self.sh('for d in /sys/block/vd*; do echo "$(cat $d/serial '
                      '2>/dev/null) ${d##*/}"; done').stdout
        for line in out.splitlines():
            serial, _, device = line.partition(' ')
            if serial == base.SPARE_LUN:
                return '/dev/' + device
        raise RuntimeError('no device with serial %s: %s'
                           % (base.SPARE_LUN, out))

    def fio(self, target, rw, bs, size):
        out = self.sh('fio --name=b --filename=%s --rw=%s --bs=%s --size=%s '
                      '--direct=1 --ioengine=libaio --iodepth=16 '
                      '--runtime=%d --time_based --output-format=json'
                      % (target, rw, bs, size, 5 if self.quick else 10)
                      ).stdout
        job = json.loads(out[out.index('{'):])['jobs'][0]
        side = job['read'] if 'read' in rw else job['write']
        return side['bw_bytes'] / MiB, side['iops']

    def io(self):
        volume, path = self.volume('lun2', 1, 1)
        self.sh('dd if=/dev/zero of=%s bs=1M count=512 oflag=direct '
                'conv=notrunc status=none' % path)
        device = self.spare_device()
        rows = []
        for rw, bs in (('read', '1M'), ('write', '1M'), ('randread', '4k'),
                       ('randwrite', '4k')):
            file_bw, file_iops = self.fio(path, rw, bs, '512M')
            raw_bw, raw_iops = self.fio(device, rw, bs, '512M')
            rows.append(('%s %s' % (rw, bs), '%.1f MiB/s %.0f IOPS'
                         % (file_bw, file_iops),
                         '%.1f MiB/s %.0f IOPS' % (raw_bw, raw_iops),
                         '%.2f' % (file_bw / raw_bw)))
        self.delete(volume)
        table('2. O_DIRECT I/O, volume file vs raw LUN device (fio, '
              'libaio, depth 16, same VM)',
              ('pattern', 'volume file', 'raw LUN', 'ratio'), rows)

    # -- 3. rediscovery ----------------------------------------------------

    def rediscovery(self):
        lines = ['21 1 254:0 / / rw,relatime - ext4 /dev/vda rw']
        for number in range(200):
            lines.append('%d 21 8:%d / %s/192.168.10.%d_sd%s rw,relatime '
                         'shared:%d - ocfs2 /dev/sd%d rw,_netdev,'
                         'heartbeat=local,cluster_stack=o2cb' % (
                             100 + number, number, base.BASE, number % 250,
                             chr(97 + number % 26), number, number))
        text = '\n'.join(lines) + '\n'
        runs = []
        for _ in range(2000):
            started = time.perf_counter()
            selection = luns.select_luns(
                mounts.parse_mountinfo(text, below=base.BASE), base.BASE)
            runs.append(time.perf_counter() - started)
        assert len(selection.usable) == 200
        table('3. LUN rediscovery: parse mountinfo and select LUNs, 200 '
              'ocfs2 mounts (host CPU, 2000 runs)',
              ('median', 'p99', 'max'),
              [('%.3f ms' % (statistics.median(runs) * 1000),
                '%.3f ms' % (sorted(runs)[int(len(runs) * 0.99)] * 1000),
                '%.3f ms' % (max(runs) * 1000))])

    # -- 4. image cache ----------------------------------------------------

    def image_cache(self):
        count = 5 if self.quick else 20
        cached, cached_path = self.volume('lun3', 1, 256)
        clones, clone_times = [], []
        for _ in range(count):
            clone = base.volume_spec('lun3', 1)
            update, seconds = self.driver.call(
                'create_cloned_volume', ('volume', clone),
                ('volume', cached))
            clone.update(update)
            clones.append(clone)
            clone_times.append(seconds)
        copy_times = []
        for number in range(count):
            copy_times.append(self.timed(
                'qemu-img convert -f raw -O raw %s %s.copy%d'
                % (cached_path, cached_path, number)))
        self.sh('rm -f %s.copy*' % cached_path)
        self.delete(cached, *clones)
        table('4. %d volumes from one cached image-volume (256 MiB written)'
              % count, ('method', 'total', 'per volume'),
              [('driver (reflink clones)', '%.2f s' % sum(clone_times),
                '%.3f s' % statistics.mean(clone_times)),
               ('full copies (qemu-img convert)', '%.2f s' % sum(copy_times),
                '%.3f s' % statistics.mean(copy_times)),
               ('ratio', '%.0fx' % (sum(copy_times) / sum(clone_times)),
                '')])

    # -- 5. migration ------------------------------------------------------

    def migration(self):
        stats = self.driver.call('get_volume_stats')[0]
        location = {pool['pool_name']: pool['location_info']
                    for pool in stats['pools']}['lun2']
        host = {'host': 'lab@ocfs2#lun2', 'cluster_name': None,
                'capabilities': {'location_info': location}}
        rows = []
        for written in ((256,) if self.quick else (256, 1024)):
            volume, path = self.volume('lun1', 2, written)
            copy_path = '%s/lun2/bench-dd-copy' % base.BASE
            dd_s = self.timed('dd if=%s of=%s bs=1M iflag=direct '
                              'oflag=direct conv=sparse status=none'
                              % (path, copy_path))
            self.sh('rm -f %s' % copy_path)
            (moved, update), driver_s = self.driver.call(
                'migrate_volume', ('context', None), ('volume', volume),
                ('value', host))
            assert moved, update
            volume.update(update)
            rows.append(('%d MiB' % written, '%.2f' % driver_s,
                         '%.2f' % dd_s, '%.1fx' % (dd_s / driver_s)))
            self.delete(volume)
        table('5. Migration of a 2 GiB volume, lun1 to lun2 (seconds)',
              ('written', 'driver', 'host-assisted copy (dd)', 'ratio'),
              rows)

    # -- 9. copy_raw: direct I/O against the page cache -----------------

    def copy_raw(self):
        rows = []
        for written in ((256,) if self.quick else (256, 1024)):
            volume, path = self.volume('lun1', 2, written)
            target = '%s/lun2/bench-copy-raw' % base.BASE
            seconds = {}
            for mode in ('cache', 'direct'):
                self.sh('sync; echo 3 > /proc/sys/vm/drop_caches')
                seconds[mode] = self.timed('%s -c %s %s %s %s' % (
                    sys.executable, shlex.quote(COPY_RAW), path, target,
                    mode))
                self.sh('cmp -n 4M %s %s && rm -f %s'
                        % (path, target, target))
            rows.append(('%d MiB' % written, '%.2f' % seconds['cache'],
                         '%.2f' % seconds['direct'],
                         '%.1fx' % (seconds['cache'] / seconds['direct'])))
            self.delete(volume)
        table('9. copy_standalone of a raw 2 GiB volume, lun1 to lun2, '
              'caches dropped (seconds)',
              ('written', 'page cache (before 1.3.0)',
               'direct I/O (-T none -t none)', 'ratio'), rows)

    # -- 7. backup ---------------------------------------------------------

    def backup(self):
        """The temporary copy cinder makes to back up a volume in use.

        The volume is recorded attached (the driver then allows reflink
        copies only); nothing writes to it while the copies are timed.
        """
        runs = 1 if self.quick else 3
        volume, path = self.volume('lun1', 1, 1024)
        volume.update(status='backing-up', previous_status='in-use',
                      attach_status='attached')
        times = {name: [] for name in ('snapshot', 'snapshot delete',
                                       'clone', 'clone delete', 'full',
                                       'full delete')}
        read_s = None
        for _ in range(runs):
            snapshot = base.snapshot_spec(volume)
            times['snapshot'].append(self.driver.call(
                'create_snapshot', ('snapshot', snapshot))[1])
            if read_s is None:
                info = self.driver.call('initialize_connection_snapshot',
                                        ('snapshot', snapshot),
                                        ('value', {'host': 'node1'}))[0]
                read_s = self.timed('dd if=%s of=/dev/null bs=1M '
                                    'status=none'
                                    % info['data']['device_path'])
                self.driver.call('terminate_connection_snapshot',
                                 ('snapshot', snapshot),
                                 ('value', {'host': 'node1'}))
            times['snapshot delete'].append(self.driver.call(
                'delete_snapshot', ('snapshot', snapshot))[1])
            clone = base.volume_spec('lun1', 1)
            update, seconds = self.driver.call(
                'create_cloned_volume', ('volume', clone), ('volume', volume))
            clone.update(update)
            times['clone'].append(seconds)
            times['clone delete'].append(self.driver.call(
                'delete_volume', ('volume', clone))[1])
            copy_path = path + '.benchcopy'
            times['full'].append(self.timed(
                'qemu-img convert -f raw -O raw %s %s' % (path, copy_path)))
            times['full delete'].append(self.timed('rm -f %s' % copy_path))
        self.delete(volume)
        median = {name: statistics.median(values)
                  for name, values in times.items()}
        table('7. The temporary copy before a backup of an attached 1 GiB '
              'volume (1 GiB written; seconds, median of %d)' % runs,
              ('temporary copy', 'when cinder makes it', 'create', 'delete',
               'full copy / create'),
              [('snapshot by the driver (reflink)',
                'backup_use_temp_snapshot = True',
                '%.3f' % median['snapshot'],
                '%.3f' % median['snapshot delete'],
                '%.0fx' % (median['full'] / median['snapshot'])),
               ('clone by the driver (reflink, same LUN)',
                'backup_use_temp_snapshot = False (default)',
                '%.3f' % median['clone'], '%.3f' % median['clone delete'],
                '%.0fx' % (median['full'] / median['clone'])),
               ('full copy (qemu-img convert -f raw -O raw)',
                'the default, by a driver without reflink',
                '%.2f' % median['full'], '%.3f' % median['full delete'],
                '1x'),
               ('then: the backup reads the attached snapshot',
                'dd of its device_path to /dev/null, 1 GiB',
                '%.2f' % read_s, '', '')])

    # -- 8. group snapshots ------------------------------------------------

    def groups(self):
        """One group snapshot against a snapshot of each member in turn.

        Both are timed inside the guest around the driver calls. Through
        cinder, the one-by-one snapshots (its generic group code, or a
        user) also cost an RPC and database round trip each, which this
        does not count.
        """
        count, written = (4, 64) if self.quick else (10, 256)
        runs = 1 if self.quick else 3
        volumes = [self.volume('lun%d' % (1 + number % 2), 1, written)[0]
                   for number in range(count)]
        single_s, group_s = [], []
        for _ in range(runs):
            singles = [base.snapshot_spec(volume) for volume in volumes]
            single_s.append(sum(
                self.driver.call('create_snapshot', ('snapshot', snap))[1]
                for snap in singles))
            group_snapshot = {'id': str(uuid.uuid4()),
                              'group': {'id': str(uuid.uuid4())}}
            members = [base.snapshot_spec(volume) for volume in volumes]
            (model, _), seconds = self.driver.call(
                'create_group_snapshot', ('context', None),
                ('group_snapshot', group_snapshot), ('snapshots', members))
            assert model['status'] == 'available', model
            group_s.append(seconds)
            for snap in singles:
                self.driver.call('delete_snapshot', ('snapshot', snap))
            self.driver.call('delete_group_snapshot', ('context', None),
                             ('group_snapshot', group_snapshot),
                             ('snapshots', members))
        self.delete(*volumes)
        single, group = (statistics.median(single_s),
                         statistics.median(group_s))
        table('8. Snapshots of %d volumes on lun1 and lun2 (1 GiB, %d MiB '
              'written; seconds, median of %d; driver calls only)'
              % (count, written, runs),
              ('method', 'total', 'per volume'),
              [('create_group_snapshot (one call)', '%.3f' % group,
                '%.3f' % (group / count)),
               ('create_snapshot x %d' % count, '%.3f' % single,
                '%.3f' % (single / count)),
               ('cinder adds per member (not measured)',
                'RPC + DB round trip', '')])


STATS_GUEST_SCRIPT = r'''
import json
import os
import sys
import time

from cinder_ocfs2 import pools


def cold():
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as drop:
        drop.write('3\n')


def meta_locks():
    # Inode meta lock resources this node holds, over every OCFS2 mount.
    count = 0
    root = '/sys/kernel/debug/ocfs2'
    for fs in os.listdir(root):
        with open(os.path.join(root, fs, 'locking_state')) as state:
            # Fields: format version, lock name, ...
            count += sum(1 for line in state
                         if line.split('\t')[1:2] and
                         line.split('\t')[1].startswith('M'))
    return count


def measured(work):
    cold()
    locks = meta_locks()
    started = time.monotonic()
    result = work()
    return result, time.monotonic() - started, meta_locks() - locks


def stat_every_file(lun):
    total = 0
    with os.scandir(lun) as entries:
        for entry in entries:
            if entry.name.startswith('volume-'):
                total += entry.stat(follow_symlinks=False).st_size
    return total


luns = sys.argv[1:]
# The last LUN was written moments ago: let every root be older than the
# counter's racy window, as on a site between two refreshes.
time.sleep(pools.VolumeCounter.RACY_SECONDS + 1)
counter = pools.VolumeCounter()
_, statvfs_s, statvfs_locks = measured(
    lambda: [os.statvfs(lun) for lun in luns])
counts, first_s, first_locks = measured(
    lambda: [pools.read_capacity(lun, counter).volume_count
             for lun in luns])
again, next_s, next_locks = measured(
    lambda: [pools.read_capacity(lun, counter).volume_count
             for lun in luns])
assert again == counts, (again, counts)
_, before_s, before_locks = measured(lambda: stat_every_file(luns[0]))
print(json.dumps({'files': sum(counts), 'statvfs_s': statvfs_s,
                  'statvfs_locks': statvfs_locks, 'first_s': first_s,
                  'first_locks': first_locks, 'next_s': next_s,
                  'next_locks': next_locks, 'before_one_lun_s': before_s,
                  'before_one_lun_locks': before_locks}))
'''

STATS_CREATE_SCRIPT = r'''
import os
import sys
import uuid

count = int(sys.argv[1])
for lun in sys.argv[2:]:
    for _ in range(count):
        fd = os.open(os.path.join(lun, 'volume-%s' % uuid.uuid4()),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660)
        os.ftruncate(fd, 1024 ** 3)
        os.close(fd)
'''


def stats(quick):
    """Part 6, on a lab of its own with 16 LUNs (the most the lab has)."""
    from cinder_ocfs2.tests.functional.lab import lab as lab_mod
    luns, per_lun = (4, 500) if quick else (16, 2500)
    names = ['lun%d' % number for number in range(1, luns + 1)]
    paths = ['%s/%s' % (base.BASE, name) for name in names]
    lab = lab_mod.Lab()
    lab.up(luns=luns, mounted=names, lun_size_mb=512)
    try:
        for node, name, text in (('node2', 'create.py', STATS_CREATE_SCRIPT),
                                 ('node1', 'stats.py', STATS_GUEST_SCRIPT)):
            with open(os.path.join(str(lab.exchange_dir(node)), name),
                      'w') as out:
                out.write(text)
        made = lab.run('node2', '%s /lab/create.py %d %s' % (
            sys.executable, per_lun, ' '.join(paths)), timeout=7200).check()
        report = json.loads(lab.run('node1', '%s /lab/stats.py %s' % (
            sys.executable, ' '.join(paths)), timeout=3600
        ).check().stdout.strip().splitlines()[-1])
    finally:
        lab.down()
    table('6. Capacity of a stats refresh on node1, cold caches, %d LUNs x '
          '%d volume files made by node2 (%.0f s to make them)'
          % (luns, per_lun, made.duration),
          ('method', 'files', 'seconds', 'inode locks taken'),
          [('statvfs alone, every LUN', 0, '%.3f' % report['statvfs_s'],
            report['statvfs_locks']),
           ('first refresh (now): statvfs, stat and list each root',
            report['files'], '%.3f' % report['first_s'],
            report['first_locks']),
           ('next refreshes (now): statvfs, stat each unchanged root',
            report['files'], '%.3f' % report['next_s'],
            report['next_locks']),
           ('stat of every file (before), one LUN', per_lun,
            '%.2f' % report['before_one_lun_s'],
            report['before_one_lun_locks']),
           ('  before, every LUN (x %d, estimated)' % luns, luns * per_lun,
            '%.0f' % (report['before_one_lun_s'] * luns),
            report['before_one_lun_locks'] * luns)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='smaller sizes and shorter runs')
    parser.add_argument('--only', choices=('copies', 'io', 'rediscovery',
                                           'image_cache', 'migration',
                                           'stats', 'backup', 'groups',
                                           'copy_raw'),
                        action='append')
    args = parser.parse_args()
    # Full copies of 2 GiB volumes next to their reflinks need room: the
    # LUN images are sparse, so large ones cost nothing up front.
    os.environ.setdefault('CINDER_OCFS2_LAB_LUN_MB', '8192')
    parts = args.only or ['rediscovery', 'copies', 'io', 'image_cache',
                          'migration', 'copy_raw', 'backup']
    bench = Bench(args.quick)
    started = time.monotonic()
    for part in parts:
        if part == 'stats':
            stats(args.quick)
        else:
            getattr(bench, part)()
    print('\nbenchmark finished in %.0f s' % (time.monotonic() - started))


if __name__ == '__main__':
    main()
