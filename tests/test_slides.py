"""The slide decks (make slides): every solution notebook opens offline in headless Chromium.

Builds the decks once (course/slides.py), then opens each from file:// with every other
request blocked, and checks that reveal.js starts with one slide per `slide`/`subslide` cell,
that MathJax typesets without errors, that nothing logs an error, and that no slide holding
several cells is taller than the 1280 x 720 canvas. Each lecture deck shows the exercises as
students get them, no verdict, and a readable "Common mistakes" box. A screenshot of each
deck's first slide goes to build/slides/screenshots/<stem>.png, for a person to look at.

Needs Chromium (`chromium` on the PATH, or the CHROMIUM environment variable) and the npm
packages in slides/node_modules (`npm ci --prefix slides --ignore-scripts`, which `make test`
runs). Without them the tests are skipped, unless CNN_COURSE_REQUIRE_BROWSER=1 (CI) makes
them fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import nbformat
import pytest

from course import slides
from course.notebook import ROOT, SOLUTIONS, count_slides, exercises, is_shown, stems

BUILD = ROOT / "build" / "slides"
SCREENSHOTS = BUILD / "screenshots"
STEMS = stems(SOLUTIONS)
WIDTH, HEIGHT = 1280, 720  # the decks' reveal.js canvas (slides.EXPORTER_SETTINGS)
OVERFLOW_TOLERANCE = 24  # px: about one line, for fonts that differ between machines
REVEAL_MODULE = "vendor/reveal.js/dist/reveal.js"  # as the template require()s it
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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return {entry["stem"]: entry for entry in entries}


@pytest.fixture(scope="module")
def browser(decks):  # after the build, which forks worker processes
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        _unavailable("Chromium not found: install it (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


def open_offline(browser, url: str):
    """A 1280 x 720 page at ``url`` that may load only file:// URLs; returns (page, problems)."""
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console error: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def offline_only(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            problems.append(f"network request (the deck must work offline): {route.request.url}")
            route.abort()

    page.route("**/*", offline_only)
    page.goto(url, wait_until="load")
    return page, problems


MEASURE_SLIDES = """() => {
    Reveal.configure({transition: 'none', viewDistance: 1000});  // lay out every slide at once
    Reveal.layout();
    return Reveal.getSlides().map(slide => {
        const where = Reveal.getIndices(slide);
        const cells = [...slide.querySelectorAll('.jp-Cell')].filter(c => c.offsetHeight > 0);
        return {h: where.h, v: where.v, height: slide.scrollHeight, cells: cells.length,
                first: cells.length ? cells[0].id.replace('cell-id=', '') : ''};
    });
}"""


@pytest.mark.parametrize("stem", STEMS)
def test_deck_opens_offline(stem, decks, browser):
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    deck = BUILD / decks[stem]["file"]
    page, problems = open_offline(browser, deck.as_uri())
    try:
        start_reveal(page)
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total == count_slides(nb) == decks[stem]["slides"], (
            f"{stem}: reveal.js shows {total} slides, the notebook has "
            f"{count_slides(nb)} slide and subslide cells"
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

        slides = page.evaluate(MEASURE_SLIDES)
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{stem}.png"))
        assert not problems, f"{stem}:\n" + "\n".join(problems)

        too_tall = [
            f"slide {s['h'] + 1}.{s['v']} (cell {s['first']}): {s['height']} px"
            for s in slides
            if s["height"] > HEIGHT + OVERFLOW_TOLERANCE and s["cells"] > 1
        ]
        (SCREENSHOTS / f"{stem}.overflow.json").write_text(json.dumps(too_tall, indent=1))
        assert not too_tall, (
            f"{stem}: slides taller than {HEIGHT} px that could be split into subslides "
            "(CONTRIBUTING.md, Slides):\n" + "\n".join(too_tall)
        )
    finally:
        page.close()


def start_reveal(page) -> None:
    page.wait_for_function("typeof require === 'function' && typeof MathJax === 'object'")
    page.evaluate(
        "module => new Promise((resolve, reject) => require([module], reveal => {"
        " window.Reveal = reveal; resolve(); }, reject))",
        REVEAL_MODULE,
    )
    page.wait_for_function("Reveal.isReady()", timeout=15_000)


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
