# Copyright 2026 The cinder-ocfs2 Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Console scripts of cinder-ocfs2 (see setup.cfg, console_scripts)."""

import warnings

# NOTE: importing cinder warns on stderr that eventlet is deprecated; the
# commands here never use eventlet, and an operator should not read that
# warning on every run.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
