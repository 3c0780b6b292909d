"""Read back the samples that :mod:`reference_experiment.samples` wrote.

::

    from reference_experiment.read import sample_summary, sample_chunks, paired_chunks
    summary = sample_summary("build/demo_multib", "Gtt_2100_800")   # sample.json
    for truth, reco in paired_chunks("build/demo_multib", "Gtt_2100_800"):
        ...  # the same events: truth objects and the reference detector's objects

Every chunk is one block file, in block order. A missing sample names the command that makes
it; blocks whose events do not line up between the two kinds are refused.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.errors import EventFileError, UsageError
from recast.events.cache import read_cache

log = logging.getLogger(__name__)

KINDS = ("objects", "detector")


def _folder(out: str | os.PathLike[str], name: str) -> Path:
    folder = Path(out) / name
    if not (folder / "sample.json").is_file():
        raise UsageError(
            f"{folder}: no finished sample {name!r} (sample.json is missing); make it with "
            f"`python -m reference_experiment.samples --what {name} --out {out}`"
        )
    return folder


def sample_summary(out: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """The sample's ``sample.json``: events, cross-section (pb), blocks, seeds, timing."""
    path = _folder(out, name) / "sample.json"
    from recast.schema import load_json

    summary: dict[str, Any] = load_json(path)
    return summary


def sample_chunks(
    out: str | os.PathLike[str], name: str, kind: str = "detector"
) -> Iterator[ak.Array]:
    """The chunks of one kind (``objects``: truth objects, ``detector``: reconstructed)."""
    if kind not in KINDS:
        raise UsageError(f"kind {kind!r} is not known; use one of {', '.join(KINDS)}")
    summary = sample_summary(out, name)
    folder = _folder(out, name)
    for block in summary["blocks"]:
        path = folder / block[kind]
        if not path.is_file():
            raise EventFileError(
                f"{path}: block {block['index']} of {name} is missing; rerun the samples command"
            )
        yield from read_cache(path)


def paired_chunks(out: str | os.PathLike[str], name: str) -> Iterator[tuple[ak.Array, ak.Array]]:
    """(truth objects, detector objects) of the same events, chunk by chunk."""
    truth_chunks = sample_chunks(out, name, "objects")
    for reco in sample_chunks(out, name, "detector"):
        truth = next(truth_chunks, None)
        same = (
            truth is not None
            and len(truth) == len(reco)
            and np.array_equal(np.asarray(truth["event_number"]), np.asarray(reco["event_number"]))
        )
        if not same:
            raise EventFileError(
                f"{Path(out) / name}: the objects and detector files hold different events; "
                "delete the sample folder and make it again"
            )
        yield truth, reco


__all__ = ["KINDS", "paired_chunks", "sample_chunks", "sample_summary"]
