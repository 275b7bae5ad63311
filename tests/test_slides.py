"""The slide decks (make slides): every solution notebook opens offline in headless Chromium.

Builds the decks once (course/slides.py), then opens each from file:// with every other
request blocked, and checks that reveal.js starts with one slide per `slide`/`subslide` cell,
that MathJax typesets without errors and that nothing logs an error. Then the audit
(course/deck_audit.py) steps through every slide of both decks of every notebook at
1280 x 720: no slide scrolls, body text >= 24 px, code >= 20 px, no figure shrunk under 95 %,
figure text >= 14 px as drawn, nothing under the navigation controls, verdict symbols in
colour; it saves a contact sheet per deck in build/slides/audit/ for a person to look at.
Each lecture deck shows the exercises as students get them, no verdict, and a readable
"Common mistakes" box.

Needs Chromium (`chromium` on the PATH, or the CHROMIUM environment variable) and the npm
packages in slides/node_modules (`npm ci --prefix slides --ignore-scripts`, which `make test`
runs). Without them the tests are skipped, unless CNN_COURSE_REQUIRE_BROWSER=1 (CI) makes
them fail.
"""

from __future__ import annotations

import os
import re

import nbformat
import pytest

from course import deck_audit, slides
from course.deck_audit import open_offline, start_reveal
from course.notebook import ROOT, SOLUTIONS, count_slides, exercises, is_shown, stems

BUILD = ROOT / "build" / "slides"
STEMS = stems(SOLUTIONS)
KINDS = list(slides.DECKS)  # instructor, lecture
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", flags=re.DOTALL)


