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

"""Tests for cinder_ocfs2.o2cb, its parsers, checks and device scan.

Fixtures are whole trees, one directory per scenario, read through the
same roots the code uses in production (``sys/``, ``etc/``, plus
``commands/`` for command output): ``fixtures/captured/`` holds real
captures from the two-node lab, ``fixtures/o2cb/handmade/`` scenarios
derived from them by hand (each README says what was changed), and
``fixtures/o2cb/ocfs2-tools-host/`` real ocfs2-tools output on the
development host.
"""

import dataclasses
import ipaddress
import os
import shutil
import tempfile
from unittest import mock

import ddt
from oslo_concurrency import processutils
from oslo_privsep import daemon as privsep_daemon

import cinder.privsep
from cinder.tests.unit import test
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import o2cb_devices
from cinder_ocfs2 import o2cb_parsers
from cinder_ocfs2 import privsep

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
CAPTURED = 'captured/'
HANDMADE = 'o2cb/handmade/'
HOST_TOOLS = 'o2cb/ocfs2-tools-host'


def scenario_path(scenario, *parts):
    """Path in a fixture scenario ("captured/local-heartbeat-node1")."""
    return os.path.join(FIXTURES, scenario, *parts)


def read_fixture(scenario, *parts):
    with open(scenario_path(scenario, *parts), encoding='utf-8') as source:
        return source.read()


def lun_uuids(scenario):
    """{label: UUID} from a scenario's mounted.ocfs2 -d, split naively.

    The lab formats its LUNs afresh for every capture, so the tests name
    LUNs by label (lun1..lun4, no spaces) and look their UUIDs up here: a
    second, simpler reading of the output, not the parser under test.
    """
    rows = read_fixture(scenario, 'commands', 'mounted.ocfs2-d').splitlines()
    return {row.split()[-1]: row.split()[-2] for row in rows[1:]}


# The lab's LUNs in the local heartbeat captures (one mkfs for all of
# them) and in the global ones, where lun1-lun3 are also the regions.
LUN1, LUN2, LUN3, LUN4 = (lun_uuids(CAPTURED + 'local-heartbeat-node1')[lun]
                          for lun in ('lun1', 'lun2', 'lun3', 'lun4'))
GLUN1, GLUN2, GLUN3, GLUN4 = (
    lun_uuids(CAPTURED + 'global-heartbeat-node1')[lun]
    for lun in ('lun1', 'lun2', 'lun3', 'lun4'))
# Made with mkfs.ocfs2 on the host (fixtures/o2cb/ocfs2-tools-host).
HOST_UUID1, HOST_UUID3 = ('29323C5A92EF428CAE3244276B0FA8DB',
                          '12A793C3968046FEB39F6378257CC1A0')
LOCAL = o2cb.HeartbeatMode.LOCAL
GLOBAL = o2cb.HeartbeatMode.GLOBAL
ONLINE = o2cb.ClusterStatus.ONLINE
OFFLINE = o2cb.ClusterStatus.OFFLINE
UNKNOWN = o2cb.ClusterStatus.UNKNOWN


def node(number, name, address, local=False, port=7777):
    return o2cb.Node(number=number, name=name,
                     address=ipaddress.IPv4Address(address), port=port,
                     local=local)


NODE1 = node(1, 'node1', '198.51.100.11')
NODE2 = node(2, 'node2', '198.51.100.12')
LOCAL_NODE1 = node(1, 'node1', '198.51.100.11', local=True)
LOCAL_NODE2 = node(2, 'node2', '198.51.100.12', local=True)


def region(uuid, device):
    return o2cb.HeartbeatRegion(uuid=uuid, device=device, block_bytes=512,
                                start_block=2184, blocks=255)


def by_uuid(*regions):
    """Regions in the order configfs lists them (sorted by UUID)."""
    return tuple(sorted(regions, key=lambda found: found.uuid))


def dashed(uuid):
    """A UUID as blkid prints it: lower case with dashes."""
    return '-'.join((uuid[:8], uuid[8:12], uuid[12:16], uuid[16:20],
                     uuid[20:])).lower()


LOCAL_REGIONS = by_uuid(region(LUN1, 'vda'), region(LUN2, 'vdb'),
                        region(LUN3, 'vdc'))
LOCAL_REGION_UUIDS = tuple(found.uuid for found in LOCAL_REGIONS)
GLOBAL_REGIONS = by_uuid(region(GLUN1, 'vda'), region(GLUN2, 'vdb'),
                         region(GLUN3, 'vdc'))
