# Copyright 2025 The cinder-ocfs2 Authors
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
# cinder-api and cinder-scheduler on the host.  cinder-volume and
# cinder-backup run in the lab guests (see guest.py): only they see OCFS2.

cinder_start() {
    local conf=$STACK_ETC/cinder/cinder.conf
    cinder-manage --config-file "$conf" db sync >>"$STACK_LOGS/cinder-manage.log" 2>&1 \
        || die "cinder-manage db sync failed: see $STACK_LOGS/cinder-manage.log"
    start_daemon cinder-api cinder-api --config-file "$conf"
    start_daemon cinder-scheduler cinder-scheduler --config-file "$conf"
    wait_for cinder-api 120 curl -sf -o /dev/null "http://127.0.0.1:$CINDER_PORT/"
    admin_env
    wait_for cinder-scheduler 120 scheduler_up
}

scheduler_up() {
    openstack volume service list --service cinder-scheduler -f value -c State | grep -q up
}
