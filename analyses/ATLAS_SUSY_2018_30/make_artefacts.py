"""Regenerate every artefact of the ATLAS_SUSY_2018_30 bundle and its analysis.json.

    python analyses/ATLAS_SUSY_2018_30/make_artefacts.py
    python analyses/ATLAS_SUSY_2018_30/make_artefacts.py --data ../shared/data/atlas_susy_2018_30

Writes ``maps/btag_mv2c10_77.json`` and ``detector.json``; from the published network config
``ANA-SUSY-2018-30_config.json`` (when the data folder has it) the two network cards
``networks/multib.card.json`` ([0, 2π) φ(MET)) and ``networks/multib_signed_met_phi.card.json``
((−π, π]); from ``signal_regions.json`` the 22 regions' published numbers
``likelihood/published_signal_regions.json``; the HEPData channel map
``likelihood/hepdata_channels.json``; then ``analysis.json`` (regions from regions.py, choices
from choices.py, every digest). Files whose source is absent are kept as committed. The
network file itself is not distributed: the cards name it by its git blob id and source.
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
from recast.errors import RecastError
from recast.io import sha256_file, write_json

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from choices import choices  # noqa: E402
from regions import regions  # noqa: E402

log = logging.getLogger("make_artefacts")
DATA = HERE.parents[2] / "shared" / "data" / "atlas_susy_2018_30"
PROVENANCE = {
    "analysis_id": "ATLAS-SUSY-2018-30",
    "experiment": "ATLAS",
    "arxiv": "2211.08028",
    "inspire": "2182381",
    "hepdata_doi": "10.17182/hepdata.95928.v1/r5",
}
MODEL_FILE = "ANA-SUSY-2018-30_model.onnx"
MODEL_GIT_BLOB = "111abd3d"  # selection.md §0: the CheckMATE and GAMBIT copies share it
MODEL_SOURCE = (
    "published with the analysis (HEPData record ins2182381, SimpleAnalysis); copies: "
    "CheckMATE2 data/atlas_2211_08028/ANA-SUSY-2018-30_model.onnx and GAMBIT "
    "ColliderBit/data/analyses_ML/Analysis_ATLAS_13TeV_3b_NN_139invfb.onnx (same git blob)"
)
OUTPUT_LABELS = ["Gtt", "Gbb", "ttbar", "class_3", "class_4", "class_5", "Zjets", "class_7"]
OUTPUT_USE = {
    0: "P(Gtt): Gtt signal, control and validation regions",
    1: "P(Gbb): Gbb signal, control and validation regions and the Z CRs",
    2: "inferred tt̄ class: log10 P > x selects the tt̄ CRs, log10 P < x the Z CRs",
    6: "inferred Z+jets class: log10 P > x selects the Z CRs",
}
CARDS = {"multib": "[0, 2pi)", "multib_signed_met_phi": "(-pi, pi]"}

#: MV2c10 77 % WP as parametrised by GB/RV from ATL-PHYS-PUB-2016-012 (selection.md §1.2)
BTAG_PT_EDGES = [0.0, 30.0, 40.0, 50.0, 60.0, 75.0, 90.0, 105.0, 150.0, 200.0, 500.0, 13000.0]
BTAG_B = [0.63, 0.705, 0.74, 0.76, 0.775, 0.785, 0.795, 0.80, 0.79, 0.75, 0.68]
BTAG_MISTAG = {4: 1 / 5, 15: 1 / 16, 0: 1 / 110}  # RV's c, τ and light rates (§1.2, §9.3)

#: HEPData likelihood per region group (selection.md §4.5; CM pyhf_conf.json naming)
HEPDATA_GROUPS = {
    **{f"CC_Gtt_{c}_{r}": f"Gtt-{c}-{r}" for c in ("0L", "1L") for r in ("B", "M1", "M2", "C")},
    **{f"CC_Gbb_{r}": f"Gbb-{r}" for r in ("B", "M", "C")},
    **{
        f"NN_{m}_{p}": f"{m}-{p.replace('_', '-')}"
        for m, p in (
            ("Gtt", "2100_1"),
            ("Gtt", "1800_1"),
            ("Gtt", "2300_1200"),
            ("Gtt", "1900_1400"),
            ("Gbb", "2800_1400"),
            ("Gbb", "2300_1000"),
            ("Gbb", "2100_1600"),
            ("Gbb", "2000_1800"),
        )
    },
}


def btag_map() -> dict[str, Any]:
    values = [[[e] for e in BTAG_B]] + [[[rate] for _ in BTAG_B] for rate in BTAG_MISTAG.values()]
    return {
        "schema_version": "1.0.0",
        "name": "btag_mv2c10_77",
        "description": "77 % WP b-tagging probability per truth flavour (b, c, τ, light) and jet "
        "pT; 0 at |η| ≥ 2.5. b: MV2c10 parametrisation of ATL-PHYS-PUB-2016-012 as used by the "
        "GAMBIT and Rivet reimplementations (the bin above 500 GeV is their extrapolation, "
        "Rivet's 0.68); c 1/5, τ 1/16, light 1/110 (Rivet)",
        "object": "jets",
        "working_point": "MV2c10 77%",
        "kind": "binned",
        "axes": [
            {"variable": "flavour", "categories": [5, *BTAG_MISTAG], "out_of_range": "zero"},
            {"variable": "pt", "unit": "GeV", "edges": BTAG_PT_EDGES, "out_of_range": "clamp"},
            {"variable": "abs_eta", "unit": "1", "edges": [0.0, 2.5], "out_of_range": "zero"},
        ],
        "values": values,
        "out_of_range": "zero",
        "validity": {"pt": [30.0, 500.0], "abs_eta": [0.0, 2.5]},
        "provenance": {
            **PROVENANCE,
            "notes": "numbers from selection.md §1.2 (GAMBIT/Rivet ATLAS_SUSY_2018_30)",
        },
    }


def detector(btag_digest: str) -> dict[str, Any]:
    return {
        "schema_version": "1.0.0",
        "name": "atlas_susy_2018_30_truth",
        "description": "truth-level ATLAS-SUSY-2018-30 (selection.md §8): acceptance of jets "
        "and leptons, the electron crack, and sampled 77 % WP b-tag decisions; no smearing, "
        "MET is the truth invisible momentum",
        "provenance": {**PROVENANCE, "notes": "selection.md §1.1, §1.2, §1.4, §1.5, §8"},
        "objects": {
            "jets": {
                "acceptance": {"min_pt": 30.0, "max_abs_eta": 2.8},
                "tags": [
                    {
                        "name": "btag",
                        "map": "maps/btag_mv2c10_77.json",
                        "sha256": btag_digest,
                        "mode": "sample",
                        "description": "77 % WP decision per jet (the network's isb needs one)",
                    }
                ],
            },
            "electrons": {
                "acceptance": {
                    "min_pt": 20.0,
                    "max_abs_eta": 2.47,
                    "exclude_abs_eta": [[1.37, 1.52]],
                }
            },
            "muons": {"acceptance": {"min_pt": 20.0, "max_abs_eta": 2.5}},
        },
    }  # fmt: skip


#: the objects the network reads, as selection.md §1 defines them
OBJECTS = {
    "small_R_jets": "signal jet (anti-kT R = 0.4, pT > 30 GeV, |η| < 2.8, after overlap "
    "removal; selection.md §1.1)",
    "large_R_jets": "trimmed reclustered jet (the signal jets reclustered with anti-kT "
    "R = 0.8, those below 10 % of its pT removed, then pT > 100 GeV, |η| < 2.0; §1.3)",
    "leptons": "signal lepton (electrons and muons together; §1.4, §1.5)",
}
ATTRIBUTES = {
    "pt": "transverse momentum",
    "eta": "pseudorapidity",
    "phi": "azimuthal angle",
    "mass": "mass",
    "btag": "b-tag flag (1 if b-tagged at the MV2c10 77 % working point of §1.2, else 0)",
}
PARAMETERS = {
    "isGtt": ("hypothesis parameter: 1 for a Gtt hypothesis, 0 for Gbb (§5.3)", "1"),
    "mGluino": ("hypothesis parameter: the gluino mass (§5.3)", "GeV"),
    "mLSP": ("hypothesis parameter: the lightest neutralino's mass (§5.3)", "GeV"),
}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def input_definitions(document: dict[str, Any]) -> dict[str, Any]:
    """A definitions document (recast.preserve.definitions) for all 87 inputs: what
    selection.md §1 and §5.3-§5.4 say each one is; the sources the importer read from the
    names are confirmed by §5.3's list."""
    inputs: dict[str, Any] = {}
    for feature in document["inputs"][0]["features"]:
        name, source = feature["name"], feature["source"]
        if "parameter" in source:
            words, unit = PARAMETERS[name]
            inputs[name] = {"definition": words, "unit": unit}
        elif source.get("collection") == "met":
            what = "magnitude" if source["attribute"] == "pt" else "azimuthal angle"
            inputs[name] = {
                "definition": f"{what} of the missing transverse momentum (§1.8)",
                "collection": "met",
                "attribute": source["attribute"],
            }
        else:
            objects, attribute = source["collection"], source["attribute"]
            words = ATTRIBUTES[attribute]
            inputs[name] = {
                "definition": f"{words} of the {_ordinal(source['position'] + 1)} pT-ordered "
                f"{OBJECTS[objects]}; 0 in raw units (before normalisation) when there is no "
                "such object (§5.4)",
                "collection": objects,
                "attribute": attribute,
                **({"angle_range": "(-pi, pi]"} if attribute == "phi" else {}),
            }
    return {"inputs": inputs}