GLOBAL_REGION_UUIDS = tuple(found.uuid for found in GLOBAL_REGIONS)
# The LUNs the lab mounts (local mode: their regions; global mode: the
# heartbeat LUNs, which are the same three).
MOUNTED = ('lun1', 'lun2', 'lun3')


def device(name, uuid=None, label=None, nodes=None, flag=False,
           cluster='labcluster', heartbeat_device=False):
    return o2cb.OCFS2Device(device=name, stack='o2cb', cluster=cluster,
                            global_heartbeat=flag, uuid=uuid, label=label,
                            mounting_nodes=nodes,
                            heartbeat_device=heartbeat_device)


def unordered(devices):
    """Devices with their mounting nodes sorted.

    mounted.ocfs2 -f lists nodes in slot order, which depends on which node
    mounted first; the captures do not fix it.
    """
    return tuple(dataclasses.replace(found, mounting_nodes=tuple(sorted(
        found.mounting_nodes))) if found.mounting_nodes else found
        for found in devices)


def cluster_state(scenario, cluster_name=None):
    hostname = read_fixture(scenario, 'etc', 'hostname').strip()
    return o2cb.get_cluster_state(
        cluster_name, sysfs_root=scenario_path(scenario, 'sys'),
        etc_root=scenario_path(scenario, 'etc'), hostname=hostname)


def problem_codes(state):
    return tuple(problem.code for problem in state.problems)


class CopiedTreeMixin(object):
    """Copy a fixture scenario to a temporary tree a test may change."""

    def copy_scenario(self, scenario):
        root = os.path.join(tempfile.mkdtemp(), 'tree')
        self.addCleanup(shutil.rmtree, os.path.dirname(root))
        shutil.copytree(scenario_path(scenario), root)
        return root

    def write(self, root, relative, text):
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as target:
            target.write(text)


@ddt.ddt
class ParseClusterConfTestCase(test.TestCase):

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1', 'etc/ocfs2/cluster.conf',
         (o2cb.ClusterConfig('labcluster', LOCAL, 2, (NODE1, NODE2), ()),)),
        # "o2cb list-cluster" prints the same stanzas in another order.
        (CAPTURED + 'local-heartbeat-node1', 'commands/o2cb-list-cluster',
         (o2cb.ClusterConfig('labcluster', LOCAL, 2, (NODE1, NODE2), ()),)),
        (CAPTURED + 'global-heartbeat-node2', 'etc/ocfs2/cluster.conf',
         (o2cb.ClusterConfig('labcluster', GLOBAL, 2, (NODE1, NODE2),
                             (GLUN1, GLUN2, GLUN3)),)),
        (CAPTURED + 'global-heartbeat-node1', 'commands/o2cb-list-cluster',
         (o2cb.ClusterConfig('labcluster', GLOBAL, 2, (NODE1, NODE2),
                             (GLUN1, GLUN2, GLUN3)),)),
        (HANDMADE + 'nodes-differ-node1', 'etc/ocfs2/cluster.conf',
         (o2cb.ClusterConfig('labcluster', LOCAL, 3,
                             (NODE1, node(2, 'node2', '198.51.100.22'),
                              node(3, 'node3', '198.51.100.13')), ()),)),
        # Written by "o2cb --config-file" on the host, numbered from 0.
        (HOST_TOOLS, 'cluster.conf-global',
         (o2cb.ClusterConfig('labcluster', GLOBAL, 2,
                             (node(0, 'node1', '198.51.100.11'),
                              node(1, 'node2', '198.51.100.12')),
                             (HOST_UUID1,)),)),
    )
    @ddt.unpack
    def test_parse_cluster_conf_fixture(self, scenario, name, expected):
        text = read_fixture(scenario, name)
        self.assertEqual(expected, o2cb_parsers.parse_cluster_conf(text))

    def test_parse_cluster_conf_comments_spaces_and_two_clusters(self):
        text = ('# written by hand\n'
                'cluster:\n'
                '    name = one\n'
                '    node_count = 1\n'
                '\n'
                'node:\n'
                '\t# the only node\n'
                '\tname = a\n'
                '\tcluster = one\n'
                '\tnumber = 4\n'
                '\tip_address = 10.0.0.1\n'
                '\tip_port = 7778\n'
                'cluster:\n'
                '\tname = two\n'
                '\tnode_count = 0\n'
                'unknown_stanza:\n'
                '\tanything = goes\n')
        self.assertEqual(
            (o2cb.ClusterConfig('one', LOCAL, 1,
                                (node(4, 'a', '10.0.0.1', port=7778),), ()),
             o2cb.ClusterConfig('two', LOCAL, 0, (), ())),
            o2cb_parsers.parse_cluster_conf(text))

    def test_parse_cluster_conf_empty(self):
        self.assertEqual((), o2cb_parsers.parse_cluster_conf(''))

    @ddt.data(
        ('cluster\n\tname = c\n', 'cluster', 'not a stanza name'),
        ('cluster:\n\tname c\n', '\tname c', 'not "key = value"'),
        ('\tname = c\n', '\tname = c', 'attribute outside a stanza'),
        ('cluster:\n\tname = c\n\n\tnode_count = 1\n', '\tnode_count = 1',
         'attribute outside a stanza'),
        ('cluster:\n\tnode_count = 1\n', 'cluster:', 'stanza has no "name"'),
        ('cluster:\n\tname = c\n\tnode_count = two\n', 'cluster:',
         'not a number'),
        ('cluster:\n\tname = c\n\theartbeat_mode = disk\n', 'cluster:',
         'heartbeat mode is not local or global'),
        ('cluster:\n\tname = c\nnode:\n\tcluster = c\n\tname = a\n'
         '\tip_address = 10.0.0.1\n\tip_port = 7777\n', 'node:',
         'stanza has no "number"'),
        ('cluster:\n\tname = c\nnode:\n\tcluster = c\n\tname = a\n'
         '\tnumber = 0\n\tip_address = 10.0.0\n\tip_port = 7777\n', 'node:',
         'not an IPv4 address'),
        ('node:\n\tcluster = ghost\n\tname = a\n\tnumber = 0\n'
         '\tip_address = 10.0.0.1\n\tip_port = 7777\n', 'ghost',
         'node or heartbeat of an undeclared cluster'),
        ('<?xml version="1.0"?>\n', '<?xml version="1.0"?>',
         'not a stanza name'),
    )
    @ddt.unpack
    def test_parse_cluster_conf_malformed(self, text, line, reason):
        error = self.assertRaises(o2cb.O2CBParseError,
                                  o2cb_parsers.parse_cluster_conf, text)
        self.assertEqual((line, reason), (error.line, error.reason))
        self.assertIn(repr(line), str(error))


