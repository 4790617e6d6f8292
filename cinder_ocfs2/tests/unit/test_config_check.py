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

"""Start-up checks: the options of a backend and the cinder release.

The invalid values are written to a real cinder.conf and read by
oslo.config, as cinder-volume reads them: oslo.config refuses some of
them only when the option is read, which is what the driver's do_setup
must catch.
"""

import importlib.metadata
import os
import types
from unittest import mock

import ddt
import fixtures
from oslo_config import cfg

from cinder import context
from cinder import exception as cinder_exception
from cinder.tests.unit import test
from cinder.volume import configuration
from cinder.volume import driver as base_driver

from cinder_ocfs2 import config_check
from cinder_ocfs2 import driver
from cinder_ocfs2 import exception
from cinder_ocfs2 import options
from cinder_ocfs2.tests.unit import fake_node

GROUP = 'ocfs2'


def valid_values(**changes):
    """The driver's options as attributes, valid unless changed."""
    values = {opt.name: opt.default for opt in options.ocfs2_opts}
    values.update(changes)
    return types.SimpleNamespace(**values)


class ConfigFileTestCase(test.TestCase):
    """Builds drivers on a cinder.conf of their own, read by oslo.config."""

    def setUp(self):
        super().setUp()
        self.node = self.useFixture(fake_node.FakeNode())
        self.directory = self.useFixture(fixtures.TempDir()).path

    def private_conf(self, text):
        """A ConfigOpts that has read `text` as its cinder.conf."""
        path = os.path.join(self.directory, 'cinder.conf')
        with open(path, 'w', encoding='utf-8') as conf_file:
            conf_file.write(text)
        conf = cfg.ConfigOpts()
        conf(['--config-file', path], project='cinder',
             default_config_files=[], default_config_dirs=[])
        self.path = path
        return conf

    def driver_for(self, section_text, shared_text=''):
        """(driver, patch): an OCFS2Driver of backend [ocfs2] of the text.

        cinder's Configuration registers and reads options on the global
        CONF; the patch points it at the test's own, for as long as the
        test runs, so that every value comes from the file.
        """
        conf = self.private_conf(
            '[DEFAULT]\nenabled_backends = %s\n\n[%s]\n'
            'ocfs2_mount_point_base = %s\n%s\n[backend_defaults]\n%s'
            % (GROUP, GROUP, self.node.base, section_text, shared_text))
        self.useFixture(fixtures.MockPatchObject(configuration, 'CONF',
                                                 conf))
        config = configuration.Configuration(base_driver.volume_opts,
                                             config_group=GROUP)
        return driver.OCFS2Driver(configuration=config)


