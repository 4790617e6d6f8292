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

"""Tests of the boot-sector guest image (lab/bootdisk.S and bootdisk.py).

The pure tests need nothing. The others build the sector with binutils and
boot it in qemu (TCG, well under a second a boot); they are skipped, saying
why, without ``as``/``ld`` (Debian package binutils) or
``qemu-system-x86_64`` (qemu-system-x86), both in bindep.txt's lab profile.
"""

import os
import pathlib
import random
import shutil
import subprocess
import tempfile
import time
import unittest
from unittest import mock

from cinder_ocfs2.tests.functional.lab import bootdisk
from cinder_ocfs2.tests.functional.lab import errors

QEMU = 'qemu-system-x86_64'
# Seconds to wait for DONE; a boot takes well under one on a 2-core host
# with TCG, the margin is for a loaded or nested host.
BOOT_TIMEOUT = 60
MIB = 1 << 20

SEABIOS_NOISE = (
    '\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n'
    '\r\n\r\niPXE (http://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+03F8B4A0+\r\n'
    'Booting from Hard Disk..')
HEAD_80 = 'fa31c08ed88ed0bc007cea0f7c0000fb'
HEAD_81 = '000102030405060708090a0b0c0d0e0f'


def pattern(seed, length):
    """Reproducible pseudo-random bytes, different for each seed."""
    return random.Random(seed).randbytes(length)


def tools_missing():
    """Why the qemu tests cannot run here, or None."""
    missing = [tool for tool in ('as', 'ld', QEMU) if not shutil.which(tool)]
    if missing:
        return ('%s not found (Debian packages binutils and '
                'qemu-system-x86, bindep.txt profile lab)'
                % ', '.join(missing))
    return None


class TestChecksum(unittest.TestCase):

    def test_fnv1a_reference_values(self):
        # Published FNV-1a 32-bit test vectors.
        self.assertEqual(0x811c9dc5, bootdisk.checksum(b''))
        self.assertEqual(0xe40c292c, bootdisk.checksum(b'a'))
        self.assertEqual(0xbf9cf968, bootdisk.checksum(b'foobar'))

    def test_order_matters(self):
        sectors = [bytes([n]) * 512 for n in range(63)]
        swapped = sectors[:]
        swapped[1], swapped[2] = swapped[2], swapped[1]
        self.assertNotEqual(bootdisk.checksum(b''.join(sectors)),
                            bootdisk.checksum(b''.join(swapped)))

    def test_expected_line(self):
        disk = bytes(range(16)) + pattern(1, 64 * 512 - 16) + b'ignored'
        self.assertEqual(
            'DISK 81 %s SUM %08x' % (HEAD_81,
                                     bootdisk.checksum(disk[512:64 * 512])),
            bootdisk.expected_line(0x81, disk))

    def test_expected_line_ignores_sector_0_past_head_and_lba_64(self):
        disk = bytearray(pattern(2, 65 * 512))
        before = bootdisk.expected_line(0x80, disk)
        disk[16] ^= 0xff
        disk[64 * 512] ^= 0xff
        self.assertEqual(before, bootdisk.expected_line(0x80, disk))
        disk[64 * 512 - 1] ^= 0xff
        self.assertNotEqual(before, bootdisk.expected_line(0x80, disk))

    def test_expected_line_short_disk(self):
        self.assertRaises(ValueError, bootdisk.expected_line, 0x80,
                          bytes(63 * 512))


