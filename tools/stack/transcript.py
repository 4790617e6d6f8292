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

"""Print each command and its result, to the terminal and a log file.

A failed command or a failed check raises StepFailed with a message naming
what was expected; the walkthrough stops there.
"""

import json
import shlex
import subprocess
import sys
import time


class StepFailed(Exception):
    """A walkthrough step did not give the expected result."""


class Transcript:

    def __init__(self, log_path):
        self._log = open(log_path, 'a', buffering=1)
        self._start = time.monotonic()

    def write(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()
        self._log.write(text)

    def section(self, title):
        elapsed = time.monotonic() - self._start
        self.write('\n=== [%6.1fs] %s\n' % (elapsed, title))

    def note(self, text):
        self.write('# %s\n' % text)

    def run(self, argv, env=None, timeout=600, quiet=False):
        """Run argv; print it and its output unless quiet; raise on failure."""
        if not quiet:
            self.write('$ %s\n' % shlex.join(argv))
        started = time.monotonic()
        try:
            result = subprocess.run(argv, env=env, capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise StepFailed('%s did not finish in %ss'
                             % (shlex.join(argv), timeout)) from err
        if not quiet or result.returncode:
            self.write(result.stdout)
            if result.stderr.strip():
                self.write(result.stderr if result.stderr.endswith('\n')
                           else result.stderr + '\n')
        if result.returncode:
            raise StepFailed('%s exited %d after %.1fs'
                             % (shlex.join(argv), result.returncode,
                                time.monotonic() - started))
        return result.stdout

    def run_json(self, argv, **kwargs):
        return json.loads(self.run(list(argv) + ['-f', 'json'], **kwargs))

    def check(self, condition, message):
        """Print a check's outcome; raise StepFailed if it does not hold."""
        if not condition:
            raise StepFailed('check failed: %s' % message)
        self.write('ok: %s\n' % message)

    def close(self):
        self._log.close()
