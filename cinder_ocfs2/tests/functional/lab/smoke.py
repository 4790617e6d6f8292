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

"""``ocfs2-lab check``: prove a running lab is a working OCFS2 cluster.

Each check runs real commands on both nodes and returns a CheckResult; the
CLI prints them and exits non-zero if one failed.
"""

import dataclasses
import time

from cinder_ocfs2.tests.functional.lab import cluster

WRITER, READER = 'node1', 'node2'


@dataclasses.dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    # What was seen, for the report.
    detail: str
    seconds: float

    def __str__(self):
        return '%s %-34s %5.1f s  %s' % ('PASS' if self.ok else 'FAIL',
                                         self.name, self.seconds,
                                         self.detail)


def _mounts(lab, lun):
    results = lab.run_all('mount -t ocfs2')
    missing = [node for node, result in results.items()
               if cluster.mount_point(lun) not in result.stdout]
    lines = ['%s: %d ocfs2 mounts' % (node, len(result.stdout.splitlines()))
             for node, result in results.items()]
    return not missing, '; '.join(lines)


def _shared_data(lab, lun):
    path = '%s/lab-check.bin' % cluster.mount_point(lun)
    written = lab.run(WRITER, 'head -c 64M /dev/urandom > %s && sha256sum %s'
                      % (path, path), timeout=300).check()
    read = lab.run(READER, 'sha256sum %s' % path, timeout=300).check()
    first, second = written.stdout.split()[0], read.stdout.split()[0]
    return first == second, '64 MiB: %s on %s, %s on %s' % (
        first[:16], WRITER, second[:16], READER)


def _reflink(lab, lun):
    path = '%s/lab-check.bin' % cluster.mount_point(lun)
    line = ('cp --reflink=always {0} {0}.clone && cmp {0} {0}.clone && '
            'echo same'.format(path))
    result = lab.run(READER, line, timeout=300)
    return result.ok and 'same' in result.stdout, (
        result.stdout.strip() or result.stderr.strip())


def _flock(lab, lun):
    path = '%s/lab-check.lock' % cluster.mount_point(lun)
    holder = lab.spawn(WRITER, 'exec flock %s -c "echo held; sleep 300"'
                       % path, log_name='lab-check-flock')
    try:
        deadline = time.monotonic() + 60
        while 'held' not in holder.output():
            if time.monotonic() > deadline:
                return False, 'the holder on %s never got the lock' % WRITER
            time.sleep(0.1)
        busy = lab.run(READER, 'flock -n %s -c true' % path)
    finally:
        lab.stop(holder)
    free = lab.run(READER, 'flock -n %s -c true' % path)
    return (busy.exit_code == 1 and free.exit_code == 0,
            'flock -n on %s: %d while %s holds it, %d after release'
            % (READER, busy.exit_code, WRITER, free.exit_code))


CHECKS = (
    ('ocfs2 mounted on both nodes', _mounts),
    ('same data seen from both nodes', _shared_data),
    ('cp --reflink=always', _reflink),
    ('flock is cluster-wide', _flock),
)


def run_checks(lab, lun=None):
    """Run every check on lun (default: the first mounted LUN)."""
    lun = lun or lab.spec.mounted[0]
    results = []
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            ok, detail = check(lab, lun)
        except Exception as exc:
            ok, detail = False, '%s: %s' % (type(exc).__name__, exc)
        results.append(CheckResult(name, ok, detail,
                                   time.monotonic() - started))
    lab.run_all('rm -f %s/lab-check.*' % cluster.mount_point(lun))
    return results
