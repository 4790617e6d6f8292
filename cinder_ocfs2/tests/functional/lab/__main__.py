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

"""``ocfs2-lab``: the lab's command line (``tools/ocfs2-lab``)."""

import argparse
import json
import logging
import shlex
import signal
import sys

from cinder_ocfs2.tests.functional.lab import capture
from cinder_ocfs2.tests.functional.lab import config
from cinder_ocfs2.tests.functional.lab import errors
from cinder_ocfs2.tests.functional.lab import initramfs
from cinder_ocfs2.tests.functional.lab import kernel
from cinder_ocfs2.tests.functional.lab import lab as lab_module
from cinder_ocfs2.tests.functional.lab import smoke

LOG = logging.getLogger('ocfs2-lab')


def _lun_list(text):
    return tuple(item for item in text.split(',') if item)


def build_parser():
    parser = argparse.ArgumentParser(
        prog='ocfs2-lab',
        description='A two-node o2cb/OCFS2 cluster in two qemu VMs.')
    parser.add_argument('-v', '--verbose', action='store_true')
    commands = parser.add_subparsers(dest='action', required=True)

    up = commands.add_parser('up', help='boot the cluster and leave it up')
    up.add_argument('--luns', type=int, default=4)
    up.add_argument('--lun-size', type=int, default=2048, metavar='MIB')
    up.add_argument('--mounted', type=_lun_list, default=None,
                    metavar='LUN,...',
                    help='LUNs mounted on both nodes (default: all but the '
                    'last; "" for none)')
    up.add_argument('--heartbeat', choices=('local', 'global'),
                    default='local')
    up.add_argument('--forward', type=int, action='extend', nargs='+',
                    default=[], metavar='PORT',
                    help='host ports on 127.0.0.1 a guest reaches at '
                    '10.0.2.100:PORT')
    up.add_argument('--memory', type=int, default=1536, metavar='MIB')
    up.add_argument('--scratch', type=int, default=0, metavar='MIB',
                    help='give each node a disk of its own, ext4, mounted '
                    'at %s (default: none)' % config.SCRATCH_MOUNT)
    up.add_argument('--root-cache', choices=('loose', 'mmap', 'none'),
                    default='loose',
                    help='9p cache mode of the host root in the guests')
    up.add_argument('--fresh', action='extend', nargs='+', default=[],
                    metavar='PATH',
                    help='host folders the guests see uncached, besides '
                    'the project tree')

    run = commands.add_parser(
        'run', help='run a command in a guest, exit with its code')
    run.add_argument('node', choices=[node.name for node in config.NODES])
    run.add_argument('--timeout', type=float, default=600)
    run.add_argument('command', nargs=argparse.REMAINDER,
                     help='after --: one shell line, or argv words')

    status = commands.add_parser('status', help='show the running lab')
    status.add_argument('--json', action='store_true')

    commands.add_parser('down', help='power the guests off, kill leftovers')

    check = commands.add_parser(
        'check', help='prove the running lab works: shared data, reflink, '
        'cluster-wide flock')
    check.add_argument('--lun', help='a LUN mounted on both nodes')

    cap = commands.add_parser(
        'capture', help='boot labs and capture o2cb outputs as fixtures')
    cap.add_argument('--out', required=True, metavar='DIR')

    commands.add_parser('kernel', help='prepare the guest kernel and '
                        'initramfs (cached), print their paths')
    return parser


def do_up(args):
    lab = lab_module.Lab(
        root_cache=args.root_cache,
        fresh_paths=(lab_module.PROJECT_ROOT,) + tuple(args.fresh))
    lab.up(luns=args.luns, mounted=args.mounted, heartbeat=args.heartbeat,
           forwards=args.forward, memory_mb=args.memory,
           lun_size_mb=args.lun_size, scratch_mb=args.scratch)
    print('lab up in %s' % lab.paths.run_dir)
    for step, seconds in lab.timings:
        print('  %-48s %6.1f s' % (step, seconds))
    return 0


def do_run(args):
    words = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not words:
        raise SystemExit('ocfs2-lab run: no command given')
    line = words[0] if len(words) == 1 else shlex.join(words)
    lab = lab_module.Lab.attach()
    result = lab.run(args.node, line, timeout=args.timeout)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.timed_out:
        sys.stderr.write('ocfs2-lab: timed out after %ss\n' % args.timeout)
    return result.exit_code


def do_status(args):
    try:
        lab = lab_module.Lab.attach()
    except errors.LabNotRunning:
        lab = lab_module.Lab()
    report = lab.status()
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(report)
    return 0 if report.running else 3


def do_down(args):
    lab_module.Lab().down()
    return 0


def do_check(args):
    results = smoke.run_checks(lab_module.Lab.attach(), args.lun)
    for result in results:
        print(result)
    return 0 if all(result.ok for result in results) else 1


def do_capture(args):
    capture.capture_all(args.out)
    return 0


def do_kernel(args):
    lab = lab_module.Lab()
    guest_kernel = kernel.prepare_kernel(lab.paths.cache_dir)
    image = initramfs.prepare_initramfs(guest_kernel, lab.paths.cache_dir)
    print('kernel    %s (%s %s)' % (guest_kernel.version,
                                    guest_kernel.package,
                                    guest_kernel.package_version))
    print('vmlinux   %s' % guest_kernel.vmlinux)
    print('modules   %s' % guest_kernel.modules_dir)
    print('initramfs %s' % image)
    return 0


ACTIONS = {'up': do_up, 'run': do_run, 'status': do_status,
           'down': do_down, 'check': do_check, 'capture': do_capture,
           'kernel': do_kernel}


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format='%(asctime)s.%(msecs)03d %(message)s', datefmt='%H:%M:%S',
        stream=sys.stderr)
    # SIGTERM unwinds like Ctrl-C, so a failing up() still powers off.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return ACTIONS[args.action](args)
    except (errors.LabError, ValueError) as exc:
        LOG.error('ocfs2-lab %s: %s', args.action, exc)
        return 2
    except KeyboardInterrupt:
        LOG.error('ocfs2-lab %s: interrupted', args.action)
        return 130


if __name__ == '__main__':
    sys.exit(main())
