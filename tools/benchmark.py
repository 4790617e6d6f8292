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
   ``conv=sparse``, cinder's ``volume_utils.copy_volume``).

Times are measured where the work runs: the driver call inside the guest,
commands by the guest's clock.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from cinder_ocfs2 import luns  # noqa: E402
from cinder_ocfs2 import mounts  # noqa: E402
from cinder_ocfs2.tests.functional import base  # noqa: E402

MiB = 1024 * 1024


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='smaller sizes and shorter runs')
    parser.add_argument('--only', choices=('copies', 'io', 'rediscovery',
                                           'image_cache', 'migration'),
                        action='append')
    args = parser.parse_args()
    # Full copies of 2 GiB volumes next to their reflinks need room: the
    # LUN images are sparse, so large ones cost nothing up front.
    os.environ.setdefault('CINDER_OCFS2_LAB_LUN_MB', '8192')
    parts = args.only or ['rediscovery', 'copies', 'io', 'image_cache',
                          'migration']
    bench = Bench(args.quick)
    started = time.monotonic()
    for part in parts:
        getattr(bench, part)()
    print('\nbenchmark finished in %.0f s' % (time.monotonic() - started))


if __name__ == '__main__':
    main()
