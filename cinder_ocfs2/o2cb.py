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

"""The o2cb cluster of this node, as typed read-only records.

Two questions, one function each:

* ``get_cluster_state()``: is the cluster healthy, and what is wrong if
  not? It reads only small files (``/sys/fs/ocfs2/cluster_stack``, the o2cb
  tree in configfs, ``/etc/ocfs2/cluster.conf`` and, when debugfs is
  mounted and readable, ``/sys/kernel/debug/o2hb/livenodes``), never runs
  a command, and
  never raises for a broken cluster: every fault becomes a ``Problem`` an
  operator can act on. The driver calls it on every stats refresh.
* ``scan_devices()``: which OCFS2 filesystems are on this node's devices,
  with UUID, label and the nodes mounting each. It runs ``mounted.ocfs2``
  twice as root (through ``cinder_ocfs2.privsep``), so it is for the status
  command and start-up checks, not for every call.

Where the o2cb state lives (``o2cb(7)``, ``fs/ocfs2/cluster/`` in Linux):

* ``o2cb register-cluster`` copies the cluster and its nodes from
  cluster.conf into configfs and marks as local the node whose name is
  this host's name. Later edits of cluster.conf change nothing until the
  nodes are added online (``o2cb add-node``) or the cluster is registered
  again, which is how nodes disagree after a node is added or removed.
* A heartbeat region runs while a filesystem is mounted (local mode: one
  region per filesystem, named by its UUID) or from ``o2cb
  start-heartbeat`` (global mode: the configured heartbeat devices). The
  cluster is online when it is registered with a local node and, in global
  mode, at least one region runs (``o2cb cluster-status``).
* o2hb keeps the map of the nodes it sees heartbeating on any region this
  node runs, shown only in debugfs (``o2hb/livenodes``, root only). A node
  drops out of it after ``dead_threshold`` missed 2 s beats; the live
  nodes then recover its journal.

Parsers and their records are in ``cinder_ocfs2.o2cb_parsers``, the
checks in ``cinder_ocfs2.o2cb_checks`` and the device scan in
``cinder_ocfs2.o2cb_devices``; the names callers need are imported here.
"""

import dataclasses
import enum
import os
import re

from cinder_ocfs2 import o2cb_checks
from cinder_ocfs2 import o2cb_devices
from cinder_ocfs2 import o2cb_parsers

# The records and errors callers need, so that they import only this module.
ClusterConfig = o2cb_parsers.ClusterConfig
DeviceScan = o2cb_devices.DeviceScan
HeartbeatMode = o2cb_parsers.HeartbeatMode
HeartbeatRegion = o2cb_parsers.HeartbeatRegion
Node = o2cb_parsers.Node
O2CBParseError = o2cb_parsers.O2CBParseError
OCFS2Device = o2cb_devices.OCFS2Device
Problem = o2cb_checks.Problem
RegisteredCluster = o2cb_parsers.RegisteredCluster
scan_devices = o2cb_devices.scan_devices

SYSFS_ROOT = '/sys'
ETC_ROOT = '/etc'
# configfs is normally mounted at <sysfs root>/kernel/config, debugfs at
# <sysfs root>/kernel/debug.
CONFIGFS_SUBDIRECTORY = os.path.join('kernel', 'config')
DEBUGFS_SUBDIRECTORY = os.path.join('kernel', 'debug')

_UUID = re.compile(r'[0-9A-F]{32}')


class ClusterStatus(enum.Enum):
    """How far the o2cb cluster of this node is up."""

    # Registered, this node is in it, heartbeat running: LUNs can mount.
    ONLINE = 'online'
    # The stack answers, but the cluster is not registered, has no local
    # node, is on another stack or (global mode) has no heartbeat.
    OFFLINE = 'offline'
    # The kernel side cannot be read: modules not loaded, configfs not
    # mounted, or files the parsers do not understand.
    UNKNOWN = 'unknown'


