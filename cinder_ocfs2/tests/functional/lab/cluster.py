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

"""The o2cb cluster and its LUNs, as the shell lines a site would type.

Pure functions: each returns a shell line (or file text) that ``Lab`` runs
in a guest through the agent.  Devices are named by their stable path,
``/dev/disk/by-id/virtio-<lun>``, which stage2.sh creates from the virtio
serial as udev would.
"""

import shlex

from cinder_ocfs2.tests.functional.lab import config

# Node slots per LUN: room for the two lab nodes and two more.
NODE_SLOTS = 4


def device(lun):
    return '/dev/disk/by-id/virtio-%s' % lun


def mount_point(lun):
    """Where a site mounts a LUN; the folder name is the pool name."""
    return '%s/%s' % (config.MOUNT_BASE, lun)


def hosts_file(nodes=config.NODES):
    lines = ['127.0.0.1\tlocalhost']
    lines += ['%s\t%s' % (node.address, node.name) for node in nodes]
    return '\n'.join(lines) + '\n'


def node_env(node, forwards, fresh_paths=(), scratch=False):
    """Shell variables the guest's /init reads from /lab/node.env."""
    prefix = config.CLUSTER_PREFIX_LENGTH
    values = {
        'LAB_NODE': node.name,
        'LAB_CLUSTER_MAC': node.cluster_mac,
        'LAB_CLUSTER_ADDRESS': '%s/%d' % (node.address, prefix),
        'LAB_FORWARD_MAC': node.forward_mac if forwards else '',
        'LAB_FORWARD_ADDRESS': '%s/24' % config.FORWARD_GUEST_ADDRESS,
        'LAB_MOUNT_BASE': config.MOUNT_BASE,
        # Mounted from 9p tags fresh0, fresh1... in this order.
        'LAB_FRESH_PATHS': ':'.join(str(path) for path in fresh_paths),
        # Where /init mounts the node's scratch disk; empty without one.
        'LAB_SCRATCH_MOUNT': config.SCRATCH_MOUNT if scratch else '',
    }
    return ''.join('%s=%s\n' % (key, shlex.quote(value))
                   for key, value in values.items())


def format_scratch(image):
    """argv formatting a node's scratch disk image on the host.

    ext4, as a site's local disk; the inode tables and the journal are
    written now (the image is sparse, so only ~70 MiB of it), so the guest
    kernel has no lazy initialisation to do under TCG; no blocks reserved
    for root, whose services are the only users.
    """
    return ['mkfs.ext4', '-q', '-F', '-m', '0', '-L', config.SCRATCH_SERIAL,
            '-E', 'lazy_itable_init=0,lazy_journal_init=0', str(image)]


def o2cb_defaults(cluster=config.CLUSTER_NAME):
    """/etc/default/o2cb as dpkg-reconfigure ocfs2-tools leaves it."""
    return ('O2CB_ENABLED=true\n'
            'O2CB_BOOTCLUSTER=%s\n'
            'O2CB_HEARTBEAT_THRESHOLD=31\n'
            'O2CB_IDLE_TIMEOUT_MS=30000\n'
            'O2CB_KEEPALIVE_DELAY_MS=2000\n'
            'O2CB_RECONNECT_DELAY_MS=2000\n' % cluster)


def configure_cluster(nodes=config.NODES, cluster=config.CLUSTER_NAME):
    """Write /etc/ocfs2/cluster.conf with the o2cb tool, as a site does."""
    lines = ['o2cb add-cluster %s' % cluster]
    for node in nodes:
        lines.append('o2cb add-node %s %s --ip %s --port %d --number %d'
                     % (cluster, node.name, node.address, config.O2CB_PORT,
                        node.number))
    return ' && '.join(lines)


def mkfs(lun, heartbeat):
    """Format a LUN with mkfs.ocfs2's default features (refcount on).

    The cluster stack and name are recorded in the superblock, as sites
    format their LUNs, so the mount options show cluster_stack=o2cb.
    """
    argv = ['mkfs.ocfs2', '-N', str(NODE_SLOTS), '-L', lun,
            '--cluster-stack=o2cb', '--cluster-name=%s' % config.CLUSTER_NAME]
    if heartbeat is config.Heartbeat.GLOBAL:
        argv.append('--global-heartbeat')
    return shlex.join(argv + [device(lun)])


def add_heartbeats(luns, cluster=config.CLUSTER_NAME):
    """Global heartbeat: a region on each LUN, in heartbeat mode global."""
    lines = ['o2cb add-heartbeat %s %s' % (cluster, device(lun))
             for lun in luns]
    lines.append('o2cb heartbeat-mode %s global' % cluster)
    return ' && '.join(lines)


def register_cluster(heartbeat, cluster=config.CLUSTER_NAME):
    line = 'o2cb register-cluster %s' % cluster
    if heartbeat is config.Heartbeat.GLOBAL:
        line += ' && o2cb start-heartbeat %s' % cluster
    return line


def mount(lun, heartbeat, path=None):
    path = path or mount_point(lun)
    return 'mkdir -p %s && mount -t ocfs2 -o %s %s %s' % (
        shlex.quote(path), config.MOUNT_OPTIONS % heartbeat.value,
        device(lun), shlex.quote(path))


def umount(lun, path=None):
    return 'umount %s' % shlex.quote(path or mount_point(lun))


def remount_ro(lun, path=None):
    return 'mount -o remount,ro %s' % shlex.quote(path or mount_point(lun))
