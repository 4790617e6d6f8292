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

"""node2 loses power: what node1's status command and driver report.

DESTRUCTIVE: node2 does not come back, so this module runs in a stestr
invocation of its own, with its own lab, after the rest of the functional
suite (tox.ini, ``[testenv:functional]``; doc/source/lab.rst). Run alone::

    stestr --test-path=./cinder_ocfs2/tests/functional run \\
        --concurrency 1 test_node_loss_lab

One test, in the order an operator lives it: both nodes live, node2's
qemu killed (power loss, nothing unmounted), node1's o2hb drops node2
after the dead threshold, node1's driver stats and cinder-ocfs2-status
say so, and node1 keeps serving volumes on the LUNs whose journal of
node2 it replayed.
"""

import time

from cinder_ocfs2.tests.functional import base
from cinder_ocfs2.tests.functional import test_o2cb_lab

LIVENODES = '/sys/kernel/debug/o2hb/livenodes'
# Longer than the dead threshold (31 x 2 s) with a TCG margin.
DEATH_TIMEOUT = 300
# cinder's backend_stats_polling_interval default: the next stats after
# o2hb drops a node must report it within this.
STATS_INTERVAL = 60
# lun3 is unmounted on node1 first, so node1 has lun1 and lun2 only.
NODE1_LUNS = ('lun1', 'lun2')
DATA_MIB = 16


class NodeLossTestCase(base.LabTestCase):
    """Power loss of node2, seen from node1."""

    def live_nodes(self, node):
        return self.sh(node, 'cat %s' % LIVENODES).split()

    def pools(self):
        stats, _seconds = self.node1.call('get_volume_stats')
        return {pool['pool_name']: pool for pool in stats['pools']}

    def wait_node2_dead(self, killed):
        while time.monotonic() - killed < DEATH_TIMEOUT:
            if '2' not in self.live_nodes('node1'):
                return time.monotonic()
            time.sleep(1)
        self.fail('node1 still sees node2 live %d s after its power loss'
                  % DEATH_TIMEOUT)

    def journal_replays(self, since, timeout=DEATH_TIMEOUT):
        """node1's "End replay journal (node 2" lines, once there are 2."""
        while True:
            replays = self.sh('node1', 'dmesg | grep "End replay journal '
                              '(node 2," || true').splitlines()
            if (len(replays) >= len(NODE1_LUNS)
                    or time.monotonic() - since > timeout):
                return replays
            time.sleep(2)

    def test_node2_power_loss(self):
        self.assertEqual(['1', '2'], self.live_nodes('node1'))
        self.lab.umount('node1', 'lun3')
        pools = self.pools()
        self.assertEqual(
            {lun: ['node1', 'node2'] for lun in NODE1_LUNS},
            {name: pool['cluster_live_nodes']
             for name, pool in pools.items()})
        # node2 writes on both LUNs and dies with them mounted.
        written = {}
        for lun in NODE1_LUNS:
            path = '%s/%s/from-node2' % (base.BASE, lun)
            self.sh('node2', 'dd if=/dev/urandom of=%s bs=1M count=%d '
                    'conv=fsync status=none' % (path, DATA_MIB))
            written[path] = self.sha256('node2', path)

        killed = self.lab.power_off_hard('node2')
        dead = self.wait_node2_dead(killed)
        base.record('node2 power loss -> node1 o2hb drops it',
                    '%.1f s (dead threshold 31 x 2 s = 62 s)'
                    % (dead - killed))

        # (b) the driver's next stats.
        pools = self.pools()
        reported = time.monotonic()
        base.record('node2 dead -> node1 driver stats say so',
                    '%.1f s' % (reported - dead))
        self.assertEqual(
            ({lun: ['node1'] for lun in NODE1_LUNS},
             {lun: 'up' for lun in NODE1_LUNS}),
            ({name: pool['cluster_live_nodes']
              for name, pool in pools.items()},
             {name: pool['pool_state'] for name, pool in pools.items()}))
        self.assertLess(reported - dead, STATS_INTERVAL)

        # (a) cinder-ocfs2-status on node1.
        result = test_o2cb_lab.run_probe(self.lab, 'node1',
                                         name='o2cb-probe-node-loss')
        base.record('node2 dead -> cinder-ocfs2-status says so',
                    '%.1f s' % (time.monotonic() - dead))
        cluster = result.status['cluster']
        warnings = result.status['warnings']
        self.assertEqual(
            (1, True, [1], {'node1': True, 'node2': False},
             ['node-not-live']),
            (result.exit_code('status'), cluster['online'],
             cluster['live_nodes'],
             {node['name']: node['live'] for node in cluster['nodes']},
             [warning['code'] for warning in warnings]))
        self.assertIn('Node node2 (node 2, 198.51.100.12:7777)',
                      warnings[0]['message'])
        self.assertIn('powered on', warnings[0]['fix'])

        # (c) node1 replayed node2's journal on its LUNs and goes on.
        replays = self.journal_replays(dead)
        self.assertEqual(len(NODE1_LUNS), len(replays), replays)
        for path, checksum in written.items():
            self.assertEqual(checksum, self.sha256('node1', path))
            self.sh('node1', 'dd if=/dev/zero of=%s bs=1M count=%d '
                    'conv=notrunc,fsync status=none' % (path, DATA_MIB))
        started = time.monotonic()
        volume, _seconds = self.create(pool='', size=1)
        base.record('node2 dead -> node1 creates a volume',
                    '%.1f s' % (time.monotonic() - started))
        self.assertIn(volume['provider_location'], NODE1_LUNS)
        path = self.path(volume)
        self.sh('node1', 'dd if=/dev/urandom of=/tmp/data bs=1M count=%d '
                'status=none && dd if=/tmp/data of=%s bs=1M conv=notrunc,'
                'fsync status=none' % (DATA_MIB, path))
        self.assertEqual(
            self.sha256('node1', '/tmp/data'),
            self.sh('node1', 'head -c %dM %s | sha256sum'
                    % (DATA_MIB, path)).split()[0])
