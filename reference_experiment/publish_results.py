"""What the reference experiment publishes of its DEMO_MULTIB_GLUINO result.

::

    python -m reference_experiment.publish_results --samples build/demo_multib \\
        --out analyses/DEMO_MULTIB_GLUINO

From the reference detector's objects (the "official" detector level) of the samples of
:mod:`reference_experiment.samples`, into the bundle:

``cutflows/<benchmark>_<region>.json`` (+ ``<benchmark>.slha``)
    every region's cutflow for the benchmark points :data:`BENCHMARKS` (held-out points, 5000
    events each), in events at the bundle's luminosity with Pythia's LO cross-section, the
    uncertainty the sample's MC statistics (binomial, as ``recast validate`` computes its own);
``likelihood/signal_regions.json``
    per signal region the tt̄ background (``ttbar`` 150 < p̂T < 400 GeV, and the p̂T > 400 GeV
    slice from ``ttbar_boosted`` and ``ttbar_boosted_estimate`` together), its uncertainty
    (MC statistics ⊕ :data:`MODELLING` of the yield) and pseudo-data: a Poisson draw of the
    background with the seed :data:`PSEUDO_DATA_SEED`. Three b-tags in tt̄ need a mistag, so
    few simulated events reach a region, each standing for 6–100 events at 139 fb⁻¹: the
    experiment draws every event's b-tags :data:`TAG_RESAMPLINGS` times
    (:meth:`ReferenceDetector.retag`, the tagger of the full detector with other seeds) and
    averages, which keeps the yield unbiased and divides its tag fluctuations;
``network_histograms/<benchmark>_multib_demo.json``
    histograms of the network's inputs and outputs at the same benchmark points, from the same
    events (:mod:`reference_experiment.publish_histograms`, which also publishes them alone);
``likelihood/background_only.json``
    a background-only pyhf workspace of the orthogonal regions CR-ttbar-1L, SR-Gtt-1L and
    SR-Gtt-0L (the Gtt combination): tt̄ with a free normalisation ``mu_ttbar`` fixed by the
    control region, its MC statistics (``staterror``) and an extrapolation uncertainty per
    signal region (``normsys``), the pseudo-data as observations, POI ``mu_SIG``;

and into ``analysis.json``: ``cutflows`` and ``network_histograms`` (with digests),
``validation`` (the tolerance a recast must meet), ``likelihood``, each region's
``observed``/``background``, and the detector descriptions of
:mod:`reference_experiment.publish_detector` with their digests: the learned one as the
default ``detector``, all three by name under ``detectors``.

Pseudo-data are drawn region by region; regions that share events (the 0-lepton ones) are
therefore not mutually consistent, which a real measurement would be. Nothing else reads
the background model: it is the experiment's to choose and state.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import Analysis
from recast.analysis.bundle import load_bundle, stamp_code
from recast.analysis.cutflow import Cutflow, step_uncertainties
from recast.errors import RecastError, UsageError
from recast.events.slha import gluino_slha
from recast.io import sha256_file, write_json
from recast.schema import load_json

from .closure_yields import BUNDLE, load_analysis
from .detector import ReferenceDetector
from .grid import load_grid
from .read import sample_chunks, sample_summary
from .samples import derived_seed

log = logging.getLogger(__name__)

#: the points whose cutflows are published: held-out points never used in any training
BENCHMARKS = ("Gtt_2100_800", "Gbb_2100_800", "Gtt_2100_1")
#: tt̄ slices of the background estimate; samples of one slice share its phase space
BACKGROUND_SLICES: dict[str, tuple[str, ...]] = {
    "ttbar 150 < pT-hat < 400 GeV": ("ttbar",),
    "ttbar pT-hat > 400 GeV": ("ttbar_boosted", "ttbar_boosted_estimate"),
}
#: the stated tt̄ modelling (extrapolation) uncertainty of a signal region's background
MODELLING = 0.25
#: a region no simulated tt̄ event reaches is given one event of the boosted slice ± 100 %
EMPTY_REGION_UNCERTAINTY = 1.0
PSEUDO_DATA_SEED = 139
#: b-tag draws per tt̄ event in the background estimate (the first with the sample's own seed)
TAG_RESAMPLINGS = 50
_DETECTOR = ReferenceDetector()
#: the tolerance ``recast validate`` applies to the published cutflows: a benchmark has 68
#: steps (about 20 independent), so at a pull of 2 a correct recast of a few thousand events
#: fails a step by chance in one run of two or three; 2.5 keeps the binned map's failures
VALIDATION = {"relative_tolerance": 0.15, "max_pull": 2.5}
#: the orthogonal regions of the full likelihood: region → workspace channel
WORKSPACE_REGIONS = {
    "CR-ttbar-1L": "CR_ttbar_1L",
    "SR-Gtt-1L": "SR_Gtt_1L",
    "SR-Gtt-0L": "SR_Gtt_0L",
}
POI = "mu_SIG"
#: the detector descriptions publish_detector wrote, by the name `recast run --detector` takes
DETECTORS = {
    "binned": ("detector.json", "b-tagging from binned pT × |η| maps per flavour"),
    "learned": ("detector_learned.json", "b-tagging from a learned map with jet context"),
    "surrogate": ("detector_surrogate.json", "b-tag scores sampled from a surrogate tagger"),
}
#: the bundle's default: the emulation that closes best (docs/flagship.md)
DEFAULT_DETECTOR = "learned"


def official_cutflows(
    samples: str | os.PathLike[str], name: str, analysis: Analysis
) -> dict[str, Cutflow]:
    """Every region's cutflow (unscaled Σw) of a sample on the reference detector's objects."""
    flows = {region: Cutflow(list(cuts)) for region, cuts in analysis.regions.items()}
    for chunk in sample_chunks(samples, name, "detector"):
        derived = analysis.derive(chunk)
        values = analysis.cut_values(derived)
        weight = np.asarray(derived["weight"], dtype=np.float64)
        for region, cuts in analysis.regions.items():
            flows[region].fill(weight, [values[c] for c in cuts])
    return flows


def cross_section(samples: str | os.PathLike[str], names: Sequence[str]) -> float:
    """The cross-section (pb) of samples of one phase space: their estimates averaged by
    events."""
    summaries = [sample_summary(samples, n) for n in names]
    events = sum(s["events"] for s in summaries)
    return float(sum(s["events"] * s["cross_section_pb"] for s in summaries) / events)


def _per_unit_weight(sigma_pb: float, weight: float, luminosity: float, what: str) -> float:
    """Events at ``luminosity`` (fb⁻¹) per unit of event weight."""
    if weight <= 0:
        raise UsageError(f"{what}: no events with weight; remake the samples")
    return sigma_pb * 1000.0 * luminosity / weight


def retagged_passes(
    analysis: Analysis, reco: ak.Array, seeds: Sequence[int]
) -> tuple[int, dict[str, np.ndarray]]:
    """Per region, each event's weight at the last cut averaged over b-tag resamplings with
    ``seeds`` (the tag-independent cuts ≥ 4 jets and E_T^miss > 200 GeV, which every region
    starts with, select the events first); and the number of those events."""
    values = analysis.cut_values(analysis.derive(reco))
    keep = np.asarray(values["n_jets_ge_4"], dtype=bool) & np.asarray(
        values["met_gt_200"], dtype=bool
    )
    selected = reco[keep]
    m = len(selected)
    if m == 0:
        return 0, {r: np.zeros(0) for r in analysis.regions}
    copies = ak.concatenate([_DETECTOR.retag(selected, s) for s in seeds])
    derived = analysis.derive(copies)
    values = analysis.cut_values(derived)
    weight = np.asarray(derived["weight"], dtype=np.float64)
    out = {}
    for region, cuts in analysis.regions.items():
        passed = np.ones(len(copies), dtype=bool)
        for cut in cuts:
            passed &= np.asarray(values[cut], dtype=bool)
        out[region] = (weight * passed).reshape(len(seeds), m).mean(axis=0)
    return m, out


def background_estimate(
    samples: str | os.PathLike[str],
    analysis: Analysis,
    luminosity: float,
    resamplings: int = TAG_RESAMPLINGS,
) -> dict[str, dict[str, Any]]:
    """Per region: the tt̄ yield at the last cut with ``resamplings`` b-tag draws per event,
    its MC statistical error (the draws of one event are not independent: each event counts
    once, with its averaged weight), the events that reach it, and the weight of one boosted
    event (the floor of a region no simulated event reaches)."""
    out: dict[str, dict[str, Any]] = {
        r: {"background": 0.0, "mc_variance": 0.0, "raw": 0} for r in analysis.regions
    }
    one_event = 0.0
    for label, names in BACKGROUND_SLICES.items():
        available = [n for n in names if (Path(samples) / n / "sample.json").is_file()]
        if not available:
            raise UsageError(
                f"{samples}: the background slice {label!r} has none of {', '.join(names)}; make "
                f"them with python -m reference_experiment.samples --what {','.join(names)} "
                f"--out {samples}"
            )
        missing = sorted(set(names) - set(available))
        if missing:
            log.warning("slice %r without %s: its estimate is less precise", label, missing)
        # sums in units of event weight, scaled once the slice's total weight is known
        sums = {r: [0.0, 0.0] for r in analysis.regions}
        total_weight = 0.0
        for name in available:
            detector_seed = int(sample_summary(samples, name)["detector_seed"])
            seeds = [detector_seed] + [
                derived_seed(detector_seed, name, "retag", k) for k in range(1, resamplings)
            ]
            selected = 0
            for reco in sample_chunks(samples, name, "detector"):
                total_weight += float(np.sum(np.asarray(reco["weight"], dtype=np.float64)))
                m, passes = retagged_passes(analysis, reco, seeds)
                selected += m
                for region, w in passes.items():
                    sums[region][0] += float(w.sum())
                    sums[region][1] += float((w * w).sum())
                    out[region]["raw"] += int(np.count_nonzero(w))
            log.info("%s: %d events with ≥ 4 jets and E_T^miss > 200 GeV retagged", name, selected)
        scale = _per_unit_weight(
            cross_section(samples, available), total_weight, luminosity, ", ".join(available)
        )
        one_event = scale  # the last slice is the boosted one: the finest weight
        for region, (sumw, sumw2) in sums.items():
            out[region]["background"] += sumw * scale
            out[region]["mc_variance"] += sumw2 * scale**2
    for entry in out.values():
        entry["mc_error"] = math.sqrt(entry.pop("mc_variance"))
        entry["one_event"] = one_event
    return out


def region_table(
    estimate: Mapping[str, Mapping[str, Any]], kinds: Mapping[str, str], seed: int
) -> dict[str, dict[str, Any]]:
    """Published per-region numbers: background ± uncertainty and pseudo-data."""
    rng = np.random.default_rng(seed)
    table = {}
    for region, e in estimate.items():  # analysis order: the draws do not depend on a sort
        if e["raw"] == 0:
            background, uncertainty = e["one_event"], EMPTY_REGION_UNCERTAINTY * e["one_event"]
        else:
            background = e["background"]
            uncertainty = math.hypot(e["mc_error"], MODELLING * background)
        table[region] = {
            "kind": kinds[region],
            "observed": int(rng.poisson(background)),
            "background": round(background, 4),
            "background_uncertainty": round(uncertainty, 4),
            "mc_events": e["raw"],
        }
    return table


def background_workspace(
    estimate: Mapping[str, Mapping[str, Any]], table: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The background-only pyhf workspace of :data:`WORKSPACE_REGIONS`."""
    channels, observations = [], []
    for region, channel in WORKSPACE_REGIONS.items():
        e, row = estimate[region], table[region]
        background = float(row["background"])
        mc_error = e["mc_error"] if e["raw"] else background * EMPTY_REGION_UNCERTAINTY
        modifiers: list[dict[str, Any]] = [
            {"name": "mu_ttbar", "type": "normfactor", "data": None},
            {"name": f"staterror_{channel}", "type": "staterror", "data": [mc_error]},
        ]
        if table[region]["kind"] == "signal":  # the control region fixes the normalisation
            modifiers.append(
                {
                    "name": f"ttbar_extrapolation_{channel}",
                    "type": "normsys",
                    "data": {"hi": 1.0 + MODELLING, "lo": 1.0 - MODELLING},
                }
            )
        channels.append(
            {
                "name": channel,
                "samples": [{"name": "ttbar", "data": [background], "modifiers": modifiers}],
            }
        )
        observations.append({"name": channel, "data": [float(row["observed"])]})
    return {
        "version": "1.0.0",
        "channels": channels,
        "observations": observations,
        "measurements": [
            {
                "name": "NormalMeasurement",
                "config": {
                    "poi": POI,
                    "parameters": [{"name": "mu_ttbar", "bounds": [[0.0, 10.0]], "inits": [1.0]}],
                },
            }
        ],
    }