@ddt.ddt
class DoSetupTestCase(ConfigFileTestCase):
    """Each invalid value stops do_setup with the option and the rule."""

    @ddt.data(
        ('ocfs2_volume_format = vmdk', 'ocfs2_volume_format = vmdk',
         'it must be one of raw, qcow2'),
        ('ocfs2_lock_timeout = 0', 'ocfs2_lock_timeout = 0',
         'it must be a number >= 1'),
        ('ocfs2_lock_timeout = 0.5', 'ocfs2_lock_timeout = 0.5',
         'it must be a number >= 1'),
        ('ocfs2_lock_timeout = nan', 'ocfs2_lock_timeout = nan',
         'it must be a number >= 1'),
        ('ocfs2_lock_timeout = ten', 'ocfs2_lock_timeout = ten',
         'it must be a number >= 1'),
        ('ocfs2_sparse_volumes = maybe', 'ocfs2_sparse_volumes = maybe',
         'it must be a boolean: true or false'),
        ('ocfs2_mount_point_base = var/lib/cinder/ocfs2',
         'ocfs2_mount_point_base = var/lib/cinder/ocfs2',
         'it must be an absolute path'),
        ('ocfs2_mount_point_base =', 'ocfs2_mount_point_base = ""',
         'it must be an absolute path'),
        ('ocfs2_volume_file_mode = 0666', 'ocfs2_volume_file_mode = 0666',
         'it must be an octal mode such as 0660'),
        ('ocfs2_volume_file_mode = rw-rw----',
         'ocfs2_volume_file_mode = rw-rw----',
         'it must be an octal mode such as 0660'),
        ('ocfs2_volume_file_mode = 0460', 'ocfs2_volume_file_mode = 0460',
         'it must be an octal mode such as 0660'),
        ('ocfs2_shares = lun1,../lun2', 'ocfs2_shares = lun1,../lun2',
         'not a pool name: "../lun2"'),
        ('ocfs2_shares = lun1/data', 'ocfs2_shares = lun1/data',
         'directory names directly below ocfs2_mount_point_base'),
        ('ocfs2_shares = .', 'ocfs2_shares = .', 'not "." or ".."'),
        ('ocfs2_shares = lun1,..', 'ocfs2_shares = lun1,..',
         'not a pool name: ".."'),
        ('ocfs2_shares = .snapshots', 'ocfs2_shares = .snapshots',
         'not starting with "."'),
        ('ocfs2_shares = lun1,,lun2', 'ocfs2_shares = lun1,,lun2',
         'not empty'),
        ('ocfs2_cluster_name =', 'ocfs2_cluster_name = ""',
         'it must be the name of the o2cb cluster'),
    )
    @ddt.unpack
    def test_invalid_value_stops_do_setup(self, line, named, allowed):
        ocfs2 = self.driver_for(line + '\n')
        error = self.assertRaises(exception.InvalidBackendConfig,
                                  ocfs2.do_setup, context.get_admin_context())
        message = str(error)
        self.assertIn(named, message)
        self.assertIn(allowed, message)
        self.assertIn('The OCFS2 backend ocfs2 is not started', message)
        self.assertIn('Correct them in the [ocfs2] section', message)
        # cinder's own exception type for a configuration value.
        self.assertIsInstance(error,
                              cinder_exception.InvalidConfigurationValue)
        # Nothing was set up.
        self.assertIsNone(ocfs2._inventory)

    def test_value_refused_by_oslo_names_the_file(self):
        ocfs2 = self.driver_for('ocfs2_volume_format = vmdk\n')
        error = self.assertRaises(exception.InvalidBackendConfig,
                                  ocfs2.do_setup, context.get_admin_context())
        self.assertIn('ocfs2_volume_format = vmdk (in %s) is invalid: it '
                      'must be one of raw, qcow2.' % self.path, str(error))

    def test_invalid_shared_default_stops_do_setup(self):
        ocfs2 = self.driver_for('', shared_text='ocfs2_lock_timeout = 0\n')
        error = self.assertRaises(exception.InvalidBackendConfig,
                                  ocfs2.do_setup, context.get_admin_context())
        self.assertIn('ocfs2_lock_timeout = 0 (in %s) is invalid: it must '
                      'be a number >= 1.' % self.path, str(error))

    def test_all_problems_in_one_message(self):
        ocfs2 = self.driver_for('ocfs2_volume_format = vmdk\n'
                                'ocfs2_lock_timeout = 0\n'
                                'ocfs2_sparse_volumes = maybe\n'
                                'ocfs2_shares = ../x\n')
        error = self.assertRaises(exception.InvalidBackendConfig,
                                  ocfs2.do_setup, context.get_admin_context())
        message = str(error)
        for named in ('ocfs2_volume_format = vmdk', 'ocfs2_lock_timeout = 0',
                      'ocfs2_sparse_volumes = maybe', 'ocfs2_shares = ../x'):
            self.assertIn(named, message)
        self.assertEqual(1, message.count('The OCFS2 backend'))

    def test_valid_config_passes(self):
        self.node.mount('lun1')
        ocfs2 = self.driver_for(
            'ocfs2_shares = lun1,lun2\n'
            'ocfs2_volume_format = qcow2\n'
            'ocfs2_sparse_volumes = false\n'
            'ocfs2_volume_file_mode = 0640\n'
            'ocfs2_cluster_name = labcluster\n'
            'ocfs2_lock_timeout = 1\n')
        ocfs2.do_setup(context.get_admin_context())
        self.assertEqual((0o640, ['lun1'], self.node.base),
                         (ocfs2._file_mode,
                          [lun.pool for lun in ocfs2._inventory.usable()],
                          ocfs2.base))

    def test_mount_point_base_is_normalised(self):
        ocfs2 = self.driver_for('ocfs2_mount_point_base = %s//./\n'
                                % self.node.base)
        ocfs2.do_setup(context.get_admin_context())
        self.assertEqual(self.node.base, ocfs2.base)

    def test_old_cinder_stops_do_setup(self):
        self.useFixture(fixtures.MockPatchObject(
            config_check, 'cinder_version', return_value='27.0.0'))
        ocfs2 = self.driver_for('')
        error = self.assertRaises(exception.UnsupportedCinderRelease,
                                  ocfs2.do_setup, context.get_admin_context())
        self.assertIn('supports cinder 29.0.0 or later', str(error))
        self.assertIsNone(ocfs2._inventory)


