"""GLOSSARY.md agrees with the "Key terms" tables of the solution notebooks.

Terms are compared by their words: markdown (``**``, backticks) and case are ignored, and so are
the order of alternatives and the separators between them ("kernel / filter" = "filter, kernel",
"full (wide) convolution" = "wide / full convolution") and hyphens ("back-propagation" =
"backpropagation"). A parenthesised abbreviation is part of the term: "multiply-accumulate (MAC)"
needs the "(MAC)".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.notebook import ROOT, notebooks

GLOSSARY = ROOT / "GLOSSARY.md"
SOLUTIONS = notebooks()  # in course order
GLOSSARY_HEADER = ["term", "中文", "definition (one line)", "introduced in"]
LINK = re.compile(r"^\[(\d\d)\]\((notebooks/(\d\d_\w+)\.ipynb)\)$")


@dataclass(frozen=True)
class Row:
    term: str  # as written (markdown stripped)
    chinese: str
    rest: tuple[str, ...]  # the other cells
    where: str  # "solutions/01_convolution.ipynb" or "GLOSSARY.md, line 17"


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row; ``\\|`` is a pipe inside a cell."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace("`", "").replace("*", "")).strip()


def term_key(term: str) -> frozenset[str]:
    """The words of a term, the way two spellings are compared."""
    words = re.split(r"[\s/,()]+", _plain(term).casefold().replace("-", ""))
    return frozenset(word for word in words if word)


def chinese_names(cell: str) -> list[str]:
    """The Chinese names in a 中文 cell: ``"填充, 零填充"`` -> ``["填充", "零填充"]``."""
    return [name.strip() for name in re.split(r"[/,，、]", cell) if name.strip()]


def key_terms(path: Path) -> list[Row]:
    """The rows of a notebook's "## Key terms" table, which may go on over several slides
    (cells headed "## Key terms (continued)", or holding only the rest of the table)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    where = f"solutions/{path.name}"
    rows = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        table_goes_on = rows and source.lstrip().startswith("| English | 中文 |")
        if cell["cell_type"] == "markdown" and (
            source.lstrip().startswith("## Key terms") or table_goes_on
        ):
            lines = [line for line in source.splitlines() if line.lstrip().startswith("|")]
            rows += [
                Row(_plain(cells[0]), cells[1].strip(), tuple(cells[2:]), where)
                for cells in map(_cells, lines[2:])  # after the header and the |---| line
            ]
    assert rows, f"{where} has no markdown cell starting with '## Key terms'"
    return rows


