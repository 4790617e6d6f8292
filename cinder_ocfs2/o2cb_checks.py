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

"""What is wrong with an o2cb cluster, as problems an operator can act on.

Pure functions over what ``cinder_ocfs2.o2cb.get_cluster_state`` read
(``Readings``); each check returns ``Problem`` records with a stable code,
a message naming the file, cluster or node, and the fix. The problems
follow the operator's path: is ocfs2 loaded, is the cluster registered
with this node in it, is the heartbeat running, and does the running
cluster still match cluster.conf (the cause of "mount.ocfs2: Internal
logic failure while trying to join the group" after nodes are added or
removed on some nodes only).
"""

import collections
import dataclasses

from cinder_ocfs2 import o2cb_parsers


def join_checklist(cluster_name):
    """What to check when mount.ocfs2 cannot join the group (o2dlm).

    Checked on the lab: "o2cb register-cluster" on a registered cluster
    applies the nodes added to or removed from cluster.conf to configfs
    while LUNs stay mounted; "o2cb add-node" alone changes only the file.
    """
    return ('Mounts fail with "Internal logic failure while trying to join '
            'the group" until all nodes agree: make /etc/ocfs2/cluster.conf '
            'identical on every node (same node numbers, names, addresses '
            'and ports; each name equal to that host\'s "uname -n"), then '
            'run "o2cb register-cluster %s" on every node, which applies '
            'the file to the running cluster; check that each LUN\'s DLM '
            'domain lists the same nodes everywhere ("Domain Map" in '
            '/sys/kernel/debug/o2dlm/<UUID>/dlm_state, after "mount -t '
            'debugfs debugfs /sys/kernel/debug").' % cluster_name)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing an operator should fix, and how."""

    # Stable identifier for scripts and tests, e.g. "no-local-node".
    code: str
    # What is wrong, naming the file, cluster or node.
    message: str
    # What to do about it.
    fix: str

    def __str__(self):
        return '%s %s' % (self.message, self.fix)


@dataclasses.dataclass(frozen=True)
class Readings:
    """What get_cluster_state() read: a value or the error, per source."""

    # uname -n, the name o2cb looks for among the node names.
    hostname: str
    # Paths read, for the messages.
    stack_path: str
    configfs_path: str
    conf_path: str
    # parse_cluster_stack() of /sys/fs/ocfs2/cluster_stack, or None.
    stack: str | None
    stack_error: Exception | None
    # read_registered_clusters() of configfs, or None.
    registered: tuple | None
    registered_error: Exception | None
    # parse_cluster_conf() of cluster.conf, or None.
    configured: tuple | None
    conf_error: Exception | None


def cluster_to_check(wanted, readings):
    """The cluster name to report on: wanted, registered, or configured."""
    if wanted:
        return wanted
    for clusters in (readings.registered, readings.configured):
        if clusters:
            return clusters[0].name
    return None


def mark_local(nodes, hostname):
    """Configured nodes with ``local`` set where the name is hostname."""
    return tuple(dataclasses.replace(node, local=node.name == hostname)
                 for node in nodes)


def _stack_problems(readings):
    error = readings.stack_error
    if isinstance(error, FileNotFoundError):
        return [Problem(
            'ocfs2-not-loaded',
            'The ocfs2 kernel modules are not loaded (%s is missing).'
            % readings.stack_path,
            'Start the o2cb service ("systemctl start o2cb"), or run '
            '"modprobe ocfs2_stack_o2cb".')]
    if error is not None:
        return [Problem('cluster-stack-unreadable',
                        'Cannot read the cluster stack: %s.' % error,
                        'Check that sysfs is mounted and readable.')]
    if readings.stack != 'o2cb':
        return [Problem(
            'unsupported-stack',
            'OCFS2 on this node uses the "%s" cluster stack (%s); '
            'cinder-ocfs2 supports only o2cb.'
            % (readings.stack, readings.stack_path),
            'Switch this node to the o2cb stack (o2cb.service and '
            '/etc/default/o2cb).')]
    return []


def _configfs_problems(readings):
    error = readings.registered_error
    if isinstance(error, FileNotFoundError):
        return [Problem(
            'o2cb-not-loaded',
            'There is no o2cb tree at %s: the o2cb modules are not loaded '
            'or configfs is not mounted.' % readings.configfs_path,
            'Start the o2cb service ("systemctl start o2cb") with '
            'O2CB_ENABLED=true in /etc/default/o2cb.')]
    if error is not None:
        return [Problem('configfs-unreadable',
                        'Cannot read the o2cb tree in configfs: %s.' % error,
                        'Check that configfs is mounted and readable.')]
    return []


def _conf_problems(readings, name, config, check_host):
    error = readings.conf_error
    if isinstance(error, FileNotFoundError):
        return [Problem(
            'cluster-conf-missing', '%s does not exist.' % readings.conf_path,
            'Copy the cluster.conf of the other nodes to this node.')]
    if isinstance(error, o2cb_parsers.O2CBParseError):
        return [Problem(
            'cluster-conf-invalid',
            '%s cannot be parsed: %s.' % (readings.conf_path, error),
            'Correct that line (o2cb writes "stanza:" lines followed by '
            'indented "key = value" lines) and keep the file identical on '
            'every node.')]
    if error is not None:
        return [Problem('cluster-conf-unreadable',
                        'Cannot read %s: %s.' % (readings.conf_path, error),
                        'Make it readable by the cinder user.')]
    if name and config is None:
        return [Problem(
            'cluster-not-configured',
            'Cluster %s is not in %s.' % (name, readings.conf_path),
            'Add it with "o2cb add-cluster %s" and its nodes with "o2cb '
            'add-node", or set ocfs2_cluster_name to a cluster of that file.'
            % name)]
    return _node_list_problems(readings, config, check_host) if config else []


def _duplicates(values):
    counts = collections.Counter(values)
    return sorted(str(value) for value, count in counts.items() if count > 1)


def _node_list_problems(readings, config, check_host):
    problems = []
    nodes = config.nodes
    duplicated = (_duplicates(node.number for node in nodes) +
                  _duplicates(node.name for node in nodes) +
                  _duplicates('%s:%d' % (node.address, node.port)
                              for node in nodes))
    if duplicated:
        problems.append(Problem(
            'cluster-conf-duplicate-nodes',
            'Cluster %s in %s gives several nodes the same number, name or '
            'address: %s.' % (config.name, readings.conf_path,
                              ', '.join(duplicated)),
            'Give every node its own number, name and address, in the '
            'same file on every node.'))
    if config.node_count != len(nodes):
        problems.append(Problem(
            'cluster-conf-node-count',
            'Cluster %s in %s declares node_count = %d but lists %d nodes.'
            % (config.name, readings.conf_path, config.node_count,
               len(nodes)),
            'Set node_count to the number of node stanzas (o2cb add-node '
            'and remove-node keep it right).'))
    if check_host and readings.hostname not in {node.name for node in nodes}:
        problems.append(Problem(
            'host-not-in-cluster-conf',
            'This host, %s, is not a node of cluster %s in %s, so o2cb '
            'cannot tell which node is local.'
            % (readings.hostname, config.name, readings.conf_path),
            'Name the node of this host after "uname -n" in cluster.conf '
            'on every node, or add it with "o2cb add-node %s %s --ip '
            'ADDRESS" on every node.' % (config.name, readings.hostname)))
    return problems


def _registration_problems(readings, wanted, kernel, config):
    registered = readings.registered
    if kernel is None and registered:
        return [Problem(
            'other-cluster-registered',
            'Cluster %s is registered on this node, not %s (the '
            'ocfs2_cluster_name option).' % (registered[0].name, wanted),
            'Set ocfs2_cluster_name = %s, or unmount the LUNs and run '
            '"o2cb unregister-cluster %s; o2cb register-cluster %s".'
            % (registered[0].name, registered[0].name, wanted))]
    if kernel is None:
        name = wanted or (config.name if config else 'CLUSTER')
        return [Problem(
            'cluster-not-registered',
            'No o2cb cluster is registered on this node, so no LUN can be '
            'mounted.',
            'Run "o2cb register-cluster %s", or set O2CB_BOOTCLUSTER=%s in '
            '/etc/default/o2cb and run "systemctl start o2cb".'
            % (name, name))]
    if kernel.local_node is None:
        return [Problem(
            'no-local-node',
            'Cluster %s is registered but none of its nodes (%s) is this '
            'host, %s.' % (kernel.name, ', '.join(
                node.name for node in kernel.nodes) or 'none',
                readings.hostname),
            'o2cb marks as local the node named like "uname -n": correct '
            'the names in cluster.conf on every node, unmount the LUNs and '
            'run "o2cb unregister-cluster %s; o2cb register-cluster %s".'
            % (kernel.name, kernel.name))]
    global_mode = kernel.heartbeat_mode is o2cb_parsers.HeartbeatMode.GLOBAL
    if global_mode and not kernel.regions:
        return [Problem(
            'global-heartbeat-stopped',
            'Cluster %s uses global heartbeat but no heartbeat region is '
            'running, so the cluster is offline.' % kernel.name,
            'Run "o2cb start-heartbeat %s"; if "o2cb list-heartbeats %s" '
            'is empty, add the heartbeat devices first with "o2cb '
            'add-heartbeat %s DEVICE" on every node.'
            % ((kernel.name,) * 3))]
    return []


def _differences(kernel_nodes, config_nodes):
    registered = {node.name: node for node in kernel_nodes}
    configured = {node.name: node for node in config_nodes}
    differences = []
    for name in sorted(set(registered) | set(configured)):
        running, written = registered.get(name), configured.get(name)
        if written is None:
            differences.append('%s is registered but not in cluster.conf'
                               % running)
        elif running is None:
            differences.append('%s is in cluster.conf but not registered'
                               % written)
        elif (running.number, running.address, running.port) != (
                written.number, written.address, written.port):
            differences.append('%s is registered as %s' % (written, running))
    return differences


def _drift_problems(readings, kernel, config):
    problems = []
    if kernel.heartbeat_mode is not config.heartbeat_mode:
        problems.append(Problem(
            'heartbeat-mode-differs',
            'Cluster %s runs %s heartbeat but %s says %s.'
            % (kernel.name, kernel.heartbeat_mode.value, readings.conf_path,
               config.heartbeat_mode.value),
            'Use one mode on all nodes: unmount the LUNs, run "o2cb '
            'heartbeat-mode %s MODE" on every node and register the '
            'cluster again.' % kernel.name))
    differences = _differences(kernel.nodes, config.nodes)
    if differences:
        problems.append(Problem(
            'nodes-differ-from-cluster-conf',
            'The nodes registered for cluster %s differ from %s: %s.'
            % (kernel.name, readings.conf_path, '; '.join(differences)),
            join_checklist(kernel.name)))
    return problems


# o2hb writes a heartbeat every 2 s (O2HB_REGION_TIMEOUT_MS).
HEARTBEAT_SECONDS = 2


def _dead_after(dead_threshold):
    if dead_threshold is None:
        return 'the dead threshold of missed 2 s heartbeats'
    return '%d missed heartbeats (%d x %d s = %d s)' % (
        dead_threshold, dead_threshold, HEARTBEAT_SECONDS,
        dead_threshold * HEARTBEAT_SECONDS)


def _not_live_problem(kernel, node):
    local_mode = kernel.heartbeat_mode is o2cb_parsers.HeartbeatMode.LOCAL
    message = (
        'Node %s of cluster %s is not live: this node sees no heartbeat '
        'from it. It is down or cut off from this node%s. o2hb declares a '
        'node dead after %s; the live nodes then recover its journal on '
        'every LUN it had mounted, and I/O to those LUNs blocks until that '
        'recovery ends.'
        % (node, kernel.name,
           ', or, as this cluster uses local heartbeat (a node heartbeats '
           'only on the LUNs it has mounted), it has none of the LUNs of '
           'this node mounted' if local_mode else '',
           _dead_after(kernel.dead_threshold)))
    fix = ('Check that %s is powered on and running, and that this node '
           'reaches it on the o2cb network at %s:%d (TCP; dmesg shows the '
           'o2net connection messages).%s The warning clears once it '
           'heartbeats again.'
           % (node.name, node.address, node.port,
              ' If it runs, mount the LUNs on it.' if local_mode else ''))
    return Problem('node-not-live', message, fix)


def liveness_problems(kernel, live_nodes):
    """A "node-not-live" Problem per other node o2hb does not see.

    ``kernel`` is the RegisteredCluster of an online cluster and
    ``live_nodes`` the parsed o2hb/livenodes, None when unknown (nothing
    is reported then). Without a running heartbeat region this node sees
    no node, so nothing is reported either.
    """
    if live_nodes is None or kernel is None or not kernel.regions:
        return []
    return [_not_live_problem(kernel, node) for node in kernel.nodes
            if not node.local and node.number not in live_nodes]


def find_problems(readings, wanted, name, kernel, config):
    """Every Problem of the cluster ``name``, worst first; [] if healthy.

    ``wanted`` is the ocfs2_cluster_name option (may be None); ``kernel``
    and ``config`` are that cluster's RegisteredCluster and ClusterConfig,
    or None. Checks that depend on an unreadable source are skipped: one
    cause, one problem.
    """
    problems = _stack_problems(readings) or _configfs_problems(readings)
    if readings.registered is not None and not problems:
        problems = _registration_problems(readings, wanted, kernel, config)
    # A registered cluster without a local node already says the host
    # name is wrong.
    check_host = kernel is None or kernel.local_node is not None
    problems = problems + _conf_problems(readings, name, config, check_host)
    if kernel is not None and config is not None:
        problems += _drift_problems(readings, kernel, config)
    return problems
