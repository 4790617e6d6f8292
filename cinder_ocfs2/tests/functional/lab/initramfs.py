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

"""The guest initramfs: busybox, the module closure and a small /init.

The /init (``guest/init.sh``) loads the modules, mounts the host's ``/``
read-only over virtio-9p under a tmpfs overlay, mounts the node's exchange
folder at /lab and ``exec chroot``s into the result.  The archive is built
in Python (cpio "newc") and cached under ``<cache>/initramfs/`` by a hash of
its inputs, so it is rebuilt only when the kernel, busybox, the module list
or the init script change.
"""

import dataclasses
import hashlib
import io
import logging
import os
import pathlib

LOG = logging.getLogger(__name__)

GUEST_DIR = pathlib.Path(__file__).parent / 'guest'
BUSYBOX = pathlib.Path('/bin/busybox')
# Bump when the archive layout changes without any input changing.
FORMAT = 1
# Modules the guest needs; their dependencies come from modules.dep.
MODULES = (
    'virtio_pci', 'virtio_blk', 'virtio_net', '9pnet_virtio', '9p',
    'overlay', 'configfs', 'jbd2', 'quota_tree', 'crc32c_generic',
    'ocfs2_stackglue', 'ocfs2_nodemanager', 'ocfs2_dlm', 'ocfs2_dlmfs',
    'ocfs2_stack_o2cb', 'ocfs2',
    # The nodes' own scratch disks (config.SCRATCH_MOUNT).
    'ext4',
)
# busybox applets /init uses (symlinks in /bin).
APPLETS = ('sh', 'mount', 'umount', 'mkdir', 'insmod', 'chroot', 'cat',
           'echo', 'poweroff', 'sleep', 'ln', 'cp', 'rm', 'hostname', 'ip')


@dataclasses.dataclass(frozen=True)
class ModuleEntry:
    """One line of modules.dep."""

    # Module name as modprobe knows it ('-' turned into '_').
    name: str
    # Path relative to lib/modules/<version>.
    path: str
    # Paths of the modules it needs, as listed.
    depends: tuple


def module_name(path):
    """kernel/fs/ocfs2/ocfs2_dlmfs.ko -> 'ocfs2_dlmfs'."""
    base = path.rsplit('/', 1)[-1]
    base = base.split('.ko', 1)[0]
    return base.replace('-', '_')


def parse_modules_dep(text):
    """modules.dep text -> {name: ModuleEntry}.

    Example line: ``kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko`` ->
    ``{'9p': ModuleEntry(name='9p', path='kernel/fs/9p/9p.ko',
    depends=('kernel/net/9p/9pnet.ko',))}``
    """
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        path, sep, depends = line.partition(':')
        if not sep:
            raise ValueError('modules.dep line %d has no colon: %r'
                             % (number, line))
        entry = ModuleEntry(module_name(path), path,
                            tuple(depends.split()))
        entries[entry.name] = entry
    return entries


def module_closure(names, entries):
    """Paths of names and everything they need, dependencies first."""
    by_path = {entry.path: entry for entry in entries.values()}
    ordered = []
    seen = set()

    def visit(entry):
        if entry.path in seen:
            return
        seen.add(entry.path)
        # modules.dep lists the full closure; load it deepest first.
        for dep in reversed(entry.depends):
            visit(by_path[dep])
        ordered.append(entry.path)

    for name in names:
        if name not in entries:
            raise KeyError('module %s is not in modules.dep' % name)
        visit(entries[name])
    return ordered


class CpioWriter:
    """Writes a cpio "newc" archive, the format the kernel unpacks."""

    def __init__(self, stream):
        self._stream = stream
        self._inode = 1

    def _entry(self, name, mode, data=b'', nlink=1):
        name_bytes = name.encode() + b'\0'
        fields = (self._inode, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
                  len(name_bytes), 0)
        self._inode += 1
        header = b'070701' + b''.join(b'%08X' % f for f in fields)
        self._stream.write(header + name_bytes)
        self._pad()
        self._stream.write(data)
        self._pad()

    def _pad(self):
        self._stream.write(b'\0' * (-self._stream.tell() % 4))

    def directory(self, name, mode=0o755):
        self._entry(name, 0o040000 | mode, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def close(self):
        self._entry('TRAILER!!!', 0)


def _parents(path):
    parts = path.split('/')
    return ['/'.join(parts[:i]) for i in range(1, len(parts))]


def build_archive(kernel, busybox_bytes, init_script, module_paths):
    """The initramfs as bytes (pure: inputs in, archive out)."""
    stream = io.BytesIO()
    writer = CpioWriter(stream)
    modules_root = 'lib/modules/%s' % kernel.version
    directories = {'bin', 'dev', 'proc', 'sys', 'etc', 'host', 'rw',
                   'newroot', 'lib', 'lib/modules', modules_root}
    for path in module_paths:
        directories.update(_parents('%s/%s' % (modules_root, path)))
    for directory in sorted(directories):
        writer.directory(directory)
    writer.file('bin/busybox', busybox_bytes, 0o755)
    for applet in APPLETS:
        writer.symlink('bin/%s' % applet, 'busybox')
    writer.file('init', init_script.encode(), 0o755)
    writer.file('etc/lab-modules', ''.join(
        '%s/%s\n' % (modules_root, path) for path in module_paths).encode())
    writer.file('etc/lab-kernel', ('%s\n' % kernel.version).encode())
    for name in ('modules.dep', 'modules.alias', 'modules.softdep',
                 'modules.builtin', 'modules.order'):
        source = kernel.modules_dir / name
        if source.exists():
            writer.file('%s/%s' % (modules_root, name), source.read_bytes())
    for path in module_paths:
        writer.file('%s/%s' % (modules_root, path),
                    (kernel.modules_dir / path).read_bytes())
    writer.close()
    return stream.getvalue()


def inputs_digest(kernel, busybox_bytes, init_script, module_paths):
    digest = hashlib.sha256()
    for part in (str(FORMAT), kernel.version, kernel.package_version,
                 init_script, '\n'.join(module_paths)):
        digest.update(part.encode() + b'\0')
    digest.update(busybox_bytes)
    return digest.hexdigest()[:16]


def prepare_initramfs(kernel, cache_dir):
    """Path of the initramfs for kernel, built only if its inputs changed."""
    entries = parse_modules_dep(
        (kernel.modules_dir / 'modules.dep').read_text())
    module_paths = module_closure(MODULES, entries)
    init_script = (GUEST_DIR / 'init.sh').read_text()
    busybox_bytes = BUSYBOX.read_bytes()
    digest = inputs_digest(kernel, busybox_bytes, init_script, module_paths)
    folder = pathlib.Path(cache_dir) / 'initramfs'
    target = folder / ('initramfs-%s-%s.cpio' % (kernel.version, digest))
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    archive = build_archive(kernel, busybox_bytes, init_script, module_paths)
    tmp = target.with_suffix('.tmp%d' % os.getpid())
    tmp.write_bytes(archive)
    os.rename(tmp, target)
    for old in folder.glob('initramfs-*.cpio'):
        if old != target:
            old.unlink()
    LOG.info('built %s (%d modules, %d KiB)', target, len(module_paths),
             len(archive) // 1024)
    return target
