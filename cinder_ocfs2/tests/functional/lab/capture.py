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

"""Capture real o2cb/OCFS2 outputs from the lab as unit test fixtures.

``capture_all(out)`` boots the lab three times (local heartbeat, global
heartbeat, then local again to power node2 off), walks it through the
scenarios below and writes one folder per scenario and node under ``out``
(``guest/capture.py`` does the copying in the guest).  The layout matches
``tests/unit/fixtures/o2cb/handmade``.
"""

import logging
import pathlib
import shlex
import shutil
import time

from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import lab as lab_module

LOG = logging.getLogger(__name__)

GUEST_CAPTURE = pathlib.Path(__file__).parent / 'guest' / 'capture.py'
# A mount point whose name mountinfo must escape (\040).
SPACED_PATH = '%s/pool with space' % config.MOUNT_BASE


def snapshot(lab, scenario, node, description, out):
    """Capture node's state into out/scenario."""
    exchange = lab.exchange_dir(node)
    shutil.copyfile(GUEST_CAPTURE, exchange / 'capture.py')
    guest_dest = '/lab/capture/%s' % scenario
    lab.run(node, 'python3 /lab/capture.py %s %s' % (
        guest_dest, shlex.quote(description)), timeout=120,
        check=True)
    target = pathlib.Path(out) / scenario
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(exchange / 'capture' / scenario, target)
    LOG.info('captured %s', target)


def capture_local(lab, out):
    lab.up(luns=4, heartbeat='local')
    for node in lab.nodes:
        snapshot(lab, 'local-heartbeat-%s' % node, node,
                 '%s of labcluster, local heartbeat, lun1-lun3 mounted on '
                 'both nodes, lun4 formatted and not mounted.' % node, out)
    lab.remount_ro('node1', 'lun3')
    snapshot(lab, 'remount-ro-node1', 'node1',
             'node1, local heartbeat, lun1-lun3 mounted on both nodes, then '
             '"mount -o remount,ro" of lun3 on node1 only.', out)
    lab.mount('node1', 'lun4', path=SPACED_PATH)
    snapshot(lab, 'escaped-path-node1', 'node1',
             'As remount-ro-node1, plus lun4 mounted on node1 only at "%s" '
             '(escaped as \\040 in mountinfo).' % SPACED_PATH, out)
    lab.run_all("umount -a -t ocfs2 && o2cb unregister-cluster %s"
                % config.CLUSTER_NAME, timeout=180, check=True)
    snapshot(lab, 'offline-node1', 'node1',
             'node1 after unmounting everything and "o2cb '
             'unregister-cluster labcluster" on both nodes: modules loaded, '
             'cluster.conf present, no cluster registered.', out)
    lab.run('node1', 'mv /etc/ocfs2/cluster.conf /tmp/', check=True)
    snapshot(lab, 'unconfigured-node1', 'node1',
             'As offline-node1 with /etc/ocfs2/cluster.conf removed.', out)


def capture_global(lab, out):
    lab.up(luns=4, heartbeat='global')
    for node in lab.nodes:
        snapshot(lab, 'global-heartbeat-%s' % node, node,
                 '%s of labcluster, global heartbeat with regions on lun1-'
                 'lun3 (o2cb add-heartbeat, start-heartbeat), lun1-lun3 '
                 'mounted on both nodes, lun4 not mounted.' % node, out)


def wait_not_live(lab, node, number, timeout=300):
    """Wait until o2hb on node drops node ``number`` from livenodes."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        live = lab.run(node, 'cat /sys/kernel/debug/o2hb/livenodes',
                       check=True).stdout.split()
        if str(number) not in live:
            return time.monotonic() - started
        time.sleep(1)
    raise RuntimeError('%s still sees node %d live after %d s'
                       % (node, number, timeout))


def capture_node_loss(lab, out, up=True):
    """node1's view with both nodes up, then after node2 loses power."""
    if up:
        lab.up(luns=4, heartbeat='local')
    snapshot(lab, 'both-live-node1', 'node1',
             'node1 of labcluster, local heartbeat, lun1-lun3 mounted on '
             'both nodes, lun4 not mounted; debugfs mounted.', out)
    killed = lab.power_off_hard('node2')
    wait_not_live(lab, 'node1', 2)
    seconds = time.monotonic() - killed
    snapshot(lab, 'node2-powered-off-node1', 'node1',
             'As both-live-node1, then the qemu of node2 killed with '
             'SIGKILL (power loss, nothing unmounted); captured once '
             '/sys/kernel/debug/o2hb/livenodes on node1 no longer listed '
             'node 2 (%.0f s after the kill, dead threshold 31).' % seconds,
             out)


def capture_all(out):
    pathlib.Path(out).mkdir(parents=True, exist_ok=True)
    for step in (capture_local, capture_global, capture_node_loss):
        with lab_module.Lab() as lab:
            step(lab, out)
