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

"""Tempest's volume API tests and cinder-tempest-plugin's against the lab.

Deployment up (deployment.py), a tempest workspace with a tempest.conf
for it (tempest_conf.py), the run timed, then ran/passed/skipped/failed
and every skip reason.  Run it through tools/tempest.
"""

import collections
import io
import os
import pathlib
import shutil
import subprocess
import sys
import time
import traceback

import subunit
import testtools

import compute
import deployment
import guest
from openstack_cli import Cloud
import servers
import tempest_conf
from transcript import StepFailed
from transcript import Transcript

REGEX = r'^(tempest\.api\.volume|cinder_tempest_plugin\.api)'
# With nova (STACK_NOVA=1): the compute tests that use volumes too.
NOVA_REGEX = (r'^(tempest\.api\.volume|cinder_tempest_plugin\.api|'
              r'tempest\.api\.compute\.volumes|'
              r'tempest\.api\.compute\.servers\.test_create_server\.'
              r'ServersTestBootFromVolume|'
              r'tempest\.api\.compute\.admin\.test_live_migration\.'
              r'LiveMigrationTest\.test_volume_backed_live_migration)')
# It creates a server without checking that nova exists.
EXCLUDE = (r'cinder_tempest_plugin\.api\.volume\.test_volume_backup\.'
           r'VolumesBackupsTest\.test_incremental_backup')
# A regex that matches no test id.
NOTHING = r'^$'


CONCURRENCY = 2


def nova(env=os.environ):
    """Tempest's compute tests run: nova deployed, TEMPEST_NOVA not 0."""
    return (guest.nova_enabled(env) and
            env.get('TEMPEST_NOVA', '1') != '0')


def prepare_workspace(t, cloud, state, env):
    # After the walkthrough (same deployment) the types are there already.
    types = {row['Name'] for row in cloud.openstack_json(
        'volume', 'type', 'list', quiet=True)}
    deployment.create_volume_types(cloud, {
        name: backend for name, backend in deployment.BACKEND_TYPES.items()
        if name not in types})
    deadline = time.monotonic() + 180
    while 'storage_protocol' not in cloud.cinder('get-pools', '--detail'):
        if time.monotonic() > deadline:
            raise StepFailed('no pool reported after 180 s')
        time.sleep(10)
    pools = cloud.cinder('get-pools', '--detail')
    image_id = cloud.openstack('image', 'show', '-f', 'value', '-c', 'id',
                               'ocfs2-test-image').strip()
    compute = None
    if nova(env):
        ids = servers.create_images_and_flavor(cloud)
        first, second = servers.IMAGE_TEXTS
        compute = {'image_ref': ids[first], 'image_ref_alt': ids[second],
                   'flavor_ref': ids[servers.FLAVOR]}
    workspace = state / 'tempest'
    registry = state / 'tempest-workspaces.yaml'
    # A fresh workspace: tempest init refuses a name already registered.
    shutil.rmtree(workspace, ignore_errors=True)
    registry.unlink(missing_ok=True)
    t.run(['tempest', 'init', '--workspace-path', str(registry),
           str(workspace)])
    conf = workspace / 'etc' / 'tempest.conf'
    conf.write_text(tempest_conf.render(
        env['STACK_PASSWORD'], env['OS_AUTH_URL'], image_id, pools,
        list(guest.BACKENDS), compute))
    t.note('wrote %s' % conf)
    return workspace


def regex():
    """TEMPEST_REGEX (a subset, e.g. the tests a fix is for) or REGEX."""
    return os.environ.get('TEMPEST_REGEX') or (
        NOVA_REGEX if nova() else REGEX)


def exclude_regex():
    return NOTHING if nova() else EXCLUDE


def run_tempest(t, workspace, logs):
    argv = ['tempest', 'run', '--regex', regex(), '--exclude-regex',
            exclude_regex(),
            '--concurrency', str(CONCURRENCY)]
    t.write('$ cd %s && %s\n' % (workspace, ' '.join(argv)))
    started = time.monotonic()
    with open(logs / 'tempest-run.out', 'w') as out:
        rc = subprocess.run(argv, cwd=workspace, stdout=out,
                            stderr=subprocess.STDOUT).returncode
    elapsed = time.monotonic() - started
    t.note('tempest run exited %d after %.0fs (output: %s)'
           % (rc, elapsed, logs / 'tempest-run.out'))
    return rc, elapsed


