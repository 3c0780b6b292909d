"""A fast slice of the flagship chain: Pythia8 → reference detector → DEMO_MULTIB_GLUINO with its
network, and the same analysis on truth objects given a b-tag field (a few hundred events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest

from recast.preserve.card import NetworkCard
from recast.preserve.session import NetworkSession

from .test_demo_multib_analysis import BUNDLE, demo

pytest.importorskip("pythia8mc")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reference_experiment.samples import make_samples

    out = tmp_path_factory.mktemp("demo_multib")
    make_samples("Gtt_2100_800", out, events=300, seed=11)
    return out


def _analysis() -> Any:  # the bundle's class, imported from its file
    document = json.loads((BUNDLE / "analysis.json").read_text())
    regions = {name: r["cuts"] for name, r in document["regions"].items()}
    session = NetworkSession(NetworkCard.load(BUNDLE / "networks" / "multib_demo.card.json"))
    return demo.DemoMultibGluino(regions, networks={demo.NETWORK: session})


def test_detector_objects_through_the_bundle(sample: Path) -> None:
    from reference_experiment.read import paired_chunks

    analysis = _analysis()
    flows = None
    for _, reco in paired_chunks(sample, "Gtt_2100_800"):
        chunk = analysis.process(reco)
        flows = chunk if flows is None else {k: flows[k].merge(v) for k, v in chunk.items()}
    assert flows is not None
    for name, flow in flows.items():
        assert flow.raw[0] == 300, name
        assert (np.diff(flow.raw) <= 0).all(), name  # each cut keeps a subset
    # a 2.1 TeV gluino pair passes the preselection about half the time
    assert 0.3 < flows["SR-Gtt-0L"].raw[3] / 300 < 0.7
    nn = [n for n in flows if n.startswith("SR-NN-Gtt")]
    assert sum(flows[n].raw[-1] for n in nn) > 0  # the network selects signal


def test_truth_objects_with_an_emulated_tag_run_the_same_analysis(sample: Path) -> None:
    from reference_experiment.read import sample_chunks

    analysis = _analysis()
    truth = next(sample_chunks(sample, "Gtt_2100_800", "objects"))
    # the recast side's detector.json names its 77 % tag btag_77; here a perfect tagger
    jets = ak.with_field(truth.jets, truth.jets.n_bhadrons > 0, "btag_77")
    derived = analysis.derive(ak.with_field(truth, jets, "jets"))
    selected = analysis.preselected(derived)
    assert selected.sum() > 0
    for tag in demo.NN_POINTS:
        p = np.asarray(derived[demo.nn_field(tag)])
        assert ((p[selected] >= 0) & (p[selected] <= 1)).all()
        assert np.isnan(p[~selected]).all()


def test_truth_objects_through_the_bundles_detector_json(sample: Path) -> None:
    """The recast side: truth objects → detector.json (btag_77, isolated_reco) → the analysis,
    with no glue; the preselection keeps a similar fraction to the reference detector's."""
    from recast.detector.description import load_detector
    from reference_experiment.read import paired_chunks

    document = json.loads((BUNDLE / "analysis.json").read_text())
    detector = load_detector(BUNDLE / document["detector"]["path"])
    analysis = _analysis()
    kept = {"official": 0, "recast": 0}
    for truth, reco in paired_chunks(sample, "Gtt_2100_800"):
        emulated = detector.apply(truth, seed=1)
        assert "isolated_reco" in ak.fields(emulated.muons)
        kept["official"] += int(analysis.preselected(analysis.derive(reco)).sum())
        kept["recast"] += int(analysis.preselected(analysis.derive(emulated)).sum())
    assert kept["recast"] > 0
    assert 0.6 < kept["recast"] / kept["official"] < 1.4


def test_training_rows_from_a_sample(sample: Path) -> None:
    pytest.importorskip("torch")
    from reference_experiment import publish_network as make
    from reference_experiment.grid import load_grid
    from reference_experiment.read import sample_summary

    gtt = load_grid().sample("Gtt_2100_800")
    rows = make.sample_rows(sample, gtt, seed=1)
    again = make.sample_rows(sample, gtt, seed=1)
    assert np.array_equal(rows.x, again.x) and np.array_equal(rows.test, again.test)
    assert rows.label == 1 and rows.point == (1.0, 2100.0, 800.0)
    assert rows.x.shape[1] == 87 and 0 < len(rows.x) < 300
    sigma = sample_summary(sample, "Gtt_2100_800")["cross_section_pb"]
    assert rows.weight == pytest.approx(np.full(len(rows.x), sigma * 139_000 / 300))
    # a background stand-in: the same rows labelled tt̄ get parameters drawn from the points
    background = make.Rows("ttbar", 0, None, rows.x, rows.weight, rows.test)
    x, labels, weights = make.build_training_set([rows], [background], seed=2)
    n_train = int((~rows.test).sum())
    assert labels.tolist() == [1] * n_train + [0] * n_train
    assert (x[:, 84:] == [1.0, 2100.0, 800.0]).all()  # the only point there is
    assert weights[labels == 0].sum() == pytest.approx(weights[labels == 1].sum())