class TestParseConsole(unittest.TestCase):

    def test_firmware_noise_and_carriage_returns(self):
        text = (SEABIOS_NOISE + '\r\nBOOT 12\r\n'
                'DISK 80 %s SUM 0000abcd\r\n'
                'DISK 81 %s SUM ffffffff\r\nDONE\r\n' % (HEAD_80, HEAD_81))
        self.assertEqual(
            bootdisk.ConsoleReport(
                boots=12,
                disks={0x80: bootdisk.DiskLine(HEAD_80, 0xabcd),
                       0x81: bootdisk.DiskLine(HEAD_81, 0xffffffff)},
                done=True),
            bootdisk.parse_console(text))

    def test_noise_on_the_same_line(self):
        # Without the guest's leading line break, SeaBIOS's last words
        # share the BOOT line.
        report = bootdisk.parse_console(
            SEABIOS_NOISE + 'BOOT 1\r\nDONE\r\n')
        self.assertEqual((1, {}, True), report[:3])

    def test_missing_done(self):
        report = bootdisk.parse_console(
            SEABIOS_NOISE + '\r\nBOOT 3\r\nDISK 80 %s SUM 00000001\r\n'
            'DISK 81 %s SU' % (HEAD_80, HEAD_81))
        self.assertEqual(3, report.boots)
        self.assertFalse(report.done)
        # The line cut short is not counted.
        self.assertEqual({0x80: bootdisk.DiskLine(HEAD_80, 1)}, report.disks)

    def test_no_guest_output(self):
        self.assertEqual(bootdisk.ConsoleReport(None, {}, False),
                         bootdisk.parse_console(
                             SEABIOS_NOISE + '\r\nNo bootable device.\r\n'))
        self.assertEqual(bootdisk.ConsoleReport(None, {}, False),
                         bootdisk.parse_console(''))

    def test_lines_before_boot_are_noise(self):
        report = bootdisk.parse_console(
            'DISK 80 %s SUM 00000001\r\nDONE\r\n' % HEAD_80)
        self.assertEqual(bootdisk.ConsoleReport(None, {}, False), report)

    def test_last_boot_wins(self):
        text = ('BOOT 1\r\nDISK 80 %s SUM 00000001\r\n'
                'DISK 81 %s SUM 00000002\r\nDONE\r\n' % (HEAD_80, HEAD_81)
                + SEABIOS_NOISE
                + '\r\nBOOT 2\r\nDISK 80 %s SUM 00000003\r\n' % HEAD_80)
        self.assertEqual(
            bootdisk.ConsoleReport(
                2, {0x80: bootdisk.DiskLine(HEAD_80, 3)}, False),
            bootdisk.parse_console(text))

    def test_errors(self):
        report = bootdisk.parse_console(
            '\r\nBOOT ERR 01\r\nDISK 80 %s SUM 00000001\r\n'
            'DISK 81 ERR 80\r\nDONE\r\n' % HEAD_80)
        self.assertEqual(
            bootdisk.ConsoleReport(
                None, {0x80: bootdisk.DiskLine(HEAD_80, 1)}, True,
                ('BOOT ERR 01', 'DISK 81 ERR 80')),
            report)

    def test_finished(self):
        self.assertTrue(bootdisk.finished('BOOT .\r\n1\r\nDONE\r\n'))
        self.assertTrue(bootdisk.finished('BOOT 1\r\nDONE'))
        self.assertFalse(bootdisk.finished('BOOT 1\r\nDON'))
        self.assertFalse(bootdisk.finished('BOOT 1\r\nDONE and more'))

    def test_malformed_lines_are_ignored(self):
        report = bootdisk.parse_console(
            'BOOT 1\nDISK 80 %s SUM 0000000\nDISK 8 %s SUM 00000000\n'
            'DISK 82 %s SUM 0000000G\nDONE and more\n'
            % (HEAD_80, HEAD_80, HEAD_80))
        self.assertEqual(bootdisk.ConsoleReport(1, {}, False), report)


