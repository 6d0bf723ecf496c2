"""The docs site (docs/conf.py, docs/development.md#the-docs-site) builds with every
warning an error: a broken link or anchor between pages, a docstring Sphinx cannot read,
a failing tutorial cell.

The whole site is built once, with the tutorial notebook executed in the build (myst-nb)
and rendered with its figures; that execution is also the tutorial's test: the datasets
it leaves are checked here. It runs in a copy of docs/, so that the notebook's run directory
lands in the copy, not in the repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STRICT = ["-W", "--keep-going", "-b", "html"]


def sphinx(src: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    """``sphinx-build`` strictly, in a fresh process (the notebook's kernel and autodoc's
    imports stay out of the test process)."""
    return subprocess.run([sys.executable, "-m", "sphinx", *STRICT, *args, str(src), str(out)],
                          capture_output=True, text=True, timeout=1800, check=False)


def mirror(dest: Path) -> Path:
    """A copy of the repository's pages (docs/ and CHANGELOG.md, which the site includes)
    beside links to the rest: what the build writes beside the pages (the notebook's
    outputs/) lands in the copy, and links from the pages to files outside docs/ still
    resolve. (The pages are copied, not linked: Sphinx resolves a linked page's links
    from where the link points.)"""
    dest.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"docs", "CHANGELOG.md", ".git", ".venv", "outputs"}:
            (dest / entry.name).symlink_to(entry)
    shutil.copy2(ROOT / "CHANGELOG.md", dest / "CHANGELOG.md")
    shutil.copytree(DOCS, dest / "docs",
                    ignore=shutil.ignore_patterns("_build", "outputs", ".ipynb_checkpoints"))
    return dest / "docs"


@pytest.mark.fast
def test_the_notebook_is_stored_without_outputs():
    cells = json.loads((DOCS / "tutorial.ipynb").read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), \
        "store the notebook without outputs"


def test_the_site_builds_strictly_with_the_tutorial_run(tmp_path):
    import nbformat  # here, not at the top: its import alone takes seconds of the fast tier
    import pandas as pd

    src = mirror(tmp_path / "repo")
    out = tmp_path / "site" / "html"
    # Execute the notebook in place (in the copy), every time: the tutorial's test.
    done = sphinx(src, out, "-D", "nb_execution_mode=force", "-D", "nb_execution_in_temp=0")
    assert done.returncode == 0, done.stderr[-5000:]  # the warnings, the cell's traceback
    assert (out / "index.html").exists() and (out / "searchindex.js").exists()
    for page in ("api", "glossary", "tutorial", "changelog", "data/README"):
        assert (out / f"{page}.html").exists(), page
    # The source markers after numbers (tests/test_docs.py) stay HTML comments (code that
    # shows one, as an example, aside).
    for html in out.rglob("*.html"):
        text = re.sub(r"<!--.*?-->|<script.*?</script>|<pre.*?</pre>|<code.*?</code>", "",
                      html.read_text(), flags=re.S)
        shown = re.search(r"&lt;!--|data: docs/", text)
        assert not shown, f"{html.name}: {text[shown.start() - 200:shown.end() + 100]}"
    # The API reference holds the documented functions, the glossary its terms.
    api = (out / "api.html").read_text()
    for name in ("sweep.api.sweep_dataset", "analysis.states.point_decision",
                 "analysis.theory.predict", "sweep.config.GridConfig"):
        assert f'id="{name}"' in api, name
    glossary = (out / "glossary.html").read_text()
    for term in ("SI-fast", "decided", "realization", "located-boundary"):
        assert f'<dt id="term-{term}"' in glossary, term

    # The tutorial: its run's datasets (what tests/test_tutorial.py checked before the
    # site executed the notebook) ...
    run = src / "outputs" / "tutorial" / "plane"
    grid = pd.read_parquet(run / "results.parquet")
    assert len(grid) == 4 and (grid.status == "ok").all()
    assert grid.spikes_file.notna().sum() == 1  # the one point, not simulated again
    assert len(list((run / "logs").glob("*.log"))) == 4
    assert (run / "phase_diagram.png").exists()
    assert (run / "theory_lines.parquet").exists()  # the theory's lines were drawn
    # ... its outputs, as myst-nb kept the executed notebook ...
    nb = nbformat.read(out.parent / "jupyter_execute" / "tutorial.ipynb", as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in shown)  # the raster, the diagram
    duck = nb.cells[-2].outputs[0]["data"]["text/plain"]  # the duckdb query's table
    assert "points" in duck and "state" in duck
    # ... and its page, with the figures.
    page = (out / "tutorial.html").read_text()
    assert len(re.findall(r'<img [^>]*src="_images/', page)) >= 2


# A two-page site built with the site's own settings (-c docs): what GitHub resolves must
# resolve, and a broken link or anchor must fail the build.
GOOD = """\
# Front

A number 38<!-- data: docs/data/x.txt
"38 of them" --> with its source, and 90%<!-- not measured --> without.

<!-- a comment
on two lines -->

| measure | value |
|---|---|
| a rate | 1.0%<!-- data: docs/data/x.txt "38 of them" --> (not 38, but a marker in a cell) |

[a section](other.md#a-longer-heading), [short anchor](other.md#short),
[here](#front), [the changelog](../CHANGELOG.md), [its heading](../CHANGELOG.md#changes),
[a data file](data/x.txt), [a config](../conf/x.yaml).

```{toctree}
other
changelog
```
"""
OTHER = """\
# Other

<a id="short"></a>
## A longer heading

```math
\\nu_0 = \\eta \\nu_{thr}
```
"""
BROKEN = {
    "[a](other.md#no-such-heading)": "local id not found in doc 'other': 'no-such-heading'",
    "[b](#nowhere)": "target not found: 'nowhere'",
    "[c](missing.md)": "target not found: 'missing.md'",
    "[d](data/missing.txt)": "target not found: 'data/missing.txt'",
    "[e](../NOTES.md)": "target not found: '../NOTES.md'",
}


def _tiny_site(root: Path, extra: str) -> Path:
    (root / "docs" / "data").mkdir(parents=True)
    (root / "conf").mkdir()
    (root / "conf" / "x.yaml").write_text("a: 1\n")
    (root / "CHANGELOG.md").write_text("# Changelog\n\n## Changes\n")
    (root / "docs" / "data" / "x.txt").write_text("38 of them\n")
    (root / "docs" / "index.md").write_text(GOOD + extra)
    (root / "docs" / "other.md").write_text(OTHER)
    (root / "docs" / "changelog.md").write_text((DOCS / "changelog.md").read_text())
    return root / "docs"


@pytest.mark.fast
def test_github_links_resolve_and_broken_ones_fail_the_build(tmp_path):
    src = _tiny_site(tmp_path / "repo", "\n" + ", ".join(BROKEN) + "\n")
    done = sphinx(src, tmp_path / "html", "-c", str(DOCS))
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "WARNING" in line]
    assert done.returncode != 0
    for expected in BROKEN.values():
        assert [w for w in warnings if expected in w], expected
    assert len(warnings) == len(BROKEN), "\n".join(warnings)  # the good links: no warning

    html = (tmp_path / "html" / "index.html").read_text()
    text = re.sub(r"<!--.*?-->|<script.*?</script>|<[^>]+>", "", html, flags=re.S)
    assert "not measured" not in text and "data:" not in text  # markers stay invisible
    assert "<td><p>1.0%<!-- data:" in html  # ... in a table's cell too
    assert 'href="other.html#short"' in html
    assert 'href="changelog.html#changes"' in html
    assert re.search(r'href="_downloads/\w+/x.yaml"', html)  # the file outside docs/
