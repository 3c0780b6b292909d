"""Terminal tables of a validation (`recast validate`): the cutflows, then the network
histograms."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from ..text import Table


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}g}"


def _verdict(passed: bool | None) -> Text:
    if passed is None:  # a normalisation row (validation.normalise_after): not tested
        return Text("norm.", style="dim")
    return Text("pass", style="green") if passed else Text("FAIL", style="red")


def validation_tables(verdict: Mapping[str, Any]) -> list[Table]:
    """One table per compared region, then the network histograms' (when compared)."""
    tables = []
    tolerance = verdict["tolerance"]
    for region in verdict["regions"]:
        title = (
            f"{verdict['analysis']} {region['region']}, benchmark {verdict['benchmark']} "
            f"({region['unit']}; pass: |ratio − 1| ≤ {tolerance['relative']:g} or "
            f"|pull| ≤ {tolerance['max_pull']:g})"
        )
        normalised = region.get("normalised_after")
        if normalised is not None:
            title += (
                f"; rows after {normalised['cut']} compared with its ratio "
                f"({normalised['factor']:.3g}) divided out"
            )
        table = Table(title=title)
        for column in (
            "cut",
            "recast",
            "published",
            "cum. eff. recast",
            "cum. eff. published",
            "rel. eff. recast",
            "rel. eff. published",
            "ratio",
            "pull",
            "verdict",
        ):
            table.add_column(column, justify="left" if column == "cut" else "right")
        for step in region["steps"]:
            recast = f"{_number(step['recast'])} ± {_number(step['recast_uncertainty'], 2)}"
            published = _number(step["published"])
            if step["published_uncertainty"] is not None:
                published += f" ± {_number(step['published_uncertainty'], 2)}"
            table.add_row(
                step["cut"],
                recast,
                published,
                _number(step["recast_efficiency"]),
                _number(step["published_efficiency"]),
                _number(step["recast_relative"]),
                _number(step["published_relative"]),
                _number(step["ratio"], 3),
                _number(step["pull"], 2),
                _verdict(step["passed"]),
            )
        tables.append(table)
    histograms = network_histograms_table(verdict)
    if histograms is not None:
        tables.append(histograms)
    return tables


def network_histograms_table(verdict: Mapping[str, Any]) -> Table | None:
    """The published network histograms against the recast ones, worst first: χ²/ndf, its
    p-value, the KS distance, the bin of the largest pull and the verdict; None when the
    validation compared none."""
    entries = verdict.get("network_histograms")
    if not entries:
        return None
    threshold = verdict["tolerance"].get("histogram_p_value")
    failed = sum(1 for e in entries if not e["passed"])
    table = Table(
        title=f"{verdict['analysis']} network inputs and outputs, benchmark "
        f"{verdict['benchmark']} (shapes at unit area, worst first; pass: p-value ≥ "
        f"{_number(threshold, 3)})",
        caption=f"{failed} of {len(entries)} histogram(s) fail"
        if failed
        else f"all {len(entries)} histogram(s) pass",
    )
    for column in ("network", "histogram", "rows", "χ² / ndf", "p-value", "KS", "largest pull"):
        table.add_column(column, justify="left" if column in ("network", "histogram") else "right")
    table.add_column("verdict", justify="right")
    for entry in entries:
        worst = entry.get("worst")
        pull = f"{worst['pull']:+.1f} in {worst['bin']}" if worst else entry.get("problem", "–")
        table.add_row(
            entry["network"],
            f"{entry['kind']} {entry['feature']}",
            str(entry["recast"].get("rows", "–")),
            f"{_number(entry['chi2'], 4)} / {entry['ndf']}",
            f"{entry['p_value']:.2g}",
            f"{entry['ks']:.3f}",
            pull,
            _verdict(entry["passed"]),
        )
    return table
