"""Record, for every figure a notebook shows, the size of its smallest text in pixels.

``python -m course execute`` starts each kernel with :func:`install`. Then each matplotlib
figure displayed inline gets ``{"course": {"smallest_text_px": ...}}`` in its output metadata:
the font size of the smallest piece of text actually drawn (tick labels, titles, annotations,
legend entries), in pixels of the stored PNG. nbval does not compare metadata; the deck audit
(course/deck_audit.py) multiplies it by the scale the figure is drawn at on the slide, so a
figure whose labels would be too small to read when projected is reported.
"""

from __future__ import annotations

import io

KEY = "course"
FIELD = "smallest_text_px"
EXEC_LINE = "__import__('course.figure_text').figure_text.install()"
"""The kernel option that installs the hook: ``--InteractiveShellApp.exec_lines=[...]``."""


def smallest_text_px(figure) -> float | None:
    """Draw ``figure`` as the inline backend does (PNG at its dpi, tight bounding box) and
    return the smallest font size drawn, in pixels (None: no text)."""
    from matplotlib.backends import backend_agg

    sizes: list[float] = []
    original = backend_agg.RendererAgg.draw_text

    def draw_text(renderer, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if str(s).strip():
            sizes.append(prop.get_size_in_points() * renderer.dpi / 72)
        return original(renderer, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    backend_agg.RendererAgg.draw_text = draw_text
    try:
        figure.savefig(io.BytesIO(), format="png", dpi=figure.dpi, bbox_inches="tight")
    finally:
        backend_agg.RendererAgg.draw_text = original
    return round(min(sizes), 2) if sizes else None


def install() -> None:
    """Add the smallest text size to the metadata of every figure the inline backend shows."""
    from matplotlib_inline import backend_inline

    fetch = backend_inline._fetch_figure_metadata
    if getattr(fetch, "records_text", False):
        return

    def fetch_with_text(figure):
        metadata = fetch(figure) or {}
        smallest = smallest_text_px(figure)
        if smallest is not None:
            metadata[KEY] = {FIELD: smallest}
        return metadata or None

    fetch_with_text.records_text = True
    fetch_with_text.__wrapped__ = fetch
    backend_inline._fetch_figure_metadata = fetch_with_text
