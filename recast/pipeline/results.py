"""The results document of a run (schema ``results``), built from merged cutflows."""

from __future__ import annotations

import importlib.metadata
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import schema
from ..analysis.bundle import Bundle
from ..analysis.cutflow import Cutflow
from ..io import write_json
from ..version import __version__
from .runner import UnitResult

log = logging.getLogger(__name__)

_PACKAGES = ("numpy", "awkward", "vector", "onnxruntime", "pyhepmc", "fastjet", "pyhf", "pythia8mc")


def _versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def scaled_cutflows(result: UnitResult, factor: float) -> dict[str, Cutflow]:
    return {region: flow.scaled(factor) for region, flow in result.cutflows.items()}


def build_results(
    bundle: Bundle,
    result: UnitResult,
    normalisation: Mapping[str, Any],
    seed: int,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The results document: yields per region (at σ·L), cutflows, normalisation, provenance.

    ``settings`` (from :func:`recast.pipeline.run.execute`): the option values, the regions
    skipped and why, the network files and the detector description used; all recorded.
    """
    factor = float(normalisation["factor"])
    flows = scaled_cutflows(result, factor)
    yields: dict[str, dict[str, Any]] = {}
    for region, flow in flows.items():
        yields[region] = {
            "value": float(flow.sumw[-1]),
            "mc_uncertainty": float(math.sqrt(max(flow.sumw2[-1], 0.0))),
            "raw": int(flow.raw[-1]),
        }
        if flow.sumw[0] != 0:  # JSON has no NaN: no efficiency of an empty sample
            yields[region]["efficiency"] = float(flow.sumw[-1] / flow.sumw[0])
        if not all(math.isfinite(v) for v in (*flow.sumw, *flow.sumw2)):
            from .errors import UsageError

            # weights that cancel to a tiny Σw: σ·L/Σw is finite, its square times Σw² is not
            raise UsageError(
                f"region {region}: the yield at σ × L is {flow.sumw[-1]:g} ± "
                f"{math.sqrt(max(flow.sumw2[-1], 0.0)):g}, not a finite number (σ × L / Σw = "
                f"{factor:.3g}, Σw = {normalisation['sum_weights']:g}): the event weights "
                "cancel; check the W lines of the files or give a sample with a positive Σw"
            )
    chosen = (settings or {}).get("detector")
    artefacts = {str(a["path"]): a["sha256"] for a in _artefacts(bundle.document, chosen)}
    document: dict[str, Any] = {
        "schema_version": schema.CURRENT_VERSION,
        "analysis": bundle.id,
        "normalisation": dict(normalisation),
        "yields": yields,
        "cutflows": {region: flow.to_dict() for region, flow in flows.items()},
        "provenance": {
            "recast_version": __version__,
            "packages": _versions(),
            "seed": seed,
            "bundle": bundle.provenance(),  # where it was and the digests of all its files
            "artefacts": artefacts,
            "inputs": result.inputs,
            "bad_events_skipped": result.bad_events,
            "empty_events": result.empty_events,  # no final-state particle; kept in Σw
        },
    }
    if settings:
        if settings.get("skipped"):
            document["skipped"] = dict(settings["skipped"])
        document["provenance"]["options"] = dict(settings.get("options", {}))
        document["provenance"]["networks"] = dict(settings.get("networks", {}))
        if chosen is not None:
            document["provenance"]["detector"] = dict(chosen)
    if result.generation:
        document["provenance"]["generation"] = result.generation
    if result.cross_sections:
        document["provenance"]["generator_cross_sections_pb"] = [
            {"value": xs, "error": err if math.isfinite(err) else None, "events": n}
            for xs, err, n in result.cross_sections
        ]
    schema.validate(document, "results", f"results of {bundle.id}")
    return document


def _artefacts(
    document: Mapping[str, Any], detector: Mapping[str, Any] | None = None
) -> list[Mapping[str, Any]]:
    """The artefacts a run used: the detector it ran with (the bundle's default unless
    ``detector``, as recorded in the settings, says otherwise) and the network cards."""
    if detector is not None:
        found: list[Mapping[str, Any]] = [detector]
    else:
        found = [document["detector"]] if "detector" in document else []
    found += list(document.get("networks", {}).values())
    return found


def write_results(path: str | Path, document: Mapping[str, Any]) -> None:
    """Atomically: an interrupted run never leaves a partial results file."""
    write_json(path, document)
    log.info("wrote %s", path)
