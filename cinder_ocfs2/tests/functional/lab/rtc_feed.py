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

"""Feed chronyd a lab guest's RTC, which counts the host's time (guest side).

Usage (the lab copies this file and clock.py to /lab/clock and spawns it):

    /usr/bin/python3 /lab/clock/rtc_feed.py --socket /run/chrony/rtc.sock \\
        [--device /dev/rtc0] [--correction-file /lab/clock/rtc-correction]

With update interrupts on (RTC_UIE_ON), read() of the RTC device returns at
each RTC second edge; the system time is taken at once, then the RTC's time
(RTC_RD_TIME), and chronyd's SOCK refclock gets one sample: at that system
time, true time was RTC seconds + correction.  A read reporting more than
one interrupt (the feeder woke up late) is skipped.  If the RTC has no
update interrupts (RTC_UIE_ON fails, or none comes within 5 s), the edges
are found by polling RTC_RD_TIME around the expected second instead.  The
correction file holds the RTC's phase against the host, measured by the
host (``timesync.calibrate()``); it is read again whenever it changes.

chronyd creates the socket when it starts: until then samples are dropped.
Quiet: logs its start, errors and the first sample.  SIGTERM turns the
update interrupts off and exits 0.  Standard library and clock.py only.
"""

import argparse
import fcntl
import os
import select
import signal
import socket
import sys
import time

if __package__:
    from cinder_ocfs2.tests.functional.lab import clock
else:
    # Run by path (python3 /lab/clock/rtc_feed.py): clock.py is next to it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import clock

DEVICE = '/dev/rtc0'
# A sample is skipped when reading the RTC's time took longer than this
# after the wake-up: the reading might belong to the next second.
MAX_READ_TIME = 0.2
# No update interrupt for this long: they do not work, poll instead.
UPDATE_TIMEOUT = 5.0
# Polling without update interrupts: wake up this long before the next
# expected edge, then read the RTC every POLL_INTERVAL; an edge seen
# between two readings farther apart than MAX_POLL_GAP is not used.
POLL_LEAD = 0.05
POLL_INTERVAL = 0.005
MAX_POLL_GAP = 0.05


class Stop(Exception):
    """SIGTERM or SIGINT: leave the loop, clean up, exit 0."""


class NoUpdates(Exception):
    """Update interrupts are on, yet none came: poll the RTC instead."""


def _stop(signum, frame):
    raise Stop()


def log(message):
    print('rtc_feed: %s' % message, file=sys.stderr, flush=True)


class Rtc:
    """The RTC character device: update interrupts and the time."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.updates = False

    def enable_updates(self):
        fcntl.ioctl(self.fd, clock.RTC_UIE_ON, 0)
        self.updates = True

    def disable_updates(self):
        if self.updates:
            self.updates = False
            fcntl.ioctl(self.fd, clock.RTC_UIE_OFF, 0)

    def wait_update(self, timeout=None):
        """Wait for an update interrupt; the count since the last read.

        None when none came within timeout seconds.
        """
        if timeout is not None:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
        raw = os.read(self.fd, clock.RTC_IRQ_DATA.size)
        return clock.parse_rtc_irq_data(raw)[0]

    def read_time(self):
        """The RTC's time, UTC seconds since the epoch."""
        buffer = bytearray(clock.RTC_TIME.size)
        fcntl.ioctl(self.fd, clock.RTC_RD_TIME, buffer)
        return clock.parse_rtc_time(bytes(buffer))

    def close(self):
        try:
            self.disable_updates()
        finally:
            os.close(self.fd)


def interrupt_edges(rtc, now=time.time):
    """(system time, RTC seconds) at each update interrupt, forever.

    Raises NoUpdates when no interrupt comes within UPDATE_TIMEOUT.
    """
    while True:
        count = rtc.wait_update(UPDATE_TIMEOUT)
        system_time = now()
        if count is None:
            raise NoUpdates()
        seconds = rtc.read_time()
        if count == 1 and now() - system_time <= MAX_READ_TIME:
            yield system_time, seconds


def polled_edges(rtc, now=time.time, sleep=time.sleep):
    """(system time, RTC seconds) at each edge seen by polling, forever.

    The edge fell between the last reading of the old second and the first
    of the new one: its time is taken as the middle.  After an edge, sleep
    until just before the next one.
    """
    previous = None
    while True:
        before = now()
        seconds = rtc.read_time()
        after = now()
        reading = ((before + after) / 2, seconds)
        if previous is None or seconds == previous[1]:
            previous = reading
            sleep(POLL_INTERVAL)
            continue
        edge = (previous[0] + reading[0]) / 2
        gap = reading[0] - previous[0]
        if seconds == previous[1] + 1 and gap <= MAX_POLL_GAP:
            yield edge, seconds
        # The first reading after the sleep is of the old second again
        # (the lead grows with the doubt about this edge).
        sleep(max(0.0, edge + 1 - POLL_LEAD - gap - now()))
        previous = None


