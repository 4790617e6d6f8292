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


"""What the functional tests share: one lab, driver servers, figures.

The lab (two VMs) boots once per test run, on first use, and powers off
when the test process exits (atexit), also after failures. Set
CINDER_OCFS2_LAB_REUSE=1 to use a lab already started with
``tools/ocfs2-lab up`` and leave it running.

If the lab cannot boot, every test fails with the reason: these tests are
never skipped because the machine lacks something.
"""

import atexit
import itertools
import json
import os
import sys
import threading
import time
import uuid

import testtools

from cinder_ocfs2.tests.functional.lab import lab as lab_mod

NODES = ('node1', 'node2')
BASE = '/var/lib/cinder/ocfs2'
# The lab's LUNs: lun1-lun3 are mounted at start, lun4 is kept for the
# test that mounts a LUN while the driver runs.
MOUNTED_AT_START = ('lun1', 'lun2', 'lun3')
SPARE_LUN = 'lun4'
SERVER_START_TIMEOUT = 600
CALL_TIMEOUT = 600

_session_lock = threading.Lock()
_session = {}


class RemoteDriverError(Exception):
    """The driver in a guest raised; carries the exception's class name."""

    def __init__(self, node, response):
        super().__init__('%s on %s: %s' % (response['error'], node,
                                           response['message']))
        self.error = response['error']
        self.message = response['message']
        self.remote_traceback = response.get('traceback')


class DriverClient:
    """Calls the OCFS2Driver running in one lab node."""

    def __init__(self, lab, node):
        self.lab, self.node = lab, node
        self.host_dir = os.path.join(str(lab.exchange_dir(node)), 'driver')
        self._counter = itertools.count(1)
        self.process = None
        # Volume id -> admin metadata the driver recorded, from the last
        # call that took the volume.
        self.recorded = {}

    def start(self):
        os.makedirs(self.host_dir, exist_ok=True)
        for name in os.listdir(self.host_dir):
            os.unlink(os.path.join(self.host_dir, name))
        self.process = self.lab.spawn(
            self.node, '%s -m cinder_ocfs2.tests.functional.driver_server '
            '/lab/driver' % sys.executable, log_name='driver-server',
            env={'PYTHONUNBUFFERED': '1'})

    def wait_ready(self, timeout=SERVER_START_TIMEOUT):
        ready = os.path.join(self.host_dir, 'ready.json')
        deadline = time.monotonic() + timeout
        while not os.path.exists(ready):
            if self.process.exit_code() is not None:
                raise RuntimeError('the driver server on %s exited with %s; '
                                   'see %s' % (self.node,
                                               self.process.exit_code(),
                                               self.log_path()))
            if time.monotonic() > deadline:
                raise RuntimeError('the driver server on %s did not start '
                                   'in %d s' % (self.node, timeout))
            time.sleep(0.5)

    def log_path(self):
        return os.path.join(self.host_dir, 'server.log')

    def server_log(self, since=0):
        """The server's log, from byte offset `since` on."""
        with open(self.log_path(), errors='replace') as log:
            log.seek(since)
            return log.read()

    def log_size(self):
        """Where the next line of the server's log will start."""
        return os.path.getsize(self.log_path())

    def call(self, method, *args, config=None, timeout=CALL_TIMEOUT):
        """Call a driver method in the guest.

        Each argument is a pair: ('volume', spec), ('snapshot', spec),
        ('context', None), ('image_service', {'path': guest path,
        'disk_format': ...}) or ('value', plain JSON value).
        """
        number = next(self._counter)
        request = os.path.join(self.host_dir, 'req-%d.json' % number)
        with open(request + '.tmp', 'w') as out:
            json.dump({'method': method, 'args': list(args),
                       'config': config}, out)
        os.rename(request + '.tmp', request)
        response_path = os.path.join(self.host_dir, 'resp-%d.json' % number)
        deadline = time.monotonic() + timeout
        while not os.path.exists(response_path):
            if time.monotonic() > deadline:
                raise RuntimeError('%s on %s: no answer in %d s' % (
                    method, self.node, timeout))
            time.sleep(0.05)
        with open(response_path) as answer:
            response = json.load(answer)
        if not response['ok']:
            raise RemoteDriverError(self.node, response)
        self.recorded.update(response.get('admin_metadata') or {})
        return response['result'], response['seconds']


