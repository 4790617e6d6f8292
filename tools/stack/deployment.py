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

"""The whole deployment, up and down again.

``Deployment.up()``: the host's stack (tools/stack/stack up) starts while
the two-node lab boots with forwards to the host's services (and a disk of
its own per node for cinder's image conversions); then cinder-volume
starts on both nodes (two backends, each one cinder cluster) and
cinder-backup on node1, and it waits until all of them report up.
``Deployment.down()`` stops everything in reverse, whatever state it is
in, by recorded PID, and copies the guests' logs next to the host's.

The walkthrough and tempest use ``deployed()``, both around one with
block.  tools/demo calls them from two processes: ``up`` leaves
everything running (the VMs are daemonized qemu, the host services run in
sessions of their own, the guest services under the guests' agents) and
records the guest services in ``<state>/demo.json`` (``to_json()``);
``down`` takes them over again with ``attach()``.
"""

import contextlib
import logging
import os
import pathlib
import signal
import subprocess
import sys
import time

import compute
import guest
from transcript import StepFailed

from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors as lab_errors
from cinder_ocfs2.tests.functional.lab import lab as lab_module

NODES = tuple((node.name, node.address) for node in config.NODES)
WANTED_SERVICES = {('cinder-volume', '%s@%s' % (node, backend))
                   for node, _ in NODES for backend in guest.BACKENDS}
WANTED_SERVICES.add(('cinder-backup', 'node1'))
WANTED_COMPUTES = {('nova-compute', node) for node, _ in NODES}
SERVICE_START_TIMEOUT = 900
# Each poll is one CLI call (~1.5 s of CPU the guests need); a progress
# line is printed at every poll.
SERVICE_POLL_INTERVAL = 15
# The lab's own progress (boot, mkfs, mounts, power-off) is logged here.
LAB_LOGGER = 'cinder_ocfs2.tests.functional.lab'
# One type per backend (tempest needs these), and a second type of the
# first backend for a retype in place: the types the walkthrough uses and
# the demo offers.
BACKEND_TYPES = {backend: backend for backend in guest.BACKENDS}
GOLD_TYPE = 'ocfs2-gold'
VOLUME_TYPES = dict(BACKEND_TYPES, **{GOLD_TYPE: 'ocfs2'})


def lab_run_dir(environ=os.environ):
    return pathlib.Path(environ['STACK_STATE']) / 'lab'


