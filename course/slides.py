"""Build a reveal.js slide deck for every solution notebook, plus an index page.

Usage::

    python -m course slides                      # every notebook in solutions/
    python -m course slides 01_convolution 04    # only some (stems, prefixes or files)
    python -m course slides --out /tmp/decks

Writes two decks per notebook, ``build/slides/<stem>.slides.html`` (the instructor's deck: the
solution notebook with its answers, a written answer on the slide after its question) and
``build/slides/<stem>.lecture.slides.html`` (the lecture deck: every exercise as the student
gets it, ``raise NotImplementedError`` and the answer prompt, its check's verdict left out, so
the answers are not on the screen before students have tried),
plus ``build/slides/index.html`` and
``build/slides/vendor/`` (only the files the decks load, copied from ``slides/node_modules``,
which ``npm ci --prefix slides --ignore-scripts`` installs from ``slides/package-lock.json``).
Every URL in a deck is relative, so the folder works offline, from file://, or copied
anywhere. ``make slides`` runs this.

The decks are nbconvert's reveal template (``slides/template/`` removes its two CDN-only
pieces: the MermaidJS import and the ipywidgets loader) with these settings: theme white,
1280x720, slide numbers, no In/Out prompts. Widget outputs are shown by their PNG fallback.
Speaker notes (``notes`` cells) open with the S key.
"""

from __future__ import annotations

import argparse
import copy
import html
import multiprocessing
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbconvert.exporters import SlidesExporter
from traitlets.config import Config

from course.notebook import (
    BEGIN_CODE,
    BEGIN_MARKDOWN,
    END_CODE,
    END_MARKDOWN,
    ROOT,
    SOLUTIONS,
    SelectionError,
    count_slides,
    exercises,
    notebooks,
    select,
    strip_widget_state,
)
from course.release import ClearSolutions

SLIDES = ROOT / "slides"
NODE_MODULES = SLIDES / "node_modules"
DEFAULT_OUT = ROOT / "build" / "slides"
COURSE_TITLE = "Convolutional Networks, hands-on"

MERMAID = "text/vnd.mermaid"
REMOTE_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["']?((?:https?:)?//[^"'\s>]+)"""
)

# Relative to the deck (and to vendor/): package in node_modules -> files or folders to copy.
VENDOR_FILES = {
    "reveal.js": [
        "LICENSE",
        "dist/reveal.css",
        "dist/reveal.js",
        "dist/theme/white.css",
        "dist/theme/fonts/source-sans-pro",
        "plugin/notes/notes.js",
    ],
    "mathjax": [
        "LICENSE",
        "MathJax.js",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax/input/TeX",
        "jax/output/CommonHTML",
        "jax/element",
        "localization/en",
        "fonts/HTML-CSS/TeX/woff",
    ],
    "requirejs": ["require.js"],
    "jquery": ["LICENSE.txt", "dist/jquery.min.js"],
}
EXPORTER_SETTINGS = {
    "reveal_url_prefix": "vendor/reveal.js",
    "reveal_theme": "white",
    "reveal_transition": "slide",
    "reveal_number": "c/t",
    "reveal_width": "1280",
    "reveal_height": "720",
    "reveal_scroll": False,
    "mathjax_url": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "require_js_url": "vendor/requirejs/require.js",
    "jquery_url": "vendor/jquery/dist/jquery.min.js",
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
    "template_name": "template",
    "extra_template_basedirs": [str(SLIDES)],
}


class SlidesError(RuntimeError):
    """Something the decks need is missing, or a notebook cannot become a deck."""


