"""Where a card's model files are found, and whether they are the files the card names.

A card names each ONNX file by a path relative to the card and by a digest: a ``sha256``, or
a ``git_blob`` id (full or a prefix of at least 7 hex digits) for files known only from a
git repository. A file marked ``"distributed": false`` is not shipped (its size or licence
forbids it); the user supplies it and it is looked for, in this order:

1. a path given explicitly (``recast run --network NAME=PATH``: the file itself, or a folder
   holding a file of the same name);
2. beside the card (the path the card names);
3. the user data folder, ``$RECAST_DATA_DIR`` or ``$XDG_DATA_HOME/recast-nn`` (by default
   ``~/.local/share/recast-nn``), under ``networks/``.

Whatever the place, the digest is checked before the file is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io import sha256_file

log = logging.getLogger(__name__)

#: environment variable naming the user data folder
DATA_DIR_VARIABLE = "RECAST_DATA_DIR"
_CHUNK = 1 << 20


def user_data_dir() -> Path:
    """The folder where users keep files that bundles do not ship (networks/, ...)."""
    explicit = os.environ.get(DATA_DIR_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "recast-nn"


def git_blob_id(path: str | Path) -> str:
    """The id git gives the file's content: sha1 of ``blob <size>\\0`` followed by the bytes."""
    path = Path(path)
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def digest_field(entry: Mapping[str, Any]) -> str:
    """The digest a file entry records: ``sha256`` if present, else ``git_blob``."""
    return "sha256" if "sha256" in entry else "git_blob"


def digest_mismatch(path: Path, entry: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """``(field, recorded, actual)`` when the file is not the one the entry names, else None."""
    name = digest_field(entry)
    expected = str(entry[name])
    if name == "sha256":
        actual = sha256_file(path)
        return None if actual == expected else (name, expected, actual)
    actual = git_blob_id(path)
    return None if actual.startswith(expected) else (name, expected, actual)


def is_distributed(entry: Mapping[str, Any]) -> bool:
    return bool(entry.get("distributed", True))


def candidates(beside_card: Path) -> list[Path]:
    """The places a model file is looked for when no path is given explicitly, in order."""
    return [beside_card, user_data_dir() / "networks" / beside_card.name]


def locate(beside_card: Path, override: Path | None = None) -> Path:
    """The first existing candidate; the card's own path when none exists.

    An explicit ``override`` that does not exist is returned as is: the user named that file,
    so a missing file must be reported under that name, not silently replaced.
    """
    if override is not None:
        return override / beside_card.name if override.is_dir() else override
    for place in candidates(beside_card):
        if place.is_file():
            if place != beside_card:
                log.info("using %s for %s", place, beside_card.name)
            return place
    return beside_card