@dataclasses.dataclass(frozen=True)
class ClusterState:
    """Health of the o2cb cluster on this node, from get_cluster_state()."""

    # ocfs2_cluster_name, else the registered cluster, else the only one
    # in cluster.conf; None when there is none.
    name: str | None
    # Derived from the fields below, as "o2cb cluster-status" does.
    status: ClusterStatus
    # /sys/fs/ocfs2/cluster_stack, e.g. "o2cb"; None when unreadable.
    stack: str | None
    # configfs cluster/<name>/heartbeat/mode when registered, else
    # cluster.conf "heartbeat_mode"; None when neither is known.
    heartbeat_mode: HeartbeatMode | None
    # configfs cluster/<name>/heartbeat/dead_threshold, None if unknown.
    dead_threshold: int | None
    # configfs cluster/<name>/node/* when registered, else the nodes of
    # cluster.conf (local where the name is this host's name).
    nodes: tuple
    # configfs cluster/<name>/heartbeat/<UUID>: running regions.
    live_regions: tuple
    # Everything an operator should fix, worst first; () when healthy.
    problems: tuple
    # The host name o2cb matches against node names (uname -n).
    hostname: str
    # debugfs o2hb/livenodes: numbers of the nodes this node sees
    # heartbeating; None when unknown (not root, debugfs not mounted).
    live_nodes: frozenset | None = None
    # Why live_nodes is None, for the operator; None when known.
    live_nodes_unknown: str | None = None

    @property
    def online(self):
        return self.status is ClusterStatus.ONLINE

    @property
    def local_node(self):
        return next((node for node in self.nodes if node.local), None)

    @property
    def live_region_uuids(self):
        return tuple(region.uuid for region in self.live_regions)

    def region_for(self, filesystem):
        """The live heartbeat region of a filesystem, or None.

        ``filesystem`` is its UUID, in any case and with or without dashes
        (mounted.ocfs2 -d, blkid), or its device as a kernel name ("sdc")
        or a path ("/dev/mapper/mpatha", resolved to "dm-3" with
        os.path.realpath). In global mode all filesystems of the cluster
        share the global regions, so any running region is returned.
        """
        if self.heartbeat_mode is HeartbeatMode.GLOBAL:
            return next(iter(self.live_regions), None)
        uuid = filesystem.replace('-', '').upper()
        if _UUID.fullmatch(uuid):
            return next((region for region in self.live_regions
                         if region.uuid == uuid), None)
        if filesystem.startswith('/'):
            filesystem = os.path.basename(os.path.realpath(filesystem))
        return next((region for region in self.live_regions
                     if region.device == filesystem), None)

    def is_live(self, node):
        """Whether o2hb sees ``node`` heartbeating; None if unknown."""
        if self.live_nodes is None:
            return None
        return node.number in self.live_nodes

    @property
    def live_node_names(self):
        """Names of the live nodes in node number order, None if unknown."""
        if self.live_nodes is None:
            return None
        return tuple(node.name for node in self.nodes
                     if node.number in self.live_nodes)

    def has_live_heartbeat(self, filesystem):
        """True if ``filesystem`` (a UUID or device) is heartbeating."""
        return self.region_for(filesystem) is not None

    def __str__(self):
        mode = self.heartbeat_mode.value if self.heartbeat_mode else '?'
        return ('o2cb cluster %(name)s: %(status)s, %(mode)s heartbeat, '
                '%(nodes)d nodes, %(regions)d live regions' %
                {'name': self.name or '(none)', 'status': self.status.value,
                 'mode': mode, 'nodes': len(self.nodes),
                 'regions': len(self.live_regions)})


# --- readers: one file or one directory of configfs each

def _read_text(path):
    with open(path, encoding='utf-8', errors='surrogateescape') as source:
        return source.read()


def read_cluster_stack(sysfs_root=SYSFS_ROOT):
    """Text of /sys/fs/ocfs2/cluster_stack (missing: ocfs2 not loaded)."""
    return _read_text(os.path.join(sysfs_root, 'fs', 'ocfs2',
                                   'cluster_stack'))


def read_cluster_conf(etc_root=ETC_ROOT):
    """Text of /etc/ocfs2/cluster.conf."""
    return _read_text(os.path.join(etc_root, 'ocfs2', 'cluster.conf'))


def read_live_nodes(debugfs_root):
    """Text of <debugfs>/o2hb/livenodes (root only, debugfs mounted)."""
    return _read_text(os.path.join(debugfs_root, 'o2hb', 'livenodes'))


