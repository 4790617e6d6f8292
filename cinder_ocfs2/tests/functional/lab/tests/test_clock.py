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

"""Tests of the lab guests' clock sync (clock, rtc_feed, timesync); no VM.

chronyd's own parser checks the configuration when chronyd is installed
(Debian package chrony, bindep.txt profile lab); those tests are skipped,
saying why, without it.  The feeder is tested against a real datagram
socket and fake RTCs, timesync against a fake lab.
"""

import math
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import clock
from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import lab
from cinder_ocfs2.tests.functional.lab import rtc_feed
from cinder_ocfs2.tests.functional.lab import timesync

LAB_DIR = pathlib.Path(timesync.__file__).parent

# `chronyc -n tracking` of a guest following the RTC refclock, its clock
# behind (chrony 4.3's format, client.c process_cmd_tracking()).
TRACKING_SLOW = """\
Reference ID    : 52544300 (RTC)
Stratum         : 1
Ref time (UTC)  : Mon Dec 07 20:04:18 2026
System time     : 0.000012345 seconds slow of NTP time
Last offset     : -0.000231000 seconds
RMS offset      : 0.004113027 seconds
Frequency       : 1534.210 ppm slow
Residual freq   : +2.116 ppm
Skew            : 95.406 ppm
Root delay      : 0.100000001 seconds
Root dispersion : 0.010695225 seconds
Update interval : 8.0 seconds
Leap status     : Normal
"""
# The example of chronyc's manual (doc/chronyc.adoc, chrony 4.3), its
# clock ahead instead.
TRACKING_FAST = """\
Reference ID    : CB00710F (foo.example.net)
Stratum         : 3
Ref time (UTC)  : Fri Jan 27 09:49:17 2017
System time     : 0.000006523 seconds fast of NTP time
Last offset     : -0.000006747 seconds
RMS offset      : 0.000035822 seconds
Frequency       : 3.225 ppm fast
Residual freq   : -0.000 ppm
Skew            : 0.129 ppm
Root delay      : 0.013639022 seconds
Root dispersion : 0.001100737 seconds
Update interval : 64.2 seconds
Leap status     : Normal
"""
# chronyd before its first update (reference.c: refid 0, root delay and
# dispersion 1 s, leap status unsynchronised).
TRACKING_UNSYNCHRONISED = """\
Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.000 ppm
Root delay      : 1.000000000 seconds
Root dispersion : 1.000000000 seconds
Update interval : 0.0 seconds
Leap status     : Not synchronised
"""


def rtc_time(year, month, day, hour=0, minute=0, second=0, wday=0, yday=0):
    """struct rtc_time bytes as the kernel fills them on x86_64."""
    return struct.pack('<9i', second, minute, hour, day, month - 1,
                       year - 1900, wday, yday, 0)


def chronyd_path():
    path = os.environ.get('PATH', '') + ':/usr/sbin:/sbin'
    return shutil.which('chronyd', path=path)


