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

"""The lab's guest agent: runs host requests found in /lab (a 9p folder).

Copied to /lab/agent.py and started by stage2.sh; standard library only.

- ``/lab/req/<id>.json``: a request the host renamed into place, with
  ``kind`` ``run`` (a shell line, with a timeout; answered when it ends) or
  ``spawn`` (a background shell line whose output goes to
  ``/lab/logs/<log>.log``; answered at once with its PID; its exit code is
  written to ``/lab/logs/<log>.exit`` when it ends).
- ``/lab/resp/<id>.json``: the answer, renamed into place.
- ``/lab/READY``: written when the agent starts.
- ``/lab/req/POWEROFF``: stop every process it started, unmount every
  OCFS2 filesystem (in parallel), exit 0; stage2.sh then powers the guest
  off.

``LAB_AGENT_DIR`` names another folder than /lab: the lab's own tests run
the agent on the host that way, and then it never unmounts anything.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

GUEST_DIR = '/lab'
LAB = os.environ.get('LAB_AGENT_DIR', GUEST_DIR)
REQUESTS = os.path.join(LAB, 'req')
RESPONSES = os.path.join(LAB, 'resp')
LOGS = os.path.join(LAB, 'logs')
POWEROFF = 'POWEROFF'
READY = os.path.join(LAB, 'READY')
# Poll fast while requests keep coming, slower when idle: each poll is one
# 9p readdir, and under TCG a tight loop would eat the guest's only vCPU.
BUSY_INTERVAL = 0.02
IDLE_INTERVAL = 0.1
BUSY_SECONDS = 3.0
TIMEOUT_EXIT_CODE = 124

# Every process group the agent started and that still runs, by PID.
children = {}
children_lock = threading.Lock()


def write_atomically(path, data):
    tmp = os.path.join(os.path.dirname(path),
                       '.%s.tmp' % os.path.basename(path))
    with open(tmp, 'w') as stream:
        json.dump(data, stream)
    os.rename(tmp, path)


def decode(data):
    return (data or b'').decode('utf-8', errors='replace')


def run_command(request):
    started = time.monotonic()
    env = dict(os.environ, **request.get('env', {}))
    proc = subprocess.Popen(
        ['/bin/sh', '-c', request['command']],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True, env=env,
        cwd=request.get('cwd') or '/')
    with children_lock:
        children[proc.pid] = proc
    data = request.get('input')
    timed_out = False
    try:
        out, err = proc.communicate(
            data.encode() if data is not None else None,
            timeout=request.get('timeout'))
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    finally:
        with children_lock:
            children.pop(proc.pid, None)
    return {
        'exit_code': TIMEOUT_EXIT_CODE if timed_out else proc.returncode,
        'stdout': decode(out), 'stderr': decode(err),
        'duration': time.monotonic() - started, 'timed_out': timed_out,
    }


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def spawn_command(request):
    name = request['log']
    log_path = os.path.join(LOGS, '%s.log' % name)
    exit_path = os.path.join(LOGS, '%s.exit' % name)
    if os.path.exists(exit_path):
        os.unlink(exit_path)
    env = dict(os.environ, **request.get('env', {}))
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(
            ['/bin/sh', '-c', request['command']], stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=env, cwd=request.get('cwd') or '/')
    with children_lock:
        children[proc.pid] = proc
    threading.Thread(target=reap, args=(proc, exit_path), daemon=True).start()
    return {'exit_code': 0, 'stdout': '', 'stderr': '', 'pid': proc.pid,
            'log': log_path, 'duration': 0.0, 'timed_out': False}


def reap(proc, exit_path):
    code = proc.wait()
    with open(exit_path, 'w') as stream:
        stream.write('%d\n' % code)
    with children_lock:
        children.pop(proc.pid, None)


def claim(name):
    """Read and remove one request file; None if it is already gone."""
    path = os.path.join(REQUESTS, name)
    try:
        with open(path) as stream:
            request = json.load(stream)
        os.unlink(path)
    except FileNotFoundError:
        return None
    return request


def handle(name, request):
    try:
        if request['kind'] == 'spawn':
            response = spawn_command(request)
        else:
            response = run_command(request)
    except Exception as exc:
        response = {'exit_code': 125, 'stdout': '', 'timed_out': False,
                    'stderr': 'agent: %s: %s' % (type(exc).__name__, exc),
                    'duration': 0.0}
    response['id'] = request['id']
    write_atomically(os.path.join(RESPONSES, name), response)


def stop_children(grace=10.0):
    """SIGTERM every process group started here, SIGKILL after grace."""
    with children_lock:
        pids = list(children)
    for pid in pids:
        kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        with children_lock:
            if not children:
                return
        time.sleep(0.1)
    for pid in pids:
        kill_group(pid, signal.SIGKILL)


def power_off():
    started = time.monotonic()
    print('lab-agent: poweroff requested', flush=True)
    stop_children()
    if LAB != GUEST_DIR:
        return
    # One umount per filesystem, all at once: with local heartbeat each
    # umount stops its own heartbeat region, which takes seconds.
    result = run_command({
        'command': "for m in $(awk '$3 == \"ocfs2\" {print $2}' "
                   "/proc/mounts); do umount \"$m\" & done; wait",
        'timeout': 120})
    print('lab-agent: OCFS2 unmounted (%s) in %.1fs %s' % (
        result['exit_code'], time.monotonic() - started,
        result['stderr'].strip()), flush=True)


def uptime():
    with open('/proc/uptime') as stream:
        return float(stream.read().split()[0])


def serve():
    for folder in (REQUESTS, RESPONSES, LOGS):
        os.makedirs(folder, exist_ok=True)
    write_atomically(READY, {'pid': os.getpid(), 'uptime': uptime(),
                             'release': os.uname().release,
                             'hostname': os.uname().nodename})
    print('lab-agent: ready after %.1fs' % uptime(), flush=True)
    last_request = 0.0
    while True:
        names = sorted(os.listdir(REQUESTS))
        if POWEROFF in names:
            break
        for name in names:
            if not name.endswith('.json'):
                continue
            last_request = time.monotonic()
            request = claim(name)
            if request is not None:
                threading.Thread(target=handle, args=(name, request),
                                 daemon=True).start()
        busy = time.monotonic() - last_request < BUSY_SECONDS
        time.sleep(BUSY_INTERVAL if busy else IDLE_INTERVAL)
    power_off()
    return 0


if __name__ == '__main__':
    sys.exit(serve())
