"""The handbook's numbers against the committed data they come from.

A number a page states from the data carries a source marker right after it, invisible
on GitHub and in the built site::

    Of the 38 far points, 38<!-- data: docs/data/phase_diagram_full_agreement.txt
    "in the theory's state: 100% (38/38)" --> are in the theory's state.

The marker names a committed file (from the repository root) and a snippet of it. The
test checks that the snippet occurs in the file (whitespace runs compared as one space)
and that the last number before the marker is a number of the snippet (as written, or
rounded to the digits the page gives), so a number cannot drift from its source:
regenerate the file, and a changed figure fails here until the page says it too.

Every percentage and every count ("38/38", "23 of 96") outside code carries a marker;
one that is not a measurement (a 90% interval, "2 of 3 seeds" as a setting) says so
with ``<!-- not measured -->`` right after it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
MARKER = re.compile(r'<!--\s*data:\s*(\S+)\s+"((?:[^"\\]|\\.)*)"\s*-->', re.S)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:\s*(?:/|of)\s*\d[\d,]*)?")
# What a page may not state without a source: a percentage or a count "n/m", "n of m".
COUNT = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?%|(?<![\w.])\d+\s*(?:/|of)\s*\d+(?![\w.])")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _parts(number: str) -> set[str]:
    """The numbers of a token: "23 of 96" and "23/96" are 23 and 96; commas dropped."""
    return {p for p in re.split(r"\s*(?:/|of)\s*", number.replace(",", "")) if p}


def _rounds_to(stated: str, source: set[str]) -> bool:
    """``stated`` is one of the ``source`` numbers, as written or rounded to its digits
    ("0.43" states "0.4302", "17" states "16.89")."""
    digits = len(stated.split(".")[1]) if "." in stated else 0
    return stated in source or any(
        f"{float(t):.{digits}f}" == stated for t in source if re.fullmatch(r"[\d.]+", t))


def claims(page: Path) -> list[tuple[int, str, str, str]]:
    """Each marker of ``page``: (line, number before it, source file, snippet)."""
    text = page.read_text()
    found = []
    for m in MARKER.finditer(text):
        before = MARKER.sub("", text[max(0, m.start() - 300):m.start()])
        numbers = NUMBER.findall(before)
        line = text.count("\n", 0, m.start()) + 1
        found.append((line, numbers[-1] if numbers else "", m.group(1),
                      m.group(2).replace('\\"', '"')))
    return found


def check_page(page: Path) -> list[str]:
    """Every marker of ``page`` whose number or snippet is not in its source, as messages."""
    problems = []
    where = page.relative_to(ROOT)
    for line, number, source, snippet in claims(page):
        path = ROOT / source
        if not path.is_file():
            problems.append(f"{where}:{line}: source {source} does not exist")
            continue
        if _squash(snippet) not in _squash(path.read_text()):
            problems.append(f"{where}:{line}: {source} does not contain {snippet!r}")
            continue
        tokens = set().union(*(_parts(t) for t in NUMBER.findall(snippet)))
        if not number or not all(_rounds_to(p, tokens) for p in _parts(number)):
            problems.append(f"{where}:{line}: {number or 'no number'} is not in {snippet!r}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_marked_number_is_in_its_source(page):
    assert check_page(page) == []


def test_the_checker_catches_a_drifted_number(tmp_path, monkeypatch):
    source = tmp_path / "report.txt"
    source.write_text("far points in the theory's state: 100% (38/38); cv 0.4302\n")
    page = tmp_path / "page.md"
    page.write_text(
        'All 38<!-- data: report.txt "100% (38/38)" --> agree; 100%<!-- data: report.txt '
        '"state: 100%" -->; 92%<!-- data: report.txt "100% (38/38)" --> did not;'
        ' 7<!-- data: report.txt "not there" -->; 1<!-- data: missing.txt "x" -->; cv'
        ' 0.43<!-- data: report.txt "cv 0.4302" -->, not'
        ' 0.44<!-- data: report.txt "cv 0.4302" -->\n')
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    problems = check_page(page)
    assert [p.split(": ", 1)[1][:20] for p in problems] == [
        "92 is not in '100% (", "report.txt does not ", "source missing.txt d",
        "0.44 is not in 'cv 0"]


def unsourced(page: Path) -> list[str]:
    """Percentages and counts of ``page`` (outside code) with no marker right after them."""
    text = CODE.sub(lambda m: " " * len(m.group()), page.read_text())
    inside = [(k.start(), k.end()) for k in MARKER.finditer(text)]
    found = []
    for m in COUNT.finditer(text):
        if any(a <= m.start() < b for a, b in inside):
            continue  # the snippet of a marker is the source's text, not the page's
        if not re.match(r"[)*]*<!--\s*(?:data:|not measured\s*-->)", text[m.end():]):
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{page.relative_to(ROOT)}:{line}: {m.group()}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_percentage_and_count_names_its_source(page):
    assert unsourced(page) == []
