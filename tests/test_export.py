"""Export from torch and scikit-learn: ONNX + card reproduce the source framework."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import CardError
from recast.preserve.builder import InputBuilder
from recast.preserve.check import check_card
from recast.preserve.export import template_card
from recast.preserve.session import NetworkSession
from recast.toy import toy_events

from .conftest import feature

torch = pytest.importorskip("torch")
SLOTS = 4


def jets_in_mev_template() -> dict:
    """Four pT-ordered jets in MeV with per-feature padding, MET φ in [0, 2π)."""
    ordering = {"by": "pt", "descending": True}
    features = []
    pads = {"pt": 0.0, "eta": -5.0, "phi": 1e-7}
    for k in range(SLOTS):
        for attribute, unit in (("pt", "MeV"), ("eta", "1"), ("phi", "rad")):
            extra = {"padding": {"value": pads[attribute], "stage": "after_preprocessing"}}
            if attribute == "phi":
                extra["angle_range"] = "(-pi, pi]"
            features.append(
                feature(
                    len(features),
                    f"jet{k}_{attribute}",
                    {
                        "collection": "small_R_jets",
                        "attribute": attribute,
                        "position": k,
                        "ordering": ordering,
                        "max_count": SLOTS,
                    },
                    unit,
                    {
                        "formula": "(x - mean) / std",
                        "mean": 50_000.0 if unit == "MeV" else 0.0,
                        "std": 40_000.0 if unit == "MeV" else 1.5,
                    },
                    **extra,
                )
            )
    features.append(
        feature(
            len(features),
            "met_phi",
            {"collection": "met", "attribute": "phi"},
            "rad",
            {"formula": "(x - mean) / std", "mean": 3.14, "std": 1.8},
            angle_range="[0, 2pi)",
        )
    )
    return {
        "name": "jets_mev",
        "description": "test network on jets in MeV",
        "inputs": [{"name": "x", "layout": "flat", "features": features}],
        "outputs": [
            {"name": "score", "columns": [{"index": 0, "label": "signal", "activation": "sigmoid"}]}
        ],
        "provenance": {"analysis_id": "TEST"},
    }


class SmallNet(torch.nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.body = torch.nn.Sequential(
            torch.nn.Linear(width, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1), torch.nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@pytest.fixture(scope="module")
def events() -> ak.Array:
    return toy_events(400, seed=3)


def test_torch_export_reproduces_torch_on_events(tmp_path: Path, events: ak.Array) -> None:
    from recast.preserve.export import export_torch

    template = jets_in_mev_template()
    width = len(template["inputs"][0]["features"])
    net = SmallNet(width)
    card = export_torch(net, template, tmp_path)
    built = InputBuilder(card).build(events).at()["x"]
    # padding really happens in this sample, and pT arrives in MeV
    n_jets = ak.to_numpy(ak.num(events.small_R_jets))
    assert (n_jets < SLOTS).sum() > 20
    leading = ak.max(events.small_R_jets.pt, axis=1)
    has_jet = n_jets > 0
    leading = ak.to_numpy(ak.fill_none(leading, 0.0))
    np.testing.assert_allclose(
        built[has_jet, 0],
        (ak.to_numpy(leading[has_jet]) * 1000 - 50_000) / 40_000,
        rtol=1e-6,
        atol=1e-6,
    )
    assert np.all(built[n_jets < SLOTS, 3 * SLOTS - 1] == np.float32(1e-7))  # last φ slot padded
    with torch.no_grad():
        expected = net(torch.from_numpy(built)).numpy()[:, 0]
    scores = NetworkSession(card).evaluate(events)
    np.testing.assert_allclose(ak.to_numpy(scores.signal), expected, atol=1e-5, rtol=0)
    assert check_card(card.source).checked  # the exported card passes `card check`


def test_sklearn_export_reproduces_predict_proba(tmp_path: Path, events: ak.Array) -> None:
    pytest.importorskip("skl2onnx")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from recast.preserve.export import export_sklearn

    template = jets_in_mev_template()
    template["outputs"] = [
        {
            "name": "probabilities",
            "columns": [
                {"index": 0, "label": "background", "activation": "probability"},
                {"index": 1, "label": "signal", "activation": "probability"},
            ],
        }
    ]
    card_inputs = InputBuilder(template_card(template)).build(events).at()["x"]
    labels = (ak.to_numpy(events.met.pt) > 200).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    with warnings.catch_warnings():  # a few iterations are enough for this test
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(card_inputs, labels)
    card = export_sklearn(model, template, tmp_path)
    scores = NetworkSession(card).evaluate(events)
    expected = model.predict_proba(card_inputs)
    np.testing.assert_allclose(ak.to_numpy(scores.signal), expected[:, 1], atol=1e-5, rtol=0)
    np.testing.assert_allclose(ak.to_numpy(scores.background), expected[:, 0], atol=1e-5)
    assert card.document["files"][0]["references"][0]["computed_by"]["name"] == "scikit-learn"


def test_export_refuses_a_template_that_does_not_fit_the_model(tmp_path: Path) -> None:
    from recast.preserve.export import export_torch

    template = jets_in_mev_template()
    net = SmallNet(len(template["inputs"][0]["features"]) + 1)
    with pytest.raises(CardError, match="does not accept the inputs the template describes"):
        export_torch(net, template, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_cli_exports_torchscript_and_checks_it(tmp_path: Path) -> None:
    template = jets_in_mev_template()
    net = SmallNet(len(template["inputs"][0]["features"]))
    torch.jit.script(net).save(str(tmp_path / "net.pt"))
    (tmp_path / "template.json").write_text(json.dumps(template))
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "card",
            "export",
            str(tmp_path / "template.json"),
            "--model",
            str(tmp_path / "net.pt"),
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["card", "check", str(tmp_path / "out" / "jets_mev.card.json")])
    assert result.exit_code == 0, result.output
    assert "reference set(s) reproduced" in result.output


def test_cli_export_of_an_unknown_model_format(tmp_path: Path) -> None:
    (tmp_path / "template.json").write_text(json.dumps(jets_in_mev_template()))
    (tmp_path / "net.pkl").write_bytes(b"not a model")
    result = CliRunner().invoke(
        cli,
        [
            "card",
            "export",
            str(tmp_path / "template.json"),
            "--model",
            str(tmp_path / "net.pkl"),
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "unknown model format '.pkl'" in result.output
