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

"""Pure parsers for what the o2cb cluster stack shows, and their records.

Text in, records out, no I/O: the readers live in ``cinder_ocfs2.o2cb``,
which is the module callers import. Sources:

* ``/sys/fs/ocfs2/cluster_stack``: ``parse_cluster_stack``;
* ``/etc/ocfs2/cluster.conf`` (also the output of ``o2cb list-cluster``,
  which prints the same stanzas): ``parse_cluster_conf``;
* the o2cb tree in configfs (``/sys/kernel/config/cluster/<name>/``), one
  small file per attribute: ``parse_registered_cluster`` takes the texts;
* ``/sys/kernel/debug/o2hb/livenodes`` (debugfs): ``parse_live_nodes``.

Every parser raises ``O2CBParseError`` quoting the source and the line.
"""

import dataclasses
import enum
import ipaddress
import re


class O2CBParseError(ValueError):
    """Text from an o2cb source that does not have the tools' layout."""

    def __init__(self, source, line, reason):
        super().__init__('%s: %s: %r' % (source, reason, line))
        self.source = source
        self.line = line
        self.reason = reason


class HeartbeatMode(enum.Enum):
    """How o2hb decides which nodes are alive (o2cb(7))."""

    # One heartbeat region per mounted filesystem, on that filesystem.
    LOCAL = 'local'
    # A few dedicated regions shared by every filesystem of the cluster.
    GLOBAL = 'global'


def _heartbeat_mode(value, source, line):
    try:
        return HeartbeatMode(value.strip())
    except ValueError:
        raise O2CBParseError(source, line,
                             'heartbeat mode is not local or global') from None


def _integer(value, source, line):
    try:
        return int(value.strip())
    except ValueError:
        raise O2CBParseError(source, line, 'not a number') from None


def _ipv4_address(value, source, line):
    try:
        return ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise O2CBParseError(source, line, 'not an IPv4 address') from None


# --- /sys/fs/ocfs2/cluster_stack

def parse_cluster_stack(text):
    """The cluster stack the ocfs2 module uses: "o2cb\\n" -> "o2cb"."""
    stack = text.strip()
    if not re.fullmatch(r'[a-z0-9]{1,4}', stack):
        raise O2CBParseError('cluster_stack', text,
                             'not a 4-character stack label')
    return stack


# --- /etc/ocfs2/cluster.conf and "o2cb list-cluster"

@dataclasses.dataclass(frozen=True)
class Node:
    """One node of an o2cb cluster."""

    # cluster.conf "number"; configfs node/<name>/num.
    number: int
    # cluster.conf "name"; configfs node directory name. o2cb marks the
    # node whose name equals this host's name as local when it registers.
    name: str
    # cluster.conf "ip_address"; configfs node/<name>/ipv4_address.
    address: ipaddress.IPv4Address
    # cluster.conf "ip_port"; configfs node/<name>/ipv4_port (o2net port).
    port: int
    # configfs node/<name>/local. cluster.conf does not say: the readers
    # set it for configured nodes by comparing the name with the host name.
    local: bool = False

    def __str__(self):
        return '%s (node %d, %s:%d)' % (self.name, self.number,
                                        self.address, self.port)


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """One cluster of /etc/ocfs2/cluster.conf with its nodes."""

    # "cluster:" stanza, "name".
    name: str
    # "cluster:" stanza, "heartbeat_mode" (absent in old files: local).
    heartbeat_mode: HeartbeatMode
    # "cluster:" stanza, "node_count" as written (o2cb keeps it in step).
    node_count: int
    # "node:" stanzas whose "cluster" is this cluster, in file order.
    nodes: tuple
    # "heartbeat:" stanzas, "region": UUIDs of global heartbeat devices.
    heartbeat_regions: tuple


_STANZA = re.compile(r'(\w+):\s*')
_ATTRIBUTE = re.compile(r'\s+(\w+)\s*=\s*(.*?)\s*')


