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

"""The cluster-member scheduler over cinder's own FilterScheduler logic.

Only the weighed candidates are faked: they are cinder's real PoolState
records of a two-member cluster, named by node1 as FilterScheduler names a
cluster by the first member it found up.
"""

from unittest import mock

import ddt

from cinder import exception
from cinder.scheduler import host_manager
from cinder.scheduler import weights
from cinder.tests.unit import test

from cinder_ocfs2 import scheduler

CLUSTER = 'labcluster@ocfs2'


def _pool(pool, host='node1@ocfs2', cluster=CLUSTER):
    state = host_manager.PoolState(host, cluster, {}, pool)
    state.free_capacity_gb = 100
    return weights.WeighedHost(state, 1.0)


@ddt.ddt
class KeptHostTestCase(test.TestCase):

    @ddt.data(
        # The volume's member, the pick's pool.
        ('node2@ocfs2#lun1', 'labcluster@ocfs2#lun1',
         'node1@ocfs2#lun1', 'labcluster@ocfs2#lun1', 'node2@ocfs2#lun1'),
        ('node2@ocfs2#lun1', 'labcluster@ocfs2',
         'node1@ocfs2#lun2', 'labcluster@ocfs2#lun2', 'node2@ocfs2#lun2'),
        ('node2@ocfs2', 'labcluster@ocfs2',
         'node1@ocfs2#lun2', 'labcluster@ocfs2#lun2', 'node2@ocfs2#lun2'),
        # Not clustered, another cluster, another backend: the pick stands.
        ('node2@ocfs2#lun1', None,
         'node1@ocfs2#lun1', 'labcluster@ocfs2#lun1', None),
        ('node2@ocfs2#lun1', 'labcluster@ocfs2#lun1',
         'node1@ocfs2#lun1', None, None),
        ('node2@ocfs2#lun1', 'other@ocfs2#lun1',
         'node1@ocfs2#lun1', 'labcluster@ocfs2#lun1', None),
        ('node2@ocfs2-b#lun3', 'labcluster@ocfs2#lun3',
         'node1@ocfs2#lun3', 'labcluster@ocfs2#lun3', None),
        (None, 'labcluster@ocfs2',
         'node1@ocfs2#lun1', 'labcluster@ocfs2#lun1', None),
    )
    @ddt.unpack
    def test_kept_host(self, volume_host, volume_cluster, chosen_host,
                       chosen_cluster, expected):
        self.assertEqual(expected, scheduler.kept_host(
            volume_host, volume_cluster, chosen_host, chosen_cluster))

    @ddt.data(
        ('labcluster@ocfs2', 'node2@ocfs2#lun1', 'labcluster@ocfs2#lun1'),
        ('labcluster@ocfs2', 'node2@ocfs2', 'labcluster@ocfs2'),
        ('labcluster@ocfs2#lun2', 'node2@ocfs2#lun1',
         'labcluster@ocfs2#lun2'),
    )
    @ddt.unpack
    def test_requested_pool_target(self, backend, volume_host, expected):
        self.assertEqual(expected, scheduler.requested_pool_target(
            backend, volume_host))


class ClusterMemberFilterSchedulerTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        self.sched = scheduler.ClusterMemberFilterScheduler()
        # lun2 first: FilterScheduler's weigher likes it best.
        self.candidates = [_pool('lun2'), _pool('lun1')]
        self.mock_object(self.sched, '_get_weighted_candidates',
                         mock.Mock(return_value=self.candidates))

    def _retype_spec(self, host, cluster):
        return {'volume_id': 'v1', 'volume_type': {'name': 'gold'},
                'volume_properties': {'host': host, 'cluster_name': cluster,
                                      'size': 1}}

    def _manage_spec(self, host):
        return {'ref': {'source-name': 'volume-x'}, 'volume_id': 'v1',
                'volume_properties': {'host': host, 'cluster_name': CLUSTER}}

    def test_retype_in_place_keeps_the_member(self):
        spec = self._retype_spec('node2@ocfs2#lun1', 'labcluster@ocfs2#lun1')
        backend = self.sched.find_retype_backend(None, spec, {})
        self.assertEqual('node2@ocfs2#lun1', backend.host)
        self.assertEqual('labcluster@ocfs2#lun1', backend.cluster_name)
        self.assertEqual('lun1', backend.pool_name)

    def test_retype_in_place_on_the_named_member_is_unchanged(self):
        spec = self._retype_spec('node1@ocfs2#lun1', 'labcluster@ocfs2#lun1')
        backend = self.sched.find_retype_backend(None, spec, {})
        self.assertIs(self.candidates[1].obj, backend)

    def test_retype_with_migration_keeps_the_schedulers_pick(self):
        self.candidates[:] = [_pool('lun3', 'node1@ocfs2-b',
                                    'labcluster@ocfs2-b')]
        spec = self._retype_spec('node2@ocfs2#lun1', 'labcluster@ocfs2#lun1')
        backend = self.sched.find_retype_backend(None, spec, {},
                                                 'on-demand')
        self.assertEqual('node1@ocfs2-b#lun3', backend.host)

    def test_retype_of_an_unclustered_volume_is_filter_schedulers(self):
        self.candidates[:] = [_pool('lun1', cluster=None)]
        spec = self._retype_spec('node1@ocfs2#lun1', None)
        backend = self.sched.find_retype_backend(None, spec, {})
        self.assertIs(self.candidates[0].obj, backend)

    def test_manage_uses_the_named_member_and_pool(self):
        spec = self._manage_spec('node2@ocfs2#lun1')
        backend = self.sched.backend_passes_filters(None, CLUSTER, spec, {})
        self.assertEqual('node2@ocfs2#lun1', backend.host)
        self.assertEqual('labcluster@ocfs2#lun1', backend.cluster_name)

    def test_manage_without_pool_takes_the_best_pool_on_the_member(self):
        spec = self._manage_spec('node2@ocfs2')
        backend = self.sched.backend_passes_filters(None, CLUSTER, spec, {})
        self.assertEqual('node2@ocfs2#lun2', backend.host)

    def test_manage_into_a_missing_pool_fails_as_filter_scheduler(self):
        spec = self._manage_spec('node2@ocfs2#lun9')
        self.assertRaises(
            exception.NoValidBackend,
            self.sched.backend_passes_filters, None, CLUSTER, spec, {})

    def test_extend_keeps_the_schedulers_pick(self):
        spec = {'volume_id': 'v1',
                'volume_properties': {'host': 'node2@ocfs2#lun1',
                                      'cluster_name': CLUSTER}}
        backend = self.sched.backend_passes_filters(
            None, 'labcluster@ocfs2#lun1', spec, {})
        self.assertIs(self.candidates[1].obj, backend)
        backend.consume_from_volume({'size': 1})
        self.assertEqual(99, self.candidates[1].obj.free_capacity_gb)

    def test_consuming_through_the_member_view_updates_the_record(self):
        spec = self._retype_spec('node2@ocfs2#lun1', 'labcluster@ocfs2#lun1')
        backend = self.sched.find_retype_backend(None, spec, {})
        backend.consume_from_volume({'size': 10})
        self.assertEqual(90, self.candidates[1].obj.free_capacity_gb)
