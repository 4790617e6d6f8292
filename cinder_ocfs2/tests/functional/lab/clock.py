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

"""The lab guests' clocks: the pure parts (no command is run here).

Under TCG and load a guest's clock falls behind the host's (58.5 s in 11
minutes, measured), and cinder on the host then sees the guests' services
as down.  qemu's emulated CMOS RTC counts the host's clock (``-rtc``
default ``clock=host``), so each guest runs chronyd with one reference
clock: ``rtc_feed.py`` timestamps every RTC second edge with the guest's
system time and sends chronyd the offset through its SOCK refclock socket.

qemu starts the RTC at the host's time truncated to the second
(``rtc_set_date_from_host()`` in hw/rtc/mc146818rtc.c: ``base_rtc`` whole
seconds, sub-second ``offset = 0``), so its edges lag the host's by a
fraction of a second, fixed for the life of the VM and different on each
node.  The host measures that phase once chrony follows the RTC
(``timesync.calibrate()``) and the feeder adds it to every sample (the
correction file).

Here: chronyd's configuration, the SOCK sample, the RTC ioctls and
``struct rtc_time``, ``chronyc tracking``, and the host's own round-trip
measurement of a guest's offset.  Standard library only: ``rtc_feed.py``
imports this file by path inside the guests.
"""

import calendar
import dataclasses
import math
import re
import struct

# --- the RTC character device (linux/rtc.h)

# ioctl request numbers as asm-generic/ioctl.h encodes them (x86 uses the
# generic layout): nr in bits 0-7, type 8-15, size 16-29, direction 30-31.
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = 8
_IOC_SIZESHIFT = 16
_IOC_DIRSHIFT = 30
_IOC_NONE = 0
_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction, kind, number, size):
    return ((direction << _IOC_DIRSHIFT) | (size << _IOC_SIZESHIFT)
            | (ord(kind) << _IOC_TYPESHIFT) | (number << _IOC_NRSHIFT))


def _io(kind, number):
    return _ioc(_IOC_NONE, kind, number, 0)


def _ior(kind, number, size):
    return _ioc(_IOC_READ, kind, number, size)


# struct rtc_time: nine ints, tm_sec tm_min tm_hour tm_mday tm_mon (0-11)
# tm_year (since 1900) tm_wday tm_yday tm_isdst.
RTC_TIME = struct.Struct('@9i')
# What read() of /dev/rtcN returns: an unsigned long, the interrupt flags
# in the low byte and the number of interrupts since the last read above.
RTC_IRQ_DATA = struct.Struct('@L')
RTC_UF = 0x10
RTC_IRQF = 0x80
# linux/rtc.h: _IO('p', 0x03), _IO('p', 0x04), _IOR('p', 0x09, struct
# rtc_time); 0x7003, 0x7004 and 0x80247009 on x86_64 (also printed by a C
# program including linux/rtc.h on Debian 12).
RTC_UIE_ON = _io('p', 0x03)
RTC_UIE_OFF = _io('p', 0x04)
RTC_RD_TIME = _ior('p', 0x09, RTC_TIME.size)


def parse_rtc_time(raw):
    """UTC seconds since the epoch from the bytes of a struct rtc_time.

    The RTC keeps UTC here (qemu's default ``-rtc base=utc``); tm_wday,
    tm_yday and tm_isdst are not used.  Raises ValueError on a wrong size
    or a field out of range.
    """
    if len(raw) != RTC_TIME.size:
        raise ValueError('struct rtc_time is %d bytes, not %d'
                         % (RTC_TIME.size, len(raw)))
    sec, minute, hour, mday, mon, year = RTC_TIME.unpack(raw)[:6]
    for name, value, low, high in (
            ('tm_sec', sec, 0, 60), ('tm_min', minute, 0, 59),
            ('tm_hour', hour, 0, 23), ('tm_mday', mday, 1, 31),
            ('tm_mon', mon, 0, 11), ('tm_year', year, 70, 1100)):
        if not low <= value <= high:
            raise ValueError('struct rtc_time: %s = %d is out of range'
                             % (name, value))
    return calendar.timegm((year + 1900, mon + 1, mday, hour, minute, sec))


def parse_rtc_irq_data(raw):
    """(interrupts since the last read, flags) from read() of /dev/rtcN."""
    if len(raw) != RTC_IRQ_DATA.size:
        raise ValueError('RTC read returned %d bytes, not %d'
                         % (len(raw), RTC_IRQ_DATA.size))
    (data,) = RTC_IRQ_DATA.unpack(raw)
    return data >> 8, data & 0xff


