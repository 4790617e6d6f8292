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

"""Host side of the guest agent: requests and answers as files in /lab.

The guest side is ``guest/agent.py``; see its docstring for the protocol.
"""

import dataclasses
import itertools
import json
import os
import pathlib
import shutil
import threading
import time

from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import errors

GUEST_AGENT = pathlib.Path(__file__).parent / 'guest' / 'agent.py'
# Seconds granted beyond a command's own timeout before the host gives up.
GRACE = 15.0
_counter = itertools.count()
_counter_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Spawned:
    """A background process started in a guest by ``Lab.spawn()``."""

    node: str
    # Name given at spawn; the output goes to logs/<name>.log under /lab.
    name: str
    # PID in the guest; also its process group (started in a new session).
    pid: int
    # Host paths of the output and of the exit code written when it ends.
    log: pathlib.Path
    exit_file: pathlib.Path

    def exit_code(self):
        """The exit code once it ended, else None."""
        try:
            return int(self.exit_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def output(self):
        return self.log.read_text(errors='replace')

    def __str__(self):
        return '%s:%s (pid %d)' % (self.node, self.name, self.pid)


def _request_id():
    with _counter_lock:
        return '%d-%06d-%d' % (time.time_ns(), next(_counter), os.getpid())


class Agent:
    """Talks to one guest's agent through its exchange folder."""

    def __init__(self, node, exchange_dir, console, alive):
        self.node = str(node)
        self.exchange_dir = pathlib.Path(exchange_dir)
        self.console = console
        # Callable telling whether the guest's qemu still runs.
        self._alive = alive

    @staticmethod
    def install(exchange_dir):
        """Create the folders and copy the guest agent, before boot."""
        exchange_dir = pathlib.Path(exchange_dir)
        for name in ('req', 'resp', 'logs', 'tmp'):
            (exchange_dir / name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GUEST_AGENT, exchange_dir / 'agent.py')

    def ready_info(self):
        try:
            return json.loads((self.exchange_dir / 'READY').read_text())
        except (FileNotFoundError, ValueError):
            return None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.ready_info()
            if info:
                return info
            if not self._alive():
                raise errors.BootError(
                    node=self.node, reason='qemu exited during boot',
                    console=self.console, console_tail=self.console_tail())
            time.sleep(0.05)
        raise errors.BootError(
            node=self.node, console=self.console,
            reason='the agent was not ready after %ss' % timeout,
            console_tail=self.console_tail())

    def console_tail(self, lines=40):
        try:
            text = pathlib.Path(self.console).read_text(errors='replace')
        except FileNotFoundError:
            return '(no console log)'
        return '\n'.join(text.splitlines()[-lines:])

    def _send(self, request):
        name = '%s.json' % request['id']
        tmp = self.exchange_dir / 'tmp' / name
        tmp.write_text(json.dumps(request))
        os.rename(tmp, self.exchange_dir / 'req' / name)
        return self.exchange_dir / 'resp' / name

    def _wait(self, response_path, timeout, what):
        deadline = time.monotonic() + timeout
        delay = 0.002
        next_alive_check = time.monotonic() + 1.0
        while True:
            try:
                data = json.loads(response_path.read_text())
            except FileNotFoundError:
                data = None
            if data is not None:
                response_path.unlink()
                return data
            now = time.monotonic()
            if now > next_alive_check:
                if not self._alive():
                    raise errors.VmGone(
                        node=self.node, command=what, console=self.console,
                        console_tail=self.console_tail())
                next_alive_check = now + 1.0
            if now > deadline:
                raise errors.AgentTimeout(
                    node=self.node, timeout=round(timeout, 1), command=what,
                    console=self.console)
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def run(self, command_line, timeout=60, env=None, cwd=None,
            input_text=None):
        """Run a shell line in the guest; returns a CommandResult."""
        request = {'id': _request_id(), 'kind': 'run',
                   'command': command_line, 'timeout': timeout,
                   'env': env or {}, 'cwd': cwd, 'input': input_text}
        response = self._wait(self._send(request), timeout + GRACE,
                              command_line)
        return command.CommandResult(
            command=command_line, exit_code=response['exit_code'],
            stdout=response['stdout'], stderr=response['stderr'],
            where=self.node, duration=response['duration'],
            timed_out=response['timed_out'])

    def spawn(self, command_line, log_name, env=None, cwd=None):
        """Start a background shell line in the guest; returns Spawned."""
        if not log_name or '/' in log_name or log_name.startswith('.'):
            raise ValueError('bad log name %r' % log_name)
        request = {'id': _request_id(), 'kind': 'spawn',
                   'command': command_line, 'log': log_name,
                   'env': env or {}, 'cwd': cwd}
        response = self._wait(self._send(request), GRACE, command_line)
        if response['exit_code'] != 0:
            raise errors.CommandFailed(
                where=self.node, exit_code=response['exit_code'], why='',
                command=command_line, stdout='', stderr=response['stderr'])
        logs = self.exchange_dir / 'logs'
        return Spawned(node=self.node, name=log_name, pid=response['pid'],
                       log=logs / ('%s.log' % log_name),
                       exit_file=logs / ('%s.exit' % log_name))

    @staticmethod
    def request_poweroff_in(exchange_dir):
        """Ask the agent behind exchange_dir to power its guest off."""
        (pathlib.Path(exchange_dir) / 'req' / 'POWEROFF').touch()