class CheckOptionsTestCase(test.TestCase):
    """check_options on plain attributes: the rules alone."""

    def test_defaults_are_valid(self):
        self.assertEqual((), config_check.check_options(valid_values(),
                                                        'ocfs2'))

    def test_valid_values(self):
        self.assertEqual((), config_check.check_options(valid_values(
            ocfs2_mount_point_base='/srv/ocfs2/',
            ocfs2_shares=['lun1', 'pool with space', 'lun.2'],
            ocfs2_volume_format='qcow2', ocfs2_sparse_volumes=False,
            ocfs2_volume_file_mode='600', ocfs2_cluster_name='prod',
            ocfs2_lock_timeout=1.0), 'ocfs2'))

    def test_problem_record(self):
        [problem] = config_check.check_options(
            valid_values(ocfs2_volume_format='vmdk'), 'lvm-ocfs2')
        self.assertEqual(
            config_check.OptionProblem(
                option='ocfs2_volume_format', value='vmdk',
                allowed='one of raw, qcow2',
                fix='Set ocfs2_volume_format in the [lvm-ocfs2] section of '
                    'cinder.conf to one of raw, qcow2, or remove it to use '
                    'the default (raw).'),
            problem)
        self.assertEqual('ocfs2_volume_format = vmdk is invalid: it must be '
                         'one of raw, qcow2. Set ocfs2_volume_format in the '
                         '[lvm-ocfs2] section of cinder.conf to one of raw, '
                         'qcow2, or remove it to use the default (raw).',
                         str(problem))

    def test_allowed_formats_come_from_the_option(self):
        [opt] = [opt for opt in options.ocfs2_opts
                 if opt.name == 'ocfs2_volume_format']
        [problem] = config_check.check_options(
            valid_values(ocfs2_volume_format='vmdk'), 'ocfs2')
        self.assertEqual('one of %s' % ', '.join(opt.type.choices),
                         problem.allowed)

    def test_file_mode_reason(self):
        [problem] = config_check.check_options(
            valid_values(ocfs2_volume_file_mode='0662'), 'ocfs2')
        self.assertEqual(
            ('ocfs2_volume_file_mode', '0662',
             'it lets every user of the node write to volume data'),
            (problem.option, problem.value, problem.reason))

    def test_every_option_is_read(self):
        read = []

        class Recorder:
            def __getattr__(self, name):
                read.append(name)
                return getattr(valid_values(), name)

        config_check.check_options(Recorder(), 'ocfs2')
        self.assertEqual([opt.name for opt in options.ocfs2_opts], read)

    def test_unreadable_value_without_file(self):
        class Refusing:
            def __getattr__(self, name):
                if name == 'ocfs2_sparse_volumes':
                    raise ValueError("Unexpected boolean value 'maybe'")
                return getattr(valid_values(), name)

        [problem] = config_check.check_options(Refusing(), 'ocfs2')
        self.assertEqual(('ocfs2_sparse_volumes', '?', None,
                          'a boolean: true or false'),
                         (problem.option, problem.value, problem.source,
                          problem.allowed))

    def test_parse_value_error(self):
        self.assertEqual(
            ('/etc/cinder/cinder.conf', 'vmdk'),
            config_check.parse_value_error(
                "Value for option ocfs2_volume_format from LocationInfo("
                "location=<Locations.user: (4, True)>, detail='/etc/cinder/"
                "cinder.conf') is not valid: Valid values are [raw, qcow2], "
                "but found 'vmdk'"))
        self.assertEqual(
            ('/etc/cinder/cinder.conf', None),
            config_check.parse_value_error(
                "Value for option ocfs2_lock_timeout from LocationInfo("
                "location=<Locations.user: (4, True)>, detail='/etc/cinder/"
                "cinder.conf') is not valid: Should be greater than or equal "
                "to 1"))
        self.assertEqual((None, None),
                         config_check.parse_value_error('something else'))


