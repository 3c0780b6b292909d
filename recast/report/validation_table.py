"""Terminal tables of a cutflow validation (`recast validate`)."""

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
    return tables
