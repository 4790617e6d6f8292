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

"""The whole deployment, up and (always) down again.

The host's stack (tools/stack/stack up) starts while the two-node lab
boots with forwards to the host's services; then cinder-volume starts on
both nodes (one backend, one cinder cluster) and cinder-backup on node1.
``deployed()`` tears everything down in reverse, whatever happened, and
copies the guests' logs next to the host's.
"""

import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import time

import guest
from transcript import StepFailed

from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import lab as lab_module

NODES = tuple((node.name, node.address) for node in config.NODES)
WANTED_SERVICES = {('cinder-volume', '%s@%s' % (node, backend))
                   for node, _ in NODES for backend in guest.BACKENDS}
WANTED_SERVICES.add(('cinder-backup', 'node1'))
SERVICE_START_TIMEOUT = 900


@contextlib.contextmanager
def deployed(t, tools_dir, environ=os.environ):
    """Yield (lab, services) with every service up; always tear down."""
    tools_dir = pathlib.Path(tools_dir)
    logs = pathlib.Path(environ['STACK_LOGS'])
    stack = [str(tools_dir / 'stack')]
    lab = lab_module.Lab(run_dir=pathlib.Path(environ['STACK_STATE']) / 'lab')
    services = guest.GuestCinder(lab, tools_dir, environ)
    stack_up = None
    # SIGTERM (a CI timeout, kill) must tear down as well.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    try:
        t.section('stack up on the host while the two-node lab boots')
        t.write('$ %s up\n' % stack[0])
        stack_up = subprocess.Popen(stack + ['up'])
        # 8 GiB LUNs (sparse files on the host): tempest's backup tests
        # restore fully written volumes, and with 2 GiB LUNs a restore onto
        # ocfs2-b's single LUN ran out of space beside the other tests.
        lab.up(luns=4, mounted=('lun1', 'lun2', 'lun3'),
               forwards=guest.forwarded_ports(environ), memory_mb=1536,
               lun_size_mb=int(environ.get('STACK_LUN_MB', '8192')))
        for name, seconds in lab.timings:
            t.note('lab: %-40s %6.1fs' % (name, seconds))
        if stack_up.wait() != 0:
            raise StepFailed('stack up failed (logs in %s)' % logs)
        start_guest_services(t, services)
        yield lab, services
    finally:
        t.section('tear down')
        try:
            services.stop()
        except Exception as err:  # keep tearing down
            t.note('stopping the guest services: %s' % err)
        if stack_up is not None:
            stack_up.wait()  # never stop services half started
        subprocess.run(stack + ['down'])
        lab.down()
        collect_guest_logs(t, lab, logs)


def start_guest_services(t, services):
    t.section('cinder-volume on node1 and node2, cinder-backup on node1')
    # cinder's internal tenant: the service project and the cinder user.
    internal_tenant = (
        t.run_json(['openstack', 'project', 'show', 'service'],
                   quiet=True)['id'],
        t.run_json(['openstack', 'user', 'show', 'cinder'],
                   quiet=True)['id'])
    for node, address in NODES:
        services.configure(node, address, internal_tenant)
        t.note('%s: %s' % (node, services.start(node, 'cinder-volume')))
    t.note('node1: %s' % services.start('node1', 'cinder-backup'))
    t.note('importing cinder under TCG takes a minute or more per process')
    started = time.monotonic()
    while True:
        dead = services.dead()
        if dead:
            raise StepFailed('guest service(s) exited: %s' % ', '.join(
                '%s (exit %s, log %s)' % (s, code, s.log) for s, code in dead))
        rows = t.run_json(['openstack', 'volume', 'service', 'list'],
                          quiet=True)
        up = {(r['Binary'], r['Host']) for r in rows if r['State'] == 'up'}
        if WANTED_SERVICES <= up:
            break
        if time.monotonic() - started > SERVICE_START_TIMEOUT:
            raise StepFailed('guest services not up after %ds: missing %s'
                             % (SERVICE_START_TIMEOUT,
                                sorted(WANTED_SERVICES - up)))
        time.sleep(15)  # each CLI call costs ~1.5 s of CPU
    t.note('guest services up %.0fs after start'
           % (time.monotonic() - started))


def collect_guest_logs(t, lab, logs_dir):
    """Copy the guests' service logs and consoles to logs_dir/guests."""
    for node, _ in NODES:
        dest = pathlib.Path(logs_dir) / 'guests' / node
        sources = list((lab.exchange_dir(node) / 'logs').glob('*.log'))
        sources.append(lab.console_log(node))
        for source in sources:
            if source.exists():
                dest.mkdir(parents=True, exist_ok=True)
                (dest / source.name).write_bytes(source.read_bytes())
    t.note('guest logs copied to %s/guests' % logs_dir)
