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

``openstack volume snapshot create --volume <volume> --remote-source
source-name=<file> <name>`` (``cinder snapshot-manage``) names a file in
the root directory of the LUN of the snapshot's raw volume, by name or
absolute path, under the same rules, plus: the file must be on that
volume's LUN (reverts and volumes from a snapshot copy it by reflink,
which works only within a LUN), it must have no other hard link (a write
through the other name would change the snapshot), it must not be larger
than the volume, and a name of a volume's file (``volume-<id>`` and its
parts) is never taken. Snapshots of qcow2 volumes are overlays in a
chain, and are never managed.
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
# snapshot-<uuid>: a raw volume's snapshot, as the driver names it.
SNAPSHOT_FILE = re.compile(
    r'^snapshot-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
    r'[0-9a-f]{12})$')
# A volume's file, or one of its parts (qcow2 info and overlays, the
# replacement written during a revert): never a snapshot.
VOLUME_OWNED_FILE = re.compile(r'^volume-[0-9a-f-]{36}(\..*)?$')


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


def _split_source(existing_ref, lun_path):
    """(source, directory or None for a bare name, name) of a reference."""
    source = _source(existing_ref)
    if not source:
        raise _invalid(existing_ref, _(
            'give the file as source-name: its name in the root directory '
            'of the pool\'s LUN (%s), or its absolute path') % lun_path)
    if os.path.isabs(source):
        directory, name = os.path.split(os.path.normpath(source))
        return source, directory, name
    return source, None, source


def _plain_name(existing_ref, source, name):
    if '/' in name or name.startswith('.'):
        raise _invalid(existing_ref, _(
            '%s is not a plain file name; hidden files and '
            'subdirectories belong to the driver') % source)
    return name


def file_name(existing_ref, lun_path):
    """The name, in the LUN's root, of the file existing_ref points at.

    :param existing_ref: the manage request's reference, whose
        ``source-name`` is a file name or an absolute path.
    :param lun_path: the mount point of the pool the volume goes to.
    """
    source, directory, name = _split_source(existing_ref, lun_path)
    if directory is not None and directory != os.path.normpath(lun_path):
        raise _invalid(existing_ref, _(
            '%(source)s is not in the root directory of this pool\'s '
            'LUN (%(lun)s). Move the file there (same filesystem: mv '
            'is instant), or pass the pool of the LUN it is on in '
            '--host') % {'source': source, 'lun': lun_path})
    return _plain_name(existing_ref, source, name)


def snapshot_file_name(existing_ref, volume_id, pool, lun_path, luns):
    """The name of the file a snapshot manage request points at.

    The file must be in the root directory of the LUN of the snapshot's
    volume; a file on another LUN is refused saying so.

    :param volume_id: the id of the snapshot's volume, for the messages.
    :param pool: the volume's pool; lun_path is its LUN's mount point.
    :param luns: (pool, mount point) pairs of the usable LUNs.
    """
    source, directory, name = _split_source(existing_ref, lun_path)
    lun_path = os.path.normpath(lun_path)
    others = [(other, os.path.normpath(path)) for other, path in luns
              if other != pool and os.path.normpath(path) != lun_path]
    if directory is not None:
        holders = [other for other, path in others if path == directory]
    elif '/' in name or name.startswith('.') or os.path.lexists(
            os.path.join(lun_path, name)):
        holders = []
    else:
        holders = [other for other, path in others
                   if os.path.lexists(os.path.join(path, name))]
    if holders:
        raise _invalid(existing_ref, _(
            '%(source)s is on the LUN of pool %(other)s, but a snapshot of '
            'volume %(volume)s must be on that volume\'s LUN (pool '
            '%(pool)s, %(lun)s): reverts and volumes from the snapshot '
            'copy it by reflink, which works only within one LUN. Copy it '
            'into %(lun)s first (between LUNs that is a full copy) and '
            'manage the copy') % {
                'source': source, 'other': ', '.join(holders),
                'volume': volume_id, 'pool': pool, 'lun': lun_path})
    if directory is not None and directory != lun_path:
        raise _invalid(existing_ref, _(
            '%(source)s is not in the root directory of the LUN of volume '
            '%(volume)s (%(lun)s). Move the file there (within that LUN, '
            'mv is instant) and manage it by its name') % {
                'source': source, 'volume': volume_id, 'lun': lun_path})
    return _plain_name(existing_ref, source, name)