@ddt.ddt
class ParseClusterStackTestCase(test.TestCase):

    @ddt.data(('o2cb\n', 'o2cb'), ('pcmk\n', 'pcmk'), ('o2cb', 'o2cb'))
    @ddt.unpack
    def test_parse_cluster_stack(self, text, expected):
        self.assertEqual(expected, o2cb_parsers.parse_cluster_stack(text))

    @ddt.data('', '\n', 'o2cb pcmk\n', 'classic\n', 'O2CB\n')
    def test_parse_cluster_stack_garbage(self, text):
        self.assertRaises(o2cb.O2CBParseError,
                          o2cb_parsers.parse_cluster_stack, text)


@ddt.ddt
class ParseMountedTestCase(test.TestCase):

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1',
         (device('/dev/vda', LUN1, 'lun1'), device('/dev/vdb', LUN2, 'lun2'),
          device('/dev/vdc', LUN3, 'lun3'),
          device('/dev/vdd', LUN4, 'lun4'))),
        (CAPTURED + 'global-heartbeat-node2',
         (device('/dev/vda', GLUN1, 'lun1', flag=True),
          device('/dev/vdb', GLUN2, 'lun2', flag=True),
          device('/dev/vdc', GLUN3, 'lun3', flag=True),
          device('/dev/vdd', GLUN4, 'lun4', flag=True))),
    )
    @ddt.unpack
    def test_parse_mounted_quick_captured(self, scenario, expected):
        text = read_fixture(scenario, 'commands', 'mounted.ocfs2-d')
        self.assertEqual(expected, o2cb_devices.parse_mounted_quick(text))

    @ddt.data(
        ('mounted.ocfs2-d-lun1', (device('lun1.img', HOST_UUID1, 'lun1'),)),
        ('mounted.ocfs2-d-label-with-spaces',
         (device('lun3.img', HOST_UUID3, 'cinder lun 2'),)),
        # Classic o2cb format: blank Cluster column, blank label.
        ('mounted.ocfs2-d-lun2-no-label',
         (device('lun2.img', '542B137149BC47449FCC3C15D22C025E', '',
                 cluster=''),)),
        ('mounted.ocfs2-d-no-devices', ()),
    )
    @ddt.unpack
    def test_parse_mounted_quick_host_tools(self, name, expected):
        text = read_fixture(HOST_TOOLS, name)
        self.assertEqual(expected, o2cb_devices.parse_mounted_quick(text))

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1',
         (device('/dev/vda', nodes=('node1', 'node2')),
          device('/dev/vdb', nodes=('node1', 'node2')),
          device('/dev/vdc', nodes=('node1', 'node2')),
          device('/dev/vdd', nodes=()))),
        (CAPTURED + 'escaped-path-node1',
         (device('/dev/vda', nodes=('node1', 'node2')),
          device('/dev/vdb', nodes=('node1', 'node2')),
          device('/dev/vdc', nodes=('node1', 'node2')),
          device('/dev/vdd', nodes=('node1',)))),
        (CAPTURED + 'global-heartbeat-node1',
         (device('/dev/vda', nodes=('node1', 'node2'), flag=True),
          device('/dev/vdb', nodes=('node1', 'node2'), flag=True),
          device('/dev/vdc', nodes=('node1', 'node2'), flag=True),
          device('/dev/vdd', nodes=(), flag=True))),
        (CAPTURED + 'offline-node1',
         tuple(device('/dev/vd' + letter, nodes=()) for letter in 'abcd')),
        # Node 3 is not known on this node, so its number shows.
        (HANDMADE + 'nodes-differ-node1',
         (device('/dev/vda', nodes=('3', 'node1')),
          device('/dev/vdb', nodes=('node1', 'node2')),
          device('/dev/vdc', nodes=('node1', 'node2')),
          device('/dev/vdd', nodes=()))),
    )
    @ddt.unpack
    def test_parse_mounted_full_fixture(self, scenario, expected):
        text = read_fixture(scenario, 'commands', 'mounted.ocfs2-f')
        self.assertEqual(unordered(expected),
                         unordered(o2cb_devices.parse_mounted_full(text)))

    @ddt.data(('mounted.ocfs2-f-not-mounted', (device('lun1.img', nodes=()),)),
              ('mounted.ocfs2-f-no-devices', ()))
    @ddt.unpack
    def test_parse_mounted_full_host_tools(self, name, expected):
        text = read_fixture(HOST_TOOLS, name)
        self.assertEqual(expected, o2cb_devices.parse_mounted_full(text))

    def test_parse_mounted_full_heartbeat_device(self):
        text = ('Device    Stack  Cluster     F  Nodes\n'
                '/dev/vde  o2cb   labcluster  G  Heartbeat device\n')
        self.assertEqual((device('/dev/vde', flag=True,
                                 heartbeat_device=True),),
                         o2cb_devices.parse_mounted_full(text))

    def test_parse_mounted_full_slot_map_error(self):
        # Seen on a lab node whose view of a LUN was stale: the error
        # ("Unknown: Attempt to read block from filesystem resulted in
        # short read") went to stderr, and no newline ended the row.
        text = ('Device    Stack  Cluster  F  Nodes\n'
                '/dev/vda  o2cb               ')
        self.assertEqual((device('/dev/vda', cluster=''),),
                         o2cb_devices.parse_mounted_full(text))

    @ddt.data(
        ('', 'empty output'),
        ("mounted.ocfs2: invalid option -- 'x'\n",
         'not the expected header'),
        ('Device    Stack  Cluster     F  UUID                              '
         'Label\n/dev/vdb  o2cb   labcluster     29323C5A  lun1\n',
         'UUID is not 32 hex digits'),
        ('Device    Stack  Cluster     F  UUID                              '
         'Label\n/dev/vdb  o2cb   labcluster  X  ' + LUN1 + '  lun1\n',
         'flag is neither blank nor G'),
        ('Device    Stack  Cluster     F  UUID                              '
         'Label\n/dev/mapper/mpatha  o2cb   labcluster     ' + LUN1 + '\n',
         'row does not fit the header'),
        ('Device    Stack  Cluster     F  UUID                              '
         'Label\n/dev/vdb\n', 'row does not fit the header'),
    )
    @ddt.unpack
    def test_parse_mounted_quick_garbage(self, text, reason):
        error = self.assertRaises(o2cb.O2CBParseError,
                                  o2cb_devices.parse_mounted_quick, text)
        self.assertEqual(reason, error.reason)

    def test_parse_mounted_full_rows_run_together(self):
        text = ('Device    Stack  Cluster     F  Nodes\n'
                '/dev/vdb  o2cb   labcluster     /dev/vdc  o2cb   labcluster'
                '     node1\n')
        error = self.assertRaises(o2cb.O2CBParseError,
                                  o2cb_devices.parse_mounted_full, text)
        self.assertEqual('nodes column unreadable', error.reason)


