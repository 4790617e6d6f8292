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

"""A filter scheduler that keeps the member host of a clustered volume.

In a cinder cluster (active-active) every member serves every volume of
the backend, and ``volume.host`` records the member that created the
volume (``node2@ocfs2#lun1``). cinder's FilterScheduler names a whole
cluster by one member, the first service it found up, and two paths write
that name over the volume's although the volume does not move:

* retype between types with equal extra specs (the volume manager records
  the scheduler's host without calling the driver);
* manage, which records the scheduler's host (and the pool its weigher
  liked best) instead of the ``host@backend#pool`` the user named.

So a volume's host flips to another node for no reason, and a managed
file is looked for in a pool the user did not name. This scheduler
returns the member and pool the volume already names whenever the backend
it picked is the volume's own cluster. Everything else is FilterScheduler's
unchanged. It is optional (``[DEFAULT] scheduler_driver`` on the
cinder-scheduler hosts); without it the driver works the same and only the
host shown for such volumes changes.
"""

from cinder.scheduler import filter_scheduler
from cinder.volume import volume_utils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def kept_host(volume_host, volume_cluster, chosen_host, chosen_cluster):
    """The host to record for a volume kept in its own cluster, or None.

    ``volume_host`` is the member the volume names (``node2@ocfs2#lun1``);
    ``volume_cluster`` its cluster (``labcluster@ocfs2``, with or without a
    pool). ``chosen_*`` is the scheduler's pick (``node1@ocfs2#lun1``,
    ``labcluster@ocfs2#lun1``). When the pick is a pool of the volume's own
    cluster and backend, the answer is the volume's member with the pick's
    pool; otherwise (no cluster, another cluster or backend) None, and the
    scheduler's pick stands.
    """
    if not (volume_host and volume_cluster and chosen_cluster):
        return None
    if (volume_utils.extract_host(volume_cluster) !=
            volume_utils.extract_host(chosen_cluster)):
        return None
    member = volume_utils.extract_host(volume_host)
    chosen_backend = volume_utils.extract_host(chosen_host)
    if member.partition('@')[2] != chosen_backend.partition('@')[2]:
        return None
    return volume_utils.append_host(
        member, volume_utils.extract_host(chosen_host, level='pool'))


def requested_pool_target(backend, volume_host):
    """Narrow a pool-less manage target to the pool the user named.

    ``backend`` is the queue the scheduler is asked about: for a clustered
    service the cluster without a pool (``labcluster@ocfs2``), so any pool
    passes. ``volume_host`` is the host the user gave (``node2@ocfs2#lun1``).
    """
    pool = volume_utils.extract_host(volume_host, level='pool')
    if not pool or volume_utils.extract_host(backend, level='pool'):
        return backend
    return volume_utils.append_host(backend, pool)


class MemberBackend(object):
    """A scheduler backend seen under another member's host.

    Everything but ``host`` is the wrapped backend's, so capacity consumed
    through it is consumed from the scheduler's own record.
    """

    def __init__(self, backend, host):
        self._backend = backend
        self.host = host

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def __repr__(self):
        return '%s as %s' % (self._backend, self.host)


def _as_member(chosen, volume_properties):
    host = kept_host(volume_properties.get('host'),
                     volume_properties.get('cluster_name'),
                     chosen.host, chosen.cluster_name)
    if host is None or host == chosen.host:
        return chosen
    LOG.debug('Volume stays in cluster %(cluster)s: keeping its host '
              '%(host)s instead of %(chosen)s.',
              {'cluster': chosen.cluster_name, 'host': host,
               'chosen': chosen.host})
    return MemberBackend(chosen, host)


class ClusterMemberFilterScheduler(filter_scheduler.FilterScheduler):
    """FilterScheduler that leaves a clustered volume on its member."""

    def find_retype_backend(self, context, request_spec,
                            filter_properties=None,
                            migration_policy='never'):
        chosen = super(ClusterMemberFilterScheduler,
                       self).find_retype_backend(
            context, request_spec, filter_properties, migration_policy)
        # FilterScheduler itself reads these two from the same place.
        props = request_spec['volume_properties']
        if chosen.backend_id != props.get('cluster_name'):
            # Another pool or backend: a migration, whose target is new.
            return chosen
        return _as_member(chosen, props)

    def backend_passes_filters(self, context, backend, request_spec,
                               filter_properties):
        # Only manage_existing asks with a plain dict that has a 'ref';
        # extend, migrate and the snapshot paths keep FilterScheduler's pick.
        managing = isinstance(request_spec, dict) and 'ref' in request_spec
        props = {}
        if managing:
            props = request_spec.get('volume_properties') or {}
        if props.get('host'):
            backend = requested_pool_target(backend, props['host'])
        chosen = super(ClusterMemberFilterScheduler,
                       self).backend_passes_filters(
            context, backend, request_spec, filter_properties)
        return _as_member(chosen, props) if managing else chosen
