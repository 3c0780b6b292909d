"""Compact tables that stay readable at 80 columns: the demo's cutflow, yields and limits, and
the verdict `recast run` and `recast limits` print (CLs, μ95, the deciding source)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rich import box
from rich.markup import escape
from rich.table import Table


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits; "—" for none or a non-finite one."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


def _pm(value: float | None, error: float | None) -> str:
    """``5839 ± 170``: the uncertainty to two significant digits, the value to match."""
    if value is None or not math.isfinite(value):
        return "—"
    if error is None or not math.isfinite(error):
        return number(value)
    if error == 0:
        return f"{value:.4g} ± 0"
    decimals = max(0, 1 - math.floor(math.log10(abs(error))))
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _table(title: str, columns: Sequence[str], left: int = 1) -> Table:
    """A compact table (no vertical rules) that stays readable at 80 columns: the first
    ``left`` columns are text, the others numbers."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for i, column in enumerate(columns):
        if i == 0:  # the labels give way first: folded, never cut
            table.add_column(column, overflow="fold")
        else:
            justify: Literal["left", "right"] = "left" if i < left else "right"
            table.add_column(column, justify=justify, no_wrap=True, min_width=len(column))
    return table


def cutflow_table(verdict: Mapping[str, Any]) -> Table:
    """Every published step beside the recast one: one section per region."""
    tolerance = verdict["tolerance"]
    table = _table(
        f"cutflow of {verdict['benchmark']}, recast against published (pass: "
        f"|ratio − 1| ≤ {tolerance['relative']:g} or |pull| ≤ {tolerance['max_pull']:g})",
        ("region / cut", "published", "recast", "ratio", "pull", "pass"),
    )
    for region in verdict["regions"]:
        unit = "" if region["unit"] == "events" else " (fractions)"
        table.add_row(f"[bold]{region['region']}[/bold]{unit}")
        for step in region["steps"]:
            table.add_row(
                f"  {step['cut']}",
                _pm(step["published"], step["published_uncertainty"]),
                _pm(step["recast"], step["recast_uncertainty"]),
                number(step["ratio"], 3),
                f"{step['pull']:+.2f}" if math.isfinite(step["pull"]) else "—",
                {None: "[dim]norm.[/dim]", True: "[green]pass[/green]"}.get(
                    step["passed"], "[red]FAIL[/red]"
                ),
            )
    return table


def yields_table(results: Mapping[str, Any], document: Mapping[str, Any]) -> Table:
    """Signal yield of every region at σ·L beside its published background and count."""
    norm = results["normalisation"]
    table = _table(
        f"region yields at σ = {norm['cross_section_pb']:.4g} pb "
        f"({norm['cross_section_source']}), L = {norm['luminosity_fb']:g} fb⁻¹",
        ("region", "signal", "efficiency", "raw", "background", "observed"),
    )
    regions = document["regions"]
    # the likelihood's region table when there is one, else what analysis.json's regions say
    published = results.get("limits", {}).get("regions", {})
    for name, value in results["yields"].items():
        spec = regions.get(name, {})
        row = published.get(name, {})
        background = row.get("background", spec.get("background"))
        error = row.get("background_uncertainty", spec.get("background_uncertainty"))
        observed = row.get("observed_events", spec.get("observed"))
        kind = spec.get("kind", "signal")
        table.add_row(
            name if kind == "signal" else f"{name} [dim]({kind})[/dim]",
            _pm(value["value"], value["mc_uncertainty"]),
            number(value.get("efficiency"), 3),
            str(value["raw"]),
            "—" if background is None else _pm(background, error),
            "—" if observed is None else f"{observed:g}",
        )
    for name, reason in results.get("skipped", {}).items():
        table.add_row(name, f"skipped: {reason}")
    return table


def limits_table(limits: Mapping[str, Any]) -> tuple[Table, list[str]]:
    """CLs at μ = 1 and μ95 of the verdict's source, the fitted likelihoods and every region;
    with the notes the fits carry."""
    table = _table(
        "CLs at μ = 1 and upper limit μ95 (excluded at 95 % CL when CLs < 0.05)",
        ("from", "CLs obs", "CLs exp", "μ95 obs", "μ95 exp", "excluded"),
    )
    verdict = limits["verdict"]
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if "cls" in verdict:
        rows.append((f"[bold]verdict: {verdict['source']}[/bold]", verdict))
    if "workspace" in limits:
        rows.append(("workspace (full likelihood)", limits["workspace"]))
    rows += [("combination " + " + ".join(c["regions"]), c) for c in limits.get("combined", [])]
    rows += [(f"region {n}", r) for n, r in limits.get("regions", {}).items()]
    notes: list[str] = []
    for label, entry in rows:
        if entry.get("status", "ok") != "ok" or "cls" not in entry:
            table.add_row(label, entry.get("status", "—"))
            continue
        marker = ""
        if "note" in entry:
            notes.append(entry["note"])
            marker = f" [dim]({len(notes)})[/dim]"
        upper = entry.get("mu_upper", {})
        table.add_row(
            label + marker,
            number(entry["cls"]["observed"], 3),
            number(entry["cls"]["expected"].get("median"), 3),
            number(upper.get("observed"), 3),
            number(upper.get("expected", {}).get("median"), 3),
            "[bold]yes[/bold]" if entry["excluded"] else "no",
        )
    return table, notes


def print_limits(console: Any, limits: Mapping[str, Any]) -> None:
    """The limits table, then the fits' notes and the warnings (numbered as in the table)."""
    table, notes = limits_table(limits)
    console.print(table)
    for number, note in enumerate(notes, 1):
        console.print(f"[dim]({number}) {escape(note)}[/dim]")
    for warning in limits.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
