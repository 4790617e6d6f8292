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

"""Debian packages from bindep.txt, installed only if missing.

bindep.txt at the top of the repository is the one list of system packages;
each line is ``name [profile ...]``. The lab installs its ``lab`` profile
when it boots; tools/run-tests and tools/stack/install call this module::

    python3 -m cinder_ocfs2.tests.functional.lab.packages lab test
"""

import argparse
import logging
import os
import sys

from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import errors

LOG = logging.getLogger(__name__)

# The lab's own list is the "lab" profile of bindep.txt.
BINDEP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      *(['..'] * 4), 'bindep.txt')
# Seconds apt waits for a lock held by another apt or dpkg.
APT_LOCK_TIMEOUT = 600


def parse_bindep(text, profiles):
    """Package names of bindep.txt text selected by any of profiles.

    ``fio [lab]`` is selected by the profile ``lab``; a line without a
    bracket by every profile. Comments and blank lines are skipped.
    """
    wanted = set(profiles)
    names = []
    for line in text.splitlines():
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        name, bracket, selector = line.partition('[')
        if bracket and not selector.endswith(']'):
            raise ValueError('bindep.txt: no closing bracket in %r' % line)
        line_profiles = set(selector[:-1].split()) if bracket else set()
        if not line_profiles or line_profiles & wanted:
            names.append(name.strip())
    return names


def required(profiles=('lab',), path=BINDEP):
    with open(path) as listing:
        return parse_bindep(listing.read(), profiles)


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


def ensure_packages(names=None, recommends=False):
    """Install the missing packages among names (idempotent, quick).

    names defaults to the lab's profile of bindep.txt.
    """
    names = required() if names is None else names
    missing = missing_packages(names)
    if not missing:
        return []
    LOG.info('installing Debian packages: %s', ' '.join(missing))
    install = ['install', '-y'] + (
        [] if recommends else ['--no-install-recommends']) + missing
    result = apt_get(*install)
    if not result.ok:
        # A fresh machine may have no package lists yet.
        apt_get('update')
        result = apt_get(*install)
    if not result.ok:
        raise errors.PrerequisiteError(
            reason='apt-get install %s failed (exit %s): %s'
            % (' '.join(missing), result.exit_code,
               result.stderr.strip()[-2000:]))
    return missing


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Install the missing Debian packages of the named '
                    'bindep.txt profiles.')
    parser.add_argument('profiles', nargs='+', metavar='PROFILE')
    parser.add_argument('--with-recommends', action='store_true',
                        help="also install the packages' recommends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='== %(message)s')
    try:
        ensure_packages(required(args.profiles), args.with_recommends)
    except errors.PrerequisiteError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
