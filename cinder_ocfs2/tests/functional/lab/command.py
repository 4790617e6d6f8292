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

"""The outcome of one command, on the host or in a guest, as a record."""

import dataclasses
import logging
import shlex
import subprocess
import time

from cinder_ocfs2.tests.functional.lab import errors

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What one finished command returned.

    Returned by ``Lab.run()`` (guest commands, through the agent) and by
    ``run_host()`` (host commands).
    """

    # The shell line (guest) or the quoted argv (host) that ran.
    command: str
    # Process exit code; 124 when the timeout killed it (as timeout(1)).
    exit_code: int
    # Both streams decoded as UTF-8, undecodable bytes replaced.
    stdout: str
    stderr: str
    # Where it ran: 'host', 'node1' or 'node2'.
    where: str = 'host'
    # Wall-clock seconds, measured where the command ran.
    duration: float = 0.0
    # True when the timeout killed the command.
    timed_out: bool = False

    @property
    def ok(self):
        return self.exit_code == 0 and not self.timed_out

    def check(self, allowed=(0,)):
        """Return self, or raise CommandFailed with code, stdout, stderr."""
        if self.exit_code in allowed and not self.timed_out:
            return self
        why = ' (killed by its timeout)' if self.timed_out else ''
        raise errors.CommandFailed(
            where=self.where, exit_code=self.exit_code, why=why,
            command=self.command, stdout=self.stdout.rstrip(),
            stderr=self.stderr.rstrip())


def run_host(argv, timeout=None, check=True, env=None, input_text=None,
             cwd=None):
    """Run one host command (no shell) and return its CommandResult."""
    command = shlex.join(str(arg) for arg in argv)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [str(arg) for arg in argv], capture_output=True, timeout=timeout,
            env=env, cwd=cwd,
            input=input_text.encode() if input_text else None)
        exit_code, out, err, timed_out = (
            proc.returncode, proc.stdout, proc.stderr, False)
    except subprocess.TimeoutExpired as exc:
        exit_code, out, err, timed_out = (
            124, exc.stdout or b'', exc.stderr or b'', True)
    except FileNotFoundError as exc:
        exit_code, out, err, timed_out = 127, b'', str(exc).encode(), False
    result = CommandResult(
        command=command, exit_code=exit_code,
        stdout=out.decode(errors='replace'),
        stderr=err.decode(errors='replace'),
        where='host', duration=time.monotonic() - started,
        timed_out=timed_out)
    LOG.debug('host: %(cmd)s -> %(rc)s in %(t).2fs',
              {'cmd': command, 'rc': exit_code, 't': result.duration})
    return result.check() if check else result
