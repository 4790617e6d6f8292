# Copyright 2026 The cinder-ocfs2 Authors
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

"""The members' shared views of which pools they can use."""

import datetime
import os

import fixtures
import testtools

from cinder_ocfs2 import member_views

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)
MAX_AGE = datetime.timedelta(seconds=240)


def view(host, seconds_ago=0, **unusable):
    return member_views.MemberView(
        host=host, written_at=NOW - datetime.timedelta(seconds=seconds_ago),
        unusable=unusable)


class ParseTestCase(testtools.TestCase):

    def test_round_trip(self):
        original = view('node1@ocfs2', lun1='read-only')
        self.assertEqual(original, member_views.parse_view(
            member_views.render_view(original)))

    def test_parse(self):
        self.assertEqual(
            view('node2@ocfs2', lun3='not mounted'),
            member_views.parse_view(
                '{"host": "node2@ocfs2", "written_at": '
                '"2026-11-29T12:00:00+00:00", "unusable": '
                '{"lun3": "not mounted"}}'))

    def test_refuses_what_is_not_a_view(self):
        for text in ('', '[]', '{"host": "h"}',
                     '{"host": "h", "written_at": "2026-11-29T12:00:00", '
                     '"unusable": {}}',
                     '{"host": "h", "written_at": "yesterday", '
                     '"unusable": {}}',
                     '{"host": "h", "written_at": '
                     '"2026-11-29T12:00:00+00:00", "unusable": []}'):
            self.assertRaises(member_views.ViewParseError,
                              member_views.parse_view, text)


class WithdrawnPoolsTestCase(testtools.TestCase):

    def withdrawn(self, *views, own='node2@ocfs2'):
        return member_views.withdrawn_pools(views, own, NOW, MAX_AGE)

    def test_pool_another_member_cannot_use_is_withdrawn(self):
        self.assertEqual(
            {'lun1': 'member node1@ocfs2 of this backend cannot use it: '
                     'read-only'},
            self.withdrawn(view('node1@ocfs2', lun1='read-only'),
                           view('node2@ocfs2')))

    def test_own_view_is_left_out(self):
        self.assertEqual({}, self.withdrawn(
            view('node2@ocfs2', lun1='read-only')))

    def test_stale_view_counts_for_nothing(self):
        self.assertEqual({}, self.withdrawn(
            view('node1@ocfs2', seconds_ago=241, lun1='read-only')))
        self.assertIn('lun1', self.withdrawn(
            view('node1@ocfs2', seconds_ago=239, lun1='read-only')))

    def test_newest_view_of_a_member_wins(self):
        # Written on two LUNs a refresh apart: the LUN it recovered on
        # holds the newer, healthy view.
        self.assertEqual({}, self.withdrawn(
            view('node1@ocfs2', seconds_ago=60, lun1='read-only'),
            view('node1@ocfs2', seconds_ago=0)))
        self.assertIn('lun1', self.withdrawn(
            view('node1@ocfs2', seconds_ago=0, lun1='read-only'),
            view('node1@ocfs2', seconds_ago=60)))

    def test_first_member_named_when_several_cannot(self):
        self.assertEqual(
            {'lun1': 'member node1@ocfs2 of this backend cannot use it: a',
             'lun2': 'member node3@ocfs2 of this backend cannot use it: c'},
            self.withdrawn(view('node3@ocfs2', lun1='b', lun2='c'),
                           view('node1@ocfs2', lun1='a')))


class FilesTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        root = self.useFixture(fixtures.TempDir()).path
        self.luns = [os.path.join(root, name) for name in ('lun1', 'lun2')]
        for path in self.luns:
            os.mkdir(path)

    def test_publish_to_every_lun_and_read_back(self):
        mine = view('node1@ocfs2', lun3='not mounted')
        member_views.publish(self.luns, 'ocfs2', mine)
        self.assertEqual([mine, mine],
                         member_views.read_views(self.luns, 'ocfs2'))
        self.assertEqual([], member_views.read_views(self.luns, 'other'))
        for path in self.luns:
            self.assertEqual(['node1@ocfs2.json'], os.listdir(os.path.join(
                path, member_views.VIEWS_DIR_NAME, 'ocfs2')))

    def test_publish_replaces_the_previous_view(self):
        member_views.publish(self.luns, 'ocfs2',
                             view('node1@ocfs2', lun1='read-only'))
        member_views.publish(self.luns, 'ocfs2', view('node1@ocfs2'))
        self.assertEqual([{}, {}], [v.unusable for v in
                                    member_views.read_views(self.luns,
                                                            'ocfs2')])

    def test_unwritable_lun_is_skipped(self):
        # Something that is not a directory where the views go.
        with open(os.path.join(self.luns[0], member_views.VIEWS_DIR_NAME),
                  'w'):
            pass
        mine = view('node1@ocfs2')
        member_views.publish(self.luns, 'ocfs2', mine)
        self.assertEqual([mine], member_views.read_views(self.luns, 'ocfs2'))

    def test_garbled_view_is_skipped(self):
        mine = view('node1@ocfs2')
        member_views.publish(self.luns, 'ocfs2', mine)
        garbled = os.path.join(self.luns[1], member_views.VIEWS_DIR_NAME,
                               'ocfs2', 'node9@ocfs2.json')
        with open(garbled, 'w') as out:
            out.write('{not json')
        self.assertEqual([mine, mine],
                         member_views.read_views(self.luns, 'ocfs2'))
