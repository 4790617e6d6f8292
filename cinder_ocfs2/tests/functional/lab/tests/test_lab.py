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

"""Tests of the lab's own pure parts and agent protocol; no VM needed.

Run with the standard library only:
``python3 -m unittest discover -s cinder_ocfs2/tests/functional/lab/tests
-t .`` from the repository root.
"""

import gzip
import io
import lzma
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import cluster
from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors
from cinder_ocfs2.tests.functional.lab import initramfs
from cinder_ocfs2.tests.functional.lab import kernel
from cinder_ocfs2.tests.functional.lab import packages
from cinder_ocfs2.tests.functional.lab import rundir
from cinder_ocfs2.tests.functional.lab import status
from cinder_ocfs2.tests.functional.lab import vm

ELF = b'\x7fELF' + b'\x02\x01\x01' + bytes(range(200)) * 50


def fake_bzimage(payload, header=True, setup_sects=3):
    """A bzImage-shaped blob: setup sectors, then the payload."""
    image = bytearray((setup_sects + 1) * 512)
    if header:
        image[0x1f1] = setup_sects
        image[0x202:0x206] = b'HdrS'
        struct.pack_into('<II', image, 0x248, 100, len(payload))
    return bytes(image) + b'\0' * 100 + payload + b'trailing junk'


class TestKernelExtraction(unittest.TestCase):

    def test_extract_vmlinux_xz_from_header(self):
        image = fake_bzimage(lzma.compress(ELF, format=lzma.FORMAT_XZ))
        self.assertEqual(ELF, kernel.extract_vmlinux(image))
        self.assertEqual('xz', kernel.find_payload(image)[0])

    def test_extract_vmlinux_gzip_by_magic_scan(self):
        image = fake_bzimage(gzip.compress(ELF), header=False)
        kind, _, length = kernel.find_payload(image)
        self.assertEqual(('gzip', None), (kind, length))
        self.assertEqual(ELF, kernel.extract_vmlinux(image))

    def test_extract_vmlinux_no_payload(self):
        self.assertRaises(ValueError, kernel.extract_vmlinux, b'\0' * 4096)

    def test_extract_vmlinux_not_elf(self):
        image = fake_bzimage(lzma.compress(b'not a kernel' * 10))
        self.assertRaises(ValueError, kernel.extract_vmlinux, image)


class TestModules(unittest.TestCase):

    DEP = ('kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/a-b.ko\n'
           'kernel/net/9p/9pnet.ko:\n'
           'kernel/fs/a-b.ko: kernel/net/9p/9pnet.ko\n'
           'kernel/fs/other.ko:\n')

    def test_module_name(self):
        self.assertEqual('ocfs2_dlmfs',
                         initramfs.module_name('kernel/fs/ocfs2-dlmfs.ko'))
        self.assertEqual('x', initramfs.module_name('a/x.ko.xz'))

    def test_parse_modules_dep(self):
        entries = initramfs.parse_modules_dep(self.DEP)
        self.assertEqual(('kernel/net/9p/9pnet.ko', 'kernel/fs/a-b.ko'),
                         entries['9p'].depends)
        self.assertIn('a_b', entries)

    def test_parse_modules_dep_bad_line(self):
        self.assertRaises(ValueError, initramfs.parse_modules_dep, 'no colon')

    def test_module_closure_dependencies_first(self):
        entries = initramfs.parse_modules_dep(self.DEP)
        self.assertEqual(['kernel/net/9p/9pnet.ko', 'kernel/fs/a-b.ko',
                          'kernel/fs/9p/9p.ko'],
                         initramfs.module_closure(['9p', 'a_b'], entries))

    def test_module_closure_unknown(self):
        self.assertRaises(KeyError, initramfs.module_closure, ['nope'],
                          initramfs.parse_modules_dep(self.DEP))


def read_cpio(data):
    """name -> (mode, content) from a newc archive."""
    entries, pos = {}, 0
    while True:
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16)
                  for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        if name == 'TRAILER!!!':
            return entries
        entries[name] = (mode, data[pos:pos + size])
        pos = (pos + size + 3) & ~3


