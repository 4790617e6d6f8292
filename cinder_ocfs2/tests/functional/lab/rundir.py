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

"""The run folder's record of a lab: ``state.json``, pidfiles, a lock.

``ocfs2-lab up`` leaves the VMs running; a later ``Lab.attach()``, ``down``
or ``status`` (another process) finds them through ``state.json``.  The
qemu pidfiles are read too, so VMs started before a crash that kept
``state.json`` from being written are still found and stopped.
"""

import contextlib
import dataclasses
import fcntl
import json
import os
import pathlib
import shutil
import threading
import time

from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import vm


@dataclasses.dataclass(frozen=True)
class RecordedVm:
    """One guest's qemu as the run folder records it."""

    name: str
    pid: int
    pidfile: pathlib.Path
    console: pathlib.Path
    # Host side of the guest's /lab.
    exchange_dir: pathlib.Path

    def running(self):
        return vm.is_our_qemu(self.pid, self.pidfile)

    def to_json(self):
        return {'pid': self.pid, 'pidfile': str(self.pidfile),
                'console': str(self.console),
                'exchange_dir': str(self.exchange_dir)}

    @classmethod
    def from_json(cls, name, data):
        return cls(name=name, pid=data['pid'],
                   pidfile=pathlib.Path(data['pidfile']),
                   console=pathlib.Path(data['console']),
                   exchange_dir=pathlib.Path(data['exchange_dir']))


@dataclasses.dataclass(frozen=True)
class LabState:
    """What state.json holds."""

    # The config.LabSpec of the up() that started the lab.
    spec: config.LabSpec
    root_cache: str
    fresh_paths: tuple
    # (step, seconds) of that up().
    timings: tuple
    # RecordedVm of each guest started so far.
    vms: tuple

    def to_json(self):
        return {
            'spec': self.spec.to_json(), 'root_cache': self.root_cache,
            'fresh_paths': [str(path) for path in self.fresh_paths],
            'timings': [list(item) for item in self.timings],
            'nodes': {item.name: item.to_json() for item in self.vms},
        }

    @classmethod
    def from_json(cls, data):
        spec = dict(data['spec'], mounted=tuple(data['spec']['mounted']))
        return cls(
            spec=config.LabSpec(**spec), root_cache=data['root_cache'],
            fresh_paths=tuple(data.get('fresh_paths', ())),
            timings=tuple(tuple(item) for item in data['timings']),
            vms=tuple(RecordedVm.from_json(name, node)
                      for name, node in sorted(data['nodes'].items())))


class RunFolder:
    """The files of one run folder that say what is running."""

    def __init__(self, paths):
        self.paths = paths

    @contextlib.contextmanager
    def lock(self):
        """Serialise up() and down() of this run folder across processes."""
        self.paths.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.paths.run_dir / '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def write(self, state):
        tmp = self.paths.state_file.with_suffix('.tmp')
        tmp.write_text(json.dumps(state.to_json(), indent=1))
        os.rename(tmp, self.paths.state_file)

    def read(self):
        """The LabState, or None without a state.json."""
        try:
            text = self.paths.state_file.read_text()
        except FileNotFoundError:
            return None
        return LabState.from_json(json.loads(text))

    def recorded_vms(self):
        """RecordedVm of each guest in state.json or with a pidfile."""
        state = self.read()
        found = {item.name: item for item in (state.vms if state else ())}
        for node in config.NODES:
            node_dir = self.paths.node_dir(node)
            try:
                pid = int((node_dir / 'qemu.pid').read_text().split()[0])
            except (FileNotFoundError, ValueError, IndexError):
                continue
            found.setdefault(node.name, RecordedVm(
                name=node.name, pid=pid, pidfile=node_dir / 'qemu.pid',
                console=node_dir / 'console.log',
                exchange_dir=self.paths.exchange_dir(node)))
        return [found[name] for name in sorted(found)]

    def running_vms(self):
        return [item for item in self.recorded_vms() if item.running()]

    def clear(self):
        """Forget the lab (after its VMs are gone)."""
        for path in (self.paths.state_file, self.paths.cluster_socket):
            if path.exists():
                path.unlink()


def remove_in_background(run_dir, paths):
    """Move paths aside and delete them while the guests boot.

    Freeing a used image takes about a second on a file system mounted
    with online discard.
    """
    trash = run_dir / ('.trash-%d' % time.time_ns())
    trash.mkdir()
    for path in paths:
        os.rename(path, trash / path.name)
    # Also what an earlier run had no time to delete.
    leftovers = list(run_dir.glob('.trash-*'))
    threading.Thread(target=lambda: [shutil.rmtree(folder, True)
                                     for folder in leftovers],
                     daemon=True).start()
