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

"""What every member of an active-active backend can use, shared on the LUNs.

In a cinder cluster either member takes a request, and the scheduler sees
a pool as whichever member reported it last. A LUN that one node cannot
use (OCFS2 remounted it read-only there after an I/O error, or it is not
mounted there) would then fail the requests that land on that node, at
random. So each member writes what it cannot use to every LUN it can
use, on each stats refresh, and reads what the others wrote: a pool that
any live member cannot use is reported down by every member, with the
reason, until all of them can use it again.

``render_view``, ``parse_view`` and ``withdrawn_pools`` are pure;
``publish`` and ``read_views`` do the file I/O. A view is a small JSON
file, ``.cinder-ocfs2-views/<cinder cluster>/<host>.json`` at a LUN's
root (the cinder cluster's name is ``<cluster>@<backend>``), replaced
atomically. A view older than ``max_age`` (its member stopped
or lost every LUN) counts for nothing: clocks of o2cb nodes are kept in
step, as OCFS2 needs.
"""

import dataclasses
import datetime
import json
import os
import tempfile
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

VIEWS_DIR_NAME = '.cinder-ocfs2-views'
# A member writes its view on every stats refresh (every 60 s by default):
# one not renewed for five minutes is from a member that stopped.
MAX_AGE = datetime.timedelta(minutes=5)


class ViewParseError(ValueError):
    """A view file whose content is not a view."""


@dataclasses.dataclass(frozen=True)
class MemberView:
    """One member's view of the backend's pools."""

    # The member's cinder host, e.g. "node1@ocfs2".
    host: str
    # When it was written (aware UTC datetime).
    written_at: datetime.datetime
    # Pools the member cannot use now: pool name -> reason.
    unusable: dict
    # Pools the member uses now, sorted: the others learn from it which
    # pools exist, so a pool that is not mounted on one of them at all
    # counts as unusable there.
    used: tuple = ()


def render_view(view):
    """The JSON text of a MemberView."""
    return json.dumps({'host': view.host,
                       'written_at': view.written_at.isoformat(),
                       'unusable': view.unusable,
                       'used': list(view.used)},
                      indent=1, sort_keys=True) + '\n'


def parse_view(text):
    """Parse a view's JSON text into a MemberView.

    Example: '{"host": "node1@ocfs2", "written_at":
    "2026-11-29T12:00:00+00:00", "unusable": {"lun1": "read-only"}}'.
    """
    try:
        data = json.loads(text)
        written_at = datetime.datetime.fromisoformat(data['written_at'])
        unusable = data['unusable']
        if written_at.tzinfo is None or not isinstance(unusable, dict):
            raise ValueError('a naive time or no pool map')
        return MemberView(host=str(data['host']), written_at=written_at,
                          unusable={str(pool): str(reason) for pool, reason
                                    in unusable.items()},
                          used=tuple(sorted(str(pool) for pool
                                            in data.get('used', ()))))
    except (ValueError, TypeError, KeyError) as err:
        raise ViewParseError('not a cinder-ocfs2 member view: %s'
                             % err) from err


def withdrawn_pools(views, own_host, now, max_age):
    """Pools that another live member cannot use: pool -> reason.

    :param views: MemberViews read from the LUNs, several per host.
    :param own_host: this member's host; its own views are left out (it
        knows its own state first hand).
    :param now: aware UTC datetime.
    :param max_age: datetime.timedelta after which a view is stale.
    """
    newest = {}
    for view in views:
        if view.host == own_host or now - view.written_at > max_age:
            continue
        if (view.host not in newest or
                view.written_at > newest[view.host].written_at):
            newest[view.host] = view
    withdrawn = {}
    for host, view in sorted(newest.items()):
        for pool, reason in sorted(view.unusable.items()):
            withdrawn.setdefault(pool, 'member %s of this backend cannot '
                                       'use it: %s' % (host, reason))
    return withdrawn


class WithdrawnLog:
    """Logs the pools withdrawn for other members, once per change."""

    def __init__(self):
        self._last = {}
        self._lock = threading.Lock()

    def report(self, withdrawn):
        with self._lock:
            for pool, reason in sorted(withdrawn.items()):
                if self._last.get(pool) != reason:
                    LOG.warning('OCFS2 pool %(pool)s is offered by no '
                                'member of this backend: %(why)s.',
                                {'pool': pool, 'why': reason})
            for pool in sorted(set(self._last) - set(withdrawn)):
                LOG.info('OCFS2 pool %s: every member of this backend can '
                         'use it again.', pool)
            self._last = dict(withdrawn)


def _views_dir(lun_path, cluster):
    return os.path.join(lun_path, VIEWS_DIR_NAME, cluster)


def publish(lun_paths, cluster, view):
    """Write a member's view to every LUN it can use.

    A LUN that cannot be written is logged and skipped: the view on the
    other LUNs still tells the other members.
    """
    text = render_view(view)
    name = '%s.json' % view.host
    for lun_path in lun_paths:
        directory = _views_dir(lun_path, cluster)
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix='.%s.' % name,
                                        dir=directory)
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as out:
                    out.write(text)
                os.chmod(temp, 0o644)
                os.rename(temp, os.path.join(directory, name))
            except BaseException:
                os.unlink(temp)
                raise
        except OSError as err:
            LOG.warning('Could not share this member\'s view of the pools '
                        'on %(lun)s: %(err)s', {'lun': lun_path, 'err': err})


def read_views(lun_paths, cluster):
    """Every member view on the LUNs; unreadable ones are skipped."""
    views = []
    for lun_path in lun_paths:
        directory = _views_dir(lun_path, cluster)
        try:
            names = [name for name in os.listdir(directory)
                     if name.endswith('.json') and not name.startswith('.')]
        except FileNotFoundError:
            continue
        except OSError as err:
            LOG.warning('Could not read the member views on %(lun)s: '
                        '%(err)s', {'lun': lun_path, 'err': err})
            continue
        for name in names:
            try:
                with open(os.path.join(directory, name),
                          encoding='utf-8') as view_file:
                    views.append(parse_view(view_file.read()))
            except FileNotFoundError:
                continue
            except (OSError, ViewParseError) as err:
                LOG.warning('Ignoring member view %(path)s: %(err)s',
                            {'path': os.path.join(directory, name),
                             'err': err})
    return views
