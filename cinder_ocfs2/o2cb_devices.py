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

"""The OCFS2 filesystems on this node's block devices, from mounted.ocfs2.

``mounted.ocfs2 -d`` gives each filesystem's UUID, label and cluster;
``mounted.ocfs2 -f`` the nodes that have it mounted (its slot map). Both
open every block device, so they run as root through
``cinder_ocfs2.privsep``, and ``scan_devices`` is for the status command
and start-up checks rather than every call. ``parse_mounted_quick`` and
``parse_mounted_full`` are pure.
"""

import dataclasses
import os
import re

from oslo_concurrency import processutils
from oslo_privsep import comm as privsep_comm
from oslo_privsep import daemon as privsep_daemon

from cinder_ocfs2 import o2cb_checks
from cinder_ocfs2 import o2cb_parsers
from cinder_ocfs2 import privsep

O2CBParseError = o2cb_parsers.O2CBParseError
# The privsep daemon could not start (helper missing, sudo refused) or did
# not answer.
_PRIVSEP_ERRORS = (privsep_daemon.FailedToDropPrivileges,
                   privsep_comm.PrivsepTimeout)


@dataclasses.dataclass(frozen=True)
class OCFS2Device:
    """An OCFS2 filesystem on a block device of this node."""

    # "Device" column of mounted.ocfs2 -d and -f, e.g. "/dev/sdc".
    device: str
    # "Stack" column: "o2cb", "pcmk", or "None" for a local-only volume.
    stack: str
    # "Cluster" column: the cluster name mkfs stored, "" when none.
    cluster: str
    # "F" column: "G" when the filesystem uses global heartbeat.
    global_heartbeat: bool
    # mounted.ocfs2 -d "UUID" column: 32 upper-case hex digits, the name
    # of its local heartbeat region and of its o2dlm domain.
    uuid: str | None = None
    # mounted.ocfs2 -d "Label" column, "" when the filesystem has none.
    label: str | None = None
    # mounted.ocfs2 -f "Nodes" column: node names (or numbers when the
    # name is unknown) whose slot is in use; () when "Not mounted".
    mounting_nodes: tuple | None = None
    # mounted.ocfs2 -f: "Heartbeat device" (a global heartbeat device).
    heartbeat_device: bool = False

    def __str__(self):
        return '%s (%s)' % (self.device, self.uuid or 'uuid unknown')


_HEADER_QUICK = re.compile(
    r'(Device\s+)(Stack\s+)(Cluster\s+)(F\s+)(UUID\s+)(Label)\s*')
_HEADER_FULL = re.compile(r'(Device\s+)(Stack\s+)(Cluster\s+)(F\s+)(Nodes)\s*')
_UUID = re.compile(r'[0-9A-F]{32}')
_NODE_LIST = re.compile(r'[\w.-]+(, [\w.-]+)*')