def glossary_rows() -> list[Row]:
    rows, in_table = [], False
    for number, line in enumerate(GLOSSARY.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if not in_table:
            assert cells == GLOSSARY_HEADER, f"GLOSSARY.md, line {number}: unexpected table"
            in_table = True
        elif not set("".join(cells)) <= set("-: "):
            assert len(cells) == 4, f"GLOSSARY.md, line {number}: 4 cells expected, {cells}"
            rows.append(
                Row(_plain(cells[0]), cells[1], tuple(cells[2:]), f"GLOSSARY.md, line {number}")
            )
    return rows


@pytest.fixture(scope="module")
def notebook_terms() -> dict[frozenset[str], list[Row]]:
    """term key -> the notebooks' rows for it, in course order."""
    found: dict[frozenset[str], list[Row]] = {}
    for path in SOLUTIONS:
        for row in key_terms(path):
            found.setdefault(term_key(row.term), []).append(row)
    return found


@pytest.fixture(scope="module")
def glossary() -> dict[frozenset[str], Row]:
    rows = glossary_rows()
    assert rows, "GLOSSARY.md has no table rows"
    by_key: dict[frozenset[str], Row] = {}
    for row in rows:
        twin = by_key.get(term_key(row.term))
        assert twin is None, f"{row.where}: {row.term!r} is the same term as {twin.where}"
        by_key[term_key(row.term)] = row
    return by_key


def _stem(row: Row) -> str:
    return Path(row.where).stem


def _suggested_row(rows: list[Row]) -> str:
    names = []
    for row in rows:
        names += [name for name in chinese_names(row.chinese) if name not in names]
    first = _stem(rows[0])
    return (
        f"| {rows[0].term} | {' / '.join(names)} | <one-line definition> | "
        f"[{first[:2]}](notebooks/{first}.ipynb) |"
    )


def test_every_notebook_has_key_terms():
    assert len(SOLUTIONS) >= 12
    for path in SOLUTIONS:
        assert key_terms(path), f"solutions/{path.name}: the Key terms table is empty"


def test_every_notebook_term_is_in_the_glossary(notebook_terms, glossary):
    missing = [rows for key, rows in notebook_terms.items() if key not in glossary]
    message = "\n".join(
        f"- {rows[0].term!r} (in {', '.join(row.where for row in rows)}); add to GLOSSARY.md, "
        f"in alphabetical order:\n    {_suggested_row(rows)}"
        for rows in missing
    )
    assert not missing, f"key terms missing from GLOSSARY.md:\n{message}"


def test_every_glossary_term_is_in_a_notebook(notebook_terms, glossary):
    orphans = [row for key, row in glossary.items() if key not in notebook_terms]
    message = "\n".join(
        f"- {row.where}: {row.term!r}: add it to the Key terms table of the notebook that "
        "introduces it, or delete the row (a notebook may spell it differently: the "
        "glossary must use the same words)"
        for row in orphans
    )
    assert not orphans, f"glossary terms that no notebook's Key terms table lists:\n{message}"


def _in_both(notebook_terms, glossary):
    """``(glossary entry, notebook rows)`` of each term in both (the other tests report the
    rest), in the glossary's order."""
    for key, entry in glossary.items():
        rows = notebook_terms.get(key)
        if rows is not None:
            yield entry, rows


def test_every_chinese_name_is_in_the_glossary(notebook_terms, glossary):
    problems = []
    for entry, rows in _in_both(notebook_terms, glossary):
        for row in rows:
            for name in chinese_names(row.chinese):
                if name not in entry.chinese:
                    problems.append(
                        f"- {entry.where}: {entry.term!r}: {row.where} calls it {name!r}; "
                        f"add it to the 中文 column {entry.chinese!r} (names separated by ' / ')"
                    )
    assert not problems, "Chinese names missing from GLOSSARY.md:\n" + "\n".join(problems)


def test_introduced_in_links_the_first_notebook(notebook_terms, glossary):
    problems = []
    for entry, rows in _in_both(notebook_terms, glossary):
        first = _stem(rows[0])
        wanted = f"[{first[:2]}](notebooks/{first}.ipynb)"
        link = entry.rest[-1]
        match = LINK.match(link)
        if not match or match[2] != f"notebooks/{first}.ipynb" or match[1] != first[:2]:
            problems.append(
                f"- {entry.where}: {entry.term!r}: 'introduced in' is {link!r}; it should be "
                f"{wanted} (the first notebook whose Key terms table lists it)"
            )
        elif not (ROOT / match[2]).is_file():
            problems.append(f"- {entry.where}: {entry.term!r}: {match[2]} does not exist")
    assert not problems, "wrong 'introduced in' links:\n" + "\n".join(problems)


def test_definitions_are_filled_in(glossary):
    empty = [row for row in glossary.values() if row.rest[0] in ("", "<one-line definition>")]
    assert not empty, "rows without a definition: " + ", ".join(r.where for r in empty)


def test_glossary_is_alphabetical():
    terms = [row.term for row in glossary_rows()]
    for before, after in zip(terms, terms[1:], strict=False):
        assert before.casefold() <= after.casefold(), (
            f"GLOSSARY.md is not alphabetical: {after!r} must come before {before!r}"
        )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("kernel / filter", "filter, kernel"),
        ("full (wide) convolution", "wide / full convolution"),
        ("back-propagation", "**Backpropagation**"),
        ("`im2col` / col2im", "im2col / col2im"),
    ],
)
def test_term_key_treats_spellings_alike(a, b):
    assert term_key(a) == term_key(b)


def test_term_key_keeps_abbreviations_and_words():
    assert term_key("multiply-accumulate (MAC)") != term_key("multiply-accumulate")
    assert term_key("padding") != term_key("padding, zero padding")
    assert chinese_names("填充, 零填充") == ["填充", "零填充"]
