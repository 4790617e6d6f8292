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

"""Start-up checks: the driver's options and the cinder release.

oslo.config checks choices, bounds and types only when an option is read,
and the driver reads some options only on first use, so a wrong value in
cinder.conf would otherwise start the service and fail the first volume.
``check_options`` reads every option of ``cinder_ocfs2.options`` from a
backend's configuration and returns an ``OptionProblem`` (option, value,
rule, fix) for each invalid one; the driver refuses to start on any
(``require_valid_options``) and ``cinder-ocfs2-status`` shows them as
warnings.

``cinder_release_support`` compares a cinder version with
``MIN_CINDER_VERSION``, the oldest cinder release this package supports.
"""

import dataclasses
import enum
import importlib.metadata
import math
import os
import re

from oslo_config import cfg
from oslo_config import types
from oslo_log import log as logging

from cinder_ocfs2 import exception
from cinder_ocfs2 import options
from cinder_ocfs2 import volume_files

LOG = logging.getLogger(__name__)

# The oldest cinder release this package supports, the one it is tested
# with; README.rst and setup.cfg quote it.
MIN_CINDER_VERSION = '29.0.0'
MIN_CINDER_SERIES = '2026.2 Hibiscus'
# The newest cinder major release it is tested with: newer ones are
# accepted with a warning.
NEWEST_TESTED_CINDER_MAJOR = 29

PACKAGE = 'cinder-ocfs2'
SHARED_SECTION = 'backend_defaults'


@dataclasses.dataclass(frozen=True)
class OptionProblem:
    """One invalid option of a backend, and how to fix it."""

    # The option's name, e.g. "ocfs2_volume_format".
    option: str
    # The value as written in cinder.conf, or "?" when unknown.
    value: str
    # What a valid value is: "one of raw, qcow2", "a number >= 1".
    allowed: str
    # What to change, naming the section.
    fix: str
    # Why the value is wrong when "allowed" does not say it, else "".
    reason: str = ''
    # The file the value was read from, when oslo.config names it.
    source: str | None = None

    @property
    def message(self):
        where = ' (in %s)' % self.source if self.source else ''
        why = ' (%s)' % self.reason if self.reason else ''
        return '%s = %s%s is invalid%s: it must be %s.' % (
            self.option, self.value if self.value != '' else '""', where,
            why, self.allowed)

    def __str__(self):
        return '%s %s' % (self.message, self.fix)


# -- the rules ---------------------------------------------------------------

def _allowed(opt):
    """The values an option's oslo.config type accepts, as a phrase."""
    kind = opt.type
    if isinstance(kind, types.Boolean):
        return 'a boolean: true or false'
    if isinstance(kind, types.String) and kind.choices:
        return 'one of %s' % ', '.join(kind.choices)
    if isinstance(kind, (types.Integer, types.Float)):
        bounds = []
        if kind.min is not None:
            bounds.append('>= %g' % kind.min)
        if kind.max is not None:
            bounds.append('<= %g' % kind.max)
        return ' '.join(['a number', ' and '.join(bounds)]).strip()
    return 'a valid %s' % kind.type_name


def _default(opt):
    if opt.default is None:
        return 'unset'
    if isinstance(opt.default, bool):
        return str(opt.default).lower()
    if isinstance(opt.default, float) and opt.default.is_integer():
        return '%d' % opt.default
    return str(opt.default)


def _default_fix(opt, section):
    return ('Set %s in the [%s] section of cinder.conf to %s, or remove it '
            'to use the default (%s).' % (opt.name, section, _allowed(opt),
                                          _default(opt)))


def _check_mount_point_base(opt, value, section):
    if os.path.isabs(value or ''):
        return None
    return OptionProblem(
        option=opt.name, value=value,
        allowed='an absolute path, such as %s' % opt.default,
        fix='Set %s in the [%s] section of cinder.conf to the absolute path '
            'below which the LUNs are mounted, the same on every node, or '
            'remove it to use the default (%s).'
            % (opt.name, section, opt.default))


def is_pool_name(name):
    """True for a directory name directly below the mount point base."""
    return bool(name) and '/' not in name and '\0' not in name and (
        not name.startswith('.'))


