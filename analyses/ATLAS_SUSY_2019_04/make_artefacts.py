"""Regenerate every artefact of the ATLAS_SUSY_2019_04 bundle and its analysis.json.

    python analyses/ATLAS_SUSY_2019_04/make_artefacts.py
    python analyses/ATLAS_SUSY_2019_04/make_artefacts.py --data ../shared/data/atlas_susy_2019_04

From the published material (when the data folder has it): the five networks, re-exported
from the published ONNX files (batch fixed to 1) with a dynamic batch axis and checked equal
to them (``networks/nn_{N}j.onnx``), their cards (``networks/nn_{N}j.card.json``: the 65 inputs
of selection.md §3 with units, padding and φ range), the published ATLAS cutflow of the
benchmark ``higgsino_n1n2_250`` (``cutflows/``) and the published region numbers
(``likelihood/published_regions.json``). Always: the b-tag maps, the two detector
descriptions and ``analysis.json`` (regions from regions.py, choices from choices.py, every
digest). Files whose source is absent are kept as committed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from recast import schema
from recast.analysis.bundle import stamp_code
from recast.io import sha256_file, write_json

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from choices import choices  # noqa: E402
from regions import JET_COUNTING, NN_BINS, nn_cuts, nn_region, regions, score_cut  # noqa: E402

log = logging.getLogger("make_artefacts")
DATA = HERE.parents[2] / "shared" / "data" / "atlas_susy_2019_04"
PROVENANCE = {
    "analysis_id": "ATLAS-SUSY-2019-04",
    "experiment": "ATLAS",
    "arxiv": "2106.09609",
    "inspire": "1869040",
    "hepdata_doi": "10.17182/hepdata.104860.v1/r3",
}
ONNX_SOURCE = (
    "HEPData DOI 10.17182/hepdata.104860.v1/r3 (SimpleAnalysis OneLeptonMultiJets2018), as "
    "copied in andlessa/atlasNNtest@a280285a01e59bb66e18794770d5753e19abf97b:"
    "SimpleAnalysisCodes/OneLeptonMultiJets2018_{n}jets.onnx"
)
LWTNN_SOURCE = (
    "GambitBSM/gambit@6d50215ad6dbbf19548849299a05bfca270939dd (ColliderBit_development_lwtnn):"
    "ColliderBit/data/lwtnn/ATLAS_13TeV_1LEPJets_139invfb/ATLAS_13TeV_1LEPJets_139invfb_{n}j.json"
)
BENCHMARK = "higgsino_n1n2_250"
BENCHMARK_SIGMA_PB = 0.104252  # NLO+NLL, degenerate higgsino χ̃₁⁰χ̃₂⁰ at 250 GeV (§6.3)
N_JETS_SLOTS = 10
#: flat b-tag probabilities per truth flavour (b, c, τ, light) of the two working points (§7)
#: the ATLAS 77 % b-jet efficiency against pT (MV2c10, ATL-PHYS-PUB-2016-012 as GAMBIT and Rivet
#: parametrise it; the ATLAS_SUSY_2018_30 bundle's map): pT edges (GeV) and values
BTAG_PT_EDGES = [0.0, 30.0, 40.0, 50.0, 60.0, 75.0, 90.0, 105.0, 150.0, 200.0, 500.0, 13000.0]
BTAG_B_77 = [0.63, 0.705, 0.74, 0.76, 0.775, 0.785, 0.795, 0.80, 0.79, 0.75, 0.68]
#: map name → (b-jet efficiency per pT bin, mistag rates of c, τ and light jets, what it is)
BTAG_MAPS: dict[str, tuple[list[float], dict[int, float], str]] = {
    "btag_70": (
        [round(e * 70 / 77, 4) for e in BTAG_B_77],
        {4: 0.11, 15: 0.11, 0: 0.0025},
        "70 % WP: the pT dependence of the ATLAS 77 % parametrisation (MV2c10, "
        "ATL-PHYS-PUB-2016-012 as GAMBIT and Rivet use it) scaled to 70 %; c and τ 0.11, light "
        "0.0025 (the nominal rejections of the 70 % point, as in the check of selection.md §7)",
    ),
    "btag_70_flat": (
        [0.70] * len(BTAG_B_77),
        {4: 0.11, 15: 0.11, 0: 0.0025},
        "70 % WP, flat in pT: b 0.70, c and τ 0.11, light 0.0025 (the check of selection.md §7)",
    ),
    "btag_77": (
        BTAG_B_77,
        {4: 1 / 5, 15: 1 / 16, 0: 1 / 110},
        "77 % WP: MV2c10 (ATL-PHYS-PUB-2016-012 as GAMBIT and Rivet use it); c 1/5, τ 1/16, "
        "light 1/110 (Rivet), as the ATLAS_SUSY_2018_30 bundle",
    ),
}
#: detector file → (its b-tag map, the name it goes by among the bundle's detectors)
DETECTORS = {
    "detector.json": ("btag_70", "default"),
    "detector_flat70.json": ("btag_70_flat", "flat70"),
    "detector_wp77.json": ("btag_77", "wp77"),
}
#: published cutflow step → this bundle's cut (the N-jet rows and the NN row per region)
LEAD_LEPTON_STEP = "Lead lep pT > 27 GeV"


# -- network inputs (selection.md §3.2) --------------------------------------------------------
def _event(attribute: str) -> dict[str, Any]:
    return {"attribute": attribute}


def _slot(collection: str, attribute: str, position: int, max_count: int) -> dict[str, Any]:
    return {
        "collection": collection,
        "attribute": attribute,
        "position": position,
        "ordering": {"by": "pt", "descending": True},
        "max_count": max_count,
    }


def _feature(
    name: str, source: dict[str, Any], unit: str, definition: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "definition": definition,
        "role": "feature",
        "source": source,
        "unit": unit,
        "preprocessing": {"formula": "x"},
        **extra,
    }


def _pad(value: float) -> dict[str, Any]:
    return {"padding": {"value": value, "stage": "after_preprocessing"}}


PHI = {"angle_range": "(-pi, pi]"}


def features() -> list[dict[str, Any]]:
    """The 65 inputs in the lwtnn order (§3.2), each built by the card from the objects."""
    out = [
        _feature("n_jet", _event("n_jets"), "1", "number of signal jets (= N of the network)"),
        _feature("n_bcat", _event("n_bcat"), "1", "min(n_b − 1, 3): 3 in the signal regions"),
        _feature("n_bjet", _event("n_b"), "1", "number of b-tagged signal jets"),
        _feature(
            "three_jet_maxpt_mass",
            _event("three_jet_maxpt_mass"),
            "100 GeV",
            "mass of the jet triplet whose summed four-momentum has the largest pT",
        ),
        _feature("ht_jet", _event("ht_jet"), "100 GeV", "Σ pT of the signal jets"),
        _feature("ht_bjet", _event("ht_bjet"), "100 GeV", "Σ pT of the b-tagged signal jets"),
        _feature(
            "three_jet_lep_met_mass_max_pt",
            _event("three_jet_lep_met_mass_max_pt"),
            "100 GeV",
            "over all jet triplets, S = j_a + j_b + j_c + leading lepton + p_miss (massless, "
            "transverse): the mass of the S with the largest pT",
        ),
        _feature(
            "minDeltaRlj",
            _event("min_dr_lj"),
            "1",
            "smallest ΔR (pseudorapidity) between a signal jet and a signal lepton",
        ),
        _feature(
            "minmax_mass",
            _event("minmax_mass"),
            "100 GeV",
            "min over the 2ⁿ splits of the jets into two groups (one may be empty) of the "
            "larger group mass",
        ),
        _feature("met", {"collection": "met", "attribute": "pt"}, "100 GeV", "|p_T^miss|"),
        _feature(
            "met_phi", {"collection": "met", "attribute": "phi"}, "rad", "φ of p_T^miss", **PHI
        ),
    ]
    jet_quantities: tuple[tuple[str, str, str, str, float, dict[str, str]], ...] = (
        ("jet_pt", "pt", "100 GeV", "pT", 1e-7, {}),
        ("jet_eta", "eta", "1", "pseudorapidity", -5.0, {}),
        ("jet_phi", "phi", "rad", "azimuth", -5.0, PHI),
        ("jet_e", "energy", "100 GeV", "energy", 1e-7, {}),
        ("jet_btag_bin", "btag_bin", "1", "b-tag bin (5 tagged, 1 untagged)", 0.0, {}),
    )
    for stem, attribute, unit, what, padding, extra in jet_quantities:
        for i in range(N_JETS_SLOTS):
            out.append(
                _feature(
                    f"{stem}_{i}",
                    _slot("jets", attribute, i, N_JETS_SLOTS),
                    unit,
                    f"{what} of signal jet {i} (pT-descending); {padding:g} for a missing jet",
                    **_pad(padding),
                    **extra,
                )
            )
    for stem, attribute, unit, what, extra in (
        ("lepton_pt", "pt", "100 GeV", "pT", {}),
        ("lepton_eta", "eta", "1", "pseudorapidity", {}),
        ("lepton_phi", "phi", "rad", "azimuth", PHI),
        ("lepton_e", "energy", "100 GeV", "energy", {}),
    ):
        out.append(
            _feature(
                stem,
                _slot("leptons", attribute, 0, 1),
                unit,
                f"{what} of the leading signal lepton (the regions require one)",
                **_pad(0.0),
                **extra,
            )
        )
    for i, feature in enumerate(out):
        feature["index"] = i
    return out


def card(n: int, onnx_path: Path, original: Path, lwtnn: Path | None) -> dict[str, Any]:
    """The card of the N-jet network: the importer's file entry and references, the inputs
    of §3.2, the sigmoid score."""
    from recast.preserve.importers import import_network

    names = [f["name"] for f in features()]
    sidecar = {"variables": names, "offset": [0.0] * len(names), "scale": [1.0] * len(names)}
    with tempfile.TemporaryDirectory() as work:  # the networks have no preprocessing (§3.1)
        sidecar_path = Path(work) / "variables.json"
        write_json(sidecar_path, sidecar)
        document = _import(import_network, onnx_path, sidecar_path, n, original, lwtnn)
    node = document["inputs"][0]
    node["features"] = features()
    column = document["outputs"][0]["columns"][0]
    threshold = NN_BINS[n][0]
    column["use"] = f"SR-NN-{n}j: score > {threshold}; the lower bins are validation regions"
    return document


def _import(
    import_network: Any, onnx_path: Path, sidecar: Path, n: int, original: Path, lwtnn: Path | None
) -> dict[str, Any]:
    return import_network(  # type: ignore[no-any-return]
        onnx_path,
        sidecar,
        name=f"nn_{n}j",
        card_path=onnx_path.with_suffix(".card.json"),
        description=f"ATLAS-SUSY-2019-04 1-lepton network for exactly {n} jets (65 inputs, "
        "sigmoid score); re-exported with a dynamic batch from the published ONNX file",
        output_labels=["score"],
        provenance={
            **PROVENANCE,
            "source": ONNX_SOURCE.format(n=n),
            "notes": f"re-exported with a dynamic batch by make_artefacts.py from "
            f"{original.name} (sha256 {sha256_file(original)}), the published file with its "
            "batch fixed to 1; equal to it to 1e-6 on random rows"
            + (
                f"; the same weights as the lwtnn file {lwtnn.name} (sha256 "
                f"{sha256_file(lwtnn)}, {LWTNN_SOURCE.format(n=n)}), whose variable names the "
                "features carry"
                if lwtnn is not None
                else ""
            ),
        },
    )


def write_networks(data: Path) -> list[str]:
    from recast.preserve.batch import reexport_dynamic_batch

    written = []
    for n in NN_BINS:
        original = data / "onnx" / f"OneLeptonMultiJets2018_{n}jets.onnx"
        lwtnn = data / "lwtnn" / f"ATLAS_13TeV_1LEPJets_139invfb_{n}j.json"
        target = HERE / "networks" / f"nn_{n}j.onnx"
        reexport_dynamic_batch(original, target)
        write_json(
            target.with_suffix(".card.json"),
            card(n, target, original, lwtnn if lwtnn.is_file() else None),
        )
        written.append(f"networks/nn_{n}j.card.json")
    return written


# -- detector ----------------------------------------------------------------------------------
def btag_map(name: str) -> dict[str, Any]:
    b_jets, mistags, what = BTAG_MAPS[name]
    values = [[[e] for e in b_jets]] + [[[rate] for _ in b_jets] for rate in mistags.values()]
    return {
        "schema_version": "1.0.0",
        "name": name,
        "description": f"b-tagging probability per truth flavour (b, c, τ, light) and jet pT, 0 "
        f"at |η| ≥ 2.5. {what}. No public parametrisation of the DL1r points of the paper was "
        "found (selection.md §1.2, §8.1)",
        "object": "jets",
        "working_point": name.removeprefix("btag_").replace("_", " ") + " %",
        "kind": "binned",
        "axes": [
            {"variable": "flavour", "categories": [5, *mistags], "out_of_range": "zero"},
            {"variable": "pt", "unit": "GeV", "edges": BTAG_PT_EDGES, "out_of_range": "clamp"},
            {"variable": "abs_eta", "unit": "1", "edges": [0.0, 2.5], "out_of_range": "zero"},
        ],
        "values": values,
        "out_of_range": "zero",
        "provenance": {**PROVENANCE, "notes": "selection.md §1.2, §7, §8.1"},
    }


def detector(map_name: str, digest: str) -> dict[str, Any]:
    what = BTAG_MAPS[map_name][2].split(":")[0]
    return {
        "schema_version": "1.0.0",
        "name": f"atlas_susy_2019_04_truth_{map_name}",
        "description": "truth-level ATLAS-SUSY-2019-04 (selection.md §9): acceptance of jets "
        f"(pT > 20 GeV, |η| < 2.5) and leptons, sampled b-tag decisions ({what}, "
        f"maps/{map_name}.json); no smearing, no identification or isolation loss, MET is the "
        "truth invisible momentum",
        "provenance": {**PROVENANCE, "notes": "selection.md §1, §7, §9"},
        "objects": {
            "jets": {
                "acceptance": {"min_pt": 20.0, "max_abs_eta": 2.5},
                "tags": [
                    {
                        "name": "btag",
                        "map": f"maps/{map_name}.json",
                        "sha256": digest,
                        "mode": "sample",
                        "description": "a decision per jet (the network's b-tag bins and the "
                        "overlap removal need one)",
                    }
                ],
            },
            "electrons": {"acceptance": {"min_pt": 10.0, "max_abs_eta": 2.47}},
            "muons": {"acceptance": {"min_pt": 10.0, "max_abs_eta": 2.5}},
        },
    }


# -- published numbers -----------------------------------------------------------------------
def published_cutflows(published: dict[str, Any], slha: str) -> dict[str, dict[str, Any]]:
    """One cutflow per network region: the ATLAS column of CheckMATE's validation note."""
    table = published["cutflow_atlas_vs_checkmate"]
    steps = {s["step"]: s for s in table["steps"]}
    source = steps[LEAD_LEPTON_STEP]["source"]
    model = table["model_inferred"]
    out = {}
    for n, (threshold, _, _) in NN_BINS.items():
        cuts = nn_cuts(n)
        rows = [
            (cuts[0], LEAD_LEPTON_STEP),
            (cuts[2], f"== {n} jets"),
            (cuts[3], f"== {n} jets, >= 4b"),
            (score_cut(n, threshold), f"NN {n}j bin 4"),
        ]
        out[f"{BENCHMARK}_{nn_region(n)}.json"] = {
            "schema_version": "1.0.0",
            "analysis": "ATLAS_SUSY_2019_04",
            "region": nn_region(n),
            "benchmark": {
                "name": BENCHMARK,
                "description": "pure-higgsino χ̃₁⁰χ̃₂⁰ at 250 GeV, both χ̃ → t b s (λ''₃₂₃), "
                f"σ = 104.252 fb NLO+NLL; the model is inferred ({model['evidence']})",
                "slha": slha,
                "generator": "ATLAS's (not documented); here Pythia8 in process, "
                "SUSY:qqbar2chi0chi0 with SUSY:idA = 1000022, SUSY:idB = 1000023 (selection.md "
                "§6.2), from models/higgsino.slha.in at m_higgsino = 250 GeV",
                "process": "higgsino-n1n2",
                "cross_section_pb": BENCHMARK_SIGMA_PB,
            },
            "unit": "events",
            "initial": float(steps["All"]["atlas"]),
            "steps": [{"cut": cut, "value": float(steps[row]["atlas"])} for cut, row in rows],
            "provenance": {
                **PROVENANCE,
                "source": source,
                "notes": "the ATLAS column ('χ̃₁,₂ → tbs') of CheckMATE's validation note; the "
                "jet rows are in the 1L channel after the lepton row",
            },
        }
    return out


