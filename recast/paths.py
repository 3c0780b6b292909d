"""Paths named inside documents stay inside the document's folder.

A bundle, a card, a detector description, a map or a scan grid names other files by paths
relative to itself. Those paths are data from whoever wrote the document, so they are
confined: :func:`inside` resolves links and refuses a path that leaves the folder (``..``,
an absolute path, or a symbolic link pointing elsewhere). Paths the user gives on the command
line are the user's choice and are not confined.
"""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath

from .errors import InvalidDocumentError, PathEscapeError


def inside(folder: str | Path, relative: str, source: str | Path, field: str) -> Path:
    """``folder / relative``, refused with :class:`PathEscapeError` when it leaves ``folder``.

    ``source`` (the document) and ``field`` (its JSON path, e.g. ``networks.x.path``) name
    the culprit in the message. Nothing is opened: the file's content is never read here.
    """
    folder = Path(folder)
    if Path(relative).is_absolute() or PureWindowsPath(relative).drive:
        raise PathEscapeError(str(source), field, relative, str(folder))
    joined = Path(os.path.normpath(folder / relative))
    root = folder.resolve()
    try:
        resolved = joined.resolve()  # follows every link on the way
    except (RuntimeError, OSError):  # a link loop: RuntimeError before Python 3.13, then ELOOP
        raise InvalidDocumentError(
            str(source),
            [(field, f"{relative!r} is a symbolic link loop: replace the link with the file")],
        ) from None
    if not resolved.is_relative_to(root):
        raise PathEscapeError(str(source), field, relative, str(folder))
    return joined
