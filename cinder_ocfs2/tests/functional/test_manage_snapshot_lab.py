# Copyright 2026 The cinder-ocfs2 Authors.
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


"""Snapshot manage and unmanage on the real two-node OCFS2 cluster.

An operator's snapshot file, a reflink of a volume made with ``cp`` on
node1, is managed by the driver on node2; volumes from it and reverts to
it work, and unmanage leaves the file and its bytes.
"""

import uuid

from cinder_ocfs2.tests.functional import base

LISTING = (('value', None), ('value', 1000), ('value', 0),
           ('value', ['reference']), ('value', ['asc']))


class ManageSnapshotOnLabTestCase(base.LabTestCase):

    def _file(self, node, path, command):
        self.sh(node, command)
        self.addCleanup(self.sh, 'node1', 'rm -f %s' % path)
        return path

    def _refused(self, snapshot, source, expected):
        err = self.assertRaises(
            base.RemoteDriverError, self.node2.call,
            'manage_existing_snapshot_get_size', ('snapshot', snapshot),
            ('value', {'source-name': source}))
        self.assertEqual('ManageExistingInvalidReference', err.error)
        self.assertIn(expected, err.message)

    def test_reflink_made_on_node1_managed_on_node2(self):
        volume, _ = self.create(pool='lun1', size=1)
        path = self.path(volume)
        self.write_random('node1', path)
        version_a = self.head_sha('node1', path)
        tag = uuid.uuid4().hex[:8]
        lun1 = '%s/lun1' % base.BASE
        made = self._file('node1', '%s/ops-snap-%s.raw' % (lun1, tag),
                          'cp --reflink=always %s %s/ops-snap-%s.raw'
                          % (path, lun1, tag))
        self.write_random('node1', path)
        version_b = self.head_sha('node1', path)
        self.assertNotEqual(version_a, version_b)
        snapshot = base.snapshot_spec(volume)

        # Refused, each leaving the file as it was: a copy on another LUN,
        # an image, a second hard link, the volume's own file.
        other = self._file('node1', '%s/lun2/ops-snap-%s.raw'
                           % (base.BASE, tag), 'cp --sparse=always %s '
                           '%s/lun2/' % (made, base.BASE))
        self._refused(snapshot, other, 'is on the LUN of pool lun2')
        image = self._file('node1', '%s/ops-disk-%s.qcow2' % (lun1, tag),
                           'qemu-img create -q -f qcow2 %s/ops-disk-%s.qcow2 '
                           '64M' % (lun1, tag))
        self._refused(snapshot, image, 'looks like a qcow2 image')
        link = self._file('node1', '%s/ops-link-%s' % (lun1, tag),
                          'ln %s %s/ops-link-%s' % (made, lun1, tag))
        self._refused(snapshot, made, 'has 2 hard links')
        self.sh('node1', 'rm %s' % link)
        self._refused(snapshot, 'volume-%s' % volume['id'],
                      'named as a cinder volume')

        # node2's listing: the reflink is safe, the image is not.
        listed, _ = self.node2.call('get_manageable_snapshots',
                                    ('value', []), *LISTING)
        safe = {entry['reference']['source-name']: entry['safe_to_manage']
                for entry in listed}
        self.assertEqual((True, False), (safe[made], safe[image]))

        # Managed on node2: renamed, bytes as node1 wrote them.
        ref = ('value', {'source-name': made})
        size, _ = self.node2.call('manage_existing_snapshot_get_size',
                                  ('snapshot', snapshot), ref)
        self.assertEqual(1, size)
        update, manage_s = self.node2.call('manage_existing_snapshot',
                                           ('snapshot', snapshot), ref)
        self.assertEqual({'provider_location': 'lun1'}, update)
        snap_path = '%s/snapshot-%s' % (lun1, snapshot['id'])
        self.addCleanup(self.sh, 'node1', 'rm -f %s' % snap_path)
        self.assertEqual('missing', self.sh(
            'node1', 'test -e %s || echo missing' % made).strip())
        self.assertEqual(version_a, self.head_sha('node1', snap_path))

        # A volume from it on node1 (a reflink on the same LUN), and a
        # revert to it on node2.
        from_snap = base.volume_spec('lun1', size=1)
        update, from_snap_s = self.node1.call(
            'create_volume_from_snapshot', ('volume', from_snap),
            ('snapshot', snapshot))
        from_snap.update(update)
        self.addCleanup(self._delete_quietly, from_snap)
        self.assertEqual(version_a,
                         self.head_sha('node2', self.path(from_snap)))
        _, revert_s = self.node2.call('revert_to_snapshot', ('context', None),
                                      ('volume', volume),
                                      ('snapshot', snapshot))
        self.assertEqual(version_a, self.head_sha('node1', path))

        # Unmanaged on node1: the file stays, named snapshot-<id>.
        self.node1.call('unmanage_snapshot', ('snapshot', snapshot))
        self.assertEqual(version_a, self.head_sha('node2', snap_path))
        listed, _ = self.node1.call('get_manageable_snapshots',
                                    ('value', []), *LISTING)
        self.assertIn(snap_path, [entry['reference']['source-name']
                                  for entry in listed if
                                  entry['safe_to_manage']])
        base.record('manage snapshot (reflink by node1) on node2',
                    'renamed in %.3f s; from it %.3f s, revert %.3f s; '
                    'checksums equal on the other node'
                    % (manage_s, from_snap_s, revert_s))
