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

"""The identity marker on each LUN: which pool a filesystem belongs to.

A marker file at the root of each LUN records the pool name and the
filesystem id the kernel reports for it (statvfs f_fsid; OCFS2 derives it
from the volume UUID, so it is the same on every node). Before a LUN is
written to, the marker must name the pool it is mounted as and match the
filesystem it sits on. So a LUN mounted at another LUN's path, or a copy of
a LUN's files on another filesystem, is refused rather than written to.
"""

import dataclasses
import json
import os
import socket
import tempfile

from oslo_log import log as logging
from oslo_utils import timeutils

from cinder_ocfs2 import exception

LOG = logging.getLogger(__name__)

MARKER_NAME = '.cinder-ocfs2-lun'


class MarkerParseError(ValueError):
    """A marker file whose content is not a marker."""


@dataclasses.dataclass(frozen=True)
class LunIdentity:
    """What a marker file says, or what a mounted LUN is."""

    # Pool name: the LUN's directory name below the mount point base.
    pool: str
    # statvfs(mount point).f_fsid, as a hex string.
    fsid: str


def parse_marker(text):
    """Parse a marker's JSON text.

    Example: '{"pool": "lun1", "fsid": "0x3f2a9c10d4e5b677"}' gives
    LunIdentity(pool='lun1', fsid='0x3f2a9c10d4e5b677').
    """
    try:
        data = json.loads(text)
        return LunIdentity(pool=str(data['pool']), fsid=str(data['fsid']))
    except (ValueError, TypeError, KeyError) as err:
        raise MarkerParseError('not a cinder-ocfs2 marker: %s' % err) from err


def render_marker(identity, host=None, created_at=None):
    """The JSON text of a marker for an identity."""
    return json.dumps({
        'pool': identity.pool,
        'fsid': identity.fsid,
        'created_by': host or socket.gethostname(),
        'created_at': (created_at or timeutils.utcnow()).isoformat(),
    }, indent=1, sort_keys=True) + '\n'


def mounted_identity(lun):
    """The identity of the filesystem mounted for a LUN, from statvfs."""
    return LunIdentity(pool=lun.pool, fsid=hex(os.statvfs(lun.path).f_fsid))


def verify(lun, create=False):
    """Check that a LUN's marker matches what is mounted at its path.

    :param create: write a marker when there is none (used before the first
        volume is placed on a LUN). When False, a LUN without a marker is
        accepted as it is: it has never held a volume of this driver.
    :raises LunIdentityMismatch: the marker names another pool or another
        filesystem, or cannot be read.
    """
    marker_path = os.path.join(lun.path, MARKER_NAME)
    actual = mounted_identity(lun)
    try:
        with open(marker_path, encoding='utf-8') as marker:
            recorded = parse_marker(marker.read())
    except FileNotFoundError:
        if not create:
            return actual
        _write_marker(marker_path, actual)
        # Another node may have won the race to write it: check the winner.
        return verify(lun, create=False)
    except (OSError, MarkerParseError) as err:
        raise exception.LunIdentityMismatch(
            path=lun.path, pool=lun.pool, marker=marker_path,
            reason='its marker cannot be read (%s)' % err) from err
    if recorded.pool != actual.pool:
        raise exception.LunIdentityMismatch(
            path=lun.path, pool=lun.pool, marker=marker_path,
            reason='its marker says it is pool %s' % recorded.pool)
    if recorded.fsid != actual.fsid:
        raise exception.LunIdentityMismatch(
            path=lun.path, pool=lun.pool, marker=marker_path,
            reason='its marker was written on filesystem %s but this is '
                   'filesystem %s' % (recorded.fsid, actual.fsid))
    return actual


def _write_marker(marker_path, identity):
    """Create the marker atomically; another node may race to do the same."""
    directory = os.path.dirname(marker_path)
    fd, temp_path = tempfile.mkstemp(prefix=MARKER_NAME + '.', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as temp:
            temp.write(render_marker(identity))
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_path, 0o644)
        # link() fails if the marker exists, so the first writer wins.
        os.link(temp_path, marker_path)
        LOG.info('Marked the OCFS2 LUN at %(path)s as pool %(pool)s '
                 '(filesystem %(fsid)s).',
                 {'path': directory, 'pool': identity.pool,
                  'fsid': identity.fsid})
    except FileExistsError:
        pass
    finally:
        os.unlink(temp_path)
