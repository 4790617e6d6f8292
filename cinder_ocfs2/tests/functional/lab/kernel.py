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

"""The guest kernel: Debian's linux-image, downloaded and unpacked, never
installed on the host.

``prepare_kernel()`` returns a GuestKernel with an uncompressed vmlinux
(qemu boots it through its PVH entry point, faster than the bzImage) and a
modules tree on which ``depmod -b`` ran.  Everything is cached under
``<cache>/kernels/<version>/``; a later run reuses the newest kernel found
there without asking apt (set ``CINDER_OCFS2_LAB_KERNEL_PACKAGE`` to pick
another package, or remove the folder to refresh).
"""

import dataclasses
import fcntl
import json
import logging
import lzma
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile
import zlib

from cinder_ocfs2.tests.functional.lab import command
from cinder_ocfs2.tests.functional.lab import errors
from cinder_ocfs2.tests.functional.lab import packages

LOG = logging.getLogger(__name__)

PACKAGE_ENV = 'CINDER_OCFS2_LAB_KERNEL_PACKAGE'
# Debian's metapackage; it depends on the current linux-image-6.1.0-N-amd64.
META_PACKAGE = 'linux-image-amd64'
ELF_MAGIC = b'\x7fELF'
# Compressed payload magics, as the kernel's own extract-vmlinux looks for.
PAYLOAD_MAGICS = (
    ('xz', b'\xfd7zXZ\x00'),
    ('gzip', b'\x1f\x8b\x08'),
    ('zstd', b'\x28\xb5\x2f\xfd'),
)
# x86 boot protocol: "HdrS" at 0x202, setup_sects at 0x1f1, and since
# protocol 2.08 payload_offset/payload_length at 0x248/0x24c.
HEADER_MAGIC_OFFSET = 0x202
SETUP_SECTS_OFFSET = 0x1f1
PAYLOAD_FIELDS_OFFSET = 0x248


@dataclasses.dataclass(frozen=True)
class GuestKernel:
    """A kernel ready to boot, from ``prepare_kernel()``."""

    # Kernel release, the name of lib/modules/<version>.
    version: str
    # Debian package and its version it came from.
    package: str
    package_version: str
    # Uncompressed ELF kernel, for qemu -kernel.
    vmlinux: pathlib.Path
    # lib/modules/<version>, with modules.dep.
    modules_dir: pathlib.Path


def find_payload(image):
    """Locate the compressed kernel inside a bzImage.

    Returns (kind, offset, length); length is None when only a magic scan
    found it.  Example: Debian 6.1 -> ('xz', 21196, 8122480).
    """
    if image[HEADER_MAGIC_OFFSET:HEADER_MAGIC_OFFSET + 4] == b'HdrS':
        setup_sects = image[SETUP_SECTS_OFFSET] or 4
        offset, length = struct.unpack_from(
            '<II', image, PAYLOAD_FIELDS_OFFSET)
        start = (setup_sects + 1) * 512 + offset
        for kind, magic in PAYLOAD_MAGICS:
            if length and image.startswith(magic, start):
                return kind, start, length
    hits = [(image.find(magic), kind) for kind, magic in PAYLOAD_MAGICS]
    hits = sorted((pos, kind) for pos, kind in hits if pos >= 0)
    if not hits:
        raise ValueError('no xz, gzip or zstd payload in the kernel image')
    return hits[0][1], hits[0][0], None


def decompress(kind, payload):
    """Decompress a kernel payload; trailing bytes after it are ignored."""
    if kind == 'xz':
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(
            payload)
    if kind == 'gzip':
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(
            payload)
    proc = subprocess.run(['zstd', '-dc'], input=payload,
                          capture_output=True, check=False)
    if not proc.stdout.startswith(ELF_MAGIC):
        raise ValueError('zstd could not decompress the kernel: %s'
                         % proc.stderr.decode(errors='replace').strip())
    return proc.stdout


def extract_vmlinux(image):
    """Return the uncompressed ELF vmlinux inside a bzImage (bytes)."""
    kind, start, length = find_payload(image)
    end = start + length if length else len(image)
    vmlinux = decompress(kind, image[start:end])
    if not vmlinux.startswith(ELF_MAGIC):
        raise ValueError('the %s payload at offset %d is not an ELF kernel'
                         % (kind, start))
    return vmlinux


