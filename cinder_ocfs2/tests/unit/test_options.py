# Copyright 2025 The cinder-ocfs2 Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


import os

import fixtures
from oslo_config import generator
import testtools

from cinder_ocfs2 import options

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(REPO, 'etc', 'cinder_ocfs2', 'cinder-ocfs2.conf.sample')


class SampleConfigTestCase(testtools.TestCase):

    def test_committed_sample_matches_the_options(self):
        """etc/ must be regenerated (tox -e genconfig) when options change."""
        out = os.path.join(self.useFixture(fixtures.TempDir()).path, 'out')
        generator.main(['--namespace', 'cinder_ocfs2', '--wrap-width', '79',
                        '--output-file', out])
        with open(out) as generated, open(SAMPLE) as committed:
            self.assertEqual(generated.read(), committed.read())

    def test_every_option_is_in_the_sample(self):
        with open(SAMPLE) as committed:
            text = committed.read()
        for opt in options.ocfs2_opts:
            self.assertRegex(text, r'\n#%s =' % opt.name)
