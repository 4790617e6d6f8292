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

"""The lab: a real two-node o2cb/OCFS2 cluster in two qemu VMs.

Functional tests, the deployment test and benchmarks run on it.  See
``doc/source/lab.rst``; the command line is ``tools/ocfs2-lab``.

    from cinder_ocfs2.tests.functional import lab

    with lab.Lab() as cluster:
        cluster.up(luns=4, mounted=['lun1', 'lun2', 'lun3'])
        cluster.run('node1', 'mount -t ocfs2').check()
"""

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors
from cinder_ocfs2.tests.functional.lab import lab

Lab = lab.Lab
CommandResult = command.CommandResult
Spawned = agent.Spawned
Heartbeat = config.Heartbeat
LabError = errors.LabError
BootError = errors.BootError
CommandFailed = errors.CommandFailed
AgentTimeout = errors.AgentTimeout
VmGone = errors.VmGone
LabAlreadyRunning = errors.LabAlreadyRunning
LabNotRunning = errors.LabNotRunning