# --- chronyd's SOCK refclock

# The sample chronyd's SOCK driver receives, checked against chrony 4.3
# (the version of Debian 12's package), refclock_sock.c at tag 4.3 of
# https://github.com/mlichvar/chrony:
#   struct sock_sample {
#     struct timeval tv;   /* time of the measurement (system time) */
#     double offset;       /* true time minus system time, seconds */
#     int pulse;           /* non-zero: a PPS pulse without the seconds */
#     int leap;            /* 0 normal, 1 insert, 2 delete a leap second */
#     int _pad;
#     int magic;           /* SOCK_MAGIC 0x534f434b */
#   };
# read_sample() drops, with a debug message only, a datagram whose size
# is not sizeof (sample) or whose magic differs, and a sample failing
# UTI_IsTimeOffsetSane(); RCL_AddSample() drops a sample time in the
# future or older than 2^(poll+1) s.  Native layout: struct timeval is two
# longs on x86_64, 40 bytes in all with no padding (offsets 0, 16, 24, 28,
# 32, 36, as a C program compiled on Debian 12 printed).
SOCK_SAMPLE = struct.Struct('@lldiiii')
SOCK_MAGIC = 0x534f434b
LEAP_NORMAL = 0


@dataclasses.dataclass(frozen=True)
class SockSample:
    """One decoded SOCK refclock sample (see SOCK_SAMPLE)."""

    seconds: int
    microseconds: int
    offset: float
    pulse: int = 0
    leap: int = LEAP_NORMAL
    magic: int = SOCK_MAGIC

    @property
    def system_time(self):
        return self.seconds + self.microseconds / 1e6


def pack_sample(system_time, offset, leap=LEAP_NORMAL):
    """The datagram telling chronyd: at system_time, true time was +offset.

    system_time: the guest's time.time() at the measurement; offset: the
    reference's time minus the system time, in seconds (positive when the
    guest's clock is behind).
    """
    seconds = math.floor(system_time)
    microseconds = round((system_time - seconds) * 1e6)
    if microseconds >= 1000000:
        seconds, microseconds = seconds + 1, microseconds - 1000000
    return SOCK_SAMPLE.pack(seconds, microseconds, offset, 0, leap, 0,
                            SOCK_MAGIC)


def unpack_sample(data):
    """SockSample from a datagram; ValueError if chronyd would drop it."""
    if len(data) != SOCK_SAMPLE.size:
        raise ValueError('a SOCK sample is %d bytes, not %d'
                         % (SOCK_SAMPLE.size, len(data)))
    seconds, micro, offset, pulse, leap, _, magic = SOCK_SAMPLE.unpack(data)
    if magic != SOCK_MAGIC:
        raise ValueError('bad SOCK magic %#x' % magic)
    return SockSample(seconds, micro, offset, pulse, leap, magic)


# --- chronyd's configuration in the guests

# Where Debian's chronyd and chronyc meet by default: chronyc tries
# /run/chrony/chronyd.sock first (compiled in), so `chronyc -n tracking`
# needs no -h.  chronyd creates /run/chrony itself (mode 0770) and refuses
# the command socket in a folder with other permissions: nothing else
# creates that folder.  The guest's /run is a tmpfs of its own.
CHRONY_RUN_DIR = '/run/chrony'
COMMAND_SOCKET = CHRONY_RUN_DIR + '/chronyd.sock'
PID_FILE = CHRONY_RUN_DIR + '/chronyd.pid'
DRIFT_FILE = CHRONY_RUN_DIR + '/chrony.drift'
REFCLOCK_SOCKET = CHRONY_RUN_DIR + '/rtc.sock'
REFID = 'RTC'
# Samples come at every RTC edge (1 s).  poll 3: chronyd's median filter
# runs every 8 s on about 8 samples (it needs 4), drops the 40 % farthest
# (the late wake-ups of a busy guest) and averages the rest; a shorter
# poll decides on too few noisy samples, a longer one leaves a guest that
# loses time in bursts behind for longer.
REFCLOCK_POLL = 3
# precision 0.01: each edge is timestamped when the feeder wakes up, late
# by the RTC interrupt's way through a TCG guest: the kernel's HPET
# emulation of the RTC interrupt checks the RTC 64 times a second (up to
# 15.6 ms), then the interrupt and the wake-up under TCG, tens of ms under
# load.  chronyd's default (the system clock's ns precision) would make it
# trust each sample far more than it deserves.
REFCLOCK_PRECISION = 0.01
# delay 0.1: half of it (50 ms, the lateness expected of one sample under
# load) is counted in the maximum error chronyd reports (root delay); with
# a single source it changes no selection.
REFCLOCK_DELAY = 0.1


