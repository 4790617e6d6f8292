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

"""cinder-ocfs2-status: the o2cb cluster and the LUNs of one backend.

Reads the backend's options from cinder.conf, then shows what the driver
sees on this node: the o2cb cluster and its nodes, every LUN below
``ocfs2_mount_point_base`` (device, UUID, label, space, mounting nodes,
heartbeat, access, volume files) and warnings, each with a fix: invalid
driver options (``cinder_ocfs2.config_check``, as the driver checks them
at start-up), no cinder.conf found, no way to run the device scan as root.
Exit codes: see EPILOG. See doc/source/status.rst. This module gathers the
report; ``cinder_ocfs2.cmd.status_render`` prints it.
"""

import dataclasses
import os
import pwd
import shlex
import shutil
import sys

from oslo_config import cfg

import cinder.privsep
from cinder_ocfs2.cmd import status_render
from cinder_ocfs2 import config_check
from cinder_ocfs2 import luns
from cinder_ocfs2 import mounts
from cinder_ocfs2 import o2cb
from cinder_ocfs2 import o2cb_checks
from cinder_ocfs2 import options
from cinder_ocfs2 import pools

EXIT_HEALTHY, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2
PROG = 'cinder-ocfs2-status'
EPILOG = ('Exit codes: 0 healthy (the cluster is online and there is no '
          'warning; also after --help and --version); 1 needs attention '
          '(the cluster is not online, or there is a warning: a cluster or '
          'LUN problem, an invalid driver option, no cinder.conf found, '
          'ocfs2-tools or the root helper missing); 2 usage error (bad '
          'command line option, unreadable or malformed cinder.conf, '
          'unknown backend).')
# The device scan's program (ocfs2-tools), and where it is installed:
# the sbin directories are often not in a user's PATH.
TOOLS_PROGRAM = 'mounted.ocfs2'
SBIN_DIRECTORIES = ('/usr/local/sbin', '/usr/sbin', '/sbin')
# The renderers, also reachable from here as before the split.
jsonable = status_render.jsonable
render_json = status_render.render_json
render_text = status_render.render_text
cli_opts = [
    cfg.StrOpt('backend',
               help='Section of cinder.conf of the OCFS2 backend. Default: '
                    'the only entry of enabled_backends, or [DEFAULT] when '
                    'enabled_backends is empty.'),
    cfg.StrOpt('format', default='text', choices=['text', 'json'],
               help='"json" prints one JSON object for scripts.'),
    cfg.StrOpt('root',
               help='Read /proc, /sys and /etc below this directory (a '
                    'tree copied from a node) instead of this node\'s.'),
    cfg.BoolOpt('device-scan', default=True,
                help='Run "mounted.ocfs2 -d" and "-f" as root (privsep) to '
                     'show UUIDs, labels and mounting nodes.'),
]


@dataclasses.dataclass(frozen=True)
class LunReport:
    """One LUN below the mount point base, as the status shows it.

    Fields after ``skip_reason`` are None when unknown: the pool is not
    mounted, the device scan did not run or failed, or statvfs failed.
    """

    # Directory name below ocfs2_mount_point_base (luns.select_luns).
    pool: str
    # luns.select_luns: True when the driver places volumes on it.
    usable: bool
    # luns.select_luns: why the driver skips it, else None.
    skip_reason: str | None
    # mountinfo field 5.
    mount_point: str | None = None
    # mountinfo mount source, e.g. "/dev/sdc".
    device: str | None = None
    # mountinfo filesystem type, e.g. "ocfs2".
    fs_type: str | None = None
    # mountinfo per-mount or superblock "ro".
    read_only: bool | None = None
    # mountinfo per-mount or superblock "localflocks": flock() is
    # node-local, so the driver's cluster-wide locks would not hold.
    local_flocks: bool | None = None
    # mountinfo superblock option "heartbeat=" ("local", "global").
    heartbeat: str | None = None
    # ClusterState.has_live_heartbeat(uuid or device) when online.
    heartbeat_live: bool | None = None
    # mounted.ocfs2 -d "UUID", "Label" and "Cluster".
    uuid: str | None = None
    label: str | None = None
    fs_cluster: str | None = None
    # mounted.ocfs2 -f "Nodes".
    mounting_nodes: tuple | None = None
    # pools.read_capacity: statvfs and the volume-<uuid> files.
    total_bytes: int | None = None
    free_bytes: int | None = None
    volume_files: int | None = None