class TestRtc(unittest.TestCase):

    def test_ioctl_numbers_are_linux_rtc_h(self):
        self.assertEqual(0x7003, clock.RTC_UIE_ON)
        self.assertEqual(0x7004, clock.RTC_UIE_OFF)
        self.assertEqual(0x80247009, clock.RTC_RD_TIME)

    def test_parse_rtc_time_known_dates(self):
        cases = [
            (rtc_time(1970, 1, 1), 0),
            # Leap days, 2000 being one (divisible by 400), 2100 not.
            (rtc_time(2000, 2, 29), 951782400),
            (rtc_time(2024, 2, 29, 12, 34, 56), 1709210096),
            (rtc_time(2100, 3, 1), 4107542400),
            (rtc_time(2025, 12, 31, 23, 59, 59), 1767225599),
            (rtc_time(2026, 1, 1), 1767225600),
        ]
        for raw, expected in cases:
            self.assertEqual(expected, clock.parse_rtc_time(raw))

    def test_parse_rtc_time_ignores_wday_yday(self):
        self.assertEqual(
            clock.parse_rtc_time(rtc_time(2026, 1, 1)),
            clock.parse_rtc_time(rtc_time(2026, 1, 1, wday=4, yday=0)))
        self.assertEqual(
            1767225600,
            clock.parse_rtc_time(rtc_time(2026, 1, 1, wday=6, yday=200)))

    def test_parse_rtc_time_rejects(self):
        for raw in (rtc_time(2026, 1, 1)[:-4],
                    rtc_time(2026, 13, 1),
                    rtc_time(2026, 1, 0),
                    rtc_time(2026, 1, 1, 24),
                    rtc_time(1969, 12, 31)):
            self.assertRaises(ValueError, clock.parse_rtc_time, raw)

    def test_parse_rtc_irq_data(self):
        # Two update interrupts since the last read: RTC_UF | RTC_IRQF.
        self.assertEqual((2, 0x90), clock.parse_rtc_irq_data(
            struct.pack('<Q', (2 << 8) | 0x90)))
        self.assertEqual((1, 0x90), clock.parse_rtc_irq_data(
            struct.pack('<Q', 0x190)))
        self.assertRaises(ValueError, clock.parse_rtc_irq_data, b'\0' * 4)


class TestSockSample(unittest.TestCase):

    def test_layout_is_chronys_struct_sock_sample(self):
        data = clock.pack_sample(1767225600.25, -0.5)
        expected = (
            (1767225600).to_bytes(8, 'little')      # tv.tv_sec
            + (250000).to_bytes(8, 'little')        # tv.tv_usec
            + struct.pack('<d', -0.5)               # offset
            + bytes(12)                             # pulse, leap, _pad
            + bytes.fromhex('4b434f53'))            # magic 0x534f434b
        self.assertEqual(40, len(data))
        self.assertEqual(expected, data)

    def test_round_trip(self):
        for system_time, offset in ((1767225600.123456, 0.75),
                                    (1709210096.5, -58.5),
                                    (1767225599.999999, 1e-6)):
            sample = clock.unpack_sample(
                clock.pack_sample(system_time, offset))
            self.assertAlmostEqual(system_time, sample.system_time,
                                   delta=1e-6)
            self.assertEqual(offset, sample.offset)
            self.assertEqual((0, 0), (sample.pulse, sample.leap))
            self.assertLess(sample.microseconds, 1000000)

    def test_microseconds_carry_into_seconds(self):
        sample = clock.unpack_sample(clock.pack_sample(1767225599.9999996,
                                                       0.0))
        self.assertEqual((1767225600, 0),
                         (sample.seconds, sample.microseconds))

    def test_unpack_rejects_what_chronyd_drops(self):
        data = clock.pack_sample(1767225600.0, 0.0)
        self.assertRaises(ValueError, clock.unpack_sample, data[:-1])
        self.assertRaises(ValueError, clock.unpack_sample,
                          data[:-4] + b'\0\0\0\0')