def notebook_title(nb, default: str) -> str:
    """The text of the notebook's first markdown heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+?)\s*#*\s*$", cell.source, flags=re.MULTILINE)
            if match:
                return re.sub(r"[*_`]", "", match.group(1))
    return default


def presentable_copy(nb, stem: str):
    """A copy of the notebook without what needs the internet (widget views and their state).

    A code cell whose input is collapsed in JupyterLab (``metadata.jupyter.source_hidden``:
    drawing code nobody needs to read) shows only its output, as RISE shows it.
    """
    nb = copy.deepcopy(nb)
    strip_widget_state(nb)  # as the save hook and `course execute` store a notebook
    nb.metadata["title"] = notebook_title(nb, stem)
    for cell in nb.cells:
        if cell.metadata.get("jupyter", {}).get("source_hidden"):
            cell.metadata["transient"] = {"remove_source": True}  # the deck shows the output
        if any(MERMAID in output.get("data", {}) for output in cell.get("outputs", [])):
            raise SlidesError(
                f"{stem}: a Mermaid diagram needs MermaidJS, which the offline decks "
                "do not load; store it as an image"
            )
    return nb


def lecture_copy(nb, stem: str):
    """The deck to project before students have done the exercises: no answer on screen.

    Every solution region becomes what the student edition has (``raise NotImplementedError``
    in code, the answer prompt in a written exercise), and the output of each exercise's cell
    and of its check cell (the verdict) is left out. Everything else, outputs and speaker
    notes included, stays as in the instructor's deck.
    """
    nb = copy.deepcopy(nb)
    resources = {"source_name": f"solutions/{stem}.ipynb"}
    for exercise in exercises(nb):
        for index in (exercise.cell, exercise.check):
            if index is not None and nb.cells[index].cell_type == "code":
                nb.cells[index].outputs = []
                nb.cells[index].execution_count = None
    nb, _ = ClearSolutions().preprocess(nb, resources)
    return nb


def instructor_copy(nb):
    """The instructor's deck: every answer, as plain code and prose.

    The ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines (for the release tool and
    nbgrader) are left out of code cells, and the answer of a written exercise opens the slide
    after its question (ask, then show): one more slide per written exercise.
    """
    nb = copy.deepcopy(nb)
    markers = {BEGIN_CODE, END_CODE}
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and BEGIN_CODE in cell.source:
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in markers)
        if cell.cell_type == "markdown" and BEGIN_MARKDOWN in cell.source:
            question, answer = cell.source.split(BEGIN_MARKDOWN, 1)
            cell.source = question.rstrip()
            shown_answer = copy.deepcopy(cell)
            shown_answer.source = answer.replace(END_MARKDOWN, "").strip()
            shown_answer.id = f"{cell.id}-answer"[:64]
            shown_answer.metadata["slideshow"] = {"slide_type": "subslide"}
            cells += [cell, shown_answer]
            continue
        cells.append(cell)
    nb.cells = cells
    return nb


DECKS = {"instructor": "{stem}.slides.html", "lecture": "{stem}.lecture.slides.html"}
"""The two decks of a notebook: kind -> file name in the output folder."""


def make_exporter() -> SlidesExporter:
    config = Config()
    for name, value in EXPORTER_SETTINGS.items():
        setattr(config.SlidesExporter, name, value)
    return SlidesExporter(config=config)


def copy_vendor(out: Path) -> None:
    """Copy the vendored files the decks load into ``out/vendor`` (and nothing else)."""
    missing = [name for name in VENDOR_FILES if not (NODE_MODULES / name).is_dir()]
    if missing:
        raise SlidesError(
            f"{', '.join(missing)} not installed in {NODE_MODULES.relative_to(ROOT)}: "
            "run `npm ci --prefix slides --ignore-scripts` (make slides does)"
        )
    vendor = out / "vendor"
    if vendor.exists():
        shutil.rmtree(vendor)
    for package, paths in VENDOR_FILES.items():
        for relative in paths:
            source = NODE_MODULES / package / relative
            target = vendor / package / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
    shutil.copy2(SLIDES / "LICENSES.md", vendor / "LICENSES.md")


_EXPORTER: SlidesExporter | None = None


def build_deck(path: Path, out: Path) -> dict:
    """Export one solution notebook to its two decks in ``out`` (:data:`DECKS`); returns its
    index entry."""
    global _EXPORTER  # one per process: the template environment is slow to set up
    if _EXPORTER is None:
        _EXPORTER = make_exporter()
    nb = nbformat.read(path, as_version=4)
    stem = path.stem
    deck = presentable_copy(nb, stem)
    for kind, name in DECKS.items():
        shown = lecture_copy(deck, stem) if kind == "lecture" else instructor_copy(deck)
        body, _ = _EXPORTER.from_notebook_node(shown, resources={"metadata": {"name": stem}})
        remote = REMOTE_ASSET.findall(body)
        if remote:
            raise SlidesError(f"{stem}: the deck would load {remote[0]} from the internet")
        (out / name.format(stem=stem)).write_text(body, encoding="utf-8")
    return deck_entry(stem, deck)


def deck_entry(stem: str, nb) -> dict:
    """The index entry of a notebook's decks: ``file`` (instructor), ``lecture``, title, and
    ``slides`` (of the instructor's deck, the lecture deck has one per written exercise less)."""
    return {
        "stem": stem,
        "file": DECKS["instructor"].format(stem=stem),
        "lecture": DECKS["lecture"].format(stem=stem),
        "title": notebook_title(nb, stem),
        "slides": count_slides(instructor_copy(nb)),
    }


def write_index(out: Path, decks: list[dict]) -> Path:
    rows = "\n".join(
        f'    <li><a href="{html.escape(deck["file"])}">{html.escape(deck["title"])}</a>'
        f' <span class="meta">· {deck["slides"]} slides ·</span>'
        f' <a class="lecture" href="{html.escape(deck["lecture"])}">lecture deck</a></li>'
        for deck in decks
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(COURSE_TITLE)}: slides</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 3em auto; padding: 0 1em;
       color: #222; line-height: 1.5; }}
h1 {{ font-weight: 600; }}
ul {{ list-style: none; padding-left: 0; }}
li {{ margin: 0.4em 0; }}
a {{ color: #1a5fb4; text-decoration: none; }}
a:hover {{ text-decoration: underline; }}
.meta {{ color: #666; font-size: 90%; }}
a.lecture {{ font-size: 90%; }}
footer {{ margin-top: 3em; color: #777; font-size: 85%; }}
</style>
</head>
<body>
<h1>{html.escape(COURSE_TITLE)}</h1>
<p>Two reveal.js decks per notebook: the instructor's edition, with every answer, and a
<em>lecture deck</em> to project before students have done the exercises (each exercise as
students get it, no solution and no verdict on screen).
Keys: arrows or space to move, <kbd>Esc</kbd> for the overview, <kbd>S</kbd> for the
speaker notes, <kbd>F</kbd> for full screen.</p>
<ul>
{rows}
</ul>
<footer>Built by <code>make slides</code>. reveal.js, MathJax, require.js and jQuery are
vendored in <code>vendor/</code>; their licences are in
<a href="vendor/LICENSES.md">vendor/LICENSES.md</a>.</footer>
</body>
</html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def build(names: list[str] | None = None, out: Path = DEFAULT_OUT) -> list[dict]:
    """Build vendor/, the decks (all, or the named ones) and an index of every deck in ``out``."""
    try:
        paths = select(names or [], SOLUTIONS)
    except SelectionError as error:
        raise SlidesError(str(error)) from None
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(out)
    workers = min(len(paths), os.cpu_count() or 1)
    if workers > 1:  # nbconvert is CPU-bound: one process per core halves the build
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            list(pool.map(build_deck, paths, [out] * len(paths)))
    else:
        for path in paths:
            build_deck(path, out)
    decks = []
    for path in notebooks(SOLUTIONS):
        if (out / DECKS["instructor"].format(stem=path.stem)).exists():
            decks.append(deck_entry(path.stem, nbformat.read(path, as_version=4)))
    write_index(out, decks)
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course slides", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "names", nargs="*", help="notebooks: stems, prefixes or files (default: all)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        decks = build(args.names, args.out)
    except SlidesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for deck in decks:
        print(f"{deck['slides']:4d} slides  {deck['file']}, {deck['lecture']}")
    index = args.out / "index.html"
    print(f"{len(decks)} decks in {time.perf_counter() - start:.1f} s; open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
