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

# Render the host's configuration files into $STACK_ETC.  Sourced by stack.

render() {  # render TEMPLATE DEST: substitute ${VAR}s from the environment
    local vars
    vars=$(grep -o '${[A-Z_]*}' "$1" | sort -u | tr -d '\n')
    mkdir -p "$(dirname "$2")"
    envsubst "$vars" <"$1" >"$2"
}

render_host_configs() {
    export STACK_PASSWORD STACK_DATA STACK_ETC STACK_VENV MYSQL_PORT \
        RABBIT_PORT MEMCACHED_PORT REDIS_PORT KEYSTONE_PORT GLANCE_PORT CINDER_PORT
    render "$STACK_TOOLS/etc/keystone.conf.in" "$STACK_ETC/keystone/keystone.conf"
    render "$STACK_TOOLS/etc/glance-api.conf.in" "$STACK_ETC/glance/glance-api.conf"
    cp "$STACK_VENV/etc/glance/glance-api-paste.ini" "$STACK_ETC/glance/"
    (
        # The scheduler keeps a clustered volume's member host on retype in
        # place and manage (cinder_ocfs2/scheduler.py).
        export SERVICES_IP=127.0.0.1 CINDER_MY_IP=127.0.0.1 \
            CINDER_STATE_PATH=$STACK_DATA/cinder CINDER_ETC=$STACK_ETC/cinder \
            CINDER_DEBUG=false CINDER_EXTRA_SECTIONS= \
            CINDER_EXTRA_DEFAULT="scheduler_driver = cinder_ocfs2.scheduler.ClusterMemberFilterScheduler"
        render "$STACK_TOOLS/etc/cinder.conf.in" "$STACK_ETC/cinder/cinder.conf"
        render "$STACK_TOOLS/etc/rootwrap.conf.in" "$STACK_ETC/cinder/rootwrap.conf"
    )
    mkdir -p "$STACK_DATA/cinder/locks" "$STACK_DATA/glance/images" \
        "$STACK_DATA/glance/staging" "$STACK_DATA/glance/tasks"
    [ "$STACK_NOVA" = 1 ] && render_nova_configs
    return 0
}

render_nova_configs() {
    export NOVA_PORT PLACEMENT_PORT NEUTRON_PORT
    render "$STACK_TOOLS/etc/placement.conf.in" "$STACK_ETC/placement/placement.conf"
    render "$STACK_TOOLS/etc/neutron.conf.in" "$STACK_ETC/neutron/neutron.conf"
    mkdir -p "$STACK_ETC/neutron/plugins/ml2"
    cp "$STACK_TOOLS/etc/ml2_conf.ini" "$STACK_ETC/neutron/plugins/ml2/"
    cp "$STACK_VENV/etc/neutron/api-paste.ini" "$STACK_ETC/neutron/"
    render "$STACK_TOOLS/etc/nova.conf.in" "$STACK_ETC/nova/nova.conf"
    # nova's WSGI app loads the first of OS_NOVA_CONFIG_FILES
    # (api-paste.ini;nova.conf) as its paste file.
    cp "$STACK_VENV/etc/nova/api-paste.ini" "$STACK_ETC/nova/"
    mkdir -p "$STACK_DATA/nova/locks" "$STACK_DATA/neutron/locks"
}