def kernels_dir(cache_dir):
    return pathlib.Path(cache_dir) / 'kernels'


def cached_kernel(cache_dir, package=None):
    """The newest prepared kernel in the cache (of package if given)."""
    found = []
    for meta in kernels_dir(cache_dir).glob('*/kernel.json'):
        data = json.loads(meta.read_text())
        if package and data['package'] != package:
            continue
        found.append(GuestKernel(
            version=data['version'], package=data['package'],
            package_version=data['package_version'],
            vmlinux=meta.parent / 'vmlinux',
            modules_dir=meta.parent / 'root/lib/modules' / data['version']))
    found = [k for k in found if k.vmlinux.exists()]
    if not found:
        return None
    return max(found, key=lambda k: _version_key(k.version))


def _version_key(version):
    parts = version.replace('-', '.').split('.')
    return [int(p) if p.isdigit() else -1 for p in parts]


def resolve_package():
    """Name of the linux-image package linux-image-amd64 depends on."""
    result = apt_query(['apt-cache', 'depends', META_PACKAGE])
    for line in result.stdout.splitlines():
        fields = line.split()
        if (len(fields) == 2 and fields[0] == 'Depends:'
                and fields[1].startswith('linux-image-6.1')):
            return fields[1]
    raise errors.KernelError(source=META_PACKAGE,
                             reason='no linux-image-6.1 dependency found')


def apt_query(argv):
    result = command.run_host(argv, check=False)
    if not result.ok or not result.stdout.strip():
        packages.apt_get('update')
        result = command.run_host(argv, check=False)
    return result


def prepare_kernel(cache_dir):
    """Return a GuestKernel, downloading and unpacking it if not cached."""
    package = os.environ.get(PACKAGE_ENV)
    kernel = cached_kernel(cache_dir, package)
    if kernel:
        return kernel
    kernels_dir(cache_dir).mkdir(parents=True, exist_ok=True)
    with open(kernels_dir(cache_dir) / '.lock', 'w') as lock:
        # Another lab starting at the same time may be fetching it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        return cached_kernel(cache_dir, package) or _fetch(cache_dir,
                                                           package)


def _fetch(cache_dir, package):
    package = package or resolve_package()
    LOG.info('fetching guest kernel %s', package)
    with tempfile.TemporaryDirectory(dir=kernels_dir(cache_dir),
                                     prefix='.unpack-') as tmp:
        tmp = pathlib.Path(tmp)
        result = command.run_host(['apt-get', 'download', package],
                                  cwd=tmp, check=False, timeout=900)
        debs = list(tmp.glob('*.deb'))
        if not result.ok:
            packages.apt_get('update')
            result = command.run_host(['apt-get', 'download', package],
                                      cwd=tmp, check=False, timeout=900)
            debs = list(tmp.glob('*.deb'))
        if not debs:
            raise errors.KernelError(source=package, reason=result.stderr)
        return _unpack(debs[0], package, tmp, kernels_dir(cache_dir))


def _unpack(deb, package, tmp, destination_parent):
    root = tmp / 'root'
    command.run_host(['dpkg-deb', '-x', deb, root], timeout=600)
    versions = [p.name for p in (root / 'lib/modules').iterdir()]
    if len(versions) != 1:
        raise errors.KernelError(source=deb.name,
                                 reason='expected one lib/modules/<version>')
    version = versions[0]
    command.run_host(['depmod', '-b', root, version], timeout=600)
    image = (root / 'boot' / ('vmlinuz-%s' % version)).read_bytes()
    try:
        (tmp / 'vmlinux').write_bytes(extract_vmlinux(image))
    except ValueError as exc:
        raise errors.KernelError(source=deb.name, reason=exc) from exc
    package_version = command.run_host(
        ['dpkg-deb', '-f', deb, 'Version']).stdout.strip()
    (tmp / 'kernel.json').write_text(json.dumps({
        'version': version, 'package': package,
        'package_version': package_version}, indent=1))
    deb.unlink()
    final = destination_parent / version
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp, final)
    # TemporaryDirectory's cleanup must find something to remove.
    tmp.mkdir()
    LOG.info('guest kernel %s ready in %s', version, final)
    return cached_kernel(destination_parent.parent, package)
