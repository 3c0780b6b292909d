"""Scans: limits for a grid of signal points, computed in chunks on an executor.

A grid file names the model parameters and gives each point its signal yields per region
(numbers, ``{"value", "mc_uncertainty"}``, or the path of a results document)::

    {"schema_version": "1.0.0", "parameters": ["m_gluino", "m_lsp"],
     "points": [{"m_gluino": 1800, "m_lsp": 100, "yields": {"SR-A": 4.2}},
                {"m_gluino": 1900, "m_lsp": 100, "results": "runs/1900_100.json"}]}

Points are cut into chunks; a chunk computes the CLs of every region of all its points in one
vectorised call, picks each point's best expected region (the largest signal over expected
S95), and fits combinations and workspaces point by point. Chunks run in-process, or on a
``LocalCluster`` of processes (``workers`` > 1) or on a running scheduler. Scripts that start
processes must do it under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..errors import InvalidDocumentError, RecastError, UsageError
from ..parallel import Executor
from ..paths import inside
from .counting import median_expected_limits
from .errors import ScanIncompleteError
from .limits import without_regions
from .simplified import Region, signal_yields, unit_signal_model
from .spec import LikelihoodSpec, needed_regions
from .workers import GridPoint, scan_chunk

log = logging.getLogger(__name__)


def _finite(value: int | float) -> bool:
    """A finite float: NaN, ±Infinity and integers beyond float range are not."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def grid_from_document(document: Any, source: str) -> tuple[list[str], list[GridPoint]]:
    """Parameter names and points; every problem reported at once, with its JSON path."""
    if not isinstance(document, Mapping):
        raise InvalidDocumentError(source, [("(document)", "expected a JSON object")])
    names = document.get("parameters")
    points = document.get("points")
    problems = []
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.append(("parameters", 'expected a list of parameter names, e.g. ["m_gluino"]'))
        names = []
    if not isinstance(points, list) or not points:
        problems.append(("points", "expected a non-empty list of points"))
        points = []
    out = []
    folder = Path(source).parent
    first: dict[tuple[float, ...], int] = {}  # parameter values → the first point with them
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            problems.append((f"points[{i}]", "expected an object"))
            continue
        values = {}
        for name in names:
            value = point.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append((f"points[{i}].{name}", "missing or not a number"))
            elif not _finite(value):
                why = (  # str() of a 5000-digit integer raises: never print it
                    f"{value!r} is not a finite number"
                    if isinstance(value, float)
                    else "an integer beyond the range of a float"
                )
                problems.append((f"points[{i}].{name}", why))
            else:
                values[name] = float(value)
        if len(values) == len(names):
            key = tuple(values[n] for n in names)
            if key in first:  # two verdicts for one model point: which is the plot to show?
                problems.append(
                    (
                        f"points[{i}]",
                        f"has the same parameters as points[{first[key]}] ({values}); give each "
                        "point once",
                    )
                )
            first.setdefault(key, i)
        if "yields" in point and "results" in point:
            problems.append(
                (f"points[{i}]", 'has both "yields" and "results": give one of them, not both')
            )
            continue
        if "yields" in point and isinstance(point["yields"], Mapping):
            raw, where = point["yields"], f"{source} points[{i}]"
            skipped: tuple[str, ...] = ()
        elif isinstance(point.get("results"), str):
            field = f"points[{i}].results"
            path = inside(folder, point["results"], source, field)
            if not path.exists():
                problems.append(
                    (
                        field,
                        f"{point['results']!r}: no such file {path} (a path in a grid is "
                        "relative to the grid's folder)",
                    )
                )
                continue
            if not path.is_file():  # reading a folder raised IsADirectoryError: exit 3
                kind = "a folder" if path.is_dir() else "not a regular file"
                problems.append((field, f"{point['results']!r} is {kind}, not a results document"))
                continue
            try:
                results = schema.load_json(path)
                schema.validate(results, "results", str(path))
            except RecastError as exc:  # its own message names the results file and its field
                problems.append((field, f"{point['results']!r}: {exc}"))
                continue
            raw, where = results["yields"], str(path)
            skipped = tuple(results.get("skipped", {}))
        else:
            problems.append((f"points[{i}]", 'needs "yields": {REGION: events} or "results": PATH'))
            continue
        try:
            out.append(GridPoint(values, signal_yields(raw, where), skipped))
        except InvalidDocumentError as exc:
            problems += [(f"points[{i}].{p}", m) for p, m in exc.problems]
    if problems:
        raise InvalidDocumentError(source, problems)
    return list(names), out