@ddt.ddt
class ReadRegisteredClustersTestCase(test.TestCase, CopiedTreeMixin):

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1',
         (o2cb.RegisteredCluster('labcluster', LOCAL, 31,
                                 (LOCAL_NODE1, NODE2), LOCAL_REGIONS),)),
        (CAPTURED + 'local-heartbeat-node2',
         (o2cb.RegisteredCluster('labcluster', LOCAL, 31,
                                 (NODE1, LOCAL_NODE2), LOCAL_REGIONS),)),
        (CAPTURED + 'escaped-path-node1',
         (o2cb.RegisteredCluster('labcluster', LOCAL, 31,
                                 (LOCAL_NODE1, NODE2),
                                 by_uuid(region(LUN4, 'vdd'),
                                         *LOCAL_REGIONS)),)),
        (CAPTURED + 'global-heartbeat-node1',
         (o2cb.RegisteredCluster('labcluster', GLOBAL, 31,
                                 (LOCAL_NODE1, NODE2), GLOBAL_REGIONS),)),
        (CAPTURED + 'offline-node1', ()),
        (HANDMADE + 'no-local-node',
         (o2cb.RegisteredCluster('labcluster', LOCAL, 31,
                                 (NODE1, NODE2), ()),)),
    )
    @ddt.unpack
    def test_read_registered_clusters_fixture(self, scenario, expected):
        configfs = scenario_path(scenario, 'sys', 'kernel', 'config')
        self.assertEqual(expected, o2cb.read_registered_clusters(configfs))

    def test_read_registered_clusters_not_loaded(self):
        configfs = scenario_path(HANDMADE + 'not-loaded', 'sys', 'kernel',
                                 'config')
        self.assertRaises(FileNotFoundError, o2cb.read_registered_clusters,
                          configfs)

    def test_read_registered_clusters_region_not_started(self):
        # A region directory whose dev is still empty has no thread yet.
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        heartbeat = 'sys/kernel/config/cluster/labcluster/heartbeat/'
        self.write(root, heartbeat + LUN1 + '/dev', '')
        clusters = o2cb.read_registered_clusters(
            os.path.join(root, 'sys/kernel/config'))
        self.assertEqual(tuple(sorted((LUN2, LUN3))),
                         tuple(r.uuid for r in clusters[0].regions))

    @ddt.data(
        ('node/node1/num', 'zero\n', 'not a number'),
        ('node/node1/ipv4_address', '198.51.100\n', 'not an IPv4 address'),
        ('heartbeat/mode', 'disk\n', 'heartbeat mode is not local or global'),
        ('heartbeat/dead_threshold', '\n', 'not a number'),
    )
    @ddt.unpack
    def test_read_registered_clusters_odd_value(self, relative, text, reason):
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        self.write(root, 'sys/kernel/config/cluster/labcluster/' + relative,
                   text)
        error = self.assertRaises(o2cb.O2CBParseError,
                                  o2cb.read_registered_clusters,
                                  os.path.join(root, 'sys/kernel/config'))
        self.assertEqual(reason, error.reason)
        self.assertIn('cluster/labcluster/' + relative, error.source)

    def test_read_configfs_attributes_vanished(self):
        self.assertEqual({}, o2cb.read_configfs_attributes('/nonexistent/x'))