def benchmark_slha() -> str:
    """The benchmark's spectrum: the bundle's Pythia-ready higgsino template at 250 GeV."""
    from recast.model import load_template, points

    template = load_template(HERE / "models" / "higgsino.slha.in")
    (point,) = points(template, {"m_higgsino": 250})
    return str(point.slha)


def published_regions(published: dict[str, Any]) -> dict[str, Any]:
    """Observed, background, its uncertainty and S95 per region with published numbers."""
    by_cm = {r["sr"]: r for r in published["cut_and_count_signal_regions"]["regions"]}
    rows = []
    for name, (cm_id, _, _) in JET_COUNTING.items():
        r = by_cm[cm_id]
        rows.append((name, cm_id, r))
    nn = published["nn_sr_yields"][0]
    rows.append((nn_region(6), "SR0", nn))
    return {
        "analysis": "ATLAS-SUSY-2019-04",
        "description": "observed events, expected background and its total uncertainty and the "
        "model-independent S95 (observed, expected) of every region with published numbers, "
        "transcribed by make_artefacts.py from published.json (CheckMATE's _ref.dat, which "
        "SModelS's HEPData numbers confirm for SR10 and SR21)",
        "signal_regions": [
            {
                "name": name,
                "checkmate_id": cm_id,
                "observed": r["obs"],
                "background": r["bkg"],
                "background_uncertainty": r["bkg_err"],
                "s95_observed": r["S95_obs"],
                "s95_expected": r["S95_exp"],
                "source": r["source"],
            }
            for name, cm_id, r in rows
        ],
    }