def load_grid(path: str | Path) -> tuple[list[str], list[GridPoint]]:
    return grid_from_document(schema.load_json(path), str(path))


def _expected_s95(regions: Sequence[Region], method: str, constraint: str) -> np.ndarray:
    return median_expected_limits(unit_signal_model(regions, constraint), method=method)


def scan_points(
    spec: LikelihoodSpec,
    parameters: Sequence[str],
    points: Sequence[GridPoint],
    executor: Executor,
    *,
    grid: str = "grid",
    method: str = "auto",
    negative: str = "clip",
    with_limits: bool = True,
    chunk_size: int | None = None,
) -> dict[str, Any]:
    """The scan document of ``points`` under ``spec``: a verdict, CLs and μ limits per point,
    computed in chunks on ``executor`` (entered by the caller)."""
    missing = [n for n in needed_regions(spec) if not any(n in p.yields for p in points)]
    not_run = {n for p in points for n in p.skipped}
    if missing and set(missing) <= not_run:  # the runs skipped them: limits without them
        log.warning("regions not run (no network file) leave the scan: %s", ", ".join(missing))
        spec = without_regions(spec, set(missing))
        missing = []
    if missing:
        raise UsageError(f"{grid}: no point has a yield for region(s) {', '.join(missing)}")
    parts = max(executor.workers, 2)
    s95_expected = None
    if spec.regions:  # the ranking of regions: expected S95, computed once, in parallel
        step = max(1, math.ceil(len(spec.regions) / parts))
        tasks = [
            (spec.regions[i : i + step], method, spec.constraint)
            for i in range(0, len(spec.regions), step)
        ]
        s95_expected = np.concatenate(executor.map(_expected_s95, tasks))
    size = chunk_size or max(1, math.ceil(len(points) / (4 * executor.workers)))
    chunks = [
        (spec, points[i : i + size], s95_expected, method, negative, with_limits)
        for i in range(0, len(points), size)
    ]
    rows = [row for part in executor.map(scan_chunk, chunks) for row in part]
    _report(rows, grid)
    return {
        "schema_version": schema.CURRENT_VERSION,
        "likelihood": spec.source,
        "grid": grid,
        "parameters": list(parameters),
        "alpha": 0.05,
        "method": method,
        "points": rows,
        "excluded": sum(bool(r["excluded"]) for r in rows),
        "failed": sum(r["status"] == "failed" for r in rows),
    }


def _report(rows: Sequence[Mapping[str, Any]], grid: str) -> None:
    """Log lines for points whose count switched the calculator, and for failed points."""
    switched = [r for r in rows if str(r.get("calculator", "")).startswith("asymptotic (")]
    if switched:
        log.warning(
            "%s: %d point(s) above the exact calculator's count limit used asymptotics, e.g. "
            "%s: %s",
            grid,
            len(switched),
            switched[0]["parameters"],
            switched[0]["calculator"],
        )
    for row in rows:
        if row["status"] == "failed":
            log.error("%s: point %s failed: %s", grid, row["parameters"], row["reason"])


def failed_points(document: Mapping[str, Any]) -> ScanIncompleteError | None:
    """The error to raise after writing a scan whose points did not all compute, or None."""
    failed = [r for r in document["points"] if r.get("status") == "failed"]
    if not failed:
        return None
    where = ", ".join(str(r["parameters"]) for r in failed[:5]) + (
        " ..." if len(failed) > 5 else ""
    )
    return ScanIncompleteError(
        f"{document['grid']}: {len(failed)} of {len(document['points'])} point(s) could not be "
        f"fitted ({where}); their rows say status 'failed' with the reason and carry no CLs, "
        "the other points are complete. First reason: " + str(failed[0]["reason"])
    )


def cls_grid(document: Mapping[str, Any], member: str = "observed") -> np.ndarray:
    """CLs of every point of a scan document (``observed`` or a band key), NaN-free: a point
    without a value counts as not excluded (CLs = 1)."""
    out = []
    for row in document["points"]:
        values = row.get("cls") or {}
        value = (
            values.get("observed")
            if member == "observed"
            else values.get("expected", {}).get(member)
        )
        out.append(1.0 if value is None else float(value))
    return np.array(out)
