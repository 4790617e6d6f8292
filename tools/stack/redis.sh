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

# Redis: cinder's coordination backend (tooz), reached by every cinder
# process, host and guests alike, so that its locks span the nodes.

redis_start() {
    mkdir -p "$STACK_DATA/redis"
    start_daemon redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --dir "$STACK_DATA/redis" --save '' --appendonly no --daemonize no
    wait_for Redis 20 port_open "$REDIS_PORT"
}
