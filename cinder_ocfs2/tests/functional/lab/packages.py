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

"""Debian packages the lab needs on the host, installed only if missing."""

import logging
import os

from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import errors

LOG = logging.getLogger(__name__)

# qemu-utils, fio and cpio are not used by the harness itself, but guests
# run the host's binaries, so tests and benchmarks in guests find them.
REQUIRED = ('qemu-system-x86', 'qemu-utils', 'ocfs2-tools', 'busybox-static',
            'kmod', 'fio', 'cpio', 'iproute2', 'util-linux')
# Seconds apt waits for a lock held by another apt or dpkg.
APT_LOCK_TIMEOUT = 600


def parse_installed(text):
    """Names of installed packages from dpkg-query output.

    Input lines are ``${Package} ${db:Status-Abbrev}``, for example
    ``kmod ii `` -> {'kmod'}.
    """
    installed = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == 'ii':
            installed.add(fields[0])
    return installed


def missing_packages(names):
    result = command.run_host(
        ['dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}\n']
        + list(names), check=False)
    return [name for name in names
            if name not in parse_installed(result.stdout)]


def apt_env():
    env = dict(os.environ)
    env['DEBIAN_FRONTEND'] = 'noninteractive'
    return env


def apt_get(*args, timeout=1800):
    argv = ['apt-get', '-o', 'DPkg::Lock::Timeout=%d' % APT_LOCK_TIMEOUT,
            '-q'] + list(args)
    return command.run_host(argv, timeout=timeout, check=False, env=apt_env())


def ensure_packages(names=REQUIRED):
    """Install the missing packages among names (idempotent, quick)."""
    missing = missing_packages(names)
    if not missing:
        return []
    LOG.info('installing Debian packages: %s', ' '.join(missing))
    result = apt_get('install', '-y', '--no-install-recommends', *missing)
    if not result.ok:
        # A fresh machine may have no package lists yet.
        apt_get('update')
        result = apt_get('install', '-y', '--no-install-recommends',
                         *missing)
    if not result.ok:
        raise errors.PrerequisiteError(
            reason='apt-get install %s failed (exit %s): %s'
            % (' '.join(missing), result.exit_code,
               result.stderr.strip()[-2000:]))
    return missing
