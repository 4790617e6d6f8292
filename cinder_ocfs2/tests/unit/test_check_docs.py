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

"""tools/check-docs-in-browser must fail on broken links and anchors."""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess

import fixtures
import testtools

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
TOOL = os.path.join(REPO, 'tools', 'check-docs-in-browser')


def _load_tool():
    # The tool is a script without a .py suffix: load it by its path.
    loader = importlib.machinery.SourceFileLoader('check_docs_in_browser',
                                                  TOOL)
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


check_docs = _load_tool()

PAGE = '<html><head></head><body>%s</body></html>'


class ParseDomTestCase(testtools.TestCase):

    def test_links_and_anchors(self):
        page = check_docs.parse_dom(
            '<html><head><link rel="stylesheet" href="s.css">'
            '<script src="s.js"></script></head><body>'
            '<h1 id="title">T</h1><a name="old">x</a>'
            '<a href="a.html#b">a</a><img src="i.png"><a>no href</a>'
            '</body></html>')
        self.assertEqual([('link', 's.css'), ('script', 's.js'),
                          ('a', 'a.html#b'), ('img', 'i.png')], page.links)
        self.assertEqual({'title', 'old'}, page.anchors)
        self.assertFalse(page.empty)

    def test_empty_body(self):
        self.assertTrue(check_docs.parse_dom(PAGE % ' \n').empty)
        self.assertTrue(check_docs.parse_dom('').empty)
        self.assertFalse(check_docs.parse_dom(PAGE % 'text').empty)
        self.assertFalse(check_docs.parse_dom(PAGE % '<div></div>').empty)


class CheckPagesTestCase(testtools.TestCase):
    """The link check fed with DOM strings: no browser involved."""

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.doms = {}
        self.write('index.html', PAGE % (
            '<a href="page.html#there">a page and an anchor</a>'
            '<a href="sub/">a directory with an index</a>'
            '<a href="#top">the top</a><a href="#">the top too</a>'
            '<a href="https://example.org/">external</a>'
            '<a href="mailto:dev@example.org">external</a>'
            '<link rel="stylesheet" href="style.css?v=1">'
            '<img src="a%20b.png">'))
        self.write('page.html', PAGE % (
            '<h1 id="there">There</h1><a href="index.html">back</a>'))
        self.write('sub/index.html', PAGE % '<a href="../page.html">up</a>')
        self.write('style.css', '')
        self.write('a b.png', '')

    def write(self, name, dom):
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(dom)
        if name.endswith('.html'):
            self.doms[path] = dom

    def page_of(self, path):
        dom = self.doms[path]
        if dom is None:
            raise check_docs.RenderError('Chromium exited with 1: boom')
        return check_docs.parse_dom(dom)

    def check(self):
        return check_docs.check_pages(sorted(self.doms), self.page_of)

    def problem(self, page, link, reason):
        return '%s: %s -> %s' % (
            os.path.relpath(os.path.join(self.root, page)), link, reason)

    def test_good_tree_passes(self):
        report = self.check()
        self.assertEqual([], report.problems)
        self.assertEqual(3, report.pages)
        self.assertEqual(7, report.local_links)
        self.assertEqual(2, report.external_links)

    def test_missing_file(self):
        self.write('page.html', PAGE % (
            '<h1 id="there">There</h1><a href="gone.html">gone</a>'
            '<img src="img/gone.png">'))
        self.assertEqual(
            [self.problem('page.html', 'gone.html', 'no such file %s'
                          % os.path.relpath(self.root + '/gone.html')),
             self.problem('page.html', 'img/gone.png', 'no such file %s'
                          % os.path.relpath(self.root + '/img/gone.png'))],
            self.check().problems)

    def test_missing_anchor(self):
        self.write('sub/index.html', PAGE % (
            '<a href="../page.html#elsewhere">up</a>'
            '<a href="#nowhere">self</a>'))
        page = os.path.relpath(self.root + '/page.html')
        index = os.path.relpath(self.root + '/sub/index.html')
        self.assertEqual(
            [self.problem('sub/index.html', '../page.html#elsewhere',
                          'no id "elsewhere" in %s' % page),
             self.problem('sub/index.html', '#nowhere',
                          'no id "nowhere" in %s' % index)],
            self.check().problems)

    def test_directory_without_index(self):
        os.mkdir(os.path.join(self.root, 'bare'))
        self.write('page.html', PAGE % (
            '<h1 id="there">There</h1><a href="bare/">bare</a>'))
        self.assertEqual(
            [self.problem('page.html', 'bare/',
                          'directory without an index.html')],
            self.check().problems)

    def test_page_not_rendered(self):
        self.doms[os.path.join(self.root, 'page.html')] = None
        self.write('sub/index.html', PAGE % '')
        self.assertEqual(
            [self.problem('index.html', 'page.html#there',
                          'cannot look for #there: Chromium exited with 1: '
                          'boom'),
             self.problem('page.html', '(page)',
                          'Chromium exited with 1: boom'),
             self.problem('sub/index.html', '(page)',
                          'Chromium rendered an empty page')],
            self.check().problems)


@testtools.skipUnless(shutil.which('chromium'),
                      'needs Chromium (Debian package chromium)')
class ChromiumTestCase(testtools.TestCase):
    """The tool itself, with a real headless Chromium."""

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        # The anchor only exists once the script has run: only a browser
        # finds it.
        self.write('index.html', PAGE % '<a href="page.html#made">page</a>')
        self.write('page.html', PAGE % (
            '<script>var made = document.createElement("p");'
            'made.id = "made"; document.body.appendChild(made);</script>'))

    def write(self, name, text):
        with open(os.path.join(self.root, name), 'w') as f:
            f.write(text)

    def run_tool(self):
        return subprocess.run([TOOL, '--timeout', '60', self.root],
                              cwd=self.root, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=300)

    def test_rendered_tree(self):
        result = self.run_tool()
        self.assertEqual(0, result.returncode, result.stdout)
        self.assertIn('2 pages rendered in Chromium, 1 local links checked, '
                      '0 external links not fetched, 0 problems',
                      result.stdout)

        self.write('broken.html', PAGE % (
            '<a href="page.html#gone">anchor</a><a href="gone.html">file</a>'
            '<a href="https://example.org/">external</a>'))
        result = self.run_tool()
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertEqual(
            ['broken.html: page.html#gone -> no id "gone" in page.html',
             'broken.html: gone.html -> no such file gone.html'],
            result.stdout.splitlines()[:-1])
        self.assertIn('3 pages rendered in Chromium, 3 local links checked, '
                      '1 external links not fetched, 2 problems',
                      result.stdout)
