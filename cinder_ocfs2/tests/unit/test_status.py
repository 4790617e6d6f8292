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

"""Tests for cinder-ocfs2-status on fixture trees.

Each test copies a scenario of ``fixtures/o2cb`` to a temporary tree and
moves its LUN mount points there, so that statvfs and the volume file
count run on real directories; ``mounted.ocfs2`` output comes from the
scenario's ``commands/`` files.
"""

import dataclasses
import io
import json
import os
import shutil
from unittest import mock

import ddt
import fixtures

from cinder.tests.unit import test
from cinder_ocfs2.cmd import status
from cinder_ocfs2 import mounts
from cinder_ocfs2 import privsep
from cinder_ocfs2.tests.unit import test_o2cb

CAPTURED = test_o2cb.CAPTURED
HANDMADE = test_o2cb.HANDMADE

PRODUCTION_BASE = '/var/lib/cinder/ocfs2'
TOOLS = '/usr/sbin/mounted.ocfs2'
AS_ROOT = status.RootAccess(euid=0, user='root', tools=TOOLS)
ROOT_HELPER = ('sudo', 'cinder-rootwrap', '/etc/cinder/rootwrap.conf',
               'privsep-helper')
AS_CINDER = status.RootAccess(
    euid=997, user='cinder', tools=TOOLS, helper=ROOT_HELPER,
    helper_origin="cinder's default, with rootwrap_config of cinder.conf",
    helper_path='/usr/bin/sudo')
VOLUME = 'volume-0b5bc6a2-4a7c-4c37-9b1f-0d8c2a5c1e11'
SNAPSHOT = VOLUME + '.4f1d0c43-1c8e-43a4-9a70-5d6f2b1a9e42'


class StatusTestCase(test.TestCase):
    """Runs main() on a copied scenario and keeps its output."""

    def make_tree(self, scenario, volume_files=1, extra_conf=''):
        self.root = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'node')
        shutil.copytree(test_o2cb.scenario_path(scenario), self.root)
        self.base = os.path.join(os.path.dirname(self.root), 'ocfs2')
        mountinfo = os.path.join(self.root, 'proc', 'self', 'mountinfo')
        with open(mountinfo, encoding='utf-8') as source:
            table = source.read()
        with open(mountinfo, 'w', encoding='utf-8') as target:
            target.write(table.replace(PRODUCTION_BASE, self.base))
        for mount in mounts.parse_mountinfo(table):
            if mount.mount_point.startswith(PRODUCTION_BASE + '/'):
                lun = os.path.join(self.base,
                                   os.path.basename(mount.mount_point))
                os.makedirs(lun)
                for name in [VOLUME, SNAPSHOT, 'tmp-file'][:volume_files + 1]:
                    open(os.path.join(lun, name), 'w').close()
        self.conf = os.path.join(os.path.dirname(self.root), 'cinder.conf')
        with open(self.conf, 'w', encoding='utf-8') as conf:
            conf.write('[DEFAULT]\nenabled_backends = ocfs2\n\n[ocfs2]\n'
                       'volume_driver = cinder_ocfs2.driver.OCFS2Driver\n'
                       'ocfs2_mount_point_base = %s\n%s'
                       % (self.base, extra_conf))
        commands = os.path.join(self.root, 'commands')
        for name, function in (('mounted.ocfs2-d', 'detect_ocfs2_filesystems'),
                               ('mounted.ocfs2-f', 'detect_mounting_nodes')):
            with open(os.path.join(commands, name), encoding='utf-8') as out:
                self.useFixture(fixtures.MockPatchObject(
                    privsep, function, return_value=out.read()))
        # main() runs the scan in-process when root; keep privsep untouched.
        self.start_privsep = self.useFixture(fixtures.MockPatchObject(
            status, '_start_privsep')).mock
        # As root with ocfs2-tools installed, whoever runs the tests.
        self.access = self.useFixture(fixtures.MockPatchObject(
            status, 'probe_root_access', return_value=AS_ROOT)).mock

    def mount_with_localflocks(self, pool):
        """Show a LUN of the tree as mounted with "-o localflocks".

        OCFS2 writes the option as ",localflocks," before cluster_stack
        (fs/ocfs2/super.c, ocfs2_show_options).
        """
        mountinfo = os.path.join(self.root, 'proc', 'self', 'mountinfo')
        with open(mountinfo, encoding='utf-8') as source:
            lines = source.read().splitlines(keepends=True)
        with open(mountinfo, 'w', encoding='utf-8') as target:
            for line in lines:
                if ' %s ' % os.path.join(self.base, pool) in line:
                    line = line.replace(',cluster_stack=',
                                        ',localflocks,,cluster_stack=')
                target.write(line)

    def run_main(self, *arguments, config_file=True):
        stdout = io.StringIO()
        config = ['--config-file', self.conf] if config_file else []
        with mock.patch('sys.stdout', stdout):
            code = status.main(config + ['--root', self.root] +
                               list(arguments))
        return code, stdout.getvalue()

    def run_json(self, *arguments, config_file=True):
        code, output = self.run_main('--format', 'json', *arguments,
                                     config_file=config_file)
        return code, json.loads(output)


