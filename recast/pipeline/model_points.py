"""The points of a model scan, from what a theorist has: a folder of SLHA files written by
`recast points`, a template with its grid, or a list of points each with an SLHA file, an LHE
file to shower, or ready event files; and the σ of each point, checked before any event.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..io import sha256_file
from ..model import process_settings, production, read_points
from ..model.normalisation import XsecChoice, point_cross_section, xsec_choice
from ..schema import load_json
from ..xsec import CrossSection
from .plane import ModelPoint

log = logging.getLogger(__name__)

#: the process of a point set that names none: what `recast generate --slha` generates
DEFAULT_PROCESS = "gluino-pairs"
#: what a points list entry may give for its events
POINT_SOURCES = ("slha", "lhe", "events")


def _slha_point(
    name: str, values: Mapping[str, float], path: Path, process: str | Sequence[str], e_cm: float
) -> ModelPoint:
    settings = process_settings(process, path.resolve(), e_cm=e_cm)
    return ModelPoint(name, dict(values), "slha", str(path.resolve()), tuple(settings),
                      digests=(sha256_file(path),))  # fmt: skip


def points_from_folder(
    folder: str | os.PathLike[str], process: str | None, e_cm: float
) -> tuple[list[str], list[ModelPoint], str]:
    """The points of a `recast points` folder: parameters, points, and the process (the
    folder's own unless ``process`` is given)."""
    stored = read_points(folder)
    chosen = process or stored.process or DEFAULT_PROCESS
    if process and stored.process and production(process).name != production(stored.process).name:
        log.warning(
            "%s: the points were written for %s; generating %s as asked",
            folder,
            stored.process,
            process,
        )
    points = [
        _slha_point(p.name, {k: float(v) for k, v in p.values.items()}, p.path, chosen, e_cm)
        for p in stored.points
    ]
    return list(stored.parameters), points, chosen


def points_from_list(
    path: str | os.PathLike[str], process: str | None, e_cm: float
) -> tuple[list[str], list[ModelPoint], str | None]:
    """A JSON list of points: ``[{"name": .., "values": {..}, "slha" | "lhe" | "events": ..}]``
    (paths relative to the file). LHE files are showered by Pythia8 in process."""
    from ..events.lhe import lhe_settings, read_lhe_info

    source = str(path)
    document = load_json(Path(path))
    entries = document.get("points") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{source}: give a list of points, each with name, values and one of "
                         f"{', '.join(POINT_SOURCES)}")  # fmt: skip
    root = Path(path).parent
    parameters: list[str] = []
    points = []
    for n, entry in enumerate(entries):
        where = f"{source}: points[{n}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: a point is an object with name, values and a source")
        name, values = entry.get("name"), entry.get("values")
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise UsageError(f"{where}.name: give a plain name (no '/'), not {name!r}")
        if not isinstance(values, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
        ):
            raise UsageError(f"{where}.values: give the parameters as numbers, e.g. "
                             '{"m_gluino": 1800, "m_lsp": 1}')  # fmt: skip
        if not parameters:
            parameters = list(values)
        elif list(values) != parameters:
            raise UsageError(f"{where}.values: has {list(values)}; the first point has "
                             f"{parameters}: every point needs the same parameters")  # fmt: skip
        given = [key for key in POINT_SOURCES if key in entry]
        if len(given) != 1:
            raise UsageError(f"{where}: give exactly one of {', '.join(POINT_SOURCES)}")
        kind = given[0]
        files = entry[kind] if isinstance(entry[kind], list) else [entry[kind]]
        paths = [root / str(f) for f in files]
        for file in paths:
            if not file.is_file():
                raise UsageError(f"{where}.{kind}: {file}: no such file")
        floats = {k: float(v) for k, v in values.items()}
        if kind == "slha":
            points.append(_slha_point(name, floats, paths[0], process or DEFAULT_PROCESS, e_cm))
        elif kind == "lhe":
            info = read_lhe_info(paths[0])  # no cross-section, no events: refused here
            if abs(info.sqrt_s_gev - e_cm) > 1e-3 * e_cm:
                raise UsageError(f"{where}.lhe: {paths[0]} is at √s = {info.sqrt_s_gev:g} "
                                 f"GeV; the analyses are at {e_cm:g} GeV")  # fmt: skip
            settings = lhe_settings(paths[0])
            points.append(ModelPoint(name, floats, "lhe", str(paths[0].resolve()),
                                     tuple(settings), digests=(sha256_file(paths[0]),),
                                     available=info.n_events))  # fmt: skip
        else:
            resolved = tuple(str(p.resolve()) for p in paths)
            points.append(ModelPoint(name, floats, "events", "", events=resolved,
                                     digests=tuple(sha256_file(p) for p in paths)))  # fmt: skip
    names = [p.name for p in points]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"{source}: point names given twice: {', '.join(twice)}")
    return parameters, points, process


