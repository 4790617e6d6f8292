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

"""Copy one node's o2cb/OCFS2 state into a fixture tree (runs in a guest).

Usage: python3 capture.py DEST DESCRIPTION

DEST gets the files at their real paths (``proc/self/mountinfo``,
``etc/ocfs2/cluster.conf``, ``sys/fs/ocfs2/*``, every attribute under
``sys/kernel/config/cluster``, the o2hb files of debugfs under
``sys/kernel/debug/o2hb`` and ``o2net/connected_nodes``), each command's
output in ``commands/``
(stdout in ``<name>``, plus ``<name>.stderr`` and ``<name>.exit-code``),
and a README saying what was captured and how.  Standard library only.
"""

import datetime
import os
import shutil
import subprocess
import sys

CLUSTER = 'labcluster'
CONFIGFS = '/sys/kernel/config/cluster'
# debugfs (mounted by the lab's /init as systemd would): o2hb's live node
# maps, global and per region.
DEBUGFS_O2HB = '/sys/kernel/debug/o2hb'
COMMANDS = (
    ('mounted.ocfs2-d', 'mounted.ocfs2 -d'),
    ('mounted.ocfs2-f', 'mounted.ocfs2 -f'),
    ('o2cb-list-clusters', 'o2cb list-clusters'),
    ('o2cb-cluster-status', 'o2cb cluster-status'),
    ('o2cb-list-cluster', 'o2cb list-cluster %s' % CLUSTER),
    ('o2cb-list-nodes', 'o2cb list-nodes %s' % CLUSTER),
    ('o2cb-list-heartbeats', 'o2cb list-heartbeats %s' % CLUSTER),
    ('cat-etc-ocfs2-cluster.conf', 'cat /etc/ocfs2/cluster.conf'),
    ('cat-sys-fs-ocfs2-cluster_stack', 'cat /sys/fs/ocfs2/cluster_stack'),
    ('find-sys-kernel-config-cluster', 'find %s -maxdepth 6' % CONFIGFS),
)
FILES = ('/proc/self/mountinfo', '/proc/mounts', '/etc/hostname',
         '/etc/ocfs2/cluster.conf', '/etc/default/o2cb',
         '/sys/kernel/debug/o2net/connected_nodes')


def local_path(dest, path):
    return os.path.join(dest, path.lstrip('/'))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as stream:
        stream.write(data)


def copy_file(dest, path, notes):
    try:
        with open(path, 'rb') as stream:
            data = stream.read()
    except OSError as exc:
        notes.append('%s: not copied (%s)' % (path, exc.strerror))
        return
    write(local_path(dest, path), data)


def copy_tree(dest, top, notes):
    """Copy every readable attribute file under a sysfs/configfs folder."""
    if not os.path.isdir(top):
        notes.append('%s: absent' % top)
        return
    for folder, subfolders, files in os.walk(top):
        os.makedirs(local_path(dest, folder), exist_ok=True)
        for name in sorted(files):
            copy_file(dest, os.path.join(folder, name), notes)


def run_commands(dest):
    lines = []
    for name, line in COMMANDS:
        proc = subprocess.run(['/bin/sh', '-c', line], capture_output=True,
                              stdin=subprocess.DEVNULL)
        base = os.path.join(dest, 'commands', name)
        write(base, proc.stdout)
        write(base + '.stderr', proc.stderr)
        write(base + '.exit-code', b'%d\n' % proc.returncode)
        lines.append('  commands/%s: `%s` (exit code %d)'
                     % (name, line, proc.returncode))
    return lines


def version(argv):
    proc = subprocess.run(argv, capture_output=True, text=True)
    return proc.stdout.strip() or '?'


def capture(dest, description):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    notes = []
    for path in FILES:
        copy_file(dest, path, notes)
    copy_tree(dest, '/sys/fs/ocfs2', notes)
    copy_tree(dest, CONFIGFS, notes)
    copy_tree(dest, DEBUGFS_O2HB, notes)
    command_lines = run_commands(dest)
    tools = version(['dpkg-query', '-W', '-f', '${Version}', 'ocfs2-tools'])
    readme = [
        'CAPTURED on %s by the lab (tests/unit/fixtures/captured/'
        'capture.sh): Linux %s, ocfs2-tools %s, host %s.'
        % (datetime.date.today().isoformat(), os.uname().release, tools,
           os.uname().nodename),
        description,
        '',
        'Files at their real paths: %s, /sys/fs/ocfs2/*, every '
        'attribute under %s and every file under %s.'
        % (', '.join(FILES), CONFIGFS, DEBUGFS_O2HB),
        'Commands (stdout in commands/NAME, stderr in NAME.stderr, exit code '
        'in NAME.exit-code):',
    ] + command_lines
    if notes:
        readme += ['', 'Not copied:'] + ['  %s' % note for note in notes]
    write(os.path.join(dest, 'README'), ('\n'.join(readme) + '\n').encode())
    print('captured %s' % dest)


if __name__ == '__main__':
    capture(sys.argv[1], sys.argv[2])