def card(config: Path, met_phi: str, work: Path, name: str) -> dict[str, Any]:
    """A card from the published config; the ONNX entry names the real, undistributed file."""
    from recast.preserve.definitions import apply_definitions
    from recast.preserve.importers import import_network
    from recast.preserve.standin import make_standin_mlp

    standin = make_standin_mlp(work / MODEL_FILE, n_outputs=len(OUTPUT_LABELS))
    document = import_network(
        standin,
        config,
        name=name,  # the bundle's name for the network, which --network NAME=PATH uses
        card_path=work / f"{name}.card.json",
        description="ATLAS-SUSY-2018-30 parameterised multi-class network (87 inputs, eight "
        f"published hypotheses); φ(MET) given in {met_phi}",
        angle_ranges={"met_phi": met_phi},
        output_labels=OUTPUT_LABELS,
        provenance={**PROVENANCE, "source": f"{config.name} (SimpleAnalysis); {MODEL_SOURCE}"},
        unit="GeV",  # selection.md §5.3: "Units are GeV"
        padding=0.0,  # §5.4: missing objects are 0 in raw units, before normalisation
    )
    # what the importer read from the names, stated from selection.md §1 and §5
    document = apply_definitions(document, input_definitions(document), "selection.md §1, §5")
    for column in document["outputs"][0]["columns"]:
        if column["index"] in OUTPUT_USE:
            column["use"] = OUTPUT_USE[column["index"]]
    for feature in document["inputs"][0]["features"]:
        if feature["name"] == "met_phi":
            feature["notes"] = (
                "the published normalisation (mean 3.158, std 1.809) implies [0, 2π) in "
                "training; the three public reimplementations feed (−π, π] (selection.md §9.16)"
            )
    document["files"] = [
        {
            "path": MODEL_FILE,
            "git_blob": MODEL_GIT_BLOB,
            "distributed": False,
            "source": MODEL_SOURCE,
        }
    ]
    return document