def analysis(digests: dict[str, str], regions_published: dict[str, Any]) -> dict[str, Any]:
    cutflows = sorted(p for p in digests if p.startswith("cutflows/") and p.endswith(".json"))
    return {
        "schema_version": "1.1.0",
        "id": "ATLAS_SUSY_2019_04",
        "title": "ATLAS-SUSY-2019-04: R-parity-violating SUSY with one lepton and many jets "
        "(139 fb⁻¹), the five 1-lepton network regions and the jet-counting regions",
        "experiment": "ATLAS",
        "sqrt_s": 13,
        "luminosity": 139,
        "status": {
            "state": "UNVALIDATED",
            "reason": "against the published ATLAS cutflow (57 500 benchmark events): the "
            "lepton row is 0.75 of ATLAS's and cannot be matched at truth level; after it the "
            "jet-multiplicity rows agree within 8 % and the 4, 7 and 8-jet network regions "
            "within 1.3 times, but the 5 and 6-jet ones are 1.84 and 1.58 times ATLAS's (the "
            "≥ 4b rows are 1.2–1.5 times too high: b-tagging emulated without a published "
            "parametrisation); see docs/atlas-susy-2019-04.md",
        },
        "code": {"module": "analysis.py", "class": "Atlas2019Susy04"},
        "objects": {
            "jet_radius": 0.4,
            "jet_min_pt": 20.0,
            "jet_exclude_leptons": True,
            "jet_track_min_pt": 0.5,
            "flavour_matching": "ghost",
            "lepton_min_pt": 10.0,
            "dressing_dr": 0.1,
        },
        "detector": {"path": "detector.json", "sha256": digests["detector.json"]},
        "detectors": {
            name: {
                "path": path,
                "sha256": digests[path],
                "description": BTAG_MAPS[map_name][2],
            }
            for path, (map_name, name) in DETECTORS.items()
            if name != "default"
        },
        "networks": {
            f"nn_{n}j": {
                "path": f"networks/nn_{n}j.card.json",
                "sha256": digests[f"networks/nn_{n}j.card.json"],
                "description": f"the published network for exactly {n} jets",
            }
            for n in NN_BINS
        },
        "options": OPTIONS,
        "regions": regions(),
        "cutflows": [{"path": p, "sha256": digests[p]} for p in cutflows],
        "validation": {
            "relative_tolerance": 0.2,
            "max_pull": 2.0,
            "normalise_after": "lead_lepton_pt_gt_27",
        },
        "likelihood": {
            "regions": {
                r["name"]: {k: r[k] for k in ("observed", "background", "background_uncertainty")}
                for r in regions_published["signal_regions"]
            },
            "constraint": "lognormal",
        },
        "provenance": {
            **PROVENANCE,
            "license": "CC-BY-4.0",
            "notes": "selection, cuts and every ambiguity from selection.md, a synthesis of "
            "CheckMATE2, GAMBIT, Rivet and the ATLAS team's scripts (see choices); artefacts by "
            "make_artefacts.py",
        },
        "choices": choices(),
    }