def _conf_stanzas(text, source):
    """Split cluster.conf text into [(name, {key: value}, header line)].

    The layout o2cb writes: a stanza name at the start of a line followed
    by ":", then indented "key = value" lines; "#" starts a comment and a
    blank line ends the stanza.
    """
    stanzas, current = [], None
    for line in text.splitlines():
        if not line.strip():
            current = None
        elif line.lstrip().startswith('#'):
            continue
        elif not line[0].isspace():
            match = _STANZA.fullmatch(line)
            if not match:
                raise O2CBParseError(source, line, 'not a stanza name')
            current = {}
            stanzas.append((match.group(1), current, line))
        else:
            match = _ATTRIBUTE.fullmatch(line)
            if not match:
                raise O2CBParseError(source, line, 'not "key = value"')
            if current is None:
                raise O2CBParseError(source, line, 'attribute outside a '
                                                   'stanza')
            current[match.group(1)] = match.group(2)
    return stanzas


def _required(attributes, key, source, line):
    if not attributes.get(key):
        raise O2CBParseError(source, line, 'stanza has no "%s"' % key)
    return attributes[key]


def _conf_node(attributes, source, line):
    return Node(
        number=_integer(_required(attributes, 'number', source, line),
                        source, line),
        name=_required(attributes, 'name', source, line),
        address=_ipv4_address(
            _required(attributes, 'ip_address', source, line), source, line),
        port=_integer(_required(attributes, 'ip_port', source, line),
                      source, line))


def parse_cluster_conf(text, source='cluster.conf'):
    """Parse cluster.conf (or ``o2cb list-cluster`` output) into clusters.

    Example::

        cluster:
                name = labcluster
                heartbeat_mode = local
                node_count = 1

        node:
                cluster = labcluster
                number = 0
                ip_port = 7777
                ip_address = 198.51.100.11
                name = node1

    gives (ClusterConfig(name='labcluster', heartbeat_mode=LOCAL,
    node_count=1, nodes=(Node(0, 'node1', 198.51.100.11, 7777),),
    heartbeat_regions=()),). Unknown stanzas and keys are ignored, as
    o2cb ignores them.
    """
    clusters, nodes, regions = [], {}, {}
    for name, attributes, line in _conf_stanzas(text, source):
        if name == 'cluster':
            clusters.append((attributes, line))
            continue
        if name not in ('node', 'heartbeat'):
            continue
        cluster = _required(attributes, 'cluster', source, line)
        if name == 'node':
            nodes.setdefault(cluster, []).append(
                _conf_node(attributes, source, line))
        else:
            regions.setdefault(cluster, []).append(
                _required(attributes, 'region', source, line))
    result = []
    for attributes, line in clusters:
        name = _required(attributes, 'name', source, line)
        result.append(ClusterConfig(
            name=name,
            heartbeat_mode=_heartbeat_mode(
                attributes.get('heartbeat_mode', 'local'), source, line),
            node_count=_integer(attributes.get('node_count', '0'),
                                source, line),
            nodes=tuple(nodes.pop(name, ())),
            heartbeat_regions=tuple(regions.pop(name, ()))))
    for cluster in sorted(set(nodes) | set(regions)):
        raise O2CBParseError(source, cluster,
                             'node or heartbeat of an undeclared cluster')
    return tuple(result)


# --- configfs: /sys/kernel/config/cluster/<name>/

@dataclasses.dataclass(frozen=True)
class HeartbeatRegion:
    """A heartbeat region the kernel runs now (a live o2hb thread)."""

    # Directory name heartbeat/<UUID>: the filesystem UUID (local mode)
    # or the heartbeat device's UUID (global mode), 32 upper-case hex.
    uuid: str
    # heartbeat/<UUID>/dev: kernel name of the device, e.g. "sdc".
    device: str
    # heartbeat/<UUID>/block_bytes: sector size of the region.
    block_bytes: int
    # heartbeat/<UUID>/start_block: first block of the region.
    start_block: int
    # heartbeat/<UUID>/blocks: number of slots (one per possible node).
    blocks: int

    def __str__(self):
        return '%s on %s' % (self.uuid, self.device)


