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

"""The lab guests' clocks kept in step with the host: chronyd on the RTC.

- ``start()``, from ``Lab.up()`` right after boot: checks the guest has
  /dev/rtc0, chronyd and chronyc (a guest without them gets one warning
  line and runs without clock sync), writes ``/lab/clock/chrony.conf``,
  copies rtc_feed.py and clock.py next to it and spawns chronyd and the
  feeder (``Lab.spawn``: the agent stops them at power-off).
- ``calibrate()``, at the end of ``Lab.up()``: once chronyd follows the
  RTC, measures the guest against the host and writes the difference (the
  RTC's phase, see clock.py) to the feeder's correction file.
- ``offsets()``, ``Lab.clock_offsets()``: each guest against the host,
  measured by the host, with what chronyd reports.

The functions here run commands; what they parse and compute is in
clock.py.  Nothing here fails ``Lab.up()``: clock sync is logged and
skipped when it cannot run (even on an unexpected error, logged with its
traceback).
"""

import concurrent.futures
import dataclasses
import logging
import os
import pathlib
import shlex
import shutil
import time

from cinder_ocfs2.tests.functional.lab import agent
from cinder_ocfs2.tests.functional.lab import clock
from cinder_ocfs2.tests.functional.lab import errors

LOG = logging.getLogger(__name__)

LAB_DIR = pathlib.Path(__file__).parent
# Sub-folder of each node's exchange folder; /lab/clock in the guest.
FOLDER = 'clock'
GUEST_FOLDER = '/lab/%s' % FOLDER
RTC_DEVICE = '/dev/rtc0'
PYTHON = '/usr/bin/python3'
# Copied to the exchange folder: the guest runs the feeder from there.
FEEDER_FILES = ('rtc_feed.py', 'clock.py')
CONF = 'chrony.conf'
CORRECTION = 'rtc-correction'
# chronyd's tracking and refclocks logs, readable on the host.
LOG_FOLDER = 'log'
# Names of the spawned processes' logs under /lab/logs.
CHRONYD_LOG = 'chronyd'
FEEDER_LOG = 'rtc-feed'
TRACKING_LINE = 'chronyc -n tracking'
# Apply at once the correction chronyd is slewing.
MAKESTEP_LINE = 'chronyc -n makestep'
# calibrate(): how long to wait for chronyd to follow the RTC (its first
# update needs 4 samples and a poll of 8 s; a correction under 1 s is
# slewed, not stepped), and how often to ask.
SYNC_TIMEOUT = 60
SYNC_POLL = 2.0
CALIBRATION_SAMPLES = 5
# A calibration is not applied when its round trips bound the offset worse
# than this, or when it finds the guest farther from the host than the
# RTC's phase (under 1 s) and its interrupt latency can explain.
MAX_CALIBRATION_UNCERTAINTY = 0.25
MAX_CALIBRATION_OFFSET = 1.5
# Round trips per node for offsets().
OFFSET_SAMPLES = 3
COMMAND_TIMEOUT = 30
NO_CLOCK_SYNC = 'no clock sync on this node (see the log of lab up)'


@dataclasses.dataclass(frozen=True)
class ClockSync:
    """chronyd and the feeder running in one guest, from ``start()``."""

    node: str
    chronyd: agent.Spawned
    feeder: agent.Spawned


@dataclasses.dataclass(frozen=True)
class Calibration:
    """One ``calibrate()``: the guest's offset found, the new correction."""

    node: str
    # Guest minus host before the correction, and its +/- bound.
    offset: float
    uncertainty: float
    # What the feeder adds to the RTC from now on (host minus RTC).
    correction: float


# --- pure: the guest command lines

def probe_line(device=RTC_DEVICE):
    """Prints one line per missing piece; nothing when all are there."""
    return ('test -c {dev} || echo "no {dev}"; '
            'command -v chronyd >/dev/null || echo "no chronyd"; '
            'command -v chronyc >/dev/null || echo "no chronyc"'
            .format(dev=shlex.quote(device)))


def chronyd_line():
    """chronyd in the foreground, logging to stderr (the spawn's log).

    As root (-u root): the guest is a throwaway VM, and so no file it
    touches on the overlay or in /lab depends on the _chrony user.
    """
    return 'exec chronyd -d -u root -f %s' % shlex.quote(
        '%s/%s' % (GUEST_FOLDER, CONF))