class TestChronyConf(unittest.TestCase):

    def directives(self, text):
        return [line for line in text.splitlines()
                if line.strip() and not line.startswith('#')]

    def test_directives(self):
        lines = self.directives(clock.chrony_conf())
        self.assertEqual(1, len([line for line in lines
                                 if line.startswith('refclock ')]))
        self.assertIn('refclock SOCK /run/chrony/rtc.sock refid RTC poll 3 '
                      'precision 0.01 delay 0.1', lines)
        for line in ('makestep 1 -1', 'port 0', 'cmdport 0',
                     'bindcmdaddress /run/chrony/chronyd.sock',
                     'pidfile /run/chrony/chronyd.pid',
                     'driftfile /run/chrony/chrony.drift'):
            self.assertIn(line, lines)
        words = {line.split()[0] for line in lines}
        # No NTP source, no serving, and never the RTC written.
        for directive in ('server', 'pool', 'peer', 'allow', 'rtcsync',
                          'rtcfile', 'log', 'logdir'):
            self.assertNotIn(directive, words)

    def test_socket_and_logdir(self):
        lines = self.directives(clock.chrony_conf('/run/x/s.sock',
                                                  logdir='/lab/clock/log'))
        self.assertTrue(lines[0].startswith('refclock SOCK /run/x/s.sock '))
        self.assertIn('logdir /lab/clock/log', lines)
        self.assertIn('log tracking refclocks', lines)

    def run_chronyd_check(self, text):
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write(text)
            conf.flush()
            return subprocess.run([chronyd_path(), '-p', '-f', conf.name],
                                  capture_output=True, text=True, timeout=60)

    @unittest.skipUnless(chronyd_path(), 'chronyd not found (Debian package '
                         'chrony, bindep.txt profile lab)')
    def test_chronyd_parses_it(self):
        text = clock.chrony_conf(logdir='/lab/clock/log')
        proc = self.run_chronyd_check(text)
        self.assertEqual(0, proc.returncode, proc.stderr)
        # chronyd -p prints the directives it read, comments dropped.
        self.assertEqual(self.directives(text), proc.stdout.splitlines())

    @unittest.skipUnless(chronyd_path(), 'chronyd not found (Debian package '
                         'chrony, bindep.txt profile lab)')
    def test_chronyd_check_can_fail(self):
        text = clock.chrony_conf().replace('precision', 'precission')
        proc = self.run_chronyd_check(text)
        self.assertNotEqual(0, proc.returncode)
        self.assertIn('Invalid refclock option', proc.stderr)


class TestTracking(unittest.TestCase):

    def test_slow_guest_on_the_rtc(self):
        state = clock.parse_tracking(TRACKING_SLOW)
        self.assertEqual(0x52544300, state.reference_id)
        self.assertEqual('RTC', state.reference_name)
        self.assertEqual(1, state.stratum)
        # Slow: the guest is behind, guest minus source is negative.
        self.assertEqual(-0.000012345, state.system_time)
        self.assertEqual(-0.000231, state.last_offset)
        self.assertEqual(0.004113027, state.rms_offset)
        self.assertEqual(-1534.21, state.frequency_ppm)
        self.assertEqual(0.100000001, state.root_delay)
        self.assertEqual(0.010695225, state.root_dispersion)
        self.assertEqual(8.0, state.update_interval)
        self.assertEqual('Normal', state.leap_status)
        self.assertTrue(state.synchronised)

    def test_fast(self):
        state = clock.parse_tracking(TRACKING_FAST)
        self.assertEqual((0xCB00710F, 'foo.example.net', 3),
                         (state.reference_id, state.reference_name,
                          state.stratum))
        self.assertEqual(0.000006523, state.system_time)
        self.assertEqual(-0.000006747, state.last_offset)
        self.assertEqual(3.225, state.frequency_ppm)
        self.assertEqual(64.2, state.update_interval)
        self.assertTrue(state.synchronised)

    def test_not_synchronised(self):
        state = clock.parse_tracking(TRACKING_UNSYNCHRONISED)
        self.assertEqual((0, ''), (state.reference_id, state.reference_name))
        self.assertEqual(0.0, state.system_time)
        self.assertEqual('Not synchronised', state.leap_status)
        self.assertFalse(state.synchronised)

    def test_rejects(self):
        self.assertRaises(ValueError, clock.parse_tracking,
                          '506 Cannot talk to daemon\n')
        without_leap = TRACKING_SLOW.replace('Leap status', 'Leap')
        self.assertRaises(ValueError, clock.parse_tracking, without_leap)
        bad = TRACKING_SLOW.replace('seconds slow of', 'seconds late of')
        self.assertRaises(ValueError, clock.parse_tracking, bad)


