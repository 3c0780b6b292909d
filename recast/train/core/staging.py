"""How the three studies write their files: all or nothing.

Every file goes to a hidden folder beside the output folder, and moves into it only when the
whole study succeeded; a study that fails (or is interrupted) leaves nothing, and the files
already in the output folder stay as they were.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import OutputError

log = logging.getLogger(__name__)


class Staging:
    """The hidden folder a study writes into; its files move to ``folder`` on success."""

    def __init__(self, folder: Path, staging: Path) -> None:
        self.folder = folder
        self.path = staging

    def final(self, path: Path) -> Path:
        """Where a file written in the staging folder will be once the study succeeded."""
        return self.folder / Path(path).relative_to(self.path)

    def relocate(self, value: Any) -> Any:
        """``value`` (a report) with every string naming a staged file renamed to its final
        place: a report records the maps it checked by path."""
        if isinstance(value, str):
            prefix = str(self.path)
            return str(self.folder) + value[len(prefix) :] if value.startswith(prefix) else value
        if isinstance(value, Mapping):
            return {k: self.relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.relocate(v) for v in value]
        return value


@contextmanager
def staged(folder: str | Path) -> Iterator[Staging]:
    """Write a study's files into a hidden folder next to ``folder`` (made in its nearest
    existing ancestor: the same file system, so the final moves are renames); move them into
    ``folder`` (created if needed) only when the block ends without an exception. On any
    exception, KeyboardInterrupt included, the staged files are removed and ``folder`` is as
    it was."""
    folder = Path(folder).resolve()
    anchor = folder
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise OutputError(f"{anchor} is a file, not a folder; the output folder {folder} is in it")
    place = Path(tempfile.mkdtemp(prefix=".recast-staging-", dir=anchor))
    try:
        yield Staging(folder, place)
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(place.iterdir()):
            os.replace(path, folder / path.name)
    finally:
        shutil.rmtree(place, ignore_errors=True)


__all__ = ["Staging", "staged"]
