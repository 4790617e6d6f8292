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

"""The few things cinder-ocfs2 does as root, one narrow entrypoint each.

They run in cinder's privsep daemon (``cinder.privsep.sys_admin_pctxt``),
take no arguments a caller could bend into another command, and return
the command's output for the pure parsers in ``cinder_ocfs2.o2cb_parsers``.
Everything else the driver needs (configfs, sysfs, cluster.conf, the LUN
files) is readable without root.
"""

from oslo_concurrency import processutils

import cinder.privsep

# debugfs files are readable by root only.
O2HB_LIVENODES = '/sys/kernel/debug/o2hb/livenodes'


@cinder.privsep.sys_admin_pctxt.entrypoint
def detect_ocfs2_filesystems():
    """Return the stdout of ``mounted.ocfs2 -d``.

    It opens every block device in /proc/partitions read-only to read the
    OCFS2 superblock (UUID, label, cluster), hence root.
    """
    stdout, _stderr = processutils.execute('mounted.ocfs2', '-d')
    return stdout


@cinder.privsep.sys_admin_pctxt.entrypoint
def detect_mounting_nodes():
    """Return the stdout of ``mounted.ocfs2 -f``.

    It reads the slot map of every OCFS2 device to list the nodes that
    have it mounted, hence root.
    """
    stdout, _stderr = processutils.execute('mounted.ocfs2', '-f')
    return stdout


@cinder.privsep.sys_admin_pctxt.entrypoint
def read_o2hb_livenodes():
    """Return the text of debugfs ``o2hb/livenodes``.

    The numbers of the nodes this node sees heartbeating; the path is
    fixed, so no caller can read another file with it.
    """
    with open(O2HB_LIVENODES, encoding='utf-8') as livenodes:
        return livenodes.read()
