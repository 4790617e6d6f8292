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

"""Do cinder's database and the files on the LUNs agree?

Every volume and snapshot the database knows must have its file on the LUN
named by its provider_location (its pool), and every file on a LUN must
belong to one of them.  The driver's own files (names starting with a dot:
the LUN marker and the lock folder) and OCFS2's lost+found are not volume
files; a lock file is expected only for a volume that still exists.
"""

import dataclasses
import subprocess

LOCK_DIR = '.cinder-ocfs2-locks'
FILESYSTEM_ENTRIES = {'lost+found'}

VOLUMES_SQL = ("SELECT CONCAT('volume-', COALESCE(_name_id, id)), "
               "provider_location, status FROM volumes WHERE deleted = 0")
# Raw volumes' snapshots are files named after the snapshot; a qcow2
# volume's snapshot is an overlay named volume-<id>.<snapshot id>.
SNAPSHOTS_SQL = ("SELECT CONCAT('snapshot-', id), provider_location, status "
                 "FROM snapshots WHERE deleted = 0")


@dataclasses.dataclass(frozen=True)
class Known:
    name: str
    pool: str
    status: str


def rows(socket, database, sql):
    """The rows of a query, as tuples of strings ('NULL' for NULL)."""
    output = subprocess.run(
        ['mariadb', '--no-defaults', '--socket', socket, '--batch',
         '--skip-column-names', database, '-e', sql],
        check=True, capture_output=True, text=True).stdout
    return [tuple(line.split('\t')) for line in output.splitlines()]


def query(socket, sql):
    return [Known(*row) for row in rows(socket, 'cinder', sql)]


def known_files(socket):
    """Volumes and snapshots in the database, by (pool, file name)."""
    return {(k.pool, k.name): k
            for k in query(socket, VOLUMES_SQL) + query(socket, SNAPSHOTS_SQL)}


LIST_SCRIPT = r'''
cd "$1" || exit 1
for pool in */; do
    pool=${pool%/}
    mountpoint -q "$pool" || continue
    for f in "$pool"/* "$pool"/.cinder-ocfs2-locks/*; do
        if [ -e "$f" ]; then echo "$f"; fi
    done
done
'''


def lun_files(lab, node, mount_base):
    """Files on the mounted LUNs as seen from node: {(pool, name)}, locks."""
    line = 'bash -c %s _ %s' % (_quote(LIST_SCRIPT), mount_base)
    result = lab.run(node, line, timeout=60)
    if result.exit_code:
        raise RuntimeError('listing %s on %s failed: %s'
                           % (mount_base, node, result.stderr))
    files, locks = set(), set()
    for line in result.stdout.split():
        parts = line.split('/')
        if len(parts) == 3 and parts[1] == LOCK_DIR:
            locks.add((parts[0], parts[2]))
        elif len(parts) == 2 and parts[1] not in FILESYSTEM_ENTRIES:
            files.add((parts[0], parts[1]))
    return files, locks


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def compare(known, files, locks):
    """Return a list of disagreements (empty when DB and LUNs agree)."""
    problems = []
    # A volume still being created or already deleted may have no file.
    for key, item in sorted(known.items()):
        if key not in files and item.status not in ('creating', 'error',
                                                    'deleted'):
            problems.append('%s (%s) is in the database but %s/%s is missing'
                            % (item.name, item.status, key[0], key[1]))
    for pool, name in sorted(files):
        # qcow2 overlays and .info files are named volume-<id>.<suffix>.
        base = name.split('.', 1)[0]
        if (pool, name) in known or (pool, base) in known:
            continue
        problems.append('%s/%s is on the LUN but not in the database'
                        % (pool, name))
    volumes = {(pool, name) for (pool, name) in known
               if name.startswith('volume-')}
    for pool, name in sorted(locks):
        if (pool, name) not in volumes:
            problems.append('lock file %s/%s/%s is left for a volume the '
                            'database does not know' % (pool, LOCK_DIR, name))
    return problems
