# Copyright 2026 The cinder-ocfs2 Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The walkthrough's Nova steps: real servers on the driver's volumes.

A server here is qemu inside a lab node (TCG in TCG) booting a 512-byte
boot sector (cinder_ocfs2/tests/functional/lab/bootdisk.S) that prints on
its serial console a count of its boots (kept in LBA 64 of its boot
disk), then the first bytes and a checksum of each BIOS disk.  Every
check compares what the guest printed, or wrote, with the bytes of the
volume's file read on the node that does NOT run the server.
"""

import base64
import pathlib
import re
import shlex
import tempfile
import time
import xml.etree.ElementTree as ElementTree

from transcript import StepFailed

from cinder_ocfs2.tests.functional.lab import bootdisk

COMPUTE_API = '2.93'
FLAVOR = 'ocfs2-tiny'
# Two boot images: the rebuild step swaps one for the other.  Their
# sectors 1..63 hold a text, so a volume made from one is told from the
# other by its checksum.
IMAGE_TEXTS = {'ocfs2-boot-a': 'boot image A: the first server image\n',
               'ocfs2-boot-b': 'boot image B: the rebuild image\n'}
# nova gives a virtio-scsi disk back at once on detach; a virtio-blk one
# waits for the guest OS to acknowledge the eject, which a boot sector
# never does.
SCSI_PROPERTIES = ('hw_disk_bus=scsi', 'hw_scsi_model=virtio-scsi')
# Nor does it answer ACPI power-off: nova's clean shutdown (a rebuild, a
# stop) would wait its full shutdown_timeout (60 s) before destroying.
NO_CLEAN_SHUTDOWN = 'os_shutdown_timeout=0'
IMAGE_PROPERTIES = SCSI_PROPERTIES + (NO_CLEAN_SHUTDOWN,)
SERVER = 'vm1'
BOOT_VOLUME = 'vm1-boot'
ADDED_VOLUME = 'vm1-added'
ADDED_TEXT = 'a volume added to the running server\n'
BOOT_TIMEOUT = 300
NODES = ('node1', 'node2')


class Servers:
    """Nova steps, run from scenario.Scenario (its helpers and CLIs)."""

    def __init__(self, scenario):
        self.s = scenario
        self.t = scenario.t
        self.cloud = scenario.cloud
        self.boots = 0

    # --- helpers

    def nova(self, *args, quiet=False):
        return self.t.run(['openstack', '--os-compute-api-version',
                           COMPUTE_API] + list(args), quiet=quiet)

    def nova_json(self, *args, quiet=False):
        return self.t.run_json(['openstack', '--os-compute-api-version',
                                COMPUTE_API] + list(args), quiet=quiet)

    def server(self):
        return self.nova_json('server', 'show', SERVER, quiet=True)

    def host_of_server(self):
        return self.server()['OS-EXT-SRV-ATTR:host']

    @staticmethod
    def other(node):
        return NODES[1 - NODES.index(node)]

    def wait_server(self, want='ACTIVE', timeout=BOOT_TIMEOUT):
        started = time.monotonic()
        while True:
            shown = self.server()
            status, task = shown['status'], shown['OS-EXT-STS:task_state']
            if status == want and not task:
                self.t.note('server %s is %s on %s after %.1fs' % (
                    SERVER, status, shown['OS-EXT-SRV-ATTR:host'],
                    time.monotonic() - started))
                return shown
            if status == 'ERROR' and want != 'ERROR':
                raise StepFailed('server %s went to ERROR: %s' % (
                    SERVER, shown.get('fault')))
            if time.monotonic() - started > timeout:
                raise StepFailed('server %s is %s (task %s) after %ds, '
                                 'expected %s' % (SERVER, status, task,
                                                  timeout, want))
            time.sleep(3)

    def console_report(self, boots, timeout=BOOT_TIMEOUT):
        """The guest's report of boot number boots, from its console log."""
        started = time.monotonic()
        while True:
            text = self.nova('console', 'log', 'show', SERVER, quiet=True)
            report = bootdisk.parse_console(text)
            if report.boots == boots and report.done:
                self.t.write('$ openstack console log show %s\n%s\n'
                             % (SERVER, text.strip()))
                self.t.note('boot %d reported %.1fs after asking'
                            % (boots, time.monotonic() - started))
                return report
            if time.monotonic() - started > timeout:
                raise StepFailed('no report of boot %d on the console of %s '
                                 'after %ds; it holds:\n%s'
                                 % (boots, SERVER, timeout, text))
            time.sleep(3)

    def read_bytes(self, node, path, count):
        """count bytes from the start of path, read on node, uncached."""
        sectors = -(-count // bootdisk.SECTOR_SIZE)
        out = self.s.guest(node, 'dd if=%s bs=512 count=%d iflag=direct '
                           'status=none | base64 -w0 && echo'
                           % (shlex.quote(path), sectors))
        return base64.b64decode(out.strip())[:count]

    def disk_line_on(self, node, volume):
        """The DISK line the guest should print for volume, from node."""
        path = self.s.path_of(volume)
        data = self.read_bytes(node, path, bootdisk.PREDICT_BYTES)
        return bootdisk.disk_line(data)

    def boot_count_on(self, node, volume):
        path = self.s.path_of(volume)
        data = self.read_bytes(
            node, path, (bootdisk.COUNTER_LBA + 1) * bootdisk.SECTOR_SIZE)
        start = bootdisk.COUNTER_LBA * bootdisk.SECTOR_SIZE
        return int.from_bytes(data[start:start + bootdisk.COUNTER_BYTES],
                              'little')

    def disks_of(self, node):
        """[(disk type, format, source file, bus)] of the server in node."""
        name = self.server()['OS-EXT-SRV-ATTR:instance_name']
        xml = self.s.guest(node, 'virsh dumpxml %s' % name)
        disks = []
        for disk in ElementTree.fromstring(xml).iter('disk'):
            driver = disk.find('driver')
            source = disk.find('source')
            target = disk.find('target')
            disks.append((disk.get('type'),
                          driver.get('type') if driver is not None else None,
                          source.get('file') if source is not None else None,
                          target.get('bus') if target is not None else None))
        return disks

    def expect_boot(self, reader, first=False):
        """The guest's next boot report matches its volume read on reader.

        The guest counts its boots in its boot volume: 1 on the first boot
        of an image (first=True), one more on every boot after that.
        """
        self.boots = 1 if first else self.boots + 1
        boots = self.boots
        report = self.console_report(boots)
        wanted = {bootdisk.FIRST_DRIVE: self.disk_line_on(reader,
                                                          BOOT_VOLUME)}
        self.t.check(
            report.disks == wanted and not report.errors,
            'boot %d: the guest printed the first bytes and checksum of '
            '%s as read on %s' % (boots, BOOT_VOLUME, reader)
            if report.disks == wanted else
            'the guest printed %r, %s read on %s gives %r'
            % (report.disks, BOOT_VOLUME, reader, wanted))
        counted = self.boot_count_on(reader, BOOT_VOLUME)
        self.t.check(counted == boots,
                     'the boot counter in LBA 64 of %s reads %d on %s'
                     % (BOOT_VOLUME, counted, reader))

    # --- the steps

    def run(self):
        self.images_and_flavor()
        self.boot_from_volume()
        self.add_and_remove_volume()
        self.snapshot_of_attached()
        self.live_migration()
        self.rebuild()
        self.delete_server()

    def images_and_flavor(self):
        self.t.section('nova: compute services, boot-sector images, flavor')
        self.nova('compute', 'service', 'list')
        self.nova('hypervisor', 'list')
        create_images_and_flavor(self.cloud)

    def boot_from_volume(self):
        self.t.section('nova: boot from volume; the hypervisor opens the '
                       'LUN file, the guest prints its bytes')
        self.s.create_volume(BOOT_VOLUME, '--type', 'ocfs2', '--image',
                             'ocfs2-boot-a')
        self.nova('server', 'create', '--flavor', FLAVOR, '--volume',
                  BOOT_VOLUME, '--nic', 'none', SERVER)
        host = self.wait_server()['OS-EXT-SRV-ATTR:host']
        self.expect_boot(self.other(host), first=True)
        disks = self.disks_of(host)
        wanted = [('file', 'raw', self.s.path_of(BOOT_VOLUME), 'scsi')]
        self.t.check(disks == wanted, 'virsh dumpxml on %s: %s' % (
            host, '; '.join('%s disk, %s, %s on %s' % d for d in disks)))

    def qemu_reads(self, host, volume, text):
        """qemu's own read of an attached volume (HMP qemu-io).

        The boot sector cannot see a hot-added disk (see below), so this
        asks the server's qemu to read through the drive the guest has;
        qemu prints the dump to its log (/var/log/libvirt/qemu).
        """
        name = self.server()['OS-EXT-SRV-ATTR:instance_name']
        device = 'ua-%s' % self.s.id_of('volume', volume)
        command = 'qemu-io -d %s "read -v 0 %d"' % (device, len(text))
        self.s.guest(host, 'virsh qemu-monitor-command --hmp %s %s'
                     % (name, shlex.quote(command)))
        log = self.s.guest(host, 'tail -n 40 /var/log/libvirt/qemu/%s.log'
                           % name)
        got = qemu_io_dump(log)
        self.t.check(got == text.encode(),
                     'qemu on %s reads %r from %s through the guest\'s '
                     'drive %s' % (host, text, volume, device)
                     if got == text.encode() else
                     'qemu on %s read %r from %s, not %r'
                     % (host, got, volume, text))

    def add_and_remove_volume(self):
        self.t.section('nova: server add volume, hard reboot, extend '
                       'refused while attached, remove volume, extend')
        self.s.create_volume(ADDED_VOLUME, '--type', 'ocfs2')
        host = self.host_of_server()
        path = self.s.path_of(ADDED_VOLUME)
        self.s.write_text(self.other(host), path, ADDED_TEXT)
        self.nova('server', 'add', 'volume', SERVER, ADDED_VOLUME)
        self.cloud.wait('volume', ADDED_VOLUME, 'in-use')
        self.t.check(('file', 'raw', path, 'scsi') in self.disks_of(host),
                     'virsh dumpxml on %s lists %s as a raw file disk'
                     % (host, path))
        self.qemu_reads(host, ADDED_VOLUME, ADDED_TEXT)
        self.nova('server', 'reboot', '--hard', SERVER)
        self.wait_server()
        # nova gives libvirt one boot device (<boot dev='hd'/>), and
        # libvirt starts qemu with -boot strict=on: SeaBIOS then sets up
        # the boot disk alone.  A guest OS finds the added disk on its
        # SCSI bus; the boot sector cannot, so qemu reads it for us.
        self.expect_boot(self.other(host))
        self.qemu_reads(host, ADDED_VOLUME, ADDED_TEXT)
        self.extend_refused_while_attached()
        self.nova('server', 'remove', 'volume', SERVER, ADDED_VOLUME)
        self.cloud.wait('volume', ADDED_VOLUME)
        self.t.check(path not in {d[2] for d in self.disks_of(host)},
                     'after remove volume, the server on %s no longer has %s'
                     % (host, path))
        self.cloud.openstack('volume', 'set', '--size', '2', ADDED_VOLUME)
        self.cloud.wait('volume', ADDED_VOLUME)
        size = self.s.guest(self.other(host), 'stat -c %%s %s' % path)
        self.t.check(int(size) == 2 << 30, 'offline extend: %s is 2 GiB '
                     '(read on %s)' % (path, self.other(host)))
        self.s.expect_text(self.other(host), path, ADDED_TEXT)
        self.cloud.openstack('volume', 'delete', ADDED_VOLUME)
        self.cloud.wait_gone('volume', ADDED_VOLUME)

    def extend_refused_while_attached(self):
        """cinder's scheduler refuses: the backend has no online extend.

        The API accepts the request; the scheduler finds no backend with
        online_extend_support (the driver reports False: nova's file
        volume driver cannot grow a disk under a running guest), leaves
        the volume in-use at its size and says so in a user message.
        """
        volume_id = self.s.id_of('volume', ADDED_VOLUME)
        self.cloud.openstack('volume', 'set', '--size', '2', ADDED_VOLUME)
        started = time.monotonic()
        while True:
            messages = [m for m in self.cloud.openstack_json(
                'volume', 'message', 'list', quiet=True)
                if m['Resource UUID'] == volume_id]
            if messages:
                break
            if time.monotonic() - started > 120:
                raise StepFailed('no user message about the refused extend '
                                 'of %s after 120 s' % ADDED_VOLUME)
            time.sleep(3)
        self.cloud.openstack('volume', 'message', 'list')
        self.cloud.wait('volume', ADDED_VOLUME, 'in-use')
        shown = self.cloud.show('volume', ADDED_VOLUME)
        self.t.check(shown['size'] == 1 and
                     messages[0]['User Message'].startswith('extend volume'),
                     'extend of the attached %s refused: %r; it stays '
                     'in-use at 1 GiB' % (ADDED_VOLUME,
                                          messages[0]['User Message']))

    def snapshot_of_attached(self):
        self.t.section('nova: snapshot of the attached boot volume (a '
                       'reflink, --force) holds what the guest wrote')
        self.cloud.openstack('volume', 'snapshot', 'create', '--force',
                             '--volume', BOOT_VOLUME, 'vm1-snap')
        self.cloud.wait('snapshot', 'vm1-snap')
        self.s.create_volume('vm1-from-snap', '--snapshot', 'vm1-snap')
        reader = self.other(self.host_of_server())
        count = self.boot_count_on(reader, 'vm1-from-snap')
        self.t.check(count == self.boots, 'the volume from the snapshot '
                     'holds the guest\'s boot counter, %d (read on %s)'
                     % (self.boots, reader))
        self.cloud.openstack('volume', 'delete', 'vm1-from-snap')
        self.cloud.wait_gone('volume', 'vm1-from-snap')
        self.cloud.openstack('volume', 'snapshot', 'delete', 'vm1-snap')
        self.cloud.wait_gone('snapshot', 'vm1-snap')

    def live_migration(self):
        self.t.section('nova: live migration to the other node, no block '
                       'migration; the guest keeps using the same files')
        source = self.host_of_server()
        target = self.other(source)
        paths = [self.s.path_of(BOOT_VOLUME)]
        self.nova('server', 'migrate', '--live-migration', '--host', target,
                  '--shared-migration', SERVER)
        self.wait_until_host(target)
        # libvirt keeps the statistics of the finished incoming migration
        # on the target: everything qemu sent was memory.
        name = self.server()['OS-EXT-SRV-ATTR:instance_name']
        job = parse_job_info(self.s.guest(
            target, 'virsh domjobinfo --completed %s' % name))
        self.t.check(
            job.get('Operation') == 'Incoming migration' and
            job.get('Data processed') == job.get('Memory processed') and
            not any(key.startswith('Disk') for key in job),
            'live migration %s -> %s: %s of data sent, all of it memory '
            '(%s), no disk' % (source, target, job.get('Data processed'),
                               job.get('Memory processed')))
        self.t.check([d[2] for d in self.disks_of(target)] == paths,
                     'on %s the server uses the same files: %s'
                     % (target, ', '.join(paths)))
        self.nova('server', 'reboot', '--hard', SERVER)
        self.wait_server()
        self.expect_boot(source)

    def wait_until_host(self, target, timeout=BOOT_TIMEOUT):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            shown = self.server()
            if (shown['OS-EXT-SRV-ATTR:host'] == target and
                    shown['status'] == 'ACTIVE' and
                    not shown['OS-EXT-STS:task_state']):
                self.t.note('server %s runs on %s after %.1fs' % (
                    SERVER, target, time.monotonic() - started))
                return
            if shown['status'] == 'ERROR':
                raise StepFailed('server %s went to ERROR: %s'
                                 % (SERVER, shown.get('fault')))
            time.sleep(3)
        raise StepFailed('server %s not on %s after %ds'
                         % (SERVER, target, timeout))

    def rebuild(self):
        self.t.section('nova: rebuild of the volume-backed server (cinder '
                       'reimage): a refused image keeps the bytes, a good '
                       'one replaces them')
        host = self.host_of_server()
        reader = self.other(host)
        path = self.s.path_of(BOOT_VOLUME)
        head = 'head -c 64M %s | sha256sum' % path
        before = self.s.guest(reader, head)
        bad = self.s.tampered_image()
        self.nova('server', 'rebuild', '--reimage-boot-volume', '--image',
                  bad, SERVER)
        self.wait_server('ERROR')
        # The reimage step makes its own (image names are not unique).
        self.cloud.openstack('image', 'delete', bad)
        self.t.check(self.s.guest(reader, head) == before,
                     'the failed rebuild left %s\'s bytes as they were '
                     '(sha256 of its first 64 MiB, read on %s)'
                     % (BOOT_VOLUME, reader))
        # The operator's way back: reset the server and its volume.
        self.nova('server', 'set', '--auto-approve', '--state', 'active',
                  SERVER)
        self.cloud.cinder('reset-state', '--state', 'in-use',
                          '--attach-status', 'attached', BOOT_VOLUME)
        self.rebuild_with_good_image()

    def rebuild_with_good_image(self):
        path = self.s.path_of(BOOT_VOLUME)
        self.nova('server', 'rebuild', '--reimage-boot-volume', '--image',
                  'ocfs2-boot-b', SERVER)
        host = self.wait_server()['OS-EXT-SRV-ATTR:host']
        self.expect_boot(self.other(host), first=True)
        self.t.check(
            self.read_bytes(self.other(host), path, 1024)[512:512 + len(
                IMAGE_TEXTS['ocfs2-boot-b'])] ==
            IMAGE_TEXTS['ocfs2-boot-b'].encode(),
            '%s holds image B\'s text in LBA 1 (read on %s)'
            % (BOOT_VOLUME, self.other(host)))

    def delete_server(self):
        self.t.section('nova: delete the server; delete_on_termination '
                       'takes its boot volume with it')
        self.nova('server', 'volume', 'update', '--delete-on-termination',
                  SERVER, BOOT_VOLUME)
        boot_id = self.s.id_of('volume', BOOT_VOLUME)
        self.nova('server', 'delete', '--wait', SERVER)
        self.cloud.wait_gone('volume', boot_id)
        self.nova('flavor', 'delete', FLAVOR)
        # The boot volume came from image A through the image-volume cache.
        self.s.delete_images_and_cache(*IMAGE_TEXTS)


def create_images_and_flavor(cloud):
    """The boot-sector images (IMAGE_TEXTS) and FLAVOR: {name: id}."""
    ids = {}
    with tempfile.TemporaryDirectory() as tmp:
        sector = bootdisk.build_sector(tmp)
        for name, text in IMAGE_TEXTS.items():
            path = pathlib.Path(tmp) / ('%s.raw' % name)
            bootdisk.make_disk(path, 64 * 1024 * 1024, sector,
                               text.encode())
            args = ['image', 'create', '--disk-format', 'raw',
                    '--container-format', 'bare', '--public', '--file',
                    str(path)]
            for prop in IMAGE_PROPERTIES:
                args += ['--property', prop]
            cloud.openstack(*args, name)
            cloud.wait('image', name, 'active')
            ids[name] = cloud.show('image', name)['id']
    # A boot sector needs next to no memory.  Disk 1 GiB: nova refuses a
    # zero-disk flavor to servers booted from an image (tempest's), whose
    # disk is a local file in the node's instances path.
    cloud.openstack('flavor', 'create', '--ram', '64', '--vcpus', '1',
                    '--disk', '1', '--public', FLAVOR)
    ids[FLAVOR] = cloud.openstack('flavor', 'show', '-f', 'value', '-c',
                                  'id', FLAVOR, quiet=True).strip()
    return ids


def parse_job_info(text):
    """{field: value} of ``virsh domjobinfo`` output."""
    fields = {}
    for line in text.splitlines():
        key, colon, value = line.partition(':')
        if colon:
            fields[key.strip()] = value.strip()
    return fields


_DUMP_LINE = re.compile(r'^([0-9a-f]{8}):  ((?:[0-9a-f]{2} ){1,16})')


def qemu_io_dump(log):
    """The bytes of the last ``read -v`` dump qemu-io printed in log."""
    dumps, current = [], None
    for line in log.splitlines():
        match = _DUMP_LINE.match(line)
        if match and int(match.group(1), 16) == 0:
            current = bytearray()
            dumps.append(current)
        if match and current is not None:
            current += bytes.fromhex(match.group(2).replace(' ', ''))
        elif not match:
            current = None
    return bytes(dumps[-1]) if dumps else b''
