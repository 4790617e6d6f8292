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

"""Installing the package the way an operator does, into a real venv.

A site on an older OpenStack release installs cinder-ocfs2 into the
environment that runs its cinder-volume. That install must leave cinder
alone: the driver then refuses to start with a clear message (unit tests),
instead of pip silently replacing the site's cinder. This test builds a
fresh venv holding cinder 27.0.0 (from PyPI, the only network these tests
use), runs ``pip install`` of this checkout with its dependencies, and
reads cinder's version afterwards. It also checks the version pbr gives the
package comes from the git tag of the driver's release.
"""

import os
import subprocess
import sys
import tempfile

import testtools

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
OLD_CINDER = '27.0.0'


def _run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=900, **kwargs)
    if result.returncode:
        raise AssertionError('%s failed (exit %d):\n%s\n%s' % (
            ' '.join(argv), result.returncode, result.stdout[-3000:],
            result.stderr[-3000:]))
    return result.stdout


class InstallTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        workdir = tempfile.mkdtemp(prefix='cinder-ocfs2-install-')
        self.addCleanup(subprocess.run, ['rm', '-rf', workdir])
        self.venv = os.path.join(workdir, 'venv')
        _run([sys.executable, '-m', 'venv', self.venv])
        self.pip = [os.path.join(self.venv, 'bin', 'python'), '-m', 'pip',
                    '--disable-pip-version-check', '-q']

    def _version(self, distribution):
        code = ('import importlib.metadata as m; '
                'print(m.version(%r))' % distribution)
        return _run([os.path.join(self.venv, 'bin', 'python'), '-c',
                     code]).strip()

    def test_install_keeps_an_older_cinder(self):
        # --no-deps: the venv only has to *hold* an older cinder; the
        # install under test resolves the package's own dependencies.
        _run(self.pip + ['install', '--no-deps', 'cinder==%s' % OLD_CINDER])
        self.assertEqual(OLD_CINDER, self._version('cinder'))

        _run(self.pip + ['install', REPO])

        self.assertEqual(OLD_CINDER, self._version('cinder'))
        self.assertTrue(self._version('cinder-ocfs2'))

    def test_version_comes_from_the_release_tag(self):
        if not os.path.isdir(os.path.join(REPO, '.git')):
            self.skipTest('not a git checkout: pbr takes the version from '
                          'PKG-INFO, not from tags')
        described = subprocess.run(
            ['git', '-C', REPO, 'describe', '--tags', '--abbrev=0'],
            capture_output=True, text=True, check=False)
        if described.returncode:
            self.skipTest('no release tag reachable from HEAD (a shallow or '
                          '--no-tags clone): %s' % described.stderr.strip())
        tag = described.stdout.strip()
        _run(self.pip + ['install', '--no-deps', REPO])
        version = self._version('cinder-ocfs2')
        # On the tagged commit pbr gives the tag; after it, the next
        # patch release's dev version (1.3.0 -> 1.3.1.devN).
        major, minor, patch = (int(part) for part in tag.split('.'))
        next_dev = '%d.%d.%d.dev' % (major, minor, patch + 1)
        self.assertTrue(version == tag or version.startswith(next_dev),
                        'pbr version %s, latest tag %s' % (version, tag))
