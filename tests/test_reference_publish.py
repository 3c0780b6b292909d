"""The reference experiment's detector publication: maps, smearing, the three descriptions.

No samples on disk: synthetic truth objects (known flavours, b-hadrons, leptons) go through
the ReferenceDetector and are written in the layout of ``reference_experiment.samples``.
"""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.detector.description import load_detector
from recast.detector.learned import NetworkMap
from recast.detector.maps import EfficiencyMap, load_map
from recast.errors import UsageError
from recast.events.cache import CacheWriter
from reference_experiment import WORKING_POINTS, ReferenceDetector, efficiency
from reference_experiment.grid import load_grid
from reference_experiment.publish_closure import closure_study
from reference_experiment.publish_detector import TAG, main, publish, training_samples
from reference_experiment.publish_fit import (
    BTAG_ABS_ETA_EDGES,
    BTAG_PT_EDGES,
    btag_binned_document,
    collect,
    jet_smearing,
)

TRAIN = "Gtt_1800_1,ttbar"


def truth_objects(n: int, seed: int, first: int = 0) -> ak.Array:
    """Truth objects as build_objects makes them: 6 jets (b, c, light), 1 electron, 1 muon."""
    rng = np.random.default_rng(seed)
    n_jets = 6
    size = (n, n_jets)
    flavour = rng.choice([5, 5, 4, 0, 0, 0], size=size)
    n_b = np.where(flavour == 5, 1 + (rng.random(size) < 0.2), 0)
    jets = {
        "pt": np.where(
            rng.random(size) < 0.15,
            rng.uniform(15.0, 1500.0, size),
            15.0 + rng.exponential(60.0, size),
        ),
        "eta": rng.uniform(-3.0, 3.0, size),
        "phi": rng.uniform(-np.pi, np.pi, size),
        "mass": np.full(size, 5.0),
        "flavour": flavour,
        "n_bhadrons": n_b,
        "n_chadrons": (flavour == 4).astype(np.int64),
        "n_taus": np.zeros(size, dtype=np.int64),
    }

    def leptons(pid: int) -> ak.Array:
        fields = {
            "pt": np.where(
                rng.random((n, 1)) < 0.2,
                rng.uniform(7.5, 1500.0, (n, 1)),
                7.5 + rng.exponential(30.0, (n, 1)),
            ),
            "eta": rng.uniform(-2.4, 2.4, (n, 1)),
            "phi": rng.uniform(-np.pi, np.pi, (n, 1)),
            "mass": np.zeros((n, 1)),
            "charge": rng.choice([-1, 1], (n, 1)),
            "pid": np.full((n, 1), pid),
            "isolation": rng.exponential(0.12, (n, 1)),
        }
        return ak.zip({k: ak.Array(list(v)) for k, v in fields.items()}, with_name="Momentum4D")

    met = ak.zip(
        {"pt": rng.exponential(50.0, n), "phi": rng.uniform(-np.pi, np.pi, n)},
        with_name="Momentum2D",
    )
    return ak.zip(
        {
            "event_number": np.arange(first, first + n, dtype=np.int64),
            "weight": np.ones(n),
            "weights": ak.zip({"nominal": np.ones(n)}),
            "jets": ak.zip({k: ak.Array(list(v)) for k, v in jets.items()}, with_name="Momentum4D"),
            "electrons": leptons(11),
            "muons": leptons(13),
            "met_visible": met,
            "met": met,
        },
        depth_limit=1,
    )


