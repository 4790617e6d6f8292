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

"""tempest.conf for this deployment.

storage_protocol and vendor_name come from what the driver reports
(``cinder get-pools --detail``); the feature flags say what the driver
supports; swift is absent, and so are nova and neutron unless the
deployment runs them (STACK_NOVA=1): then the servers boot the
boot-sector images (tools/stack/servers.py) with --nic none semantics
(no networks exist, tempest creates none).
"""

TEMPLATE = """\
[DEFAULT]
log_file = tempest.log

[auth]
admin_username = admin
admin_password = {password}
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = true
create_isolated_networks = false

[identity]
uri_v3 = {keystone_url}
auth_version = v3
region = RegionOne

[identity-feature-enabled]
api_v3 = true

[service_available]
cinder = true
glance = true
nova = {nova}
neutron = {nova}
swift = false

[compute]
# Volume-from-image tests take their image from here.
image_ref = {image_id}
{compute_extra}
[compute-feature-enabled]
# The backend reports multiattach (raw files on a cluster filesystem).
volume_multiattach = true
{compute_features}
[validation]
run_validation = false

[volume]
catalog_type = block-storage
backend_names = {backend_names}
volume_type = ocfs2
storage_protocol = {storage_protocol}
vendor_name = {vendor_name}
backup_driver = posix
min_microversion = 3.0
max_microversion = latest
volume_size = 1
# The name an unmanaged snapshot's file keeps (tempest's default is
# _snapshot-%s).
manage_snapshot_ref = source-name,snapshot-%s
# TCG guests: importing and copying take longer than on real hosts.
build_timeout = 600

[volume-feature-enabled]
backup = true
snapshot = true
clone = true
extend_volume_with_snapshot = true
# RemoteFS revert is overridden with reflink copies.
volume_revert = true
# nova's file volume driver (gpfs) cannot grow a disk under a running
# guest; the driver reports online_extend_support = False.
extend_attached_volume = false
# Volumes: a file in a LUN root, named volume-<id> after an unmanage;
# snapshots of raw volumes keep their file, snapshot-<id> (both backends
# here are raw: a qcow2 backend cannot manage snapshots).
manage_volume = true
manage_snapshot = true
multi_backend = {multi_backend}
replication = false
# The consistency group API asks for a group type with
# consistent_group_snapshot_enabled, which the driver refuses: it snapshots
# group members one after another (generic groups run in test_groups).
consistency_group = false
# Several volumes/snapshots at once on the two active-active services.
concurrency_tests = true
"""


def pool_properties(get_pools_output):
    """{property: value} of the first pool in `cinder get-pools --detail`."""
    properties = {}
    for line in get_pools_output.splitlines():
        cells = [cell.strip() for cell in line.split('|')]
        if len(cells) == 4 and cells[1] and cells[1] != 'Property':
            if cells[1] in properties:  # the next pool starts
                break
            properties[cells[1]] = cells[2]
    return properties


# With nova: the boot-sector images and a tiny flavor; both lab nodes run
# nova-compute and share the LUNs, so a volume-backed server migrates
# live with no disk copy.  Servers have no network: nothing in the guest
# can be reached, and the guest is a boot sector, not an OS that detaches
# or resizes on request.
COMPUTE_EXTRA = """image_ref_alt = {image_alt}
flavor_ref = {flavor}
flavor_ref_alt = {flavor}
min_compute_nodes = 2
build_timeout = 600
fixed_network_name =
# Tests pinned to a compute microversion (2.20 attach to a stopped server,
# 2.60 multiattach) skip unless the range reaches theirs.
min_microversion = 2.1
max_microversion = latest
"""
COMPUTE_FEATURES = """live_migration = true
volume_backed_live_migration = true
block_migration_for_live_migration = false
console_output = true
vnc_console = false
spice_console = false
serial_console = false
# No guest OS: nothing answers the ACPI calls these need.
suspend = false
pause = false
shelve = false
rescue = false
resize = false
cold_migration = false
snapshot = false
change_password = false
interface_attach = false
config_drive = false
metadata_service = false
"""


def render(password, keystone_url, image_id, get_pools_output,
           backend_names, compute=None):
    """The text of tempest.conf.

    compute: {image_ref, image_ref_alt, flavor_ref} of the boot-sector
    images when nova runs, else None.
    """
    pool = pool_properties(get_pools_output)
    missing = {'storage_protocol', 'vendor_name'} - set(pool)
    if missing:
        raise ValueError('cinder get-pools --detail reported no %s'
                         % ', '.join(sorted(missing)))
    if compute:
        image_id = compute['image_ref']
    return TEMPLATE.format(password=password, keystone_url=keystone_url,
                           image_id=image_id,
                           nova=str(bool(compute)).lower(),
                           compute_extra=COMPUTE_EXTRA.format(
                               image_alt=compute['image_ref_alt'],
                               flavor=compute['flavor_ref'])
                           if compute else '',
                           compute_features=COMPUTE_FEATURES
                           if compute else '',
                           backend_names=','.join(backend_names),
                           multi_backend=str(len(backend_names) > 1).lower(),
                           storage_protocol=pool['storage_protocol'],
                           vendor_name=pool['vendor_name'])