def _kind_problem(path):
    """Why the file at path is no regular file of its own name, or None."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return _('there is no file %s') % path
    if stat.S_ISLNK(info.st_mode):
        return _('%s is a symbolic link; manage the file it points to, '
                 'moved into the LUN\'s root directory') % path
    if not stat.S_ISREG(info.st_mode):
        return _('%s is not a regular file') % path
    return None


def unsafe_reason(path, name):
    """Why the file at path must not be managed, or None.

    Checks the kind of file and its name; the format check is separate
    (see format_problem) because it reads the file.
    """
    reason = _kind_problem(path)
    if reason:
        return reason
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


def snapshot_unsafe_reason(path, name):
    """Why the file at path must not become a raw volume's snapshot, or None.

    Checks the kind of file, its name, its links and its format; whether a
    snapshot-<id> name belongs to a cinder snapshot needs cinder's
    database, and is the caller's check (snapshot_id_of).
    """
    reason = _kind_problem(path)
    if reason:
        return reason
    if VOLUME_OWNED_FILE.match(name):
        return _('%s is named as a cinder volume\'s file or a part of one, '
                 'and is never taken as a snapshot. If it is no volume\'s '
                 'file any more, rename it (mv, within the LUN) and manage '
                 'it by its new name') % name
    links = os.lstat(path).st_nlink
    if links > 1:
        return _('%(path)s has %(links)d hard links: a write through '
                 'another name would change the snapshot. Make an '
                 'independent copy (cp --reflink=always %(path)s <name>) '
                 'and manage that') % {'path': path, 'links': links}
    return format_problem(path)


def snapshot_size_problem(path, volume_id, volume_size_gb):
    """Why a file is too large to be a snapshot of the volume, or None.

    A snapshot holds its volume's data as it was, and a volume never
    shrinks: a larger file is no snapshot of it. (cinder also reverts
    only to a snapshot of the volume's size, and a revert sets the file
    to the volume's size.)
    """
    size = os.lstat(path).st_size
    if size <= volume_size_gb * units.Gi:
        return None
    return _('%(path)s holds %(size)d bytes, more than volume %(volume)s '
             '(%(gb)d GiB): a volume never shrinks, so this is no snapshot '
             'of it. Extend the volume first, or manage the file as a '
             'volume of its own') % {'path': path, 'size': size,
                                     'volume': volume_id,
                                     'gb': volume_size_gb}


def size_gb(path):
    """The volume size that holds the whole file, in GiB (at least 1)."""
    return max(1, int(math.ceil(os.lstat(path).st_size / float(units.Gi))))


def volume_id_of(name):
    """The volume id in a cinder volume file's name, or None."""
    match = VOLUME_FILE.match(name)
    return match.group(1) if match else None


def snapshot_id_of(name):
    """The snapshot id in a raw snapshot file's name, or None."""
    match = SNAPSHOT_FILE.match(name)
    return match.group(1) if match else None


def _root_files(lun_path, skipped):
    """(name, path) of the files in a LUN's root a manage could take.

    Hidden names, names matching the regular expression skipped, and
    directories are left out; symbolic links stay, to be refused.
    """
    with os.scandir(lun_path) as entries:
        names = sorted(entry.name for entry in entries
                       if not entry.name.startswith('.'))
    for name in names:
        path = os.path.join(lun_path, name)
        if skipped.match(name) or (
                os.path.isdir(path) and not os.path.islink(path)):
            continue
        yield name, path


def candidates(pool, lun_path, managed_names):
    """Every file in the LUN's root that could be managed, with why not.

    :param managed_names: names of the files of cinder's volumes.
    """
    found = []
    for name, path in _root_files(lun_path, VOLUME_PART_FILE):
        reason = (_('Volume already managed.') if name in managed_names
                  else unsafe_reason(path, name))
        found.append(Candidate(pool=pool, name=name, path=path,
                               size_gb=size_gb(path),
                               reason_not_safe=reason))
    return found


def snapshot_candidates(pool, lun_path, managed_names):
    """Every file in the LUN's root that could be a snapshot, with why not.

    The files of volumes (volume-<id> and its parts) and directories are
    left out; every other file is listed, snapshot-<id> files and files
    of other names alike.

    :param managed_names: names of the files of cinder's snapshots.
    """
    found = []
    for name, path in _root_files(lun_path, VOLUME_OWNED_FILE):
        reason = (_('Snapshot already managed.') if name in managed_names
                  else snapshot_unsafe_reason(path, name))
        found.append(Candidate(pool=pool, name=name, path=path,
                               size_gb=size_gb(path),
                               reason_not_safe=reason))
    return found


def listing_entry(candidate, cinder_id=None):
    """A candidate in the form of cinder's manageable-volumes API.

    extra_info is a dict: cinder turns each entry into a ManageableVolume,
    whose extra_info field takes only a dict of strings.
    """
    return {
        'reference': {'source-name': candidate.path},
        'size': candidate.size_gb,
        'safe_to_manage': candidate.safe,
        'reason_not_safe': candidate.reason_not_safe,
        'cinder_id': cinder_id,
        'extra_info': {'pool': candidate.pool},
    }


def snapshot_listing_entry(candidate, cinder_id=None, volume_path=None):
    """A candidate in the form of cinder's manageable-snapshots API.

    :param volume_path: the file of the snapshot's volume, when cinder
        manages the snapshot; an unmanaged file does not say which volume
        it was taken of, so its source_reference names none.
    """
    entry = listing_entry(candidate, cinder_id)
    entry['source_reference'] = {'source-name': volume_path}
    return entry