@dataclasses.dataclass(frozen=True)
class RegisteredCluster:
    """A cluster registered with the kernel (o2cb register-cluster)."""

    # Directory name cluster/<name>.
    name: str
    # heartbeat/mode; absent before Linux 2.6.37, which had only local.
    heartbeat_mode: HeartbeatMode
    # heartbeat/dead_threshold: missed 2 s beats before a node is dead.
    dead_threshold: int | None
    # node/<name>/...: the nodes the kernel knows, by number.
    nodes: tuple
    # heartbeat/<UUID>/...: regions with a running heartbeat thread.
    regions: tuple

    @property
    def local_node(self):
        """The node marked local, or None (hostname not a node name)."""
        return next((node for node in self.nodes if node.local), None)


def _attribute(attributes, name, directory):
    if name not in attributes:
        raise O2CBParseError(directory, name, 'attribute missing')
    return attributes[name].strip()


def _optional_integer(attributes, name, directory):
    if name not in attributes:
        return None
    return _integer(attributes[name], '%s/%s' % (directory, name),
                    attributes[name])


def _configfs_node(name, attributes, directory):
    source = '%s/node/%s' % (directory, name)

    def value(key):
        return _attribute(attributes, key, source)

    return Node(
        number=_integer(value('num'), source + '/num', value('num')),
        name=name,
        address=_ipv4_address(value('ipv4_address'),
                              source + '/ipv4_address',
                              value('ipv4_address')),
        port=_integer(value('ipv4_port'), source + '/ipv4_port',
                      value('ipv4_port')),
        local=_integer(value('local'), source + '/local',
                       value('local')) == 1)


def _configfs_region(uuid, attributes, directory):
    source = '%s/heartbeat/%s' % (directory, uuid)
    numbers = {key: _integer(_attribute(attributes, key, source),
                             '%s/%s' % (source, key), attributes[key])
               for key in ('block_bytes', 'start_block', 'blocks')}
    return HeartbeatRegion(uuid=uuid, device=attributes['dev'].strip(),
                           **numbers)


def parse_registered_cluster(name, heartbeat_attributes, node_attributes,
                             region_attributes):
    """Build a RegisteredCluster from the texts of its configfs files.

    ``heartbeat_attributes`` holds the files of cluster/<name>/heartbeat/,
    and the two mappings go from a node name or region UUID to its files,
    e.g. ``{'node1': {'num': '1\\n', 'ipv4_address': '198.51.100.11\\n',
    'ipv4_port': '7777\\n', 'local': '1\\n'}}``. A region whose ``dev``
    is empty has no heartbeat thread yet and is left out.
    """
    directory = 'cluster/%s' % name
    mode = heartbeat_attributes.get('mode', 'local')
    nodes = sorted((_configfs_node(node, attributes, directory)
                    for node, attributes in node_attributes.items()),
                   key=lambda node: node.number)
    regions = [_configfs_region(uuid, attributes, directory)
               for uuid, attributes in sorted(region_attributes.items())
               if attributes.get('dev', '').strip()]
    return RegisteredCluster(
        name=name,
        heartbeat_mode=_heartbeat_mode(mode, directory + '/heartbeat/mode',
                                       mode),
        dead_threshold=_optional_integer(
            heartbeat_attributes, 'dead_threshold', directory + '/heartbeat'),
        nodes=tuple(nodes),
        regions=tuple(regions))


# --- debugfs: /sys/kernel/debug/o2hb/livenodes

# o2nm node numbers are 0..254 (O2NM_MAX_NODES is 255).
MAX_NODE_NUMBER = 254


def parse_live_nodes(text, source='o2hb/livenodes'):
    """The node numbers o2hb sees heartbeating: "1 2 \\n" -> {1, 2}.

    The kernel prints the set bits of its live node map, each number
    followed by a space, then a newline; a map with no node gives "\\n".
    The per-region file ``o2hb/<UUID>/livenodes`` has the same layout.
    """
    numbers = set()
    for word in text.split():
        if (not re.fullmatch(r'[0-9]{1,3}', word)
                or int(word) > MAX_NODE_NUMBER):
            raise O2CBParseError(source, text.rstrip('\n'),
                                 'not a list of node numbers')
        numbers.add(int(word))
    return frozenset(numbers)