def cross_sections(
    points: Sequence[ModelPoint], choice: XsecChoice
) -> dict[str, CrossSection | None]:
    """σ of every point under ``choice``, all looked up before any event: a mass outside a
    table or an SLHA file without XSECTION is refused naming the point."""
    out: dict[str, CrossSection | None] = {}
    for point in points:
        if point.kind != "slha" and choice.kind in ("table", "user-table", "slha"):
            raise UsageError(
                f"point {point.name}: --xsec {choice.text or 'table'} reads the SLHA file of a "
                f"point, and this one is given as {point.kind}; give --xsec generator (an LHE "
                "file's own σ) or a value"
            )
        try:
            out[point.name] = point_cross_section(choice, point.source or None)
        except UsageError as exc:
            raise UsageError(f"point {point.name}: {exc}") from None
    return out


def _is_index(path: Path) -> bool:
    """Whether ``path`` is the index `recast points` writes (else a points list)."""
    document = load_json(path)
    return isinstance(document, dict) and document.get("format") == "recast-points"


def resolve_points(
    points: str | os.PathLike[str],
    *,
    process: str | None = None,
    xsec: str | float | None = None,
    e_cm: float = 13000.0,
) -> tuple[list[str], list[ModelPoint], XsecChoice, dict[str, CrossSection | None]]:
    """Parameters, points, the σ choice and each point's σ from ``points``: a folder written
    by `recast points` (or its points.json), or a JSON list of points."""
    path = Path(points)
    chosen: str | None
    if path.is_dir() or (path.is_file() and _is_index(path)):
        parameters, found, chosen = points_from_folder(path, process, e_cm)
    elif path.is_file():
        parameters, found, chosen_or_none = points_from_list(path, process, e_cm)
        chosen = chosen_or_none or (DEFAULT_PROCESS if any(p.kind == "slha" for p in found)
                                    else None)  # fmt: skip
    else:
        raise UsageError(f"{points}: no such folder of points or points file")
    if xsec is None and any(p.kind != "slha" for p in found):
        xsec = "generator"  # LHE files carry their σ; event files theirs
    choice = xsec_choice(xsec, chosen)
    return parameters, found, choice, cross_sections(found, choice)


def describe_point(summary: Mapping[str, Any]) -> str:
    """One line per point for the terminal: its verdict and the deciding analysis."""
    name = summary["name"]
    if summary.get("status") != "ok":
        return f"{name}: FAILED: {summary.get('error', 'unknown error')}"
    best = summary.get("combined")
    if not best:
        return f"{name}: no CLs (no analysis had signal)"
    cls = best["cls"]
    word = "excluded" if best["excluded"] else "not excluded"
    expected = (cls.get("expected") or {}).get("median")
    return (
        f"{name}: {word} by {best['analysis']} ({best['deciding']}): CLs {cls['observed']:.3g}"
        + (f" (expected {expected:.3g})" if expected is not None else "")
    )
