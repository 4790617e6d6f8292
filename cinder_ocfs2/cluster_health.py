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

"""Whether the o2cb cluster lets this backend place volumes, and why not.

Pure decisions on a ``cinder_ocfs2.o2cb.ClusterState``, plus a log that
says the cluster's state once per change rather than on every stats
refresh.
"""

from oslo_log import log as logging

from cinder_ocfs2 import o2cb

LOG = logging.getLogger(__name__)


def down_reason(state, wanted_cluster):
    """Why no LUN of the backend can take volumes, or None.

    :param wanted_cluster: the ocfs2_cluster_name option, or None.
    """
    if state.status is o2cb.ClusterStatus.OFFLINE or (
            wanted_cluster and not state.online):
        first = state.problems[0].message if state.problems else ''
        return 'o2cb cluster %s is %s. %s' % (
            state.name or wanted_cluster or '(none)', state.status.value,
            first)
    return None


def lun_problem(lun, state, wanted_cluster):
    """Why a LUN must take no new volume now, or None.

    When o2cb cannot be read at all (and no cluster name is configured)
    nothing is known against the LUN, so it is used; the state is logged.
    """
    down = down_reason(state, wanted_cluster)
    if down:
        return down
    if state.online and not state.has_live_heartbeat(lun.device):
        return ('no live o2cb heartbeat region for %s on this node; '
                'writing to it risks fencing. Check "o2cb '
                'cluster-status" and dmesg' % lun.device)
    return None


class ChangeLog:
    """Logs a cluster state when its status or problems change."""

    def __init__(self):
        self._last = None

    def report(self, state):
        """Log state if it differs from the last one; return it."""
        summary = (state.status, tuple(p.code for p in state.problems))
        if summary != self._last:
            self._last = summary
            if state.problems:
                LOG.warning('%(state)s. Problems: %(problems)s',
                            {'state': state, 'problems': ' '.join(
                                '%s (fix: %s)' % (p.message, p.fix)
                                for p in state.problems)})
            else:
                LOG.info('%s.', state)
        return state
