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


"""A long-lived OCFS2Driver in a lab guest, driven through request files.

Importing cinder in a TCG guest takes ~40 s, so each node runs one server
for the whole functional run instead of one process per test. The host
writes ``req-<n>.json`` into the node's exchange folder; the server calls
the real driver on the node's real OCFS2 mounts and writes
``resp-<n>.json``. Volume and snapshot objects are cinder's own objects
built from plain specs; only their database saves are switched off (there
is no cinder database in the guest).

    python -m cinder_ocfs2.tests.functional.driver_server /lab/driver
"""

import json
import os
import socket
import sys
import time
import traceback

POLL_SECONDS = 0.05
# The group type of a group spec that names none.
LAB_GROUP_TYPE = '0a1b2c3d-0000-4000-8000-00000000a0a0'


def _write_json(path, data):
    temp = path + '.tmp'
    with open(temp, 'w') as out:
        json.dump(data, out, default=str)
    os.rename(temp, path)


class DriverServer:
    """Holds one driver per configuration and answers requests."""

    def __init__(self, exchange):
        self.exchange = exchange
        from cinder import context
        from cinder import objects
        # Imported now, not on first use: importing cinder's test package
        # takes seconds in a guest and would be counted in a driver call.
        from cinder.tests.unit import fake_group  # noqa: F401
        from cinder.tests.unit import fake_group_snapshot  # noqa: F401
        from cinder.tests.unit import fake_snapshot  # noqa: F401
        from cinder.tests.unit import fake_volume  # noqa: F401
        from oslo_config import cfg
        from oslo_log import log

        from cinder_ocfs2 import driver  # noqa: F401

        import cinder.privsep

        # The server runs as root in the guest: privileged calls (cinder's
        # image format inspector, o2hb liveness) run in this process, as
        # they would in the privsep daemon that cinder-volume starts.
        cinder.privsep.sys_admin_pctxt.set_client_mode(False)
        objects.register_all()
        # No cinder database here: saving an object is a no-op, and no
        # other volume owns a file.
        for cls in (objects.Volume, objects.Snapshot):
            cls.save = lambda self: None
        objects.VolumeList.get_all = classmethod(
            lambda cls, *args, **kwargs: cls(objects=[]))
        # Nor does another snapshot own a snapshot-<id> file.
        objects.SnapshotList.get_all = classmethod(
            lambda cls, *args, **kwargs: cls(objects=[]))
        # Group types are the ones the requests' groups declare.
        self.group_types = {}
        from cinder.volume import group_types
        group_types.get_group_type = (
            lambda ctxt, type_id, expected_fields=None:
            self.group_types[type_id])
        log.register_options(cfg.CONF)
        cfg.CONF([], project='cinder')
        cfg.CONF.set_override('log_file',
                              os.path.join(exchange, 'server.log'))
        cfg.CONF.set_override('debug', True)
        log.setup(cfg.CONF, 'cinder')
        self.conf = cfg.CONF
        self.context = context.get_admin_context()
        self.drivers = {}

    def driver(self, overrides):
        key = json.dumps(overrides or {}, sort_keys=True)
        if key not in self.drivers:
            from cinder.volume import configuration
            from cinder.volume import driver as base_driver

            from cinder_ocfs2 import driver

            group = 'ocfs2_%d' % len(self.drivers)
            config = configuration.Configuration(base_driver.volume_opts,
                                                 config_group=group)
            # Named as cinder-volume names a backend's host and cluster,
            # so that the two nodes' drivers are two members of one
            # active-active backend.
            instance = driver.OCFS2Driver(
                configuration=config,
                host='%s@ocfs2' % socket.gethostname(),
                cluster_name='labcluster@ocfs2')
            self.conf.set_override('volume_backend_name', 'ocfs2',
                                   group=group)
            for name, value in (overrides or {}).items():
                self.conf.set_override(name, value, group=group)
            instance.do_setup(self.context)
            instance.check_for_setup_error()
            self.drivers[key] = instance
        return self.drivers[key]

    def volume(self, spec):
        from cinder.tests.unit import fake_volume

        volume = fake_volume.fake_volume_obj(
            self.context, id=spec['id'], size=spec['size'],
            host='lab@ocfs2#%s' % spec.get('pool', ''),
            status=spec.get('status', 'available'),
            previous_status=spec.get('previous_status'),
            attach_status=spec.get('attach_status', 'detached'),
            provider_location=spec.get('provider_location'),
            snapshot_id=spec.get('snapshot_id'),
            source_volid=spec.get('source_volid'))
        volume.admin_metadata = {'format': spec.get('format', 'raw')}
        return volume

    def snapshot(self, spec):
        from cinder.tests.unit import fake_snapshot

        volume = self.volume(spec['volume'])
        snapshot = fake_snapshot.fake_snapshot_obj(
            self.context, id=spec['id'], volume_id=volume.id,
            volume_size=spec['volume']['size'],
            status=spec.get('status', 'available'))
        snapshot.volume = volume
        return snapshot

    def _group_type(self, spec):
        """Register the group type a group spec declares; its id."""
        type_id = spec.get('group_type_id', LAB_GROUP_TYPE)
        self.group_types[type_id] = {
            'id': type_id, 'group_specs': spec.get('group_specs', {})}
        return type_id

    def group(self, spec):
        """A group: {'id', optional 'group_type_id', 'group_specs'}."""
        from cinder.tests.unit import fake_group

        return fake_group.fake_group_obj(
            self.context, id=spec['id'], group_type_id=self._group_type(spec))

    def group_snapshot(self, spec):
        """A group snapshot: {'id', 'group': group spec}."""
        from cinder.tests.unit import fake_group_snapshot

        return fake_group_snapshot.fake_group_snapshot_obj(
            self.context, id=spec['id'], group_id=spec['group']['id'],
            group_type_id=self._group_type(spec['group']))

    def handle(self, request):
        driver = self.driver(request.get('config'))
        method = request['method']
        args = []
        for kind, spec in request.get('args', []):
            if kind == 'volume':
                args.append(self.volume(spec))
            elif kind == 'snapshot':
                args.append(self.snapshot(spec))
            elif kind == 'volumes':
                args.append([self.volume(each) for each in spec])
            elif kind == 'snapshots':
                args.append([self.snapshot(each) for each in spec])
            elif kind == 'group':
                args.append(self.group(spec))
            elif kind == 'group_snapshot':
                args.append(self.group_snapshot(spec))
            elif kind == 'context':
                args.append(self.context)
            elif kind == 'image_service':
                args.append(LocalImageService(spec))
            else:
                args.append(spec)
        if method == 'get_volume_stats':
            return driver.get_volume_stats(refresh=True), {}
        result = getattr(driver, method)(*args)
        # What the driver recorded in each volume's admin metadata (the
        # file format): there is no database to read it back from.
        recorded = {arg.id: dict(arg.admin_metadata) for arg in args
                    if type(arg).__name__ == 'Volume'}
        return result, recorded

    def serve(self):
        _write_json(os.path.join(self.exchange, 'ready.json'),
                    {'pid': os.getpid()})
        done = set()
        while not os.path.exists(os.path.join(self.exchange, 'STOP')):
            pending = sorted(
                (name for name in os.listdir(self.exchange)
                 if name.startswith('req-') and name.endswith('.json') and
                 name not in done),
                key=lambda name: int(name[4:-5]))
            if not pending:
                time.sleep(POLL_SECONDS)
                continue
            for name in pending:
                done.add(name)
                self.answer(name)

    def answer(self, name):
        with open(os.path.join(self.exchange, name)) as request_file:
            request = json.load(request_file)
        started = time.monotonic()
        try:
            result, recorded = self.handle(request)
            response = {'ok': True, 'result': result,
                        'admin_metadata': recorded}
        except Exception as err:
            response = {'ok': False, 'error': type(err).__name__,
                        'message': str(err),
                        'traceback': traceback.format_exc()}
        response['seconds'] = time.monotonic() - started
        _write_json(os.path.join(self.exchange, 'resp-' + name[4:]),
                    response)


class LocalImageService:
    """Serves one file of the guest as a glance image."""

    def __init__(self, spec):
        self.path = spec['path']
        self.disk_format = spec.get('disk_format', 'raw')
        # As cinder's GlanceImageService: no temporary image cache.
        self.temp_images = None

    def show(self, context, image_id):
        return {'id': image_id, 'status': 'active',
                'size': os.path.getsize(self.path),
                'disk_format': self.disk_format,
                'container_format': 'bare', 'properties': {}}

    def download(self, context, image_id, data=None):
        import shutil

        with open(self.path, 'rb') as image:
            shutil.copyfileobj(image, data)


def main():
    exchange = sys.argv[1]
    os.makedirs(exchange, exist_ok=True)
    DriverServer(exchange).serve()


if __name__ == '__main__':
    main()