def feeder_line(device=RTC_DEVICE):
    return 'exec %s %s --socket %s --device %s --correction-file %s' % (
        PYTHON, shlex.quote('%s/rtc_feed.py' % GUEST_FOLDER),
        shlex.quote(clock.REFCLOCK_SOCKET), shlex.quote(device),
        shlex.quote('%s/%s' % (GUEST_FOLDER, CORRECTION)))


# --- files in the exchange folder

def host_folder(lab, node):
    return pathlib.Path(lab.exchange_dir(node)) / FOLDER


def read_correction(lab, node):
    """The feeder's correction now, or None if the node has no clock sync."""
    try:
        text = (host_folder(lab, node) / CORRECTION).read_text()
    except FileNotFoundError:
        return None
    return clock.parse_correction(text)


def write_correction(lab, node, seconds):
    """Replace the correction file at once (the feeder polls it).

    Returns the value written (rounded to the file's nanoseconds).
    """
    path = host_folder(lab, node) / CORRECTION
    tmp = path.with_name('.%s.tmp' % CORRECTION)
    text = clock.format_correction(seconds)
    tmp.write_text(text)
    os.rename(tmp, path)
    return clock.parse_correction(text)


# --- starting chronyd and the feeder

def start(lab, node):
    """Start clock sync in node; ClockSync, or None (logged) if it cannot."""
    try:
        probe = lab.run(node, probe_line(), timeout=COMMAND_TIMEOUT)
        missing = [line.strip() for line in probe.stdout.splitlines()
                   if line.strip()]
        if missing or not probe.ok:
            LOG.warning('%s: %s: the guest clock is NOT kept in step with '
                        'the host', node, '; '.join(missing) or
                        'probe failed: %s' % probe.stderr.strip())
            return None
        folder = host_folder(lab, node)
        (folder / LOG_FOLDER).mkdir(parents=True, exist_ok=True)
        for name in FEEDER_FILES:
            shutil.copyfile(LAB_DIR / name, folder / name)
        (folder / CONF).write_text(clock.chrony_conf(
            logdir='%s/%s' % (GUEST_FOLDER, LOG_FOLDER)))
        write_correction(lab, node, 0.0)
        chronyd = lab.spawn(node, chronyd_line(), CHRONYD_LOG)
        feeder = lab.spawn(node, feeder_line(), FEEDER_LOG)
    except Exception as exc:
        LOG.warning('%s: cannot start clock sync, the guest clock is NOT '
                    'kept in step with the host: %s', node, exc,
                    exc_info=not isinstance(exc, (errors.LabError,
                                                  OSError)))
        return None
    return ClockSync(node=str(node), chronyd=chronyd, feeder=feeder)


def start_all(lab, nodes=None):
    """start() on each node; {node: ClockSync} of those where it runs."""
    started = {}
    for node in nodes or lab.nodes_up:
        sync = start(lab, node)
        if sync is not None:
            started[str(node)] = sync
    return started


# --- reading the clocks

def tracking(lab, node):
    """clock.Tracking of node's chronyd; CommandFailed or ValueError."""
    result = lab.run(node, TRACKING_LINE, timeout=COMMAND_TIMEOUT,
                     check=True)
    return clock.parse_tracking(result.stdout)


def measure(lab, node, samples):
    """samples clock.RoundTrip of node's clock against the host's."""
    trips = []
    for _ in range(samples):
        before = time.time()
        result = lab.run(node, clock.DATE_COMMAND, timeout=COMMAND_TIMEOUT)
        after = time.time()
        result.check()
        trips.append(clock.RoundTrip(
            host_before=before, guest=clock.parse_date_output(result.stdout),
            host_after=after))
    return trips


def exited(lab, node):
    """Why chronyd or the feeder is not running in node, or ''."""
    logs = pathlib.Path(lab.exchange_dir(node)) / 'logs'
    for name in (CHRONYD_LOG, FEEDER_LOG):
        try:
            code = (logs / ('%s.exit' % name)).read_text().strip()
        except FileNotFoundError:
            continue
        return '%s exited with code %s (see %s)' % (
            name, code, logs / ('%s.log' % name))
    return ''


