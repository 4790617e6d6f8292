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

"""Where a migration would put a volume: the pools' ``location_info``.

Each pool reports ``location_info`` as ``ocfs2:<fsid>:<mount path>``: the
filesystem id of its LUN (statvfs f_fsid, the same on every node) and the
path every node mounts it at. A volume moving to a pool with such a
location can be copied file to file by the node that runs the migration,
if that node mounts the same filesystem at that path; any other
destination is left to cinder's host-assisted copy.

Everything here is pure: capabilities in, a ``Location`` or a reason out.
"""

import dataclasses
import os

from cinder.volume import volume_utils

PREFIX = 'ocfs2'


@dataclasses.dataclass(frozen=True)
class Location:
    """A pool's LUN as its backend reports it."""

    # statvfs(mount point).f_fsid as a hex string, e.g. "0x3f2a9c10d4e5b677".
    fsid: str
    # Mount point, the same on every node, e.g. /var/lib/cinder/ocfs2/lun3.
    path: str

    @property
    def pool(self):
        """The pool name: the mount directory's name."""
        return os.path.basename(self.path)


def location_info(fsid, path):
    """The ``location_info`` capability of a pool."""
    return '%s:%s:%s' % (PREFIX, fsid, path)


def parse_location_info(text):
    """A Location, or None when text is not an OCFS2 pool's location.

    The path comes last and may itself hold colons.
    """
    if not isinstance(text, str):
        return None
    prefix, _sep, rest = text.partition(':')
    fsid, sep, path = rest.partition(':')
    if prefix != PREFIX or not sep or not fsid.startswith('0x'):
        return None
    if not os.path.isabs(path) or os.path.normpath(path) in ('/', '//'):
        return None
    return Location(fsid=fsid, path=os.path.normpath(path))


def destination(host):
    """The LUN a migration to ``host`` targets, and why not if none.

    :param host: the dict cinder's volume manager passes to
        ``migrate_volume``: 'host' (``host@backend#pool``) and
        'capabilities' (the destination pool's reported stats).
    :returns: (Location, None), or (None, a reason for the log).
    """
    capabilities = host.get('capabilities') or {}
    location = parse_location_info(capabilities.get('location_info'))
    if location is None:
        return None, ('%s reports no OCFS2 location_info (%r)'
                      % (host.get('host'),
                         capabilities.get('location_info')))
    pool = volume_utils.extract_host(host.get('host'), level='pool')
    if pool != location.pool:
        return None, ('the pool of %s is not the LUN at %s it reports'
                      % (host.get('host'), location.path))
    return location, None
