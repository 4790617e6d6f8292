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

"""The walkthrough's deployment, left running to be used by hand.

``up``: the deployment of the walkthrough (deployment.py: the lab, the
host's services, cinder-volume and cinder-backup in the guests) and its
volume types, then an openrc for the admin in the state folder.  Then it
returns and everything keeps running; if anything fails on the way, it
tears down what it started.  ``status``: one line per host service, VM
and guest service, then ``openstack volume service list``.  ``down``:
stops everything ``up`` started, by recorded PID, and checks that no
process of theirs is left.  Run it through tools/demo.
"""

import datetime
import functools
import json
import os
import pathlib
import shlex
import subprocess
import sys
import time
import traceback

import deployment
import guest
from openstack_cli import Cloud
from transcript import StepFailed
from transcript import Transcript

from cinder_ocfs2.tests.functional.lab import vm

USAGE = 'usage: tools/demo up|status|down'
# Flushed at once: stack status writes to the same stdout.
say = functools.partial(print, flush=True)
# What `openstack --os-volume-api-version` the walkthrough uses: attachments,
# revert to snapshot and reimage need microversions above 3.0.
VOLUME_API_VERSION = '3.70'
OPENRC_VARIABLES = ('OS_AUTH_URL', 'OS_IDENTITY_API_VERSION', 'OS_USERNAME',
                    'OS_PASSWORD', 'OS_PROJECT_NAME', 'OS_USER_DOMAIN_NAME',
                    'OS_PROJECT_DOMAIN_NAME', 'OS_REGION_NAME')
EXAMPLES = (
    'openstack volume service list',
    'openstack volume type list',
    'openstack volume create --size 1 --type ocfs2 v1',
    'openstack volume snapshot create --volume v1 s1',
    'openstack volume create --size 1 --snapshot s1 v1-from-s1',
    'openstack volume create --size 1 --image ocfs2-test-image v2',
    'cinder get-pools --detail',
)


