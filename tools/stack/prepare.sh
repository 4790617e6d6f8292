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
# Sourced by tools/walkthrough, tools/tempest and `tools/demo up`: a fresh
# deployment state (the previous logs are kept in $STACK_LOGS.previous) and
# the environment the Python side reads (env.sh).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

refuse_if_running
rm -rf "$STACK_DATA" "$STACK_ETC" "$STACK_RUN" "$STACK_LOGS.previous"
[ -d "$STACK_LOGS" ] && mv "$STACK_LOGS" "$STACK_LOGS.previous"
mkdir -p "$STACK_LOGS"

. "$STACK_TOOLS/env.sh"
