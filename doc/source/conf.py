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

"""Sphinx configuration of the cinder-ocfs2 documentation (tox -e docs)."""

# -- General configuration ---------------------------------------------------

# oslo_config.sphinxext renders the configuration reference from the
# options themselves (the oslo.config.opts entry point in setup.cfg), so
# the package must be installed where Sphinx runs. The driver is never
# imported: no autodoc.
extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
]

project = 'cinder-ocfs2'
copyright = '2026, The cinder-ocfs2 Authors'

master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'

# -- openstackdocstheme ------------------------------------------------------

openstackdocs_repo_name = 'x/cinder-ocfs2'
openstackdocs_bug_project = 'cinder-ocfs2'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

# -- Options for HTML output -------------------------------------------------

html_theme = 'openstackdocs'
