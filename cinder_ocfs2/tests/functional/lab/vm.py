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

"""One guest as a qemu process: its command line, start and stop.

qemu runs under TCG (the nested /dev/kvm here makes no progress with a
stock kernel), daemonized, with its PID in ``<run>/<node>/qemu.pid``.
Before signalling a recorded PID, ``is_our_qemu()`` checks the process
still is that qemu (its command line names our pidfile), so a recycled PID
is never touched.
"""

import dataclasses
import os
import pathlib
import signal
import time

from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors

QEMU = 'qemu-system-x86_64'
BUSYBOX = '/bin/busybox'
# Kernel arguments: serial console, reboot (= qemu exit with -no-reboot) at
# once on panic, quiet console (dmesg keeps everything).
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# test can miss its ticks and panic ("IO-APIC + timer doesn't work!");
# the check means nothing in a VM.
KERNEL_ARGS = ('console=ttyS0 panic=-1 quiet loglevel=4 acpi=noirq '
               'no_timer_check')


@dataclasses.dataclass(frozen=True)
class VmConfig:
    """Everything qemu needs to boot one node."""

    node: config.Node
    vmlinux: pathlib.Path
    initramfs: pathlib.Path
    memory_mb: int
    # Host folder shared as the guest's /lab.
    exchange_dir: pathlib.Path
    console: pathlib.Path
    pidfile: pathlib.Path
    # (name, image path) of each shared LUN.
    luns: tuple
    # UNIX socket of the VM-to-VM link; node1 listens, node2 connects.
    cluster_socket: pathlib.Path
    cluster_listen: bool
    # Host ports reachable from the guest at FORWARD_HOST_ADDRESS.
    forwards: tuple = ()
    # 9p cache mode of the host root: loose (fast) or none/mmap (fresh).
    root_cache: str = 'loose'
    # Host folders mounted again, uncached, at the same path in the guest,
    # so changes made on the host while the guest runs are seen at once.
    fresh_paths: tuple = ()
    # The node's own scratch disk image (config.SCRATCH_SERIAL), or None.
    scratch: pathlib.Path = None


def _opts(*items):
    return ','.join(items)


def qemu_argv(vm):
    """The qemu command line for vm (a list of strings)."""
    argv = [
        QEMU, '-name', vm.node.name,
        '-accel', 'tcg,tb-size=256', '-cpu', 'max', '-smp', '1',
        '-m', str(vm.memory_mb),
        '-nodefaults', '-no-user-config', '-display', 'none',
        '-monitor', 'none', '-no-reboot',
        '-serial', 'file:%s' % vm.console,
        '-kernel', str(vm.vmlinux), '-initrd', str(vm.initramfs),
        '-append', '%s lab.rootcache=%s' % (KERNEL_ARGS, vm.root_cache),
        '-fsdev', _opts('local', 'id=hostroot', 'path=/',
                        'security_model=none', 'readonly=on',
                        'multidevs=remap'),
        '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
        '-fsdev', _opts('local', 'id=lab', 'path=%s' % vm.exchange_dir,
                        'security_model=none', 'multidevs=remap'),
        '-device', 'virtio-9p-pci,fsdev=lab,mount_tag=lab',
    ]
    for index, path in enumerate(vm.fresh_paths):
        argv += [
            '-fsdev', _opts('local', 'id=fresh%d' % index, 'path=%s' % path,
                            'security_model=none', 'readonly=on',
                            'multidevs=remap'),
            '-device', 'virtio-9p-pci,fsdev=fresh%d,mount_tag=fresh%d'
            % (index, index),
        ]
    for name, image in vm.luns:
        argv += [
            '-drive', _opts('file=%s' % image, 'format=raw', 'if=none',
                            'id=%s' % name, 'cache=none', 'aio=threads'),
            '-device', _opts('virtio-blk-pci', 'drive=%s' % name,
                             'share-rw=on', 'serial=%s' % name),
        ]
    if vm.scratch:
        # Not shared: the host's page cache may hold its writes, and the
        # guest's discards punch holes in the sparse file.
        argv += [
            '-drive', _opts('file=%s' % vm.scratch, 'format=raw', 'if=none',
                            'id=scratch', 'cache=writeback', 'aio=threads',
                            'discard=unmap'),
            '-device', _opts('virtio-blk-pci', 'drive=scratch',
                             'serial=%s' % config.SCRATCH_SERIAL),
        ]
    argv += [
        '-netdev', _opts('stream', 'id=cluster',
                         'server=%s' % ('on' if vm.cluster_listen else 'off'),
                         'addr.type=unix',
                         'addr.path=%s' % vm.cluster_socket),
        '-device', _opts('virtio-net-pci', 'netdev=cluster',
                         'mac=%s' % vm.node.cluster_mac),
    ]
    if vm.forwards:
        argv += ['-netdev', forward_netdev(vm.forwards),
                 '-device', _opts('virtio-net-pci', 'netdev=forward',
                                  'mac=%s' % vm.node.forward_mac)]
    argv += ['-daemonize', '-pidfile', str(vm.pidfile)]
    return argv


def forward_netdev(ports):
    """qemu user network that only reaches 127.0.0.1:PORT for each port.

    restrict=on isolates the guest from the host and everything else.  Each
    guestfwd runs a relay (busybox nc) per guest connection to
    FORWARD_HOST_ADDRESS:PORT, connected to 127.0.0.1:PORT on the host.
    The chardev form (``guestfwd=...-tcp:127.0.0.1:PORT``) is not used: qemu
    opens that one connection at start (failing if the service is not up
    yet) and every guest connection shares it, so two concurrent
    connections (a database pool) get each other's bytes or hang.
    """
    items = ['user', 'id=forward', 'restrict=on', 'net=10.0.2.0/24',
             'host=10.0.2.2', 'ipv6=off']
    for port in ports:
        items.append('guestfwd=tcp:%s:%d-cmd:%s nc 127.0.0.1 %d'
                     % (config.FORWARD_HOST_ADDRESS, port, BUSYBOX, port))
    return _opts(*items)


def start(vm):
    """Start qemu daemonized; return its PID or raise BootError."""
    for path in (vm.pidfile, vm.console):
        if path.exists():
            path.unlink()
    result = command.run_host(qemu_argv(vm), timeout=120, check=False)
    if not result.ok or not vm.pidfile.exists():
        raise errors.BootError(
            node=vm.node.name, console=vm.console,
            reason='qemu failed to start (exit %s): %s'
            % (result.exit_code, result.stderr.strip()),
            console_tail='(qemu did not start)')
    return int(vm.pidfile.read_text().split()[0])


def is_our_qemu(pid, pidfile):
    """True if pid runs qemu with this pidfile on its command line."""
    try:
        argv = pathlib.Path('/proc/%d/cmdline' % pid).read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    args = argv.split(b'\0')
    return (bool(args) and b'qemu-system' in args[0]
            and str(pidfile).encode() in args)


def wait_exit(pid, pidfile, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_our_qemu(pid, pidfile):
            return True
        time.sleep(0.05)
    return not is_our_qemu(pid, pidfile)


def kill(pid, pidfile, grace=5.0):
    """SIGTERM then SIGKILL our qemu; a no-op if it is already gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not is_our_qemu(pid, pidfile):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_exit(pid, pidfile, grace):
            return
