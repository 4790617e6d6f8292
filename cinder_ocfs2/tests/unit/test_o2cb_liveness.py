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

"""Node liveness: o2hb/livenodes in debugfs, ClusterState and the checks.

The fixtures ``captured/both-live-node1`` and
``captured/node2-powered-off-node1`` are node1 of the lab with both nodes
up, then after node2's qemu was killed (see their README). The older
captures have no debugfs files: liveness is unknown there.
"""

import os
import shutil
from unittest import mock

import ddt

from cinder.tests.unit import test
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import o2cb_checks
from cinder_ocfs2 import o2cb_parsers
from cinder_ocfs2.tests.unit import test_o2cb

CAPTURED = test_o2cb.CAPTURED
BOTH_LIVE = CAPTURED + 'both-live-node1'
NODE2_OFF = CAPTURED + 'node2-powered-off-node1'
LIVENODES = ('sys', 'kernel', 'debug', 'o2hb', 'livenodes')


def region_livenodes(scenario):
    """The per-region livenodes texts of a scenario, by region UUID."""
    folder = test_o2cb.scenario_path(scenario, *LIVENODES[:-1])
    return {name: test_o2cb.read_fixture(scenario, *LIVENODES[:-1], name,
                                         'livenodes')
            for name in sorted(os.listdir(folder))
            if os.path.isdir(os.path.join(folder, name))}


@ddt.ddt
class ParseLiveNodesTestCase(test.TestCase):

    @ddt.data((BOTH_LIVE, {1, 2}), (NODE2_OFF, {1}))
    @ddt.unpack
    def test_parse_live_nodes_captured(self, scenario, expected):
        text = test_o2cb.read_fixture(scenario, *LIVENODES)
        self.assertEqual(frozenset(expected),
                         o2cb_parsers.parse_live_nodes(text))
        # Three regions (lun1-lun3), the same map in each.
        regions = region_livenodes(scenario)
        self.assertEqual(3, len(regions))
        for text in regions.values():
            self.assertEqual(frozenset(expected),
                             o2cb_parsers.parse_live_nodes(text))

    @ddt.data(('\n', set()), ('', set()), ('0 254 \n', {0, 254}),
              ('7\n', {7}))
    @ddt.unpack
    def test_parse_live_nodes_edges(self, text, expected):
        self.assertEqual(frozenset(expected),
                         o2cb_parsers.parse_live_nodes(text))

    @ddt.data('1 two \n', '1,2\n', '255 \n', '-1 \n', '1 2 \x00\n',
              'node1 \n', '0x1 \n', '1.0 \n', '\u0661 \n')
    def test_parse_live_nodes_malformed(self, text):
        error = self.assertRaises(o2cb_parsers.O2CBParseError,
                                  o2cb_parsers.parse_live_nodes, text,
                                  source='/x/o2hb/livenodes')
        self.assertEqual(('/x/o2hb/livenodes', 'not a list of node numbers'),
                         (error.source, error.reason))


