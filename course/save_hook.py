"""Jupyter's pre-save hook for the course: presenting never writes widget state into a notebook.

``make lab`` starts JupyterLab with
``--ContentsManager.pre_save_hook=course.save_hook.strip_widget_state``. A live explorer
(``helpers.explore``) or a RISE slideshow (which saves before it starts) would otherwise
store each widget's state in ``metadata.widgets`` and a widget-view entry
(``application/vnd.jupyter.widget-view+json``) in its output: model ids that differ on
every run, and that no static viewer or ``make test`` can use. What is kept of a widget is
its static picture, as ``python -m course execute`` stores it.
"""

from __future__ import annotations

from course.notebook import strip_widget_state as _strip


def strip_widget_state(model: dict, **_) -> None:
    """Jupyter Server calls this with the model about to be saved (``model["content"]`` is the
    notebook as a dict when ``model["type"] == "notebook"``)."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        _strip(model["content"])
