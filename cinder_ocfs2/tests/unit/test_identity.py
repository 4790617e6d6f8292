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


import json
import os

import testtools

from cinder_ocfs2 import exception
from cinder_ocfs2 import identity
from cinder_ocfs2 import luns
from cinder_ocfs2.tests.unit import fake_node


class IdentityTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.node = self.useFixture(fake_node.FakeNode())
        self.path = self.node.mount('lun1')
        self.lun = luns.LunInventory(self.node.base).get('lun1')
        self.marker = os.path.join(self.path, identity.MARKER_NAME)

    def test_parse_marker(self):
        self.assertEqual(
            identity.LunIdentity(pool='lun1', fsid='0x1f'),
            identity.parse_marker('{"pool": "lun1", "fsid": "0x1f"}'))

    def test_parse_marker_garbage(self):
        for text in ('', '[]', '{"pool": "x"}', 'not json'):
            self.assertRaises(identity.MarkerParseError,
                              identity.parse_marker, text)

    def test_verify_without_marker_writes_nothing(self):
        identity.verify(self.lun)
        self.assertFalse(os.path.exists(self.marker))

    def test_verify_create_writes_marker_once(self):
        first = identity.verify(self.lun, create=True)
        with open(self.marker) as marker:
            data = json.load(marker)
        self.assertEqual('lun1', data['pool'])
        self.assertEqual(hex(os.statvfs(self.path).f_fsid), data['fsid'])
        self.assertEqual(first, identity.verify(self.lun, create=True))
        # No temporary files left beside the marker.
        self.assertEqual([identity.MARKER_NAME], os.listdir(self.path))

    def test_verify_refuses_marker_of_another_pool(self):
        with open(self.marker, 'w') as marker:
            json.dump({'pool': 'lun7',
                       'fsid': hex(os.statvfs(self.path).f_fsid)}, marker)
        err = self.assertRaises(exception.LunIdentityMismatch,
                                identity.verify, self.lun, create=True)
        self.assertIn('its marker says it is pool lun7', str(err))
        self.assertIn('Nothing was written', str(err))

    def test_verify_refuses_marker_of_another_filesystem(self):
        with open(self.marker, 'w') as marker:
            json.dump({'pool': 'lun1', 'fsid': '0xdead'}, marker)
        err = self.assertRaises(exception.LunIdentityMismatch,
                                identity.verify, self.lun)
        self.assertIn('written on filesystem 0xdead', str(err))

    def test_verify_refuses_unreadable_marker(self):
        with open(self.marker, 'w') as marker:
            marker.write('{broken')
        self.assertRaises(exception.LunIdentityMismatch,
                          identity.verify, self.lun)
