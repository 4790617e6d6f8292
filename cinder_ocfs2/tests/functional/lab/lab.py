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

"""``Lab``: a two-node o2cb/OCFS2 cluster in two qemu VMs, as one object.

    with lab.Lab() as cluster:
        cluster.up(luns=4, heartbeat='local')
        cluster.run('node1', 'mount -t ocfs2').check()

``up()`` prepares the kernel and initramfs (cached), creates the LUN
images (and, if asked, each node's own ext4 scratch disk), boots both
guests, starts chronyd on each guest's RTC (``timesync``: qemu's RTC
counts the host's time), formats the LUNs from node1, brings the o2cb
cluster online on both nodes, mounts the chosen LUNs and calibrates the
guests' clocks against the host's; ``clock_offsets()`` measures them.
``down()`` (also run by the context manager, on errors and on SIGTERM)
powers both guests off cleanly and kills whatever qemu it started that is
left.  A lab left running by ``ocfs2-lab up`` is reused with
``Lab.attach()``.
"""

import concurrent.futures
import contextlib
import logging
import os
import pathlib
import shutil
import signal
import threading
import time

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import cluster
from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors
from cinder_ocfs2.tests.functional.lab import initramfs
from cinder_ocfs2.tests.functional.lab import kernel
from cinder_ocfs2.tests.functional.lab import packages
from cinder_ocfs2.tests.functional.lab import rundir
from cinder_ocfs2.tests.functional.lab import status as lab_status
from cinder_ocfs2.tests.functional.lab import timesync
from cinder_ocfs2.tests.functional.lab import vm

LOG = logging.getLogger(__name__)

BOOT_TIMEOUT = 180
# The project tree: mounted uncached in the guests by default, so code
# edited on the host while the lab runs is what the guests run.
PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[4]
POWEROFF_TIMEOUT = 60
# mount with local heartbeat waits for the region to settle (~10 s idle).
MOUNT_TIMEOUT = 180