class TestCpio(unittest.TestCase):

    def test_writer_round_trip(self):
        stream = io.BytesIO()
        writer = initramfs.CpioWriter(stream)
        writer.directory('bin')
        writer.file('bin/tool', b'abcde', 0o755)
        writer.symlink('bin/sh', 'tool')
        writer.close()
        entries = read_cpio(stream.getvalue())
        self.assertEqual((0o100755, b'abcde'), entries['bin/tool'])
        self.assertEqual((0o120777, b'tool'), entries['bin/sh'])
        self.assertEqual(0o040755, entries['bin'][0])

    @unittest.skipUnless(os.path.exists('/usr/bin/cpio'), 'needs cpio')
    def test_writer_output_read_by_cpio(self):
        stream = io.BytesIO()
        writer = initramfs.CpioWriter(stream)
        writer.file('init', b'#!/bin/sh\n', 0o755)
        writer.close()
        listing = subprocess.run(['cpio', '-t'], input=stream.getvalue(),
                                 capture_output=True, check=True)
        self.assertEqual(b'init\n', listing.stdout)


class TestSpec(unittest.TestCase):

    def test_defaults_mount_all_but_last(self):
        spec = config.LabSpec()
        self.assertEqual(('lun1', 'lun2', 'lun3'), spec.mounted)
        self.assertIs(config.Heartbeat.LOCAL, spec.heartbeat)

    def test_explicit_values(self):
        spec = config.LabSpec(luns=2, mounted=['lun2'], heartbeat='global',
                              forwards=['3306'])
        self.assertEqual((('lun2',), (3306,)), (spec.mounted, spec.forwards))
        self.assertEqual(('lun1', 'lun2'), spec.heartbeat_luns)

    def test_invalid(self):
        for kwargs in ({'luns': 0}, {'mounted': ['lun9']},
                       {'forwards': [70000]}, {'heartbeat': 'disk'},
                       {'memory_mb': 16}, {'scratch_mb': 10}):
            self.assertRaises(ValueError, config.LabSpec, **kwargs)

    def test_scratch_disk_is_optional(self):
        self.assertEqual(0, config.LabSpec().scratch_mb)
        spec = config.LabSpec(scratch_mb=4096)
        self.assertEqual(4096, spec.to_json()['scratch_mb'])
        # state.json of a lab started before scratch disks existed.
        data = config.LabSpec().to_json()
        del data['scratch_mb']
        self.assertEqual(0, config.LabSpec(**data).scratch_mb)

    def test_paths_from_env(self):
        paths = config.Paths.from_env(environ={config.RUN_ENV: '/r'})
        self.assertEqual(pathlib.Path('/r/node1/lab'),
                         paths.exchange_dir('node1'))
        self.assertEqual(pathlib.Path('/r/scratch-node2.img'),
                         paths.scratch_image(config.NODES[1]))
        self.assertEqual(pathlib.Path(config.DEFAULT_CACHE_DIR),
                         paths.cache_dir)

    def test_node_named(self):
        self.assertEqual(2, config.node_named('node2').number)
        self.assertRaises(ValueError, config.node_named, 'node3')


class TestQemuCommandLine(unittest.TestCase):

    def make(self, **kwargs):
        values = dict(
            node=config.NODES[1], vmlinux=pathlib.Path('/k/vmlinux'),
            initramfs=pathlib.Path('/k/initrd'), memory_mb=1536,
            exchange_dir=pathlib.Path('/r/node2/lab'),
            console=pathlib.Path('/r/node2/console.log'),
            pidfile=pathlib.Path('/r/node2/qemu.pid'),
            luns=(('lun1', pathlib.Path('/r/lun1.img')),),
            cluster_socket=pathlib.Path('/r/cluster.sock'),
            cluster_listen=False)
        values.update(kwargs)
        return ' '.join(vm.qemu_argv(vm.VmConfig(**values)))

    def test_tcg_disks_and_link(self):
        line = self.make()
        self.assertIn('-accel tcg,tb-size=256 -cpu max -smp 1', line)
        self.assertIn('virtio-blk-pci,drive=lun1,share-rw=on,serial=lun1',
                      line)
        self.assertIn('cache=none', line)
        self.assertIn('stream,id=cluster,server=off', line)
        self.assertIn('readonly=on', line)
        self.assertNotIn('user,', line)

    def test_forwards_only_reach_loopback(self):
        line = self.make(forwards=(3306, 5672))
        netdev = vm.forward_netdev((3306, 5672))
        self.assertIn(netdev, line)
        self.assertIn('restrict=on', netdev)
        self.assertIn('guestfwd=tcp:10.0.2.100:3306-cmd:/bin/busybox nc '
                      '127.0.0.1 3306', netdev)
        self.assertEqual(2, netdev.count('127.0.0.1'))

    def test_fresh_paths(self):
        line = self.make(fresh_paths=(pathlib.Path('/srv/clone'),))
        self.assertIn('id=fresh0,path=/srv/clone', line)

    def test_scratch_disk_private(self):
        self.assertNotIn('scratch', self.make())
        line = self.make(scratch=pathlib.Path('/r/scratch-node2.img'))
        self.assertIn('-drive file=/r/scratch-node2.img,format=raw,if=none,'
                      'id=scratch,cache=writeback,aio=threads,discard=unmap',
                      line)
        self.assertIn('virtio-blk-pci,drive=scratch,serial=scratch ', line)