@dataclasses.dataclass(frozen=True)
class Report:
    """Everything the command prints."""

    # The cinder.conf section read, None for [DEFAULT].
    backend: str | None
    # ocfs2_mount_point_base of that section.
    base: str
    # o2cb.get_cluster_state().
    cluster: o2cb.ClusterState
    # One per pool: mounted below the base, or allowed but not mounted.
    luns: tuple
    # Cluster problems, device scan problems, then LUN problems.
    warnings: tuple

    @property
    def healthy(self):
        return self.cluster.online and not self.warnings


class UsageError(Exception):
    """A command line or cinder.conf the command cannot work with."""


@dataclasses.dataclass(frozen=True)
class BackendConfig:
    """The driver options of one backend section of cinder.conf."""

    # The section read, None for [DEFAULT].
    backend: str | None
    # ocfs2_mount_point_base, ocfs2_shares, ocfs2_cluster_name; a value
    # not set in the section comes from [backend_defaults], as in cinder.
    mount_point_base: str
    shares: tuple
    cluster_name: str | None
    # The cinder.conf files and directories read; () when none was found.
    config_files: tuple = ()
    # config_check.OptionProblem of each invalid driver option.
    option_problems: tuple = ()


@dataclasses.dataclass(frozen=True)
class RootAccess:
    """How the device scan would run mounted.ocfs2 as root."""

    # Effective user id and name of the command.
    euid: int
    user: str
    # Path of mounted.ocfs2 (ocfs2-tools), None when it is not installed.
    tools: str | None
    # Not root: the command privsep runs to start its helper as root, e.g.
    # ("sudo", "cinder-rootwrap", "/etc/cinder/rootwrap.conf",
    # "privsep-helper"), and where it comes from; () as root.
    helper: tuple = ()
    helper_origin: str = ''
    # Path of the helper's program (helper[0]), None when not found.
    helper_path: str | None = None


def _backend_section(backend, enabled):
    if backend:
        if enabled and backend not in enabled:
            raise UsageError('backend %s is not in enabled_backends (%s)'
                             % (backend, ', '.join(enabled)))
        return backend
    if len(enabled) > 1:
        raise UsageError('cinder.conf enables several backends (%s): choose '
                         'one with --backend' % ', '.join(enabled))
    return enabled[0] if enabled else None


def _backend_config(conf, backend):
    """Read the driver's options as cinder's Configuration would."""
    shared = 'backend_defaults'
    conf.register_opts(options.ocfs2_opts, group=shared)
    conf.register_opts(options.ocfs2_opts, group=backend)
    for opt in options.ocfs2_opts:
        # None marks "not set in this section".
        conf.set_default(opt.name, None, group=backend)
    section = conf[backend] if backend else conf

    def value(name):
        own = getattr(section, name)
        return own if own is not None else getattr(conf[shared], name)

    class Section:
        """The backend's options as attributes, as cinder's Configuration."""

        def __getattr__(self, name):
            return value(name)

    # The three options shown are strings: reading them never raises, and
    # an invalid value is reported, then left out where it would mislead.
    problems = config_check.check_options(Section(), backend or 'DEFAULT')
    return BackendConfig(
        backend=backend,
        mount_point_base=value('ocfs2_mount_point_base'),
        shares=tuple(name for name in value('ocfs2_shares') or ()
                     if config_check.is_pool_name(name)),
        cluster_name=value('ocfs2_cluster_name') or None,
        config_files=tuple(conf.config_file or ()) + tuple(
            conf.config_dir or ()),
        option_problems=problems)


def config_search_directories(home, project='cinder'):
    """Where oslo.config looks for cinder.conf without --config-file."""
    return (os.path.join(home, '.' + project), home,
            os.path.join('/etc', project), '/etc')


