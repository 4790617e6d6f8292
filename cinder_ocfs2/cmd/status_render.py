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

"""How cinder-ocfs2-status prints its Report: text or JSON.

Pure functions from a ``cinder_ocfs2.cmd.status.Report`` (records only)
to the text the operator reads or the JSON document scripts parse (see
doc/source/status.rst).
"""

import dataclasses
import enum
import ipaddress
import json
import textwrap

# Text output fits 80 columns, and a doc's literal block.
WIDTH = 75


def jsonable(value):
    """Records, enums and addresses as plain JSON values."""
    if dataclasses.is_dataclass(value):
        return {field.name: jsonable(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ipaddress.IPv4Address):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [jsonable(item) for item in value]
    if isinstance(value, frozenset):
        return sorted(jsonable(item) for item in value)
    return value


def render_json(report):
    document = jsonable(report)
    document['cluster']['online'] = report.cluster.online
    # True or False as o2hb sees the node, null when unknown.
    for node, entry in zip(report.cluster.nodes,
                           document['cluster']['nodes']):
        entry['live'] = report.cluster.is_live(node)
    document['healthy'] = report.healthy
    return json.dumps(document, indent=2, sort_keys=True)


def _size(size_bytes):
    if size_bytes is None:
        return '?'
    return '%.1f GiB' % (size_bytes / 2 ** 30)


def _yes_no(value, yes, no):
    return '?' if value is None else yes if value else no


def _cluster_lines(cluster):
    mode = cluster.heartbeat_mode.value if cluster.heartbeat_mode else '?'
    local = cluster.local_node
    lines = ['Cluster %s: %s (stack %s, %s heartbeat, dead threshold %s)'
             % (cluster.name or '(none)', cluster.status.value,
                cluster.stack or '?', mode, cluster.dead_threshold or '?'),
             'Nodes (this host, %s, is %s):' % (
                 cluster.hostname, local.name if local else 'none of them')]
    lines += [('  node %-3d %-16s %-20s %-9s%s' % (
        node.number, node.name, '%s:%d' % (node.address, node.port),
        _yes_no(cluster.is_live(node), 'live', 'NOT LIVE'),
        'local' if node.local else '')).rstrip()
        for node in cluster.nodes]
    if cluster.live_nodes_unknown and cluster.nodes:
        lines += textwrap.wrap('Liveness unknown: %s.'
                               % cluster.live_nodes_unknown, WIDTH,
                               initial_indent='  ', subsequent_indent='    ',
                               break_long_words=False,
                               break_on_hyphens=False)
    regions = cluster.live_regions
    lines.append('Live heartbeat regions:%s' % ('' if regions else ' none'))
    lines += ['  %s' % region for region in regions]
    return lines


def _lun_lines(lun):
    state = 'usable' if lun.usable else 'skipped'
    if lun.mount_point is None:
        return ['  %s: %s (%s)' % (lun.pool, state, lun.skip_reason)]
    nodes = lun.mounting_nodes
    heartbeat = '%s, %s' % (lun.heartbeat or '?', _yes_no(
        lun.heartbeat_live, 'live', 'NOT RUNNING'))
    rows = [('mount point', lun.mount_point), ('device', lun.device),
            ('uuid', lun.uuid or '?'), ('label', lun.label or '-'
                                        if lun.uuid else '?'),
            ('size', '%s, %s free' % (_size(lun.total_bytes),
                                      _size(lun.free_bytes))),
            ('mounted by', '?' if nodes is None else ', '.join(nodes)
             or 'no node'),
            ('heartbeat', heartbeat),
            ('access', _yes_no(lun.read_only, 'read-only', 'read-write')),
            ('volume files', '?' if lun.volume_files is None
             else str(lun.volume_files))]
    return ['  %s: %s' % (lun.pool, state)] + [
        '    %-13s %s' % row for row in rows]


def render_text(report):
    """The report as the operator reads it."""
    lines = _cluster_lines(report.cluster)
    lines += ['', 'LUNs below %s (backend %s):' % (
        report.base, report.backend or 'DEFAULT')]
    for lun in report.luns:
        lines += _lun_lines(lun)
    if not report.luns:
        lines.append('  none')
    if report.warnings:
        lines += ['', 'Warnings:']
        for problem in report.warnings:
            lines += textwrap.wrap(problem.message, WIDTH,
                                   initial_indent='  [%s] ' % problem.code,
                                   subsequent_indent='      ',
                                   break_long_words=False,
                                   break_on_hyphens=False)
            lines += textwrap.wrap(problem.fix, WIDTH,
                                   initial_indent='      Fix: ',
                                   subsequent_indent='      ',
                                   break_long_words=False,
                                   break_on_hyphens=False)
    count = len(report.warnings)
    lines += ['', 'Status: %s' % ('healthy' if report.healthy else
                                  'needs attention (%d warning%s)'
                                  % (count, '' if count == 1 else 's'))]
    return '\n'.join(lines)
