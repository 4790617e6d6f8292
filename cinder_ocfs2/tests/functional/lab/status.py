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

"""What ``ocfs2-lab status`` reports: the VMs, agents, o2cb and mounts."""

import dataclasses

from cinder_ocfs2.tests.functional.lab import errors

# One agent round trip: mounts and o2cb state of the node.
PROBE = ('o2cb cluster-status 2>&1 | head -n 1; '
         'echo ---; grep " ocfs2 " /proc/mounts')


@dataclasses.dataclass(frozen=True)
class NodeStatus:
    """One node as ``Lab.status()`` sees it."""

    name: str
    # qemu PID recorded in the run folder, and whether it still runs.
    pid: int
    running: bool
    # Whether the agent answered the probe.
    agent_ready: bool
    # First line of `o2cb cluster-status` in the guest.
    o2cb: str
    # `/proc/mounts` lines of type ocfs2 in the guest.
    ocfs2_mounts: tuple


@dataclasses.dataclass(frozen=True)
class LabStatus:
    """The lab of one run folder."""

    run_dir: str
    # True when every recorded qemu runs.
    running: bool
    # LabSpec.to_json() of the up() that started it, if known.
    spec: dict
    nodes: tuple

    def __str__(self):
        state = 'running' if self.running else 'down'
        lines = ['lab in %s: %s' % (self.run_dir, state)]
        if self.spec:
            lines.append('  spec: %s' % ', '.join(
                '%s=%s' % item for item in sorted(self.spec.items())))
        for node in self.nodes:
            lines.append('  %s: qemu PID %s %s, agent %s, o2cb: %s' % (
                node.name, node.pid,
                'running' if node.running else 'gone',
                'ready' if node.agent_ready else 'not answering',
                node.o2cb or '-'))
            lines += ['    %s' % mount for mount in node.ocfs2_mounts]
        return '\n'.join(lines)

    def to_json(self):
        return dataclasses.asdict(self)


def parse_probe(text):
    """PROBE output -> (o2cb first line, ocfs2 /proc/mounts lines)."""
    head, _, mounts = text.partition('---\n')
    return head.strip(), tuple(line for line in mounts.splitlines() if line)


def read_status(lab):
    nodes = []
    for recorded in lab.run_folder.recorded_vms():
        running = recorded.running()
        o2cb, mounts, ready = '', (), False
        if running and recorded.name in lab.nodes_up:
            try:
                result = lab.run(recorded.name, PROBE, timeout=15)
                o2cb, mounts = parse_probe(result.stdout)
                ready = True
            except (errors.AgentTimeout, errors.VmGone):
                pass
        nodes.append(NodeStatus(name=recorded.name, pid=recorded.pid,
                                running=running, agent_ready=ready,
                                o2cb=o2cb, ocfs2_mounts=mounts))
    state = lab.run_folder.read()
    return LabStatus(run_dir=str(lab.paths.run_dir),
                     running=bool(nodes) and all(n.running for n in nodes),
                     spec=state.spec.to_json() if state else None,
                     nodes=tuple(nodes))