class TestRoundTrips(unittest.TestCase):

    def test_one_round_trip(self):
        trip = clock.RoundTrip(host_before=100.0, guest=100.7,
                               host_after=100.2)
        self.assertAlmostEqual(0.6, trip.offset)
        self.assertAlmostEqual(0.1, trip.uncertainty)

    def test_bounds_intersect(self):
        trips = [clock.RoundTrip(100.0, 100.6, 100.2),     # [0.40, 0.60]
                 clock.RoundTrip(101.0, 101.55, 101.1),    # [0.45, 0.55]
                 clock.RoundTrip(102.0, 102.52, 102.3)]    # [0.22, 0.52]
        offset, uncertainty = clock.combine_round_trips(trips)
        self.assertAlmostEqual(0.485, offset)
        self.assertAlmostEqual(0.035, uncertainty)

    def test_disjoint_bounds_take_the_shortest(self):
        trips = [clock.RoundTrip(100.0, 100.6, 100.2),     # [0.40, 0.60]
                 clock.RoundTrip(101.0, 100.95, 101.1)]    # [-0.15, -0.05]
        offset, uncertainty = clock.combine_round_trips(trips)
        self.assertAlmostEqual(-0.1, offset)
        self.assertAlmostEqual(0.05, uncertainty)
        self.assertRaises(ValueError, clock.combine_round_trips, [])

    def test_parse_date_output(self):
        self.assertAlmostEqual(1767225600.123456789,
                               clock.parse_date_output(
                                   '1767225600.123456789\n'), places=6)
        for text in ('1767225600\n', 'date: invalid\n', ''):
            self.assertRaises(ValueError, clock.parse_date_output, text)

    def test_correction_file(self):
        text = clock.format_correction(-0.375)
        self.assertEqual('-0.375000000\n', text)
        self.assertEqual(-0.375, clock.parse_correction(text))
        for text in ('nan\n', 'x\n', ''):
            self.assertRaises(ValueError, clock.parse_correction, text)

    def test_summary(self):
        line = clock.ClockOffset(
            'node1', -0.0123, 0.04,
            tracking=clock.parse_tracking(TRACKING_SLOW),
            correction=0.412).summary()
        for part in ('node1', '-0.012 s', '0.040 s', 'RTC', 'Normal',
                     '-0.000012 s', '-1534.2 ppm', '+0.412 s'):
            self.assertIn(part, line)
        line = clock.ClockOffset('node2', 1.5, 0.1,
                                 tracking_error='no chronyd').summary()
        self.assertIn('chrony: no chronyd', line)


class FakeRtc:
    """An RTC whose edges come at system times k + phase."""

    def __init__(self, fake_time, phase, counts=None, read_cost=0.0002):
        self.time = fake_time
        self.phase = phase
        self.counts = list(counts or [])
        self.read_cost = read_cost
        self.reads = 0

    def wait_update(self, timeout=None):
        # Sleep to the next edge, then report the scripted count (None:
        # nothing came within the timeout).
        count = self.counts.pop(0)
        if count is None:
            self.time.advance(timeout)
            return None
        now = self.time.now()
        self.time.advance(math.floor(now - self.phase) + 1 + self.phase
                          - now + 0.003)
        return count

    def read_time(self):
        self.reads += 1
        self.time.advance(self.read_cost)
        return math.floor(self.time.now() - self.phase)


class FakeTime:

    def __init__(self, start):
        self.t = start

    def now(self):
        return self.t

    def advance(self, seconds):
        self.t += max(0.0, seconds)


