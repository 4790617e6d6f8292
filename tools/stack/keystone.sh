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
# Keystone under uWSGI, bootstrapped with an admin and the service users.

keystone_start() {
    local conf=$STACK_ETC/keystone/keystone.conf
    mkdir -p "$STACK_DATA/keystone/fernet-keys" "$STACK_DATA/keystone/credential-keys"
    keystone-manage --config-file "$conf" db_sync >>"$STACK_LOGS/keystone-manage.log" 2>&1
    if [ ! -f "$STACK_DATA/keystone/fernet-keys/0" ]; then
        keystone-manage --config-file "$conf" fernet_setup \
            --keystone-user root --keystone-group root >>"$STACK_LOGS/keystone-manage.log" 2>&1
        keystone-manage --config-file "$conf" credential_setup \
            --keystone-user root --keystone-group root >>"$STACK_LOGS/keystone-manage.log" 2>&1
    fi
    keystone-manage --config-file "$conf" bootstrap \
        --bootstrap-password "$STACK_PASSWORD" \
        --bootstrap-admin-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
        --bootstrap-internal-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
        --bootstrap-public-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
        --bootstrap-region-id RegionOne >>"$STACK_LOGS/keystone-manage.log" 2>&1
    uwsgi_start keystone "$KEYSTONE_PORT" keystone.wsgi.api:application \
        --env OS_KEYSTONE_CONFIG_FILES="$conf"
    admin_env
    local nova_args=()
    if [ "$STACK_NOVA" = 1 ]; then
        nova_args=(--nova-url "http://127.0.0.1:$NOVA_PORT/v2.1"
                   --nova-internal-url "http://$GUEST_FORWARD_IP:$NOVA_PORT/v2.1"
                   --placement-url "http://127.0.0.1:$PLACEMENT_PORT"
                   --neutron-url "http://127.0.0.1:$NEUTRON_PORT")
    fi
    python3 "$STACK_TOOLS/keystone_setup.py" \
        --password "$STACK_PASSWORD" \
        --glance-url "http://127.0.0.1:$GLANCE_PORT" \
        --cinder-url "http://127.0.0.1:$CINDER_PORT/v3" "${nova_args[@]}"
}