def published_regions(source: Path) -> dict[str, Any]:
    document = schema.load_json(source)
    keys = ("name", "observed", "background", "background_uncertainty")
    return {
        "analysis": "ATLAS-SUSY-2018-30",
        "description": "observed events, expected background and its total uncertainty, and "
        "the published model-independent S95 (observed, expected) per signal region; "
        f"transcribed by make_artefacts.py from {source.name}: {document['description']}",
        "signal_regions": [
            {k: r[k] for k in (*keys, "s95_observed", "s95_expected")}
            for r in document["signal_regions"]
        ],
    }  # fmt: skip


def hepdata_channels(region_names: list[str]) -> dict[str, Any]:
    likelihoods = {}
    for group, stem in HEPDATA_GROUPS.items():
        key = stem.replace("-", "_")
        mapping = {}
        for prefix in ("SR", "CR", "CRZ"):
            region = f"{prefix}-{stem}"
            if region in region_names:
                mapping[region] = {"channel": f"{prefix}_{key}_cuts", "bin": 0}
        likelihoods[group] = {
            "background_only": f"{group}_bkgonly.json",
            "patchset": f"{group}_patchset.json",
            "map": mapping,
        }
    return {
        "description": "ATLAS-SUSY-2018-30 full likelihoods (HEPData, DOI "
        "10.17182/hepdata.95928.v1/r5): one background-only workspace and patchset per "
        "published region; here, per likelihood, the bundle's regions and the channel each "
        "fills (one bin). Use one entry as a likelihood's workspace map. Channel names follow "
        "the pattern SR_/CR_/CRZ_<region>_cuts of selection.md §4.5; CheckMATE's pyhf_conf.json "
        "misspells the CR keys of CC_Gtt_1L_M1/M2 (§9.30). Regions without a bundle region (the "
        "CRs of NN Gtt 1900-1400 and Gbb 2800-1400, defined ambiguously) are absent: their "
        "signal contamination is not patched in. There is no Gtb likelihood.",
        "likelihoods": likelihoods,
    }


