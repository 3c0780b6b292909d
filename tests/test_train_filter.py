"""The selective-simulation filter: truth graphs, the graph convolution, training with and
without dCorr on toy decay trees, and the exported ONNX + card."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.errors import CardError, MissingCollectionError, UsageError
from recast.events.chunk import make_chunk
from recast.events.graphs import FEATURES, concatenate, graph_arrays, vocabulary
from recast.train.filter.toy import decay_tree_events

torch = pytest.importorskip("torch")

from recast.events.graphs import preprocess  # noqa: E402
from recast.events.selective import EventFilter  # noqa: E402
from recast.preserve.check import check_card  # noqa: E402
from recast.preserve.session import make_session  # noqa: E402
from recast.train.core.losses import distance_correlation  # noqa: E402
from recast.train.filter.network import GraphFilter, normalised_adjacency  # noqa: E402
from recast.train.filter.trainer import FilterTrainer, auc  # noqa: E402


def tiny_chunk() -> ak.Array:
    """One event: a beam (0) ends at vertex 0, which makes B (1) and C (2); B ends at vertex 1
    (at z = 3 mm, c·t = 5 mm) and makes D (3) and E (4). A second event has one particle."""
    particles = {
        "px": np.array([0.0, 30.0, -10.0, 20.0, 1.0, 5.0]),
        "py": np.array([0.0, 40.0, 0.0, 0.0, 1.0, 0.0]),
        "pz": np.array([100.0, 0.0, 5.0, 1.0, -1.0, 0.0]),
        "E": np.array([100.0, 51.0, 12.0, 21.0, 2.0, 5.0]),
        "pid": np.array([2212, 511, 211, -411, 13, 22]),
        "status": np.array([4, 2, 1, 2, 1, 1]),
        "generated_mass": np.array([0.938, 5.28, 0.14, 1.87, 0.106, 0.0]),
        "production_vertex": np.array([-1, 0, 0, 1, 1, -1]),
        "end_vertex": np.array([0, 1, -1, -1, -1, -1]),
    }
    vertices = {
        "x": np.array([0.0, 0.0]),
        "y": np.array([0.0, 0.0]),
        "z": np.array([-2.0, 3.0]),
        "t": np.array([0.0, 5.0]),
    }
    return make_chunk(
        np.array([10, 11]),
        {"nominal": np.ones(2)},
        np.full(2, np.nan),
        np.full(2, np.nan),
        np.array([5, 1]),
        particles,
        np.array([2, 0]),
        vertices,
    )


# -- graph inputs -----------------------------------------------------------------------------
def test_links_are_mother_daughter_pairs_both_ways() -> None:
    graphs = graph_arrays(tiny_chunk(), max_particles=8, ordering="record")
    assert graphs.nodes.shape == (2, 8, len(FEATURES))
    links = {tuple(map(int, pair)) for pair in np.argwhere(graphs.adjacency[0])}
    expected = {(0, 1), (0, 2), (1, 3), (1, 4)}
    assert links == expected | {(b, a) for a, b in expected}
    assert graphs.mask[0].tolist() == [1] * 5 + [0] * 3
    assert graphs.mask[1].tolist() == [1] + [0] * 7
    assert not graphs.adjacency[1].any()
    assert graphs.n_particles.tolist() == [5, 1]


def test_node_features_by_hand() -> None:
    nodes = graph_arrays(tiny_chunk(), max_particles=8, ordering="record").nodes[0]
    column = {name: j for j, name in enumerate(FEATURES)}
    b = nodes[1]
    assert b[column["pid"]] == 511
    assert b[column["log_pt"]] == pytest.approx(np.log1p(50.0))
    assert b[column["eta"]] == pytest.approx(0.0)
    assert b[column["log_energy"]] == pytest.approx(np.log1p(51.0))
    assert b[column["log_mass"]] == pytest.approx(np.log1p(5.28))
    assert b[column["final_state"]] == 0
    assert b[column["production_z"]] == pytest.approx(-np.log1p(2.0))  # vertex 0 at z = -2
    assert b[column["flight"]] == pytest.approx(np.log1p(5.0))  # c·t from 0 to 5 mm
    d = nodes[3]
    assert d[column["production_z"]] == pytest.approx(np.log1p(3.0))
    assert d[column["flight"]] == 0.0  # stable: no end vertex
    assert d[column["final_state"]] == 0  # status 2
    assert nodes[0][column["eta"]] == pytest.approx(10.0)  # the beam: pT = 0, clipped
    assert nodes[2][column["final_state"]] == 1


def test_cropping_keeps_the_first_particles_and_drops_their_lost_links() -> None:
    graphs = graph_arrays(tiny_chunk(), max_particles=3, ordering="record")
    assert graphs.mask[0].tolist() == [1, 1, 1]
    links = {tuple(map(int, pair)) for pair in np.argwhere(graphs.adjacency[0])}
    assert links == {(0, 1), (1, 0), (0, 2), (2, 0)}
    assert graphs.cropped_fraction() == 0.5


def test_pt_ordering_puts_the_hardest_particles_first_and_keeps_links() -> None:
    graphs = graph_arrays(tiny_chunk(), max_particles=3, ordering="pt")
    column = list(FEATURES).index("log_pt")
    assert graphs.nodes[0, :, column] == pytest.approx(np.log1p([50.0, 20.0, 10.0]))
    assert graphs.nodes[0, :, 0].tolist() == [511, -411, 211]
    links = {tuple(map(int, pair)) for pair in np.argwhere(graphs.adjacency[0])}
    assert links == {(0, 1), (1, 0)}  # B–D; C's mother (the beam) was cropped


def test_graph_input_errors() -> None:
    events = tiny_chunk()
    with pytest.raises(UsageError, match="ordering"):
        graph_arrays(events, ordering="energy")
    with pytest.raises(UsageError, match="max_particles"):
        graph_arrays(events, max_particles=1)
    with pytest.raises(MissingCollectionError, match="vertices"):
        graph_arrays(ak.zip({"particles": events.particles}, depth_limit=1))
    no_pid = ak.zip(
        {
            "particles": events.particles[[f for f in ak.fields(events.particles) if f != "pid"]],
            "vertices": events.vertices,
        },
        depth_limit=1,
    )
    with pytest.raises(MissingCollectionError, match="pid"):
        graph_arrays(no_pid)
    with pytest.raises(UsageError, match="no graphs"):
        concatenate([])


def test_vocabulary_is_the_most_frequent_ids() -> None:
    events, _ = decay_tree_events(200, seed=3)
    graphs = graph_arrays(events, 48)
    words = vocabulary(graphs, 3)
    pid = graphs.nodes[..., 0][graphs.mask > 0].astype(int)
    values, counts = np.unique(pid, return_counts=True)
    assert set(words) == set(values[np.argsort(-counts, kind="stable")][:3].tolist())


def test_toy_records_follow_the_chunk_layout_and_are_seeded() -> None:
    events, truth = decay_tree_events(300, seed=5)
    again, truth_again = decay_tree_events(300, seed=5)
    assert ak.all(events.particles.px == again.particles.px)
    assert np.array_equal(truth["passed"], truth_again["passed"])
    assert 0.03 < truth["passed"].mean() < 0.3
    # every non-root particle's production vertex is the end vertex of exactly one particle
    graphs = graph_arrays(events, 64)
    n_daughters = ak.to_numpy(ak.sum(events.particles.production_vertex > 0, axis=1))
    assert np.array_equal(graphs.adjacency.sum(axis=(1, 2)) // 2, n_daughters)
    with pytest.raises(UsageError, match="n_events"):
        decay_tree_events(0, seed=1)


# -- the network ------------------------------------------------------------------------------
def test_normalised_adjacency_by_hand() -> None:
    a = torch.tensor([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    a_hat = normalised_adjacency(a, mask)[0]
    # A + I on the two real nodes is all ones, degrees 2: every entry 1/2; padding stays 0
    assert torch.allclose(a_hat[:2, :2], torch.full((2, 2), 0.5))
    assert float(a_hat[2].abs().sum() + a_hat[:, 2].abs().sum()) == 0.0


def _random_graphs(n: int, slots: int, seed: int) -> tuple[torch.Tensor, ...]:
    events, _ = decay_tree_events(n, seed=seed)
    graphs = graph_arrays(events, slots)
    nodes = torch.from_numpy(preprocess(graphs, {}))
    return nodes, torch.from_numpy(graphs.adjacency).float(), torch.from_numpy(graphs.mask)


def test_more_padding_and_permuted_particles_give_the_same_output() -> None:
    torch.manual_seed(0)
    net = GraphFilter([211, -211, 22, 511], len(FEATURES), hidden=16, depth=2).eval()
    small = _random_graphs(20, 48, seed=1)
    large = _random_graphs(20, 64, seed=1)
    with torch.no_grad():
        p_small, p_large = net(*small), net(*large)
        assert torch.allclose(p_small, p_large, atol=1e-6)
        order = torch.randperm(48)
        nodes, adjacency, mask = small
        permuted = net(nodes[:, order], adjacency[:, order][:, :, order], mask[:, order])
        assert torch.allclose(permuted, p_small, atol=1e-6)


def test_the_pdg_id_matters_through_the_embedding() -> None:
    torch.manual_seed(0)
    net = GraphFilter([211, 511], len(FEATURES), hidden=16, depth=2).eval()
    nodes, adjacency, mask = _random_graphs(10, 48, seed=2)
    changed = nodes.clone()
    changed[..., 0] = torch.where(changed[..., 0] == 211, 511.0, changed[..., 0])
    with torch.no_grad():
        assert not torch.allclose(net(nodes, adjacency, mask), net(changed, adjacency, mask))


# -- training ---------------------------------------------------------------------------------
# Trained numbers depend on the CPU's math kernels (a last-bit difference grows over 25 epochs),
# so every assertion below is a property with a margin from the spread measured by retraining
# the fixture: measured over trainer seeds 0-4 with ATEN_CPU_CAPABILITY=avx2, seeds 0-1 with
# =default and seed 0 with this machine's avx512 kernels, 1 thread (the trainer's default
# whatever the machine); the quoted ranges are min-max over those trainings.
SETTINGS = {
    "max_particles": 48,
    "max_epochs": 25,
    "batch_size": 256,
    "patience": 8,
    "hidden": 32,
    "decorrelation_warmup": 10,
}


@pytest.fixture(scope="module")
def toy() -> dict[str, object]:
    events, truth = decay_tree_events(4000, seed=1)
    test_events, test_truth = decay_tree_events(3000, seed=2)
    trainer = FilterTrainer(**SETTINGS)
    graphs, test_graphs = trainer.graphs(events), trainer.graphs(test_events)
    plain = FilterTrainer(**SETTINGS).fit(graphs, truth["passed"], truth["m_vis"])
    decorrelated = FilterTrainer(**SETTINGS, decorrelation=0.3).fit(
        graphs, truth["passed"], truth["m_vis"]
    )
    return {
        "graphs": graphs,
        "truth": truth,
        "test_graphs": test_graphs,
        "test_truth": test_truth,
        "plain": plain,
        "dcorr": decorrelated,
    }


def test_the_filter_learns_which_events_pass(toy: dict) -> None:
    plain = toy["plain"]
    p = plain.predict(toy["test_graphs"])
    # measured (see SETTINGS): held-out AUC 0.888-0.938
    assert auc(p, toy["test_truth"]["passed"]) > 0.85
    # the rule (a hard b-hadron with a muon descendant) is what it found: 0.939-0.995
    assert auc(p, toy["test_truth"]["rule"]) > 0.9
    assert plain.validation_["auc"] > 0.8  # 0.895-0.963
    assert plain.history_.best_epoch >= 0


def test_the_dcorr_penalised_filter_still_filters(toy: dict) -> None:
    """λ = 0.3 on 4000 events is a gentle penalty, and what it does to dCorr(p, m_vis) on the
    passing held-out events is smaller than the differences between trainings: measured (see
    SETTINGS), 0.098-0.182 with it and 0.120-0.242 without, their ratio 0.44-1.11 (and
    0.56-1.08 on 15 000 held-out events). So no reduction is asserted here: the earlier
    `decorrelated < 0.6 * plain` failed on an AMD EPYC (issue 14). That the penalty removes a
    dependence (dCorr 0.73 → 0.04) is asserted in tests/test_train_losses.py."""
    p = toy["dcorr"].predict(toy["test_graphs"])
    assert auc(p, toy["test_truth"]["passed"]) > 0.75  # measured 0.819-0.922


def test_the_penalty_is_lambda_times_dcorr_squared_on_the_passing_events(toy: dict) -> None:
    """The wiring the end-to-end test above cannot resolve: the training loss of a batch is
    BCE + λ · dCorr²(p, x) over its passing events, exactly (no trained number involved)."""
    trainer = toy["plain"]
    graphs, truth = toy["graphs"].take(np.arange(256)), toy["truth"]
    x = truth["m_vis"][:256]
    data = trainer._tensors(graphs, truth["passed"][:256], x, np.ones(256))
    batch = trainer._batch(data, np.arange(256), torch.device("cpu"))
    with torch.no_grad():
        logit = trainer.network_.logit(batch["nodes"], batch["adjacency"], batch["mask"])
        plain, penalised = trainer._loss(logit, batch, 0.0), trainer._loss(logit, batch, 0.3)
        passed = batch["y"] > 0.5
        expected = distance_correlation(
            torch.sigmoid(logit[passed]), batch["x"][passed], batch["w"][passed], squared=True
        )
    assert int(passed.sum()) >= 3
    assert float(penalised - plain) == pytest.approx(0.3 * float(expected), rel=1e-5)
    assert float(expected) > 0.0


def test_the_same_seed_gives_the_same_filter(toy: dict) -> None:
    settings = {**SETTINGS, "max_epochs": 2}
    graphs = toy["graphs"].take(np.arange(600))
    passed = toy["truth"]["passed"][:600]
    a = FilterTrainer(**settings).fit(graphs, passed).predict(graphs)
    b = FilterTrainer(**settings).fit(graphs, passed).predict(graphs)
    c = FilterTrainer(**settings, seed=1).fit(graphs, passed).predict(graphs)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_export_passes_card_check_and_onnxruntime_agrees(toy: dict, tmp_path: Path) -> None:
    trainer = toy["dcorr"]
    card_path = trainer.export(tmp_path, "toy_filter")
    report = check_card(card_path)
    assert any("reference set(s) reproduced" in line for line in report.checked)
    card = report.card
    shapes = {node["name"]: node["shape"] for node in card.inputs}
    assert shapes == {
        "nodes": [None, 48, len(FEATURES)],
        "adjacency": [None, 48, 48],
        "mask": [None, 48],
    }
    session = make_session(str(tmp_path / "toy_filter.onnx"))
    graphs = toy["test_graphs"].take(np.arange(300))
    feeds = {
        "nodes": preprocess(graphs, trainer.scaling_),
        "adjacency": graphs.adjacency.astype(np.float32),
        "mask": graphs.mask,
    }
    onnx_p = session.run(None, feeds)[0][:, 0]
    assert np.allclose(onnx_p, trainer.predict(graphs), atol=1e-5)
    features = card.inputs[0]["features"]
    assert features[0]["name"] == "pid" and features[0]["preprocessing"] == {"formula": "x"}
    assert features[1]["preprocessing"]["formula"] == "(x - mean) / std"


def test_the_card_alone_gives_the_filter(toy: dict, tmp_path: Path) -> None:
    """EventFilter rebuilds the graphs from the truth record with the card's slots, ordering
    and preprocessing: the same probabilities as the trainer, without torch."""
    trainer = toy["plain"]
    card_path = trainer.export(tmp_path, "toy_filter")
    events, _ = decay_tree_events(200, seed=9)
    selective = EventFilter.load(card_path)
    assert (selective.max_particles, selective.ordering) == (48, "pt")
    assert np.allclose(selective.probabilities(events), trainer.predict(events), atol=1e-5)
    document = json.loads(card_path.read_text())
    document["inputs"][0]["features"][2]["name"] = "rapidity"
    renamed = tmp_path / "renamed.card.json"
    renamed.write_text(json.dumps(document))
    with pytest.raises(CardError, match="this version of recast builds"):
        EventFilter.load(renamed)
    document["inputs"][2]["name"] = "particle_mask"
    reference = document["files"][0]["references"][0]["inputs"]
    reference["particle_mask"] = reference.pop("mask")
    renamed.write_text(json.dumps(document))
    with pytest.raises(CardError, match="not an event-filter card"):
        EventFilter.load(renamed)


def test_default_graphs_have_100_slots_and_export_as_such(tmp_path: Path) -> None:
    events, truth = decay_tree_events(300, seed=4)
    trainer = FilterTrainer(max_epochs=1, hidden=8, depth=1)
    assert trainer.max_particles == 100
    trainer.fit(events, truth["passed"])
    card = check_card(trainer.export(tmp_path, "default_filter")).card
    assert [node["shape"] for node in card.inputs] == [
        [None, 100, len(FEATURES)],
        [None, 100, 100],
        [None, 100],
    ]
    assert trainer.predict(events).shape == (300,)


def test_bad_training_inputs_are_refused(toy: dict) -> None:
    graphs = toy["graphs"].take(np.arange(100))
    passed = toy["truth"]["passed"][:100]
    x = toy["truth"]["m_vis"][:100]
    with pytest.raises(UsageError, match="both classes"):
        FilterTrainer(**SETTINGS).fit(graphs, np.zeros(100, bool))
    with pytest.raises(UsageError, match="one value per event"):
        FilterTrainer(**SETTINGS).fit(graphs, passed[:50])
    with pytest.raises(UsageError, match="decorrelate="):
        FilterTrainer(**SETTINGS, decorrelation=1.0).fit(graphs, passed)
    with pytest.raises(UsageError, match="weights ≥ 0"):
        FilterTrainer(**SETTINGS).fit(graphs, passed, x, sample_weight=-np.ones(100))
    with pytest.raises(UsageError, match="slots"):
        FilterTrainer(max_particles=100).fit(graphs, passed)
    with pytest.raises(UsageError, match="not fitted"):
        FilterTrainer().predict(graphs)


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("ordering", "energy", "ordering"),
        ("decorrelate_on", "signal", "decorrelate_on"),
        ("device", "tpu", "device"),
        ("decorrelation", -1.0, "λ"),
        ("validation_fraction", 1.0, "validation_fraction"),
        ("hidden", 0, "hidden"),
        ("batch_size", 0, "batch_size"),
        ("decorrelation_warmup", -1, "decorrelation_warmup"),
    ],
)
def test_bad_trainer_parameters_are_refused(
    toy: dict, parameter: str, value: object, message: str
) -> None:
    settings = {**SETTINGS, parameter: value}
    graphs = toy["graphs"].take(np.arange(100))
    with pytest.raises(UsageError, match=message):
        FilterTrainer(**settings).fit(graphs, toy["truth"]["passed"][:100])


def test_a_warmup_longer_than_training_is_refused_with_decorrelation(toy: dict) -> None:
    graphs = toy["graphs"].take(np.arange(100))
    passed, x = toy["truth"]["passed"][:100], toy["truth"]["m_vis"][:100]
    settings = {**SETTINGS, "decorrelation_warmup": 30, "max_epochs": 20}
    with pytest.raises(UsageError, match="decorrelation_warmup"):
        FilterTrainer(**settings, decorrelation=0.5).fit(graphs, passed, x)


def test_cuda_is_refused_without_a_device(toy: dict) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    graphs = toy["graphs"].take(np.arange(100))
    with pytest.raises(UsageError, match="CUDA"):
        FilterTrainer(**SETTINGS, device="cuda").fit(graphs, toy["truth"]["passed"][:100])


def test_set_params_and_repr() -> None:
    trainer = FilterTrainer().set_params(decorrelation=2.0)
    assert repr(trainer) == "FilterTrainer(decorrelation=2.0)"
    with pytest.raises(UsageError, match="no parameter"):
        trainer.set_params(lambda_=1.0)


def test_auc_by_hand() -> None:
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert np.isnan(auc(np.array([0.5]), np.array([1])))


def test_the_trained_filter_with_weights_is_unbiased(toy: dict) -> None:
    """The real use: the trained graph network as the keep probability on fresh toy events;
    the weighted passing events agree with the truth per bin of m_vis, and in total. (That the
    same test fails without the weights is shown with a filter of known dependence on x in
    tests/test_importance.py; this small filter sculpts m_vis too little to show it here.)"""
    from recast.events.importance import importance_sample
    from recast.train.filter.merit import bias_table, quantile_edges

    events, truth = decay_tree_events(15000, seed=11)
    p = toy["plain"].predict(events)
    sample = importance_sample(p, 0.05, seed=5, event_number=events.event_number.to_numpy())
    passed, m_vis = truth["passed"], truth["m_vis"]
    table = bias_table(m_vis, passed, sample, quantile_edges(m_vis[passed], 8))
    assert table["weighted_vs_truth"]["ndf"] == 8
    # measured (see SETTINGS): p-value 0.09-0.46, (total - truth) / error -1.15 to -0.08,
    # kept fraction 0.102-0.136
    assert table["weighted_vs_truth"]["p_value"] > 0.01
    total, error = sum(table["weighted"]), np.sqrt(np.sum(np.square(table["weighted_error"])))
    assert abs(total - passed.sum()) < 3 * error
    assert sample.kept_fraction < 0.3  # and it does filter