class Demo:

    def __init__(self, environ=os.environ):
        self.environ = environ
        self.tools = pathlib.Path(__file__).resolve().parent
        self.state = pathlib.Path(environ['STACK_STATE'])
        self.logs = pathlib.Path(environ['STACK_LOGS'])
        self.record_path = self.state / 'demo.json'
        self.openrc = self.state / 'openrc'
        self.logs.mkdir(parents=True, exist_ok=True)
        self.t = Transcript(self.logs / 'demo.log')

    # --- up

    def up(self):
        started = time.monotonic()
        deployment.exit_on_sigterm()
        self.t.section('tools/demo up: the walkthrough\'s deployment, left '
                       'running')
        cloud = deployment.Deployment(self.t, self.tools, self.environ)
        try:
            cloud.check_nothing_running()
        except StepFailed as err:
            self.t.write('\nDEMO NOT STARTED: %s\n' % err)
            return 1
        done = False
        try:
            cloud.up()
            self.t.section('volume types')
            deployment.create_volume_types(Cloud(self.t))
            self.write_record(cloud, started)
            self.write_openrc()
            done = True
        except StepFailed as err:
            self.t.write('\nDEMO NOT UP: %s\n' % err)
        except Exception as err:  # a bug, or the lab failing
            self.t.write(traceback.format_exc())
            self.t.write('\nDEMO NOT UP: %s: %s\n'
                         % (type(err).__name__, err))
        finally:
            if not done:  # also on Ctrl-C and SIGTERM
                cloud.down()
                self.forget()
        if not done:
            return 1
        self.t.section('demo up in %.0fs' % (time.monotonic() - started))
        self.t.write(self.welcome())
        return 0

    def write_record(self, cloud, started):
        record = dict(cloud.to_json(),
                      started=datetime.datetime.now().isoformat(
                          timespec='seconds'),
                      up_seconds=round(time.monotonic() - started),
                      openrc=str(self.openrc))
        tmp = self.record_path.with_suffix('.tmp')
        tmp.write_text(json.dumps(record, indent=1))
        os.rename(tmp, self.record_path)

    def write_openrc(self):
        env = self.environ
        lines = ['# The admin of the cinder-ocfs2 demo (tools/demo up, %s).'
                 % datetime.datetime.now().isoformat(timespec='seconds'),
                 '# source %s' % self.openrc,
                 'case ":$PATH:" in',
                 '    *:%s/bin:*) ;;' % env['STACK_VENV'],
                 '    *) export PATH=%s/bin:$PATH ;;'
                 % shlex.quote(env['STACK_VENV']),
                 'esac']
        lines += ['export %s=%s' % (name, shlex.quote(env[name]))
                  for name in OPENRC_VARIABLES]
        lines.append('export OS_VOLUME_API_VERSION=%s' % VOLUME_API_VERSION)
        lines.append('export PYTHONWARNINGS=ignore::DeprecationWarning')
        self.openrc.write_text('\n'.join(lines) + '\n')
        self.openrc.chmod(0o600)

    def welcome(self):
        lines = [
            'The demo runs: keystone, glance, cinder-api and '
            'cinder-scheduler on 127.0.0.1',
            '(ports %s, %s, %s), cinder-volume on node1 and node2, '
            'cinder-backup on node1.' % (
                self.environ['KEYSTONE_PORT'], self.environ['GLANCE_PORT'],
                self.environ['CINDER_PORT']),
            'Volume types: %s.' % ', '.join(deployment.VOLUME_TYPES),
        ]
        if guest.nova_enabled(self.environ):
            lines += [
                'Nova: nova-api (port %s), nova-conductor, nova-scheduler, '
                'placement (%s) and neutron (%s) on 127.0.0.1,'
                % (self.environ['NOVA_PORT'], self.environ['PLACEMENT_PORT'],
                   self.environ['NEUTRON_PORT']),
                'libvirtd and nova-compute on node1 and node2.  No image '
                'or flavor for servers yet: the walkthrough',
                'makes its boot-sector images (tools/stack/servers.py); '
                'servers need --nic none.',
            ]
        lines += [
            '',
            'Credentials (admin): %s' % self.openrc,
            '',
            '    source %s' % self.openrc,
        ]
        lines += ['    %s' % example for example in EXAMPLES]
        lines += [
            '',
            'Logs: %s (host), %s/guests after down; while up, the guests\' '
            'logs are in %s/<node>/lab/logs.' % (
                self.logs, self.logs, deployment.lab_run_dir(self.environ)),
            'tools/demo status shows what runs; tools/demo down stops it '
            'all.',
        ]
        return '\n'.join(lines) + '\n'

    def read_record(self):
        try:
            return json.loads(self.record_path.read_text())
        except FileNotFoundError:
            return None

    def forget(self):
        for path in (self.record_path, self.openrc):
            path.unlink(missing_ok=True)

    # --- status

    def status(self):
        """Print what runs; 0 if everything does, else 3."""
        record = self.read_record()
        say('host services (tools/stack/stack status):')
        ok = subprocess.run([str(self.tools / 'stack'), 'status'],
                            stderr=subprocess.DEVNULL).returncode == 0
        cloud = deployment.Deployment.attach(self.t, self.tools,
                                             self.environ, record)
        say('lab VMs (%s):' % cloud.lab.paths.run_dir)
        nodes = cloud.lab.status().nodes
        for node in nodes:
            ok = ok and node.running and node.agent_ready
            mounts = ' '.join(line.split()[1].rpartition('/')[2]
                              for line in node.ocfs2_mounts)
            say('%-18s %s  qemu pid %s, agent %s, %s, ocfs2 %s' % (
                node.name, 'running' if node.running else 'stopped',
                node.pid, 'ready' if node.agent_ready else 'not answering',
                node.o2cb or 'o2cb unknown', mounts or 'not mounted'))
        if not nodes:
            say('%-18s stopped' % 'lab')
            ok = False
        say('guest services:')
        if not record:
            say('%-18s none recorded (%s): the demo is not up'
                % ('-', self.record_path))
            ok = False
        for spawned in record['guest_services'] if record else ():
            running = bool(cloud.lab.nodes_up) and self._guest_running(
                cloud, spawned)
            ok = ok and running
            say('%-18s %s  pid %s in %s, log %s' % (
                '%s %s' % (spawned['node'], spawned['name']),
                'running' if running else 'stopped', spawned['pid'],
                spawned['node'], spawned['log']))
        say('openstack volume service list:')
        try:
            self.t.run(['openstack', 'volume', 'service', 'list'],
                       timeout=60)
        except StepFailed as err:
            say('  (no answer: %s)' % err)
            ok = False
        if record:
            say('up since %s (came up in %ss); credentials: source %s'
                % (record['started'], record['up_seconds'],
                   record['openrc']))
        return 0 if ok else 3

    @staticmethod
    def _guest_running(cloud, spawned):
        for item in cloud.services.spawned:
            if item.node == spawned['node'] and item.pid == spawned['pid']:
                try:
                    return cloud.services.running(item)
                except Exception:  # the agent does not answer
                    return False
        return False

    # --- down

    def down(self):
        started = time.monotonic()
        self.t.section('tools/demo down')
        record = self.read_record()
        if record is None:
            self.t.note('no %s: stopping whatever the PID files of the '
                        'stack and the lab name' % self.record_path)
        cloud = deployment.Deployment.attach(self.t, self.tools,
                                             self.environ, record)
        before = demo_processes(self.recorded_pids(cloud),
                                relay_command_lines(self.environ))
        self.t.note('%d processes belong to the demo on the host'
                    % len(before))
        cloud.down()
        self.forget()
        left = still_running(before)
        self.t.section('demo down in %.0fs' % (time.monotonic() - started))
        if left:
            self.t.write('still running:\n' + ''.join(
                '  %s %s\n' % (pid, cmd) for pid, cmd in sorted(left)))
            return 1
        self.t.note('none of those %d processes is left (ps checked by PID '
                    'and start time)' % len(before))
        return 0

    def recorded_pids(self, cloud):
        """The PIDs the stack's and the lab's PID files record."""
        pids = set()
        for pidfile in pathlib.Path(self.environ['STACK_RUN']).glob('*.pid'):
            try:
                pids.add(int(pidfile.read_text().split()[0]))
            except (ValueError, IndexError, OSError):
                continue
        pids.update(vm.pid for vm in cloud.lab.run_folder.recorded_vms())
        return pids