def wait_synchronised(lab, node, timeout=SYNC_TIMEOUT):
    """(Tracking once chronyd follows the RTC or None, why not)."""
    deadline = time.monotonic() + timeout
    why = 'no answer'
    while True:
        gone = exited(lab, node)
        if gone:
            return None, gone
        try:
            state = tracking(lab, node)
        except (errors.CommandFailed, ValueError) as exc:
            why = _first_line(exc)
        else:
            if state.synchronised and state.reference_name == clock.REFID:
                return state, ''
            why = 'reference %r, %s' % (state.reference_name,
                                        state.leap_status)
        if time.monotonic() + SYNC_POLL > deadline:
            return None, why
        time.sleep(SYNC_POLL)


def _first_line(exc):
    """What a failed chronyc said (its stderr), else the error's summary."""
    if isinstance(exc, errors.CommandFailed):
        for stream in ('stderr', 'stdout'):
            text = exc.kwargs.get(stream, '').strip()
            if text:
                return text.splitlines()[0]
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _why_no_tracking(lab, node, exc):
    """Why chronyd's tracking could not be read, as one line."""
    if not host_folder(lab, node).exists():
        return NO_CLOCK_SYNC
    return exited(lab, node) or _first_line(exc)


# --- calibration and offsets

def calibrate(lab, node, timeout=SYNC_TIMEOUT,
              samples=CALIBRATION_SAMPLES):
    """Measure the RTC's phase against the host; Calibration or None.

    Waits until chronyd follows the RTC, applies what it is still slewing
    (chronyc makestep), measures the guest against the host and adds the
    difference to the feeder's correction: chronyd then slews the guest
    onto the host's time (at most about 1 s, at up to 8.3 %).
    """
    try:
        if read_correction(lab, node) is None:
            LOG.warning('%s: %s: not calibrated', node, NO_CLOCK_SYNC)
            return None
        state, why = wait_synchronised(lab, node, timeout)
        if state is None:
            LOG.warning('%s: chronyd did not follow the RTC within %ss '
                        '(%s): the guest clock is not calibrated against '
                        'the host', node, timeout, why)
            return None
        lab.run(node, MAKESTEP_LINE, timeout=COMMAND_TIMEOUT, check=True)
        offset, uncertainty = clock.combine_round_trips(
            measure(lab, node, samples))
        if (uncertainty > MAX_CALIBRATION_UNCERTAINTY
                or abs(offset) > MAX_CALIBRATION_OFFSET):
            LOG.warning('%s: guest clock %+.3f s from the host (+/- %.3f '
                        's): not used to calibrate the RTC', node, offset,
                        uncertainty)
            return None
        correction = write_correction(
            lab, node, (read_correction(lab, node) or 0.0) - offset)
    except Exception as exc:
        LOG.warning('%s: cannot calibrate the guest clock: %s', node, exc,
                    exc_info=not isinstance(exc, (errors.LabError, OSError,
                                                  ValueError)))
        return None
    LOG.info('%s: guest clock on the RTC was %+.3f s from the host (+/- '
             '%.3f s); RTC correction now %+.3f s', node, offset,
             uncertainty, correction)
    return Calibration(node=str(node), offset=offset,
                       uncertainty=uncertainty, correction=correction)


def calibrate_all(lab, nodes, timeout=SYNC_TIMEOUT):
    """calibrate() on the nodes at once; {node: Calibration or None}."""
    nodes = [str(node) for node in nodes]
    if not nodes:
        return {}
    pool = concurrent.futures.ThreadPoolExecutor(len(nodes))
    try:
        futures = [pool.submit(calibrate, lab, node, timeout)
                   for node in nodes]
        return dict(zip(nodes, (future.result() for future in futures)))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def measure_offset(lab, node, samples=OFFSET_SAMPLES):
    """clock.ClockOffset of one guest: measured by the host, and chrony's.

    Raises the lab's errors when the guest cannot be measured at all.
    """
    value, uncertainty = clock.combine_round_trips(
        measure(lab, node, samples))
    state, error = None, ''
    try:
        state = tracking(lab, node)
    except (errors.CommandFailed, ValueError) as exc:
        error = _why_no_tracking(lab, node, exc)
    try:
        correction = read_correction(lab, node)
    except ValueError:
        correction = None
    return clock.ClockOffset(
        node=str(node), offset=value, uncertainty=uncertainty,
        tracking=state, tracking_error=error, correction=correction)


def offsets(lab, nodes=None, samples=OFFSET_SAMPLES):
    """{node: clock.ClockOffset} of each node (default: every node up)."""
    return {str(node): measure_offset(lab, node, samples)
            for node in (nodes or lab.nodes_up)}
