"""Detector descriptions: loading (every bad input), applying, reproducibility across chunkings."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import vector

from recast.detector.description import (
    Detector,
    DetectorDescriptionError,
    MapDigestError,
    MissingObjectError,
    load_detector,
    truth_tag_weights,
)
from recast.detector.tagging import truth_tag_weight
from recast.errors import (
    ArtefactNotFoundError,
    DigestMismatchError,
    InvalidDocumentError,
    UnknownSchemaVersionError,
    UsageError,
)
from recast.io import sha256_file

vector.register_awkward()

PT_EDGES = [20.0, 50.0, 100.0, 200.0, 1000.0]
BTAG = [[0.60, 0.55], [0.70, 0.62], [0.75, 0.66], [0.72, 0.60]]  # [pT bin][|η| bin]


def write_map(folder: Path, name: str, collection: str, values: list[list[float]]) -> str:
    document = {
        "schema_version": "1.0.0",
        "name": name,
        "object": collection,
        "kind": "binned",
        "out_of_range": "clamp",
        "provenance": {"notes": "test map"},
        "axes": [
            {"variable": "pt", "unit": "GeV", "edges": PT_EDGES},
            {"variable": "abs_eta", "unit": "1", "edges": [0.0, 1.5, 2.5]},
        ],
        "values": values,
    }
    path = folder / "maps" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document))
    return sha256_file(path)


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    btag = write_map(tmp_path, "btag", "jets", BTAG)
    electron_id = write_map(tmp_path, "electron_id", "electrons", [[0.9, 0.8]] * 4)
    muon_reco = write_map(tmp_path, "muon_reco", "muons", [[0.95, 0.9]] * 4)
    return {
        "schema_version": "1.0.0",
        "name": "toy_detector",
        "provenance": {"notes": "test"},
        "objects": {
            "jets": {
                "smearing": [
                    {"variable": "pt", "model": "calorimeter", "argument": "energy",
                     "stochastic": 1.0, "constant": 0.05, "noise": 3.0},
                    {"variable": "phi", "model": "constant", "sigma": 0.02},
                ],
                "acceptance": {"min_pt": 25.0, "max_abs_eta": 2.5},
                "tags": [
                    {"name": "btag", "map": "maps/btag.json", "sha256": btag, "mode": "sample"},
                    {"name": "btag_tt", "map": "maps/btag.json", "sha256": btag,
                     "mode": "truth_tag", "max_count": 3},
                ],
            },
            "electrons": {
                "smearing": [
                    {"variable": "pt", "model": "binned", "pt_edges": [10, 50, 1000],
                     "abs_eta_edges": [0, 1.37, 2.47], "sigma": [[0.02, 0.03], [0.01, 0.02]]},
                ],
                "acceptance": {"min_pt": 10.0, "max_abs_eta": 2.47,
                               "exclude_abs_eta": [[1.37, 1.52]]},
                "efficiency": {"map": "maps/electron_id.json", "sha256": electron_id,
                               "mode": "weight"},
            },
            "muons": {
                "smearing": [
                    {"variable": "pt", "model": "response", "pt_edges": [0, 100, 10000],
                     "response_edges": [0.8, 0.95, 1.0, 1.05, 1.2],
                     "counts": [[1, 10, 10, 1], [2, 8, 8, 2]]},
                ],
                "efficiency": {"map": "maps/muon_reco.json", "sha256": muon_reco,
                               "mode": "sample"},
            },
        },
        "met": {
            "recompute_from": ["jets"],
            "sum_pt_of": ["jets", "electrons", "muons"],
            "smearing": [{"variable": "components", "model": "calorimeter",
                          "argument": "sum_pt", "stochastic": 0.5, "noise": 5.0}],
        },
    }  # fmt: skip


def save(folder: Path, document: dict[str, Any]) -> Path:
    path = folder / "detector.json"
    path.write_text(json.dumps(document))
    return path


def objects(rng: np.random.Generator, counts: np.ndarray, extra: dict[str, Any]) -> ak.Array:
    total = int(counts.sum())
    fields = {
        "pt": rng.exponential(50.0, total) + 15.0,
        "eta": rng.uniform(-3.0, 3.0, total),
        "phi": rng.uniform(-np.pi, np.pi, total),
        "mass": np.zeros(total),
        **{k: v(total) for k, v in extra.items()},
    }
    collection = ak.unflatten(ak.zip(fields, with_name="Momentum4D"), counts)
    return collection[ak.argsort(collection.pt, axis=1, ascending=False)]


def make_events(n: int, seed: int = 0, mean_jets: float = 8.0) -> ak.Array:
    """Truth events in the contract the detector reads: jets, leptons, photons, MET."""
    rng = np.random.default_rng(seed)
    jets = objects(
        rng,
        rng.poisson(mean_jets, n),
        {
            "flavour": lambda k: rng.choice([0, 4, 5], k),
            "n_bhadrons": lambda k: rng.integers(0, 2, k),
        },
    )
    leptons = {"charge": lambda k: rng.choice([-1, 1], k)}
    met = ak.zip({"pt": rng.exponential(40.0, n), "phi": rng.uniform(-np.pi, np.pi, n)},
                 with_name="Momentum2D")  # fmt: skip
    weight = rng.normal(1.0, 1.0, n)  # some negative, as from an NLO generator
    return ak.zip(
        {
            "event_number": np.arange(n, dtype=np.int64) * 3 + 17,
            "weight": weight,
            "weights": ak.zip({"nominal": weight, "MUR2": 1.1 * weight}),
            "jets": jets,
            "electrons": objects(rng, rng.poisson(1.0, n), leptons),
            "muons": objects(rng, rng.poisson(1.0, n), leptons),
            "photons": objects(rng, rng.poisson(0.5, n), {}),
            "met": met,
        },
        depth_limit=1,
    )


@pytest.fixture
def detector(tmp_path: Path, document: dict[str, Any]) -> Detector:
    return load_detector(save(tmp_path, document))


def test_apply_reconstructs_every_collection(detector: Detector) -> None:
    truth = make_events(3000)
    events = detector.apply(truth, seed=1)
    jets = events.jets
    assert ak.all(jets.pt >= 25.0) and ak.all(abs(jets.eta) < 2.5)
    assert ak.all(jets.pt[:, :-1] >= jets.pt[:, 1:])
    assert str(ak.type(jets.btag)).endswith("bool")
    assert set(ak.fields(jets)) >= {"pt", "eta", "phi", "mass", "flavour", "n_bhadrons"}
    abs_eta = abs(events.electrons.eta)
    assert not ak.any((abs_eta >= 1.37) & (abs_eta < 1.52))
    assert ak.all(events.photons.pt == truth.photons.pt)  # not described: untouched
    # sampled tag rate against the map's efficiency (binomial, 4 σ)
    tagged = ak.to_numpy(ak.flatten(jets.btag))
    efficiency = ak.to_numpy(ak.flatten(jets.btag_tt_efficiency))
    sigma = np.sqrt(np.sum(efficiency * (1 - efficiency)))
    assert abs(tagged.sum() - efficiency.sum()) < 4 * sigma
    # the muon reconstruction efficiency (0.95/0.9) thins the collection by about that much
    kept = ak.sum(ak.num(events.muons)) / ak.sum(ak.num(truth.muons))
    assert 0.8 < kept < 0.95


def test_truth_tag_weights_are_the_exact_tag_count_probabilities(detector: Detector) -> None:
    events = detector.apply(make_events(2000), seed=1)
    weights = events.truth_tag_weights.btag_tt
    assert ak.fields(weights) == [
        "exactly_0", "exactly_1", "exactly_2", "at_least_1", "at_least_2", "at_least_3"
    ]  # fmt: skip
    efficiency = events.jets.btag_tt_efficiency
    for n in (1, 2, 3):
        expected = truth_tag_weight(efficiency, n, "at_least")
        np.testing.assert_allclose(ak.to_numpy(weights[f"at_least_{n}"]), expected, rtol=1e-12)
    total = sum(ak.to_numpy(weights[f"exactly_{k}"]) for k in range(3)) + weights.at_least_3
    np.testing.assert_allclose(ak.to_numpy(total), 1.0, rtol=1e-12)
    # and the weighted count agrees with the sampled one
    sampled = ak.to_numpy(ak.sum(events.jets.btag, axis=1) >= 2).sum()
    weighted = ak.sum(weights.at_least_2)
    assert abs(sampled - weighted) < 4 * np.sqrt(weighted)


def test_truth_tag_weights_by_hand() -> None:
    weights = truth_tag_weights(ak.Array([[0.5, 0.2], [], [1.0, 1.0, 1.0]]), max_count=2)
    assert ak.to_list(weights[0]) == pytest.approx(
        {"exactly_0": 0.4, "exactly_1": 0.5, "at_least_1": 0.6, "at_least_2": 0.1}
    )
    assert ak.to_list(weights[1]) == {
        "exactly_0": 1.0, "exactly_1": 0.0, "at_least_1": 0.0, "at_least_2": 0.0
    }  # fmt: skip
    assert weights[2].at_least_2 == 1.0


def test_efficiency_as_a_weight_keeps_the_objects_and_multiplies_every_weight(
    detector: Detector,
) -> None:
    truth = make_events(500)
    events = detector.apply(truth, seed=3)
    factor = ak.to_numpy(ak.prod(events.electrons.efficiency, axis=1))
    np.testing.assert_allclose(ak.to_numpy(events.detector_weight), factor)
    np.testing.assert_allclose(ak.to_numpy(events.weight), ak.to_numpy(truth.weight) * factor)
    np.testing.assert_allclose(ak.to_numpy(events.weights.MUR2), 1.1 * ak.to_numpy(events.weight))
    assert ak.any(events.weight < 0)  # negative weights stay negative
    assert set(np.unique(ak.to_numpy(ak.flatten(events.electrons.efficiency)))) <= {0.9, 0.8}


def test_met_is_recomputed_from_the_smeared_jets(tmp_path: Path, document: dict) -> None:
    """Without MET smearing and jet acceptance, MET + Σ jets is conserved as a vector."""
    document = copy.deepcopy(document)
    del document["objects"]["jets"]["acceptance"]
    document["met"] = {"recompute_from": ["jets"]}
    truth = make_events(300)
    events = load_detector(save(tmp_path, document)).apply(truth, seed=5)

    def balance(e: ak.Array) -> np.ndarray:
        total = e.met + ak.sum(e.jets.to_Vector2D(), axis=1)  # vector sums the 2D momenta
        return np.stack([ak.to_numpy(total.px), ak.to_numpy(total.py)])

    np.testing.assert_allclose(balance(events), balance(truth), atol=1e-9)
    assert not np.allclose(ak.to_numpy(events.met.pt), ak.to_numpy(truth.met.pt))
    assert ak.all(events.met.phi <= np.pi) and ak.all(events.met.phi > -np.pi)


def test_same_seed_bit_identical_for_chunks_of_1_7_and_whole(detector: Detector) -> None:
    truth = make_events(120, seed=4)
    whole = ak.to_list(detector.apply(truth, seed=42))
    for size in (1, 7):
        chunks = [detector.apply(truth[i : i + size], seed=42) for i in range(0, len(truth), size)]
        assert ak.to_list(ak.concatenate(chunks)) == whole
    assert ak.to_list(detector.apply(truth, seed=43)) != whole


def test_an_object_the_events_lack_is_named_with_the_available_ones(
    tmp_path: Path, document: dict
) -> None:
    document["objects"]["taus"] = {"acceptance": {"min_pt": 20}}
    path = save(tmp_path, document)
    with pytest.raises(MissingObjectError) as caught:
        load_detector(path).apply(make_events(5), seed=1)
    message = str(caught.value)
    assert str(path) in message and "'taus'" in message
    assert "they have electrons, jets, met, muons, photons." in message
    assert isinstance(caught.value, KeyError)


# -- every bad document -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            lambda d: d["objects"]["muons"].update(
                efficiency=d["objects"]["electrons"]["efficiency"]
            ),
            DetectorDescriptionError,
            r"objects\.muons\.efficiency\.map: .*'electrons', not for 'muons'",
        ),
        (
            lambda d: d["objects"]["jets"]["tags"][0].update(mode="score"),
            DetectorDescriptionError,
            r"tags\[0\]\.mode: .*needs a map with sample_scores",
        ),
        (
            lambda d: d.update(schema_version="0.9.0"),
            UnknownSchemaVersionError,
            r"'0\.9\.0'.*known versions: 1\.0\.0",
        ),
        (
            lambda d: d["objects"]["muons"]["efficiency"].update(map="maps/muon_rec.json"),
            ArtefactNotFoundError,
            r"objects\.muons\.efficiency\.map names .*muon_rec\.json, which does not exist",
        ),
    ],
    ids=["map-for-another-collection", "score-without-surrogate", "schema", "map-missing"],
)
def test_a_bad_document_is_refused_with_the_place_to_fix(
    tmp_path: Path, document: dict, change: Callable[[dict], None], error: type, match: str
) -> None:
    change(document)
    with pytest.raises(error, match=match):
        load_detector(save(tmp_path, document))


def test_missing_fields_are_all_reported_with_their_paths(tmp_path: Path, document: dict) -> None:
    del document["provenance"]
    del document["objects"]["jets"]["tags"][1]["sha256"]
    del document["objects"]["electrons"]["smearing"][0]["sigma"]
    with pytest.raises(InvalidDocumentError) as caught:
        load_detector(save(tmp_path, document))
    problems = dict(caught.value.problems)
    assert problems["(document)"] == "'provenance' is a required property"
    assert problems["objects.electrons.smearing[0]"] == "'sigma' is a required property"
    assert problems["objects.jets.tags[1]"] == "'sha256' is a required property"


def test_map_digest_mismatch(tmp_path: Path, document: dict) -> None:
    path = save(tmp_path, document)
    (tmp_path / "maps" / "btag.json").write_text(
        (tmp_path / "maps" / "btag.json").read_text().replace("0.75", "0.95")
    )
    with pytest.raises(MapDigestError) as caught:
        load_detector(path)
    assert isinstance(caught.value, DigestMismatchError)
    message = str(caught.value)
    assert "2 map(s) differ" in message  # both tags use the map
    assert "objects.jets.tags[0].sha256" in message and "objects.jets.tags[1].sha256" in message


def test_unknown_smearing_model(tmp_path: Path, document: dict) -> None:
    document["objects"]["jets"]["smearing"][1]["model"] = "gaussian"
    with pytest.raises(InvalidDocumentError) as caught:
        load_detector(save(tmp_path, document))
    problems = dict(caught.value.problems)
    assert "'gaussian' is not one of" in problems["objects.jets.smearing[1].model"]


def test_non_monotonic_bins_in_a_resolution_table(tmp_path: Path, document: dict) -> None:
    document["objects"]["electrons"]["smearing"][0]["pt_edges"] = [10, 1000, 50]
    document["objects"]["muons"]["smearing"][0]["response_edges"] = [0.8, 1.0, 0.95, 1.05, 1.2]
    with pytest.raises(DetectorDescriptionError) as caught:
        load_detector(save(tmp_path, document))
    problems = dict(caught.value.problems)  # both, at once
    assert "increase strictly" in problems["objects.electrons.smearing[0].pt_edges"]
    assert "increase strictly" in problems["objects.muons.smearing[0].response_edges"]


def test_negative_resolution(tmp_path: Path, document: dict) -> None:
    document["objects"]["electrons"]["smearing"][0]["sigma"][1][0] = -0.01
    document["objects"]["jets"]["smearing"][0]["noise"] = -3.0
    with pytest.raises(InvalidDocumentError) as caught:
        load_detector(save(tmp_path, document))
    problems = dict(caught.value.problems)
    assert "less than the minimum of 0" in problems["objects.electrons.smearing[0].sigma[1][0]"]
    assert "less than the minimum of 0" in problems["objects.jets.smearing[0].noise"]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["objects"]["electrons"]["smearing"][0].update(sigma=[[0.1, 0.1]]),
         "objects.electrons.smearing[0].sigma", "shape"),
        (lambda d: d["objects"]["electrons"]["smearing"][0].update(sigma=[[0.1, 0.1], [0.1]]),
         "objects.electrons.smearing[0].sigma", "same number"),
        (lambda d: d["objects"]["muons"]["smearing"][0].update(counts=[[0, 0, 0, 0], [1, 1, 1, 1]]),
         "objects.muons.smearing[0].counts", "empty"),
        (lambda d: d["objects"]["jets"]["tags"][1].update(name="pt"),
         "objects.jets.tags[1].name", "taken"),
        (lambda d: d["objects"]["electrons"]["acceptance"].update(exclude_abs_eta=[[1.52, 1.37]]),
         "objects.electrons.acceptance.exclude_abs_eta[0]", "empty"),
        (lambda d: d["met"].update(recompute_from=["jets", "taus"]),
         "met.recompute_from[1]", "'taus' is not among"),
        (lambda d: d["met"].pop("sum_pt_of"), "met.sum_pt_of", "sum_pt"),
        (lambda d: d["objects"].update(met={}), "objects.met", "top-level 'met'"),
    ],
)  # fmt: skip
def test_meaning_problems_name_their_path(
    tmp_path: Path, document: dict, change: Any, path: str, message: str
) -> None:
    change(document)
    with pytest.raises(DetectorDescriptionError) as caught:
        load_detector(save(tmp_path, document))
    assert message in dict(caught.value.problems)[path]


@pytest.mark.parametrize(
    ("step", "path"),
    [
        ({"variable": "eta", "model": "response", "response_edges": [0, 1], "counts": [1]},
         "objects.jets.smearing[0].variable"),
        ({"variable": "pt", "model": "calorimeter", "argument": "sum_pt", "noise": 1.0},
         "objects.jets.smearing[0].argument"),
        ({"variable": "pt", "model": "constant", "sigma": 0.1, "sigmma": 0.2},
         "objects.jets.smearing[0]"),
    ],
)  # fmt: skip
def test_steps_the_schema_refuses(tmp_path: Path, document: dict, step: dict, path: str) -> None:
    document["objects"]["jets"]["smearing"] = [step]
    with pytest.raises(InvalidDocumentError) as caught:
        load_detector(save(tmp_path, document))
    assert path in dict(caught.value.problems)


def test_events_without_event_numbers_or_already_reconstructed_are_refused(
    detector: Detector,
) -> None:
    truth = make_events(10)
    with pytest.raises(UsageError, match="no 'event_number'"):
        detector.apply(ak.without_field(truth, "event_number"), seed=1)
    with pytest.raises(UsageError, match=r"jets already have \['btag'\]; apply the detector"):
        detector.apply(detector.apply(truth, seed=1), seed=1)


def test_an_empty_chunk(detector: Detector) -> None:
    events = detector.apply(make_events(10)[:0], seed=1)
    assert len(events) == 0 and "truth_tag_weights" in ak.fields(events)