@ddt.ddt
class GetClusterStateTestCase(test.TestCase, CopiedTreeMixin):

    def state_of_copy(self, root, hostname='node1', cluster_name=None):
        return o2cb.get_cluster_state(
            cluster_name, sysfs_root=os.path.join(root, 'sys'),
            etc_root=os.path.join(root, 'etc'), hostname=hostname)

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1', ONLINE, LOCAL,
         (LOCAL_NODE1, NODE2), MOUNTED, ()),
        (CAPTURED + 'local-heartbeat-node2', ONLINE, LOCAL,
         (NODE1, LOCAL_NODE2), MOUNTED, ()),
        # "mount -o remount,ro" keeps the heartbeat running.
        (CAPTURED + 'remount-ro-node1', ONLINE, LOCAL,
         (LOCAL_NODE1, NODE2), MOUNTED, ()),
        (CAPTURED + 'global-heartbeat-node1', ONLINE, GLOBAL,
         (LOCAL_NODE1, NODE2), MOUNTED, ()),
        (CAPTURED + 'global-heartbeat-node2', ONLINE, GLOBAL,
         (NODE1, LOCAL_NODE2), MOUNTED, ()),
        # Not registered: the nodes come from cluster.conf.
        (CAPTURED + 'offline-node1', OFFLINE, LOCAL,
         (LOCAL_NODE1, NODE2), (), ('cluster-not-registered',)),
        (CAPTURED + 'unconfigured-node1', OFFLINE, None, (), (),
         ('cluster-not-registered', 'cluster-conf-missing')),
        (HANDMADE + 'global-heartbeat-stopped-node1', OFFLINE, GLOBAL,
         (LOCAL_NODE1, NODE2), (), ('global-heartbeat-stopped',)),
        (HANDMADE + 'not-loaded', UNKNOWN, LOCAL,
         (LOCAL_NODE1, NODE2), (), ('ocfs2-not-loaded',)),
        (HANDMADE + 'nodes-differ-node1', ONLINE, LOCAL,
         (LOCAL_NODE1, NODE2), MOUNTED,
         ('nodes-differ-from-cluster-conf',)),
        (HANDMADE + 'no-local-node', OFFLINE, LOCAL,
         (NODE1, NODE2), (), ('no-local-node',)),
    )
    @ddt.unpack
    def test_get_cluster_state_fixture(self, scenario, status, mode, nodes,
                                       regions, problems):
        # Regions are named by LUN label here, by UUID in configfs.
        uuids = lun_uuids(scenario)
        regions = tuple(sorted(uuids[label] for label in regions))
        state = cluster_state(scenario)
        expected_name = None if scenario.endswith('unconfigured-node1') else (
            'labcluster')
        self.assertEqual(
            (expected_name, status, mode, nodes, regions, problems),
            (state.name, state.status, state.heartbeat_mode, state.nodes,
             state.live_region_uuids, problem_codes(state)))
        self.assertEqual(status is ONLINE, state.online)

    def test_get_cluster_state_agrees_with_o2cb_cluster_status(self):
        # "o2cb cluster-status" exits 0 when online, 1 otherwise.
        for scenario in ('local-heartbeat-node1', 'remount-ro-node1',
                         'global-heartbeat-node2', 'offline-node1',
                         'unconfigured-node1'):
            scenario = CAPTURED + scenario
            exit_code = int(read_fixture(scenario, 'commands',
                                         'o2cb-cluster-status.exit-code'))
            self.assertEqual(exit_code == 0, cluster_state(scenario).online,
                             scenario)

    def test_get_cluster_state_online_details(self):
        state = cluster_state(CAPTURED + 'local-heartbeat-node1')
        self.assertEqual(('o2cb', 31, 'node1'),
                         (state.stack, state.dead_threshold,
                          state.local_node.name))
        self.assertEqual('o2cb cluster labcluster: online, local heartbeat, '
                         '2 nodes, 3 live regions', str(state))

    def test_get_cluster_state_nodes_differ_message(self):
        state = cluster_state(HANDMADE + 'nodes-differ-node1')
        message = state.problems[0].message
        self.assertIn('node2 (node 2, 198.51.100.22:7777) is registered as '
                      'node2 (node 2, 198.51.100.12:7777)', message)
        self.assertIn('node3 (node 3, 198.51.100.13:7777) is in '
                      'cluster.conf but not registered', message)
        self.assertIn('Internal logic failure while trying to join the '
                      'group', state.problems[0].fix)

    def test_get_cluster_state_no_local_node_names_host(self):
        state = cluster_state(HANDMADE + 'no-local-node')
        self.assertIn('none of its nodes (node1, node2) is this host, '
                      'cluster90', state.problems[0].message)

    def test_get_cluster_state_other_cluster_wanted(self):
        state = cluster_state(CAPTURED + 'local-heartbeat-node1', 'prod')
        self.assertEqual(
            ('prod', OFFLINE, None, (),
             ('other-cluster-registered', 'cluster-not-configured')),
            (state.name, state.status, state.heartbeat_mode, state.nodes,
             problem_codes(state)))

    def test_get_cluster_state_unsupported_stack(self):
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        self.write(root, 'sys/fs/ocfs2/cluster_stack', 'pcmk\n')
        state = self.state_of_copy(root)
        self.assertEqual((OFFLINE, ('unsupported-stack',)),
                         (state.status, problem_codes(state)))

    @ddt.data(
        ('cluster:\n\tname = labcluster\nnode\n', 'cluster-conf-invalid'),
        ('', 'cluster-not-configured'),
    )
    @ddt.unpack
    def test_get_cluster_state_bad_cluster_conf(self, text, code):
        # A broken cluster.conf does not stop a running cluster.
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        self.write(root, 'etc/ocfs2/cluster.conf', text)
        state = self.state_of_copy(root)
        self.assertEqual((ONLINE, (code,)),
                         (state.status, problem_codes(state)))

    def test_get_cluster_state_cluster_conf_missing(self):
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        os.unlink(os.path.join(root, 'etc/ocfs2/cluster.conf'))
        state = self.state_of_copy(root)
        self.assertEqual(('cluster-conf-missing',), problem_codes(state))
        self.assertIn(os.path.join(root, 'etc/ocfs2/cluster.conf'),
                      state.problems[0].message)

    def test_get_cluster_state_unreadable_cluster_conf(self):
        with mock.patch.object(o2cb, 'read_cluster_conf',
                               side_effect=PermissionError(13, 'denied')):
            state = cluster_state(CAPTURED + 'local-heartbeat-node1')
        self.assertEqual((ONLINE, ('cluster-conf-unreadable',)),
                         (state.status, problem_codes(state)))

    def test_get_cluster_state_odd_configfs_value(self):
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        self.write(root, 'sys/kernel/config/cluster/labcluster/node/node2/'
                         'ipv4_port', 'seventy\n')
        state = self.state_of_copy(root)
        # The nodes come from cluster.conf, local by host name.
        self.assertEqual((UNKNOWN, ('configfs-unreadable',), LOCAL,
                          (LOCAL_NODE1, NODE2)),
                         (state.status, problem_codes(state),
                          state.heartbeat_mode, state.nodes))
        self.assertIn("node/node2/ipv4_port: not a number: 'seventy'",
                      state.problems[0].message)

    def test_get_cluster_state_host_not_in_cluster_conf(self):
        state = self.state_of_copy(scenario_path(CAPTURED + 'offline-node1'),
                                   hostname='cluster90')
        self.assertEqual(('cluster-not-registered',
                          'host-not-in-cluster-conf'), problem_codes(state))
        self.assertIsNone(state.local_node)

    def test_get_cluster_state_duplicates_and_node_count(self):
        root = self.copy_scenario(CAPTURED + 'offline-node1')
        conf = read_fixture(CAPTURED + 'offline-node1',
                            'etc/ocfs2/cluster.conf')
        self.write(root, 'etc/ocfs2/cluster.conf', conf.replace(
            'number = 2', 'number = 1').replace('node_count = 2',
                                                'node_count = 3'))
        state = self.state_of_copy(root)
        self.assertEqual(('cluster-not-registered',
                          'cluster-conf-duplicate-nodes',
                          'cluster-conf-node-count'), problem_codes(state))
        self.assertIn('same number, name or address: 1.',
                      state.problems[1].message)

    def test_get_cluster_state_heartbeat_mode_differs(self):
        root = self.copy_scenario(CAPTURED + 'local-heartbeat-node1')
        self.write(root, 'etc/ocfs2/cluster.conf', read_fixture(
            CAPTURED + 'global-heartbeat-node1', 'etc/ocfs2/cluster.conf'))
        state = self.state_of_copy(root)
        self.assertEqual(('heartbeat-mode-differs',), problem_codes(state))

    def test_get_cluster_state_nothing_at_all(self):
        empty = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, empty)
        state = o2cb.get_cluster_state(sysfs_root=empty, etc_root=empty,
                                       hostname='node1')
        self.assertEqual(
            (None, UNKNOWN, None, (),
             ('ocfs2-not-loaded', 'cluster-conf-missing')),
            (state.name, state.status, state.heartbeat_mode, state.nodes,
             problem_codes(state)))


