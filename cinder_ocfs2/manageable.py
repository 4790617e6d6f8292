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

"""Files on a LUN that cinder may take over, and how they are named.

``openstack volume manage --host <node>@<backend>#<pool> <source-name>``
names an existing file in the root directory of that pool's LUN, by its
name or its absolute path. The file is adopted as a raw volume: the format
a guest uses, read as raw by the attach path. Its format is never probed
with qemu-img (a guest can write an image header into a raw disk); a file
whose first bytes make oslo's format inspector see an image format such as
qcow2 or vmdk is refused, with the conversion to run first.
"""

import dataclasses
import math
import os
import re
import stat

from oslo_utils.imageutils import format_inspector
from oslo_utils import units

from cinder import exception
from cinder.i18n import _

# Formats whose bytes are the disk itself: a partitioned disk (gpt, an MBR
# inside it) or an ISO image is still raw data for a guest.
RAW_LIKE = frozenset(('raw', 'gpt', 'iso'))
# volume-<uuid>: a cinder volume's file.
VOLUME_FILE = re.compile(
    r'^volume-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$')
# snapshot-<uuid>: a raw volume's snapshot; volume-<uuid>.<anything>: the
# info file or an overlay of a qcow2 volume.
VOLUME_PART_FILE = re.compile(
    r'^(snapshot-[0-9a-f-]{36}|volume-[0-9a-f-]{36}\..+)$')


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A file in a LUN's root that could become a volume."""
    pool: str
    name: str
    path: str
    size_gb: int
    reason_not_safe: str = None

    @property
    def safe(self):
        return self.reason_not_safe is None


def _invalid(existing_ref, reason):
    return exception.ManageExistingInvalidReference(
        existing_ref=existing_ref, reason=reason)


def _source(existing_ref):
    source = (existing_ref.get('source-name')
              if isinstance(existing_ref, dict) else None)
    return source if isinstance(source, str) else None


def pools_holding(existing_ref, luns):
    """The pools whose LUN root holds the file existing_ref names.

    For a manage request without a pool in its host (``--cluster``).

    :param luns: (pool, mount point) pairs of the usable LUNs.
    """
    source = _source(existing_ref)
    if not source:
        return []
    if os.path.isabs(source):
        directory = os.path.dirname(os.path.normpath(source))
        return [pool for pool, path in luns
                if os.path.normpath(path) == directory]
    return [pool for pool, path in luns
            if '/' not in source and
            os.path.lexists(os.path.join(path, source))]


def file_name(existing_ref, lun_path):
    """The name, in the LUN's root, of the file existing_ref points at.

    :param existing_ref: the manage request's reference, whose
        ``source-name`` is a file name or an absolute path.
    :param lun_path: the mount point of the pool the volume goes to.
    """
    source = _source(existing_ref)
    if not source:
        raise _invalid(existing_ref, _(
            'give the file as source-name: its name in the root directory '
            'of the pool\'s LUN (%s), or its absolute path') % lun_path)
    if os.path.isabs(source):
        directory, name = os.path.split(os.path.normpath(source))
        if directory != os.path.normpath(lun_path):
            raise _invalid(existing_ref, _(
                '%(source)s is not in the root directory of this pool\'s '
                'LUN (%(lun)s). Move the file there (same filesystem: mv '
                'is instant), or pass the pool of the LUN it is on in '
                '--host') % {'source': source, 'lun': lun_path})
    else:
        name = source
    if '/' in name or name.startswith('.'):
        raise _invalid(existing_ref, _(
            '%s is not a plain file name; hidden files and '
            'subdirectories belong to the driver') % source)
    return name


def unsafe_reason(path, name):
    """Why the file at path must not be managed, or None.

    Checks the kind of file and its name; the format check is separate
    (see format_problem) because it reads the file.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return _('there is no file %s') % path
    if stat.S_ISLNK(info.st_mode):
        return _('%s is a symbolic link; manage the file it points to, '
                 'moved into the LUN\'s root directory') % path
    if not stat.S_ISREG(info.st_mode):
        return _('%s is not a regular file') % path
    if VOLUME_PART_FILE.match(name):
        return _('%s is a snapshot of a cinder volume or part of a qcow2 '
                 'volume, not a volume') % name
    return format_problem(path)


def format_problem(path):
    """Why the file's bytes are not a raw disk, or None."""
    try:
        found = format_inspector.detect_file_format(path).NAME
    except Exception as err:
        return _('the format of %(path)s could not be read: %(err)s') % {
            'path': path, 'err': err}
    if found in RAW_LIKE:
        return None
    return _('%(path)s looks like a %(format)s image, and volumes here are '
             'raw files. Convert it first: qemu-img convert -f %(format)s '
             '-O raw %(path)s <name>.raw') % {'path': path, 'format': found}


def size_gb(path):
    """The volume size that holds the whole file, in GiB (at least 1)."""
    return max(1, int(math.ceil(os.lstat(path).st_size / float(units.Gi))))


def volume_id_of(name):
    """The volume id in a cinder volume file's name, or None."""
    match = VOLUME_FILE.match(name)
    return match.group(1) if match else None


def candidates(pool, lun_path, managed_names):
    """Every file in the LUN's root that could be managed, with why not.

    :param managed_names: names of the files of cinder's volumes.
    """
    found = []
    with os.scandir(lun_path) as entries:
        names = sorted(entry.name for entry in entries
                       if not entry.name.startswith('.'))
    for name in names:
        path = os.path.join(lun_path, name)
        if VOLUME_PART_FILE.match(name) or (
                os.path.isdir(path) and not os.path.islink(path)):
            continue
        reason = (_('Volume already managed.') if name in managed_names
                  else unsafe_reason(path, name))
        found.append(Candidate(pool=pool, name=name, path=path,
                               size_gb=size_gb(path),
                               reason_not_safe=reason))
    return found


def listing_entry(candidate, cinder_id=None):
    """A candidate in the form of cinder's manageable-volumes API."""
    return {
        'reference': {'source-name': candidate.path},
        'size': candidate.size_gb,
        'safe_to_manage': candidate.safe,
        'reason_not_safe': candidate.reason_not_safe,
        'cinder_id': cinder_id,
        'extra_info': 'pool %s' % candidate.pool,
    }
