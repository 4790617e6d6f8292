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

"""Create the service project, users, services and endpoints (idempotent).

Runs with the admin credentials of the OS_* environment, in one process
(one CLI call per object would cost ~1.5 s each).
"""

import argparse

import openstack

SERVICES = (
    # (user, service name, service types, URL argument)
    ('glance', 'glance', ('image',), 'glance_url'),
    ('cinder', 'cinder', ('block-storage', 'volumev3'), 'cinder_url'),
)
NOVA_SERVICES = (
    ('nova', 'nova', ('compute',), 'nova_url'),
    ('placement', 'placement', ('placement',), 'placement_url'),
    ('neutron', 'neutron', ('network',), 'neutron_url'),
)


def ensure(find, create, name, **attrs):
    found = find(name)
    return found if found is not None else create(name=name, **attrs)


def ensure_endpoints(identity, service, url, internal_url=None):
    present = {e.interface for e in identity.endpoints(service_id=service.id)}
    for interface in ('public', 'internal', 'admin'):
        if interface not in present:
            identity.create_endpoint(
                service_id=service.id, interface=interface,
                url=internal_url if interface == 'internal' and internal_url
                else url, region_id='RegionOne')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--password', required=True)
    parser.add_argument('--glance-url', required=True)
    parser.add_argument('--cinder-url', required=True)
    parser.add_argument('--nova-url')
    parser.add_argument('--placement-url')
    parser.add_argument('--neutron-url')
    # cinder-volume in the lab nodes calls nova (volume-reimaged events)
    # through the guests' forward of the host's port: the internal
    # endpoint, which only the guests' cinder.conf selects.
    parser.add_argument('--nova-internal-url')
    args = parser.parse_args()
    services = SERVICES + (NOVA_SERVICES if args.nova_url else ())

    identity = openstack.connect().identity
    domain = identity.find_domain('default')
    project = ensure(identity.find_project, identity.create_project,
                     'service', domain_id=domain.id)
    admin_role = identity.find_role('admin')
    service_role = ensure(identity.find_role, identity.create_role, 'service')
    for user_name, service_name, types, url_arg in services:
        user = ensure(identity.find_user, identity.create_user, user_name,
                      domain_id=domain.id, password=args.password)
        for role in (admin_role, service_role):
            identity.assign_project_role_to_user(project, user, role)
        for service_type in types:
            service = next(identity.services(type=service_type), None)
            if service is None:
                service = identity.create_service(name=service_name,
                                                  type=service_type)
            ensure_endpoints(
                identity, service, getattr(args, url_arg),
                args.nova_internal_url if service_type == 'compute' else None)
    print('keystone: service project, users, services and endpoints ready')


if __name__ == '__main__':
    main()