class TestFeederEdges(unittest.TestCase):

    def test_interrupt_edges_skip_late_wakeups(self):
        fake_time = FakeTime(1767225600.5)
        rtc = FakeRtc(fake_time, phase=0.0, counts=[1, 2, 1])
        edges = rtc_feed.interrupt_edges(rtc, now=fake_time.now)
        first = next(edges)
        second = next(edges)
        self.assertEqual(1767225601, first[1])
        self.assertAlmostEqual(1767225601.003, first[0])
        # The edge of ...602 came with 2 interrupts: skipped.
        self.assertEqual(1767225603, second[1])
        self.assertAlmostEqual(1767225603.003, second[0])

    def test_interrupt_edges_give_up_without_interrupts(self):
        fake_time = FakeTime(1767225600.5)
        rtc = FakeRtc(fake_time, phase=0.0, counts=[1, None])
        edges = rtc_feed.interrupt_edges(rtc, now=fake_time.now)
        self.assertEqual(1767225601, next(edges)[1])
        self.assertRaises(rtc_feed.NoUpdates, next, edges)
        self.assertAlmostEqual(1767225601.003 + rtc_feed.UPDATE_TIMEOUT,
                               fake_time.now(), delta=0.01)

    def test_polled_edges_find_the_edges(self):
        fake_time = FakeTime(1767225600.0)
        rtc = FakeRtc(fake_time, phase=0.37)
        edges = rtc_feed.polled_edges(rtc, now=fake_time.now,
                                      sleep=fake_time.advance)
        for _ in range(4):
            reads = rtc.reads
            edge, seconds = next(edges)
            # The RTC reads `seconds` from system time seconds + 0.37 on.
            self.assertAlmostEqual(seconds + 0.37, edge,
                                   delta=rtc_feed.POLL_INTERVAL)
        # After the first edge, the poll starts just before the next one.
        self.assertLess(rtc.reads - reads,
                        3 + rtc_feed.POLL_LEAD / rtc_feed.POLL_INTERVAL * 2)


class TestFeederSocket(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        self.path = str(self.dir / 'rtc.sock')
        self.correction = self.dir / 'correction'
        patcher = mock.patch.object(rtc_feed, 'log')
        self.log = patcher.start()
        self.addCleanup(patcher.stop)

    def listen(self):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(server.close)
        server.bind(self.path)
        server.settimeout(5)
        return server

    def write_correction(self, seconds):
        # As timesync.write_correction(): a new file renamed into place.
        tmp = self.dir / '.tmp'
        tmp.write_text(clock.format_correction(seconds))
        os.rename(tmp, self.correction)

    def test_samples_reach_the_socket_with_the_correction(self):
        feeder = rtc_feed.Feeder(self.path, str(self.correction))
        self.addCleanup(feeder.close)
        # No chronyd yet: dropped, logged once.
        self.assertFalse(feeder.send(1767225600.2, 1767225600))
        self.assertFalse(feeder.send(1767225601.2, 1767225601))
        self.assertEqual(1, self.log.call_count)
        self.assertIn('no chronyd on %s' % self.path,
                      self.log.call_args[0][0])
        server = self.listen()
        self.assertTrue(feeder.send(1767225602.25, 1767225602))
        self.assertIn('first sample', self.log.call_args[0][0])
        sample = clock.unpack_sample(server.recv(100))
        self.assertAlmostEqual(1767225602.25, sample.system_time, delta=1e-6)
        self.assertAlmostEqual(-0.25, sample.offset)
        self.write_correction(0.4)
        self.assertTrue(feeder.send(1767225603.25, 1767225603))
        sample = clock.unpack_sample(server.recv(100))
        self.assertAlmostEqual(0.15, sample.offset)
        self.write_correction(0.5)
        self.assertTrue(feeder.send(1767225604.25, 1767225604))
        self.assertAlmostEqual(
            0.25, clock.unpack_sample(server.recv(100)).offset)

    def test_full_queue_drops(self):
        server = self.listen()
        feeder = rtc_feed.Feeder(self.path)
        self.addCleanup(feeder.close)
        sent = [feeder.send(1767225600.0 + i, 1767225600 + i)
                for i in range(2000)]
        self.assertTrue(sent[0])
        self.assertFalse(all(sent))
        self.assertIsNotNone(server.recv(100))

    def run_main(self, rtc, edges):
        """main() on a fake RTC; the fake polled_edges yields edges."""
        def polled(rtc_given):
            self.assertIs(rtc, rtc_given)
            yield from edges
            raise rtc_feed.Stop()

        with mock.patch.object(rtc_feed, 'Rtc', return_value=rtc), \
                mock.patch.object(rtc_feed, 'polled_edges', polled), \
                mock.patch.object(rtc_feed, '_realtime', return_value=False), \
                mock.patch.object(rtc_feed.signal, 'signal'):
            return rtc_feed.main(['--socket', self.path])

    def test_main_polls_without_update_interrupts(self):
        server = self.listen()
        rtc = mock.Mock()
        rtc.enable_updates.side_effect = OSError(22, 'Invalid argument')
        self.assertEqual(0, self.run_main(rtc, [(1767225600.1, 1767225600),
                                                (1767225601.1, 1767225601)]))
        for _ in range(2):
            # Times near 1.8e9 s are floats to 0.24 us.
            self.assertAlmostEqual(
                -0.1, clock.unpack_sample(server.recv(100)).offset,
                places=6)
        rtc.close.assert_called_once_with()
        messages = [call[0][0] for call in self.log.call_args_list]
        self.assertIn('RTC_UIE_ON on /dev/rtc0 failed', messages[0])
        self.assertIn('started (pid %d): polling' % os.getpid(), messages[1])

    def test_main_polls_when_interrupts_never_come(self):
        server = self.listen()
        rtc = mock.Mock()
        rtc.wait_update.return_value = None
        with mock.patch.object(rtc_feed, 'UPDATE_TIMEOUT', 0.01):
            self.assertEqual(0, self.run_main(rtc, [(1767225600.3,
                                                     1767225600)]))
        self.assertAlmostEqual(
            -0.3, clock.unpack_sample(server.recv(100)).offset, places=6)
        rtc.enable_updates.assert_called_once_with()
        rtc.disable_updates.assert_called_once_with()
        rtc.close.assert_called_once_with()
        self.assertIn('no update interrupt from /dev/rtc0',
                      ' '.join(call[0][0]
                               for call in self.log.call_args_list))

    def test_missing_device(self):
        self.assertEqual(1, rtc_feed.main(
            ['--socket', self.path, '--device', str(self.dir / 'no-rtc')]))
        self.assertIn('cannot open', self.log.call_args[0][0])

    def test_runs_by_path_with_its_copy_of_clock(self):
        # As in the guests: both files copied to a folder, run by path,
        # the repository not on sys.path.
        for name in timesync.FEEDER_FILES:
            shutil.copyfile(LAB_DIR / name, self.dir / name)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith('PYTHON')}
        proc = subprocess.run(
            [sys.executable, str(self.dir / 'rtc_feed.py'), '--socket',
             self.path, '--device', str(self.dir / 'no-rtc')],
            capture_output=True, text=True, env=env, cwd='/', timeout=60)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('rtc_feed: cannot open', proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)