def _check_shares(opt, value, section):
    bad = [name for name in value or () if not is_pool_name(name)]
    if not bad:
        return None
    return OptionProblem(
        option=opt.name, value=','.join(value),
        reason='not a pool name: %s' % ', '.join(
            '"%s"' % name for name in bad),
        allowed='a list of pool names, i.e. directory names directly below '
                'ocfs2_mount_point_base: no "/", not empty, not "." or ".." '
                'and not starting with "."',
        fix='List in %s, in the [%s] section of cinder.conf, only the names '
            'of directories in which LUNs are mounted, such as lun1,lun2; '
            'or remove it to use every OCFS2 LUN mounted below '
            'ocfs2_mount_point_base.' % (opt.name, section))


def _check_file_mode(opt, value, section):
    try:
        volume_files.parse_file_mode(value)
    except exception.InvalidFileMode as error:
        return OptionProblem(
            option=opt.name, value=str(value),
            reason=error.kwargs.get('reason', ''),
            allowed='an octal mode such as 0660 that gives the owner read '
                    'and write access and other users no write access',
            fix='Set %s in the [%s] section of cinder.conf to such a mode, '
                'or remove it to use the default (%s).'
                % (opt.name, section, opt.default))
    return None


def _check_cluster_name(opt, value, section):
    if value is None or value.strip():
        return None
    return OptionProblem(
        option=opt.name, value=value,
        allowed='the name of the o2cb cluster (as in '
                '/etc/ocfs2/cluster.conf), or unset',
        fix='Set %s in the [%s] section of cinder.conf to the cluster\'s '
            'name ("o2cb list-clusters"), or remove it to not check the '
            'cluster.' % (opt.name, section))


def _check_lock_timeout(opt, value, section):
    if math.isfinite(value) and value >= opt.type.min:
        return None
    return OptionProblem(option=opt.name, value='%g' % value,
                         allowed=_allowed(opt), fix=_default_fix(opt, section))


def _check_choices(opt, value, section):
    # oslo.config enforces choices when it reads the value; this also
    # catches a value set through set_override.
    if value in opt.type.choices:
        return None
    return OptionProblem(option=opt.name, value=str(value),
                         allowed=_allowed(opt), fix=_default_fix(opt, section))


def _check_boolean(opt, value, section):
    if isinstance(value, bool):
        return None
    return OptionProblem(option=opt.name, value=str(value),
                         allowed=_allowed(opt), fix=_default_fix(opt, section))


# Rules beyond what oslo.config enforces, by option name; every option of
# options.ocfs2_opts is also read, so a value oslo.config refuses is
# reported even without a rule here.
RULES = {
    'ocfs2_mount_point_base': _check_mount_point_base,
    'ocfs2_shares': _check_shares,
    'ocfs2_volume_format': _check_choices,
    'ocfs2_sparse_volumes': _check_boolean,
    'ocfs2_volume_file_mode': _check_file_mode,
    'ocfs2_cluster_name': _check_cluster_name,
    'ocfs2_lock_timeout': _check_lock_timeout,
}

# oslo.config's ConfigFileValueError text, e.g. "Value for option
# ocfs2_volume_format from LocationInfo(location=<Locations.user: (4,
# True)>, detail='/etc/cinder/cinder.conf') is not valid: Valid values are
# [raw, qcow2], but found 'vmdk'".
_VALUE_ERROR = re.compile(r"detail='(?P<source>[^']*)'\) is not valid: "
                          r"(?P<reason>.*)$", re.DOTALL)
# The refused value, where oslo.config's types quote it.
_QUOTED_VALUE = re.compile(r"(?:but found|Unexpected boolean value) "
                           r"'(?P<value>.*)'$", re.DOTALL)


def parse_value_error(text):
    """(source file or None, value or None) from an oslo.config error."""
    match = _VALUE_ERROR.search(text)
    if not match:
        return None, None
    quoted = _QUOTED_VALUE.search(match.group('reason'))
    return (match.group('source') or None,
            quoted.group('value') if quoted else None)


def _value_in_file(path, sections, name):
    """The last value of `name` in the first of `sections` that sets it."""
    parsed = {}
    try:
        cfg.ConfigParser(path, parsed).parse()
    except Exception:  # unreadable or malformed: only the message is lost
        return None
    for section in sections:
        values = parsed.get(section, {}).get(name)
        if values:
            return values[-1]
    return None


def _unreadable(opt, error, section):
    """The problem of a value oslo.config refuses to convert."""
    source, value = parse_value_error(str(error))
    if value is None and source:
        value = _value_in_file(source, (section, SHARED_SECTION), opt.name)
    return OptionProblem(option=opt.name,
                         value='?' if value is None else value,
                         allowed=_allowed(opt), source=source,
                         fix=_default_fix(opt, section))


