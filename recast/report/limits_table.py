"""Terminal tables of limits: S95 per region, a results document's limits, workspaces, scans.

Numbers that do not exist (no signal, a failed fit) print as "—", never as "nan".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..text import Table


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _band(values: Mapping[str, Any] | None) -> str:
    """median [−1σ, +1σ] of a band."""
    if not values:
        return "—"
    return f"{_f(values['median'])} [{_f(values['minus1'])}, {_f(values['plus1'])}]"


def _calculator(row: Mapping[str, Any]) -> str:
    """The method, or the calculator that replaced it (exact counting switches to asymptotics
    above its count threshold: the table must show what computed the number)."""
    return str(row.get("calculator") or row["method"])


def s95_table(document: Mapping[str, Any]) -> Table:
    """`recast limits --regions`: one row per region; the published S95 beside ours when the
    region file carries them."""
    table = Table(title=f"S95 (95% CL upper limits on signal events) — {document['regions_file']}")
    columns = ["region", "n_obs", "background", "S95 obs", "S95 exp [−1σ, +1σ]", "method"]
    published = any("published" in row for row in document["s95"])
    if published:
        columns[5:5] = ["published obs", "published exp"]
    for column in columns:
        table.add_column(column, justify="left" if column == "region" else "right")
    for row in document["s95"]:
        cells = [
            row["region"],
            str(row["observed_events"]),
            f"{row['background']:g} ± {row['background_uncertainty']:g}",
            _f(row["s95"]["observed"]),
            _band(row["s95"]["expected"]),
            _calculator(row),
        ]
        if published:
            ref = row.get("published", {})
            cells[5:5] = [_f(ref.get("observed")), _f(ref.get("expected"))]
        table.add_row(*cells)
    return table


def limits_tables(limits: Mapping[str, Any]) -> list[Table]:
    """The ``limits`` of a results document: regions, combinations, workspace, verdict."""
    tables = []
    if "regions" in limits:
        table = Table(title="limits per region (CLs at μ = 1, upper limit on μ)")
        for column in (
            "region",
            "signal",
            "n_obs",
            "background",
            "CLs obs",
            "CLs exp",
            "μ95 obs",
            "μ95 exp [−1σ, +1σ]",
            "method",
        ):
            table.add_column(column, justify="left" if column == "region" else "right")
        best = limits.get("best_expected_region")
        for name, row in limits["regions"].items():
            upper = row.get("mu_upper", {})
            table.add_row(
                f"{name} ★" if name == best else name,
                f"{_f(row['signal'])} ± {_f(row['signal_uncertainty'], 2)}",
                str(row["observed_events"]),
                f"{row['background']:g} ± {row['background_uncertainty']:g}",
                _f(row["cls"]["observed"]),
                _band(row["cls"]["expected"]),
                _f(upper.get("observed")),
                _band(upper.get("expected")),
                _calculator(row),
            )
        tables.append(table)
    fitted = [("combination " + "+".join(c["regions"]), c) for c in limits.get("combined", [])]
    if "workspace" in limits:
        fitted.append(("workspace " + str(limits["workspace"]["path"]), limits["workspace"]))
    if fitted:
        tables.append(_fitted_table("fitted likelihoods", fitted))
    verdict = limits["verdict"]
    summary = Table(title="verdict", show_header=False)
    summary.add_row("from", str(verdict.get("source") or "—"))
    if "cls" in verdict:
        summary.add_row("CLs observed", _f(verdict["cls"]["observed"]))
        summary.add_row("CLs expected", _band(verdict["cls"]["expected"]))
    if "mu_upper" in verdict:
        summary.add_row("μ95 observed", _f(verdict["mu_upper"]["observed"]))
        summary.add_row("μ95 expected", _band(verdict["mu_upper"]["expected"]))
    summary.add_row(
        f"excluded at {100 * (1 - limits['alpha']):g}% CL", "yes" if verdict["excluded"] else "no"
    )
    for warning in limits.get("warnings", []):
        summary.add_row("warning", warning)
    tables.append(summary)
    return tables


def _fitted_table(title: str, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> Table:
    table = Table(title=title)
    for column in (
        "likelihood",
        "CLs obs",
        "CLs exp [−1σ, +1σ]",
        "μ95 obs",
        "μ95 exp",
        "excluded",
        "status",
    ):
        table.add_column(column, justify="left" if column == "likelihood" else "right")
    for name, row in rows:
        ok = row.get("status") == "ok"
        upper = row.get("mu_upper", {})
        table.add_row(
            name,
            _f(row["cls"]["observed"]) if ok else "—",
            _band(row["cls"]["expected"]) if ok else "—",
            _f(upper.get("observed")),
            _band(upper.get("expected")),
            ("yes" if row["excluded"] else "no") if ok else "—",
            row.get("status", "?") + (f" ({row['note']})" if "note" in row else ""),
        )
    return table


def workspace_table(document: Mapping[str, Any]) -> Table:
    """`recast limits --workspace --patch`: one row per patch."""
    return _fitted_table(
        f"{document['workspace']} + {document['patch_file']}",
        [(row["patch"], row) for row in document["patches"]],
    )


def scan_table(document: Mapping[str, Any]) -> Table:
    """`recast scan`: one row per grid point."""
    table = Table(
        title=f"scan of {document['grid']} ({document['excluded']} of "
        f"{len(document['points'])} points excluded)"
    )
    for column in (
        *document["parameters"],
        "best region",
        "CLs obs",
        "CLs exp [−1σ, +1σ]",
        "μ95 obs",
        "μ95 exp",
        "excluded",
    ):
        table.add_column(column, justify="right")
    for row in document["points"]:
        cls_values, upper = row.get("cls") or {}, row.get("mu_upper") or {}
        table.add_row(
            *(f"{row['parameters'][p]:g}" for p in document["parameters"]),
            str(row.get("best_expected_region") or row.get("source") or "—"),
            _f(cls_values.get("observed")),
            _band(cls_values.get("expected")),
            _f(upper.get("observed")),
            _f((upper.get("expected") or {}).get("median")),
            # a point whose fit failed has no verdict: "no" would read as allowed
            "failed" if row.get("status") == "failed" else ("yes" if row["excluded"] else "no"),
        )
    return table
