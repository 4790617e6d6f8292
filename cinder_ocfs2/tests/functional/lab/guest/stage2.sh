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

# PID 1 of the guest once /init chrooted into the overlay root; runs with
# the host's /bin/sh.  Mounts the node's scratch disk if it has one, then
# keeps the agent running; the agent exits 0 on a POWEROFF request (after
# unmounting OCFS2), then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
cd /

# The node's own disk (formatted on the host at every up), mounted as a
# site's fstab mounts a local disk; online discard gives the host back the
# space of deleted files.
LAB_SCRATCH_MOUNT=$(. /lab/node.env && echo "$LAB_SCRATCH_MOUNT")
if [ -n "$LAB_SCRATCH_MOUNT" ]; then
    mkdir -p "$LAB_SCRATCH_MOUNT"
    if ! mount -t ext4 -o noatime,discard /dev/disk/by-id/virtio-scratch \
            "$LAB_SCRATCH_MOUNT"; then
        echo "LAB-BOOT-FAILED: cannot mount the scratch disk at" \
            "$LAB_SCRATCH_MOUNT"
        /bin/busybox poweroff -f
    fi
fi

while :; do
    /usr/bin/python3 /lab/agent.py
    status=$?
    [ "$status" -eq 0 ] && break
    echo "lab-stage2: agent exited with $status, restarting"
    sleep 1
done
sync
echo "lab-stage2: powering off"
/bin/busybox poweroff -f
