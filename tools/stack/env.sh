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
# Sourced: the environment the Python side of the deployment reads (the
# stack settings, the admin credentials, the import path), without
# touching any state.  prepare.sh sources it after making a fresh state;
# `tools/demo status|down` source it alone, to act on a running demo.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export STACK_VENV STACK_STATE STACK_LOGS STACK_DATA STACK_RUN STACK_PASSWORD MYSQL_SOCKET
export MYSQL_PORT RABBIT_PORT MEMCACHED_PORT REDIS_PORT KEYSTONE_PORT GLANCE_PORT CINDER_PORT
export NOVA_PORT PLACEMENT_PORT NEUTRON_PORT STACK_NOVA
admin_env
# The lab's Python package from this checkout; the guests run the driver
# installed in the venv, as a site does.
export PYTHONPATH="$STACK_TOOLS:$REPO_ROOT"
export PYTHONWARNINGS=ignore::DeprecationWarning