@ddt.ddt
class CinderReleaseTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(config_check, '_warned',
                                                 set()))
        self.log = self.useFixture(fixtures.MockPatchObject(
            config_check, 'LOG')).mock

    @ddt.data(('27.0.0', 'TOO_OLD'), ('28.1.2', 'TOO_OLD'),
              ('29.0.0', 'SUPPORTED'), ('29.0.0.0rc1', 'SUPPORTED'),
              ('29.1.0.dev12', 'SUPPORTED'), ('29', 'SUPPORTED'),
              ('30.0.0', 'UNTESTED'), ('2:31.0.0', 'UNTESTED'),
              ('', 'UNKNOWN'), (None, 'UNKNOWN'), ('master', 'UNKNOWN'))
    @ddt.unpack
    def test_cinder_release_support(self, found, support):
        self.assertEqual(config_check.ReleaseSupport[support],
                         config_check.cinder_release_support(found))

    def test_older_cinder_is_refused(self):
        self.useFixture(fixtures.MockPatchObject(
            config_check, 'package_version', return_value='1.3.0'))
        error = self.assertRaises(exception.UnsupportedCinderRelease,
                                  config_check.check_cinder_release,
                                  '27.0.0')
        self.assertEqual(
            'cinder-ocfs2 1.3.0 supports cinder 29.0.0 or later (OpenStack '
            '2026.2 Hibiscus); this cinder is 27.0.0. Install a cinder-ocfs2 '
            'release made for it, or upgrade cinder.', str(error))

    def test_same_release_passes_silently(self):
        self.assertEqual(config_check.ReleaseSupport.SUPPORTED,
                         config_check.check_cinder_release('29.0.0'))
        self.log.warning.assert_not_called()

    def test_newer_release_warns_once(self):
        for _attempt in range(3):
            self.assertEqual(config_check.ReleaseSupport.UNTESTED,
                             config_check.check_cinder_release('30.0.0'))
        self.log.warning.assert_called_once()
        text = self.log.warning.call_args[0][0] % (
            self.log.warning.call_args[0][1])
        self.assertIn('is not tested with cinder 30.0.0, only with cinder '
                      '29.x', text)

    def test_unknown_release_warns(self):
        self.assertEqual(config_check.ReleaseSupport.UNKNOWN,
                         config_check.check_cinder_release('unknown'))
        self.log.warning.assert_called_once()

    def test_installed_cinder_is_read(self):
        self.useFixture(fixtures.MockPatchObject(
            importlib.metadata, 'version', return_value='27.0.0'))
        self.assertRaises(exception.UnsupportedCinderRelease,
                          config_check.check_cinder_release)

    def test_cinder_version_falls_back_to_cinder_version(self):
        self.useFixture(fixtures.MockPatchObject(
            importlib.metadata, 'version',
            side_effect=importlib.metadata.PackageNotFoundError('cinder')))
        with mock.patch('cinder.version.version_string',
                        return_value='29.0.1'):
            self.assertEqual('29.0.1', config_check.cinder_version())

    def test_package_version(self):
        self.useFixture(fixtures.MockPatchObject(
            importlib.metadata, 'version', return_value='1.3.0'))
        self.assertEqual('1.3.0', config_check.package_version())

    def test_package_version_falls_back_to_the_driver(self):
        self.useFixture(fixtures.MockPatchObject(
            importlib.metadata, 'version',
            side_effect=importlib.metadata.PackageNotFoundError('x')))
        with mock.patch('pbr.version.VersionInfo',
                        side_effect=Exception('no metadata, no git')):
            self.assertEqual(driver.OCFS2Driver.VERSION,
                             config_check.package_version())

    def test_supported_minimum_is_one_constant(self):
        self.assertEqual(
            (29, 0, 0), config_check.parse_release(
                config_check.MIN_CINDER_VERSION))
        self.assertLessEqual(
            config_check.parse_release(config_check.MIN_CINDER_VERSION)[0],
            config_check.NEWEST_TESTED_CINDER_MAJOR)
