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

"""The driver used the way users use it, from boot to clean-up.

Deployment up (deployment.py), then every user operation through the real
``openstack`` and ``cinder`` CLIs with keystone auth, each checked
(scenario.py).  Stops at the first failure; always tears everything down
and leaves the logs in $STACK_LOGS.  Run it through tools/walkthrough.

With WALKTHROUGH_TEMPEST=1 (CI), tempest runs on the same deployment once
the walkthrough passed (tempest_run.py; TEMPEST_NOVA=0 leaves its compute
tests out): one deployment instead of two.
"""

import os
import pathlib
import sys
import time
import traceback

import deployment
import scenario
import tempest_run
from transcript import StepFailed
from transcript import Transcript


def main():
    tools = pathlib.Path(__file__).resolve().parent
    logs = pathlib.Path(os.environ['STACK_LOGS'])
    t = Transcript(logs / 'walkthrough.log')
    started = time.monotonic()
    failure = None
    tempest = None
    try:
        with deployment.deployed(t, tools) as (lab, services):
            scenario.Scenario(t, lab, services, os.environ).run()
            if os.environ.get('WALKTHROUGH_TEMPEST') == '1':
                t.note('walkthrough steps passed after %.0fs; tempest runs '
                       'on the same deployment'
                       % (time.monotonic() - started))
                tempest = tempest_run.run_on(t, services, os.environ)
    except StepFailed as err:
        failure = str(err)
    except Exception as err:  # a bug, or the lab failing
        t.write(traceback.format_exc())
        failure = '%s: %s' % (type(err).__name__, err)
    t.note('walkthrough took %.0fs; logs in %s'
           % (time.monotonic() - started, logs))
    if failure:
        t.write('\nWALKTHROUGH FAILED: %s\n' % failure)
        return 1
    t.write('\nWALKTHROUGH PASSED\n')
    if tempest:
        rc, tests, elapsed = tempest
        if tempest_run.outcome(rc, tempest_run.report(t, tests, elapsed)):
            t.write('\nTEMPEST FAILED (exit %d)\n' % rc)
            return 1
        t.write('\nTEMPEST PASSED\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
