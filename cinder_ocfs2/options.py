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

"""Every configuration option of the OCFS2 driver, in one place.

The options live in the backend's section of cinder.conf. ``list_opts`` is
the entry point oslo-config-generator uses to write ``etc/`` samples.
"""

from oslo_config import cfg

from cinder.volume import configuration

ocfs2_opts = [
    cfg.StrOpt('ocfs2_mount_point_base',
               default='/var/lib/cinder/ocfs2',
               help='Directory under which the OCFS2 LUNs of this backend '
                    'are mounted, one directory per LUN (for example '
                    '/var/lib/cinder/ocfs2/192.168.10.91_sda). Every '
                    'ocfs2 mount directly below it is a pool named after '
                    'its directory. The mounts are read again on every '
                    'operation, so a LUN mounted while cinder-volume runs '
                    'is used at once. The path must be the same on every '
                    'storage and compute node.'),
    cfg.ListOpt('ocfs2_shares',
                default=[],
                help='Optional allow-list of pool names (directory names '
                     'below ocfs2_mount_point_base). When set, only these '
                     'LUNs are used; other ocfs2 mounts below the base are '
                     'ignored. When empty, every ocfs2 mount below the base '
                     'is used.'),
    cfg.StrOpt('ocfs2_volume_format',
               default='raw',
               choices=[('raw', 'Raw files; snapshots and clones by '
                                'reflink. Attachable by stock Nova.'),
                        ('qcow2', 'qcow2 files with qcow2 overlay '
                                  'snapshots. Not attachable by stock '
                                  'Nova, whose file attach presents every '
                                  'file as raw.')],
               help='Format of new volume files.'),
    cfg.BoolOpt('ocfs2_sparse_volumes',
                default=True,
                help='Create raw volumes as sparse files (thin '
                     'provisioning). When false, raw volumes are fully '
                     'allocated at creation (thick provisioning), which '
                     'takes time proportional to the size.'),
    cfg.StrOpt('ocfs2_volume_file_mode',
               default='0660',
               help='Octal permission bits of volume and snapshot files. '
                    'The default keeps them readable and writable by their '
                    'owner and group only. Modes that let other users '
                    'write are refused.'),
    cfg.StrOpt('ocfs2_cluster_name',
               help='Name of the o2cb cluster the LUNs belong to. When '
                    'set, the driver checks at start-up and on every stats '
                    'refresh that this cluster is registered and online, '
                    'and reports the backend down otherwise.'),
    cfg.FloatOpt('ocfs2_lock_timeout',
                 default=600.0,
                 min=1.0,
                 help='Seconds an operation waits for the cluster-wide '
                      'lock of a volume held by another operation, on this '
                      'node or another, before it fails.'),
]

CONF = cfg.CONF
CONF.register_opts(ocfs2_opts, group=configuration.SHARED_CONF_GROUP)


def list_opts():
    """Return the driver's options for oslo-config-generator."""
    return [('backend_defaults', ocfs2_opts)]
