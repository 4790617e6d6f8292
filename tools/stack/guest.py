# Copyright 2025 The cinder-ocfs2 Authors
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

"""cinder-volume and cinder-backup inside the lab guests.

Only the guests mount OCFS2, so the services that touch volume files run
there: cinder-volume on every node, as ONE backend served by one cinder
cluster (active-active), and cinder-backup on the first node.  They reach
MariaDB, RabbitMQ, Redis, keystone and glance on the host through qemu's
guestfwd (10.0.2.100:PORT in the guest is 127.0.0.1:PORT on the host).

The guests run the host's venv (the host's / is shared read-only); their
configuration goes into each node's /lab exchange folder.
"""

import os
import pathlib
import string

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import config

# The ports the guests use: MariaDB, RabbitMQ, Redis, keystone (and its
# token cache), glance.
PORT_VARIABLES = ('MYSQL_PORT', 'RABBIT_PORT', 'REDIS_PORT', 'KEYSTONE_PORT',
                  'MEMCACHED_PORT', 'GLANCE_PORT')
# One cinder cluster per o2cb cluster: its members serve the same LUNs.
CINDER_CLUSTER = config.CLUSTER_NAME
# Two backends over disjoint sets of LUNs, as a site with two classes of
# LUN (fast and bulk, say) runs them: each is a volume type, and a retype
# between them moves the file.  Both nodes serve both backends, each
# backend as one cinder cluster.  lun4 is mounted only while the services
# run (the walkthrough's hot-mount step); being listed in advance is all
# it needs.
BACKENDS = {'ocfs2': ('lun1', 'lun2', 'lun4'), 'ocfs2-b': ('lun3',)}
MOUNT_BASE = config.MOUNT_BASE
GUEST_ETC = '/lab/cinder'
# Backups land in the backup node's exchange folder: visible from the host,
# and outside the LUNs the driver owns.
BACKUP_PATH = '/lab/backups'
# The nodes' CPU is emulated (TCG), and its AVX, AVX2 and SSSE3
# instructions cost far more than plain x86-64 ones: OpenSSL's SHA-256
# took 3.7 s per 64 MiB in an idle node with them, 1.0 s without.
# cinder-backup hashes every 32 KiB block it backs up, cinder-volume
# checks the hash of each image it downloads.  (OpenSSL's capability
# mask: CPUID 1 ECX bits 28 and 9, CPUID 7 EBX bit 5.)
OPENSSL_PLAIN_X86_64 = "OPENSSL_ia32cap='~0x1000020000000000:~0x20'"
# cinder downloads an image here before writing it into a volume: the
# node's own disk (the lab's scratch disk, ext4), not the guest's root,
# which is RAM (a 1 GiB image did not fit).
CONVERSION_DIR = config.SCRATCH_MOUNT

BACKEND_SECTION = """
[{backend}]
volume_driver = cinder_ocfs2.driver.OCFS2Driver
volume_backend_name = {backend}
ocfs2_mount_point_base = {mount_base}
ocfs2_shares = {shares}
ocfs2_cluster_name = {o2cb_cluster}
# Volumes from an image already used on this backend are clones of a
# cached image-volume: reflinks on the cache's LUN.
image_volume_cache_enabled = true
# A backup of a volume in use reads a temporary snapshot (a reflink: one
# point in time, made at once) instead of a temporary clone; a backup of a
# snapshot reads the snapshot itself.
backup_use_temp_snapshot = true
"""

DEFAULT_EXTRA = """host = {node}
# The image-volume cache belongs to cinder's internal tenant.
cinder_internal_tenant_project_id = {internal_project}
cinder_internal_tenant_user_id = {internal_user}
graceful_shutdown_timeout = 10
cluster = {cluster}
enabled_backends = {backends}
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = {backup_path}
# The chunked backup drivers read a whole chunk into memory; the default
# (~1.9 GB for posix) does not fit in a lab guest.
backup_file_size = 67108864
# A raw image is downloaded whole before it is written into the volume:
# real disk space of the node's own, sized for the largest image.
image_conversion_dir = {conversion_dir}
# zlib costs as much CPU as the checksums (14 s per 64 MiB each in a busy
# TCG guest); the target folder is local and cheap to write.
backup_compression_algorithm = none
"""


# With Nova: nova-compute reaches placement, neutron and cinder, and
# cinder-volume reaches nova (volume-reimaged events).
NOVA_PORT_VARIABLES = ('PLACEMENT_PORT', 'NEUTRON_PORT', 'CINDER_PORT',
                       'NOVA_PORT')

# cinder-volume calls nova through the compute service's internal
# endpoint, which keystone_setup.py points at the guests' forward.
NOVA_SECTION = """
[nova]
interface = internal
region_name = RegionOne
token_auth_url = http://{services_ip}:{keystone_port}/v3
auth_type = password
auth_url = http://{services_ip}:{keystone_port}
project_domain_name = Default
user_domain_name = Default
project_name = service
username = cinder
password = {password}
"""


def nova_enabled(environ=os.environ):
    """True if the deployment runs Nova (tools/stack/lib.sh STACK_NOVA)."""
    return environ.get('STACK_NOVA', '1') == '1'


