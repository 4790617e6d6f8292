#!/bin/sh
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

# /init of the lab's initramfs (busybox sh, PID 1).  Loads the modules,
# builds the guest root (the host's / read-only over 9p, a tmpfs overlay on
# top), mounts the node's exchange folder at /lab, sets the node up from
# /lab/node.env (host name, addresses, device links, o2cb files) and execs
# /lab/stage2.sh in the new root.  Setup is done here with the static
# busybox because under TCG every dynamically linked program costs ~0.1 s.
# The root must become PID 1's own root (exec chroot): the kernel runs
# usermode helpers such as /sbin/ocfs2_hb_ctl through PID 1's root.
export PATH=/bin
new=/newroot

stamp() {
    read -r up _ < /proc/uptime || read -r up _ < $new/proc/uptime
    echo "lab-init: [$up] $*"
}

fail() {
    echo "LAB-BOOT-FAILED: $*"
    poweroff -f
    sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
stamp "started"
while read -r module; do
    insmod "/$module" || echo "lab-init: insmod $module failed"
done < /etc/lab-modules
stamp "modules loaded"

# lab.rootcache=loose|none|mmap on the kernel command line picks the 9p
# cache mode of the host root; loose is faster but misses host changes.
rootcache=loose
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        lab.rootcache=*) rootcache=${arg#lab.rootcache=} ;;
    esac
done
p9opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$p9opts,ro,cache=$rootcache" hostroot /host \
    || fail "cannot mount the host root over virtio-9p"
mount -t tmpfs -o mode=755 tmpfs /rw || fail "cannot mount the tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work \
    overlay $new || fail "cannot mount the overlay root"
mkdir -p $new/lab
mount -t 9p -o "$p9opts" lab $new/lab \
    || fail "cannot mount the exchange folder /lab"
[ -r $new/lab/stage2.sh ] && [ -r $new/lab/node.env ] \
    || fail "/lab/stage2.sh or /lab/node.env is missing"
. $new/lab/node.env

# modprobe in the guest finds this kernel's modules where it expects them.
kernel=$(cat /etc/lab-kernel)
mkdir -p "$new/lib/modules/$kernel"
mount -o bind "/lib/modules/$kernel" "$new/lib/modules/$kernel"

# /dev/disk/by-id/virtio-<serial>, as udev would make them.
mkdir -p /dev/disk/by-id /dev/pts /dev/shm
for disk in /sys/block/vd*; do
    [ -r "$disk/serial" ] || continue
    read -r serial < "$disk/serial"
    [ -n "$serial" ] && ln -s "../../${disk##*/}" \
        "/dev/disk/by-id/virtio-$serial"
done
ln -s /proc/self/fd /dev/fd
for fs in proc sys dev; do
    mount -o move "/$fs" "$new/$fs" || fail "cannot move /$fs"
done
mount -t devpts -o mode=620,ptmxmode=000 devpts $new/dev/pts
mount -t tmpfs tmpfs $new/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $new/tmp
mount -t tmpfs -o mode=755 tmpfs $new/run
mkdir -p $new/run/lock
# Host folders to see without caching (the project tree): tags fresh<N>.
# Mounted after the guest's own /tmp and /run, so a project cloned below
# /tmp on the host is still seen at the same path in the guest.
index=0
IFS=:
for path in $LAB_FRESH_PATHS; do
    mkdir -p "$new$path"
    mount -t 9p -o "$p9opts,ro,cache=none" "fresh$index" "$new$path" \
        || fail "cannot mount $path uncached"
    index=$((index + 1))
done
unset IFS
stamp "root ready"
mount -t configfs configfs $new/sys/kernel/config \
    || fail "cannot mount configfs"
# debugfs, as systemd mounts it on Debian: o2hb shows there which nodes
# are live (/sys/kernel/debug/o2hb/livenodes), read by cinder-ocfs2.
mount -t debugfs debugfs $new/sys/kernel/debug \
    || fail "cannot mount debugfs"

# Host name, addresses (interfaces found by MAC: there is no udev).
hostname "$LAB_NODE"
echo "$LAB_NODE" > $new/etc/hostname
cp $new/lab/hosts $new/etc/hosts
ip link set lo up
for iface in $new/sys/class/net/*; do
    read -r mac < "$iface/address"
    name=${iface##*/}
    if [ "$mac" = "$LAB_CLUSTER_MAC" ]; then
        ip addr add "$LAB_CLUSTER_ADDRESS" dev "$name"
        ip link set "$name" up
    elif [ -n "$LAB_FORWARD_MAC" ] && [ "$mac" = "$LAB_FORWARD_MAC" ]; then
        ip addr add "$LAB_FORWARD_ADDRESS" dev "$name"
        ip link set "$name" up
    fi
done

# What the o2cb init script does at boot, minus registering the cluster.
mkdir -p $new/dlm $new/etc/ocfs2 $new/etc/default "$new$LAB_MOUNT_BASE"
mount -t ocfs2_dlmfs ocfs2_dlmfs $new/dlm || fail "cannot mount dlmfs"
cp $new/lab/o2cb.default $new/etc/default/o2cb
rm -f $new/etc/ocfs2/cluster.conf
stamp "node set up"
exec chroot $new /bin/sh /lab/stage2.sh
fail "exec chroot failed"
