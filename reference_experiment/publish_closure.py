"""Closure of the published b-tagging emulations on the HELD-OUT points.

Every reconstructed jet inside the tracker of the held-out samples gets four numbers: the
reference tagger's exact efficiency at the 77 % cut (:func:`reference_experiment.btag.efficiency`
at its truth pT, η, n_bhadrons and ΔR), and the efficiency the binned map, the learned map and
the surrogate give it, each evaluated as the runtime evaluates it (on the event's reconstructed
jets, their context computed among them). Tables per pT × \\|η\\| bin, per ΔR band and per
n_bhadrons, for b-jets (and c, light per pT × \\|η\\|); the largest \\|map − truth\\| over the
populated bins; a figure.

>>> report = closure_study("build/demo_multib", "analyses/DEMO_MULTIB_GLUINO", ["Gtt_2100_800"])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.detector.maps import load_map
from recast.errors import UsageError
from recast.io import undefined_as_null, write_json
from recast.report.figure import subplots

from .btag import WORKING_POINTS, efficiency
from .publish_fit import BTAG_ABS_ETA_EDGES, BTAG_PT_EDGES
from .read import sample_chunks

log = logging.getLogger(__name__)

MAPS = {
    "binned": "btag_77_binned.json",
    "learned": "btag_77_learned.json",
    "surrogate": "btag_score_surrogate.json",
}
DR_EDGES = [0.0, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 10.01]
MIN_JETS = 200
FIGURE = Path("docs/figures/flagship_btag_closure.png")


def evaluate(samples: str | os.PathLike[str], out: Path, names: Sequence[str]) -> dict[str, Any]:
    """Flat columns of every reconstructed jet inside the tracker of the held-out samples."""
    maps = {k: load_map(out / "maps" / v) for k, v in MAPS.items()}
    columns: dict[str, list[np.ndarray]] = {}
    for name in names:
        for reco in sample_chunks(samples, name, "detector"):
            fields = ["pt", "eta", "phi", "mass", "flavour", "n_bhadrons", "n_chadrons"]
            jets = ak.zip({f: reco.jets[f] for f in fields}, with_name="Momentum4D")
            events = ak.zip({"event_number": reco.event_number, "jets": jets}, depth_limit=1)
            flat = {
                f: np.asarray(ak.to_numpy(ak.flatten(reco.jets[f])), dtype=np.float64)
                for f in (
                    "pt",
                    "eta",
                    "flavour",
                    "n_bhadrons",
                    "truth_pt",
                    "truth_eta",
                    "dr_nearest",
                    "btag_77",
                )
            }
            flat["truth"] = efficiency(
                WORKING_POINTS[77],
                flat["flavour"],
                flat["n_bhadrons"],
                flat["truth_pt"],
                flat["truth_eta"],
                flat["dr_nearest"],
            )
            for key, m in maps.items():
                flat[key] = np.asarray(ak.to_numpy(ak.flatten(m.efficiency(events))), float)
            inside = np.abs(flat["eta"]) < BTAG_ABS_ETA_EDGES[-1]
            for key, values in flat.items():
                columns.setdefault(key, []).append(values[inside])
    return {k: np.concatenate(v) for k, v in columns.items()}


def _table(cols: dict[str, np.ndarray], chosen: np.ndarray, index: np.ndarray, n: int) -> list:
    rows = []
    for k in range(n):
        at = chosen & (index == k)
        count = int(at.sum())
        row: dict[str, Any] = {"bin": k, "jets": count}
        if count:
            observed = float(cols["btag_77"][at].mean())
            row["observed"] = observed
            row["observed_error"] = float(np.sqrt(max(observed * (1 - observed), 1e-12) / count))
            row["truth"] = float(cols["truth"][at].mean())
            for key in MAPS:
                row[key] = float(cols[key][at].mean())
        rows.append(row)
    return rows


def _worst(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The largest |map − truth| over the bins with enough jets; None (JSON null) where no bin
    has enough (a small sample): JSON has no NaN."""
    populated = [r for r in rows if r["jets"] >= MIN_JETS]
    return {
        key: round(max(abs(r[key] - r["truth"]) for r in populated), 4) if populated else None
        for key in MAPS
    }