class TestClusterLines(unittest.TestCase):

    def test_mkfs(self):
        self.assertEqual(
            'mkfs.ocfs2 -N 4 -L lun2 --cluster-stack=o2cb '
            '--cluster-name=labcluster --global-heartbeat '
            '/dev/disk/by-id/virtio-lun2',
            cluster.mkfs('lun2', config.Heartbeat.GLOBAL))

    def test_mount_quotes_paths(self):
        self.assertEqual(
            "mkdir -p '/m/a b' && mount -t ocfs2 -o _netdev,heartbeat=local "
            "/dev/disk/by-id/virtio-lun1 '/m/a b'",
            cluster.mount('lun1', config.Heartbeat.LOCAL, '/m/a b'))

    def test_node_env(self):
        env = cluster.node_env(config.NODES[0], (), ['/a', '/b c'])
        self.assertIn("LAB_CLUSTER_ADDRESS=198.51.100.11/24\n", env)
        self.assertIn("LAB_FORWARD_MAC=''\n", env)
        self.assertIn("LAB_FRESH_PATHS='/a:/b c'\n", env)

    def test_node_env_scratch(self):
        self.assertIn("LAB_SCRATCH_MOUNT=''\n",
                      cluster.node_env(config.NODES[0], ()))
        self.assertIn('LAB_SCRATCH_MOUNT=/var/lib/cinder/conversion\n',
                      cluster.node_env(config.NODES[0], (), scratch=True))

    @unittest.skipUnless(os.path.exists('/sbin/mkfs.ext4'), 'needs mkfs.ext4')
    def test_format_scratch(self):
        with tempfile.TemporaryDirectory() as tmp:
            image = pathlib.Path(tmp) / 'scratch.img'
            with open(image, 'wb') as stream:
                stream.truncate(64 * 1024 * 1024)
            command.run_host(cluster.format_scratch(image))
            # ext4's magic, 0xEF53, at byte 56 of the superblock (1024).
            with open(image, 'rb') as stream:
                stream.seek(1024 + 56)
                self.assertEqual(b'\x53\xef', stream.read(2))
            # Sparse: the journal and metadata, not the whole disk.
            self.assertLess(os.stat(image).st_blocks * 512, 32 * 1024 * 1024)

    def test_configure_cluster(self):
        line = cluster.configure_cluster()
        self.assertIn('o2cb add-node labcluster node2 --ip 198.51.100.12 '
                      '--port 7777 --number 2', line)


class TestSmallParsers(unittest.TestCase):

    def test_parse_bindep(self):
        text = ('# comment\nkmod [lab]\ngit [test stack]  # why\n\n'
                'sudo\nchromium [test]\n')
        self.assertEqual(['kmod', 'sudo'],
                         packages.parse_bindep(text, ['lab']))
        self.assertEqual(['git', 'sudo', 'chromium'],
                         packages.parse_bindep(text, ['test', 'stack']))

    def test_parse_bindep_unclosed_bracket(self):
        self.assertRaises(ValueError, packages.parse_bindep, 'git [test\n',
                          ['test'])

    def test_bindep_lab_profile(self):
        names = packages.required(['lab'])
        self.assertIn('ocfs2-tools', names)
        self.assertNotIn('mariadb-server', names)

    def test_parse_installed(self):
        self.assertEqual({'kmod'}, packages.parse_installed(
            'kmod ii \nfio un \nbroken\n'))

    def test_parse_probe(self):
        self.assertEqual(
            ("Cluster 'labcluster' is online", ('/dev/vda /m ocfs2 rw 0 0',)),
            status.parse_probe("Cluster 'labcluster' is online\n---\n"
                               "/dev/vda /m ocfs2 rw 0 0\n"))

    def test_command_result_check(self):
        result = command.CommandResult('false', 1, 'out', 'err', 'node1')
        with self.assertRaises(errors.CommandFailed) as caught:
            result.check()
        for part in ('node1', 'exit code 1', 'false', 'out', 'err'):
            self.assertIn(part, str(caught.exception))
        self.assertIs(result, result.check(allowed=(0, 1)))

    def test_run_host(self):
        result = command.run_host(['sh', '-c', 'echo hi; exit 3'],
                                  check=False)
        self.assertEqual((3, 'hi\n'), (result.exit_code, result.stdout))
        self.assertTrue(command.run_host(['sleep', '5'], timeout=0.2,
                                         check=False).timed_out)


