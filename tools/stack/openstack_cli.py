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

"""The real ``openstack``/``cinder`` CLIs, printed, plus quiet status polls.

Every user-visible step goes through the CLI with keystone auth (the OS_*
environment), so the transcript shows exactly what a user types.  Waiting
for a status is a quiet poll, printed once at the end.
"""

import time

from transcript import StepFailed

# Statuses after which waiting longer cannot help.
FAILED = ('error', 'error_deleting', 'error_extending', 'error_restoring',
          'error_managing', 'killed', 'deleted')
# Kinds named by more than the noun (`openstack volume group snapshot`).
GROUP_KINDS = ('group', 'group snapshot')


class Cloud:

    def __init__(self, transcript, api_version='3.70'):
        self.t = transcript
        self.api_version = api_version

    def openstack(self, *args, quiet=False):
        return self.t.run(['openstack', '--os-volume-api-version',
                           self.api_version] + list(args), quiet=quiet)

    def openstack_json(self, *args, quiet=False):
        return self.t.run_json(['openstack', '--os-volume-api-version',
                                self.api_version] + list(args), quiet=quiet)

    def cinder(self, *args, quiet=False):
        return self.t.run(['cinder', '--os-volume-api-version',
                           self.api_version] + list(args), quiet=quiet)

    def status(self, kind, name_or_id):
        """Current status of a volume, snapshot, backup or image."""
        # openstackclient capitalises the columns of groups and group
        # snapshots.
        column = 'Status' if kind in GROUP_KINDS else 'status'
        return self.openstack(*self._show(kind, name_or_id), '-f', 'value',
                              '-c', column, quiet=True).strip()

    @staticmethod
    def _show(kind, name_or_id):
        if kind == 'image':
            return ['image', 'show', name_or_id]
        if kind == 'volume':
            return ['volume', 'show', name_or_id]
        return ['volume'] + kind.split() + ['show', name_or_id]

    def wait(self, kind, name_or_id, want='available', timeout=600):
        """Poll until the status is want; fail fast on an error status."""
        started = time.monotonic()
        while True:
            status = self.status(kind, name_or_id)
            if status == want:
                self.t.note('%s %s is %s after %.1fs' % (
                    kind, name_or_id, status, time.monotonic() - started))
                return
            if status in FAILED:
                raise StepFailed('%s %s went to status %s while waiting for '
                                 '%s (see the cinder logs)'
                                 % (kind, name_or_id, status, want))
            if time.monotonic() - started > timeout:
                raise StepFailed('%s %s still %s after %ds, expected %s'
                                 % (kind, name_or_id, status, timeout, want))
            time.sleep(2)

    def wait_gone(self, kind, name_or_id, timeout=300):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            listing = self.openstack_json(
                *(['image', 'list'] if kind == 'image' else
                  ['volume', 'list', '--all-projects'] if kind == 'volume'
                  else ['volume', *kind.split(), 'list', '--all-projects']),
                quiet=True)
            names = {item.get('ID') for item in listing} | {
                item.get('Name') for item in listing}
            if name_or_id not in names:
                self.t.note('%s %s deleted after %.1fs' % (
                    kind, name_or_id, time.monotonic() - started))
                return
            time.sleep(2)
        raise StepFailed('%s %s not deleted after %ds'
                         % (kind, name_or_id, timeout))

    def show(self, kind, name_or_id):
        return self.openstack_json(*self._show(kind, name_or_id))