def closure_tables(cols: dict[str, np.ndarray]) -> dict[str, Any]:
    """Tables and summaries (largest \\|map − truth\\| over bins with ≥ 200 jets)."""
    pt_bin = np.clip(
        np.searchsorted(BTAG_PT_EDGES, cols["pt"], side="right") - 1, 0, len(BTAG_PT_EDGES) - 2
    )
    eta_bin = np.searchsorted(BTAG_ABS_ETA_EDGES, np.abs(cols["eta"]), side="right") - 1
    n_eta = len(BTAG_ABS_ETA_EDGES) - 1
    pt_eta = pt_bin * n_eta + eta_bin
    dr_bin = np.clip(
        np.searchsorted(DR_EDGES, cols["dr_nearest"], side="right") - 1, 0, len(DR_EDGES) - 2
    )
    flavour = cols["flavour"]
    b_jets = (flavour == 5) & (cols["pt"] > 30)
    n_pt_eta = (len(BTAG_PT_EDGES) - 1) * n_eta
    tables: dict[str, Any] = {
        f"pt_eta_{label}": _table(cols, np.isin(flavour, values), pt_eta, n_pt_eta)
        for label, values in (("b", [5]), ("c", [4, 15]), ("light", [0]))
    }
    tables["dr_b"] = _table(cols, b_jets, dr_bin, len(DR_EDGES) - 1)
    nb = np.clip(cols["n_bhadrons"], 0, 2).astype(int)
    tables["nb_b"] = _table(cols, b_jets, nb, 3)
    close = b_jets & (cols["dr_nearest"] < 0.6)
    two = b_jets & (cols["n_bhadrons"] >= 2)
    groups = {"b jets, dR < 0.6": close, "b jets, 2 b-hadrons": two, "b jets, pT > 30": b_jets}
    means = {}
    for label, chosen in groups.items():
        entry = {
            "jets": int(chosen.sum()),
            "observed": float(cols["btag_77"][chosen].mean()),
            "truth": float(cols["truth"][chosen].mean()),
        }
        entry.update({key: float(cols[key][chosen].mean()) for key in MAPS})
        means[label] = entry
    summary = {
        "max_abs_error_pt_eta": {
            label: _worst(tables[f"pt_eta_{label}"]) for label in ("b", "c", "light")
        },
        "max_abs_error_pt_eta_above_30_gev": {
            label: _worst([r for r in tables[f"pt_eta_{label}"] if r["bin"] >= n_eta])
            for label in ("b", "c", "light")
        },
        "max_abs_error_dr_below_0p6": _worst(
            [r for r, lo in zip(tables["dr_b"], DR_EDGES[:-1], strict=True) if lo < 0.6]
        ),
        "mean_error": {
            label: {key: round(e[key] - e["truth"], 4) for key in MAPS}
            for label, e in means.items()
        },
        "means": means,
    }
    return {"tables": tables, "summary": summary, "dr_edges": DR_EDGES}


def plot(report: dict[str, Any], path: Path) -> None:
    from matplotlib.ticker import NullFormatter

    colours = {
        "truth": "black",
        "binned": "tab:blue",
        "learned": "tab:red",
        "surrogate": "tab:green",
    }
    fig, axes = subplots(
        "the closure figure",
        2,
        3,
        figsize=(13, 6.5),
        sharex="col",
        gridspec_kw={"height_ratios": [3, 1.3]},
    )
    tables = report["tables"]
    edges = np.asarray(report["dr_edges"])
    dr_x = 0.5 * (edges[:-1] + np.minimum(edges[1:], 3.0))
    pt_edges = np.asarray(BTAG_PT_EDGES)
    n_eta = len(BTAG_ABS_ETA_EDGES) - 1
    panels = [
        ("ΔR to the nearest jet (b-jets, pT > 30 GeV)", tables["dr_b"], dr_x),
        ("number of b-hadrons (b-jets)", tables["nb_b"], np.arange(3.0)),
        # central |η| bin vs pT: the pT dependence of the b-jets
        (
            "reco jet pT [GeV] (b-jets, |η| < 0.6)",
            tables["pt_eta_b"][0::n_eta],
            np.sqrt(pt_edges[:-1] * np.minimum(pt_edges[1:], 800)),
        ),
    ]
    for column, (label, rows, x) in enumerate(panels):
        ok = np.array([r["jets"] >= MIN_JETS for r in rows])
        xs = np.asarray(x)[ok]
        chosen = [r for r, keep in zip(rows, ok, strict=True) if keep]
        top, bottom = axes[0, column], axes[1, column]
        top.errorbar(
            xs,
            [r["observed"] for r in chosen],
            [r["observed_error"] for r in chosen],
            fmt="o",
            color="grey",
            label="reference detector (tagged fraction)",
        )
        for key, colour in colours.items():
            top.plot(
                xs,
                [r[key] for r in chosen],
                "-" if key == "truth" else "--",
                color=colour,
                marker="." if key != "truth" else None,
                label=key,
            )
            if key != "truth":
                bottom.plot(xs, [r[key] - r["truth"] for r in chosen], marker=".", color=colour)
        bottom.axhline(0.0, color="black", lw=0.8)
        bottom.set_xlabel(label)
        bottom.set_ylabel("map − truth")
        top.set_ylabel("ε(77 % WP)")
        if column == 0:
            top.legend(fontsize=8)
        if column == 1:
            bottom.set_xticks([1, 2])
        if column == 2 and len(xs):
            top.set_xscale("log")
            bottom.set_xticks([30, 100, 300])
            bottom.set_xticklabels(["30", "100", "300"])
            bottom.xaxis.set_minor_formatter(NullFormatter())
    fig.suptitle("DEMO_MULTIB_GLUINO b-tagging emulations on the HELD-OUT points")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})


def closure_study(
    samples: str | os.PathLike[str],
    out: str | os.PathLike[str],
    names: Sequence[str],
    figure: Path | None = FIGURE,
    report_path: Path | None = None,
) -> dict[str, Any]:
    """Evaluate, tabulate, write the report (if ``report_path``) and the figure; returns the
    report (``tables``, ``summary``)."""
    if not names:
        raise UsageError(
            f"{samples}: no held-out sample is on disk; make them with `python -m "
            f"reference_experiment.samples --what held_out --out {samples}` or pass --no-closure"
        )
    cols = evaluate(samples, Path(out), names)
    report = closure_tables(cols)
    report["samples"] = list(names)
    report["jets"] = len(cols["truth"])
    if report_path is not None:
        write_json(report_path, undefined_as_null(report))
    if figure is not None:
        plot(report, figure)
    summary = report["summary"]
    log.info("closure on %s: %s", ", ".join(names), summary)
    return report


__all__ = ["closure_study", "closure_tables", "evaluate", "plot"]
