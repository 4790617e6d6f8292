# Copyright 2026 The cinder-ocfs2 Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""libvirtd and nova-compute inside the lab guests.

nova's libvirt driver hands a volume of this driver to the hypervisor as
the file cinder names (``nova/virt/libvirt/volume/gpfs.py``: a ``<disk
type='file'>``, no mount of its own), so the hypervisor runs where the
LUNs are mounted: in the nodes, as qemu under TCG inside a TCG guest.

The nodes run the host's binaries (libvirt from Debian, nova from the
stack's venv) with configuration of their own: /etc/libvirt is written
into each node's RAM overlay; nova.conf goes to /lab/nova.  libvirtd
listens on the private VM-to-VM link, where live migration runs
(qemu+tcp, no TLS, no auth: nothing else is on that link).
"""

import os
import pathlib
import string
import uuid

from cinder_ocfs2.tests.functional.lab import config

GUEST_ETC = '/lab/nova'
# What start() spawns in a node, by the names its logs carry.
LIBVIRTD = 'libvirtd'
NOVA_COMPUTE = 'nova-compute'
SERVICE_NAMES = (LIBVIRTD, NOVA_COMPUTE)
NOVA_STATE = '%s/nova' % config.SCRATCH_MOUNT

# qemu.conf: the nodes have no libvirt-qemu user (no libvirt-daemon-system
# package), no cgroup controllers to spare and nothing to confine.  qemu
# writes the serial log itself (no virtlogd).
QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""

# libvirtd resolves its compiled-in qemu user and group (Debian's
# libvirt-qemu, made by libvirt-daemon-system's postinst) before it reads
# qemu.conf: the accounts must exist, in the node's /etc only.
QEMU_ACCOUNTS = (
    "(getent group libvirt-qemu >/dev/null || "
    "echo 'libvirt-qemu:x:64055:' >>/etc/group) && "
    "(getent group kvm >/dev/null || echo 'kvm:x:64056:' >>/etc/group) && "
    "(getent passwd libvirt-qemu >/dev/null || echo "
    "'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' "
    ">>/etc/passwd)")

# libvirtd.conf: TCP on the private link for live migration, and a host
# UUID of the node's own (both nodes boot the same root, so the same
# /etc/machine-id: libvirt would refuse a migration "to the same host").
LIBVIRTD_CONF = """listen_tls = 0
listen_tcp = 1
auth_tcp = "none"
listen_addr = "{address}"
host_uuid = "{host_uuid}"
unix_sock_group = "root"
log_outputs = "3:stderr"
"""


def host_uuid(node):
    """A stable UUID per node name."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, 'cinder-ocfs2-lab-%s' % node))


class GuestCompute:
    """Configure and start libvirtd and nova-compute in the lab guests.

    The processes are started through ``services`` (guest.GuestCinder), so
    they are recorded, stopped (newest first) and taken over by another
    process (tools/demo) with the cinder services.
    """

    def __init__(self, lab, services, tools_dir, environ=os.environ):
        self.lab = lab
        self.services = services
        self.tools_dir = pathlib.Path(tools_dir)
        self.environ = environ

    def configure(self, node, node_address):
        """Write the node's nova.conf, qemu.conf and libvirtd.conf."""
        values = dict(self.environ)
        values.update(NODE=node, NODE_PRIVATE_IP=node_address,
                      NODE_SCRATCH=config.SCRATCH_MOUNT,
                      GUEST_ETC=GUEST_ETC,
                      GUEST_FORWARD_IP=config.FORWARD_HOST_ADDRESS)
        template = (self.tools_dir / 'etc' / 'nova-compute.conf.in')
        etc = self.lab.exchange_dir(node) / 'nova'
        etc.mkdir(parents=True, exist_ok=True)
        (etc / 'nova.conf').write_text(
            string.Template(template.read_text()).substitute(values))
        (etc / 'qemu.conf').write_text(QEMU_CONF)
        (etc / 'libvirtd.conf').write_text(LIBVIRTD_CONF.format(
            address=node_address, host_uuid=host_uuid(node)))

    def start(self, node):
        """Start libvirtd, then nova-compute (it waits for libvirt)."""
        self.lab.run(node, 'mkdir -p /etc/libvirt %s/instances %s/locks '
                     '&& cp %s/qemu.conf /etc/libvirt/qemu.conf && %s'
                     % (NOVA_STATE, NOVA_STATE, GUEST_ETC, QEMU_ACCOUNTS),
                     check=True)
        libvirtd = self.services.spawn(
            node, 'exec libvirtd --listen -f %s/libvirtd.conf' % GUEST_ETC,
            LIBVIRTD)
        venv = self.environ['STACK_VENV']
        compute = self.services.spawn(
            node, 'PATH=%s/bin:$PATH exec %s/bin/nova-compute '
            '--config-file %s/nova.conf' % (venv, venv, GUEST_ETC),
            NOVA_COMPUTE)
        return libvirtd, compute