def config_problems(config, home):
    """Warnings about cinder.conf: not found, invalid driver options."""
    problems = []
    if not config.config_files:
        problems.append(o2cb.Problem(
            'cinder-conf-not-found',
            'No cinder.conf was found (looked for cinder.conf and %s.conf '
            'in %s), so this report uses the driver\'s defaults: '
            'ocfs2_mount_point_base %s, every LUN below it, no cluster name.'
            % (PROG, ', '.join(config_search_directories(home)),
               config.mount_point_base),
            'Give the cinder.conf of cinder-volume with --config-file, e.g. '
            '"--config-file /etc/cinder/cinder.conf", and run the command '
            'as a user that can read it.'))
    problems += [o2cb.Problem('invalid-option', problem.message,
                              problem.fix + ' cinder-volume refuses to start '
                              'the backend until then.')
                 for problem in config.option_problems]
    return problems


def parse_command_line(argv):
    """(options, BackendConfig) from the arguments and cinder.conf.

    A ConfigOpts of its own, not cinder's global one: the command only
    reads the few options it shows.
    """
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(cli_opts)
    # cinder's option of the same name (cinder.common.config).
    conf.register_opt(cfg.ListOpt('enabled_backends', default=[]))
    try:
        conf(argv, project='cinder', prog=PROG,
             version=config_check.package_version(),
             description='Show the o2cb cluster and the OCFS2 LUNs of one '
                         'cinder backend as this node sees them.',
             epilog=EPILOG)
        backend = _backend_section(conf.backend, conf.enabled_backends)
        return conf, _backend_config(conf, backend)
    except (cfg.Error, ValueError) as error:
        raise UsageError(str(error)) from error


def _under(root, path):
    return os.path.join(root, path.lstrip('/')) if root else path


def _root_hostname(root):
    """/etc/hostname of a copied tree, for o2cb's local node match."""
    try:
        with open(_under(root, '/etc/hostname'), encoding='utf-8') as name:
            return name.read().strip() or None
    except OSError:
        return None


def _mount_table(root):
    try:
        return mounts.current_mounts(_under(root, '/proc')), []
    except (OSError, mounts.MountinfoParseError) as error:
        return [], [o2cb.Problem(
            'mountinfo-unreadable',
            'Cannot read the mount table: %s.' % error,
            'Check that /proc is mounted.')]


def _capacity(path):
    try:
        return pools.read_capacity(path)
    except OSError:
        return None


def _lun_report(pool, mount, usable, reason, cluster, scan):
    if mount is None:
        return LunReport(pool=pool, usable=usable, skip_reason=reason)
    found = scan.find(mount.source) if scan else None
    details = {}
    if found:
        details.update(uuid=found.uuid, label=found.label,
                       fs_cluster=found.cluster,
                       mounting_nodes=found.mounting_nodes)
    capacity = _capacity(mount.mount_point)
    if capacity:
        details.update(total_bytes=capacity.total, free_bytes=capacity.free,
                       volume_files=capacity.volume_count)
    if cluster.online:
        details['heartbeat_live'] = cluster.has_live_heartbeat(
            details.get('uuid') or mount.source)
    return LunReport(
        pool=pool, usable=usable, skip_reason=reason,
        mount_point=mount.mount_point, device=mount.source,
        fs_type=mount.fs_type, read_only=mount.read_only,
        local_flocks=mount.local_flocks,
        heartbeat=mount.super_option('heartbeat'), **details)


def _skip_fix(lun):
    if lun.mount_point is None:
        return ('Mount the LUN there on this node, or remove the pool from '
                'ocfs2_shares.')
    if lun.read_only:
        return ('Find the OCFS2 error in dmesg; unmount the LUN on every '
                'node, run "fsck.ocfs2 -f %s", then mount it again.'
                % lun.device)
    return 'Mount an OCFS2 LUN there, or move the other filesystem away.'


def _localflocks_problem(lun):
    return o2cb.Problem(
        'localflocks',
        'Pool %s is not used: %s.' % (lun.pool, lun.skip_reason),
        'Unmount %s, remove localflocks from its mount options (in '
        '/etc/fstab or whatever mounts it) and mount it again. Check the '
        'other nodes too: a node that mounts the LUN with localflocks '
        'ignores the flocks of all the others.' % lun.mount_point)