def results(workspace):
    """{test id: (status, skip reason)} from the last stestr run."""
    subunit_bytes = subprocess.run(['stestr', 'last', '--subunit'],
                                   cwd=workspace, capture_output=True).stdout
    tests = {}

    def on_test(test):
        if test['status'] in ('exists', None):
            return
        reason = test['details'].get('reason')
        tests[test['id']] = (test['status'],
                             reason.as_text() if reason else '')

    stream = subunit.ByteStreamToStreamResult(
        io.BytesIO(subunit_bytes), non_subunit_name='stdout')
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    stream.run(result)
    result.stopTestRun()
    return tests


def report(t, tests, elapsed):
    counts = collections.Counter(status for status, _ in tests.values())
    t.section('tempest results')
    t.write('ran %d, passed %d, skipped %d, failed %d in %.0fs (%.1f min)\n'
            % (len(tests), counts['success'], counts['skip'],
               counts['fail'], elapsed, elapsed / 60))
    reasons = collections.defaultdict(list)
    for test_id, (status, reason) in sorted(tests.items()):
        if status == 'skip':
            reasons[reason.strip() or '(no reason given)'].append(test_id)
        elif status == 'fail':
            t.write('FAILED %s\n' % test_id)
    for reason, ids in sorted(reasons.items()):
        t.write('skipped %d: %s\n' % (len(ids), reason))
        for test_id in ids:
            t.write('    %s\n' % test_id)
    if not nova():
        t.write('not run (--exclude-regex, it needs nova): %s\n' % EXCLUDE)
    return counts


def keep_tempest_files(workspace, logs):
    for name in ('tempest.log', 'etc/tempest.conf'):
        source = workspace / name
        if source.exists():
            shutil.copy(source, logs / ('tempest-' + source.name))


def stop_unused_computes(t, services, env):
    """Without tempest's compute tests, nova-compute and libvirtd idle:

    their periodic work under TCG takes CPU the volume tests need.
    """
    if guest.nova_enabled(env) and not nova(env):
        t.section('tempest without nova: stop nova-compute and libvirtd '
                  'in the nodes')
        stopped = services.stop(names=compute.SERVICE_NAMES)
        t.note('stopped %s' % ', '.join(str(s) for s in stopped))


def run_on(t, services, env):
    """Tempest against a deployment that is up: (exit code, tests, time)."""
    logs = pathlib.Path(env['STACK_LOGS'])
    state = pathlib.Path(env['STACK_STATE'])
    stop_unused_computes(t, services, env)
    t.section('tempest workspace and tempest.conf')
    workspace = prepare_workspace(t, Cloud(t), state, env)
    t.section('tempest run (%s, concurrency %d)' % (regex(), CONCURRENCY))
    rc, elapsed = run_tempest(t, workspace, logs)
    tests = results(workspace)
    keep_tempest_files(workspace, logs)
    return rc, tests, elapsed


def outcome(rc, counts):
    """tools/tempest's exit code: 1 if a test failed or tempest did."""
    return 1 if counts['fail'] or rc else 0


def main():
    env = os.environ
    tools = pathlib.Path(__file__).resolve().parent
    logs = pathlib.Path(env['STACK_LOGS'])
    t = Transcript(logs / 'tempest-transcript.log')
    try:
        with deployment.deployed(t, tools) as (_, services):
            rc, tests, elapsed = run_on(t, services, env)
    except StepFailed as err:
        t.write('\nTEMPEST NOT RUN: %s\n' % err)
        return 2
    except Exception as err:
        t.write(traceback.format_exc())
        t.write('\nTEMPEST NOT RUN: %s: %s\n' % (type(err).__name__, err))
        return 2
    return outcome(rc, report(t, tests, elapsed))


if __name__ == '__main__':
    sys.exit(main())
