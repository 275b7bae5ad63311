"""Measure every slide of a built deck the way a projector shows it: 1280 x 720, nothing scrolls.

Usage::

    python -m course audit                   # build and measure every deck
    python -m course audit 05 07 --lecture   # some notebooks; also their lecture decks
    python -m course audit 05 --no-build     # measure the decks already in build/slides/
    python -m course audit 05 --shots --out /tmp/decks   # build there; each slide as a PNG

Opens each deck from file:// in headless Chromium (Playwright, every non-file request
blocked), steps to each slide and measures:

* **height**: a slide taller than the 720 px canvas scrolls (``SlideLimits.height``);
* **text**: the smallest visible text on the slide, body (prose, headings, tables, also the
  tables of numbers a cell prints) and code (code cells, the text they print), in CSS px on
  the canvas; maths is measured by its root (sub- and superscripts are meant to be
  smaller); speaker notes are not on screen;
* **figures**: each image's drawn width over its own width: under 95 % a figure was shrunk
  (its labels with it); and its smallest text as drawn, from the size recorded when the
  notebook was executed (course/figure_text.py), at least 14 px;
* **controls**: no text or figure under reveal.js's navigation arrows or the slide number.

and once per deck that the verdict symbols (✅ ⏳ ❌) are drawn by a colour font, not as empty
boxes. Writes ``build/slides/audit/<deck>.json`` (every slide's numbers and problems) and a
contact sheet ``build/slides/audit/<deck>.png`` (every slide as a thumbnail, problems framed
in red) for an instructor to skim. ``tests/test_slides.py`` runs the same audit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path

from course.notebook import ROOT, SOLUTIONS, SelectionError, select

BUILD = ROOT / "build" / "slides"
AUDIT = BUILD / "audit"
WIDTH, HEIGHT = 1280, 720  # the decks' canvas (course/slides.py EXPORTER_SETTINGS)
MARGIN = 0.04  # reveal.js's default margin around the canvas
VIEWPORT = {"width": round(WIDTH * (1 + MARGIN)), "height": round(HEIGHT * (1 + MARGIN))}
REVEAL_MODULE = "vendor/reveal.js/dist/reveal.js"  # as the template require()s it


@dataclass(frozen=True)
class SlideLimits:
    """What a projected slide must meet (issue #20): CSS px on the 1280 x 720 canvas."""

    height: int = HEIGHT
    body: float = 24.0
    code: float = 20.0
    figure_scale: float = 0.95
    figure_text: float = 14.0


LIMITS = SlideLimits()


class BrowserMissing(RuntimeError):
    """Chromium or Playwright is not installed."""


@dataclass
class Slide:
    """One slide's measurements; ``number`` is what reveal.js shows in the corner."""

    number: int
    indices: str  # reveal.js "h.v"
    cell: str  # id of the slide's first cell
    height: int
    body: float | None  # smallest body text, px (None: no body text)
    code: float | None  # smallest code text, px
    figure_scale: float | None  # the most shrunk figure's drawn / own width
    figure_text: float | None  # smallest text inside a figure as drawn, px (None: not recorded)
    under_controls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def judge(self, limits: SlideLimits = LIMITS) -> list[str]:
        found = []
        if self.height > limits.height:
            found.append(f"taller than the canvas: {self.height} px > {limits.height}")
        if self.body is not None and self.body < limits.body:
            found.append(f"body text {self.body:g} px < {limits.body:g}")
        if self.code is not None and self.code < limits.code:
            found.append(f"code text {self.code:g} px < {limits.code:g}")
        if self.figure_scale is not None and self.figure_scale < limits.figure_scale:
            found.append(f"figure shrunk to {self.figure_scale:.0%}")
        if self.figure_text is not None and self.figure_text < limits.figure_text:
            found.append(f"figure text {self.figure_text:.1f} px < {limits.figure_text:g}")
        if self.under_controls:
            found.append(f"under the navigation controls: {self.under_controls[0]}")
        self.problems = found
        return found


@dataclass
class DeckReport:
    deck: str
    slides: list[Slide]
    console: list[str]  # errors the page logged, requests it tried to make
    emoji: bool  # the verdict symbols are drawn in colour
    sheet: str = ""

    @property
    def failing(self) -> list[Slide]:
        return [slide for slide in self.slides if slide.problems]

    def summary(self) -> dict:
        worst = {
            "scroll": sum(s.height > LIMITS.height for s in self.slides),
            "small body": sum(s.body is not None and s.body < LIMITS.body for s in self.slides),
            "small code": sum(s.code is not None and s.code < LIMITS.code for s in self.slides),
            "shrunk figure": sum(
                s.figure_scale is not None and s.figure_scale < LIMITS.figure_scale
                for s in self.slides
            ),
            "small figure text": sum(
                s.figure_text is not None and s.figure_text < LIMITS.figure_text
                for s in self.slides
            ),
            "under controls": sum(bool(s.under_controls) for s in self.slides),
        }
        return {"deck": self.deck, "slides": len(self.slides), **worst}


# Runs in the page. For the slide now shown: its height, the smallest text of each kind, the
# most shrunk image, and what overlaps the controls / slide number.
MEASURE = """() => {
    const slide = Reveal.getCurrentSlide();
    const visible = el => el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== 'hidden';
    // code: code cells and everything they print (monospace tables included); body: the rest
    const CODE = 'pre, code, .jp-CodeCell .jp-InputArea, .jp-OutputArea-output';
    const MATH = '.MathJax_CHTML, .mjx-chtml, .MathJax';
    let body = null, code = null;
    const note = (kind, px) => {
        if (kind === 'code') code = code === null ? px : Math.min(code, px);
        else body = body === null ? px : Math.min(body, px);
    };
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        let el = node.parentElement;
        if (el.closest('aside.notes, script, style, .MathJax_Preview, .MJX_Assistive_MathML'))
            continue;
        const math = el.closest(MATH);
        if (math) el = math;  // maths by its root: indices are meant to be smaller
        if (!visible(el)) continue;
        const kind = el.closest('pre, code') ? 'code'
            : el.closest('table') ? 'body'  // tables of numbers are read like prose
            : el.closest(CODE) ? 'code' : 'body';
        note(kind, parseFloat(getComputedStyle(el).fontSize));
    }
    let scale = null, figureText = null;
    for (const img of slide.querySelectorAll('img')) {
        if (!visible(img) || !img.naturalWidth) continue;
        const own = parseFloat(img.getAttribute('width')) || img.naturalWidth;
        const drawn = img.offsetWidth / own;
        scale = scale === null ? drawn : Math.min(scale, drawn);
        const recorded = img.closest('[data-text-px]');  // px in the PNG (course/figure_text.py)
        if (recorded) {
            const px = parseFloat(recorded.dataset.textPx) * img.offsetWidth / img.naturalWidth;
            figureText = figureText === null ? px : Math.min(figureText, px);
        }
    }
    const boxes = [...document.querySelectorAll('.reveal .controls button, .reveal .slide-number')]
        .filter(e => visible(e)).map(e => e.getBoundingClientRect())
        .filter(r => r.width > 0 && r.height > 0);
    const overlaps = (a, b) => a.left < b.right && b.left < a.right
        && a.top < b.bottom && b.top < a.bottom;
    const under = [];  // the ink, not the boxes: each line of text, each image
    const check = (rects, what) => {
        if ([...rects].some(r => r.width && boxes.some(box => overlaps(r, box))))
            under.push(what.trim().slice(0, 40));
    };
    const texts = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        if (!node.textContent.trim() || !visible(node.parentElement)
            || node.parentElement.closest('aside.notes, script, style')) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        check(range.getClientRects(), node.textContent);
    }
    for (const img of slide.querySelectorAll('img'))
        if (visible(img)) check(img.getClientRects(), 'a figure');
    const cell = slide.querySelector('.jp-Cell');
    return {height: slide.scrollHeight, body, code, scale, figureText, under,
            cell: cell ? cell.id.replace('cell-id=', '') : ''};
}"""

# The deck re-typesets a slide's maths when it is shown (the template's slidechanged handler):
# wait until every formula on the current slide is drawn again (at most 5 s).
MATH_DRAWN = """() => new Promise(resolve => {
    const start = performance.now();
    const drawn = () => {
        const slide = Reveal.getCurrentSlide();
        return [...slide.querySelectorAll('script[type^="math/tex"]')]
            .filter(script => !script.closest('aside.notes'))
            .every(script => {
                const frame = document.getElementById(script.id + '-Frame');
                return frame && frame.getBoundingClientRect().width > 0;
            });
    };
    const wait = () => MathJax.Hub.Queue(() => {
        if (drawn() || performance.now() - start > 5000) resolve();
        else setTimeout(wait, 50);
    });
    wait();
})"""

# A colour font draws ✅ green; without one it is an outline box (or nothing).
EMOJI = """() => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 40;
    const context = canvas.getContext('2d');
    const probe = document.querySelector('.reveal pre') || document.body;
    context.font = '32px ' + getComputedStyle(probe).fontFamily;
    context.textBaseline = 'top';
    context.fillStyle = 'black';
    context.fillText('\\u2705', 2, 2);
    const data = context.getImageData(0, 0, 40, 40).data;
    for (let i = 0; i < data.length; i += 4)
        if (data[i + 1] > data[i] + 30 && data[i + 1] > data[i + 2] + 30 && data[i + 3] > 128)
            return true;
    return false;
}"""


def chromium_path() -> str:
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        raise BrowserMissing("Chromium not found: install it (Debian: apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise BrowserMissing("playwright is not installed (pip install -e '.[dev]')") from None
    return executable


def open_offline(browser, url: str, viewport: dict = VIEWPORT):
    """A page at ``url`` that may load only file:// URLs; returns (page, problems)."""
    page = browser.new_page(viewport=viewport)
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


def start_reveal(page) -> None:
    """Wait for require.js and MathJax, expose reveal.js as ``window.Reveal``, wait until ready."""
    page.wait_for_function("typeof require === 'function' && typeof MathJax === 'object'")
    page.evaluate(
        "module => new Promise((resolve, reject) => require([module], reveal => {"
        " window.Reveal = reveal; resolve(); }, reject))",
        REVEAL_MODULE,
    )
    page.wait_for_function("Reveal.isReady()", timeout=15_000)
    page.evaluate("() => new Promise(resolve => MathJax.Hub.Queue(resolve))")
    page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")


def audit_page(
    page, deck: str, problems: list[str], sheet: Path | None, shots_dir: Path | None = None
) -> DeckReport:
    """Step through every slide of the started deck on ``page``; measure, and screenshot
    (a contact sheet at ``sheet``; each slide as ``shots_dir/NNN.png``)."""
    start_reveal(page)
    where = page.evaluate(
        "Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); return [i.h, i.v || 0]; })"
    )
    slides, shots = [], []
    for number, (h, v) in enumerate(where, start=1):
        page.evaluate(f"Reveal.slide({h}, {v}, 1000)")  # every fragment shown
        page.evaluate(MATH_DRAWN)
        found = page.evaluate(MEASURE)
        slide = Slide(
            number=number,
            indices=f"{h}.{v}",
            cell=found["cell"],
            height=found["height"],
            body=found["body"],
            code=found["code"],
            figure_scale=found["scale"],
            figure_text=found["figureText"],
            under_controls=found["under"],
        )
        slide.judge()
        slides.append(slide)
        if sheet is not None or shots_dir is not None:
            shot = page.screenshot(type="png")
            shots.append(shot)
            if shots_dir is not None:
                shots_dir.mkdir(parents=True, exist_ok=True)
                (shots_dir / f"{number:03d}.png").write_bytes(shot)
    report = DeckReport(deck, slides, list(problems), emoji=page.evaluate(EMOJI))
    if sheet is not None:
        contact_sheet(shots, slides, sheet, title=deck)
        report.sheet = str(sheet)
    return report


def contact_sheet(shots: list[bytes], slides: list[Slide], path: Path, title: str) -> None:
    """Every slide as a 320 x 180 thumbnail, six to a row, numbered; problems framed in red."""
    from PIL import Image, ImageDraw

    columns, width, height, gap, label = 6, 320, 180, 8, 22
    rows = (len(shots) + columns - 1) // columns
    sheet = Image.new(
        "RGB",
        (columns * (width + gap) + gap, label + rows * (height + label + gap) + gap),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 4), f"{title}: {len(shots)} slides, red = a problem", fill="black")
    for index, (shot, slide) in enumerate(zip(shots, slides, strict=True)):
        row, column = divmod(index, columns)
        x = gap + column * (width + gap)
        y = label + gap + row * (height + label + gap)
        thumb = Image.open(BytesIO(shot)).convert("RGB").resize((width, height))
        sheet.paste(thumb, (x, y + label))
        colour = "red" if slide.problems else "#999999"
        draw.rectangle(
            [x - 2, y + label - 2, x + width + 1, y + label + height + 1],
            outline=colour,
            width=3 if slide.problems else 1,
        )
        text = f"{slide.number}" + (f"  {slide.problems[0]}" if slide.problems else "")
        draw.text((x, y + 4), text[:52], fill=colour if slide.problems else "black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)


def audit_decks(
    files: list[Path], out: Path = AUDIT, sheets: bool = True, shots: bool = False
) -> list[DeckReport]:
    """Audit each deck file in a fresh headless Chromium; see :func:`audit_with`."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            return audit_with(browser, files, out, sheets, shots)
        finally:
            browser.close()


def audit_with(
    browser, files: list[Path], out: Path = AUDIT, sheets: bool = True, shots: bool = False
) -> list[DeckReport]:
    """Audit each deck file with a Playwright ``browser``; write ``out/<deck>.json`` (and the
    contact sheet ``.png``, and with ``shots`` each slide as ``out/<deck>/NNN.png``)."""
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for file in files:
        deck = file.name.removesuffix(".html")
        page, problems = open_offline(browser, file.as_uri())
        try:
            sheet = out / f"{deck}.png" if sheets else None
            shots_dir = out / deck if shots else None
            report = audit_page(page, deck, problems, sheet, shots_dir)
        finally:
            page.close()
        summary = {**report.summary(), "emoji": report.emoji, "console": report.console}
        slides = [asdict(slide) for slide in report.slides]
        (out / f"{deck}.json").write_text(
            json.dumps({**summary, "slides": slides}, indent=1, ensure_ascii=False),
            encoding="utf-8",
        )
        reports.append(report)
    return reports


def print_reports(reports: list[DeckReport], verbose: bool = True) -> None:
    columns = [
        "slides",
        "scroll",
        "small body",
        "small code",
        "shrunk figure",
        "small figure text",
        "under controls",
    ]
    print(f"{'deck':<40}" + "".join(f"{name:>{len(name) + 2}}" for name in columns))
    for report in reports:
        row = report.summary()
        print(f"{report.deck:<40}" + "".join(f"{row[name]:>{len(name) + 2}}" for name in columns))
    for report in reports:
        if not report.emoji:
            print(f"{report.deck}: the verdict symbols are not drawn in colour (no emoji font)")
        for line in report.console:
            print(f"{report.deck}: {line}")
        if verbose:
            for slide in report.failing:
                print(
                    f"{report.deck} slide {slide.number} (cell {slide.cell}): "
                    + "; ".join(slide.problems)
                )


def main(argv: list[str] | None = None) -> int:
    from course import slides

    parser = argparse.ArgumentParser(
        prog="python -m course audit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "names", nargs="*", help="notebooks: stems, prefixes or files (default: all)"
    )
    parser.add_argument("--lecture", action="store_true", help="also audit the lecture decks")
    parser.add_argument("--no-build", action="store_true", help="audit the decks already built")
    parser.add_argument("--no-sheets", action="store_true", help="skip the contact sheets")
    parser.add_argument("--quiet", action="store_true", help="only the table")
    parser.add_argument("--shots", action="store_true", help="also save each slide as a PNG")
    parser.add_argument("--out", type=Path, default=BUILD, help="where decks are built")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        paths = select(args.names, SOLUTIONS)
        if not args.no_build:
            slides.build(args.names, args.out)
        kinds = ["instructor", "lecture"] if args.lecture else ["instructor"]
        files = [args.out / slides.DECKS[kind].format(stem=p.stem) for p in paths for kind in kinds]
        out = args.out / "audit"
        reports = audit_decks(files, out, sheets=not args.no_sheets, shots=args.shots)
    except (SelectionError, slides.SlidesError, BrowserMissing) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_reports(reports, verbose=not args.quiet)
    bad = sum(len(r.failing) + (not r.emoji) + len(r.console) for r in reports)
    print(
        f"{len(reports)} decks, {sum(len(r.slides) for r in reports)} slides, "
        f"{bad} problems, {time.perf_counter() - start:.0f} s; contact sheets in {out}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
