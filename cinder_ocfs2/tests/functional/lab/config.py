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

"""Where the lab keeps its files, and what a lab is made of.

Two folders, both overridable from the environment:

- the cache (``CINDER_OCFS2_LAB_CACHE``, default
  ``/var/cache/cinder-ocfs2-lab``): the guest kernel and initramfs, kept
  across runs;
- the run folder (``CINDER_OCFS2_LAB_RUN``, default
  ``/var/tmp/cinder-ocfs2-lab/run``): one lab's LUN images, sockets, state
  file and per-node exchange folders, recreated by every ``up``.
"""

import dataclasses
import enum
import os
import pathlib

CACHE_ENV = 'CINDER_OCFS2_LAB_CACHE'
RUN_ENV = 'CINDER_OCFS2_LAB_RUN'
DEFAULT_CACHE_DIR = '/var/cache/cinder-ocfs2-lab'
DEFAULT_RUN_DIR = '/var/tmp/cinder-ocfs2-lab/run'

CLUSTER_NAME = 'labcluster'
# Where a site mounts its LUNs; the mount directory's name is the pool name.
MOUNT_BASE = '/var/lib/cinder/ocfs2'
# A disk of each node's own (not shared), formatted ext4 at every up and
# mounted here at boot: where a site keeps cinder's image_conversion_dir,
# on real disk space rather than the guest's RAM-backed root.
SCRATCH_MOUNT = '/var/lib/cinder/conversion'
# Its virtio serial (/dev/disk/by-id/virtio-scratch) and file system label.
SCRATCH_SERIAL = 'scratch'
# The only address a guest may reach on its forwarding NIC: qemu's user
# network turns a connection to it into one to 127.0.0.1 on the host.
FORWARD_HOST_ADDRESS = '10.0.2.100'
FORWARD_GUEST_ADDRESS = '10.0.2.15'
CLUSTER_PREFIX_LENGTH = 24
O2CB_PORT = 7777
# Mount options a site puts in fstab; mount.ocfs2 adds the rest.
MOUNT_OPTIONS = '_netdev,heartbeat=%s'


class Heartbeat(enum.Enum):
    """o2cb heartbeat mode: per-mount regions or cluster-wide regions."""

    LOCAL = 'local'
    GLOBAL = 'global'


@dataclasses.dataclass(frozen=True)
class Node:
    """One guest of the two-node cluster."""

    # Host name and o2cb node name (o2cb matches the two).
    name: str
    # o2cb node number in cluster.conf.
    number: int
    # Address on the private VM-to-VM link.
    address: str
    # MAC of the VM-to-VM NIC and of the optional forwarding NIC; the guest
    # finds its interfaces by MAC since it has no udev.
    cluster_mac: str
    forward_mac: str

    def __str__(self):
        return self.name


NODES = (
    Node('node1', 1, '198.51.100.11',
         cluster_mac='52:54:00:4c:01:01', forward_mac='52:54:00:4c:02:01'),
    Node('node2', 2, '198.51.100.12',
         cluster_mac='52:54:00:4c:01:02', forward_mac='52:54:00:4c:02:02'),
)


def node_named(name):
    """Return the Node called name, or raise ValueError listing the names."""
    for node in NODES:
        if node.name == name:
            return node
    raise ValueError('unknown node %r; the nodes are %s'
                     % (name, ', '.join(n.name for n in NODES)))


def lun_name(index):
    """LUN names are lun1, lun2... (also the serial, label and pool name)."""
    return 'lun%d' % index


@dataclasses.dataclass(frozen=True)
class LabSpec:
    """What ``Lab.up()`` builds."""

    # Number of shared LUNs (sparse raw images), lun1..lunN.
    luns: int = 4
    # Size of each LUN in MiB.
    lun_size_mb: int = 2048
    # LUNs mounted on both nodes at up; None means all but the last.
    mounted: tuple = None
    heartbeat: Heartbeat = Heartbeat.LOCAL
    # Host TCP ports a guest reaches at FORWARD_HOST_ADDRESS:PORT.
    forwards: tuple = ()
    # Guest memory.
    memory_mb: int = 1536
    # Size in MiB of each node's own scratch disk (a sparse file on the
    # host, ext4, mounted at SCRATCH_MOUNT); 0 for none.
    scratch_mb: int = 0

    def __post_init__(self):
        object.__setattr__(self, 'heartbeat', Heartbeat(self.heartbeat))
        object.__setattr__(self, 'forwards',
                           tuple(int(p) for p in self.forwards))
        if self.mounted is None:
            mounted = self.lun_names[:-1]
        else:
            mounted = tuple(self.mounted)
        object.__setattr__(self, 'mounted', mounted)
        self._validate()

    def _validate(self):
        if not 1 <= self.luns <= 16:
            raise ValueError('luns must be 1..16, not %r' % self.luns)
        if self.lun_size_mb < 256:
            raise ValueError('a LUN needs at least 256 MiB for 4 journals')
        unknown = set(self.mounted) - set(self.lun_names)
        if unknown:
            raise ValueError('cannot mount %s: the LUNs are %s'
                             % (sorted(unknown), ', '.join(self.lun_names)))
        for port in self.forwards:
            if not 0 < port < 65536:
                raise ValueError('bad port to forward: %r' % port)
        if self.memory_mb < 256:
            raise ValueError('memory_mb must be at least 256')
        if self.scratch_mb and self.scratch_mb < 64:
            raise ValueError('scratch_mb must be 0 (no scratch disk) or at '
                             'least 64, not %r' % self.scratch_mb)

    @property
    def lun_names(self):
        return tuple(lun_name(i) for i in range(1, self.luns + 1))

    @property
    def heartbeat_luns(self):
        """LUNs holding global heartbeat regions (o2cb wants 1 to 3+)."""
        return self.lun_names[:3]

    def to_json(self):
        data = dataclasses.asdict(self)
        data['heartbeat'] = self.heartbeat.value
        data['mounted'] = list(self.mounted)
        data['forwards'] = list(self.forwards)
        return data


@dataclasses.dataclass(frozen=True)
class Paths:
    """The lab's two folders."""

    cache_dir: pathlib.Path
    run_dir: pathlib.Path

    @classmethod
    def from_env(cls, cache_dir=None, run_dir=None, environ=None):
        environ = os.environ if environ is None else environ
        return cls(
            cache_dir=pathlib.Path(
                cache_dir or environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR),
            run_dir=pathlib.Path(
                run_dir or environ.get(RUN_ENV) or DEFAULT_RUN_DIR))

    def node_dir(self, node):
        return self.run_dir / str(node)

    def exchange_dir(self, node):
        """Host side of the guest's /lab folder."""
        return self.node_dir(node) / 'lab'

    def lun_image(self, name):
        return self.run_dir / ('%s.img' % name)

    def scratch_image(self, node):
        """The node's own scratch disk (not shared with the other)."""
        return self.run_dir / ('scratch-%s.img' % node)

    @property
    def state_file(self):
        return self.run_dir / 'state.json'

    @property
    def cluster_socket(self):
        return self.run_dir / 'cluster.sock'


def check_fresh_path(path):
    """A host folder to mount uncached in the guests, resolved."""
    path = pathlib.Path(path).resolve()
    if not path.is_dir() or ':' in str(path):
        raise ValueError('fresh path %s must be a folder without ":"' % path)
    return path