class TestDiskFiles(unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        self.sector = bytes(range(256)) + bytes(254) + b'\x55\xaa'

    def test_make_disk_layout(self):
        path = self.tmp / 'boot.raw'
        path.write_bytes(b'old contents' * 100000)
        data = pattern(3, 2 * 512 + 7)
        bootdisk.make_disk(path, 64 * MIB, self.sector, data)
        image = path.read_bytes()
        self.assertEqual(64 * MIB, len(image))
        self.assertEqual(self.sector, image[:512])
        self.assertEqual(data, image[512:512 + len(data)])
        self.assertEqual(bytes(len(image) - 512 - len(data)),
                         image[512 + len(data):])
        self.assertEqual(0, bootdisk.boot_count(path))
        # Sparse: far less than 64 MiB allocated.
        self.assertLess(path.stat().st_blocks * 512, 4 * MIB)

    def test_boot_count(self):
        path = self.tmp / 'boot.raw'
        bootdisk.make_disk(path, MIB, self.sector)
        with open(path, 'r+b') as disk:
            disk.seek(64 * 512)
            disk.write((0x01020304).to_bytes(4, 'little'))
        self.assertEqual(0x01020304, bootdisk.boot_count(path))

    def test_make_disk_refuses(self):
        path = self.tmp / 'boot.raw'
        self.assertRaises(ValueError, bootdisk.make_disk, path, MIB,
                          self.sector[:-1])
        self.assertRaises(ValueError, bootdisk.make_disk, path, MIB,
                          self.sector[:-2] + b'\0\0')
        self.assertRaises(ValueError, bootdisk.make_disk, path, MIB,
                          self.sector, bytes(63 * 512 + 1))
        self.assertRaises(ValueError, bootdisk.make_disk, path, MIB + 1,
                          self.sector)
        self.assertRaises(ValueError, bootdisk.make_disk, path, 64 * 512,
                          self.sector)

    def test_make_data_disk_and_expected_report(self):
        boot = self.tmp / 'boot.raw'
        data = self.tmp / 'data.raw'
        contents = pattern(4, 100 * 512)
        bootdisk.make_disk(boot, MIB, self.sector)
        bootdisk.make_data_disk(data, MIB, contents)
        self.assertEqual(contents, data.read_bytes()[:len(contents)])
        report = bootdisk.expected_report([boot, data], boots=1)
        self.assertEqual(1, report.boots)
        self.assertTrue(report.done)
        self.assertEqual(
            {0x80: bootdisk.DiskLine(self.sector[:16].hex(),
                                     bootdisk.checksum(bytes(63 * 512))),
             0x81: bootdisk.DiskLine(contents[:16].hex(),
                                     bootdisk.checksum(
                                         contents[512:64 * 512]))},
            report.disks)

    def test_missing_assembler_names_the_package(self):
        with mock.patch.dict(os.environ, {'PATH': str(self.tmp)}):
            with self.assertRaises(errors.PrerequisiteError) as caught:
                bootdisk.build_sector(self.tmp)
        self.assertIn('binutils', str(caught.exception))


class QemuBoot(object):
    """One qemu booting the boot-sector guest from raw disk images.

    bus is 'scsi' (virtio-scsi) or 'blk' (virtio-blk). boot_indexes gives
    each disk's bootindex, None for none; by default only the first disk
    has one. strict adds ``-boot strict=on``, as libvirt does.
    """

    def __init__(self, workdir, disks, bus, boot_indexes=None,
                 strict=False):
        self.workdir = pathlib.Path(workdir)
        self.disks = [pathlib.Path(path) for path in disks]
        self.bus = bus
        if boot_indexes is None:
            boot_indexes = [0] + [None] * (len(self.disks) - 1)
        self.boot_indexes = boot_indexes
        self.strict = strict

    def argv(self, console):
        argv = [QEMU, '-accel', 'tcg', '-machine', 'pc', '-m', '64',
                '-nographic', '-no-reboot', '-display', 'none',
                '-serial', 'file:%s' % console, '-nodefaults',
                '-monitor', 'none']
        if self.strict:
            argv += ['-boot', 'strict=on']
        if self.bus == 'scsi':
            argv += ['-device', 'virtio-scsi-pci,id=scsi0']
        for index, path in enumerate(self.disks):
            name = 'disk%d' % index
            argv += ['-drive', 'if=none,id=%s,format=raw,file=%s'
                     % (name, str(path).replace(',', ',,'))]
            if self.bus == 'scsi':
                device = 'scsi-hd,bus=scsi0.0,scsi-id=%d,drive=%s' % (index,
                                                                      name)
            else:
                device = 'virtio-blk-pci,drive=%s' % name
            if self.boot_indexes[index] is not None:
                device += ',bootindex=%d' % self.boot_indexes[index]
            argv += ['-device', device]
        return argv

    def run(self, number):
        """Boot once; the console text and the seconds to DONE."""
        console = self.workdir / ('console-%s-%d.log' % (self.bus, number))
        output = self.workdir / ('qemu-%s-%d.log' % (self.bus, number))
        console.write_bytes(b'')
        with open(output, 'wb') as out:
            started = time.monotonic()
            proc = subprocess.Popen(self.argv(console),
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        try:
            while True:
                text = console.read_text(errors='replace')
                if bootdisk.finished(text):
                    return text, time.monotonic() - started
                if proc.poll() is not None:
                    raise AssertionError(
                        'qemu exited (status %s) before DONE:\n%s\n'
                        'console:\n%s' % (proc.returncode,
                                          output.read_text(errors='replace'),
                                          text))
                if time.monotonic() - started > BOOT_TIMEOUT:
                    raise AssertionError('no DONE within %ss; console:\n%s'
                                         % (BOOT_TIMEOUT, text))
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@unittest.skipIf(tools_missing(), tools_missing())
class TestBootInQemu(unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        self.sector = bootdisk.build_sector(self.tmp)

    def test_build_sector(self):
        self.assertEqual(512, len(self.sector))
        self.assertEqual(b'\x55\xaa', self.sector[510:])
        # Reproducible: the same bytes from a second build.
        again = self.tmp / 'again'
        again.mkdir()
        self.assertEqual(self.sector, bootdisk.build_sector(again))

    def test_build_sector_bad_source(self):
        source = self.tmp / 'bad.S'
        source.write_text('        .code16\n        movq %rax, %rbx\n')
        with self.assertRaises(bootdisk.BootDiskError) as caught:
            bootdisk.build_sector(self.tmp, source)
        self.assertIn('as --32', str(caught.exception))

    def test_build_sector_too_big(self):
        source = self.tmp / 'big.S'
        source.write_text(bootdisk.SOURCE.read_text().replace(
            '        .org    510\n', '        .fill   100, 1, 0x90\n'
            '        .org    510\n'))
        self.assertRaises(bootdisk.BootDiskError, bootdisk.build_sector,
                          self.tmp, source)

    def _disks(self):
        boot = self.tmp / 'boot.raw'
        bootdisk.make_disk(boot, 64 * MIB, self.sector, pattern(10, 4096))
        disks = [boot]
        # Data disks whose interesting bytes go past LBA 63.
        for number, size in ((1, 8 * MIB), (2, MIB)):
            path = self.tmp / ('data%d.raw' % number)
            bootdisk.make_data_disk(path, size, pattern(number, 70 * 512))
            disks.append(path)
        return disks

    def _boot_twice(self, bus):
        disks = self._disks()
        qemu = QemuBoot(self.tmp, disks, bus)
        expected = bootdisk.expected_report(disks, boots=1)
        # The guest reads what is there: compare with the files' bytes too.
        self.assertEqual(
            [self.sector[:16].hex(), pattern(1, 16).hex(),
             pattern(2, 16).hex()],
            [line.head for _, line in sorted(expected.disks.items())])

        text, _ = qemu.run(1)
        self.assertEqual(expected, bootdisk.parse_console(text), text)
        self.assertEqual(1, bootdisk.boot_count(disks[0]))

        # Change the last byte the checksum covers on the first data disk,
        # and one it does not: only the first shows on the next boot.
        with open(disks[1], 'r+b') as disk:
            for offset in (64 * 512 - 1, 64 * 512):
                disk.seek(offset)
                byte = disk.read(1)
                disk.seek(offset)
                disk.write(bytes([byte[0] ^ 0x5a]))
        second = bootdisk.expected_report(disks, boots=2)
        self.assertNotEqual(expected.disks[0x81], second.disks[0x81])
        self.assertEqual(expected.disks[0x82], second.disks[0x82])

        text, _ = qemu.run(2)
        self.assertEqual(second, bootdisk.parse_console(text), text)
        self.assertEqual(2, bootdisk.boot_count(disks[0]))

    def test_boot_virtio_scsi(self):
        self._boot_twice('scsi')

    def test_boot_virtio_blk(self):
        self._boot_twice('blk')

    def _strict(self, bus):
        boot, data1, data2 = self._disks()
        # As libvirt starts qemu (-boot strict=on), SeaBIOS 1.14 and later
        # does not even set up a virtio disk without a boot index, and
        # numbers the others in boot index order.
        qemu = QemuBoot(self.tmp, [boot, data1, data2], bus,
                        boot_indexes=[0, None, 1], strict=True)
        text, _ = qemu.run(1)
        self.assertEqual(bootdisk.expected_report([boot, data2], boots=1),
                         bootdisk.parse_console(text), text)

    def test_strict_boot_order_virtio_scsi(self):
        self._strict('scsi')

    def test_strict_boot_order_virtio_blk(self):
        self._strict('blk')


if __name__ == '__main__':
    unittest.main()