@ddt.ddt
class RegionForTestCase(test.TestCase):

    @ddt.data(
        (LUN1, LUN1),
        (dashed(LUN1), LUN1),
        ('vdc', LUN3),
        ('/dev/vdb', LUN2),
        # lun4 is formatted but not mounted: no heartbeat.
        (LUN4, None),
        ('/dev/vdd', None),
    )
    @ddt.unpack
    def test_region_for_local(self, filesystem, expected):
        state = cluster_state(CAPTURED + 'local-heartbeat-node1')
        found = state.region_for(filesystem)
        self.assertEqual(expected, found and found.uuid)
        self.assertEqual(expected is not None,
                         state.has_live_heartbeat(filesystem))

    def test_region_for_device_symlink(self):
        links = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, links)
        os.symlink('../vdb', os.path.join(links, 'mpatha'))
        state = cluster_state(CAPTURED + 'local-heartbeat-node1')
        self.assertEqual(LUN2, state.region_for(
            os.path.join(links, 'mpatha')).uuid)

    @ddt.data(GLUN4, 'vdd', 'anything')
    def test_region_for_global(self, filesystem):
        # Every filesystem of the cluster shares the global regions.
        state = cluster_state(CAPTURED + 'global-heartbeat-node2')
        self.assertEqual(GLOBAL_REGION_UUIDS[0],
                         state.region_for(filesystem).uuid)

    def test_region_for_global_stopped(self):
        state = cluster_state(HANDMADE + 'global-heartbeat-stopped-node1')
        self.assertFalse(state.has_live_heartbeat(GLUN1))


class ScanDevicesTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        scenario = CAPTURED + 'global-heartbeat-node1'
        self.quick = read_fixture(scenario, 'commands', 'mounted.ocfs2-d')
        self.full = read_fixture(scenario, 'commands', 'mounted.ocfs2-f')

    @mock.patch.object(privsep, 'detect_mounting_nodes')
    @mock.patch.object(privsep, 'detect_ocfs2_filesystems')
    def test_scan_devices(self, quick, full):
        quick.return_value, full.return_value = self.quick, self.full
        scan = o2cb.scan_devices()
        both = ('node1', 'node2')
        self.assertEqual(
            (device('/dev/vda', GLUN1, 'lun1', both, True),
             device('/dev/vdb', GLUN2, 'lun2', both, True),
             device('/dev/vdc', GLUN3, 'lun3', both, True),
             device('/dev/vdd', GLUN4, 'lun4', (), True)),
            unordered(scan.devices))
        self.assertEqual((), scan.problems)
        self.assertEqual(GLUN3, scan.find('vdc').uuid)
        self.assertIsNone(scan.find('/dev/vde'))

    @mock.patch.object(privsep, 'detect_mounting_nodes')
    @mock.patch.object(privsep, 'detect_ocfs2_filesystems')
    def test_scan_devices_tools_missing(self, quick, full):
        quick.side_effect = full.side_effect = FileNotFoundError(
            2, 'No such file or directory')
        scan = o2cb.scan_devices()
        self.assertEqual(((), ('ocfs2-tools-missing', 'ocfs2-tools-missing')),
                         (scan.devices,
                          tuple(problem.code for problem in scan.problems)))
        self.assertIn('Install the ocfs2-tools package', str(scan.problems[0]))

    @mock.patch.object(privsep, 'detect_mounting_nodes')
    @mock.patch.object(privsep, 'detect_ocfs2_filesystems')
    def test_scan_devices_full_fails(self, quick, full):
        quick.return_value = self.quick
        full.side_effect = processutils.ProcessExecutionError(
            exit_code=1, stderr='mounted.ocfs2: Cannot open /dev/vda\n',
            cmd='mounted.ocfs2 -f')
        scan = o2cb.scan_devices()
        self.assertEqual(
            (('device-scan-failed',), (None, None, None, None)),
            (tuple(problem.code for problem in scan.problems),
             tuple(found.mounting_nodes for found in scan.devices)))
        self.assertIn('"mounted.ocfs2 -f" failed: mounted.ocfs2: Cannot open '
                      '/dev/vda', scan.problems[0].message)

    @mock.patch.object(privsep, 'detect_mounting_nodes')
    @mock.patch.object(privsep, 'detect_ocfs2_filesystems')
    def test_scan_devices_privsep_helper_fails(self, quick, full):
        quick.side_effect = full.side_effect = (
            privsep_daemon.FailedToDropPrivileges(
                'privsep helper command exited non-zero (1)'))
        scan = o2cb.scan_devices()
        self.assertEqual(((), ('privsep-unavailable', 'privsep-unavailable')),
                         (scan.devices,
                          tuple(problem.code for problem in scan.problems)))
        self.assertIn('exited non-zero (1)', scan.problems[0].message)

    @mock.patch.object(privsep, 'detect_mounting_nodes')
    @mock.patch.object(privsep, 'detect_ocfs2_filesystems')
    def test_scan_devices_garbage(self, quick, full):
        quick.return_value = 'Segmentation fault\n'
        full.return_value = ''
        scan = o2cb.scan_devices()
        self.assertEqual(((), ('device-scan-failed', 'device-scan-failed')),
                         (scan.devices,
                          tuple(problem.code for problem in scan.problems)))


class PrivsepTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        # Run the entrypoints in this process, as the daemon would.
        cinder.privsep.sys_admin_pctxt.set_client_mode(False)
        self.addCleanup(cinder.privsep.sys_admin_pctxt.set_client_mode, True)

    @mock.patch.object(processutils, 'execute',
                       return_value=('Device ...\n', ''))
    def test_detect_ocfs2_filesystems(self, execute):
        self.assertEqual('Device ...\n', privsep.detect_ocfs2_filesystems())
        execute.assert_called_once_with('mounted.ocfs2', '-d')

    @mock.patch.object(processutils, 'execute',
                       return_value=('Device ...\n', ''))
    def test_detect_mounting_nodes(self, execute):
        self.assertEqual('Device ...\n', privsep.detect_mounting_nodes())
        execute.assert_called_once_with('mounted.ocfs2', '-f')
