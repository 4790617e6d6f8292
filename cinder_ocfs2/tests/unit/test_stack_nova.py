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

"""The pure parts of the deployment's Nova pieces (tools/stack).

What they parse and render; the services themselves run in the
walkthrough and tempest (tools/walkthrough, tools/tempest).
"""

import configparser
import pathlib
import sys
import unittest

STACK_TOOLS = pathlib.Path(__file__).resolve().parents[3] / 'tools' / 'stack'
sys.path.insert(0, str(STACK_TOOLS))

import compute  # noqa: E402
import guest  # noqa: E402
import servers  # noqa: E402
import tempest_conf  # noqa: E402
import tempest_run  # noqa: E402

# As Debian's qemu 7.2 prints HMP `qemu-io -d DEV "read -v 0 37"` into the
# domain's log, after libvirt's own lines and an earlier read.
QEMU_LOG = """\
2026-12-07 20:20:57.276+0000: Domain id=4 is tainted: high-privileges
char device redirected to /dev/pts/0 (label charserial0)
00000000:  6f 6c 64 20 74 65 78 74 0a  old.text.
read 9/9 bytes at offset 0
9 bytes, 1 ops; 00.00 sec (6.757 KiB/sec and 187.0056 ops/sec)
00000000:  61 20 76 6f 6c 75 6d 65 20 61 64 64 65 64 20 74  a.volume.added.t
00000010:  6f 20 74 68 65 20 72 75 6e 6e 69 6e 67 20 73 65  o.the.running.se
00000020:  72 76 65 72 0a  rver.
read 37/37 bytes at offset 0
37 bytes, 1 ops; 00.00 sec (14.504 KiB/sec and 401.3975 ops/sec)
"""

# `virsh domjobinfo --completed` on the target of a live migration.
JOB_MEMORY_ONLY = """\
Job type:         Completed
Operation:        Incoming migration
Time elapsed:     3895         ms
Data processed:   613.142 KiB
Data remaining:   0.000 B
Data total:       64.508 MiB
Memory processed: 613.142 KiB
Memory remaining: 0.000 B
Memory total:     64.508 MiB
"""

POOLS = """\
+-----------------------------+-------------------------+
| Property                    | Value                   |
+-----------------------------+-------------------------+
| name                        | node1@ocfs2#lun1        |
| storage_protocol            | ocfs2                   |
| vendor_name                 | Open Source             |
+-----------------------------+-------------------------+
"""


class QemuIoDumpTest(unittest.TestCase):

    def test_last_dump(self):
        self.assertEqual(b'a volume added to the running server\n',
                         servers.qemu_io_dump(QEMU_LOG))

    def test_one_dump(self):
        log = QEMU_LOG.split('00000000:  61')[0]
        self.assertEqual(b'old text\n', servers.qemu_io_dump(log))

    def test_ascii_column_is_not_read_as_hex(self):
        # "ab cd" in the text column must not add bytes to the dump.
        log = '00000000:  61 62 20 63 64  ab.cd\n'
        self.assertEqual(b'ab cd', servers.qemu_io_dump(log))

    def test_no_dump(self):
        self.assertEqual(b'', servers.qemu_io_dump(
            'char device redirected to /dev/pts/0\n'))


class JobInfoTest(unittest.TestCase):

    def test_fields(self):
        job = servers.parse_job_info(JOB_MEMORY_ONLY)
        self.assertEqual('Incoming migration', job['Operation'])
        self.assertEqual(job['Data processed'], job['Memory processed'])
        self.assertNotIn('Disk processed', job)

    def test_disk_fields_are_kept(self):
        job = servers.parse_job_info(
            JOB_MEMORY_ONLY + 'Disk processed:   1.000 GiB\n')
        self.assertEqual('1.000 GiB', job['Disk processed'])


class TempestConfTest(unittest.TestCase):

    def render(self, compute_refs):
        text = tempest_conf.render('secret', 'http://127.0.0.1:5000/v3',
                                   'volume-image', POOLS, ['ocfs2'],
                                   compute_refs)
        conf = configparser.ConfigParser(interpolation=None)
        conf.read_string(text)
        return conf

    def test_without_nova(self):
        conf = self.render(None)
        self.assertEqual('false', conf['service_available']['nova'])
        self.assertEqual('false', conf['service_available']['neutron'])
        self.assertEqual('volume-image', conf['compute']['image_ref'])
        self.assertNotIn('flavor_ref', conf['compute'])
        self.assertNotIn('max_microversion', conf['compute'])
        self.assertNotIn('live_migration', conf['compute-feature-enabled'])

    def test_with_nova(self):
        conf = self.render({'image_ref': 'boot-a', 'image_ref_alt': 'boot-b',
                            'flavor_ref': '42'})
        self.assertEqual('true', conf['service_available']['nova'])
        self.assertEqual('true', conf['service_available']['neutron'])
        self.assertEqual('boot-a', conf['compute']['image_ref'])
        self.assertEqual('boot-b', conf['compute']['image_ref_alt'])
        self.assertEqual('42', conf['compute']['flavor_ref'])
        self.assertEqual('2', conf['compute']['min_compute_nodes'])
        self.assertEqual('latest', conf['compute']['max_microversion'])
        features = conf['compute-feature-enabled']
        self.assertEqual('true', features['volume_backed_live_migration'])
        self.assertEqual('false',
                         features['block_migration_for_live_migration'])
        # nova's file volume driver cannot grow an attached disk.
        self.assertEqual(
            'false', conf['volume-feature-enabled']['extend_attached_volume'])


