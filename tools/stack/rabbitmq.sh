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

# A private RabbitMQ node, AMQP and Erlang distribution on 127.0.0.1 only.

# The Debian wrappers in /usr/sbin switch to the rabbitmq user (another
# cookie); call the real scripts as root with our HOME instead.
rabbitmqctl() { /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

rabbitmq_env() {
    export HOME=$STACK_DATA/rabbitmq  # for the Erlang cookie
    export RABBITMQ_NODENAME=rabbit@localhost
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT
    export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
    export RABBITMQ_MNESIA_BASE=$STACK_DATA/rabbitmq/mnesia
    export RABBITMQ_LOG_BASE=$STACK_LOGS/rabbitmq
    export RABBITMQ_PID_FILE=$STACK_RUN/rabbitmq-beam.pid
    export RABBITMQ_ENABLED_PLUGINS_FILE=$STACK_DATA/rabbitmq/enabled_plugins
    export RABBITMQ_CONFIG_FILE=$STACK_DATA/rabbitmq/rabbitmq
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
}

rabbitmq_start() {
    mkdir -p "$STACK_DATA/rabbitmq" "$STACK_LOGS/rabbitmq"
    (
        rabbitmq_env
        [ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
        # epmd first, ours and loopback-only, so that `down` can stop it by PID.
        start_daemon epmd epmd -address 127.0.0.1 -port "$EPMD_PORT"
        start_daemon rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
        wait_for RabbitMQ 90 rabbitmqctl -q await_startup
        rabbitmqctl -q list_users | grep -q '^openstack' \
            || rabbitmqctl -q add_user openstack "$STACK_PASSWORD" >/dev/null
        rabbitmqctl -q set_permissions openstack '.*' '.*' '.*' >/dev/null
    )
}

rabbitmq_stop() {
    stop_daemon rabbitmq
    stop_daemon epmd
}
