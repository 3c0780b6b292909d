"""Terminal tables of a results document (`recast run`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..text import Table


def results_tables(document: Mapping[str, Any], *, cutflows: bool = True) -> list[Table]:
    """The normalisation, the yields, regions not run and (``cutflows``) every cutflow."""
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
    if document.get("skipped"):
        skipped = Table(title="regions not run")
        skipped.add_column("region")
        skipped.add_column("why")
        for region, reason in document["skipped"].items():
            skipped.add_row(region, reason)
        tables.append(skipped)
    for region, flow in document["cutflows"].items() if cutflows else ():
        table = Table(title=f"cutflow {region}")
        for column in ("step", "Σw (σ·L)", "± MC stat", "raw"):
            table.add_column(column, justify="right" if column != "step" else "left")
        for name, sumw, sumw2, raw in zip(
            flow["cuts"], flow["sumw"], flow["sumw2"], flow["raw"], strict=True
        ):
            table.add_row(name, f"{sumw:.4g}", f"{math.sqrt(max(sumw2, 0)):.2g}", str(raw))
        tables.append(table)
    return tables