def chrony_conf(socket_path=REFCLOCK_SOCKET, logdir=None,
                poll=REFCLOCK_POLL, precision=REFCLOCK_PRECISION,
                delay=REFCLOCK_DELAY):
    """The text of a lab guest's chrony.conf.

    One SOCK refclock (rtc_feed.py writes to socket_path, which chronyd
    creates), stepping whenever off by more than 1 s, no NTP at all, the
    command socket where chronyc looks for it.  logdir: also log tracking
    and refclock samples there (a folder the host can read).
    """
    lines = [
        '# chronyd of a cinder-ocfs2 lab guest (written by the lab: '
        'cinder_ocfs2/tests/functional/lab/clock.py).',
        '# The only time source: the emulated RTC, which follows the '
        "host's clock, fed by rtc_feed.py.",
        'refclock SOCK %s refid %s poll %d precision %g delay %g'
        % (socket_path, REFID, poll, precision, delay),
        '# A guest may lose many seconds under load: step whenever off by',
        '# more than 1 s, at any update, not only at start.',
        'makestep 1 -1',
        '# No rtcsync: chronyd would let the kernel copy the system time',
        "# into the RTC every 11 minutes, and qemu's RTC would then count",
        "# from the guest's time instead of the host's.  Without it chrony",
        '# 4.3 leaves STA_UNSYNC set and the kernel never writes the RTC.',
        '# No NTP: no server port, no UDP command port (the guest has no',
        '# UDP path to the host).  chronyc talks over the unix socket.',
        'port 0',
        'cmdport 0',
        'bindcmdaddress %s' % COMMAND_SOCKET,
        'pidfile %s' % PID_FILE,
        'driftfile %s' % DRIFT_FILE,
    ]
    if logdir:
        lines += ['logdir %s' % logdir, 'log tracking refclocks']
    return '\n'.join(lines) + '\n'


# --- the feeder's correction: the RTC's phase against the host

def format_correction(seconds):
    return '%.9f\n' % seconds


def parse_correction(text):
    """Seconds the feeder adds to every RTC reading (host minus RTC)."""
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError('correction %r is not a finite number' % text)
    return value


# --- chronyc -n tracking

_TRACKING_FIELDS = {
    'Reference ID': 'reference',
    'Stratum': 'stratum',
    'System time': 'system_time',
    'Last offset': 'last_offset',
    'RMS offset': 'rms_offset',
    'Frequency': 'frequency',
    'Root delay': 'root_delay',
    'Root dispersion': 'root_dispersion',
    'Update interval': 'update_interval',
    'Leap status': 'leap_status',
}
_SECONDS = re.compile(r'^([+-]?\d+(?:\.\d+)?) seconds$')
NOT_SYNCHRONISED = 'Not synchronised'


@dataclasses.dataclass(frozen=True)
class Tracking:
    """What `chronyc -n tracking` says, offsets signed guest minus source.

    chronyc prints "System time : X seconds slow of NTP time" when the
    system clock is behind chronyd's estimate of the true (here: the RTC's)
    time: system_time is then -X, "fast" gives +X.  It is the correction
    chronyd is still slewing.  last_offset is as printed: the offset of
    the last clock update, positive when the guest was ahead.
    """

    reference_id: int
    # The refclock's refid ('RTC') or '' when not synchronised.
    reference_name: str
    stratum: int
    system_time: float
    last_offset: float
    rms_offset: float
    # Rate error of the guest's uncorrected clock, positive when fast.
    frequency_ppm: float
    root_delay: float
    root_dispersion: float
    update_interval: float
    # 'Normal', 'Insert second', 'Delete second' or 'Not synchronised'.
    leap_status: str

    @property
    def synchronised(self):
        return self.reference_id != 0 and self.leap_status != NOT_SYNCHRONISED


def _seconds(value, name):
    match = _SECONDS.match(value)
    if not match:
        raise ValueError('chronyc tracking: %s %r is not "N seconds"'
                         % (name, value))
    return float(match.group(1))


def _slow_fast(value, name, unit, slow_sign):
    match = re.match(r'^(\d+(?:\.\d+)?) %s (slow|fast)\b' % unit, value)
    if not match:
        raise ValueError('chronyc tracking: %s %r is not "N %s slow|fast"'
                         % (name, value, unit))
    magnitude = float(match.group(1))
    return magnitude * (slow_sign if match.group(2) == 'slow' else
                        -slow_sign)