class FakeLab:
    """The part of Lab that timesync uses, the guest scripted."""

    def __init__(self, folder, guest_minus_host=-0.4, probe='',
                 tracking=TRACKING_SLOW, tracking_exit=0):
        self.folder = pathlib.Path(folder)
        self.guest_minus_host = guest_minus_host
        self.probe = probe
        self.tracking = tracking
        self.tracking_exit = tracking_exit
        self.lines = []
        self.spawned = []

    nodes_up = ('node1', 'node2')

    def exchange_dir(self, node):
        return self.folder / node / 'lab'

    def run(self, node, line, timeout=60, check=False):
        self.lines.append((node, line))
        code, out, err = 0, '', ''
        if line == timesync.probe_line():
            out = self.probe
        elif line == clock.DATE_COMMAND:
            out = '%.9f\n' % (time.time() + self.guest_minus_host)
        elif line == timesync.TRACKING_LINE:
            code = self.tracking_exit
            out, err = ((self.tracking, '') if not code
                        else ('', '506 Cannot talk to daemon\n'))
        elif line == timesync.MAKESTEP_LINE:
            out = '200 OK\n'
        result = command.CommandResult(line, code, out, err, node)
        return result.check() if check else result

    def spawn(self, node, line, log_name):
        self.spawned.append((node, line, log_name))
        logs = self.exchange_dir(node) / 'logs'
        return agent.Spawned(node, log_name, 100 + len(self.spawned),
                             logs / ('%s.log' % log_name),
                             logs / ('%s.exit' % log_name))