def _skip_problem(lun):
    """The warning of a pool the driver skips, in luns.select_luns order."""
    if (lun.fs_type == luns.FS_TYPE and not lun.read_only and
            lun.local_flocks):
        return _localflocks_problem(lun)
    return o2cb.Problem('lun-skipped', 'Pool %s is not used: %s.'
                        % (lun.pool, lun.skip_reason), _skip_fix(lun))


def lun_problems(lun, cluster):
    """Problems of one LUN, with fixes; [] when it is fine."""
    if not lun.usable:
        return [_skip_problem(lun)]
    problems = []
    if lun.heartbeat_live is False:
        problems.append(o2cb.Problem(
            'lun-heartbeat-missing',
            'Pool %s (%s) has no live heartbeat region on this node.'
            % (lun.pool, lun.uuid or lun.device),
            'Check dmesg for o2hb errors and "o2cb cluster-status"; '
            'unmount and mount the LUN again to restart its heartbeat.'))
    if lun.fs_cluster and cluster.name and lun.fs_cluster != cluster.name:
        problems.append(o2cb.Problem(
            'lun-other-cluster',
            'Pool %s belongs to cluster %s, not %s.'
            % (lun.pool, lun.fs_cluster, cluster.name),
            'Use a LUN of cluster %s, or change its cluster with '
            '"tunefs.ocfs2 --update-cluster-stack" while it is unmounted '
            'everywhere.' % cluster.name))
    known = {node.name for node in cluster.nodes}
    strangers = [name for name in lun.mounting_nodes or ()
                 if name not in known]
    if strangers and known:
        problems.append(o2cb.Problem(
            'lun-unknown-node',
            'Pool %s is mounted by nodes this node does not know: %s.'
            % (lun.pool, ', '.join(strangers)),
            o2cb_checks.join_checklist(cluster.name)))
    return problems


def root_access_problems(access):
    """Why the device scan cannot run mounted.ocfs2 as root; () if it can.

    :param access: a RootAccess.
    """
    problems = []
    if access.tools is None:
        problems.append(o2cb.Problem(
            'ocfs2-tools-missing',
            '%s is not installed on this node (not in PATH nor in %s), so '
            'LUN UUIDs, labels and mounting nodes are unknown.'
            % (TOOLS_PROGRAM, ', '.join(SBIN_DIRECTORIES)),
            'Install the ocfs2-tools package on this node ("apt-get install '
            'ocfs2-tools" or "dnf install ocfs2-tools").'))
    if access.euid != 0 and access.helper_path is None:
        helper = ' '.join(access.helper) or 'none'
        problems.append(o2cb.Problem(
            'root-helper-missing',
            'This command runs as %s (uid %d), not root, and has no root '
            'helper to run %s as root: "%s" is not installed (the root '
            'helper is "%s": %s).'
            % (access.user, access.euid, TOOLS_PROGRAM,
               access.helper[0] if access.helper else '', helper,
               access.helper_origin or 'the defaults'),
            'Run cinder-ocfs2-status as root (e.g. "sudo '
            'cinder-ocfs2-status ..."); or give this user the root helper '
            'cinder-volume uses: install sudo and a sudoers rule that lets '
            'it run "cinder-rootwrap /etc/cinder/rootwrap.conf *" without a '
            'password (cinder\'s sudoers file), or set helper_command in '
            'the [%s] section of cinder.conf. --nodevice-scan skips the '
            'scan.' % cinder.privsep.sys_admin_pctxt.cfg_section))
    return tuple(problems)