def process_table():
    """{pid: (ppid, session, state, start time, command line)}."""
    table = {}
    for entry in pathlib.Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / 'stat').read_text()
            cmdline = (entry / 'cmdline').read_bytes()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        table[int(entry.name)] = (
            int(fields[1]), int(fields[3]), fields[0], fields[19],
            cmdline.replace(b'\0', b' ').decode(errors='replace').strip())
    return table


def relay_command_lines(environ):
    """The command lines of the relays of the guests' forwarded ports."""
    return {'%s nc 127.0.0.1 %d' % (vm.BUSYBOX, port)
            for port in guest.forwarded_ports(environ)}


def demo_processes(roots, relays=()):
    """{pid: start time} of the demo's processes on the host, to check.

    The roots (recorded PIDs), their sessions and their descendants: the
    host services run in sessions of their own (setsid), qemu too
    (-daemonize).  qemu starts a relay per guest connection in a session
    of its own, whose parent is then init: those are found by their
    command lines (relays).  Only looked at, never signalled.
    """
    table = process_table()
    found = {pid for pid in roots if pid in table}
    found.update(pid for pid, row in table.items()
                 if row[1] in roots or (row[0] == 1 and row[4] in relays))
    grew = True
    while grew:
        children = {pid for pid, row in table.items()
                    if row[0] in found and pid not in found}
        found |= children
        grew = bool(children)
    return {pid: table[pid][3] for pid in found}


def still_running(before):
    """(pid, command line) of the processes of before that still run."""
    table = process_table()
    return [(pid, table[pid][4]) for pid, start in before.items()
            if pid in table and table[pid][3] == start
            and table[pid][2] != 'Z']


def main(argv):
    if len(argv) != 2 or argv[1] not in ('up', 'status', 'down'):
        say(USAGE, file=sys.stderr)
        return 2
    return getattr(Demo(), argv[1])()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
