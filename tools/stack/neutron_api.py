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

"""neutron.wsgi.api with SQLAlchemy's mappers configured up front.

Without this, the first GET /v2.0/ports of a fresh neutron-api process
fails with 500 (AttributeError: Port has no attribute 'port_forwardings',
neutron/db/db_base_plugin_v2.py get_ports) when no other ORM query ran
before it.
"""
from sqlalchemy import orm

from neutron.wsgi import api

orm.configure_mappers()
application = api.application