class Deployment:
    """The lab, the host's stack and the guests' cinder services."""

    def __init__(self, t, tools_dir, environ=os.environ, lab=None):
        self.t = t
        self.tools_dir = pathlib.Path(tools_dir)
        self.environ = environ
        self.logs = pathlib.Path(environ['STACK_LOGS'])
        self.lab = lab or lab_module.Lab(run_dir=lab_run_dir(environ))
        self.services = guest.GuestCinder(self.lab, self.tools_dir, environ)
        self.nova = guest.nova_enabled(environ)
        self.compute = compute.GuestCompute(self.lab, self.services,
                                            self.tools_dir, environ)
        self._stack_up = None

    # --- up

    def check_nothing_running(self):
        """Refuse to start beside (and then tear down) a running lab."""
        running = self.lab.run_folder.running_vms()
        if running:
            raise StepFailed(
                'the lab of a deployment is running in %s (qemu PIDs %s): '
                'stop it first (tools/demo down)' % (
                    self.lab.paths.run_dir,
                    ', '.join(str(vm.pid) for vm in running)))

    def up(self):
        """Bring everything up; raise on failure (then call down())."""
        with lab_progress(self.t):
            self.t.section('stack up on the host while the two-node lab '
                           'boots')
            self.t.write('$ %s up\n' % self.stack_command())
            self._stack_up = subprocess.Popen([self.stack_command(), 'up'])
            # 8 GiB LUNs (sparse files on the host): tempest's backup tests
            # restore fully written volumes, and with 2 GiB LUNs a restore
            # onto ocfs2-b's single LUN ran out of space beside the other
            # tests.  Each node's conversion disk holds the largest image
            # cinder downloads (the walkthrough's is 2 GiB).
            self.lab.up(
                luns=4, mounted=('lun1', 'lun2', 'lun3'),
                forwards=guest.forwarded_ports(self.environ),
                # nova-compute, libvirtd and a server's qemu: ~400 MiB.
                memory_mb=2048 if self.nova else 1536,
                lun_size_mb=int(self.environ.get('STACK_LUN_MB', '8192')),
                scratch_mb=int(self.environ.get('STACK_CONVERSION_MB',
                                                '4096')))
            if self._stack_up.poll() is None:
                self.t.note('lab up; waiting for stack up')
            if self._stack_up.wait() != 0:
                raise StepFailed('stack up failed (logs in %s)' % self.logs)
        self.start_guest_services()

    def stack_command(self):
        return str(self.tools_dir / 'stack')

    def start_guest_services(self):
        t = self.t
        t.section('cinder-volume on node1 and node2, cinder-backup on node1')
        # cinder's internal tenant: the service project and the cinder user.
        internal_tenant = (
            t.run_json(['openstack', 'project', 'show', 'service'],
                       quiet=True)['id'],
            t.run_json(['openstack', 'user', 'show', 'cinder'],
                       quiet=True)['id'])
        for node, address in NODES:
            self.services.configure(node, address, internal_tenant)
            t.note('%s: %s' % (node, self.services.start(node,
                                                         'cinder-volume')))
        t.note('node1: %s' % self.services.start('node1', 'cinder-backup'))
        if self.nova:
            for node, address in NODES:
                self.compute.configure(node, address)
                t.note('%s: %s' % (node, ', '.join(
                    str(s) for s in self.compute.start(node))))
        t.note('importing cinder under TCG takes a minute or more per '
               'process; guest logs: %s'
               % ', '.join(str(path) for path in self.services.log_paths()))
        self.wait_for_guest_services()
        if self.nova:
            self.wait_for_computes()

    def fail_if_any_exited(self):
        dead = self.services.dead()
        if dead:
            raise StepFailed('guest service(s) exited: %s' % ', '.join(
                '%s (exit %s, log %s)' % (s, code, s.log)
                for s, code in dead))

    def wait_for_guest_services(self):
        t = self.t
        started = time.monotonic()
        while True:
            self.fail_if_any_exited()
            rows = t.run_json(['openstack', 'volume', 'service', 'list'],
                              quiet=True)
            up = {(r['Binary'], r['Host']) for r in rows
                  if r['State'] == 'up'}
            elapsed = time.monotonic() - started
            if WANTED_SERVICES <= up:
                break
            if elapsed > SERVICE_START_TIMEOUT:
                raise StepFailed('guest services not up after %ds: missing '
                                 '%s' % (SERVICE_START_TIMEOUT,
                                         _names(WANTED_SERVICES - up)))
            t.note('%4.0fs: %d of %d guest services up%s; waiting for %s'
                   % (elapsed, len(WANTED_SERVICES & up),
                      len(WANTED_SERVICES),
                      ' (%s)' % _names(WANTED_SERVICES & up)
                      if WANTED_SERVICES & up else '',
                      _names(WANTED_SERVICES - up)))
            time.sleep(SERVICE_POLL_INTERVAL)
        t.note('guest services up %.0fs after start'
               % (time.monotonic() - started))

    def wait_for_computes(self):
        """Both nova-computes up, then mapped into cell1."""
        t = self.t
        started = time.monotonic()
        while True:
            self.fail_if_any_exited()
            rows = t.run_json(['openstack', 'compute', 'service', 'list',
                               '--service', 'nova-compute'], quiet=True)
            up = {(r['Binary'], r['Host']) for r in rows
                  if r['State'] == 'up'}
            # A compute's node record (what discover_hosts maps) comes
            # shortly after its service reports.
            hypervisors = {('nova-compute', r['Hypervisor Hostname'])
                           for r in t.run_json(['openstack', 'hypervisor',
                                                'list'], quiet=True)}
            if WANTED_COMPUTES <= up & hypervisors:
                break
            if time.monotonic() - started > SERVICE_START_TIMEOUT:
                raise StepFailed('nova-compute not up after %ds: missing '
                                 '%s' % (SERVICE_START_TIMEOUT,
                                         _names(WANTED_COMPUTES - up)))
            t.note('%4.0fs: waiting for %s' % (
                time.monotonic() - started, _names(WANTED_COMPUTES - up)))
            time.sleep(SERVICE_POLL_INTERVAL)
        t.note('nova-compute up on both nodes %.0fs later'
               % (time.monotonic() - started))
        # An unmapped compute gets no servers.
        t.run(['nova-manage', '--config-file',
               os.path.join(self.environ['STACK_STATE'], 'etc', 'nova',
                            'nova.conf'),
               'cell_v2', 'discover_hosts', '--verbose'],
              env=dict(self.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1'))

    # --- down

    def down(self):
        """Stop what runs, newest first, by recorded PID; never raises."""
        t = self.t
        t.section('tear down')
        with lab_progress(t):
            if self.services.spawned:
                t.note('stopping %s' % ', '.join(
                    str(s) for s in reversed(self.services.spawned)))
                try:
                    self.services.stop()
                except Exception as err:  # keep tearing down
                    t.note('stopping the guest services: %s' % err)
            if self._stack_up is not None:
                self._stack_up.wait()  # never stop services half started
            t.write('$ %s down\n' % self.stack_command())
            subprocess.run([self.stack_command(), 'down'])
            self.lab.down()
            self.collect_guest_logs()

    def collect_guest_logs(self):
        """Copy the guests' service logs and consoles to logs/guests."""
        for node, _ in NODES:
            dest = self.logs / 'guests' / node
            sources = list((self.lab.exchange_dir(node) / 'logs').glob(
                '*.log'))
            sources.append(self.lab.console_log(node))
            for source in sources:
                if source.exists():
                    dest.mkdir(parents=True, exist_ok=True)
                    (dest / source.name).write_bytes(source.read_bytes())
        self.t.note('guest logs copied to %s/guests' % self.logs)

    # --- across processes (tools/demo)

    def to_json(self):
        return {'lab_run_dir': str(self.lab.paths.run_dir),
                'guest_services': self.services.to_json()}

    @classmethod
    def attach(cls, t, tools_dir, environ=os.environ, record=None):
        """The deployment another process brought up (to_json()).

        Works on whatever is left: with the lab gone, there are no guest
        services to stop; with no record, the host's stack and the lab
        are still found by their own PID files.
        """
        run_dir = pathlib.Path(record['lab_run_dir']) if record else (
            lab_run_dir(environ))
        try:
            lab = lab_module.Lab.attach(run_dir=run_dir)
        except lab_errors.LabNotRunning:
            lab = lab_module.Lab(run_dir=run_dir)
        deployment = cls(t, tools_dir, environ, lab=lab)
        if record and lab.nodes_up:
            deployment.services.restore(record['guest_services'])
        return deployment


def create_volume_types(cloud, types=VOLUME_TYPES):
    for name, backend in types.items():
        cloud.openstack('volume', 'type', 'create', '--property',
                        'volume_backend_name=%s' % backend, name)


def exit_on_sigterm():
    """SIGTERM (a CI timeout, kill) unwinds like an error: tear down."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


@contextlib.contextmanager
def deployed(t, tools_dir, environ=os.environ):
    """Yield (lab, services) with every service up; always tear down."""
    exit_on_sigterm()
    deployment = Deployment(t, tools_dir, environ)
    deployment.check_nothing_running()
    try:
        deployment.up()
        yield deployment.lab, deployment.services
    finally:
        deployment.down()


class _TranscriptHandler(logging.Handler):

    def __init__(self, t):
        super().__init__(logging.INFO)
        self.t = t

    def emit(self, record):
        try:
            self.t.note('lab: %s' % record.getMessage())
        except Exception:  # never let a progress line break the work
            self.handleError(record)


@contextlib.contextmanager
def lab_progress(t):
    """Print the lab's progress (its INFO log lines) in the transcript."""
    logger = logging.getLogger(LAB_LOGGER)
    handler = _TranscriptHandler(t)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _names(services):
    return ', '.join('%s %s' % (binary, host)
                     for binary, host in sorted(services))