def _unavailable(reason: str):
    if os.environ.get("CNN_COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CNN_COURSE_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def has_math(nb) -> bool:
    return any(
        cell.cell_type == "markdown" and is_shown(cell) and MATH.search(cell.source)
        for cell in nb.cells
    )


@pytest.fixture(scope="module")
def decks():
    if not all((slides.NODE_MODULES / name).is_dir() for name in slides.VENDOR_FILES):
        _unavailable("slides/node_modules missing: run `npm ci --prefix slides --ignore-scripts`")
    entries = slides.build(out=BUILD)
    return {entry["stem"]: entry for entry in entries}


@pytest.fixture(scope="module")
def browser(decks):  # after the build, which forks worker processes
    try:
        executable = deck_audit.chromium_path()
    except deck_audit.BrowserMissing as error:
        _unavailable(str(error))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.mark.parametrize("stem", STEMS)
def test_deck_opens_offline(stem, decks, browser):
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    deck = BUILD / decks[stem]["file"]
    page, problems = open_offline(browser, deck.as_uri())
    try:
        start_reveal(page)
        total = page.evaluate("Reveal.getTotalSlides()")
        expected = count_slides(slides.instructor_copy(nb))
        assert total == expected == decks[stem]["slides"], (
            f"{stem}: reveal.js shows {total} slides, the notebook has "
            f"{expected} slide and subslide cells (written answers on their own slide)"
        )

        math = page.evaluate(
            """() => new Promise(resolve => MathJax.Hub.Queue(() => resolve({
                typeset: MathJax.Hub.getAllJax().length,
                errors: [...document.querySelectorAll('.MathJax_Error, .mjx-merror, .noError')]
                    .map(e => e.textContent.slice(0, 80)),
            })))"""
        )
        assert not math["errors"], f"{stem}: MathJax errors: {math['errors']}"
        if has_math(nb):
            assert math["typeset"] > 0, f"{stem}: the notebook has $math$ but MathJax typeset none"

        assert not problems, f"{stem}:\n" + "\n".join(problems)
    finally:
        page.close()


CONTRAST = """() => {
    const rgb = text => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    return [...document.querySelectorAll('.alert-warning li, .alert-warning p')].map(e => {
        const fg = luminance(rgb(getComputedStyle(e).color));
        const bg = luminance(rgb(getComputedStyle(e.closest('.alert-warning')).backgroundColor));
        return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    });
}"""


@pytest.fixture(scope="module")
def audits(decks, browser):
    """Every slide of every deck measured (course/deck_audit.py); contact sheets saved."""
    files = [BUILD / slides.DECKS[kind].format(stem=stem) for stem in STEMS for kind in KINDS]
    reports = deck_audit.audit_with(browser, files, BUILD / "audit")
    deck_audit.print_reports(reports, verbose=False)
    return {report.deck: report for report in reports}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stem", STEMS)
def test_every_slide_can_be_projected(stem, kind, audits):
    """No slide scrolls; text, code and figure labels are large enough; nothing sits under
    the navigation controls; the verdict symbols are drawn in colour (issue #20)."""
    report = audits[slides.DECKS[kind].format(stem=stem).removesuffix(".html")]
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    shown = slides.instructor_copy(nb) if kind == "instructor" else nb
    assert len(report.slides) == count_slides(shown)
    failing = [
        f"slide {slide.number} (cell {slide.cell}): " + "; ".join(slide.problems)
        for slide in report.failing
    ]
    assert not failing, (
        f"{report.deck}: {len(failing)} slides cannot be projected as they are (split them "
        f"into subslides, collapse drawing code, resize the figure: CONTRIBUTING.md, Slides; "
        f"contact sheet {report.sheet}):\n" + "\n".join(failing)
    )
    assert report.emoji, "the verdict symbols are not drawn in colour: install an emoji font"
    assert not report.console, report.console


@pytest.mark.parametrize("stem", STEMS)
def test_lecture_deck_hides_the_answers(stem, decks, browser):
    """The lecture deck: same slides, the exercises as students get them, no verdict shown;
    the "Common mistakes" box is readable (WCAG AA contrast, 4.5:1)."""
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    page, problems = open_offline(browser, (BUILD / decks[stem]["lecture"]).as_uri())
    try:
        start_reveal(page)
        assert page.evaluate("Reveal.getTotalSlides()") == count_slides(nb)
        text = page.evaluate("document.querySelector('.reveal .slides').textContent")
        for exercise in exercises(nb):
            if not exercise.written:
                assert f'NotImplementedError("Exercise {exercise.number}: ' in text, exercise
        assert not re.search(r"Exercise [0-9.a-z]+ \([^)]*\): passed", text), "a verdict is shown"
        if any(exercise.written for exercise in exercises(nb)):
            assert "Your answer:" in text
        ratios = page.evaluate(CONTRAST)
        assert bool(ratios) == any("Common mistakes" in cell.source for cell in nb.cells)
        assert all(ratio >= 4.5 for ratio in ratios), f"{stem}: contrast {min(ratios):.2f}:1"
        assert not problems, f"{stem}:\n" + "\n".join(problems)
    finally:
        page.close()


def test_lecture_copy_keeps_everything_but_the_answers():
    nb = nbformat.read(SOLUTIONS / "01_convolution.ipynb", as_version=4)
    lecture = slides.lecture_copy(nb, "01_convolution")
    assert len(lecture.cells) == len(nb.cells) and count_slides(lecture) == count_slides(nb)
    found = exercises(nb)
    assert found and all("BEGIN SOLUTION" not in cell.source for cell in lecture.cells)
    for exercise in found:
        for index in (exercise.cell, exercise.check):
            if index is not None and lecture.cells[index].cell_type == "code":
                assert lecture.cells[index].outputs == []
    shown = [i for i, cell in enumerate(nb.cells) if cell.get("outputs")]
    kept = {i for e in found for i in (e.cell, e.check)}
    assert all(lecture.cells[i].outputs == nb.cells[i].outputs for i in shown if i not in kept)
    assert "BEGIN SOLUTION" in "".join(cell.source for cell in nb.cells)  # the input unchanged


def test_index_links_every_deck(decks, browser):
    page, problems = open_offline(browser, (BUILD / "index.html").as_uri())
    try:
        links = page.eval_on_selector_all("li a", "links => links.map(a => a.getAttribute('href'))")
        assert links == [
            name for stem in STEMS for name in (decks[stem]["file"], decks[stem]["lecture"])
        ]
        assert all((BUILD / link).is_file() for link in links)
        assert "slides" in page.inner_text("li")
        assert not problems, problems
    finally:
        page.close()


def test_slide_count_rules():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def cell(kind, factory=new_markdown_cell):
        made = factory("x")
        made.metadata["slideshow"] = {"slide_type": kind}
        return made

    nb = new_notebook()
    nb.cells = [cell("skip"), cell("skip", new_code_cell), cell("-"), cell("fragment")]
    assert count_slides(nb) == 1, "the first shown cell opens a slide whatever its type"
    nb.cells += [cell("subslide"), cell("notes"), cell("slide"), cell("-"), cell("subslide")]
    assert count_slides(nb) == 4


def test_audit_judges_each_limit():
    from course.deck_audit import LIMITS, Slide

    def slide(**changes):
        fields = dict(number=3, indices="1.2", cell="c", height=700, body=24.0, code=20.0)
        fields |= dict(figure_scale=1.0, figure_text=15.3)
        return Slide(**(fields | changes))

    assert slide().judge() == [] and slide(body=None, code=None, figure_scale=None).judge() == []
    assert slide(height=LIMITS.height).judge() == []
    cases = {
        "taller than the canvas: 721 px": dict(height=721),
        "body text 23.5 px < 24": dict(body=23.5),
        "code text 19 px < 20": dict(code=19.0),
        "figure shrunk to 94%": dict(figure_scale=0.94),
        "figure text 13.9 px < 14": dict(figure_text=13.9),
        "under the navigation controls: Summary": dict(under_controls=["Summary"]),
    }
    for expected, changes in cases.items():
        problems = slide(**changes).judge()
        assert len(problems) == 1 and problems[0].startswith(expected), (expected, problems)


def test_instructor_deck_shows_answers_without_the_region_markers():
    nb = nbformat.read(SOLUTIONS / "01_convolution.ipynb", as_version=4)
    shown = slides.instructor_copy(nb)
    found = exercises(nb)
    written = [exercise for exercise in found if exercise.written]
    assert written and len(shown.cells) == len(nb.cells) + len(written)
    assert count_slides(shown) == count_slides(nb) + len(written)
    by_id = {cell.id: cell for cell in shown.cells}
    for exercise in found:
        before = nb.cells[exercise.cell]
        after = by_id[before.id]
        if exercise.written:
            question, answer = before.source.split("<!-- BEGIN SOLUTION -->")
            assert after.source == question.rstrip() and "SOLUTION" not in after.source
            shown_answer = by_id[f"{before.id}-answer"]
            assert shown_answer.metadata["slideshow"]["slide_type"] == "subslide"
            assert shown_answer.source == answer.replace("<!-- END SOLUTION -->", "").strip()
        else:
            assert "### BEGIN SOLUTION" in before.source and "SOLUTION" not in after.source
            kept = [line for line in before.source.splitlines() if "### " not in line]
            assert after.source.splitlines() == kept
    unmarked = [cell for cell in nb.cells if "SOLUTION -->" not in cell.source]
    assert all(
        by_id[cell.id].source == cell.source for cell in unmarked if "### BEGIN" not in cell.source
    )