def forwarded_ports(environ=os.environ):
    """The host ports to forward into the guests, from the stack settings."""
    names = PORT_VARIABLES + (
        NOVA_PORT_VARIABLES if nova_enabled(environ) else ())
    return [int(environ[name]) for name in names]


class GuestCinder:
    """Configure, start and stop the cinder services of the lab guests."""

    def __init__(self, lab, tools_dir, environ=os.environ):
        self.lab = lab
        self.tools_dir = pathlib.Path(tools_dir)
        self.environ = environ
        self.spawned = []

    def _render(self, template, values):
        text = (self.tools_dir / 'etc' / template).read_text()
        return string.Template(text).substitute(values)

    def configure(self, node, node_address, internal_tenant, debug=False):
        """Write the node's cinder.conf and rootwrap.conf into /lab/cinder.

        :param internal_tenant: (project id, user id) of cinder's internal
            tenant, which owns the image-volume cache.
        """
        values = dict(self.environ)
        values.update(
            SERVICES_IP=config.FORWARD_HOST_ADDRESS,
            CINDER_MY_IP=node_address,
            CINDER_STATE_PATH='/var/lib/cinder', CINDER_ETC=GUEST_ETC,
            CINDER_DEBUG='true' if debug else 'false',
            CINDER_EXTRA_DEFAULT=DEFAULT_EXTRA.format(
                node=node, cluster=CINDER_CLUSTER,
                backends=','.join(BACKENDS), backup_path=BACKUP_PATH,
                conversion_dir=CONVERSION_DIR,
                internal_project=internal_tenant[0],
                internal_user=internal_tenant[1]),
            CINDER_EXTRA_SECTIONS=''.join(
                BACKEND_SECTION.format(
                    backend=backend, mount_base=MOUNT_BASE,
                    shares=','.join(shares),
                    o2cb_cluster=config.CLUSTER_NAME)
                for backend, shares in BACKENDS.items()) + (
                NOVA_SECTION.format(
                    services_ip=config.FORWARD_HOST_ADDRESS,
                    keystone_port=self.environ['KEYSTONE_PORT'],
                    password=self.environ['STACK_PASSWORD'])
                if nova_enabled(self.environ) else ''))
        etc = self.lab.exchange_dir(node) / 'cinder'
        etc.mkdir(parents=True, exist_ok=True)
        (etc / 'cinder.conf').write_text(
            self._render('cinder.conf.in', values))
        (etc / 'rootwrap.conf').write_text(
            self._render('rootwrap.conf.in', values))
        (self.lab.exchange_dir(node) / 'backups').mkdir(exist_ok=True)

    def start(self, node, binary):
        """Start binary (cinder-volume, cinder-backup) in node."""
        venv = self.environ['STACK_VENV']
        line = ('mkdir -p /var/lib/cinder/locks && PATH=%s/bin:$PATH '
                '%s exec %s/bin/%s --config-file %s/cinder.conf'
                % (venv, OPENSSL_PLAIN_X86_64, venv, binary, GUEST_ETC))
        return self.spawn(node, line, binary)

    def spawn(self, node, line, log_name):
        """Start a service in node; stop() ends it, newest first."""
        spawned = self.lab.spawn(node, line, log_name=log_name)
        self.spawned.append(spawned)
        return spawned

    def to_json(self):
        """The spawned services, for restore() in another process."""
        return [{'node': s.node, 'name': s.name, 'pid': s.pid,
                 'log': str(s.log), 'exit_file': str(s.exit_file)}
                for s in self.spawned]

    def restore(self, records):
        """Take over services another process started (to_json())."""
        self.spawned = [agent.Spawned(
            node=r['node'], name=r['name'], pid=r['pid'],
            log=pathlib.Path(r['log']),
            exit_file=pathlib.Path(r['exit_file'])) for r in records]

    def running(self, spawned):
        """True if spawned still runs in its guest (by its PID there)."""
        if spawned.exit_code() is not None:
            return False
        return self.lab.run(spawned.node, 'kill -0 %d' % spawned.pid,
                            timeout=15).exit_code == 0

    def dead(self):
        """The spawned services that have exited, with their exit codes."""
        return [(s, s.exit_code()) for s in self.spawned
                if s.exit_code() is not None]

    def stop(self, timeout=30, names=None):
        """Stop the services started here (or those named); return them.

        Newest first: SIGTERM to its process group (by the recorded
        PID), SIGKILL what is left after timeout seconds.
        """
        chosen = [s for s in self.spawned if names is None or s.name in names]
        for spawned in reversed(chosen):
            if spawned.exit_code() is None:
                if self.lab.stop(spawned, 'TERM', timeout) is None:
                    self.lab.stop(spawned, 'KILL', 10)
        self.spawned = [s for s in self.spawned if s not in chosen]
        return chosen

    def log_lines(self, node, binary):
        """The lines a service of node has logged so far."""
        path = self.lab.exchange_dir(node) / 'logs' / ('%s.log' % binary)
        with open(path, encoding='utf-8', errors='replace') as log:
            return log.readlines()

    def log_paths(self):
        return [s.log for s in self.spawned]