class TestRunFolder(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.paths = config.Paths(cache_dir=pathlib.Path(tmp.name) / 'c',
                                  run_dir=pathlib.Path(tmp.name) / 'r')
        self.folder = rundir.RunFolder(self.paths)

    def test_state_round_trip(self):
        recorded = rundir.RecordedVm('node1', 123, pathlib.Path('/p'),
                                     pathlib.Path('/c'), pathlib.Path('/e'))
        state = rundir.LabState(
            spec=config.LabSpec(luns=2, heartbeat='global', forwards=[1]),
            root_cache='loose', fresh_paths=('/work',),
            timings=(('boot', 1.5),), vms=(recorded,))
        with self.folder.lock():
            self.folder.write(state)
        self.assertEqual(state, self.folder.read())
        self.assertEqual([recorded], self.folder.recorded_vms())
        self.assertEqual([], self.folder.running_vms())
        self.folder.clear()
        self.assertIsNone(self.folder.read())

    def test_pidfile_without_state(self):
        node_dir = self.paths.node_dir('node2')
        node_dir.mkdir(parents=True)
        (node_dir / 'qemu.pid').write_text('%d\n' % os.getpid())
        [recorded] = self.folder.recorded_vms()
        self.assertEqual(('node2', os.getpid()),
                         (recorded.name, recorded.pid))
        # This process is not a qemu with that pidfile: never "running".
        self.assertFalse(recorded.running())


class TestAgentProtocol(unittest.TestCase):
    """The real guest agent, run on the host against a temporary folder."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.folder = pathlib.Path(self.tmp.name)
        agent.Agent.install(self.folder)
        self.proc = subprocess.Popen(
            [sys.executable, str(self.folder / 'agent.py')],
            env=dict(os.environ, LAB_AGENT_DIR=str(self.folder)),
            stdout=subprocess.DEVNULL)
        self.addCleanup(self._stop)
        self.client = agent.Agent('node1', self.folder, '/nonexistent',
                                  alive=lambda: self.proc.poll() is None)
        self.client.wait_ready(30)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def test_run(self):
        result = self.client.run('echo out; echo err >&2; exit 7')
        self.assertEqual((7, 'out\n', 'err\n', 'node1'),
                         (result.exit_code, result.stdout, result.stderr,
                          result.where))

    def test_run_input_env_cwd(self):
        result = self.client.run('cat; echo "$X"; pwd', env={'X': 'y'},
                                 cwd='/tmp', input_text='in\n')
        self.assertEqual('in\ny\n/tmp\n', result.stdout)

    def test_run_timeout_kills(self):
        result = self.client.run('sleep 30', timeout=0.5)
        self.assertTrue(result.timed_out)
        self.assertEqual(124, result.exit_code)
        self.assertRaises(errors.CommandFailed, result.check)

    def test_concurrent_runs(self):
        started = time.monotonic()
        holder = self.client.spawn('sleep 2; echo done', 'sleeper')
        self.assertEqual(0, self.client.run('true').exit_code)
        self.assertLess(time.monotonic() - started, 1.5)
        deadline = time.monotonic() + 10
        while holder.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual((0, 'done\n'), (holder.exit_code(), holder.output()))

    def test_poweroff_stops_children(self):
        spawned = self.client.spawn('sleep 60', 'long')
        agent.Agent.request_poweroff_in(self.folder)
        self.assertEqual(0, self.proc.wait(timeout=20))
        self.assertEqual(-15, spawned.exit_code())

    def test_dead_agent_times_out_fast(self):
        self.proc.kill()
        self.proc.wait()
        started = time.monotonic()
        self.assertRaises(errors.VmGone, self.client.run, 'true',
                          timeout=60)
        self.assertLess(time.monotonic() - started, 5)


if __name__ == '__main__':
    unittest.main()
