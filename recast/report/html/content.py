"""The tables and lines of a report, built from its documents: pure data the template lays
out, so each can be tested without a page or a plot.

Every number goes into a :class:`Cell` twice: as text (significant digits, "—" for a number
that does not exist) and as the exact value the page sorts by.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .inputs import finite


@dataclass(frozen=True)
class Cell:
    """One cell: its ``text``, the value to ``sort`` by (a number's repr; "" sorts last;
    None sorts by the text), a CSS class and a tooltip."""

    text: str
    sort: str | None = None
    css: str = ""
    title: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A sortable table: ``numeric`` columns are right-aligned."""

    id: str
    caption: str
    columns: list[str]
    rows: list[Row]
    numeric: list[bool] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Fact:
    """A line of the summary: a label, its value, a CSS class (pass, fail, ...) and the
    address the value links to."""

    label: str
    value: str
    css: str = ""
    href: str | None = None


def number(value: Any, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits; "—" for none or a non-finite one."""
    x = finite(value)
    if x is None:
        return "—"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}g}"


def plus_minus(value: Any, error: Any) -> str:
    """``5839 ± 170``: the uncertainty to two significant digits, the value to match."""
    x, e = finite(value), finite(error)
    if x is None:
        return "—"
    if e is None:
        return number(x)
    if e == 0:
        return f"{number(x)} ± 0"
    decimals = max(0, 1 - math.floor(math.log10(abs(e))))
    if decimals > 6:  # tiny numbers: scientific notation reads better
        return f"{x:.2e} ± {e:.1e}"
    return f"{x:.{decimals}f} ± {e:.{decimals}f}"


def _sort(value: Any) -> str:
    x = finite(value)
    return "" if x is None else repr(x)


def num(value: Any, digits: int = 4, css: str = "") -> Cell:
    return Cell(number(value, digits), _sort(value), css)


def text(value: Any, css: str = "", title: str | None = None) -> Cell:
    return Cell("—" if value is None else str(value), None, css, title)


def _table(
    id: str, caption: str, columns: Sequence[str], rows: list[Row], note: str | None = None
) -> Table:
    # a column is numeric when every cell that has a value sorts as a number
    numeric = []
    for i in range(len(columns)):
        cells = [row.cells[i] for row in rows if i < len(row.cells)]
        numeric.append(bool(cells) and all(c.sort is not None for c in cells))
    return Table(id, caption, list(columns), rows, numeric, note)


# -- validation ------------------------------------------------------------------------------
def verdict_cell(passed: bool | None) -> Cell:
    """pass, FAIL, or norm. for a row a normalisation took out of the test."""
    if passed is None:
        return Cell(
            "norm.",
            "1",
            "norm",
            "not tested: the rows after it are compared with this row's ratio divided out",
        )
    return Cell("pass", "0", "pass") if passed else Cell("FAIL", "2", "fail")


@dataclass(frozen=True)
class RegionCutflow:
    """A region's comparison: its table, whether it passed, and its notes."""

    region: str
    passed: bool
    table: Table
    notes: list[str]


def validation_cutflows(verdict: Mapping[str, Any]) -> list[RegionCutflow]:
    """Per validated region: every published step beside the recast one (yields, cumulative
    and relative efficiencies, ratio, pull, pass/FAIL/norm.)."""
    tolerance = verdict["tolerance"]
    found = []
    for k, region in enumerate(verdict["regions"]):
        rows = []
        for step in region["steps"]:
            passed = step["passed"]
            rows.append(
                Row(
                    [
                        text(step["cut"]),
                        Cell(
                            plus_minus(step["published"], step.get("published_uncertainty")),
                            _sort(step["published"]),
                        ),
                        Cell(
                            plus_minus(step["recast"], step["recast_uncertainty"]),
                            _sort(step["recast"]),
                        ),
                        num(step.get("published_efficiency")),
                        num(step.get("recast_efficiency")),
                        num(step.get("published_relative")),
                        num(step.get("recast_relative")),
                        num(step["ratio"], 3),
                        Cell(
                            "—" if finite(step["pull"]) is None else f"{step['pull']:+.2f}",
                            _sort(step["pull"]),
                        ),
                        verdict_cell(passed),
                    ],
                    {None: "norm", True: "", False: "fail"}[passed],
                )
            )
        notes = []
        initial = region.get("initial") or {}
        if initial:
            notes.append(
                f"initial yield: published {number(initial.get('published'))}, recast "
                f"{number(initial.get('recast'))}"
            )
        normalised = region.get("normalised_after")
        if normalised:
            notes.append(
                f"rows up to {normalised['cut']} are not tested (norm.): the rows after it are "
                f"compared with its ratio ({number(normalised.get('factor'), 3)}) divided out"
            )
        unit = region["unit"]
        caption = (
            f"{region['region']} ({unit}): pass when |ratio − 1| ≤ {tolerance['relative']:g} "
            f"or |pull| ≤ {tolerance['max_pull']:g}"
        )
        columns = [
            "cut",
            "published",
            "recast",
            "cum. eff. published",
            "cum. eff. recast",
            "rel. eff. published",
            "rel. eff. recast",
            "ratio",
            "pull",
            "verdict",
        ]
        table = _table(f"cutflow-{k}", caption, columns, rows)
        found.append(RegionCutflow(region["region"], bool(region["passed"]), table, notes))
    return found


def validation_verdict(verdict: Mapping[str, Any]) -> Fact:
    """Passed, or what failed: the regions, and the network histograms when compared."""
    failed = [r["region"] for r in verdict["regions"] if not r["passed"]]
    histograms = verdict.get("network_histograms") or []
    bad = [h for h in histograms if histogram_passed(h, verdict) is False]
    if bad:
        failed.append(f"{len(bad)} of {len(histograms)} network histogram(s)")
    if not failed and verdict.get("passed", True):
        what = f"every step of {len(verdict['regions'])} region(s)"
        if histograms:
            what += f" and {len(histograms)} network histogram(s)"
        return Fact("validation", f"passed: {what}", "pass")
    return Fact("validation", f"FAILED in {', '.join(failed) or 'the document'}", "fail")


# -- results ---------------------------------------------------------------------------------
def results_cutflows(results: Mapping[str, Any], leave_out: Sequence[str] = ()) -> list[Table]:
    """The recast cutflow (Σw at σ·L, its MC uncertainty, raw events, efficiency) of every
    region not in ``leave_out`` (the regions a validation table shows already)."""
    tables = []
    for k, (region, flow) in enumerate(results["cutflows"].items()):
        if region in leave_out:
            continue
        initial = finite(flow["sumw"][0]) if flow["sumw"] else None
        rows = []
        for name, sumw, sumw2, raw in zip(
            flow["cuts"], flow["sumw"], flow["sumw2"], flow["raw"], strict=True
        ):
            efficiency = sumw / initial if initial else None
            rows.append(
                Row(
                    [
                        text(name),
                        num(sumw),
                        num(math.sqrt(max(sumw2, 0.0)), 2),
                        Cell(str(raw), repr(raw)),
                        num(efficiency),
                    ]
                )
            )
        tables.append(
            _table(
                f"results-cutflow-{k}",
                f"{region}: recast cutflow at σ·L",
                ["step", "Σw (σ·L)", "± MC stat", "raw events", "efficiency"],
                rows,
            )
        )
    return tables


def deciding_regions(limits: Mapping[str, Any] | None) -> set[str]:
    """The regions of the verdict's source: one region, a combination's, none for a
    workspace."""
    source = str(((limits or {}).get("verdict") or {}).get("source") or "")
    if source.startswith("region "):
        return {source.removeprefix("region ")}
    if source.startswith("combination "):
        return set(source.removeprefix("combination ").split("+"))
    return set()


def yields_table(results: Mapping[str, Any]) -> Table:
    """Signal yield of every region at σ·L with its MC uncertainty, beside the published
    background and observed count where the likelihood gives them; ★ the deciding region."""
    limits = results.get("limits") or {}
    published = limits.get("regions") or {}
    deciding = deciding_regions(limits)
    rows = []
    for name, value in results["yields"].items():
        row = published.get(name) or {}
        star = name in deciding
        observed = row.get("observed_events")
        rows.append(
            Row(
                [
                    _starred(name, star, "decides the verdict"),
                    Cell(
                        plus_minus(value["value"], value["mc_uncertainty"]), _sort(value["value"])
                    ),
                    num(value["mc_uncertainty"], 2),
                    num(value.get("efficiency"), 3),
                    Cell(str(value["raw"]), repr(value["raw"])),
                    Cell(
                        plus_minus(row.get("background"), row.get("background_uncertainty")),
                        _sort(row.get("background")),
                    ),
                    Cell("—" if observed is None else f"{observed:g}", _sort(observed)),
                ],
                "deciding" if star else "",
            )
        )
    norm = results["normalisation"]
    return _table(
        "yields-table",
        f"region yields at σ = {number(norm['cross_section_pb'])} pb, "
        f"L = {norm['luminosity_fb']:g} fb⁻¹ (MC stat: the uncertainty from the sample size)",
        ["region", "signal", "± MC stat", "efficiency", "raw events", "background", "observed"],
        rows,
    )


def skipped_regions(*documents: Mapping[str, Any] | None) -> list[Fact]:
    """The regions a run did not run, with the reason (once each)."""
    seen: dict[str, str] = {}
    for document in documents:
        for region, reason in ((document or {}).get("skipped") or {}).items():
            seen.setdefault(region, str(reason))
    return [Fact(region, reason) for region, reason in seen.items()]


def _band(values: Mapping[str, Any] | None) -> Cell:
    """median [−1σ, +1σ] of an expected band, sorted by the median."""
    if not values:
        return Cell("—", "")
    median = values.get("median")
    low, high = number(values.get("minus1"), 3), number(values.get("plus1"), 3)
    return Cell(f"{number(median, 3)} [{low}, {high}]", _sort(median))


def limits_table(limits: Mapping[str, Any]) -> Table:
    """CLs at μ = 1 and μ95 of the workspace, the combinations and every region; the
    verdict's source marked."""
    source = (limits.get("verdict") or {}).get("source")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if "workspace" in limits:
        entries.append(("workspace", limits["workspace"]))
    entries += [("combination " + "+".join(c["regions"]), c) for c in limits.get("combined", [])]
    entries += [(f"region {n}", r) for n, r in (limits.get("regions") or {}).items()]
    rows = []
    notes: list[str] = []
    for label, entry in entries:
        ok = entry.get("status", "ok") == "ok" and "cls" in entry
        cls = entry.get("cls") or {}
        upper = entry.get("mu_upper") or {}
        decides = label == source
        excluded = entry.get("excluded")
        rows.append(
            Row(
                [
                    _starred(label, decides, "the verdict's source"),
                    num(cls.get("observed") if ok else None, 3),
                    _band(cls.get("expected") if ok else None),
                    num(upper.get("observed"), 3),
                    _band(upper.get("expected")),
                    Cell("yes", "1", "fail")
                    if ok and excluded
                    else Cell("no" if ok else "—", "0" if ok else ""),
                    text(entry.get("calculator") or entry.get("method") or "—"),
                    _status(entry, notes),
                ],
                "deciding" if decides else "",
            )
        )
    alpha = limits.get("alpha", 0.05)
    return _table(
        "limits-table",
        f"CLs at μ = 1 and the upper limit μ95 (excluded at {100 * (1 - alpha):g} % CL when "
        f"CLs < {alpha:g}); expected: median [−1σ, +1σ]",
        ["from", "CLs obs", "CLs exp", "μ95 obs", "μ95 exp", "excluded", "calculator", "status"],
        rows,
        " ".join(f"({k}) {note}" for k, note in enumerate(notes, 1)) or None,
    )


def _status(entry: Mapping[str, Any], notes: list[str]) -> Cell:
    """A fit's status, numbered when it carries a note (the notes follow the table)."""
    status = str(entry.get("status", "ok"))
    if "note" not in entry:
        return text(status)
    notes.append(str(entry["note"]))
    return Cell(f"{status} ({len(notes)})", None, "", str(entry["note"]))


def limits_verdict(limits: Mapping[str, Any]) -> Fact:
    """One line: excluded or not, by what, with CLs and μ95."""
    verdict = limits.get("verdict") or {}
    source = verdict.get("source")
    alpha = limits.get("alpha", 0.05)
    if source is None:
        return Fact("limits", f"no CLs: {verdict.get('reason', 'no region with signal')}", "")
    cls = verdict.get("cls") or {}
    upper = verdict.get("mu_upper") or {}
    words = "excluded" if verdict.get("excluded") else "not excluded"
    line = (
        f"{words} at {100 * (1 - alpha):g} % CL by {source}: CLs {number(cls.get('observed'), 3)} "
        f"(expected {number((cls.get('expected') or {}).get('median'), 3)})"
    )
    if upper:
        line += (
            f", μ95 {number(upper.get('observed'), 3)} "
            f"(expected {number((upper.get('expected') or {}).get('median'), 3)})"
        )
    return Fact("limits", line, "fail" if verdict.get("excluded") else "pass")


# -- summary ---------------------------------------------------------------------------------
def summary(
    results: Mapping[str, Any] | None,
    validation: Mapping[str, Any] | None,
    scan: Mapping[str, Any] | None,
    scan_form: str | None,
) -> list[Fact]:
    """The facts at the top of the page: what, at which σ and L, with how many events, and
    the verdicts."""
    facts = []
    analysis = (results or validation or {}).get("analysis")
    if analysis is not None:
        facts.append(Fact("analysis", str(analysis)))
    if validation is not None:
        facts.append(Fact("benchmark", str(validation["benchmark"])))
    norm = (results or validation or {}).get("normalisation")
    if norm:
        facts.append(cross_section_fact(norm))
        facts.append(Fact("luminosity L", f"{number(norm.get('luminosity_fb'))} fb⁻¹"))
        events = norm.get("events")
        facts.append(
            Fact(
                "events",
                ("—" if events is None else str(events))
                + f" (Σw = {number(norm.get('sum_weights'))}; "
                f"σ·L/Σw = {number(norm.get('factor'))})",
            )
        )
    if validation is not None:
        facts.append(validation_verdict(validation))
    if results is not None:
        limits = results.get("limits")
        if limits is None:
            facts.append(Fact("limits", "none: the bundle carries no likelihood"))
        else:
            facts.append(limits_verdict(limits))
    if scan is not None:
        facts.append(scan_fact(scan, scan_form))
    return facts


# -- scans -----------------------------------------------------------------------------------
def scan_fact(scan: Mapping[str, Any], form: str | None) -> Fact:
    points = scan.get("points") or []
    if form == "plane":
        counts = scan.get("summary") or {}
        excluded = counts.get(
            "excluded", sum(1 for p in points if ((p.get("combined") or {}).get("excluded")))
        )
        failed = len(counts.get("failed", [])) if counts else 0
        what = f"model scan of {', '.join(scan.get('analyses', []))}"
    else:
        excluded = int(scan.get("excluded", sum(1 for p in points if p.get("excluded"))))
        failed = int(scan.get("failed", 0))
        what = f"scan of {scan.get('grid')}"
    line = f"{what}: {excluded} of {len(points)} point(s) excluded"
    if failed:
        line += f", {failed} failed"
    return Fact("scan", line, "fail" if failed else "")


def _excluded(point: Mapping[str, Any], entry: Mapping[str, Any] | None) -> Cell:
    if point.get("status") == "failed" or (point.get("status") not in (None, "ok")):
        # a point whose fit failed has no verdict: "no" would read as allowed
        return Cell("failed", "", "fail", str(point.get("reason") or point.get("error") or ""))
    if entry is None:
        return Cell("—", "")
    return Cell("yes", "1", "excluded") if entry.get("excluded") else Cell("no", "0")


def scan_table(scan: Mapping[str, Any], form: str) -> Table:
    """One row per point: its parameters, what decided, CLs and μ95, the verdict."""
    parameters = list(scan["parameters"])
    rows = []
    if form == "plane":
        for point in scan["points"]:
            best = point.get("combined") or None
            cls = (best or {}).get("cls") or {}
            sigma = (point.get("cross_section") or {}).get("value_pb")
            rows.append(
                Row(
                    [
                        *(num(point["values"].get(p), 6) for p in parameters),
                        num(None if sigma is None else 1000.0 * sigma),
                        text((best or {}).get("analysis")),
                        text((best or {}).get("deciding")),
                        num(cls.get("observed"), 3),
                        num((cls.get("expected") or {}).get("median"), 3),
                        _excluded(point, best),
                    ]
                )
            )
        columns = [*parameters, "σ (fb)", "analysis", "deciding", "CLs obs", "CLs exp", "excluded"]
        caption = (
            "every point of the model scan; per point the analysis of best expected CLs decides"
        )
    else:
        for point in scan["points"]:
            cls = point.get("cls") or {}
            upper = point.get("mu_upper") or {}
            rows.append(
                Row(
                    [
                        *(num(point["parameters"].get(p), 6) for p in parameters),
                        text(point.get("source") or point.get("best_expected_region")),
                        num(cls.get("observed"), 3),
                        _band(cls.get("expected")),
                        num(upper.get("observed"), 3),
                        num((upper.get("expected") or {}).get("median"), 3),
                        _excluded(point, point),
                    ]
                )
            )
        columns = [*parameters, "source", "CLs obs", "CLs exp", "μ95 obs", "μ95 exp", "excluded"]
        caption = f"every point of {scan.get('grid')} under {scan.get('likelihood')}"
    return _table("scan-points", caption, columns, rows)


# -- network inputs and outputs --------------------------------------------------------------
def ranked_histograms(validation: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The validation's network histograms, the worst agreement (lowest p-value) first; those
    without a p-value last, in their order."""
    histograms = list((validation or {}).get("network_histograms") or [])
    return sorted(
        histograms,
        key=lambda h: (finite(h.get("p_value")) is None, finite(h.get("p_value")) or 0.0),
    )


def histogram_passed(entry: Mapping[str, Any], verdict: Mapping[str, Any]) -> bool | None:
    """A histogram's verdict: its own ``passed``, else its p-value against the validation's
    ``tolerance.histogram_p_value``; None when neither is known."""
    if isinstance(entry.get("passed"), bool):
        return bool(entry["passed"])
    threshold = finite((verdict.get("tolerance") or {}).get("histogram_p_value"))
    p = finite(entry.get("p_value"))
    if threshold is None or p is None:
        return None
    return p >= threshold


def histogram_table(
    ranked: Sequence[Mapping[str, Any]], anchors: Sequence[str], verdict: Mapping[str, Any]
) -> Table:
    """The ranking: one row per histogram, linked to its plot, with χ²/ndf, p-value, KS
    distance, the bin of the largest pull (or why there was no comparison) and the verdict."""
    rows = []
    for k, (entry, anchor) in enumerate(zip(ranked, anchors, strict=True), 1):
        chi2, ndf = finite(entry.get("chi2")), entry.get("ndf")
        passed = histogram_passed(entry, verdict)
        worst = entry.get("worst") or {}
        pull = finite(worst.get("pull"))
        rows_recast = (entry.get("recast") or {}).get("rows")
        rows.append(
            Row(
                [
                    Cell(str(k), repr(k)),
                    text(entry["network"]),
                    Cell(str(entry["feature"]), None, "", entry.get("kind"), f"#{anchor}"),
                    text(entry.get("kind")),
                    Cell("—" if rows_recast is None else str(rows_recast), _sort(rows_recast)),
                    Cell(
                        "—" if chi2 is None else f"{chi2:.3g} / {ndf}",
                        _sort(chi2 / ndf if chi2 is not None and ndf else None),
                    ),
                    num(entry.get("p_value"), 3),
                    num(entry.get("ks"), 3),
                    Cell(
                        f"{pull:+.1f} in {worst.get('bin')}"
                        if pull is not None
                        else str(entry.get("problem") or "—"),
                        _sort(None if pull is None else abs(pull)),
                    ),
                    Cell("—", "") if passed is None else verdict_cell(passed),
                ],
                "fail" if passed is False else "",
            )
        )
    threshold = finite((verdict.get("tolerance") or {}).get("histogram_p_value"))
    rule = f"; pass: p-value ≥ {number(threshold, 3)}" if threshold is not None else ""
    return _table(
        "network-histograms",
        "network inputs and outputs, recast against published, the worst agreement first "
        f"(χ²/ndf sorts by its ratio, the largest pull by its size{rule})",
        [
            "rank",
            "network",
            "histogram",
            "kind",
            "recast rows",
            "χ² / ndf",
            "p-value",
            "KS",
            "largest pull",
            "verdict",
        ],
        rows,
    )


# -- provenance ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A value of a provenance as the page nests it: ``scalar`` (``text``), ``list``
    (``items`` of text), ``map`` (``entries`` of (key, Node)) or ``table`` (``columns``,
    ``cells``), ``folded`` when long enough to start closed."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    entries: list[tuple[str, Node]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)
    folded: bool = False


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value, 6)
    return str(value)


#: a map or list longer than this starts folded
FOLD = 12


def tree(value: Any) -> Node:
    """A provenance (any JSON value) as nested nodes: a list of objects with scalar fields
    becomes a table, everything else nests as it is."""
    if isinstance(value, Mapping):
        entries = [(str(k), tree(v)) for k, v in value.items()]
        return Node("map", entries=entries, folded=len(entries) > FOLD)
    if isinstance(value, list | tuple):
        if (
            value
            and all(isinstance(v, Mapping) for v in value)
            and all(not isinstance(x, Mapping | list) for v in value for x in v.values())
        ):
            columns: list[str] = []
            for v in value:
                columns += [str(k) for k in v if str(k) not in columns]
            cells = [[_scalar(v.get(c)) for c in columns] for v in value]
            return Node("table", columns=columns, cells=cells, folded=len(cells) > FOLD)
        if all(not isinstance(v, Mapping | list) for v in value):
            return Node("list", items=[_scalar(v) for v in value], folded=len(value) > FOLD)
        return Node("map", entries=[(f"[{i}]", tree(v)) for i, v in enumerate(value)])
    return Node("scalar", text=_scalar(value))


def _starred(name: str, star: bool, why: str) -> Cell:
    """A row's first cell: its name, with ★ and ``why`` as the tooltip when ``star``."""
    return Cell(name + (" ★" if star else ""), None, "", why if star else None)


def cross_section_fact(normalisation: Mapping[str, Any]) -> Fact:
    """The σ a run was normalised with, and where it came from (the user, the benchmark,
    the generator)."""
    return Fact(
        "cross-section σ",
        f"{number(normalisation.get('cross_section_pb'))} pb "
        f"({normalisation.get('cross_section_source', 'user')})",
    )