def parse_tracking(text):
    """Tracking from the output of `chronyc -n tracking` (chrony 4.x).

    Raises ValueError when a field is missing or not as chronyc prints it.
    """
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        key = key.strip()
        if sep and key in _TRACKING_FIELDS:
            values[_TRACKING_FIELDS[key]] = value.strip()
    missing = sorted(set(_TRACKING_FIELDS.values()) - set(values))
    if missing:
        raise ValueError('chronyc tracking output lacks %s: %r'
                         % (', '.join(missing), text))
    reference = re.match(r'^([0-9A-Fa-f]{8}) \((.*)\)$', values['reference'])
    if not reference:
        raise ValueError('chronyc tracking: Reference ID %r'
                         % values['reference'])
    return Tracking(
        reference_id=int(reference.group(1), 16),
        reference_name=reference.group(2),
        stratum=int(values['stratum']),
        system_time=_slow_fast(values['system_time'], 'System time',
                               'seconds', -1.0),
        last_offset=_seconds(values['last_offset'], 'Last offset'),
        rms_offset=_seconds(values['rms_offset'], 'RMS offset'),
        frequency_ppm=_slow_fast(values['frequency'], 'Frequency', 'ppm',
                                 -1.0),
        root_delay=_seconds(values['root_delay'], 'Root delay'),
        root_dispersion=_seconds(values['root_dispersion'],
                                 'Root dispersion'),
        update_interval=_seconds(values['update_interval'],
                                 'Update interval'),
        leap_status=values['leap_status'])


# --- the host's own measurement: `date +%s.%N` in the guest

DATE_COMMAND = 'date +%s.%N'


def parse_date_output(text):
    """Seconds since the epoch from the output of `date +%s.%N`."""
    match = re.match(r'^\s*(\d+)\.(\d{9})\s*$', text)
    if not match:
        raise ValueError('not the output of date +%%s.%%N: %r' % text)
    return int(match.group(1)) + int(match.group(2)) / 1e9


@dataclasses.dataclass(frozen=True)
class RoundTrip:
    """The guest's clock read once, bracketed by two host readings.

    The guest read its clock at some moment between host_before and
    host_after, so its offset (guest minus host) at that moment is within
    [guest - host_after, guest - host_before].
    """

    host_before: float
    guest: float
    host_after: float

    @property
    def offset(self):
        """Guest minus host, taking the middle of the round trip."""
        return self.guest - (self.host_before + self.host_after) / 2

    @property
    def uncertainty(self):
        """Half the round trip: the offset is within +/- this."""
        return (self.host_after - self.host_before) / 2


def combine_round_trips(round_trips):
    """(offset, uncertainty) from several round trips of one guest.

    Each round trip bounds the offset; if the offset stayed the same over
    all of them (the guest's clock was neither stepped nor slewed fast in
    between), it is in the intersection of the bounds, often narrower than
    any one.  When the bounds do not meet, the shortest round trip is
    taken alone.
    """
    if not round_trips:
        raise ValueError('no round trip to combine')
    low = max(trip.guest - trip.host_after for trip in round_trips)
    high = min(trip.guest - trip.host_before for trip in round_trips)
    if low <= high:
        return (low + high) / 2, (high - low) / 2
    best = min(round_trips, key=lambda trip: trip.uncertainty)
    return best.offset, best.uncertainty


@dataclasses.dataclass(frozen=True)
class ClockOffset:
    """One guest's clock against the host's, from ``Lab.clock_offsets()``.

    offset and uncertainty come from the host's own round trips (see
    RoundTrip), independent of chrony; tracking is what chronyd in the
    guest reports (None when it could not be read: tracking_error says
    why); correction is what the feeder adds to the RTC (None without
    clock sync).
    """

    node: str
    # Guest minus host, seconds; the true offset is within +/- uncertainty.
    offset: float
    uncertainty: float
    tracking: Tracking = None
    tracking_error: str = ''
    correction: float = None

    def summary(self):
        """One line for a transcript."""
        line = '%s: guest - host %+.3f s (+/- %.3f s)' % (
            self.node, self.offset, self.uncertainty)
        if self.tracking is not None:
            line += ('; chrony: %s, %s, system time %+.6f s, last offset '
                     '%+.6f s, frequency %+.1f ppm' % (
                         self.tracking.reference_name or '-',
                         self.tracking.leap_status,
                         self.tracking.system_time,
                         self.tracking.last_offset,
                         self.tracking.frequency_ppm))
        elif self.tracking_error:
            line += '; chrony: %s' % self.tracking_error
        if self.correction is not None:
            line += '; RTC correction %+.3f s' % self.correction
        return line