def volume_spec(pool, size=1, **extra):
    spec = {'id': str(uuid.uuid4()), 'size': size, 'pool': pool,
            'provider_location': None}
    spec.update(extra)
    return spec


def snapshot_spec(volume):
    return {'id': str(uuid.uuid4()), 'volume': dict(volume)}


def figures_path():
    return os.environ.get('CINDER_OCFS2_FIGURES') or os.path.join(
        lab_mod.config.Paths.from_env().run_dir, 'functional-figures.txt')


def record(check, text):
    """Append a figure to the run's report (printed after the run)."""
    with open(figures_path(), 'a') as report:
        report.write('%-44s %s\n' % (check, text))


def session():
    """The lab and the driver clients, started once per process."""
    with _session_lock:
        if 'error' in _session:
            raise RuntimeError('the lab failed to start earlier: %s'
                               % _session['error'])
        if 'lab' not in _session:
            try:
                _start_session()
            except BaseException as err:
                _session['error'] = repr(err)
                _stop_session()
                raise
        return _session['lab'], _session['clients']


def _start_session():
    started = time.monotonic()
    if os.environ.get('CINDER_OCFS2_LAB_REUSE'):
        lab = lab_mod.Lab.attach()
    else:
        lab = lab_mod.Lab()
        _session['owned'] = True
        atexit.register(_stop_session)
        lab.up(luns=4, mounted=list(MOUNTED_AT_START),
               lun_size_mb=int(os.environ.get('CINDER_OCFS2_LAB_LUN_MB',
                                              2048)))
    _session['lab'] = lab
    record('lab up (2 nodes, 3 of 4 LUNs mounted)',
           '%.1f s' % (time.monotonic() - started))
    clients = {node: DriverClient(lab, node) for node in NODES}
    started = time.monotonic()
    for client in clients.values():
        client.start()
    for client in clients.values():
        client.wait_ready()
    record('driver servers ready on both nodes',
           '%.1f s' % (time.monotonic() - started))
    _session['clients'] = clients


def _stop_session():
    lab = _session.get('lab')
    for client in _session.get('clients', {}).values():
        try:
            open(os.path.join(client.host_dir, 'STOP'), 'w').close()
        except OSError:
            pass
    if lab is not None and _session.pop('owned', False):
        lab.down()


class LabTestCase(testtools.TestCase):
    """A test on the lab cluster, with helpers to look at the nodes."""

    def setUp(self):
        super().setUp()
        self.lab, self.clients = session()
        self.node1 = self.clients['node1']
        self.node2 = self.clients['node2']

    def sh(self, node, command, timeout=300):
        return self.lab.run(node, command, timeout=timeout).check().stdout

    def sha256(self, node, path):
        return self.sh(node, 'sha256sum %s' % path).split()[0]

    def head_sha(self, node, path, mib=32):
        """sha256 of the first mib MiB of a file, read on node."""
        return self.sh(node, 'head -c %dM %s | sha256sum' % (mib, path)
                       ).split()[0]

    def write_random(self, node, path, mib=32):
        """Write mib MiB of random data at the start of a file, on node."""
        self.sh(node, 'dd if=/dev/urandom of=%s bs=1M count=%d oflag=direct '
                'conv=notrunc status=none' % (path, mib))

    def create(self, client=None, pool='lun1', size=1, config=None,
               **extra):
        volume = volume_spec(pool, size, **extra)
        update, seconds = (client or self.node1).call(
            'create_volume', ('volume', volume), config=config)
        volume.update(update)
        self.addCleanup(self._delete_quietly, volume)
        return volume, seconds

    def _delete_quietly(self, volume):
        try:
            self.node1.call('delete_volume', ('volume', volume))
        except (RemoteDriverError, RuntimeError):
            pass

    def path(self, volume, pool=None):
        return '%s/%s/volume-%s' % (BASE, pool or volume['provider_location'],
                                    volume['id'])