OPTIONS: dict[str, dict[str, Any]] = {
    "btag_bin_untagged": {
        "default": 1.0,
        "choices": [1.0, -0.5],
        "description": "the network's b-tag bin of an untagged jet: 1 (GAMBIT, Rivet, CheckMATE "
        "until Nov 2023) or −0.5 (CheckMATE master) (selection.md §8.18)",
    },
    "eta_padding": {
        "default": -5.0,
        "choices": [-5.0, 1e-7],
        "description": "the η given to the network for a missing jet: −5 (CheckMATE) or 1e-7 "
        "(GAMBIT, Rivet) (§8.17)",
    },
    "lepton_met_units": {
        "default": "100 GeV",
        "choices": ["100 GeV", "GeV lepton", "GeV lepton and MET"],
        "description": "the unit of the lepton pT and E (and MET) inputs: 100 GeV like every "
        "other energy (CheckMATE), GeV for the lepton (Rivet) or the lepton and MET (GAMBIT) "
        "(§8.16)",
    },
    "phi_range": {
        "default": "(-pi, pi]",
        "choices": ["(-pi, pi]", "[0, 2pi)"],
        "description": "the range of every φ input: (−π, π] (CheckMATE, GAMBIT) or [0, 2π) "
        "(Rivet) (§8.10)",
    },
    "met_in_mass": {
        "default": True,
        "choices": [True, False],
        "description": "whether p_miss enters the mass of three_jet_lep_met_mass_max_pt (it "
        "always enters the choice of the triplet); Rivet leaves it out (§8.21)",
    },
    "min_dr_leptons": {
        "default": "all",
        "choices": ["all", "leading"],
        "description": "the leptons of minDeltaRlj: all signal leptons (GAMBIT, Rivet) or the "
        "leading one (CheckMATE) (§8.22)",
    },
    "lepton_jet_overlap": {
        "default": "sliding",
        "choices": ["sliding", "fixed"],
        "description": "the lepton–jet overlap removal cone: min(0.4, 0.04 + 10 GeV/pT) as the "
        "paper says, or a fixed 0.4 as SimpleAnalysis does (§8.8)",
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the published inputs' folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in BTAG_MAPS:
        write_json(HERE / "maps" / f"{name}.json", btag_map(name))
    for path, (map_name, _) in DETECTORS.items():
        write_json(HERE / path, detector(map_name, sha256_file(HERE / f"maps/{map_name}.json")))
    if (args.data / "onnx").is_dir():
        write_networks(args.data)
    else:
        log.warning("%s is absent: the committed networks and cards are kept", args.data)
    table = args.data / "published.json"
    if table.is_file():
        published = schema.load_json(table)
        slha = f"{BENCHMARK}.slha"
        (HERE / "cutflows" / slha).write_text(benchmark_slha())
        for name, document in published_cutflows(published, slha).items():
            write_json(HERE / "cutflows" / name, document)
        write_json(HERE / "likelihood" / "published_regions.json", published_regions(published))
    else:
        log.warning("%s is absent: the committed cutflows and region numbers are kept", table)
    regions_published = schema.load_json(HERE / "likelihood" / "published_regions.json")
    paths = [
        *DETECTORS,
        *(f"networks/nn_{n}j.card.json" for n in NN_BINS),
        *(f"cutflows/{p.name}" for p in sorted((HERE / "cutflows").glob("*.json"))),
    ]
    digests = {p: sha256_file(HERE / p) for p in paths}
    document = stamp_code(HERE, analysis(digests, regions_published))
    schema.validate(document, "analysis", str(HERE / "analysis.json"))
    write_json(HERE / "analysis.json", document)
    for path in sorted(paths):
        log.info("%s  %s", sha256_file(HERE / path), path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
