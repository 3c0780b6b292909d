"""Terminal tables of a results document (`recast run`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..text import Table


def results_tables(document: Mapping[str, Any], *, cutflows: bool = True) -> list[Table]:
    """The normalisation, the yields, (``cutflows``) every cutflow and the regions not run."""
    norm = document["normalisation"]
    head = Table(title=f"{document['analysis']}: normalisation", show_header=False)
    head.add_row(
        "cross-section",
        f"{norm['cross_section_pb']:.6g} pb ({norm.get('cross_section_source', 'user')})",
    )
    head.add_row("luminosity", f"{norm['luminosity_fb']:g} fb⁻¹")
    head.add_row("events", f"{norm.get('events', 0)} (Σw = {norm['sum_weights']:.6g})")
    head.add_row("σ·L/Σw", f"{norm['factor']:.6g}")
    yields = Table(title="region yields at σ·L")
    for column in ("region", "yield", "± MC stat", "efficiency", "raw events"):
        yields.add_column(column, justify="right" if column != "region" else "left")
    for region, value in document["yields"].items():
        yields.add_row(
            region,
            f"{value['value']:.4g}",
            f"{value['mc_uncertainty']:.2g}",
            f"{value.get('efficiency', math.nan):.4g}",
            str(value["raw"]),
        )
    tables = [head, yields]
    for region, flow in document["cutflows"].items() if cutflows else ():
        table = Table(title=f"cutflow {region}")
        for column in ("step", "Σw (σ·L)", "± MC stat", "raw"):
            table.add_column(column, justify="right" if column != "step" else "left")
        for name, sumw, sumw2, raw in zip(
            flow["cuts"], flow["sumw"], flow["sumw2"], flow["raw"], strict=True
        ):
            table.add_row(name, f"{sumw:.4g}", f"{math.sqrt(max(sumw2, 0)):.2g}", str(raw))
        tables.append(table)
    skipped = skipped_table(document)
    return tables + ([skipped] if skipped is not None else [])


def skipped_table(document: Mapping[str, Any]) -> Table | None:
    """The regions a run skipped and why (None if it skipped none): one row per reason, as a
    missing network file usually skips several regions for the same long reason."""
    reasons: dict[str, list[str]] = {}
    for region, reason in document.get("skipped", {}).items():
        reasons.setdefault(reason, []).append(region)
    if not reasons:
        return None
    table = Table(title="regions not run (not in the yields, nor in the limits)")
    table.add_column("regions", overflow="fold")
    table.add_column("why", overflow="fold")
    for reason, regions in reasons.items():
        table.add_row(", ".join(regions), reason)
    return table
