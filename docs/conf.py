"""Sphinx configuration of the docs site (docs/development.md#the-docs-site).

The pages stay plain Markdown that GitHub renders as they are: every setting below serves
a page written for GitHub, none asks the pages for Sphinx-only syntax.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from docutils import nodes
from docutils.transforms import Transform
from sphinx import addnodes

ROOT = Path(__file__).resolve().parent.parent
# autodoc imports the packages from the source tree even where the project is not
# installed (a docs-only environment).
sys.path.insert(0, str(ROOT))

project = "brunel-sweep"
author = "the brunel-sweep developers"
copyright = "the brunel-sweep developers"
release = version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

extensions = [
    "myst_nb",  # Markdown pages (it brings myst-parser) and the tutorial notebook
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings are numpydoc-style where they have sections
    "sphinx.ext.mathjax",
]

root_doc = "index"
# outputs/ is where the tutorial writes its run when executed in place (the test does
# that in a copy of docs/).
exclude_patterns = ["_build", "outputs", "**.ipynb_checkpoints"]

# --- Markdown (MyST) ------------------------------------------------------------------

# Pages link to sections as GitHub does (page.md#section-slug): every heading, at any
# level, gets GitHub's slug, so such a link resolves, and a link to a slug that no heading
# has is a warning (an error under -W). No MyST syntax extension is on: a page uses only
# what GitHub renders too.
myst_heading_anchors = 6
# GitHub renders a ```math fence as LaTeX; so does this (MathJax).
myst_fence_as_directive = ["math"]
# A link to a file that is not a page (data/x.txt, ../conf/grid/lines.yaml) becomes a
# download of that file, as GitHub shows the file; a missing file is a warning.

# --- The tutorial notebook (myst-nb) ---------------------------------------------------

# The notebook is stored without outputs and runs real MOOSE simulations (about 90 s).
# A developer's build runs it once and keeps its outputs in the build's cache
# (_build/.jupyter_cache), in a temporary directory so that its run does not land in
# docs/. The test (tests/test_docs_site.py) overrides both: it executes the notebook in a
# copy of docs/ to check the datasets the notebook leaves, which is the tutorial's test.
nb_execution_mode = "cache"
nb_execution_in_temp = True
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # a failing cell fails the build, not a warning
nb_execution_show_tb = True
nb_merge_streams = True

# --- API reference ----------------------------------------------------------------------

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"  # signatures stay short; types go with the parameters
# Importing the documented modules must not need MOOSE (the build runs where pymoose is
# absent or broken); they do not import it today, and this keeps it so.
autodoc_mock_imports = ["moose"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# --- HTML --------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "brunel-sweep"
# Every page is at the top level of the toctree, so the theme's header would list a few
# of them and its left sidebar none; the left sidebar lists them all, by section, instead
# (_templates/site-nav.html). The right-hand one is the page's contents, two levels, with
# no "view source" link (the source is the Markdown on GitHub).
templates_path = ["_templates"]
html_sidebars = {"**": ["site-nav"]}
html_theme_options = {
    "navbar_center": [],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_copy_source = False

# --- Raw HTML anchors ------------------------------------------------------------------

# A page that wants a short anchor for a long heading writes, as GitHub allows,
#     <a id="decided-states"></a>
#     ## Standard errors and decided states
# The HTML passes through to the page, but Sphinx would not know the anchor and would
# report links to it as broken; this turns it into a label of the heading that follows.
_ANCHOR = re.compile(r'\s*<a\s+(?:id|name)="([^"]+)"\s*>\s*(?:</a>\s*)?')
_CLOSE = re.compile(r"\s*</a>\s*")


def _html(node):
    return isinstance(node, nodes.raw) and "html" in node.get("format", "").split()


class RawHtmlAnchors(Transform):
    """``<a id="x"></a>`` (MyST makes it two raw HTML nodes, the tags, in a paragraph of
    their own) -> an explicit target named x, before the next heading."""

    default_priority = 200  # before docutils moves targets onto the next section (260)

    def apply(self, **kwargs):
        for raw in list(self.document.findall(nodes.raw)):
            match = _ANCHOR.fullmatch(raw.astext()) if _html(raw) else None
            if not match:
                continue
            name = match.group(1)
            after = raw.next_node(descend=False, siblings=True)
            if _html(after) and _CLOSE.fullmatch(after.astext()):
                after.parent.remove(after)
            alone = isinstance(raw.parent, nodes.paragraph) and len(raw.parent.children) == 1
            where = raw.parent if alone else raw  # alone on its line: a block-level target
            if name in self.document.ids:  # the heading's own slug: nothing to add
                where.parent.remove(where)
                continue
            target = nodes.target("", "", ids=[name], names=[name])
            self.document.note_explicit_target(target)
            where.replace_self(target)


# --- Links to Markdown files outside docs/ ---------------------------------------------

# A page links to ../CHANGELOG.md as GitHub shows it; in the site that file is the page
# changelog (its {include}). Any other Markdown file outside docs/ is no page of the
# site, and a link to it stays a warning.
_OUTSIDE_PAGES = {"CHANGELOG": "changelog"}


class OutsidePages(Transform):
    """A MyST link to ``../CHANGELOG.md`` -> a link to the page that includes it."""

    default_priority = 200

    def apply(self, **kwargs):
        env = self.document.settings.env
        outside = Path(env.srcdir).parent
        for ref in self.document.findall(addnodes.pending_xref):
            target = ref.get("reftarget", "")
            if ref.get("refdomain") != "doc" or target in env.found_docs:
                continue
            path = Path(target)
            if path.is_absolute() and path.parent == outside and path.name in _OUTSIDE_PAGES:
                ref["reftarget"] = _OUTSIDE_PAGES[path.name]


def setup(app):
    app.add_transform(RawHtmlAnchors)
    app.add_transform(OutsidePages)
