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

"""cinder-ocfs2-status and the o2cb records against the real tools.

On each lab node one shell line runs ``cinder-ocfs2-status --format json``
(one Python process: importing cinder takes ~40 s under TCG) and, next to
it, the tools an operator would use: ``o2cb cluster-status``, ``o2cb
list-nodes``, ``blkid``, ``uname -n``, ``ls`` of each LUN and the mount
table. The answers land in the node's /lab folder and every test compares
one part of our report with one of those oracles, as psutil's tests
compare with ``free`` and ``df``. The probe runs once per node per test
run; the read-only test runs its own on node1.
"""

import json
import os
import sys
import threading
import uuid

import testtools

from cinder_ocfs2.tests.functional import base

# The status command of the environment that runs the tests: the guests
# see the host's filesystem, so the same interpreter runs it there.
STATUS = '%s -m cinder_ocfs2.cmd.status' % sys.executable
CONF_NAME = 'o2cb-status.conf'
CONF_TEXT = ('[DEFAULT]\nenabled_backends = ocfs2\n\n[ocfs2]\n'
             'ocfs2_mount_point_base = %s\nocfs2_cluster_name = labcluster\n'
             % base.BASE)
# A volume file the probe makes on lun1 for the count, and removes.
PROBE_VOLUME = '%s/lun1/volume-%s' % (base.BASE, uuid.uuid4())
PROBE = ' ; '.join([
    'out=/lab/{name}; rm -rf $out; mkdir -p $out',
    'truncate -s 1G %s' % PROBE_VOLUME,
    '%s --config-file /lab/%s --format json >$out/status.json '
    '2>$out/status.err; echo $? >$out/status.rc' % (STATUS, CONF_NAME),
    'o2cb cluster-status >$out/cluster-status 2>&1; '
    'echo $? >$out/cluster-status.rc',
    'o2cb list-nodes --oneline labcluster >$out/list-nodes 2>&1',
    # o2net's connected nodes: a second kernel source for liveness.
    'cat /sys/kernel/debug/o2net/connected_nodes >$out/connected-nodes',
    'blkid -t TYPE=ocfs2 -o export >$out/blkid 2>&1',
    'uname -n >$out/hostname',
    'cat /proc/self/mountinfo >$out/mountinfo',
    'for lun in %s/*/; do mountpoint -q $lun || continue; '
    'echo "$(basename $lun)" '
    '"$(ls $lun | grep -cE \'^volume-[0-9a-f-]{36}$\')"; '
    'done >$out/volume-files' % base.BASE,
    'df -B1 --output=target,size,avail %s/* >$out/df' % base.BASE,
    'rm -f %s' % PROBE_VOLUME,
])

_probes = {}
_probes_lock = threading.Lock()


class Probe:
    """The files one PROBE run left in a node's /lab folder."""

    def __init__(self, lab, node, name):
        self.directory = os.path.join(str(lab.exchange_dir(node)), name)

    def text(self, name):
        with open(os.path.join(self.directory, name),
                  encoding='utf-8', errors='replace') as result:
            return result.read()

    @property
    def status(self):
        return json.loads(self.text('status.json'))

    def exit_code(self, name):
        return int(self.text(name + '.rc'))

    def blkid(self):
        """{device: {'UUID': ..., 'LABEL': ...}} from blkid -o export."""
        devices, current = {}, None
        for line in self.text('blkid').splitlines():
            key, _, value = line.partition('=')
            if key == 'DEVNAME':
                current = devices.setdefault(value, {})
            elif current is not None and key:
                current[key] = value
        return devices

    def ocfs2_mounts(self):
        """{mount point: source} of the ocfs2 lines of mountinfo."""
        mounts = {}
        for line in self.text('mountinfo').splitlines():
            after = line.split(' - ', 1)[1].split()
            if after[0] == 'ocfs2':
                mounts[line.split()[4]] = after[1]
        return mounts


def run_probe(lab, node, name='o2cb-probe'):
    with open(os.path.join(str(lab.exchange_dir(node)), CONF_NAME),
              'w') as conf:
        conf.write(CONF_TEXT)
    lab.run(node, PROBE.replace('{name}', name), timeout=600).check()
    return Probe(lab, node, name)


def probe(lab, node):
    """The probe of a node, run once per test run."""
    with _probes_lock:
        if node not in _probes:
            _probes[node] = run_probe(lab, node)
        return _probes[node]


def uuid_of(blkid_uuid):
    """blkid's 1b9d...-... form as o2cb writes it (upper case, no dash)."""
    return blkid_uuid.replace('-', '').upper()