class LivenessStateTestCase(test.TestCase, test_o2cb.CopiedTreeMixin):

    def state_of_copy(self, root, hostname='node1'):
        return o2cb.get_cluster_state(
            sysfs_root=os.path.join(root, 'sys'),
            etc_root=os.path.join(root, 'etc'), hostname=hostname)

    def test_both_live(self):
        state = test_o2cb.cluster_state(BOTH_LIVE)
        self.assertEqual(
            (o2cb.ClusterStatus.ONLINE, frozenset({1, 2}), None, (),
             ('node1', 'node2'), (True, True)),
            (state.status, state.live_nodes, state.live_nodes_unknown,
             state.problems, state.live_node_names,
             tuple(state.is_live(node) for node in state.nodes)))

    def test_node2_powered_off(self):
        state = test_o2cb.cluster_state(NODE2_OFF)
        self.assertEqual(
            (o2cb.ClusterStatus.ONLINE, frozenset({1}), ('node-not-live',),
             ('node1',), (True, False)),
            (state.status, state.live_nodes,
             test_o2cb.problem_codes(state), state.live_node_names,
             tuple(state.is_live(node) for node in state.nodes)))
        problem = state.problems[0]
        for text in ('Node node2 (node 2, 198.51.100.12:7777) of cluster '
                     'labcluster is not live',
                     'down or cut off from this node',
                     'local heartbeat',
                     '31 missed heartbeats (31 x 2 s = 62 s)',
                     'recover its journal',
                     'I/O to those LUNs blocks'):
            self.assertIn(text, problem.message)
        for text in ('powered on', '198.51.100.12:7777',
                     'mount the LUNs on it'):
            self.assertIn(text, problem.fix)

    def test_no_debugfs_unknown(self):
        # The captures before debugfs was mounted in the lab.
        state = test_o2cb.cluster_state(CAPTURED + 'local-heartbeat-node1')
        self.assertEqual((o2cb.ClusterStatus.ONLINE, None, None, (), None),
                         (state.status, state.live_nodes,
                          state.live_node_names, state.problems,
                          state.is_live(state.nodes[1])))
        self.assertIn('kernel/debug/o2hb/livenodes does not exist (debugfs '
                      'not mounted', state.live_nodes_unknown)

    def test_not_root_unknown(self):
        with mock.patch.object(o2cb, 'read_live_nodes',
                               side_effect=PermissionError(13, 'denied')):
            state = test_o2cb.cluster_state(NODE2_OFF)
        self.assertEqual((None, ()), (state.live_nodes, state.problems))
        self.assertIn('can only be read by root', state.live_nodes_unknown)

    def test_not_root_reads_through_root_reader(self):
        # What the driver does as the cinder user: privsep reads the file.
        root = self.copy_scenario(NODE2_OFF)
        with mock.patch.object(o2cb, 'read_live_nodes',
                               side_effect=PermissionError(13, 'denied')):
            state = o2cb.get_cluster_state(
                sysfs_root=os.path.join(root, 'sys'),
                etc_root=os.path.join(root, 'etc'), hostname='node1',
                root_reader=lambda: '1 \n')
            failing = o2cb.get_cluster_state(
                sysfs_root=os.path.join(root, 'sys'),
                etc_root=os.path.join(root, 'etc'), hostname='node1',
                root_reader=mock.Mock(side_effect=OSError('no privsep')))
        self.assertEqual((frozenset({1}), ('node-not-live',)),
                         (state.live_nodes, test_o2cb.problem_codes(state)))
        self.assertEqual((None, ()), (failing.live_nodes, failing.problems))
        self.assertIn('through privsep failed: no privsep',
                      failing.live_nodes_unknown)

    def test_malformed_livenodes_unknown(self):
        root = self.copy_scenario(NODE2_OFF)
        self.write(root, os.path.join(*LIVENODES), 'garbage\n')
        state = self.state_of_copy(root)
        self.assertEqual((o2cb.ClusterStatus.ONLINE, None, ()),
                         (state.status, state.live_nodes, state.problems))
        self.assertIn("not a list of node numbers: 'garbage'",
                      state.live_nodes_unknown)

    def test_offline_cluster_no_liveness_problem(self):
        # Unregistered: whatever debugfs says, no node-not-live warning.
        root = self.copy_scenario(CAPTURED + 'offline-node1')
        self.write(root, os.path.join(*LIVENODES), '\n')
        state = self.state_of_copy(root)
        self.assertEqual((frozenset(), ('cluster-not-registered',)),
                         (state.live_nodes, test_o2cb.problem_codes(state)))

    def test_local_heartbeat_nothing_mounted_no_problem(self):
        # Local heartbeat with no region here: this node sees no node,
        # itself included, which says nothing about the others.
        root = self.copy_scenario(BOTH_LIVE)
        heartbeat = os.path.join(
            root, 'sys/kernel/config/cluster/labcluster/heartbeat')
        for name in os.listdir(heartbeat):
            if os.path.isdir(os.path.join(heartbeat, name)):
                shutil.rmtree(os.path.join(heartbeat, name))
        self.write(root, os.path.join(*LIVENODES), '\n')
        state = self.state_of_copy(root)
        self.assertEqual(
            (o2cb.ClusterStatus.ONLINE, (), frozenset(), ()),
            (state.status, state.live_regions, state.live_nodes,
             state.problems))


class LivenessProblemsTestCase(test.TestCase):

    def cluster(self, mode, dead_threshold=31, regions=True):
        return o2cb_parsers.RegisteredCluster(
            name='prod', heartbeat_mode=mode, dead_threshold=dead_threshold,
            nodes=(test_o2cb.LOCAL_NODE1, test_o2cb.NODE2,
                   test_o2cb.node(3, 'node3', '198.51.100.13')),
            regions=test_o2cb.GLOBAL_REGIONS if regions else ())

    def test_global_heartbeat_message(self):
        problems = o2cb_checks.liveness_problems(
            self.cluster(o2cb.HeartbeatMode.GLOBAL, 16), frozenset({1, 3}))
        self.assertEqual(['node-not-live'], [p.code for p in problems])
        self.assertIn('node2 (node 2, 198.51.100.12:7777) of cluster prod',
                      problems[0].message)
        self.assertIn('16 missed heartbeats (16 x 2 s = 32 s)',
                      problems[0].message)
        # Global heartbeat: every node heartbeats whatever it mounts.
        self.assertNotIn('local heartbeat', problems[0].message)
        self.assertNotIn('mount the LUNs', problems[0].fix)

    def test_every_dead_node_and_unknown_threshold(self):
        problems = o2cb_checks.liveness_problems(
            self.cluster(o2cb.HeartbeatMode.LOCAL, None), frozenset({1}))
        self.assertEqual(['node2', 'node3'],
                         [p.message.split()[1] for p in problems])
        self.assertIn('the dead threshold of missed 2 s heartbeats',
                      problems[0].message)

    def test_local_node_never_reported(self):
        # The local node missing from the map is not "down".
        self.assertEqual([], o2cb_checks.liveness_problems(
            self.cluster(o2cb.HeartbeatMode.GLOBAL), frozenset({2, 3})))

    def test_nothing_reported_without_knowledge(self):
        cluster = self.cluster(o2cb.HeartbeatMode.GLOBAL)
        self.assertEqual(
            ([], [], []),
            (o2cb_checks.liveness_problems(cluster, None),
             o2cb_checks.liveness_problems(None, frozenset()),
             o2cb_checks.liveness_problems(
                 self.cluster(o2cb.HeartbeatMode.LOCAL, regions=False),
                 frozenset())))