def check_options(config, section):
    """Every invalid driver option of a backend, as OptionProblems.

    :param config: the backend's options as attributes: a cinder
        ``Configuration``, or an object that reads the backend's section
        and falls back to [backend_defaults] as it does.
    :param section: the backend's section of cinder.conf, for the fixes.
    """
    problems = []
    for opt in options.ocfs2_opts:
        try:
            value = getattr(config, opt.name)
        except ValueError as error:
            # ConfigFileValueError (a ValueError) names the file; a plain
            # ValueError comes from the type conversion itself.
            problems.append(_unreadable(opt, error, section))
            continue
        rule = RULES.get(opt.name)
        problem = rule(opt, value, section) if rule else None
        if problem:
            problems.append(problem)
    return tuple(problems)


def require_valid_options(configuration):
    """Raise InvalidBackendConfig naming every invalid option, if any."""
    section = configuration.config_group or 'DEFAULT'
    problems = check_options(configuration, section)
    if problems:
        raise exception.InvalidBackendConfig(
            backend=section,
            problems=' '.join(problem.message for problem in problems))


# -- the cinder release ------------------------------------------------------

class ReleaseSupport(enum.Enum):
    SUPPORTED = 'supported'
    # Newer major release than NEWEST_TESTED_CINDER_MAJOR.
    UNTESTED = 'untested'
    TOO_OLD = 'too old'
    # The version could not be read or parsed.
    UNKNOWN = 'unknown'


_RELEASE = re.compile(r'^\s*(?:\d+:)?(\d+)(?:\.(\d+))?(?:\.(\d+))?')


def parse_release(text):
    """(major, minor, patch) of a version string such as "29.0.0.0rc1".

    A pre-release or development version counts as its release: the
    release candidates of 29.0.0 are 29.0.0 here. None when the text does
    not start with a number.
    """
    match = _RELEASE.match(text or '')
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def cinder_release_support(found):
    """How this package supports the cinder version `found` (a string)."""
    release = parse_release(found)
    if release is None:
        return ReleaseSupport.UNKNOWN
    if release < parse_release(MIN_CINDER_VERSION):
        return ReleaseSupport.TOO_OLD
    if release[0] > NEWEST_TESTED_CINDER_MAJOR:
        return ReleaseSupport.UNTESTED
    return ReleaseSupport.SUPPORTED


def installed_version(distribution):
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def cinder_version():
    """This cinder's version, from its package metadata or cinder.version."""
    found = installed_version('cinder')
    if found:
        return found
    try:
        from cinder import version
        return version.version_string()
    except Exception:  # pbr finds no metadata and no git tree
        return None


def package_version():
    """The version of cinder-ocfs2 itself, e.g. "1.2.1"."""
    found = installed_version(PACKAGE)
    if found:
        return found
    try:
        import pbr.version
        return pbr.version.VersionInfo(PACKAGE).version_string()
    except Exception:  # pbr finds no metadata and no git tree
        from cinder_ocfs2 import driver
        return driver.OCFS2Driver.VERSION


# Versions already warned about, so a driver set up again (cinder retries
# a failed do_setup) warns once per process.
_warned = set()


def check_cinder_release(found=None):
    """Refuse a cinder older than MIN_CINDER_VERSION; warn on untested ones.

    :param found: the cinder version; default: the installed one.
    :raises UnsupportedCinderRelease: cinder is too old.
    """
    found = cinder_version() if found is None else found
    support = cinder_release_support(found)
    details = {'package': package_version(), 'found': found,
               'minimum': MIN_CINDER_VERSION, 'series': MIN_CINDER_SERIES,
               'tested': NEWEST_TESTED_CINDER_MAJOR}
    if support is ReleaseSupport.TOO_OLD:
        raise exception.UnsupportedCinderRelease(**details)
    if support is ReleaseSupport.SUPPORTED or found in _warned:
        return support
    _warned.add(found)
    if support is ReleaseSupport.UNTESTED:
        LOG.warning('cinder-ocfs2 %(package)s is not tested with cinder '
                    '%(found)s, only with cinder %(tested)d.x: it should '
                    'work, but check the release notes of cinder-ocfs2 for '
                    'a release tested with this cinder.', details)
    else:
        LOG.warning('Cannot tell which cinder release this is (version '
                    '%(found)s); cinder-ocfs2 %(package)s supports cinder '
                    '%(minimum)s or later.', details)
    return support
