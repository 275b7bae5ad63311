"""``ReceptiveFieldTable``: the rows of ``receptive_field_table``, as text and as HTML."""

from __future__ import annotations

from .fields import LayerField

__all__ = ["ReceptiveFieldTable"]

_COLUMNS = (
    ("layer", "name"),
    ("type", "type"),
    ("kernel", "kernel_size"),
    ("stride", "stride"),
    ("pad", "padding"),
    ("dil", "dilation"),
    ("output", "output_shape"),
    ("field r", "size"),
    ("eff. stride S", "effective_stride"),
    ("eff. pad P", "effective_padding"),
)


class ReceptiveFieldTable(tuple):
    """The rows of :func:`receptive_field_table` (a tuple of :class:`LayerField`).

    Prints as a text table and shows as an HTML table in a notebook.
    """

    def _cells(self) -> list[list[str]]:
        def text(row: LayerField, attribute: str) -> str:
            value = getattr(row, attribute)
            if row.whole_input and attribute in ("size", "effective_stride"):
                return "whole input"
            if value is None:
                return ""
            if isinstance(value, tuple):
                return "×".join(str(v) for v in value)
            return str(value)

        return [[text(row, attribute) for _, attribute in _COLUMNS] for row in self]

    def __str__(self) -> str:
        header = [title for title, _ in _COLUMNS]
        body = self._cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
        lines[0] = lines[0].rstrip()
        lines.append("  ".join("-" * width for width in widths))
        for line in body:
            lines.append(
                "  ".join(
                    cell.ljust(width) if i < 2 else cell.rjust(width)
                    for i, (cell, width) in enumerate(zip(line, widths, strict=True))
                )
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"

        header = row([title for title, _ in _COLUMNS], "th")
        body = "".join(row(cells, "td") for cells in self._cells())
        return (
            '<table style="font-family:monospace;font-size:12px;border-spacing:14px 2px">'
            f"<thead>{header}</thead><tbody>{body}</tbody></table>"
        )