class GuestSettingsTest(unittest.TestCase):

    ENV = {'MYSQL_PORT': '3306', 'RABBIT_PORT': '5672', 'REDIS_PORT': '6379',
           'KEYSTONE_PORT': '5000', 'MEMCACHED_PORT': '11211',
           'GLANCE_PORT': '9292', 'PLACEMENT_PORT': '8778',
           'NEUTRON_PORT': '9696', 'CINDER_PORT': '8776',
           'NOVA_PORT': '8774'}

    def test_ports_with_nova(self):
        ports = guest.forwarded_ports(dict(self.ENV, STACK_NOVA='1'))
        self.assertEqual({3306, 5672, 6379, 5000, 11211, 9292, 8778, 9696,
                          8776, 8774}, set(ports))

    def test_ports_without_nova(self):
        ports = guest.forwarded_ports(dict(self.ENV, STACK_NOVA='0'))
        self.assertEqual({3306, 5672, 6379, 5000, 11211, 9292}, set(ports))

    def test_host_uuid_per_node(self):
        # Both nodes boot the same root (the same /etc/machine-id):
        # libvirt refuses a live migration between equal host UUIDs.
        self.assertNotEqual(compute.host_uuid('node1'),
                            compute.host_uuid('node2'))
        self.assertEqual(compute.host_uuid('node1'),
                         compute.host_uuid('node1'))


class TempestNovaTest(unittest.TestCase):
    """tools/tempest and the walkthrough's tempest (WALKTHROUGH_TEMPEST)."""

    def test_nova_deployed(self):
        self.assertTrue(tempest_run.nova({'STACK_NOVA': '1'}))

    def test_compute_tests_left_out(self):
        self.assertFalse(tempest_run.nova({'STACK_NOVA': '1',
                                           'TEMPEST_NOVA': '0'}))

    def test_no_nova_deployed(self):
        self.assertFalse(tempest_run.nova({'STACK_NOVA': '0',
                                           'TEMPEST_NOVA': '1'}))

    def test_outcome(self):
        self.assertEqual(0, tempest_run.outcome(0, {'fail': 0}))
        self.assertEqual(1, tempest_run.outcome(0, {'fail': 2}))
        self.assertEqual(1, tempest_run.outcome(1, {'fail': 0}))


class FakeSpawned:

    def __init__(self, node, name):
        self.node, self.name = node, name

    def exit_code(self):
        return None


class FakeLab:

    def __init__(self):
        self.stopped = []

    def spawn(self, node, line, log_name):
        self.lines = getattr(self, 'lines', []) + [line]
        return FakeSpawned(node, log_name)

    def stop(self, spawned, signal, timeout):
        self.stopped.append((spawned.node, spawned.name, signal))
        return 0


class StopNamedServicesTest(unittest.TestCase):

    def test_only_the_named_stop_newest_first(self):
        lab = FakeLab()
        services = guest.GuestCinder(lab, STACK_TOOLS, {})
        volume = FakeSpawned('node1', 'cinder-volume')
        libvirtd = FakeSpawned('node1', compute.LIBVIRTD)
        nova = FakeSpawned('node1', compute.NOVA_COMPUTE)
        services.spawned = [volume, libvirtd, nova]
        stopped = services.stop(names=compute.SERVICE_NAMES)
        self.assertEqual([libvirtd, nova], stopped)
        self.assertEqual([('node1', 'nova-compute', 'TERM'),
                          ('node1', 'libvirtd', 'TERM')], lab.stopped)
        self.assertEqual([volume], services.spawned)

    def test_all_by_default(self):
        lab = FakeLab()
        services = guest.GuestCinder(lab, STACK_TOOLS, {})
        services.spawned = [FakeSpawned('node2', 'cinder-volume')]
        services.stop()
        self.assertEqual([('node2', 'cinder-volume', 'TERM')], lab.stopped)
        self.assertEqual([], services.spawned)


class GuestServiceLineTest(unittest.TestCase):

    def test_openssl_without_vector_code(self):
        lab = FakeLab()
        services = guest.GuestCinder(lab, STACK_TOOLS,
                                     {'STACK_VENV': 'stack-venv'})
        services.start('node1', 'cinder-backup')
        line = lab.lines[0]
        # The mask reaches the exec'd service (a prefix assignment), quoted
        # against the shell's tilde expansion.
        self.assertIn("OPENSSL_ia32cap='~0x1000020000000000:~0x20' exec "
                      "stack-venv/bin/cinder-backup --config-file "
                      "/lab/cinder/cinder.conf", line)
