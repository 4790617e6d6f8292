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


"""A LUN unmounted between the driver's check and its create, on the lab.

A volume or lock file created by path after the LUN went away would land
in the node's own mount point directory: hidden by the next mount, and a
lock there locks nothing cluster-wide. The driver creates them relative to
the LUN's root directory, opened and checked against the mount table.

The race is made exact in a guest: a script's mount table reader unmounts
the spare LUN right after the driver's check read the table, so the
driver's code goes on from a table that still lists the LUN. Importing
cinder in a TCG guest takes ~40 s, so one script run does every check.
"""

import json
import os
import shlex
import sys
import time
import uuid

from cinder_ocfs2.tests.functional import base

LOCK_DIR_NAME = '.cinder-ocfs2-locks'

# Run in node1 as: python mount_race.py <LUN path> <volume name>.
# Each check makes the driver's own check (the LUN inventory reads the mount
# table), then creates. The first read of the table unmounts the LUN right
# after it, and the driver's check always sees that table; the create's own
# reads see it too (the worst case: a check an instant before the umount),
# or the table of now. Prints one JSON line: for each check, the exception
# it raised (or None); and the entries of the mount point directory at the
# end.
GUEST_SCRIPT = r'''
import json
import os
import subprocess
import sys

from cinder_ocfs2 import locks
from cinder_ocfs2 import luns
from cinder_ocfs2 import mounts
from cinder_ocfs2 import volume_files

lun_path, name = sys.argv[1], sys.argv[2]
base, pool = os.path.split(lun_path)
read_table = mounts.current_mounts
table_before_umount = []


def read_then_umount(proc_root=None, below=None):
    """The first read unmounts the LUN; every read returns that table."""
    if not table_before_umount:
        table = read_table(proc_root, below)
        if lun_path not in [mount.mount_point for mount in table]:
            sys.exit('%s is not mounted before the race' % lun_path)
        subprocess.run(['umount', lun_path], check=True)
        table_before_umount.extend(table)
    return list(table_before_umount)


def create_volume(lun):
    volume_files.create_raw(os.path.join(lun.path, name), 1024 * 1024,
                            0o660)


def take_lock(lun):
    with locks.cluster_lock(lun.path, name, 5, owner='mount race lab'):
        pass


def attempt(action, reader_after_check):
    mounts.current_mounts = read_then_umount
    try:
        lun = luns.LunInventory(base, (pool,)).get(pool)
        mounts.current_mounts = reader_after_check
        action(lun)
    except Exception as err:
        return {'raised': type(err).__name__, 'message': str(err)}
    finally:
        mounts.current_mounts = read_table
    return {'raised': None, 'message': ''}


report = {
    'volume': attempt(create_volume, read_then_umount),
    'lock': attempt(take_lock, read_then_umount),
    'volume, table read after the umount': attempt(create_volume,
                                                   read_table),
    'lock, table read after the umount': attempt(take_lock, read_table),
    'mounted at the end': any(mount.mount_point == lun_path
                              for mount in read_table()),
    'underneath': sorted(os.listdir(lun_path)),
}
print(json.dumps(report))
'''


class MountRaceOnLabTestCase(base.LabTestCase):

    def setUp(self):
        super().setUp()
        self.lun = base.SPARE_LUN
        self.lun_path = '%s/%s' % (base.BASE, self.lun)
        self.name = 'volume-%s' % uuid.uuid4()

    def _leave_spare_unmounted(self):
        """Other tests expect the spare LUN unmounted on both nodes.

        Anything this test's name left in node1's mount point directory
        (only a regression would) is removed once the LUN is off it.
        """
        path = shlex.quote(self.lun_path)
        for node in base.NODES:
            self.lab.run(node, 'if mountpoint -q %s; then umount %s; fi'
                         % (path, path), timeout=300)
        self.lab.run('node1', 'mountpoint -q %(dir)s || { rm -f '
                     '%(dir)s/%(name)s %(dir)s/%(locks)s/%(name)s; '
                     'rmdir %(dir)s/%(locks)s 2>/dev/null; true; }'
                     % {'dir': path, 'name': self.name,
                        'locks': LOCK_DIR_NAME}, timeout=60)

    def _underneath(self):
        """Entries of node1's mount point directory, the LUN not mounted."""
        return sorted(self.sh(
            'node1', 'mkdir -p %(dir)s && ! mountpoint -q %(dir)s && '
            'ls -A %(dir)s' % {'dir': shlex.quote(self.lun_path)}).split())

    def _assert_not_on_the_lun(self, node):
        self.assertEqual('absent absent', self.sh(node, (
            'for f in %(dir)s/%(name)s %(dir)s/%(locks)s/%(name)s; do '
            'if [ -e "$f" ]; then printf "present "; '
            'else printf "absent "; fi; done; mountpoint -q %(dir)s')
            % {'dir': shlex.quote(self.lun_path), 'name': self.name,
               'locks': LOCK_DIR_NAME}).strip())

    def _run_guest_script(self):
        with open(os.path.join(str(self.lab.exchange_dir('node1')),
                               'mount_race.py'), 'w') as out:
            out.write(GUEST_SCRIPT)
        output = self.sh('node1', '%s /lab/mount_race.py %s %s' % (
            sys.executable, shlex.quote(self.lun_path), self.name),
            timeout=600)
        return json.loads(output.strip().splitlines()[-1])

    def test_lun_unmounted_after_the_check_gets_no_files(self):
        self.addCleanup(self._leave_spare_unmounted)
        before = self._underneath()
        for node in base.NODES:
            self.lab.mount(node, self.lun)
        started = time.monotonic()
        report = self._run_guest_script()
        seconds = time.monotonic() - started
        for check, reason in (
                ('volume', 'another filesystem is there now'),
                ('lock', 'another filesystem is there now'),
                ('volume, table read after the umount',
                 'nothing is mounted there now'),
                ('lock, table read after the umount',
                 'nothing is mounted there now')):
            self.assertEqual(
                ('LunUnavailable', True),
                (report[check]['raised'],
                 'it was unmounted while the operation ran (%s)' % reason
                 in report[check]['message']), (check, report))
        self.assertFalse(report['mounted at the end'], report)
        # Nothing new in node1's mount point directory, as the script and
        # a shell see it.
        self.assertEqual(before, report['underneath'])
        self.assertEqual(before, self._underneath())
        # Nor on the LUN: seen from node2, which kept it mounted, and from
        # node1 once it mounts it again.
        self._assert_not_on_the_lun('node2')
        self.lab.mount('node1', self.lun)
        self._assert_not_on_the_lun('node1')
        base.record('LUN unmounted between check and create',
                    'volume and lock refused (LunUnavailable), nothing '
                    'created under the mount point; script %.1f s'
                    % seconds)