class TestTimesync(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def test_command_lines(self):
        self.assertEqual('exec chronyd -d -u root -f /lab/clock/chrony.conf',
                         timesync.chronyd_line())
        self.assertEqual(
            'exec /usr/bin/python3 /lab/clock/rtc_feed.py --socket '
            '/run/chrony/rtc.sock --device /dev/rtc0 --correction-file '
            '/lab/clock/rtc-correction', timesync.feeder_line())
        probe = timesync.probe_line()
        for part in ('test -c /dev/rtc0', 'chronyd', 'chronyc'):
            self.assertIn(part, probe)

    def test_probe_line_prints_only_what_is_missing(self):
        proc = subprocess.run(['sh', '-c', timesync.probe_line(
            os.path.join(self.tmp, 'no-rtc'))], capture_output=True,
            text=True, timeout=60)
        self.assertIn('no %s/no-rtc' % self.tmp, proc.stdout.splitlines())
        # The same PATH as the shell's.
        for tool in ('chronyd', 'chronyc'):
            self.assertEqual(shutil.which(tool) is None,
                             'no %s' % tool in proc.stdout.splitlines())

    def test_start(self):
        fake = FakeLab(self.tmp)
        sync = timesync.start(fake, 'node1')
        self.assertEqual('node1', sync.node)
        self.assertEqual(
            [('node1', timesync.chronyd_line(), 'chronyd'),
             ('node1', timesync.feeder_line(), 'rtc-feed')], fake.spawned)
        folder = fake.exchange_dir('node1') / 'clock'
        self.assertEqual(clock.chrony_conf(logdir='/lab/clock/log'),
                         (folder / 'chrony.conf').read_text())
        for name in timesync.FEEDER_FILES:
            self.assertEqual((LAB_DIR / name).read_bytes(),
                             (folder / name).read_bytes())
        self.assertEqual(0.0, timesync.read_correction(fake, 'node1'))
        self.assertTrue((folder / 'log').is_dir())

    def test_start_without_rtc(self):
        fake = FakeLab(self.tmp, probe='no /dev/rtc0\n')
        with self.assertLogs(timesync.LOG, 'WARNING') as logs:
            self.assertEqual({}, timesync.start_all(fake, ['node1']))
        self.assertEqual([], fake.spawned)
        self.assertEqual(1, len(logs.output))
        self.assertIn('node1: no /dev/rtc0: the guest clock is NOT kept',
                      logs.output[0])
        self.assertIsNone(timesync.read_correction(fake, 'node1'))

    def test_calibrate(self):
        fake = FakeLab(self.tmp, guest_minus_host=-0.4)
        timesync.start(fake, 'node1')
        timesync.write_correction(fake, 'node1', 0.1)
        result = timesync.calibrate_all(fake, ['node1'])['node1']
        self.assertAlmostEqual(-0.4, result.offset, delta=0.05)
        self.assertLess(result.uncertainty, 0.05)
        # The guest was 0.4 s behind: the RTC gets 0.4 s more.
        self.assertAlmostEqual(0.5, result.correction, delta=0.05)
        self.assertEqual(result.correction,
                         timesync.read_correction(fake, 'node1'))
        self.assertIn(('node1', timesync.MAKESTEP_LINE), fake.lines)

    def test_calibrate_refuses_a_wild_offset(self):
        fake = FakeLab(self.tmp, guest_minus_host=-30.0)
        timesync.start(fake, 'node1')
        with self.assertLogs(timesync.LOG, 'WARNING'):
            self.assertIsNone(timesync.calibrate(fake, 'node1'))
        self.assertEqual(0.0, timesync.read_correction(fake, 'node1'))

    def test_calibrate_stops_waiting_when_the_feeder_exited(self):
        fake = FakeLab(self.tmp, tracking=TRACKING_UNSYNCHRONISED)
        timesync.start(fake, 'node1')
        exit_file = fake.exchange_dir('node1') / 'logs' / 'rtc-feed.exit'
        exit_file.parent.mkdir(parents=True)
        exit_file.write_text('1\n')
        with self.assertLogs(timesync.LOG, 'WARNING') as logs:
            self.assertIsNone(timesync.calibrate(fake, 'node1', timeout=30))
        self.assertIn('rtc-feed exited with code 1', logs.output[0])
        self.assertNotIn(('node1', timesync.TRACKING_LINE), fake.lines)

    def test_calibrate_without_clock_sync(self):
        fake = FakeLab(self.tmp)
        with self.assertLogs(timesync.LOG, 'WARNING') as logs:
            self.assertEqual({'node2': None},
                             timesync.calibrate_all(fake, ['node2']))
        self.assertIn('no clock sync on this node', logs.output[0])
        self.assertEqual([], fake.lines)

    def test_calibrate_waits_for_chronyd(self):
        fake = FakeLab(self.tmp, tracking=TRACKING_UNSYNCHRONISED)
        timesync.start(fake, 'node1')
        with mock.patch.object(timesync, 'SYNC_POLL', 0.01), \
                self.assertLogs(timesync.LOG, 'WARNING') as logs:
            self.assertIsNone(timesync.calibrate(fake, 'node1', timeout=0.1))
        self.assertIn('Not synchronised', logs.output[0])
        self.assertGreater(fake.lines.count(('node1',
                                             timesync.TRACKING_LINE)), 2)
        self.assertEqual(0.0, timesync.read_correction(fake, 'node1'))

    def test_offsets(self):
        fake = FakeLab(self.tmp, guest_minus_host=0.25)
        timesync.start(fake, 'node1')
        found = timesync.offsets(fake, samples=2)
        self.assertEqual(['node1', 'node2'], sorted(found))
        node1 = found['node1']
        self.assertAlmostEqual(0.25, node1.offset, delta=0.05)
        self.assertEqual('RTC', node1.tracking.reference_name)
        self.assertEqual(0.0, node1.correction)
        self.assertEqual(2, fake.lines.count(('node1', clock.DATE_COMMAND)))
        # node2 has no clock sync here: no correction file.
        self.assertIsNone(found['node2'].correction)

    def test_offsets_say_why_chrony_is_missing(self):
        fake = FakeLab(self.tmp, tracking_exit=1)
        timesync.start(fake, 'node1')
        node1 = timesync.measure_offset(fake, 'node1', samples=1)
        self.assertIsNone(node1.tracking)
        self.assertEqual('506 Cannot talk to daemon', node1.tracking_error)
        exit_file = fake.exchange_dir('node1') / 'logs' / 'chronyd.exit'
        exit_file.parent.mkdir(parents=True)
        exit_file.write_text('1\n')
        node1 = timesync.measure_offset(fake, 'node1', samples=1)
        self.assertIn('chronyd exited with code 1', node1.tracking_error)
        node2 = timesync.measure_offset(fake, 'node2', samples=1)
        self.assertIn('no clock sync on this node', node2.tracking_error)

    def test_lab_clock_offsets_and_calibration(self):
        cluster = lab.Lab(run_dir=self.tmp, cache_dir=self.tmp,
                          fresh_paths=())
        with mock.patch.object(timesync, 'offsets') as offsets:
            self.assertIs(offsets.return_value,
                          cluster.clock_offsets(['node2'], samples=4))
        offsets.assert_called_once_with(cluster, ['node2'], 4)
        with mock.patch.object(timesync, 'calibrate_all') as calibrate:
            self.assertIs(calibrate.return_value,
                          cluster.calibrate_clocks(['node1']))
        calibrate.assert_called_once_with(cluster, ['node1'])

    def test_start_survives_a_bug(self):
        fake = FakeLab(self.tmp)
        with mock.patch.object(clock, 'chrony_conf',
                               side_effect=TypeError('a bug')), \
                self.assertLogs(timesync.LOG, 'WARNING') as logs:
            self.assertIsNone(timesync.start(fake, 'node1'))
        self.assertIn('Traceback', logs.output[0])
        self.assertEqual([], fake.spawned)