class StatusAgainstToolsTestCase(testtools.TestCase):
    """Each node's report against o2cb, blkid, uname and ls there."""

    def setUp(self):
        super().setUp()
        self.lab, _clients = base.session()

    def test_cluster_online_against_o2cb_cluster_status(self):
        for node in base.NODES:
            result = probe(self.lab, node)
            cluster = result.status['cluster']
            self.assertEqual(
                (result.exit_code('cluster-status') == 0,
                 "Cluster 'labcluster' is online\n"),
                (cluster['online'], result.text('cluster-status')))
            self.assertEqual('labcluster', cluster['name'])

    def test_nodes_against_o2cb_list_nodes(self):
        # Liveness (o2hb) against the nodes o2net is connected to, plus
        # this node.
        for node in base.NODES:
            result = probe(self.lab, node)
            connected = result.text('connected-nodes').split()
            listed = []
            for line in result.text('list-nodes').splitlines():
                _, number, name, address, _cluster = line.split()
                local = name == result.text('hostname').strip()
                listed.append({'number': int(number), 'name': name,
                               'address': address.split(':')[0],
                               'port': int(address.split(':')[1]),
                               'local': local,
                               'live': local or number in connected})
            self.assertEqual(sorted(listed, key=lambda n: n['number']),
                             result.status['cluster']['nodes'])

    def test_live_regions_against_mounted_filesystems(self):
        # Local heartbeat: one region per filesystem this node mounts,
        # named by its UUID. Global: one per heartbeat LUN (o2cb
        # add-heartbeat), whatever is mounted.
        for node in base.NODES:
            result = probe(self.lab, node)
            blkid = result.blkid()
            if self.lab.spec.heartbeat.value == 'global':
                labels = set(self.lab.spec.heartbeat_luns)
                expected = {uuid_of(values['UUID'])
                            for values in blkid.values()
                            if values.get('LABEL') in labels}
            else:
                # mount(8) records the canonical device name, as blkid.
                expected = {uuid_of(blkid[source]['UUID'])
                            if source in blkid else source
                            for source in result.ocfs2_mounts().values()}
            live = {region['uuid'] for region
                    in result.status['cluster']['live_regions']}
            self.assertEqual(sorted(expected), sorted(live))
            self.assertEqual(3, len(live))

    def test_luns_against_blkid_and_both_mount_tables(self):
        probes = {node: probe(self.lab, node) for node in base.NODES}
        mounted_on = {}
        for node, result in probes.items():
            for mount_point in result.ocfs2_mounts():
                mounted_on.setdefault(os.path.basename(mount_point),
                                      []).append(node)
        for node, result in probes.items():
            blkid = {uuid_of(values['UUID']): values.get('LABEL', '')
                     for values in result.blkid().values()}
            for lun in result.status['luns']:
                self.assertEqual(
                    (lun['pool'], True, False, blkid.get(lun['uuid']),
                     sorted(mounted_on[lun['pool']]),
                     self.lab.spec.heartbeat.value, True),
                    (lun['pool'], lun['usable'], lun['read_only'],
                     lun['label'], sorted(lun['mounting_nodes'] or ()),
                     lun['heartbeat'], lun['heartbeat_live']))

    def test_volume_files_and_space_against_ls_and_df(self):
        for node in base.NODES:
            result = probe(self.lab, node)
            counted = dict(line.split() for line in
                           result.text('volume-files').splitlines())
            space = {os.path.basename(target): (int(size), int(avail))
                     for target, size, avail in (
                         line.split() for line in
                         result.text('df').splitlines()[1:])}
            reported = {lun['pool']: str(lun['volume_files'])
                        for lun in result.status['luns']}
            self.assertEqual((counted, '1'), (reported, reported['lun1']))
            for lun in result.status['luns']:
                self.assertEqual(space[lun['pool']],
                                 (lun['total_bytes'], lun['free_bytes']))

    def test_healthy_lab_exits_zero(self):
        for node in base.NODES:
            result = probe(self.lab, node)
            self.assertEqual((0, [], '', [True, True]),
                             (result.exit_code('status'),
                              result.status['warnings'],
                              result.text('status.err'),
                              [item['live'] for item
                               in result.status['cluster']['nodes']]))


class ReadOnlyLunTestCase(testtools.TestCase):
    """A LUN mounted read-only is reported with its fix, exit code 1."""

    def setUp(self):
        super().setUp()
        self.lab, _clients = base.session()

    def test_read_only_lun_reported(self):
        lun, path = base.SPARE_LUN, '%s/%s' % (base.BASE, base.SPARE_LUN)
        self.lab.run('node1', 'mkdir -p %s && mount -t ocfs2 -o ro,'
                     '_netdev,heartbeat=%s /dev/disk/by-id/virtio-%s %s'
                     % (path, self.lab.spec.heartbeat.value, lun, path),
                     timeout=300).check()
        self.addCleanup(self.lab.run, 'node1', 'umount %s' % path,
                        timeout=300)
        result = run_probe(self.lab, 'node1', name='o2cb-probe-ro')
        report = {item['pool']: item for item in result.status['luns']}
        self.assertEqual(
            (1, False, True),
            (result.exit_code('status'), report[lun]['usable'],
             report[lun]['read_only']))
        warning = [item for item in result.status['warnings']
                   if item['code'] == 'lun-skipped']
        self.assertEqual(1, len(warning), result.status['warnings'])
        self.assertIn('fsck.ocfs2 -f', warning[0]['fix'])