def analysis(digests: dict[str, str], likelihood_regions: list[dict[str, Any]]) -> dict[str, Any]:
    kept = [r for r in likelihood_regions if "Gtb" not in r["name"]]
    return {
        "schema_version": "1.0.0",
        "id": "ATLAS_SUSY_2018_30",
        "title": "ATLAS-SUSY-2018-30: gluino pairs in final states with E_T^miss and ≥ 3 b-jets "
        "(139 fb⁻¹), cut-and-count and neural-network regions",
        "experiment": "ATLAS",
        "sqrt_s": 13,
        "luminosity": 139,
        "status": {
            "state": "UNVALIDATED",
            "reason": "written from the public reimplementations (selection.md) without the "
            "HEPData cutflows; no cutflow of this bundle has been compared with the published "
            "ones yet, and the Gtb regions are known not to reproduce them",
        },
        "code": {"module": "analysis.py", "class": "Atlas2018Susy30"},
        "objects": {
            "jet_radius": 0.4,
            "jet_min_pt": 20.0,
            "jet_exclude_leptons": True,
            "flavour_matching": "ghost",
            "dressing_dr": 0.1,
            "isolation_dr": 0.2,
            "isolation_max": 0.15,
            "jet_track_min_pt": 0.5,
            "track_isolation_k": 10.0,
            "track_isolation_radius_electron": 0.2,
            "track_isolation_radius_muon": 0.3,
            "track_min_pt": 1.0,
        },
        "detector": {"path": "detector.json", "sha256": digests["detector.json"]},
        "networks": {
            name: {
                "path": f"networks/{name}.card.json",
                "sha256": digests[f"networks/{name}.card.json"],
                "description": f"the published network, φ(MET) in {met_phi}",
            }
            for name, met_phi in CARDS.items()
        },
        "options": {
            "met_phi_convention": {
                "default": "[0, 2pi)",
                "choices": list(CARDS.values()),
                "description": "the range φ(MET) is given to the network in: [0, 2π) as the "
                "published normalisation implies, or (−π, π] as the public reimplementations "
                "do (selection.md §9.16)",
            }
        },
        "regions": regions(),
        "likelihood": {
            "regions": {
                r["name"]: {k: r[k] for k in ("observed", "background", "background_uncertainty")}
                for r in kept
            },
            "constraint": "lognormal",
        },
        "provenance": {
            **PROVENANCE,
            "license": "CC-BY-4.0",
            "notes": "selection, cuts and every ambiguity from selection.md, a synthesis of "
            "CheckMATE2, GAMBIT and Rivet (see choices); artefacts by make_artefacts.py",
        },
        "choices": choices(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the published inputs' folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_json(HERE / "maps" / "btag_mv2c10_77.json", btag_map())
    write_json(HERE / "detector.json", detector(sha256_file(HERE / "maps/btag_mv2c10_77.json")))
    config = args.data / "ANA-SUSY-2018-30_config.json"
    if config.is_file():
        with tempfile.TemporaryDirectory() as work:
            for name, met_phi in CARDS.items():
                write_json(
                    HERE / "networks" / f"{name}.card.json", card(config, met_phi, Path(work), name)
                )
    else:
        log.warning("%s is absent: the committed network cards are kept", config)
    table = args.data / "signal_regions.json"
    if table.is_file():
        write_json(HERE / "likelihood" / "published_signal_regions.json", published_regions(table))
    else:
        log.warning("%s is absent: the committed region numbers are kept", table)
    published = schema.load_json(HERE / "likelihood" / "published_signal_regions.json")
    write_json(HERE / "likelihood" / "hepdata_channels.json", hepdata_channels(list(regions())))
    paths = ["detector.json", *(f"networks/{n}.card.json" for n in CARDS)]
    digests = {p: sha256_file(HERE / p) for p in paths}
    document = stamp_code(HERE, analysis(digests, published["signal_regions"]))
    write_json(HERE / "analysis.json", document)
    try:
        schema.validate(document, "analysis", str(HERE / "analysis.json"))
    except RecastError as exc:  # the options and region networks fields are being added
        log.warning("analysis.json does not validate against this checkout's schema:\n%s", exc)
    for path in ["maps/btag_mv2c10_77.json", *paths, "likelihood/published_signal_regions.json"]:
        log.info("%s  %s", sha256_file(HERE / path), path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