def collect(config, root=None, device_scan=True, setup_problems=(),
            home=None):
    """Gather the Report of one backend (config: a BackendConfig).

    :param setup_problems: what keeps the device scan from running
        (root_access_problems), shown after the cinder.conf warnings.
    :param home: the home directory oslo.config searched for cinder.conf.
    """
    base = os.path.normpath(config.mount_point_base)
    cluster = o2cb.get_cluster_state(
        config.cluster_name, sysfs_root=_under(root, '/sys'),
        etc_root=_under(root, '/etc'),
        hostname=_root_hostname(root) if root else None)
    table, warnings = _mount_table(root)
    scan = o2cb.scan_devices() if device_scan else None
    selection = luns.select_luns(table, base, config.shares)
    visible = {mount.mount_point: mount for mount in table}
    reports = []
    for pool in sorted(set(selection.usable) | set(selection.skipped)):
        reports.append(_lun_report(
            pool, visible.get(os.path.join(base, pool)),
            pool in selection.usable, selection.skipped.get(pool), cluster,
            scan))
    warnings = (config_problems(config, home or os.path.expanduser('~')) +
                list(setup_problems) + list(cluster.problems) + warnings)
    warnings += scan.problems if scan else []
    for lun in reports:
        warnings += lun_problems(lun, cluster)
    if not selection.usable:
        warnings.append(o2cb.Problem(
            'no-usable-lun',
            'No usable OCFS2 LUN is mounted below %s.' % base,
            'Mount an OCFS2 LUN read-write at %s/<pool name> on this node.'
            % base))
    return Report(backend=config.backend, base=base, cluster=cluster,
                  luns=tuple(reports), warnings=tuple(warnings))


def _which(program, extra=()):
    """The path of a program in PATH or in `extra` directories, or None."""
    path = os.pathsep.join([os.environ.get('PATH', os.defpath)] +
                           list(extra))
    return shutil.which(program, path=path)


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _privsep_helper(config_files):
    """(command, origin): how privsep would start its helper as root.

    As oslo.privsep does: the helper_command option of cinder's privsep
    context, else cinder's root helper followed by "privsep-helper".
    """
    from cinder import utils
    cfg.CONF([], project='cinder', default_config_files=config_files)
    section = cinder.privsep.sys_admin_pctxt.cfg_section
    command = cfg.CONF[section].helper_command
    if command:
        return (tuple(shlex.split(command)),
                'helper_command in the [%s] section of cinder.conf' % section)
    return (tuple(shlex.split(utils.get_root_helper())) + ('privsep-helper',),
            'cinder\'s default, with rootwrap_config of cinder.conf')


def probe_root_access(config_files):
    """The RootAccess of this process (see root_access_problems)."""
    euid = os.geteuid()
    access = RootAccess(euid=euid, user=_user_name(euid),
                        tools=_which(TOOLS_PROGRAM, SBIN_DIRECTORIES))
    if euid == 0:
        return access
    helper, origin = _privsep_helper(config_files)
    return dataclasses.replace(
        access, helper=helper, helper_origin=origin,
        helper_path=_which(helper[0]) if helper else None)


def _start_privsep(config_files):
    """Run the root commands in-process as root, else via privsep-helper.

    oslo.privsep reads its helper settings from cinder.conf through
    cinder's global configuration, as cinder-volume does.
    """
    if os.geteuid() == 0:
        cinder.privsep.sys_admin_pctxt.set_client_mode(False)
        return
    from cinder import utils
    from oslo_privsep import priv_context
    cfg.CONF([], project='cinder', default_config_files=config_files)
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))


def main(argv=None):
    """Entry point of cinder-ocfs2-status; returns the exit code."""
    try:
        conf, config = parse_command_line(
            sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print('cinder-ocfs2-status: %s' % error, file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as error:
        # argparse has printed the help or the error; oslo.config exits
        # with 1 for a bad option value, which is a usage error here.
        return EXIT_USAGE if error.code else EXIT_HEALTHY
    device_scan, setup_problems = conf.device_scan, ()
    if device_scan:
        setup_problems = root_access_problems(
            probe_root_access(conf.config_file))
        # Without the tools or a root helper the scan could only fail,
        # and report the helper's failure as missing tools.
        device_scan = not setup_problems
    if device_scan:
        _start_privsep(conf.config_file)
    report = collect(config, conf.root, device_scan, setup_problems)
    if conf.format == 'json':
        print(status_render.render_json(report))
    else:
        print(status_render.render_text(report))
    return EXIT_HEALTHY if report.healthy else EXIT_ATTENTION


if __name__ == '__main__':
    sys.exit(main())
