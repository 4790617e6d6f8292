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

"""The boot-sector guest image: build it, predict and parse what it prints.

A Linux guest is far too slow in a nested TCG VM, so the image a server
boots from a volume is one 512-byte x86 boot sector (``bootdisk.S``, built
with GNU binutils). On every boot it prints to COM1::

    BOOT <n>
    DISK <dd> <head> SUM <sum>
    DONE

``<n>`` is the boot count (decimal): the little-endian 32-bit counter in
the first 4 bytes of LBA 64 of the boot disk, incremented and written back
by the guest before it prints it, so the first boot prints ``BOOT 1``.
There is one ``DISK`` line per BIOS hard disk, drives 0x80 to 0x83: ``<dd>``
is the BIOS drive number (2 hex digits), ``<head>`` the first 16 bytes of
the disk's sector 0 (32 hex digits), ``<sum>`` the 32-bit FNV-1a hash of
its LBA 1..63 (8 hex digits, see :func:`checksum`). A BIOS disk call that
fails prints ``BOOT ERR <ah>`` or ``DISK <dd> ERR <ah>`` instead (``<ah>``:
the int 13h status, 2 hex digits). Hex is lower case, lines end in
``\\r\\n``.

SeaBIOS makes the disk of the first boot priority (libvirt's ``<boot
order='1'/>``, qemu's ``bootindex``) drive 0x80, the other disks with a
boot priority follow in its order, then those without one in device order.
But libvirt starts qemu with ``-boot strict=on``, and then SeaBIOS (1.14
and later) does not set up a virtio-blk or virtio-scsi disk without a boot
priority at all: under Nova a data volume shows here only if its block
device mapping has a boot index.

With qemu ``-nographic`` SeaBIOS prints its own messages to COM1 too,
before the guest's lines (the guest waits for a timer tick first, which
flushes what SeaBIOS holds back). libvirt does not use ``-nographic``: the
console log of a server holds the guest's lines alone.

Command line::

    python -m cinder_ocfs2.tests.functional.lab.bootdisk build OUT.raw
    python -m cinder_ocfs2.tests.functional.lab.bootdisk count OUT.raw
    python -m cinder_ocfs2.tests.functional.lab.bootdisk parse CONSOLE.log
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import typing

from cinder_ocfs2.tests.functional.lab import errors

SOURCE = pathlib.Path(__file__).parent / 'bootdisk.S'
DEBIAN_PACKAGE = 'binutils'

SECTOR_SIZE = 512
SIGNATURE = b'\x55\xaa'
# The first bytes of sector 0 each DISK line shows.
HEAD_BYTES = 16
# LBA 1..63 are hashed.
SUM_FIRST_LBA = 1
SUM_SECTORS = 63
# The boot counter: 4 bytes, little-endian, at the start of LBA 64.
COUNTER_LBA = 64
COUNTER_BYTES = 4
# The guest reads LBA 0..63 of each disk: the bytes a DISK line depends on.
PREDICT_BYTES = (SUM_FIRST_LBA + SUM_SECTORS) * SECTOR_SIZE
# The BIOS drives the guest looks at.
FIRST_DRIVE = 0x80
MAX_DISKS = 4

FNV_BASIS = 0x811c9dc5
FNV_PRIME = 0x01000193


class BootDiskError(errors.LabError):
    message = 'cannot build the boot disk: %(reason)s'


class DiskLine(typing.NamedTuple):
    """What one DISK line says of a disk."""

    # First 16 bytes of sector 0, as 32 lower-case hex digits.
    head: str
    # FNV-1a hash of LBA 1..63.
    checksum: int


class ConsoleReport(typing.NamedTuple):
    """What the guest printed on its last boot in a console log."""

    # The boot count of the BOOT line; None without one (or BOOT ERR).
    boots: int | None
    # BIOS drive number -> DiskLine.
    disks: dict[int, DiskLine]
    # Whether the DONE line came.
    done: bool
    # The ERR lines, as printed, for example 'DISK 81 ERR 01'.
    errors: tuple[str, ...] = ()


def checksum(data):
    """32-bit FNV-1a hash of data, as the guest computes it over LBA 1..63.

    ``h = 0x811c9dc5``, then for each byte ``h = ((h ^ byte) * 0x01000193)
    mod 2**32``.
    """
    value = FNV_BASIS
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xffffffff
    return value


def disk_line(disk_bytes):
    """The DiskLine the guest prints for a disk starting with disk_bytes.

    disk_bytes holds at least the disk's first 64 sectors (LBA 0..63); more
    is ignored.
    """
    if len(disk_bytes) < PREDICT_BYTES:
        raise ValueError('need the first %d bytes of the disk, got %d'
                         % (PREDICT_BYTES, len(disk_bytes)))
    start = SUM_FIRST_LBA * SECTOR_SIZE
    return DiskLine(bytes(disk_bytes[:HEAD_BYTES]).hex(),
                    checksum(disk_bytes[start:PREDICT_BYTES]))


def format_disk_line(drive, line):
    return 'DISK %02x %s SUM %08x' % (drive, line.head, line.checksum)


def expected_line(drive, disk_bytes):
    """The DISK line, without its line end, for BIOS drive number drive."""
    return format_disk_line(drive, disk_line(disk_bytes))


def read_head(path):
    """The first 64 sectors of a disk image: all a DISK line depends on."""
    with open(path, 'rb') as disk:
        data = disk.read(PREDICT_BYTES)
    if len(data) < PREDICT_BYTES:
        raise ValueError('%s: smaller than %d bytes' % (path, PREDICT_BYTES))
    return data


def expected_report(disk_paths, boots):
    """The ConsoleReport of a boot, predicted from the disk images.

    disk_paths are in BIOS order, from drive 0x80 (the boot disk); boots
    is the count the guest prints (boot_count() of the boot disk once the
    guest is done).
    """
    return ConsoleReport(
        boots=boots,
        disks={FIRST_DRIVE + index: disk_line(read_head(path))
               for index, path in enumerate(disk_paths[:MAX_DISKS])},
        done=True)


# Each pattern ends its line; whatever precedes it on the line is firmware
# noise (SeaBIOS, iPXE, escape sequences).
_BOOT = re.compile(r'\bBOOT (?:(\d+)|ERR [0-9a-f]{2})$')
_DISK = re.compile(r'\bDISK ([0-9a-f]{2}) '
                   r'(?:([0-9a-f]{32}) SUM ([0-9a-f]{8})|ERR [0-9a-f]{2})$')
_DONE = re.compile(r'\bDONE$')
_ERR = re.compile(r'\b(?:BOOT|DISK [0-9a-f]{2}) ERR [0-9a-f]{2}$')


def finished(text):
    """Whether a console log holds a DONE line, parsable or not."""
    return any(_DONE.search(line.rstrip())
               for line in text.replace('\r', '\n').split('\n'))


def parse_console(text):
    """The ConsoleReport of the last boot in a console log.

    Lines before the guest's own, and noise in front of its lines on the
    same line, are ignored; so are carriage returns. A BOOT line starts a
    new report, so a log holding several boots (a reboot, a console log
    that is appended to) gives the last one. A line cut short (the guest
    still printing) is not counted.
    """
    boots = None
    disks = {}
    done = False
    errs = []
    started = False
    for raw in text.replace('\r', '\n').split('\n'):
        line = raw.rstrip()
        match = _BOOT.search(line)
        if match:
            boots = int(match.group(1)) if match.group(1) else None
            disks = {}
            done = False
            errs = []
            started = True
        elif not started:
            continue
        else:
            match = _DISK.search(line)
            if match and match.group(2):
                disks[int(match.group(1), 16)] = DiskLine(
                    match.group(2), int(match.group(3), 16))
            elif _DONE.search(line):
                done = True
                continue
        err = _ERR.search(line)
        if err:
            errs.append(err.group(0))
    return ConsoleReport(boots, disks, done, tuple(errs))


def _run(argv, cwd):
    tool = argv[0]
    if shutil.which(tool) is None:
        raise errors.PrerequisiteError(
            reason='%s not found: install the Debian package %s (bindep.txt, '
                   'profile lab)' % (tool, DEBIAN_PACKAGE))
    result = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode:
        raise BootDiskError(reason='%s failed (exit status %d):\n%s'
                            % (' '.join(argv), result.returncode,
                               result.stdout.strip()))


def check_sector(sector):
    if len(sector) != SECTOR_SIZE:
        raise ValueError('a boot sector has %d bytes, not %d'
                         % (SECTOR_SIZE, len(sector)))
    if sector[-2:] != SIGNATURE:
        raise ValueError('no boot signature 55 aa at the end of the sector')


def build_sector(workdir, source=None):
    """Assemble and link bootdisk.S (or source) in workdir.

    Returns the 512 bytes of the sector. Needs ``as`` and ``ld`` (Debian
    package binutils).
    """
    workdir = os.fspath(workdir)
    source = SOURCE if source is None else source
    obj = os.path.join(workdir, 'bootdisk.o')
    binary = os.path.join(workdir, 'bootdisk.bin')
    _run(['as', '--32', '--fatal-warnings', '-o', obj,
          os.fspath(source)], workdir)
    _run(['ld', '-m', 'elf_i386', '-Ttext=0x7c00', '--oformat=binary',
          '-o', binary, obj], workdir)
    with open(binary, 'rb') as image:
        sector = image.read()
    try:
        check_sector(sector)
    except ValueError as exc:
        raise BootDiskError(reason='%s: %s' % (binary, exc))
    return sector


def _write_sparse(path, size_bytes, pieces):
    """A new sparse file of size_bytes holding pieces {offset: bytes}."""
    with open(path, 'wb') as disk:
        disk.truncate(size_bytes)
        for offset, data in sorted(pieces.items()):
            disk.seek(offset)
            disk.write(data)


def _check_size(size_bytes, minimum):
    if size_bytes % SECTOR_SIZE or size_bytes < minimum:
        raise ValueError('disk size %d: need a multiple of %d and at least '
                         '%d bytes' % (size_bytes, SECTOR_SIZE, minimum))


def make_disk(path, size_bytes, sector, data=b''):
    """Write a sparse raw boot disk at path (replacing any file).

    sector goes to LBA 0, data (at most 63 sectors) to LBA 1 onwards and a
    zero boot counter to LBA 64.
    """
    check_sector(sector)
    if len(data) > SUM_SECTORS * SECTOR_SIZE:
        raise ValueError('%d bytes of data do not fit in LBA 1..%d'
                         % (len(data), SUM_SECTORS))
    _check_size(size_bytes, (COUNTER_LBA + 1) * SECTOR_SIZE)
    _write_sparse(path, size_bytes, {
        0: bytes(sector),
        SUM_FIRST_LBA * SECTOR_SIZE: bytes(data),
        COUNTER_LBA * SECTOR_SIZE: bytes(COUNTER_BYTES)})


def make_data_disk(path, size_bytes, data):
    """Write a sparse raw disk at path holding data from byte 0."""
    _check_size(size_bytes, max(PREDICT_BYTES, len(data)))
    _write_sparse(path, size_bytes, {0: bytes(data)})


def boot_count(disk_path):
    """The boot counter of a boot disk (LBA 64)."""
    with open(disk_path, 'rb') as disk:
        disk.seek(COUNTER_LBA * SECTOR_SIZE)
        raw = disk.read(COUNTER_BYTES)
    if len(raw) != COUNTER_BYTES:
        raise ValueError('%s: no boot counter, the disk is too small'
                         % disk_path)
    return int.from_bytes(raw, 'little')


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m cinder_ocfs2.tests.functional.lab.bootdisk',
        description='The boot-sector guest image (see the module docstring).')
    commands = parser.add_subparsers(dest='command', required=True)
    build = commands.add_parser('build', help='write a raw boot disk')
    build.add_argument('output')
    build.add_argument('--size-mib', type=int, default=64)
    count = commands.add_parser('count', help="print a disk's boot count")
    count.add_argument('disk')
    parse = commands.add_parser('parse', help='parse a console log')
    parse.add_argument('console')
    args = parser.parse_args(argv)

    if args.command == 'build':
        with tempfile.TemporaryDirectory() as workdir:
            sector = build_sector(workdir)
        make_disk(args.output, args.size_mib << 20, sector)
        print('%s: %d MiB, boot sector %s' % (args.output, args.size_mib,
                                              sector[:HEAD_BYTES].hex()))
    elif args.command == 'count':
        print(boot_count(args.disk))
    else:
        with open(args.console, errors='replace') as console:
            report = parse_console(console.read())
        print('BOOT %s' % report.boots)
        for drive, line in sorted(report.disks.items()):
            print(format_disk_line(drive, line))
        for line in report.errors:
            print(line)
        print('DONE' if report.done else 'not DONE')
        return 0 if report.done else 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
