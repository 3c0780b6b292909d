"""`recast run` and `recast validate` as API functions: parse once, run, write atomically."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cutflow import compare
from ..errors import UsageError, closest
from ..io import write_json
from .bundle import load_bundle
from .runner import (
    ChainOptions,
    UnitResult,
    WorkUnit,
    normalisation,
    parse_cross_section,
    run_units,
    units_for,
)

log = logging.getLogger(__name__)


def _units(
    events: Sequence[str | Path],
    pythia_slha: Path | None,
    n_events: int | None,
    seed: int,
    workers: int,
) -> list[WorkUnit]:
    if pythia_slha is not None:
        if events:
            raise UsageError("give event files or --pythia-slha, not both")
        if not n_events or n_events < 1:
            raise UsageError("--pythia-slha needs --events N (a positive number)")
        if not Path(pythia_slha).is_file():
            raise UsageError(f"--pythia-slha {pythia_slha}: no such file")
        # one block per worker, each with its own seed and event numbers
        parts = max(1, workers)
        sizes = [n_events // parts + (i < n_events % parts) for i in range(parts)]
        return [
            WorkUnit(
                "pythia", pythia_setup=str(pythia_slha), seed=seed * 1000 + i + 1, n_events=size
            )
            for i, size in enumerate(sizes)
            if size
        ]
    for path in events:
        if not Path(path).is_file():
            raise UsageError(f"{path}: no such event file")
    return units_for(events, workers)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    import sys

    if not sys.stderr.isatty():
        return None

    def report(part: UnitResult) -> None:
        rate = part.events / part.seconds if part.seconds else float("nan")
        log.warning("processed %d events (%.0f events/s)", part.events, rate)

    return report


def execute(
    analysis: str | Path,
    events: Sequence[str | Path],
    *,
    seed: int = 1,
    chunk_size: int = 1000,
    workers: int = 1,
    scheduler: str | None = None,
    skip_bad: bool = False,
    pythia_slha: Path | None = None,
    n_events: int | None = None,
    progress: bool = False,
) -> tuple[Any, UnitResult]:
    """Run the chain over all inputs; the merged, unnormalised result."""
    bundle = load_bundle(analysis)
    if chunk_size < 1:
        raise UsageError(f"--chunk-size must be positive, not {chunk_size}")
    options = ChainOptions(str(bundle.folder), seed=seed, chunk_size=chunk_size, skip_bad=skip_bad)
    units = _units(events, pythia_slha, n_events, seed, workers)
    result = run_units(
        units, options, workers=workers, scheduler=scheduler, progress=_progress(progress)
    )
    return bundle, result


def recast_run(
    analysis: str | Path,
    events: Sequence[str | Path],
    *,
    xsec: str | None = None,
    lumi: float | None = None,
    seed: int = 1,
    chunk_size: int = 1000,
    workers: int = 1,
    scheduler: str | None = None,
    skip_bad: bool = False,
    pythia_slha: Path | None = None,
    n_events: int | None = None,
    output: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Yields and cutflows of every region at σ × L, as a validated results document."""
    from ..results import build_results

    bundle, result = execute(
        analysis,
        events,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        scheduler=scheduler,
        skip_bad=skip_bad,
        pythia_slha=pythia_slha,
        n_events=n_events,
        progress=progress,
    )
    cross_section = parse_cross_section(xsec) if xsec is not None else None
    luminosity = lumi if lumi is not None else float(bundle.document["luminosity"])
    document = build_results(bundle, result, normalisation(result, cross_section, luminosity), seed)
    if output:
        write_json(output, document)
    return document


def recast_validate(
    analysis: str | Path,
    events: Sequence[str | Path],
    *,
    benchmark: str,
    xsec: str | None = None,
    lumi: float | None = None,
    seed: int = 1,
    chunk_size: int = 1000,
    workers: int = 1,
    scheduler: str | None = None,
    skip_bad: bool = False,
    output: str | None = None,
    plot: Path | None = None,
) -> dict[str, Any]:
    """Every published cutflow of ``benchmark`` against the recast one, with a verdict."""
    bundle = load_bundle(analysis)
    published = list(bundle.published(benchmark=benchmark))
    if not published:
        names = sorted({c["benchmark"]["name"] for c in bundle.cutflows})
        raise UsageError(
            f"{bundle.id} has no published cutflow for benchmark {benchmark!r}; "
            f"it has {names or 'none'}.{closest(benchmark, names)}"
        )
    if xsec is None and "cross_section_pb" in published[0]["benchmark"]:
        xsec = f"{published[0]['benchmark']['cross_section_pb']}pb"
    bundle, result = execute(
        analysis,
        events,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        scheduler=scheduler,
        skip_bad=skip_bad,
    )
    cross_section = parse_cross_section(xsec) if xsec is not None else None
    luminosity = lumi if lumi is not None else float(bundle.document["luminosity"])
    norm = normalisation(result, cross_section, luminosity)
    tolerance = bundle.document.get("validation", {})
    regions = []
    for cutflow in published:
        flow = result.cutflows[cutflow["region"]]
        if cutflow["unit"] == "events":
            flow, initial = flow.scaled(norm["factor"]), cutflow.get("initial", math.nan)
            if math.isnan(initial):
                initial = float(flow.sumw[0])
        else:
            total = float(flow.sumw[0])
            flow, initial = flow.scaled(1.0 / total if total else 0.0), cutflow.get("initial", 1.0)
        rows = compare(
            flow,
            cutflow["steps"],
            initial,
            relative_tolerance=tolerance.get("relative_tolerance", 0.2),
            max_pull=tolerance.get("max_pull", 2.0),
        )
        regions.append(
            {
                "region": cutflow["region"],
                "unit": cutflow["unit"],
                "steps": [vars(r) for r in rows],
                "passed": all(r.passed for r in rows),
            }
        )
    verdict = {
        "analysis": bundle.id,
        "benchmark": benchmark,
        "normalisation": norm,
        "tolerance": {
            "relative": tolerance.get("relative_tolerance", 0.2),
            "max_pull": tolerance.get("max_pull", 2.0),
        },
        "regions": regions,
        "passed": all(r["passed"] for r in regions),
    }
    if output:
        write_json(output, _finite(verdict))
    if plot is not None:
        from ..report.validation_plot import plot_validation

        plot_validation(verdict, plot)
    return verdict


def _finite(value: Any) -> Any:
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
