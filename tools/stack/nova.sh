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
# Placement, neutron's API and nova's control plane (API, conductor,
# scheduler) on the host.  nova-compute runs in the lab nodes, where the
# LUNs are mounted (see guest.py).  Neutron is real (ML2, no agents, no
# networks): nova asks it about ports on every server show and delete,
# and the servers here have none (--nic none).

placement_start() {
    local dir=$STACK_ETC/placement
    placement-manage --config-file "$dir/placement.conf" db sync \
        >>"$STACK_LOGS/placement-manage.log" 2>&1 \
        || die "placement-manage db sync failed: see $STACK_LOGS/placement-manage.log"
    uwsgi_start placement "$PLACEMENT_PORT" placement.wsgi.api:application \
        --env OS_PLACEMENT_CONFIG_DIR="$dir"
}

neutron_start() {
    local dir=$STACK_ETC/neutron
    neutron-db-manage --config-file "$dir/neutron.conf" \
        --config-file "$dir/plugins/ml2/ml2_conf.ini" upgrade heads \
        >>"$STACK_LOGS/neutron-db-manage.log" 2>&1 \
        || die "neutron-db-manage failed: see $STACK_LOGS/neutron-db-manage.log"
    # neutron_api.py: neutron's WSGI application with its ORM mappers set
    # up first (a neutron 29 bug otherwise fails each worker's first
    # port list).  --lazy-apps: the plugin and its database engine are
    # built in each worker, after the fork.
    uwsgi_start neutron "$NEUTRON_PORT" neutron_api:application \
        --pythonpath "$STACK_TOOLS" --lazy-apps \
        --env OS_NEUTRON_CONFIG_DIR="$dir"
}

nova_start() {
    local conf=$STACK_ETC/nova/nova.conf log=$STACK_LOGS/nova-manage.log
    nova_manage api_db sync
    # cell0 and cell1: both from nova.conf's [database] (cell0 is the same
    # URL with _cell0 appended) and transport_url.  Both are idempotent
    # only in effect: create_cell fails (exit 2) when cell1 exists.
    nova_manage cell_v2 map_cell0
    if ! nova_manage_quiet cell_v2 list_cells | grep -q ' cell1 '; then
        nova_manage cell_v2 create_cell --name cell1
    fi
    nova_manage db sync
    # --lazy-apps: nova's API builds thread pools at load, which must not
    # be inherited across uWSGI's fork.
    uwsgi_start nova-api "$NOVA_PORT" nova.wsgi.osapi_compute:application \
        --lazy-apps --env OS_NOVA_CONFIG_DIR="$STACK_ETC/nova"
    start_daemon nova-conductor nova-conductor --config-file "$conf"
    start_daemon nova-scheduler nova-scheduler --config-file "$conf"
}

# nova-manage without eventlet (nova 34 runs threaded; manage would warn).
nova_manage_quiet() {
    OS_NOVA_DISABLE_EVENTLET_PATCHING=1 \
        nova-manage --config-file "$STACK_ETC/nova/nova.conf" "$@" 2>>"$STACK_LOGS/nova-manage.log"
}

nova_manage() {
    nova_manage_quiet "$@" >>"$STACK_LOGS/nova-manage.log" \
        || die "nova-manage $* failed: see $STACK_LOGS/nova-manage.log"
}

# nova_computes_up N: N nova-compute services report up.
nova_computes_up() {
    [ "$(openstack compute service list --service nova-compute -f value -c State \
        | grep -c '^up$')" -ge "$1" ]
}
