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

# Settings and helpers shared by the stack scripts.  Sourced, never run.
# Every service binds 127.0.0.1; every setting can be overridden from the
# environment.

STACK_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_TOOLS/../.." && pwd)

STACK_VENV=${STACK_VENV:-/opt/cinder-ocfs2-stack/venv}
STACK_STATE=${STACK_STATE:-/var/tmp/cinder-ocfs2-stack}
STACK_LOGS=${STACK_LOGS:-$STACK_STATE/logs}
STACK_ETC=$STACK_STATE/etc
STACK_RUN=$STACK_STATE/run
STACK_DATA=$STACK_STATE/data
STACK_PASSWORD=${STACK_PASSWORD:-stack-secret}
STACK_HOST=127.0.0.1

MYSQL_PORT=${MYSQL_PORT:-3306}
RABBIT_PORT=${RABBIT_PORT:-5672}
EPMD_PORT=${EPMD_PORT:-4369}
MEMCACHED_PORT=${MEMCACHED_PORT:-11211}
REDIS_PORT=${REDIS_PORT:-6379}
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
GLANCE_PORT=${GLANCE_PORT:-9292}
CINDER_PORT=${CINDER_PORT:-8776}
NOVA_PORT=${NOVA_PORT:-8774}
PLACEMENT_PORT=${PLACEMENT_PORT:-8778}
NEUTRON_PORT=${NEUTRON_PORT:-9696}
# 1: nova (api, conductor, scheduler), placement and neutron's API run on
# the host and nova-compute in the lab nodes; 0: cinder alone.
STACK_NOVA=${STACK_NOVA:-1}
# A host port as the lab guests reach it (qemu guestfwd, lab/config.py
# FORWARD_HOST_ADDRESS).
GUEST_FORWARD_IP=10.0.2.100

KEYSTONE_URL=http://$STACK_HOST:$KEYSTONE_PORT/v3
MYSQL_SOCKET=$STACK_RUN/mysqld.sock

export PATH="$STACK_VENV/bin:$PATH"

say() { printf '%s [stack] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

pid_file() { echo "$STACK_RUN/$1.pid"; }

# running NAME: true if the PID recorded for NAME is alive.
running() {
    local pid
    pid=$(cat "$(pid_file "$1")" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# refuse_if_running: die if any service of a deployment (the walkthrough's,
# tempest's, the demo's) runs: one deployment at a time, and never a fresh
# state or a venv reinstall under a running one.
refuse_if_running() {
    local pidfile
    for pidfile in "$STACK_RUN"/*.pid; do
        [ -e "$pidfile" ] || continue
        running "$(basename "$pidfile" .pid)" \
            && die "a deployment is running ($pidfile): stop it first" \
                "(tools/demo down, or tools/stack/stack down)"
    done
    return 0
}

# start_daemon NAME COMMAND...: run COMMAND in its own session, output to
# $STACK_LOGS/NAME.log, PID recorded in $STACK_RUN/NAME.pid.
start_daemon() {
    local name=$1; shift
    if running "$name"; then
        say "$name already running (pid $(cat "$(pid_file "$name")"))"
        return 0
    fi
    setsid "$@" >>"$STACK_LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$(pid_file "$name")"
    say "$name started (pid $!, log $STACK_LOGS/$name.log)"
}

# stop_daemon NAME: SIGTERM the recorded PID, wait up to 30 s, then SIGKILL.
# Only the PID we recorded is signalled, never a process found by name.
stop_daemon() {
    local name=$1 pid i
    pid=$(cat "$(pid_file "$name")" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) ignored SIGTERM for 30 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        say "$name stopped (pid $pid)"
    fi
    rm -f "$(pid_file "$name")"
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll COMMAND until it succeeds.
wait_for() {
    local what=$1 limit=$2 start=$SECONDS; shift 2
    until "$@" >/dev/null 2>&1; do
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            die "$what not ready after ${limit}s (logs in $STACK_LOGS)"
        fi
        sleep 0.5
    done
    say "$what ready after $((SECONDS - start))s"
}

port_open() { (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null; }

# Credentials of the admin user, for the openstack CLI.
admin_env() {
    export OS_AUTH_URL=$KEYSTONE_URL OS_IDENTITY_API_VERSION=3
    export OS_USERNAME=admin OS_PASSWORD=$STACK_PASSWORD
    export OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default
    export OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne
    export OS_VOLUME_API_VERSION=3
}