@ddt.ddt
class StatusJsonTestCase(StatusTestCase):

    @ddt.data(
        (CAPTURED + 'local-heartbeat-node1', 0, 'online', ()),
        (CAPTURED + 'local-heartbeat-node2', 0, 'online', ()),
        (CAPTURED + 'remount-ro-node1', 1, 'online', ('lun-skipped',)),
        (CAPTURED + 'escaped-path-node1', 1, 'online', ('lun-skipped',)),
        (CAPTURED + 'global-heartbeat-node1', 0, 'online', ()),
        (CAPTURED + 'offline-node1', 1, 'offline',
         ('cluster-not-registered', 'no-usable-lun')),
        (CAPTURED + 'unconfigured-node1', 1, 'offline',
         ('cluster-not-registered', 'cluster-conf-missing',
          'no-usable-lun')),
        (HANDMADE + 'nodes-differ-node1', 1, 'online',
         ('nodes-differ-from-cluster-conf', 'lun-unknown-node')),
        (HANDMADE + 'not-loaded', 1, 'unknown',
         ('ocfs2-not-loaded', 'no-usable-lun')),
        (HANDMADE + 'global-heartbeat-stopped-node1', 1, 'offline',
         ('global-heartbeat-stopped', 'no-usable-lun')),
        (HANDMADE + 'no-local-node', 1, 'offline',
         ('no-local-node', 'no-usable-lun')),
        (CAPTURED + 'both-live-node1', 0, 'online', ()),
        (CAPTURED + 'node2-powered-off-node1', 1, 'online',
         ('node-not-live',)),
    )
    @ddt.unpack
    def test_status_json_fixture(self, scenario, exit_code, cluster_status,
                                 codes):
        self.make_tree(scenario)
        code, document = self.run_json()
        self.assertEqual(
            (exit_code, cluster_status, codes, exit_code == 0),
            (code, document['cluster']['status'],
             tuple(warning['code'] for warning in document['warnings']),
             document['healthy']))

    def test_status_json_luns(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1', volume_files=2)
        code, document = self.run_json()
        lun1, lun2, lun3 = document['luns']
        statvfs = os.statvfs(lun1['mount_point'])
        self.assertEqual(
            {'pool': 'lun1', 'usable': True,
             'skip_reason': None,
             'mount_point': os.path.join(self.base, 'lun1'),
             'device': '/dev/vda', 'fs_type': 'ocfs2', 'read_only': False,
             'local_flocks': False, 'heartbeat': 'local',
             'heartbeat_live': True, 'uuid': test_o2cb.LUN1,
             'label': 'lun1', 'fs_cluster': 'labcluster',
             'mounting_nodes': lun1['mounting_nodes'],
             'total_bytes': statvfs.f_blocks * statvfs.f_frsize,
             'free_bytes': lun1['free_bytes'],
             # The snapshot file is not a volume file.
             'volume_files': 1},
            lun1)
        self.assertEqual(
            ('lun2', 'lun2', test_o2cb.LUN2, ['node1', 'node2'], 'lun3',
             test_o2cb.LUN3),
            (lun2['pool'], lun2['label'], lun2['uuid'],
             sorted(lun2['mounting_nodes']), lun3['pool'], lun3['uuid']))

    def test_status_json_escaped_mount_point(self):
        self.make_tree(CAPTURED + 'escaped-path-node1')
        code, document = self.run_json()
        lun = document['luns'][-1]
        self.assertEqual(
            ('pool with space', os.path.join(self.base, 'pool with space'),
             True, test_o2cb.LUN4, ['node1'], True, 1),
            (lun['pool'], lun['mount_point'], lun['usable'], lun['uuid'],
             lun['mounting_nodes'], lun['heartbeat_live'],
             lun['volume_files']))

    def test_status_json_cluster(self):
        self.make_tree(CAPTURED + 'global-heartbeat-node2')
        code, document = self.run_json()
        cluster = document['cluster']
        self.assertEqual(
            ('labcluster', True, 'global', 31,
             list(test_o2cb.GLOBAL_REGION_UUIDS),
             # No debugfs in this capture: liveness unknown.
             [{'number': 1, 'name': 'node1', 'address': '198.51.100.11',
               'port': 7777, 'local': False, 'live': None},
              {'number': 2, 'name': 'node2', 'address': '198.51.100.12',
               'port': 7777, 'local': True, 'live': None}]),
            (cluster['name'], cluster['online'], cluster['heartbeat_mode'],
             cluster['dead_threshold'],
             [region['uuid'] for region in cluster['live_regions']],
             cluster['nodes']))

    def test_status_json_node_not_live(self):
        self.make_tree(CAPTURED + 'node2-powered-off-node1')
        code, document = self.run_json()
        cluster = document['cluster']
        self.assertEqual(
            (1, [1], None, [True, False], ['node-not-live']),
            (code, cluster['live_nodes'], cluster['live_nodes_unknown'],
             [node['live'] for node in cluster['nodes']],
             [warning['code'] for warning in document['warnings']]))
        self.assertIn('node2 (node 2, 198.51.100.12:7777) of cluster '
                      'labcluster is not live',
                      document['warnings'][0]['message'])
        # node2 died with the LUNs mounted: node1 alone mounts them now.
        self.assertEqual([['node1']] * 3, [lun['mounting_nodes']
                                           for lun in document['luns']])

    def test_status_read_only_lun_fix(self):
        self.make_tree(CAPTURED + 'remount-ro-node1')
        code, document = self.run_json()
        warning = document['warnings'][0]
        self.assertIn('Pool lun3 is not used', warning['message'])
        self.assertIn('fsck.ocfs2 -f /dev/vdc', warning['fix'])
        # "mount -o remount,ro" keeps the heartbeat running.
        lun3 = document['luns'][2]
        self.assertEqual((False, True, True, ['node1', 'node2']),
                         (lun3['usable'], lun3['read_only'],
                          lun3['heartbeat_live'],
                          sorted(lun3['mounting_nodes'])))

    def test_status_localflocks(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.mount_with_localflocks('lun2')
        code, document = self.run_json()
        lun2 = os.path.join(self.base, 'lun2')
        self.assertEqual(
            (1, ['localflocks'], [True, False, True], [False, True, False]),
            (code, [warning['code'] for warning in document['warnings']],
             [lun['usable'] for lun in document['luns']],
             [lun['local_flocks'] for lun in document['luns']]))
        warning = document['warnings'][0]
        self.assertEqual(
            'Pool lun2 is not used: %s is mounted with localflocks: flock() '
            'is node-local there, so cinder-ocfs2\'s cluster-wide locks '
            'would not hold across nodes; unmount it and mount it again '
            'without localflocks.' % lun2, warning['message'])
        self.assertIn('Unmount %s, remove localflocks from its mount '
                      'options' % lun2, warning['fix'])

    def test_status_read_only_before_localflocks(self):
        # One cause, one warning: the driver skips it as read-only first.
        self.make_tree(CAPTURED + 'remount-ro-node1')
        self.mount_with_localflocks('lun3')
        code, document = self.run_json()
        self.assertEqual(
            (1, ['lun-skipped'], True),
            (code, [warning['code'] for warning in document['warnings']],
             document['luns'][2]['local_flocks']))
        self.assertIn('fsck.ocfs2', document['warnings'][0]['fix'])

    def test_status_heartbeat_missing(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        shutil.rmtree(os.path.join(
            self.root, 'sys/kernel/config/cluster/labcluster/heartbeat',
            test_o2cb.LUN2))
        code, document = self.run_json()
        self.assertEqual((1, ['lun-heartbeat-missing']),
                         (code, [warning['code']
                                 for warning in document['warnings']]))
        self.assertIn('Pool lun2 (%s)' % test_o2cb.LUN2,
                      document['warnings'][0]['message'])

    def test_status_allowed_pool_not_mounted(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1',
                       extra_conf='ocfs2_shares = lun1,lun9\n')
        code, document = self.run_json()
        self.assertEqual(
            (1, ['lun1', 'lun9'], ['lun-skipped']),
            (code, [lun['pool'] for lun in document['luns']],
             [warning['code'] for warning in document['warnings']]))
        self.assertIsNone(document['luns'][1]['mount_point'])

    def test_status_other_cluster_name(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1',
                       extra_conf='ocfs2_cluster_name = prod\n')
        code, document = self.run_json()
        self.assertEqual(
            # No heartbeat warnings: the cluster problems cover them.
            ['other-cluster-registered', 'cluster-not-configured',
             'lun-other-cluster', 'lun-other-cluster', 'lun-other-cluster'],
            [warning['code'] for warning in document['warnings']])

    def test_status_no_device_scan(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        code, document = self.run_json('--nodevice-scan')
        self.assertEqual((0, None, None, True),
                         (code, document['luns'][0]['uuid'],
                          document['luns'][0]['mounting_nodes'],
                          document['luns'][0]['heartbeat_live']))
        privsep.detect_ocfs2_filesystems.assert_not_called()

    def test_status_tools_missing(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        privsep.detect_ocfs2_filesystems.side_effect = FileNotFoundError(
            2, 'No such file or directory')
        code, document = self.run_json()
        self.assertEqual((1, ['ocfs2-tools-missing'], None, [
            'node1', 'node2']),
            (code, [warning['code'] for warning in document['warnings']],
             document['luns'][0]['uuid'],
             document['luns'][0]['mounting_nodes']))


class StatusTextTestCase(StatusTestCase):

    def test_status_text_healthy(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        code, output = self.run_main()
        self.assertEqual(0, code)
        self.assertTrue(output.startswith(
            'Cluster labcluster: online (stack o2cb, local heartbeat, dead '
            'threshold 31)\n'))
        # This capture has no debugfs: liveness is unknown, and why.
        self.assertIn('Nodes (this host, node1, is node1):\n'
                      '  node 1   node1            198.51.100.11:7777   ?'
                      '        local\n'
                      '  node 2   node2            198.51.100.12:7777   ?\n'
                      '  Liveness unknown:', output)
        # Wrapped where the temporary path ends.
        self.assertIn('Liveness unknown: %s/sys/kernel/debug/o2hb/livenodes '
                      'does not exist (debugfs not mounted at %s/sys/kernel/'
                      'debug, or the o2cb modules not loaded). Live heartbeat '
                      'regions: %s %s %s ' % ((self.root, self.root) + tuple(
                          str(found) for found in test_o2cb.LOCAL_REGIONS)),
                      ' '.join(output.split()))
        self.assertIn('loaded).\nLive heartbeat regions:\n'
                      '  %s\n  %s\n  %s\n' % test_o2cb.LOCAL_REGIONS, output)
        self.assertIn('    uuid          %s\n    label         lun1\n'
                      % test_o2cb.LUN1, output)
        self.assertIn('    mounted by    node1, node2\n'
                      '    heartbeat     local, live\n'
                      '    access        read-write\n'
                      '    volume files  1\n', output)
        self.assertTrue(output.endswith('Status: healthy\n'))

    def test_status_text_node_not_live(self):
        self.make_tree(CAPTURED + 'node2-powered-off-node1')
        code, output = self.run_main()
        self.assertEqual(1, code)
        self.assertIn('Nodes (this host, node1, is node1):\n'
                      '  node 1   node1            198.51.100.11:7777   live'
                      '     local\n'
                      '  node 2   node2            198.51.100.12:7777   NOT '
                      'LIVE\nLive heartbeat regions:\n', output)
        self.assertIn('  [node-not-live] Node node2 (node 2, '
                      '198.51.100.12:7777) of cluster\n', output)
        self.assertIn('      Fix: Check that node2 is powered on and '
                      'running,', output)
        self.assertTrue(output.endswith('Status: needs attention '
                                        '(1 warning)\n'))

    def test_status_text_localflocks(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.mount_with_localflocks('lun1')
        code, output = self.run_main()
        self.assertEqual(1, code)
        self.assertIn('  lun1: skipped\n', output)
        self.assertIn('  [localflocks] Pool lun1 is not used:\n', output)
        self.assertIn('Fix: Unmount %s, remove localflocks from its mount '
                      'options' % os.path.join(self.base, 'lun1'),
                      ' '.join(output.split()))
        self.assertTrue(output.endswith('Status: needs attention '
                                        '(1 warning)\n'))

    def test_status_text_warnings(self):
        self.make_tree(HANDMADE + 'nodes-differ-node1')
        code, output = self.run_main()
        self.assertEqual(1, code)
        # Wrapped to 75 columns.
        self.assertIn('  [lun-unknown-node] Pool lun1 is mounted by nodes '
                      'this node does not know:\n'
                      '      3.\n'
                      '      Fix: Mounts fail with "Internal logic failure '
                      'while trying to join\n', output)
        self.assertLessEqual(max(len(line) for line in output.splitlines()
                                 if '/' not in line), 75)
        self.assertTrue(output.endswith('Status: needs attention '
                                        '(2 warnings)\n'))


@ddt.ddt
class StatusUsageTestCase(StatusTestCase):

    @ddt.data(
        ('[DEFAULT]\nenabled_backends = a,b\n', (),
         'several backends (a, b): choose one with --backend'),
        ('[DEFAULT]\nenabled_backends = a\n', ('--backend', 'b'),
         'backend b is not in enabled_backends (a)'),
        ('[DEFAULT\n', (), 'cinder.conf'),
    )
    @ddt.unpack
    def test_status_usage_error(self, conf_text, arguments, message):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        with open(self.conf, 'w', encoding='utf-8') as conf:
            conf.write(conf_text)
        stderr = io.StringIO()
        with mock.patch('sys.stderr', stderr):
            code, output = self.run_main(*arguments)
        self.assertEqual((2, ''), (code, output))
        self.assertIn(message, stderr.getvalue())

    def test_status_bad_format(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        with mock.patch('sys.stderr', io.StringIO()) as stderr:
            code, output = self.run_main('--format', 'yaml')
        self.assertEqual((2, ''), (code, output))
        self.assertIn('--format: Invalid String', stderr.getvalue())

    def test_status_help(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        code, output = self.run_main('--help')
        self.assertEqual(0, code)
        self.assertIn('--nodevice-scan', output)

    def test_status_missing_config_file(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        os.unlink(self.conf)
        with mock.patch('sys.stderr', io.StringIO()) as stderr:
            code, output = self.run_main()
        self.assertEqual(2, code)
        self.assertIn(self.conf, stderr.getvalue())


def codes(document):
    return [warning['code'] for warning in document['warnings']]


@ddt.ddt
class StatusConfigTestCase(StatusTestCase):
    """What the command says about cinder.conf itself."""

    @ddt.data(
        ('ocfs2_volume_format = vmdk', 'ocfs2_volume_format = vmdk',
         'it must be one of raw, qcow2'),
        ('ocfs2_lock_timeout = 0', 'ocfs2_lock_timeout = 0',
         'it must be a number >= 1'),
        ('ocfs2_sparse_volumes = maybe', 'ocfs2_sparse_volumes = maybe',
         'it must be a boolean: true or false'),
        ('ocfs2_volume_file_mode = 0666', 'ocfs2_volume_file_mode = 0666',
         'it must be an octal mode such as 0660'),
        # The valid names still select the LUNs shown.
        ('ocfs2_shares = lun1,../lun2', 'ocfs2_shares = lun1,../lun2',
         'not a pool name: "../lun2"', ['lun1']),
        ('ocfs2_cluster_name =', 'ocfs2_cluster_name = ""',
         'it must be the name of the o2cb cluster'),
    )
    @ddt.unpack
    def test_status_invalid_option(self, line, named, allowed,
                                   pools=('lun1', 'lun2', 'lun3')):
        self.make_tree(CAPTURED + 'local-heartbeat-node1',
                       extra_conf=line + '\n')
        code, document = self.run_json()
        self.assertEqual((1, ['invalid-option']), (code, codes(document)))
        warning = document['warnings'][0]
        self.assertIn(named, warning['message'])
        self.assertIn(allowed, warning['message'])
        self.assertIn('in the [ocfs2] section of cinder.conf',
                      warning['fix'])
        self.assertIn('cinder-volume refuses to start the backend',
                      warning['fix'])
        # The LUNs are shown all the same.
        self.assertEqual(list(pools),
                         [lun['pool'] for lun in document['luns']])

    def test_status_invalid_options_text(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1',
                       extra_conf='ocfs2_volume_format = vmdk\n'
                                  'ocfs2_lock_timeout = 0\n')
        code, output = self.run_main()
        self.assertEqual(1, code)
        self.assertIn('  [invalid-option] ocfs2_volume_format = vmdk (in %s) '
                      'is invalid: it must be one of raw, qcow2. Fix: Set '
                      'ocfs2_volume_format in the [ocfs2] section of '
                      'cinder.conf to one of raw, qcow2, or remove it to use '
                      'the default (raw).' % self.conf,
                      ' '.join(output.split('\n      ')))
        self.assertIn('ocfs2_lock_timeout = 0 (in %s) is invalid: it must be '
                      'a number >= 1.' % self.conf, ' '.join(output.split()))
        self.assertTrue(output.endswith('Status: needs attention '
                                        '(2 warnings)\n'))

    def test_status_invalid_shares_are_left_out(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1',
                       extra_conf='ocfs2_shares = lun2,.hidden\n')
        code, document = self.run_json()
        self.assertEqual((1, ['invalid-option'], ['lun2']),
                         (code, codes(document),
                          [lun['pool'] for lun in document['luns']]))

    def test_status_no_cinder_conf(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        home = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable('HOME', home))
        # Whatever this machine has in /etc/cinder.
        self.useFixture(fixtures.MockPatchObject(
            status.cfg, 'find_config_files', return_value=[]))
        self.useFixture(fixtures.MockPatchObject(
            status.cfg, 'find_config_dirs', return_value=[]))
        code, document = self.run_json(config_file=False)
        self.assertEqual(
            (1, ['cinder-conf-not-found', 'no-usable-lun'], None,
             PRODUCTION_BASE),
            (code, codes(document), document['backend'], document['base']))
        warning = document['warnings'][0]
        self.assertEqual(
            'No cinder.conf was found (looked for cinder.conf and '
            'cinder-ocfs2-status.conf in %s/.cinder, %s, /etc/cinder, /etc), '
            'so this report uses the driver\'s defaults: '
            'ocfs2_mount_point_base /var/lib/cinder/ocfs2, every LUN below '
            'it, no cluster name.' % (home, home), warning['message'])
        self.assertIn('--config-file /etc/cinder/cinder.conf', warning['fix'])

    def test_status_found_cinder_conf_is_no_warning(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.useFixture(fixtures.MockPatchObject(
            status.cfg, 'find_config_files', return_value=[self.conf]))
        code, document = self.run_json(config_file=False)
        self.assertEqual((0, []), (code, codes(document)))

    def test_config_search_directories(self):
        self.assertEqual(
            ('/home/op/.cinder', '/home/op', '/etc/cinder', '/etc'),
            status.config_search_directories('/home/op'))


@ddt.ddt
class StatusRootAccessTestCase(StatusTestCase):
    """Missing ocfs2-tools and a missing root helper are told apart."""

    @ddt.data(
        (AS_ROOT, ()),
        (AS_CINDER, ()),
        (dataclasses.replace(AS_ROOT, tools=None), ('ocfs2-tools-missing',)),
        (dataclasses.replace(AS_CINDER, tools=None),
         ('ocfs2-tools-missing',)),
        (dataclasses.replace(AS_CINDER, helper_path=None),
         ('root-helper-missing',)),
        (dataclasses.replace(AS_CINDER, tools=None, helper_path=None),
         ('ocfs2-tools-missing', 'root-helper-missing')),
        # As root the helper is not used.
        (dataclasses.replace(AS_ROOT, helper_path=None), ()),
    )
    @ddt.unpack
    def test_root_access_problems(self, access, expected):
        self.assertEqual(expected, tuple(
            problem.code for problem in status.root_access_problems(access)))

    def test_status_root_helper_missing(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.access.return_value = dataclasses.replace(AS_CINDER,
                                                       helper_path=None)
        code, document = self.run_json()
        self.assertEqual((1, ['root-helper-missing'], None, None),
                         (code, codes(document), document['luns'][0]['uuid'],
                          document['luns'][0]['mounting_nodes']))
        warning = document['warnings'][0]
        self.assertEqual(
            'This command runs as cinder (uid 997), not root, and has no '
            'root helper to run mounted.ocfs2 as root: "sudo" is not '
            'installed (the root helper is "sudo cinder-rootwrap '
            '/etc/cinder/rootwrap.conf privsep-helper": cinder\'s default, '
            'with rootwrap_config of cinder.conf).', warning['message'])
        for step in ('Run cinder-ocfs2-status as root',
                     'install sudo and a sudoers rule',
                     'set helper_command in the [cinder_sys_admin] section',
                     '--nodevice-scan'):
            self.assertIn(step, warning['fix'])
        self.assertNotIn('ocfs2-tools', warning['message'] + warning['fix'])
        # The scan is not tried: it would fail as "not installed".
        privsep.detect_ocfs2_filesystems.assert_not_called()
        self.start_privsep.assert_not_called()

    def test_status_tools_not_installed(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.access.return_value = dataclasses.replace(AS_ROOT, tools=None)
        code, document = self.run_json()
        self.assertEqual((1, ['ocfs2-tools-missing']),
                         (code, codes(document)))
        self.assertIn('Install the ocfs2-tools package',
                      document['warnings'][0]['fix'])
        privsep.detect_ocfs2_filesystems.assert_not_called()

    def test_status_not_root_with_root_helper(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.access.return_value = AS_CINDER
        code, document = self.run_json()
        self.assertEqual((0, [], test_o2cb.LUN1),
                         (code, codes(document), document['luns'][0]['uuid']))
        self.start_privsep.assert_called_once_with([self.conf])

    def test_status_no_device_scan_needs_no_root(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.access.return_value = dataclasses.replace(
            AS_CINDER, tools=None, helper_path=None)
        code, document = self.run_json('--nodevice-scan')
        self.assertEqual((0, []), (code, codes(document)))
        self.access.assert_not_called()

    def test_probe_as_root(self):
        which = self.mock_object(status, '_which', return_value=TOOLS)
        self.mock_object(status.os, 'geteuid', return_value=0)
        self.assertEqual(AS_ROOT, status.probe_root_access([]))
        which.assert_called_once_with('mounted.ocfs2',
                                      ('/usr/local/sbin', '/usr/sbin',
                                       '/sbin'))

    @ddt.data(
        ('', ROOT_HELPER, "cinder's default, with rootwrap_config of "
                          "cinder.conf"),
        ('[DEFAULT]\nrootwrap_config = /etc/cinder/rw.conf\n',
         ('sudo', 'cinder-rootwrap', '/etc/cinder/rw.conf', 'privsep-helper'),
         "cinder's default, with rootwrap_config of cinder.conf"),
        ('[cinder_sys_admin]\nhelper_command = doas privsep-helper\n',
         ('doas', 'privsep-helper'),
         'helper_command in the [cinder_sys_admin] section of cinder.conf'),
    )
    @ddt.unpack
    def test_probe_not_root(self, conf_text, helper, origin):
        conf = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'cinder.conf')
        with open(conf, 'w', encoding='utf-8') as conf_file:
            conf_file.write(conf_text)
        self.mock_object(status, '_which', side_effect=lambda program,
                         extra=(): None if program == helper[0] else TOOLS)
        self.mock_object(status.os, 'geteuid', return_value=997)
        self.mock_object(status, '_user_name', return_value='cinder')
        self.assertEqual(
            status.RootAccess(euid=997, user='cinder', tools=TOOLS,
                              helper=helper, helper_origin=origin,
                              helper_path=None),
            status.probe_root_access([conf]))

    def test_which_looks_in_sbin(self):
        directory = self.useFixture(fixtures.TempDir()).path
        program = os.path.join(directory, 'mounted.ocfs2')
        with open(program, 'w', encoding='utf-8') as script:
            script.write('#!/bin/sh\n')
        os.chmod(program, 0o755)
        self.useFixture(fixtures.EnvironmentVariable('PATH', '/nonexistent'))
        self.assertEqual((None, program),
                         (status._which('mounted.ocfs2'),
                          status._which('mounted.ocfs2', (directory,))))


class StatusVersionHelpTestCase(StatusTestCase):

    def test_status_version(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        self.mock_object(status.config_check, 'package_version',
                         return_value='1.3.0')
        code, output = self.run_main('--version')
        self.assertEqual((0, '1.3.0\n'), (code, output))

    def test_status_help_lists_exit_codes(self):
        self.make_tree(CAPTURED + 'local-heartbeat-node1')
        code, output = self.run_main('--help')
        text = ' '.join(output.split())
        self.assertEqual(0, code)
        self.assertIn('--version', output)
        for exit_code, meaning in ((status.EXIT_HEALTHY, 'healthy'),
                                   (status.EXIT_ATTENTION, 'needs attention'),
                                   (status.EXIT_USAGE, 'usage error')):
            self.assertIn('%d %s' % (exit_code, meaning), text)
        self.assertIn('Exit codes: 0 healthy (the cluster is online and '
                      'there is no warning; also after --help and '
                      '--version)', text)

    def test_doc_lists_the_same_exit_codes(self):
        doc = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))))),
            'doc', 'source', 'status.rst')
        with open(doc, encoding='utf-8') as source:
            text = ' '.join(source.read().split())
        for exit_code, meaning in ((status.EXIT_HEALTHY, 'healthy'),
                                   (status.EXIT_ATTENTION,
                                    'something needs attention'),
                                   (status.EXIT_USAGE, 'usage error')):
            self.assertIn('**%d** %s' % (exit_code, meaning), text)