class Feeder:
    """Sends samples to chronyd's SOCK refclock socket."""

    def __init__(self, socket_path, correction_file=None, now=time.time):
        self.socket_path = socket_path
        self.correction_file = correction_file
        self.correction = 0.0
        self._correction_stamp = None
        self._now = now
        self.sent = 0
        # What was last logged about the socket, to log each problem once.
        self._socket_problem = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # chronyd not reading must never block the feeder: drop instead.
        self.sock.setblocking(False)

    def _read_correction(self):
        if not self.correction_file:
            return self.correction
        try:
            stat = os.stat(self.correction_file)
        except FileNotFoundError:
            return self.correction
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._correction_stamp:
            self._correction_stamp = stamp
            try:
                with open(self.correction_file) as stream:
                    value = clock.parse_correction(stream.read())
            except (OSError, ValueError) as exc:
                log('cannot use %s (%s); keeping %+.6f s'
                    % (self.correction_file, exc, self.correction))
            else:
                if value != self.correction:
                    log('RTC correction %+.6f s (was %+.6f s)'
                        % (value, self.correction))
                self.correction = value
        return self.correction

    def send(self, system_time, rtc_seconds):
        """Send one sample; True if chronyd's socket took it."""
        # The difference first: exact, whatever the size of the times.
        offset = (rtc_seconds - system_time) + self._read_correction()
        data = clock.pack_sample(system_time, offset)
        try:
            self.sock.sendto(data, self.socket_path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            self._problem('no chronyd on %s yet (%s): dropping samples '
                          'until it is there' % (self.socket_path,
                                                 exc.strerror))
            return False
        except BlockingIOError:
            # chronyd's queue is full (it is busy or stopped): drop.
            return False
        except OSError as exc:
            self._problem('cannot send to %s: %s' % (self.socket_path, exc))
            return False
        self._socket_problem = None
        self.sent += 1
        if self.sent == 1:
            log('first sample: RTC %d, system time %.6f, offset %+.6f s '
                '(correction %+.6f s)' % (rtc_seconds, system_time, offset,
                                          self.correction))
        return True

    def _problem(self, message):
        if message != self._socket_problem:
            self._socket_problem = message
            log(message)

    def close(self):
        self.sock.close()


def _realtime():
    """Wake up first when the RTC interrupt comes: SCHED_FIFO priority 1.

    The feeder sleeps between edges (blocked in read() or in sleep()), so
    it takes next to no CPU; the kernel's RT throttling bounds it anyway.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (AttributeError, OSError):
        return False
    return True


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Feed chronyd's SOCK refclock from the RTC's edges.")
    parser.add_argument('--socket', required=True,
                        help="chronyd's refclock SOCK path")
    parser.add_argument('--device', default=DEVICE,
                        help='RTC device (default %(default)s)')
    parser.add_argument('--correction-file',
                        help='file holding seconds to add to the RTC (the '
                             "host's time minus the RTC's), re-read when it "
                             'changes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        rtc = Rtc(args.device)
    except OSError as exc:
        # EBUSY: another process (a second feeder, hwclock) has it open.
        log('cannot open %s: %s' % (args.device, exc))
        return 1
    feeder = Feeder(args.socket, args.correction_file)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        try:
            rtc.enable_updates()
            edges, mode = interrupt_edges(rtc), 'update interrupts'
        except OSError as exc:
            log('RTC_UIE_ON on %s failed (%s): polling the RTC instead'
                % (args.device, exc))
            edges, mode = polled_edges(rtc), 'polling'
        log('started (pid %d): %s of %s to %s, %s scheduling'
            % (os.getpid(), mode, args.device, args.socket,
               'SCHED_FIFO' if _realtime() else 'normal'))
        try:
            for system_time, seconds in edges:
                feeder.send(system_time, seconds)
        except NoUpdates:
            log('no update interrupt from %s in %g s: polling the RTC '
                'instead' % (args.device, UPDATE_TIMEOUT))
            rtc.disable_updates()
            for system_time, seconds in polled_edges(rtc):
                feeder.send(system_time, seconds)
    except Stop:
        return 0
    except (OSError, ValueError) as exc:
        log('stopped by an error: %s' % exc)
        return 1
    finally:
        feeder.close()
        try:
            rtc.close()
        except OSError as exc:
            log('closing %s: %s' % (args.device, exc))
    return 0


if __name__ == '__main__':
    sys.exit(main())