def read_configfs_attributes(directory):
    """{file name: text} for the attribute files of one configfs item.

    An item can vanish while it is read (o2cb remove-node, a heartbeat
    stopping at umount): a missing directory gives {} and a file that
    disappears is left out.
    """
    attributes = {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return attributes
    for entry in entries:
        if entry.is_file():
            try:
                attributes[entry.name] = _read_text(entry.path)
            except FileNotFoundError:
                continue
    return attributes


def _subdirectories(directory):
    try:
        return sorted(entry.name for entry in os.scandir(directory)
                      if entry.is_dir())
    except FileNotFoundError:
        return []


def read_registered_clusters(configfs_root):
    """The clusters registered in configfs, as RegisteredCluster records.

    Raises FileNotFoundError when <configfs_root>/cluster is absent (o2cb
    modules not loaded or configfs not mounted), and O2CBParseError.
    """
    base = os.path.join(configfs_root, 'cluster')
    names = sorted(entry.name for entry in os.scandir(base) if entry.is_dir())
    clusters = []
    for name in names:
        directory = os.path.join(base, name)
        heartbeat = os.path.join(directory, 'heartbeat')
        clusters.append(o2cb_parsers.parse_registered_cluster(
            name,
            read_configfs_attributes(heartbeat),
            {node: read_configfs_attributes(os.path.join(directory, 'node',
                                                         node))
             for node in _subdirectories(os.path.join(directory, 'node'))},
            {region: read_configfs_attributes(os.path.join(heartbeat, region))
             for region in _subdirectories(heartbeat)}))
    return tuple(clusters)


# --- the cluster's health, for every stats refresh

def _load(reader, parser, *args):
    """(parsed value, None) or (None, the error) for one source."""
    try:
        return parser(reader(*args)), None
    except (OSError, O2CBParseError) as error:
        return None, error


def _identity(value):
    return value


def _live_nodes(debugfs_root, root_reader=None):
    """(frozenset, None) from o2hb/livenodes, or (None, why unknown).

    :param root_reader: reads the file as root (cinder_ocfs2.privsep) when
        this process may not; None to not try.
    """
    path = os.path.join(debugfs_root, 'o2hb', 'livenodes')
    nodes, error = _load(read_live_nodes, o2cb_parsers.parse_live_nodes,
                         debugfs_root)
    if isinstance(error, PermissionError) and root_reader is not None:
        try:
            return o2cb_parsers.parse_live_nodes(root_reader()), None
        except Exception as err:  # privsep can fail in many ways
            return None, ('%s can only be read by root, and reading it '
                          'through privsep failed: %s' % (path, err))
    if isinstance(error, FileNotFoundError):
        return None, ('%s does not exist (debugfs not mounted at %s, or '
                      'the o2cb modules not loaded)' % (path, debugfs_root))
    if isinstance(error, PermissionError):
        return None, '%s can only be read by root' % path
    if error is not None:
        return None, 'cannot read %s: %s' % (path, error)
    return nodes, None


def get_cluster_state(cluster_name=None, *, sysfs_root=SYSFS_ROOT,
                      configfs_root=None, debugfs_root=None, etc_root=ETC_ROOT,
                      hostname=None, root_reader=None):
    """Return the ClusterState of this node. Never raises for bad state.

    Reads /sys/fs/ocfs2/cluster_stack, the configfs o2cb tree,
    cluster.conf and debugfs o2hb/livenodes: a few dozen small reads, no
    subprocess. ``cluster_name`` is the ocfs2_cluster_name option (None:
    the registered cluster). The roots let tests and ``cinder-ocfs2-status
    --root`` read a copied tree; ``root_reader`` reads o2hb/livenodes as
    root when this process may not (the driver passes privsep's).
    """
    if configfs_root is None:
        configfs_root = os.path.join(sysfs_root, CONFIGFS_SUBDIRECTORY)
    if debugfs_root is None:
        debugfs_root = os.path.join(sysfs_root, DEBUGFS_SUBDIRECTORY)
    stack, stack_error = _load(read_cluster_stack,
                               o2cb_parsers.parse_cluster_stack, sysfs_root)
    registered, registered_error = _load(read_registered_clusters,
                                         _identity, configfs_root)
    configured, conf_error = _load(read_cluster_conf,
                                   o2cb_parsers.parse_cluster_conf, etc_root)
    readings = o2cb_checks.Readings(
        hostname=hostname or os.uname().nodename,
        stack_path=os.path.join(sysfs_root, 'fs', 'ocfs2', 'cluster_stack'),
        configfs_path=os.path.join(configfs_root, 'cluster'),
        conf_path=os.path.join(etc_root, 'ocfs2', 'cluster.conf'),
        stack=stack, stack_error=stack_error,
        registered=registered, registered_error=registered_error,
        configured=configured, conf_error=conf_error)
    name = o2cb_checks.cluster_to_check(cluster_name, readings)
    kernel = next((cluster for cluster in registered or ()
                   if cluster.name == name), None)
    config = next((cluster for cluster in configured or ()
                   if cluster.name == name), None)
    problems = o2cb_checks.find_problems(readings, cluster_name, name,
                                         kernel, config)
    if config is not None:
        config = dataclasses.replace(config, nodes=o2cb_checks.mark_local(
            config.nodes, readings.hostname))
    # The kernel's view when registered, else what cluster.conf says.
    source = kernel or config
    status = _status(stack, registered, kernel)
    live_nodes, live_unknown = _live_nodes(debugfs_root, root_reader)
    if status is ClusterStatus.ONLINE:
        problems += o2cb_checks.liveness_problems(kernel, live_nodes)
    return ClusterState(
        name=name, status=status, stack=stack,
        heartbeat_mode=source.heartbeat_mode if source else None,
        dead_threshold=kernel.dead_threshold if kernel else None,
        nodes=source.nodes if source else (),
        live_regions=kernel.regions if kernel else (),
        problems=tuple(problems), hostname=readings.hostname,
        live_nodes=live_nodes, live_nodes_unknown=live_unknown)


def _status(stack, registered, kernel):
    """ClusterStatus as "o2cb cluster-status" decides, plus the stack."""
    if stack is None or registered is None:
        return ClusterStatus.UNKNOWN
    if (stack == 'o2cb' and kernel is not None and kernel.local_node
            and (kernel.heartbeat_mode is HeartbeatMode.LOCAL
                 or kernel.regions)):
        return ClusterStatus.ONLINE
    return ClusterStatus.OFFLINE
