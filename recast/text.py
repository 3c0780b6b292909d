"""Strings from documents and file names, printed as they are.

A region, feature or file name is data: ``[/x]`` in it is not Rich markup (it would crash the
table, and ``ev[old].hepmc`` would print as ``ev.hepmc``), and an escape sequence in it must
not reach the terminal (``ESC[2J`` clears the screen). :class:`Table` is a Rich table whose
string cells, titles, captions and headers are shown literally, control characters written
as ``\\x1b``-style escapes; markup meant by recast itself is passed as :class:`rich.text.Text`.
"""

from __future__ import annotations

import re
from typing import Any

import rich.table
from rich.text import Text

#: C0 and C1 control characters and DEL; tab and newline only where a caller keeps them
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``) written as an escape."""
    return _CONTROL.sub(
        lambda m: m.group() if m.group() in keep else repr(m.group())[1:-1], str(text)
    )


def plain(text: object) -> Text:
    """A literal, printable Text: no markup is interpreted."""
    return Text(printable(text))


def _literal(value: Any) -> Any:
    return plain(value) if isinstance(value, str) else value


class Table(rich.table.Table):
    """A rich Table that shows its strings literally (see the module's docstring)."""

    def __init__(self, *headers: Any, **options: Any) -> None:
        for key in ("title", "caption"):
            if key in options:
                options[key] = _literal(options[key])
        super().__init__(*(_literal(h) for h in headers), **options)

    def __setattr__(self, name: str, value: Any) -> None:
        # ``table.caption = f"..."`` after construction is literal too
        super().__setattr__(name, _literal(value) if name in ("title", "caption") else value)

    def add_column(self, header: Any = "", *args: Any, **options: Any) -> None:
        super().add_column(_literal(header), *args, **options)

    def add_row(self, *renderables: Any, **options: Any) -> None:
        super().add_row(*(_literal(r) for r in renderables), **options)


__all__ = ["Table", "plain", "printable"]
