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

"""Errors raised by the lab, each naming what failed and what to do next."""


class LabError(Exception):
    """Base class of every lab error; the message is a template."""

    message = 'lab error'

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        super().__init__(self.message % kwargs)


class PrerequisiteError(LabError):
    message = ('cannot prepare the host: %(reason)s')


class KernelError(LabError):
    message = ('cannot prepare the guest kernel from %(source)s: %(reason)s')


class LabAlreadyRunning(LabError):
    message = ('a lab is already running from %(run_dir)s (qemu PIDs '
               '%(pids)s): use it with Lab.attach() or `ocfs2-lab status`, '
               'or stop it with `ocfs2-lab down`')


class LabNotRunning(LabError):
    message = ('no running lab in %(run_dir)s: %(reason)s; start one with '
               '`ocfs2-lab up`')


class BootError(LabError):
    message = ('%(node)s did not boot: %(reason)s\n'
               '--- last lines of %(console)s ---\n%(console_tail)s')


class AgentTimeout(LabError):
    message = ('%(node)s: no answer from the guest agent within %(timeout)ss '
               'for: %(command)s (is the VM alive? see %(console)s)')


class VmGone(LabError):
    message = ('%(node)s: its qemu exited while waiting for: %(command)s\n'
               '--- last lines of %(console)s ---\n%(console_tail)s')


class CommandFailed(LabError):
    message = ('%(where)s: command failed with exit code %(exit_code)s%(why)s'
               ': %(command)s\n--- stdout ---\n%(stdout)s\n'
               '--- stderr ---\n%(stderr)s')