class Lab:
    """The lab cluster; see the module docstring."""

    def __init__(self, cache_dir=None, run_dir=None, root_cache='loose',
                 fresh_paths=(PROJECT_ROOT,), boot_timeout=BOOT_TIMEOUT):
        self.paths = config.Paths.from_env(cache_dir, run_dir)
        self.root_cache = root_cache
        self.fresh_paths = tuple(dict.fromkeys(
            config.check_fresh_path(path) for path in fresh_paths))
        self.boot_timeout = boot_timeout
        self.spec = None
        # (step, seconds) of the last up(), in order.
        self.timings = []
        self.run_folder = rundir.RunFolder(self.paths)
        # RecordedVm and agent.Agent of each guest, by node name.
        self._vms = {}
        self._agents = {}
        self._previous_sigterm = None
        # True once this object started or attached VMs: only then does
        # leaving the with block power them off.
        self._active = False

    # --- context manager: always power off

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM,
                                                   _raise_system_exit)
        return self

    def __exit__(self, *exc_info):
        try:
            if self._active:
                self.down()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None
        return False

    # --- bringing the lab up

    def up(self, luns=4, mounted=None, heartbeat='local', forwards=(),
           memory_mb=1536, lun_size_mb=2048, scratch_mb=0):
        """Boot the cluster; on any failure power off and raise.

        scratch_mb: give each node a disk of its own of that size, ext4,
        mounted at config.SCRATCH_MOUNT (0: none).
        """
        spec = config.LabSpec(luns=luns, mounted=mounted,
                              heartbeat=heartbeat, forwards=tuple(forwards),
                              memory_mb=memory_mb, lun_size_mb=lun_size_mb,
                              scratch_mb=scratch_mb)
        with self.run_folder.lock():
            running = self.run_folder.running_vms()
            if running:
                raise errors.LabAlreadyRunning(
                    run_dir=self.paths.run_dir,
                    pids=[recorded.pid for recorded in running])
            self.spec = spec
            self.timings = []
            self._active = True
            started = time.monotonic()
            try:
                self._up(spec)
            except BaseException:
                LOG.error('lab up failed; powering off what was started')
                self._down()
                raise
            self.timings.append(('total', time.monotonic() - started))
            self._write_state()
        return self

    def _up(self, spec):
        with self._step('host packages'):
            packages.ensure_packages()
        with self._step('guest kernel'):
            guest_kernel = kernel.prepare_kernel(self.paths.cache_dir)
        with self._step('initramfs'):
            image = initramfs.prepare_initramfs(guest_kernel,
                                                self.paths.cache_dir)
        with self._step('run folder and LUN images%s' % (
                ', scratch disks' if spec.scratch_mb else '')):
            self._prepare_run_dir(spec)
        with self._step('boot both VMs (agent ready)'):
            self._boot(spec, guest_kernel, image)
        # Started at once so that chronyd has settled on the RTC by the
        # time the cluster is up; a guest without /dev/rtc0 or chronyd is
        # logged and runs on its own clock.
        with self._step('clock sync: chronyd on the RTC'):
            clocks = timesync.start_all(self)
        with self._step('mkfs %d LUNs, o2cb online (%s heartbeat)'
                        % (spec.luns, spec.heartbeat.value)):
            self._cluster_online(spec)
        if spec.mounted:
            with self._step('mount %s on both nodes'
                            % ' '.join(spec.mounted)):
                self._parallel([(node.name, cluster.mount(
                    lun, spec.heartbeat)) for node in config.NODES
                    for lun in spec.mounted], timeout=MOUNT_TIMEOUT)
        if clocks:
            with self._step('clock sync: RTC phase against the host'):
                timesync.calibrate_all(self, clocks)

    @contextlib.contextmanager
    def _step(self, name):
        started = time.monotonic()
        LOG.info('%s ...', name)
        yield
        elapsed = time.monotonic() - started
        self.timings.append((name, elapsed))
        LOG.info('%s: %.1f s', name, elapsed)

    def _prepare_run_dir(self, spec):
        run_dir = self.paths.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_folder.clear()
        rundir.remove_in_background(
            run_dir, list(run_dir.glob('lun*.img')) +
            list(run_dir.glob('scratch-*.img')))
        for name in spec.lun_names:
            with open(self.paths.lun_image(name), 'wb') as image:
                image.truncate(spec.lun_size_mb * 1024 * 1024)
        if spec.scratch_mb:
            for node in config.NODES:
                path = self.paths.scratch_image(node)
                with open(path, 'wb') as image:
                    image.truncate(spec.scratch_mb * 1024 * 1024)
                command.run_host(cluster.format_scratch(path), timeout=120)
        for node in config.NODES:
            node_dir = self.paths.node_dir(node)
            if node_dir.exists():
                shutil.rmtree(node_dir)
            exchange = self.paths.exchange_dir(node)
            agent.Agent.install(exchange)
            shutil.copyfile(initramfs.GUEST_DIR / 'stage2.sh',
                            exchange / 'stage2.sh')
            (exchange / 'node.env').write_text(
                cluster.node_env(node, spec.forwards, self.fresh_paths,
                                 scratch=bool(spec.scratch_mb)))
            (exchange / 'hosts').write_text(cluster.hosts_file())
            (exchange / 'o2cb.default').write_text(cluster.o2cb_defaults())

    def _vm_config(self, node, spec, guest_kernel, image):
        node_dir = self.paths.node_dir(node)
        return vm.VmConfig(
            node=node, vmlinux=guest_kernel.vmlinux, initramfs=image,
            memory_mb=spec.memory_mb,
            exchange_dir=self.paths.exchange_dir(node),
            console=node_dir / 'console.log',
            pidfile=node_dir / 'qemu.pid',
            luns=tuple((name, self.paths.lun_image(name))
                       for name in spec.lun_names),
            cluster_socket=self.paths.cluster_socket,
            cluster_listen=node is config.NODES[0],
            forwards=spec.forwards, root_cache=self.root_cache,
            fresh_paths=self.fresh_paths,
            scratch=(self.paths.scratch_image(node) if spec.scratch_mb
                     else None))

    def _boot(self, spec, guest_kernel, image):
        # node1 listens on the VM-to-VM socket, so it starts first.
        for node in config.NODES:
            vm_config = self._vm_config(node, spec, guest_kernel, image)
            recorded = rundir.RecordedVm(
                name=node.name, pid=vm.start(vm_config),
                pidfile=vm_config.pidfile, console=vm_config.console,
                exchange_dir=vm_config.exchange_dir)
            self._vms[node.name] = recorded
            self._agents[node.name] = self._make_agent(recorded)
            self._write_state()
        for node in config.NODES:
            info = self._agents[node.name].wait_ready(self.boot_timeout)
            LOG.info('%s: agent ready, guest uptime %.1f s', node,
                     info['uptime'])

    @staticmethod
    def _make_agent(recorded):
        return agent.Agent(recorded.name, recorded.exchange_dir,
                           recorded.console, alive=recorded.running)

    def _cluster_online(self, spec):
        """Configure o2cb on both nodes, format the LUNs, go online."""
        self.run_all(cluster.configure_cluster(), check=True)
        self._parallel([('node1', cluster.mkfs(lun, spec.heartbeat))
                        for lun in spec.lun_names], timeout=300)
        if spec.heartbeat is config.Heartbeat.GLOBAL:
            self.run_all(cluster.add_heartbeats(spec.heartbeat_luns),
                         check=True)
        self.run_all(cluster.register_cluster(spec.heartbeat), check=True,
                     timeout=300)

    @classmethod
    def attach(cls, cache_dir=None, run_dir=None):
        """A Lab for the VMs a previous ``up`` left running."""
        lab = cls(cache_dir, run_dir)
        state = lab.run_folder.read()
        if not state or not state.vms:
            raise errors.LabNotRunning(run_dir=lab.paths.run_dir,
                                       reason='no state.json')
        lab.spec = state.spec
        lab.root_cache = state.root_cache
        lab.fresh_paths = state.fresh_paths
        lab.timings = list(state.timings)
        for recorded in state.vms:
            if not recorded.running():
                raise errors.LabNotRunning(
                    run_dir=lab.paths.run_dir,
                    reason='the qemu of %s (PID %s) is gone'
                    % (recorded.name, recorded.pid))
            lab._vms[recorded.name] = recorded
            lab._agents[recorded.name] = lab._make_agent(recorded)
        lab._active = True
        return lab

    def _write_state(self):
        self.run_folder.write(rundir.LabState(
            spec=self.spec, root_cache=self.root_cache,
            fresh_paths=self.fresh_paths, timings=tuple(self.timings),
            vms=tuple(self._vms.values())))

    # --- using the lab

    @property
    def nodes(self):
        return tuple(node.name for node in config.NODES)

    @property
    def nodes_up(self):
        """Names of the nodes this object can run commands on now."""
        return tuple(self._agents)

    def _agent(self, node):
        name = config.node_named(str(node)).name
        try:
            return self._agents[name]
        except KeyError:
            raise errors.LabNotRunning(run_dir=self.paths.run_dir,
                                       reason='%s is not up' % name) from None

    def run(self, node, command_line, timeout=60, check=False, env=None,
            cwd=None, input_text=None):
        """Run a shell line in a guest; returns a CommandResult."""
        result = self._agent(node).run(command_line, timeout=timeout,
                                       env=env, cwd=cwd,
                                       input_text=input_text)
        return result.check() if check else result

    def run_all(self, command_line, nodes=None, timeout=60, check=False):
        """Run the same shell line on several nodes at once.

        Returns {node: CommandResult}; with check, raises CommandFailed for
        the first failure after all finished.
        """
        nodes = nodes or self.nodes
        results = self._parallel([(node, command_line) for node in nodes],
                                 timeout=timeout, check=check)
        return dict(zip(nodes, results))

    def _parallel(self, commands, timeout=60, check=True):
        """Run (node, line) pairs concurrently; results in the same order."""
        pool = concurrent.futures.ThreadPoolExecutor(len(commands))
        try:
            futures = [pool.submit(self.run, node, line, timeout)
                       for node, line in commands]
            results = [future.result() for future in futures]
        finally:
            # On Ctrl-C do not wait for the guests: down() kills them and
            # the waiting threads notice within a second.
            pool.shutdown(wait=False, cancel_futures=True)
        if check:
            for result in results:
                result.check()
        return results

    def spawn(self, node, command_line, log_name, env=None, cwd=None):
        """Start a background process in a guest; returns agent.Spawned."""
        return self._agent(node).spawn(command_line, log_name, env=env,
                                       cwd=cwd)

    def stop(self, spawned, sig='TERM', timeout=30):
        """Signal a spawned process group; wait for it to end."""
        self.run(spawned.node, 'kill -s %s -- -%d' % (sig, spawned.pid))
        deadline = time.monotonic() + timeout
        while spawned.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return spawned.exit_code()

    def mount(self, node, lun, path=None, timeout=MOUNT_TIMEOUT):
        heartbeat = self.spec.heartbeat if self.spec else (
            config.Heartbeat.LOCAL)
        return self.run(node, cluster.mount(lun, heartbeat, path),
                        timeout=timeout, check=True)

    def umount(self, node, lun, path=None, timeout=MOUNT_TIMEOUT):
        return self.run(node, cluster.umount(lun, path), timeout=timeout,
                        check=True)

    def remount_ro(self, node, lun, path=None, timeout=60):
        return self.run(node, cluster.remount_ro(lun, path),
                        timeout=timeout, check=True)

    def power_off_hard(self, node):
        """Power loss: kill the guest's qemu; returns the time of it."""
        name = config.node_named(str(node)).name
        with self.run_folder.lock():
            recorded = self._vms.pop(name)
            self._agents.pop(name, None)
            if vm.is_our_qemu(recorded.pid, recorded.pidfile):
                os.kill(recorded.pid, signal.SIGKILL)
            killed = time.monotonic()
            vm.wait_exit(recorded.pid, recorded.pidfile, 30)
            self._write_state()
        LOG.info('%s powered off hard (qemu %d killed)', name, recorded.pid)
        return killed

    def exchange_dir(self, node):
        """Host path of the node's /lab folder."""
        return self.paths.exchange_dir(config.node_named(str(node)).name)

    def console_log(self, node):
        return self.paths.node_dir(config.node_named(str(node)).name) / (
            'console.log')

    def status(self):
        """A status.LabStatus of this run folder (cheap, safe to call)."""
        return lab_status.read_status(self)

    def clock_offsets(self, nodes=None, samples=timesync.OFFSET_SAMPLES):
        """Each guest's clock against the host's: {node: ClockOffset}.

        A clock.ClockOffset per node (default: every node up): the guest
        minus the host as the host measures it (``date +%s.%N`` in the
        guest between two readings of the host's clock, samples times:
        offset +/- uncertainty, half the round trip or better), chronyd's
        ``chronyc -n tracking`` in the guest (tracking, or tracking_error
        saying why not) and the RTC correction the feeder applies.
        ``summary()`` gives one line per node.
        """
        return timesync.offsets(self, nodes, samples)

    def calibrate_clocks(self, nodes=None):
        """Measure the RTC's phase against the host again, on each node.

        ``up()`` does it once; again, it corrects what is left (see
        ``clock_offsets()``).  {node: timesync.Calibration, or None when
        it could not, logged}.
        """
        return timesync.calibrate_all(self, nodes or self.nodes_up)

    # --- bringing the lab down

    def down(self, timeout=POWEROFF_TIMEOUT):
        """Power both guests off cleanly, then kill any qemu left."""
        with self.run_folder.lock():
            self._down(timeout)

    def _down(self, timeout=POWEROFF_TIMEOUT):
        running = self.run_folder.running_vms()
        started = time.monotonic()
        for recorded in running:
            # Both unmount OCFS2 and power off at the same time.
            agent.Agent.request_poweroff_in(recorded.exchange_dir)
        for recorded in running:
            left = max(1.0, timeout - (time.monotonic() - started))
            ready = (recorded.exchange_dir / 'READY').exists()
            # A guest still booting has nothing mounted: no need to wait.
            if not ready or not vm.wait_exit(recorded.pid, recorded.pidfile,
                                             left):
                if ready:
                    LOG.warning('%s did not power off in %ss: killing '
                                'qemu %d', recorded.name, timeout,
                                recorded.pid)
                vm.kill(recorded.pid, recorded.pidfile)
        self.run_folder.clear()
        self._agents.clear()
        self._vms.clear()
        self._active = False
        if running:
            LOG.info('lab down in %.1f s', time.monotonic() - started)


def _raise_system_exit(signum, frame):
    raise SystemExit(128 + signum)