def _columns(text, header, source):
    """Split fixed-width rows at the header's column starts.

    mounted.ocfs2 pads each column to its widest value, and the Cluster
    and F columns may be blank, so rows are cut where the header's
    columns start rather than split on spaces.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise O2CBParseError(source, text, 'empty output')
    match = header.fullmatch(lines[0])
    if not match:
        raise O2CBParseError(source, lines[0], 'not the expected header')
    starts = [match.start(group) for group in range(1, header.groups + 1)]
    bounds = list(zip(starts, starts[1:] + [None]))
    for line in lines[1:]:
        cells = [line[start:end].strip() for start, end in bounds]
        if (len(line) <= starts[1] or line[starts[1] - 1] != ' '
                or not cells[0] or not cells[1]):
            raise O2CBParseError(source, line, 'row does not fit the header')
        yield line, cells


def _device(cells, source, line):
    if cells[3] not in ('', 'G'):
        raise O2CBParseError(source, line, 'flag is neither blank nor G')
    return OCFS2Device(device=cells[0], stack=cells[1], cluster=cells[2],
                       global_heartbeat=cells[3] == 'G')


def parse_mounted_quick(text, source='mounted.ocfs2 -d'):
    """Parse ``mounted.ocfs2 -d`` into OCFS2Devices with UUID and label.

    Example::

        Device    Stack  Cluster     F  UUID                              Label
        /dev/vdb  o2cb   labcluster     29323C5A92EF428CAE3244276B0FA8DB  lun1

    gives (OCFS2Device(device='/dev/vdb', stack='o2cb',
    cluster='labcluster', global_heartbeat=False,
    uuid='29323C5A92EF428CAE3244276B0FA8DB', label='lun1'),).
    """  # noqa: E501
    devices = []
    for line, cells in _columns(text, _HEADER_QUICK, source):
        if not _UUID.fullmatch(cells[4]):
            raise O2CBParseError(source, line, 'UUID is not 32 hex digits')
        devices.append(dataclasses.replace(
            _device(cells, source, line), uuid=cells[4], label=cells[5]))
    return tuple(devices)


def parse_mounted_full(text, source='mounted.ocfs2 -f'):
    """Parse ``mounted.ocfs2 -f`` into OCFS2Devices with mounting nodes.

    Example::

        Device    Stack  Cluster     F  Nodes
        /dev/vdb  o2cb   labcluster     node1, node2
        /dev/vdc  o2cb   labcluster     Not mounted

    gives mounting_nodes ('node1', 'node2') for /dev/vdb and () for
    /dev/vdc. A node shows as its number when this node does not know its
    name, and as "Unknown" past the 255th slot.
    """
    devices = []
    for line, cells in _columns(text, _HEADER_FULL, source):
        device = _device(cells, source, line)
        if cells[4] == 'Heartbeat device':
            device = dataclasses.replace(device, heartbeat_device=True)
        elif cells[4] == 'Not mounted':
            device = dataclasses.replace(device, mounting_nodes=())
        elif not cells[4]:
            # The slot map could not be read: mounted.ocfs2 printed the
            # error to stderr and nothing here. Who mounts it is unknown.
            pass
        elif _NODE_LIST.fullmatch(cells[4]):
            device = dataclasses.replace(
                device, mounting_nodes=tuple(cells[4].split(', ')))
        else:
            # After a slot map error mounted.ocfs2 prints no newline
            # either, so the next row lands on this line.
            raise O2CBParseError(source, line, 'nodes column unreadable')
        devices.append(device)
    return tuple(devices)


@dataclasses.dataclass(frozen=True)
class DeviceScan:
    """The OCFS2 devices of this node, from scan_devices()."""

    # mounted.ocfs2 -d rows merged with the -f rows of the same device.
    devices: tuple
    # Why the scan is missing or incomplete; () when both commands ran.
    problems: tuple

    def find(self, device):
        """The OCFS2Device for a device path or kernel name, or None."""
        wanted = os.path.basename(os.path.realpath(device))
        return next((found for found in self.devices
                     if os.path.basename(os.path.realpath(found.device))
                     == wanted), None)


def _scan_failure(command, error):
    if isinstance(error, _PRIVSEP_ERRORS):
        return o2cb_checks.Problem(
            'privsep-unavailable',
            'Cannot run "%s" as root: the privsep helper did not answer '
            '(%s).' % (command, error),
            'Run the command as root, or make cinder\'s privsep helper '
            'start (helper_command in the [cinder_sys_admin] section of '
            'cinder.conf, or sudo and the privsep-helper filter of '
            'cinder-rootwrap).')
    if isinstance(error, FileNotFoundError):
        return o2cb_checks.Problem(
            'ocfs2-tools-missing',
            '%s is not installed, so LUN UUIDs, labels and mounting nodes '
            'are unknown.' % command,
            'Install the ocfs2-tools package on this node.')
    detail = (error.stderr.strip()
              if isinstance(error, processutils.ProcessExecutionError)
              else str(error))
    return o2cb_checks.Problem(
        'device-scan-failed',
        '"%s" failed: %s' % (command, detail or error),
        'Run it as root on this node to see why.')


def scan_devices():
    """Run mounted.ocfs2 -d and -f as root; never raises for their faults.

    Returns a DeviceScan whose devices carry UUID, label, cluster,
    heartbeat flag and mounting nodes; a command that is missing, fails or
    prints what the parser does not know gives a Problem instead.
    """
    devices, problems = {}, []
    for command, run, parse in (
            ('mounted.ocfs2 -d', privsep.detect_ocfs2_filesystems,
             parse_mounted_quick),
            ('mounted.ocfs2 -f', privsep.detect_mounting_nodes,
             parse_mounted_full)):
        try:
            rows = parse(run())
        except (OSError, processutils.ProcessExecutionError,
                O2CBParseError) + _PRIVSEP_ERRORS as error:
            problems.append(_scan_failure(command, error))
            continue
        for row in rows:
            known = devices.get(row.device)
            devices[row.device] = row if known is None else _merge(known, row)
    return DeviceScan(devices=tuple(devices.values()),
                      problems=tuple(problems))


def _merge(quick, full):
    """Add the -f columns (mounting nodes) to a -d row of one device."""
    return dataclasses.replace(quick, mounting_nodes=full.mounting_nodes,
                               heartbeat_device=full.heartbeat_device)
