"""A model's plane through several analyses: generate every point once, run every analysis on
the same events, normalise to each point's σ, compute CLs with σ ± 1σ, draw the contours.

The output folder keeps one sub-folder per point (``points/NAME/``) with the results document
of each analysis and ``point.json``, the point's summary. A rerun reuses a point whose events
would be the same (same spectrum or files, settings, events, seed, bundles and package
version): only missing or changed points are generated, and a new σ choice only rescales the
stored yields and recomputes the limits. ``plane.json`` holds the table of points and the
contours (:mod:`recast.likelihood.contours`), written last::

    from recast.pipeline.plane import scan_model
    plane = scan_model(["DEMO_MULTIB_GLUINO"], "gtt/", "plane/", n_events=2000, workers=2)
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ..analysis.bundle import Bundle, load_bundle
from ..errors import GenerationError, RecastError, UsageError
from ..io import check_output, write_json
from ..parallel import Executor
from ..schema import load_json, loads_json
from ..version import __version__
from ..xsec import CrossSection
from .run import DEFAULT_SEED, check_likelihood, prepare_chain, results_document
from .runner import ChainOptions, UnitResult, WorkUnit, pythia_units, run_unit_chains, units_for

log = logging.getLogger(__name__)

FORMAT = "recast-plane"
FORMAT_VERSION = 1
POINT_FILE = "point.json"
PLANE_FILE = "plane.json"
#: the contour curves of every analysis (and of the best expected one): name → what is drawn
CURVES = {
    "observed": ("cls", "observed"),
    "expected": ("cls", "median"),
    "expected_minus1": ("cls", "minus1"),
    "expected_plus1": ("cls", "plus1"),
    "observed_theory_up": ("cls_theory", "up"),
    "observed_theory_down": ("cls_theory", "down"),
}


@dataclass(frozen=True)
class ModelPoint:
    """One point of a plane: its values and where its events come from. ``kind`` is
    ``slha`` or ``lhe`` (Pythia8 generates from ``settings``) or ``events`` (ready files)."""

    name: str
    values: Mapping[str, float]
    kind: str
    source: str = ""
    settings: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    #: sha256 of the source file (slha, lhe) or of the event files, in order
    digests: tuple[str, ...] = field(default=(), compare=False)
    #: lhe: the events the file holds (a block never reads past them)
    available: int = 0


@dataclass
class _Pending:
    """What a point collects while its blocks run."""

    point: ModelPoint
    blocks: int
    parts: list[list[UnitResult] | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _events_key(point: ModelPoint, bundles: Sequence[Bundle], n_events: int, seed: int) -> str:
    """What the point's events and cutflows depend on: a rerun with the same key reuses them."""
    settings = [s for s in point.settings if not s.lower().startswith(("slha:file", "beams:lhef"))]
    record = {
        "kind": point.kind,
        "digests": list(point.digests),
        "settings": settings,
        "n_events": n_events if point.kind != "events" else None,
        "seed": seed,
        "bundles": {b.id: b.document_sha256 for b in bundles},
        "recast": __version__,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _point_units(point: ModelPoint, n_events: int, seed: int) -> list[WorkUnit]:
    if point.kind == "events":
        return units_for(list(point.events), 1)
    units = pythia_units(point.source, n_events, seed, point.settings)
    if point.kind == "lhe":  # each block showers its own events of the file, not the first
        units = [
            replace(u, settings=(*u.settings, f"Beams:nSkipLHEFatInit = {u.first_event}"))
            for u in units
        ]
    return units


def _merged(parts: Sequence[list[UnitResult]], index: int) -> UnitResult:
    total = parts[0][index]
    for part in parts[1:]:
        total = total.merge(part[index])
    return total


def rescaled(document: Mapping[str, Any], cross_section: CrossSection) -> dict[str, Any]:
    """A results document normalised again at ``cross_section``: yields, cutflows and the
    normalisation scale with σ; its limits are dropped (they no longer hold)."""
    out = copy.deepcopy(dict(document))
    out.pop("limits", None)
    norm = out["normalisation"]
    factor = cross_section.value_pb / float(norm["cross_section_pb"])
    norm["cross_section_pb"] = cross_section.value_pb
    norm["cross_section_source"] = _source_text(cross_section)
    norm["factor"] = float(norm["factor"]) * factor
    for entry in out["yields"].values():
        entry["value"] = float(entry["value"]) * factor
        entry["mc_uncertainty"] = float(entry["mc_uncertainty"]) * factor
    for flow in out["cutflows"].values():
        flow["sumw"] = [float(v) * factor for v in flow["sumw"]]
        flow["sumw2"] = [float(v) * factor * factor for v in flow["sumw2"]]
    return out


def _source_text(sigma: CrossSection) -> str:
    return f"{sigma.order} {sigma.process}: {sigma.source}"


def _generator_sigma(document: Mapping[str, Any]) -> CrossSection:
    """The generator's σ of a point's events (its estimates in the document's provenance,
    whatever σ the document is normalised to), as a :class:`CrossSection` (no band)."""
    from .normalise import generator_cross_section

    estimates = document["provenance"].get("generator_cross_sections_pb", [])
    value, _ = generator_cross_section([(e["value"], e["error"], e["events"]) for e in estimates])
    if not math.isfinite(value):
        raise UsageError(
            f"{document['analysis']}: the point's events carry no cross-section: give one "
            "with --xsec (a table, slha, a CSV table or a value)"
        )
    return CrossSection("generator", "LO", value, "the generator")


def _entry_of(limits: Mapping[str, Any], source: str | None) -> Mapping[str, Any] | None:
    """The limits entry the verdict's ``source`` names: the workspace, a region, a combination."""
    if source is None:
        return None
    if source == "workspace":
        return limits.get("workspace")
    kind, _, name = source.partition(" ")
    if kind == "region":
        return limits.get("regions", {}).get(name)
    if kind == "combination":
        for entry in limits.get("combined", []):
            if "+".join(entry["regions"]) == name:
                return entry
    return None


def _limits_task(
    bundle_folder: str,
    document: Mapping[str, Any],
    variants: Sequence[CrossSection],
    mu95: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Limits of one analysis at one point: the document with its limits at σ (μ95 besides
    CLs when ``mu95``), and the CLs-only limits at each σ of ``variants`` (σ_theory ± 1σ)."""
    from .limits import limits_for_bundle

    bundle = load_bundle(bundle_folder)
    skipped = document.get("skipped", {})
    nominal = dict(document)
    limits = limits_for_bundle(bundle, nominal["yields"], skipped=skipped, with_limits=mu95)
    if limits is not None:
        nominal["limits"] = limits
    shifted = []
    for sigma in variants:
        moved = rescaled(document, sigma)
        shifted.append(
            limits_for_bundle(bundle, moved["yields"], skipped=skipped, with_limits=False) or {}
        )
    return nominal, shifted


def _point_limits(
    folders: Sequence[str],
    documents: Sequence[Mapping[str, Any]],
    sigma: CrossSection,
    mu95: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, Any]] | str:
    """Every analysis's limits at one point and their summary; a failure as its message."""
    variants = [
        CrossSection(sigma.process, sigma.order, sigma.shifted(s), f"{sigma.source} ({s:+d}σ)")
        for s in (+1, -1)
        if (sigma.total_up_pb if s > 0 else sigma.total_down_pb) is not None
    ]
    try:
        full, summaries = [], {}
        for folder, document in zip(folders, documents, strict=True):
            nominal, shifted = _limits_task(folder, document, variants, mu95)
            full.append(nominal)
            summaries[nominal["analysis"]] = _analysis_summary(nominal, shifted)
    except (RecastError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return full, summaries


def _analysis_summary(
    nominal: Mapping[str, Any], shifted: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """CLs (observed and expected band) of the verdict's source, its CLs at σ ± 1σ, μ95."""
    verdict = nominal.get("limits", {}).get("verdict", {})
    source = verdict.get("source")
    summary: dict[str, Any] = {
        "deciding": source,
        "excluded": bool(verdict.get("excluded", False)),
        "cls": verdict.get("cls"),
        "mu_upper": verdict.get("mu_upper"),
    }
    if source is None:
        summary["reason"] = verdict.get("reason", "no likelihood")
    if len(shifted) == 2:
        moved = [_entry_of(s, source) for s in shifted]
        summary["cls_theory"] = {
            side: None if entry is None else entry["cls"]["observed"]
            for side, entry in zip(("up", "down"), moved, strict=True)
        }
    return summary


def _combined(analyses: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The most sensitive analysis by its expected CLs (never the observed one)."""

    def expected(item: tuple[str, Mapping[str, Any]]) -> float:
        cls = item[1].get("cls") or {}
        value = (cls.get("expected") or {}).get("median")
        return float(value) if value is not None else math.inf

    usable = [item for item in analyses.items() if item[1].get("cls")]
    if not usable:
        return None
    name, best = min(usable, key=expected)
    return {"analysis": name, **best}


class ModelScan:
    """One scan's state: its points, analyses, σ choice and output folder."""

    def __init__(
        self,
        analyses: Sequence[str | Path | Bundle],
        points: Sequence[ModelPoint],
        parameters: Sequence[str],
        output: str | Path,
        *,
        sigmas: Mapping[str, CrossSection | None],
        xsec_record: Mapping[str, Any],
        n_events: int,
        seed: int = DEFAULT_SEED,
        chunk_size: int = 1000,
    ) -> None:
        if not analyses:
            raise UsageError("give at least one analysis to scan the points through")
        if not points:
            raise UsageError("the scan has no points")
        self.bundles = [a if isinstance(a, Bundle) else load_bundle(a) for a in analyses]
        ids = [b.id for b in self.bundles]
        if len(set(ids)) != len(ids):
            raise UsageError(f"analysis given twice: {', '.join(ids)}")
        energies = {float(b.document["sqrt_s"]) for b in self.bundles}
        if len(energies) > 1:
            raise UsageError(
                f"the analyses {', '.join(ids)} are at different √s ({energies} TeV): scan "
                "them separately, one generation per energy"
            )
        for bundle in self.bundles:
            check_likelihood(bundle)
            if "likelihood" not in bundle.document:
                raise UsageError(
                    f"analysis {bundle.id} has no likelihood: a scan needs CLs at every point; "
                    "run it with `recast run` instead"
                )
        short = [p.name for p in points if p.kind == "lhe" and p.available < n_events]
        if short:
            raise UsageError(
                f"point(s) {', '.join(short)}: the LHE file holds fewer than the {n_events} "
                "events asked for; give fewer events (--events) or a longer file"
            )
        self.points, self.parameters = list(points), list(parameters)
        self.output = Path(output)
        self.sigmas, self.xsec_record = dict(sigmas), dict(xsec_record)
        self.n_events, self.seed, self.chunk_size = n_events, seed, chunk_size
        given = any(s is not None for s in self.sigmas.values())
        prepared = [
            prepare_chain(b, seed=seed, chunk_size=chunk_size, cross_section_given=given)
            for b in self.bundles
        ]
        self.chain_options = [p[0] for p in prepared]
        self.settings = [p[1] for p in prepared]
        self.keys = {p.name: _events_key(p, self.bundles, n_events, seed) for p in self.points}

    def folder(self, point: ModelPoint) -> Path:
        return self.output / "points" / point.name

    def stored(self, point: ModelPoint) -> dict[str, Any] | None:
        """The point's summary from an earlier run when its events would be the same."""
        path = self.folder(point) / POINT_FILE
        if not path.is_file():
            return None
        try:
            summary = load_json(path)
        except RecastError:
            log.warning("%s: unreadable; the point is run again", path)
            return None
        if not isinstance(summary, dict) or summary.get("events_key") != self.keys[point.name]:
            return None
        if summary.get("status") not in ("ok", "events") and summary.get("stage") != "limits":
            return None  # a point whose events failed is generated again
        if not all((self.folder(point) / f"{b.id}.json").is_file() for b in self.bundles):
            return None
        return dict(summary)

    def documents(self, point: ModelPoint, result: Sequence[UnitResult]) -> list[dict[str, Any]]:
        """The results documents of every analysis at the point's σ, without limits."""
        sigma = self.sigmas.get(point.name)
        documents = []
        for bundle, unit, settings in zip(self.bundles, result, self.settings, strict=True):
            document = results_document(
                bundle,
                unit,
                settings,
                None if sigma is None else sigma.value_pb,
                seed=self.seed,
                source="generator" if sigma is None else _source_text(sigma),
                with_limits=False,
            )
            documents.append(document)
        return documents


def _write_point(folder: Path, summary: Mapping[str, Any], documents: Sequence[Mapping]) -> None:
    """The results documents first, the summary last: a summary means its documents exist."""
    for document in documents:
        write_json(folder / f"{document['analysis']}.json", document)
    write_json(folder / POINT_FILE, summary)


class ScanRunOptions(TypedDict, total=False):
    """How a model scan runs: ``workers`` > 1 a local cluster, ``scheduler`` a running one,
    ``client`` an existing dask Client; ``progress`` a bar (None: on a terminal only);
    ``on_point`` sees each point's summary as it ends; ``mu95`` (True) computes the upper
    limit μ95 at σ besides CLs (the contours need CLs alone)."""

    workers: int
    scheduler: str | None
    client: Any
    progress: bool | None
    on_point: Callable[[Mapping[str, Any]], None] | None
    mu95: bool


def scan_model(scan: ModelScan, **options: Unpack[ScanRunOptions]) -> dict[str, Any]:
    """Run the scan (see the module): every missing point generated and run through every
    analysis, limits everywhere, ``plane.json`` written; returns the plane document.
    ``options``: :class:`ScanRunOptions`.

    Work flows through the executor as blocks of events (a block of one point through every
    analysis) and, as soon as a point's blocks are in, its limits, which run before the blocks
    still waiting: points finish one after another, and an interruption loses little."""
    from ..progress import ScanProgress, scan_progress

    check_output(scan.output, field="-o/--output", folder=True)
    started = time.perf_counter()
    state = _ScanState(scan, mu95=options.get("mu95", True))
    to_generate = []
    for point in scan.points:
        summary = scan.stored(point)
        if summary is None:
            to_generate.append(point)
            continue
        state.summaries[point.name] = summary
        state.documents[point.name] = [
            load_json(scan.folder(point) / f"{b.id}.json") for b in scan.bundles
        ]
    if state.summaries:
        log.info("%d point(s) reused from %s", len(state.summaries), scan.output)
    executor = Executor(options.get("workers", 1), options.get("scheduler"), options.get("client"))
    progress, on_point = options.get("progress"), options.get("on_point")
    total = len(to_generate) * scan.n_events
    bars = (
        contextlib.nullcontext(ScanProgress(None, None, len(scan.points)))
        if progress is False
        else scan_progress(len(scan.points), total, always=bool(progress))
    )
    with bars as bar, executor:

        def point_done(summary: Mapping[str, Any]) -> None:
            bar.point()
            if on_point is not None:
                on_point(summary)

        state.on_events, state.on_point = bar.events, point_done
        tasks = [task for point in to_generate for task in state.block_tasks(point)]
        for point in scan.points:
            if point.name in state.summaries:
                tasks += state.limit_tasks(point)
        if tasks:
            executor.flow(tasks, state.arrived)
    plane = plane_document(scan, [state.summaries[p.name] for p in scan.points])
    plane["seconds"] = round(time.perf_counter() - started, 1)
    write_json(scan.output / PLANE_FILE, plane)
    return plane


Task = tuple[Callable[..., Any], tuple[Any, ...]]


class _ScanState:
    """What a running scan knows: each point's summary and documents, the blocks pending."""

    def __init__(self, scan: ModelScan, *, mu95: bool = True) -> None:
        self.scan = scan
        self.mu95 = mu95
        self.summaries: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, list[dict[str, Any]]] = {}
        self.pending: dict[str, _Pending] = {}
        self.folders = [str(b.folder.resolve()) for b in scan.bundles]
        self.on_events: Callable[[int], None] = lambda events: None
        self.on_point: Callable[[Mapping[str, Any]], None] = lambda summary: None

    def point(self, name: str) -> ModelPoint:
        return next(p for p in self.scan.points if p.name == name)

    def block_tasks(self, point: ModelPoint) -> list[Task]:
        units = _point_units(point, self.scan.n_events, self.scan.seed)
        self.pending[point.name] = _Pending(point, len(units))
        return [(_run_block, (point.name, unit, self.scan.chain_options)) for unit in units]

    def limit_tasks(self, point: ModelPoint) -> list[Task]:
        """The limits task of a point with events (none when its summary is complete for
        this σ choice); a stored document at another σ is rescaled first, no event rerun."""
        summary = self.summaries[point.name]
        if summary["status"] == "failed" and summary.get("stage") != "limits":
            self.on_point(summary)
            return []
        stored = self.documents[point.name]
        sigma = self.scan.sigmas.get(point.name) or _generator_sigma(stored[0])
        record = _jsonable({"xsec": self.scan.xsec_record, **sigma.to_dict()})
        # limits without μ95 do not answer a scan that asks for it (with μ95 answer both)
        complete = summary.get("mu95", True) or not self.mu95
        if summary["status"] == "ok" and summary.get("cross_section") == record and complete:
            self.on_point(summary)
            return []
        if float(stored[0]["normalisation"]["cross_section_pb"]) != sigma.value_pb:
            stored = [rescaled(d, sigma) for d in stored]  # a new σ choice
            self.documents[point.name] = stored
        return [(_limits_of_point, (point.name, self.folders, stored, sigma, self.mu95))]

    def arrived(self, result: tuple[Any, ...]) -> list[Task]:
        """A block's or a point's limits came back: store what is complete, say what next."""
        if result[0] == "block":
            return self._block(result[1], result[2])
        self._limits(result[1], result[2], result[3])
        return []

    def _block(self, owner: str, result: list[UnitResult] | str) -> list[Task]:
        state = self.pending[owner]
        if isinstance(result, str):
            state.errors.append(result)
            state.parts.append(None)
        else:
            state.parts.append(result)
            self.on_events(result[0].events)
        if len(state.parts) < state.blocks:
            return []
        _finish_events(self.scan, state, self.summaries, self.documents)
        return self.limit_tasks(state.point)

    def _limits(self, name: str, outcome: Any, seconds: float) -> None:
        summary = dict(self.summaries[name])
        summary["seconds_limits"] = round(seconds, 2)
        sigma = self.scan.sigmas.get(name) or _generator_sigma(self.documents[name][0])
        summary["cross_section"] = _jsonable({"xsec": self.scan.xsec_record, **sigma.to_dict()})
        summary["mu95"] = self.mu95
        folder = self.scan.folder(self.point(name))
        if isinstance(outcome, str):
            summary.update(status="failed", stage="limits", error=f"limits: {outcome}")
            write_json(folder / POINT_FILE, summary)
        else:
            full, analyses = outcome
            summary.update(status="ok", analyses=analyses, combined=_combined(analyses))
            summary.pop("error", None)
            summary.pop("stage", None)
            _write_point(folder, summary, full)
        self.summaries[name] = summary
        self.on_point(summary)


def _run_block(
    owner: str, unit: WorkUnit, options: Sequence[ChainOptions]
) -> tuple[str, str, list[UnitResult] | str]:
    """One block through every analysis, with the name of its point; a failure comes back as
    its message, so that one point that cannot be generated does not stop the scan."""
    try:
        return "block", owner, run_unit_chains(unit, options)
    except (RecastError, GenerationError) as exc:
        return "block", owner, f"{type(exc).__name__}: {exc}"


def _base_summary(scan: ModelScan, point: ModelPoint) -> dict[str, Any]:
    return {
        "name": point.name,
        "values": dict(point.values),
        "kind": point.kind,
        "source": point.source or list(point.events),
        "events_key": scan.keys[point.name],
    }


def _finish_events(
    scan: ModelScan,
    state: _Pending,
    summaries: dict[str, dict[str, Any]],
    documents: dict[str, list[dict[str, Any]]],
) -> None:
    point = state.point
    summary = _base_summary(scan, point)
    folder = scan.folder(point)
    if state.errors:
        summary.update(status="failed", error=state.errors[0])
        log.error("point %s failed: %s", point.name, state.errors[0])
        write_json(folder / POINT_FILE, summary)
        summaries[point.name] = summary
        return
    parts = [p for p in state.parts if p is not None]
    merged = [_merged(parts, i) for i in range(len(scan.bundles))]
    try:
        made = scan.documents(point, merged)
    except RecastError as exc:  # e.g. no selected event has weight: recorded, the scan goes on
        summary.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        write_json(folder / POINT_FILE, summary)
        summaries[point.name] = summary
        return
    summary.update(
        status="events",
        events=merged[0].events,
        seconds_events=round(sum(p[0].seconds for p in parts), 2),
    )
    _write_point(folder, summary, made)
    summaries[point.name], documents[point.name] = summary, made


def _limits_of_point(
    name: str,
    folders: Sequence[str],
    documents: Sequence[Mapping[str, Any]],
    sigma: CrossSection,
    mu95: bool = True,
) -> tuple[str, str, Any, float]:
    started = time.perf_counter()
    outcome = _point_limits(folders, documents, sigma, mu95)
    return "limits", name, outcome, time.perf_counter() - started


def _jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparisons."""
    return loads_json(json.dumps(value), "a summary")


def plane_document(scan: ModelScan, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The plane: every point's summary, the contours of every analysis and of the best
    expected one, and the verdict counts."""
    from ..likelihood.contours import exclusion_contours, lines_to_json

    names = [b.id for b in scan.bundles]
    x, y = [*scan.parameters, None, None][:2]
    contours: dict[str, dict[str, Any]] = {}
    ok = [s for s in summaries if s.get("status") == "ok"]
    if x is not None and y is not None:
        for analysis in ["combined", *names]:
            entries = [(s, s["combined"] if analysis == "combined" else s["analyses"].get(analysis))
                       for s in ok]  # fmt: skip
            entries = [(s, e) for s, e in entries if e]
            xs = [float(s["values"][x]) for s, _ in entries]
            ys = [float(s["values"][y]) for s, _ in entries]
            contours[analysis] = {}
            for curve, (group, member) in CURVES.items():
                values = [_member(e, group, member) for _, e in entries]
                lines = exclusion_contours(xs, ys, values, alpha=0.05)
                contours[analysis][curve] = lines_to_json(lines)
    excluded = sum(1 for s in ok if (s.get("combined") or {}).get("excluded"))
    failed = [s["name"] for s in summaries if s.get("status") != "ok"]
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "parameters": list(scan.parameters),
        "x": x,
        "y": y,
        "analyses": names,
        "alpha": 0.05,
        "n_events": scan.n_events,
        "seed": scan.seed,
        "cross_section": dict(scan.xsec_record),
        "points": [dict(s) for s in summaries],
        "contours": contours,
        "summary": {
            "points": len(summaries),
            "excluded": excluded,
            "not_excluded": len(ok) - excluded,
            "failed": failed,
            "rule": "per point, the analysis with the lowest expected CLs decides (the "
            "observed CLs of its most sensitive region or likelihood)",
        },
        "recast_version": __version__,
    }


def _member(entry: Mapping[str, Any], group: str, member: str) -> float | None:
    values = entry.get(group) or {}
    if group == "cls":
        value = values.get("observed") if member == "observed" else (
            values.get("expected") or {}).get(member)  # fmt: skip
    else:
        value = values.get(member)
    return None if value is None else float(value)


__all__ = [
    "CURVES",
    "PLANE_FILE",
    "POINT_FILE",
    "ModelPoint",
    "ModelScan",
    "plane_document",
    "rescaled",
    "scan_model",
]