def benchmark_record(samples: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """The ``benchmark`` of a published cutflow (or histogram) of the sample ``name``."""
    summary = sample_summary(samples, name)
    m_gluino, m_lsp = float(summary["m_gluino"]), float(summary["m_lsp"])
    products = {"ttbar": "t t̄", "bbbar": "b b̄"}[summary["decay"]]
    return {
        "name": name,
        "description": (
            f"gluino pairs, g̃ → {products} χ̃⁰₁, m(g̃) = {m_gluino:g} GeV, "
            f"m(χ̃⁰₁) = {m_lsp:g} GeV ({summary['model']}); a held-out point of "
            "reference_experiment/grid.json"
        ),
        "slha": f"{name}.slha",
        "generator": (
            "Pythia8 (pythia8mc 8.317.2) in process, LO, 13 TeV "
            f"(reference_experiment.samples, seed 1, blocks of 1000 events); objects "
            f"through the reference detector (seed {summary['detector_seed']})"
        ),
        "cross_section_pb": float(summary["cross_section_pb"]),
        "events_generated": int(summary["events"]),
    }


def benchmark_cutflows(
    samples: str | os.PathLike[str],
    name: str,
    analysis: Analysis,
    bundle_id: str,
    luminosity: float,
) -> tuple[str, dict[str, dict[str, Any]]]:
    """The published cutflows of one benchmark, by file name, and its SLHA text."""
    summary = sample_summary(samples, name)
    m_gluino, m_lsp = float(summary["m_gluino"]), float(summary["m_lsp"])
    slha = gluino_slha(m_gluino, m_lsp, summary["decay"])
    sigma = float(summary["cross_section_pb"])
    flows = official_cutflows(samples, name, analysis)
    # every flow's first step holds the weight of all events
    scale = _per_unit_weight(sigma, float(next(iter(flows.values())).sumw[0]), luminosity, name)
    documents = {}
    for region, flow in flows.items():
        scaled = flow.scaled(scale)
        errors = step_uncertainties(scaled)
        documents[f"{name}_{region}.json"] = {
            "schema_version": "1.0.0",
            "analysis": bundle_id,
            "region": region,
            "benchmark": benchmark_record(samples, name),
            "unit": "events",
            "initial": float(scaled.sumw[0]),
            "steps": [
                {"cut": cut, "value": float(scaled.sumw[i]), "uncertainty": float(errors[i])}
                for i, cut in enumerate(scaled.steps)
                if i > 0
            ],
            "provenance": {
                "analysis_id": bundle_id,
                "notes": (
                    "the official detector-level cutflow of the recast-nn reference experiment "
                    "(reference_experiment.publish_results): the analysis on the reference "
                    f"detector's objects of {summary['events']} events at {luminosity:g} fb⁻¹ "
                    "with Pythia's LO cross-section; uncertainties are the sample's MC "
                    "statistics (binomial)"
                ),
            },
        }
    return slha, documents


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _refresh_detectors(document: dict[str, Any], out: Path) -> None:
    """The default detector and the named alternatives, with their current digests."""
    default = DETECTORS[DEFAULT_DETECTOR][0]
    document["detector"] = {"path": default, "sha256": sha256_file(out / default)}
    document["detectors"] = {
        name: {"path": path, "sha256": sha256_file(out / path), "description": text}
        for name, (path, text) in DETECTORS.items()
    }


def publish(
    samples: str | os.PathLike[str],
    out: str | os.PathLike[str] = BUNDLE,
    benchmarks: Sequence[str] = BENCHMARKS,
    seed: int = PSEUDO_DATA_SEED,
    resamplings: int = TAG_RESAMPLINGS,
) -> dict[str, Any]:
    """Write the published results into the bundle ``out``; returns a summary. Everything is
    computed before the first file is written."""
    out = Path(out)
    if isinstance(resamplings, bool) or not isinstance(resamplings, int) or resamplings < 1:
        raise UsageError(f"resamplings must be an integer >= 1, not {resamplings!r}")
    bundle = load_bundle(out)
    grid = load_grid()
    held_out = {s.name for s in grid.samples("held_out")}
    for name in benchmarks:
        if name not in held_out:
            raise UsageError(
                f"benchmark {name!r} is not a held-out point of {grid.source}: only points no "
                f"training used may be published ({', '.join(sorted(held_out))})"
            )
    for path, _ in DETECTORS.values():
        if not (out / path).is_file():
            raise UsageError(
                f"{out / path}: missing; run python -m reference_experiment.publish_detector first"
            )
    analysis, skipped = load_analysis(out)
    if skipped:
        raise UsageError(f"{out}: regions {skipped} cannot run (no network); publish needs all")
    document = load_json(out / "analysis.json")
    luminosity = float(document["luminosity"])
    kinds = {r: v["kind"] for r, v in document["regions"].items()}
    estimate = background_estimate(samples, analysis, luminosity, resamplings)
    table = region_table(estimate, kinds, seed)
    workspace = background_workspace(estimate, table)
    published = {
        name: benchmark_cutflows(samples, name, analysis, bundle.id, luminosity)
        for name in benchmarks
    }
    from .publish_histograms import benchmark_histograms, write_histograms

    histograms = {
        name: benchmark_histograms(samples, name, analysis, bundle.id) for name in benchmarks
    }
    regions_document = {
        "analysis": bundle.id,
        "description": (
            "per signal region: pseudo-data (a Poisson draw of the background, seed "
            f"{seed}), the tt̄ background of the reference experiment ({resamplings} b-tag "
            f"draws per event) and its uncertainty (MC statistics ⊕ {MODELLING:.0%} "
            "modelling); regions no simulated tt̄ event reaches get one boosted event ± 100 %"
        ),
        "luminosity_ifb": luminosity,
        "signal_regions": [
            {"name": r, **{k: v for k, v in row.items() if k != "kind"}}
            for r, row in table.items()
            if row["kind"] == "signal"
        ],
    }
    # writing: nothing above touched the bundle
    (out / "likelihood").mkdir(exist_ok=True)
    (out / "cutflows").mkdir(exist_ok=True)
    regions_path = out / "likelihood" / "signal_regions.json"
    workspace_path = out / "likelihood" / "background_only.json"
    write_json(regions_path, regions_document)
    write_json(workspace_path, workspace)
    cutflow_paths = []
    for name, (slha, documents) in published.items():
        (out / "cutflows" / f"{name}.slha").write_text(slha)
        for file_name, cutflow in documents.items():
            write_json(out / "cutflows" / file_name, cutflow)
            cutflow_paths.append(out / "cutflows" / file_name)
    for region, row in table.items():
        entry = document["regions"][region]
        entry["observed"] = row["observed"]
        entry["background"] = row["background"]
        entry["background_uncertainty"] = row["background_uncertainty"]
    document["cutflows"] = [
        {"path": _relative(p, out), "sha256": sha256_file(p)} for p in cutflow_paths
    ]
    histogram_paths = write_histograms(out, histograms, document)
    _refresh_detectors(document, out)
    document["validation"] = dict(VALIDATION)
    document["likelihood"] = {
        "regions_file": {"path": _relative(regions_path, out), "sha256": sha256_file(regions_path)},
        "combine": [["SR-Gtt-0L", "SR-Gtt-1L"]],
        "constraint": "lognormal",
        "workspace": {
            "path": _relative(workspace_path, out),
            "sha256": sha256_file(workspace_path),
            "poi": POI,
            "map": {r: {"channel": c, "bin": 0} for r, c in WORKSPACE_REGIONS.items()},
        },
    }
    write_json(out / "analysis.json", stamp_code(out, document))  # and every Python file's digest
    return {
        "regions": table,
        "cutflows": [_relative(p, out) for p in cutflow_paths],
        "network_histograms": histogram_paths,
        "benchmarks": list(benchmarks),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_experiment.publish_results", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--samples", type=Path, default=Path("build/demo_multib"))
    parser.add_argument("--out", type=Path, default=BUNDLE, help="the bundle folder")
    parser.add_argument("--seed", type=int, default=PSEUDO_DATA_SEED, help="pseudo-data seed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        summary = publish(args.samples, args.out, seed=args.seed)
    except RecastError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(f"{'region':20s} {'kind':8s} {'n_obs':>5s} {'b':>9s} {'± σ_b':>8s} {'MC events':>9s}")
    for region, row in summary["regions"].items():
        print(
            f"{region:20s} {row['kind']:8s} {row['observed']:5d} {row['background']:9.2f} "
            f"{row['background_uncertainty']:8.2f} {row['mc_events']:9d}"
        )
    print(f"{len(summary['cutflows'])} cutflow files for {', '.join(summary['benchmarks'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
