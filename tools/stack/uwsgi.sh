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
# Run a WSGI application under uWSGI on 127.0.0.1.

# uwsgi_start NAME PORT MODULE [EXTRA UWSGI ARGS...]
uwsgi_start() {
    local name=$1 port=$2 module=$3; shift 3
    # --die-on-term: SIGTERM stops uWSGI (its default is to reload).
    # keepalive/auto-chunked/Connection: close avoid "Connection reset by
    # peer" on a client's second request over one connection.
    start_daemon "$name" uwsgi --master --need-app --die-on-term \
        --http-socket "127.0.0.1:$port" --module "$module" \
        --processes 2 --threads 2 --buffer-size 65535 \
        --http-keepalive --http-auto-chunked --add-header "Connection: close" \
        --disable-logging "$@"
    wait_for "$name" 120 curl -sf -o /dev/null "http://127.0.0.1:$port/"
}