def write_sample(out: Path, name: str, n: int, seed: int) -> None:
    """One block in the layout reference_experiment.samples writes."""
    folder = out / name
    folder.mkdir(parents=True)
    truth = truth_objects(n, seed)
    reco = ReferenceDetector().apply(truth, seed=seed + 100)
    for kind, chunk in (("objects", truth), ("detector", reco)):
        with CacheWriter(folder / f"{kind}_0000.parquet") as cache:
            cache.write(chunk)
    summary = {
        "events": n,
        "blocks": [
            {"index": 0, "objects": "objects_0000.parquet", "detector": "detector_0000.parquet"}
        ],
    }
    (folder / "sample.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    write_sample(out, "Gtt_1800_1", 1500, seed=1)
    write_sample(out, "ttbar", 1500, seed=2)
    write_sample(out, "Gtt_2100_800", 400, seed=3)  # held out: closure only
    return out


@pytest.fixture(scope="module")
def bundle(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bundle")
    summary = publish(
        samples,
        out,
        training=TRAIN,
        n_models=3,
        learn_events=600,
        max_epochs=2,
        figure=out / "closure.png",
    )
    return out, summary


def test_the_three_descriptions_load_and_apply(bundle: tuple[Path, dict]) -> None:
    out, summary = bundle
    truth = truth_objects(200, seed=9, first=10_000)
    tagged = []
    for name in ("detector.json", "detector_learned.json", "detector_surrogate.json"):
        detector = load_detector(out / name)
        reco = detector.apply(truth, seed=4)
        assert TAG in ak.fields(reco.jets)
        assert ak.all(reco.jets.pt >= 20.0) and ak.all(abs(reco.jets.eta) < 4.5)
        assert "isolated_reco" in ak.fields(reco.electrons)
        assert ak.all(reco.electrons.pt >= 7.0)
        tagged.append(float(ak.mean(ak.flatten(reco.jets[TAG]))))
        moved = np.abs(np.asarray(reco.met.pt) - np.asarray(truth.met.pt))
        assert float(np.median(moved)) > 1.0  # the smeared objects and the residual move MET
        again = detector.apply(truth, seed=4)
        assert ak.to_list(again.jets[TAG]) == ak.to_list(reco.jets[TAG])
        document = json.loads((out / name).read_text())
        assert (
            document["objects"]["jets"]["smearing"]
            == json.loads((out / "detector.json").read_text())["objects"]["jets"]["smearing"]
        )
    assert all(0.05 < t < 0.6 for t in tagged)
    sizes = [p.stat().st_size for p in (out / "maps").iterdir()]
    assert max(sizes) < 1_000_000
    assert summary["training_samples"] == ["Gtt_1800_1", "ttbar"]
    assert "closure" in summary and (out / "closure.png").is_file()
    learned = load_map(out / "maps" / f"{TAG}_learned.json")
    assert isinstance(learned, NetworkMap) and set(learned.context) >= {"dr_nearest"}


def test_the_networks_take_log_pt_inside_their_graphs(bundle: tuple[Path, dict]) -> None:
    import onnx

    out, _ = bundle
    for stem in (f"{TAG}_learned", "btag_score_surrogate"):
        card = json.loads((out / "maps" / f"{stem}.card.json").read_text())
        pt = card["inputs"][0]["features"][0]
        # the card passes pT in GeV as it is; the ONNX graph takes its logarithm
        assert pt["source"]["attribute"] == "pt" and pt["unit"] == "GeV"
        assert pt["preprocessing"] == {"formula": "x"}
        graph = onnx.load(out / "maps" / f"{stem}.onnx").graph
        assert "Log" in {node.op_type for node in graph.node}, stem


def test_a_rerun_gives_bit_identical_files(
    samples: Path, bundle: tuple[Path, dict], tmp_path: Path
) -> None:
    _, summary = bundle
    again = publish(
        samples, tmp_path, training=TRAIN, n_models=3, learn_events=600, max_epochs=2, closure=False
    )
    assert again["files"] == summary["files"]


def test_the_binned_map_reproduces_a_known_efficiency() -> None:
    truth = truth_objects(6000, seed=11)
    reco = ReferenceDetector().apply(truth, seed=12)
    data = collect([(truth, reco)])
    document = btag_binned_document(data.jets())
    jets = ak.flatten(reco.jets)
    exact = efficiency(
        WORKING_POINTS[77],
        np.asarray(jets.flavour),
        np.asarray(jets.n_bhadrons),
        np.asarray(jets.truth_pt),
        np.asarray(jets.truth_eta),
        np.asarray(jets.dr_nearest),
    )
    pt_bin = np.clip(np.searchsorted(BTAG_PT_EDGES, np.asarray(jets.pt), "right") - 1, 0, 8)
    eta_bin = np.searchsorted(BTAG_ABS_ETA_EDGES, np.abs(np.asarray(jets.eta)), "right") - 1
    pulls = []
    for row, flavour in enumerate((5, 4, 15, 0)):
        if flavour == 15:
            continue
        for i in range(len(BTAG_PT_EDGES) - 1):
            for j in range(len(BTAG_ABS_ETA_EDGES) - 1):
                at = (np.asarray(jets.flavour) == flavour) & (pt_bin == i) & (eta_bin == j)
                if at.sum() < 50:
                    continue
                value = document["values"][row][i][j]
                expected = exact[at].mean()
                # the binomial error of the tagged fraction around the exact mean efficiency
                sigma = np.sqrt(max(expected * (1 - expected), 1e-6) / at.sum())
                pulls.append((value - expected) / sigma)
    pull = np.asarray(pulls)
    assert len(pull) > 40
    assert np.abs(pull).max() < 4.5
    assert abs(pull.mean()) < 0.5
    assert document["values"][2] == document["values"][1]  # τ measured with c
    # beyond the tracker the map says 0
    loaded = load_map_document(document)
    far = ak.zip(
        {
            "event_number": np.array([1]),
            "jets": ak.zip(
                {"pt": [[50.0]], "eta": [[3.0]], "phi": [[0.0]], "mass": [[5.0]], "flavour": [[5]]},
                with_name="Momentum4D",
            ),
        },
        depth_limit=1,
    )
    assert ak.to_list(loaded.efficiency(far)) == [[0.0]]


def load_map_document(document: dict, tmp: Path | None = None) -> EfficiencyMap:
    import tempfile

    from recast.train import save_map

    folder = Path(tmp or tempfile.mkdtemp())
    return save_map(document, folder / "map.json")


def test_the_jet_response_loses_lost_jets_at_the_same_rate() -> None:
    truth = truth_objects(3000, seed=21)
    reco = ReferenceDetector().apply(truth, seed=22)
    steps = jet_smearing(collect([(truth, reco)]))
    counts = np.asarray(steps[0]["counts"], dtype=float)
    edges = np.asarray(steps[0]["response_edges"])
    centres = 0.5 * (edges[1:] + edges[:-1])
    high = counts[-4:].sum(axis=0)  # truth pT > 300 GeV: the mean response is close to 0.98
    assert 0.94 < (high * centres).sum() / high.sum() < 1.0
    low = counts[0]  # truth pT 15-20 GeV: most are lost below 20 GeV
    assert low[0] / low.sum() > 0.3


def test_bad_inputs_give_clear_errors(samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no samples folder"):
        publish(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(UsageError, match="held-out point"):
        publish(samples, tmp_path / "out", training="Gtt_1800_1,Gtt_2100_800")
    with pytest.raises(UsageError, match="held-out"):
        training_samples(load_grid(), "held_out")
    with pytest.raises(UsageError, match="no sample 'Gtt_1234_5'"):
        training_samples(load_grid(), "Gtt_1234_5")
    with pytest.raises(UsageError, match=r"sample\.json is missing"):
        publish(samples, tmp_path / "out", training="Gbb_1800_1", closure=False)
    with pytest.raises(UsageError, match="at least 3 members"):
        publish(samples, tmp_path / "out", training=TRAIN, n_models=2)
    with pytest.raises(UsageError, match="no held-out sample is on disk"):
        closure_study(samples, tmp_path / "out", [])
    assert main(["--samples", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
