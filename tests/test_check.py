"""`recast card check` and card meaning checks: every bad card gives a clear, complete error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import CardCheckError, DigestMismatchError
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.export import export_onnx_file
from recast.preserve.session import NetworkSession

from .conftest import feature, linear_onnx


def template(n_features: int = 3) -> dict:
    return {
        "name": "small",
        "description": "three scalars",
        "inputs": [
            {
                "name": "x",
                "layout": "flat",
                "features": [
                    feature(i, f"v{i}", {"attribute": f"v{i}"}) for i in range(n_features)
                ],
            }
        ],
        "outputs": [{"name": "y", "columns": [{"index": 0, "label": "score"}]}],
        "provenance": {"analysis_id": "TEST"},
    }


@pytest.fixture
def card_path(tmp_path: Path) -> Path:
    linear_onnx(tmp_path / "net.onnx", 3)
    return Path(export_onnx_file(tmp_path / "net.onnx", template(), tmp_path / "out").source)


def edit(path: Path, change) -> Path:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def test_a_good_card_passes(card_path: Path) -> None:
    report = check_card(card_path)
    assert len(report.checked) == 5  # digest, checker, nodes, references, activations
    assert report.checked[-1] == "small.onnx: output activations agree with the graph"


def test_tampered_onnx_is_a_digest_mismatch(card_path: Path) -> None:
    onnx_path = card_path.parent / "small.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    with pytest.raises(CardCheckError, match=r"sha256 is [0-9a-f]{64} but files\[0\]\.sha256"):
        check_card(card_path)
    with pytest.raises(DigestMismatchError, match="modified or replaced"):
        NetworkSession(NetworkCard.load(card_path))


def test_input_count_disagreeing_with_the_graph(tmp_path: Path) -> None:
    linear_onnx(tmp_path / "net.onnx", 4)
    path = Path(export_onnx_file(tmp_path / "net.onnx", template(4), tmp_path / "out").source)

    def drop_feature(card: dict) -> None:
        card["inputs"][0]["features"].pop()
        card["inputs"][0]["shape"] = [None, 3]

    edit(path, drop_feature)
    with pytest.raises(CardCheckError) as caught:
        check_card(path)
    message = str(caught.value)
    assert "inputs[0].shape[1] is 3 but the graph's 'x' has 4 (features along axis 1)" in message


def test_wrong_dtype_and_wrong_node_name_are_both_listed(card_path: Path) -> None:
    def break_two_things(card: dict) -> None:
        card["inputs"][0]["dtype"] = "float64"
        card["outputs"][0]["name"] = "dense_9"
        reference = card["files"][0]["references"][0]
        reference["outputs"]["dense_9"] = reference["outputs"].pop("y")

    edit(card_path, break_two_things)
    with pytest.raises(CardCheckError) as caught:
        check_card(card_path)
    problems = caught.value.problems
    assert len(problems) == 3  # dtype, output name, and references that cannot be run
    assert "inputs[0].dtype is 'float64' but the graph's 'x' is 'float32'" in problems[0]
    assert "outputs[0].name 'dense_9' is not a graph output; the graph has ['y']" in problems[1]


def test_reference_vectors_not_reproduced(card_path: Path) -> None:
    def shift_outputs(card: dict) -> None:
        reference = card["files"][0]["references"][0]
        reference["outputs"]["y"][2][0] += 0.01

    edit(card_path, shift_outputs)
    with pytest.raises(
        CardCheckError, match=r"output 'y' not reproduced: \|difference\| up to 0\.01"
    ):
        check_card(card_path)


def test_semantic_problems_of_a_card(card_path: Path) -> None:
    document = json.loads(card_path.read_text())
    features = document["inputs"][0]["features"]
    features[2]["index"] = 7
    features[1]["source"] = {
        "collection": "jets",
        "attribute": "pt",
        "position": 3,
        "ordering": "as_given",
        "max_count": 2,
    }
    features[0]["angle_range"] = "[0, 2pi)"
    document["files"][0]["references"][0]["inputs"]["x_typo"] = [[0.0]]
    document["files"].append(dict(document["files"][0], applies_to={"modulus": 2, "remainder": 1}))
    with pytest.raises(CardCheckError) as caught:
        NetworkCard(document, card_path)
    text = str(caught.value)
    assert "inputs[0].features: indices must be 0..2 once each, got [0, 1, 7]" in text
    assert "inputs[0].features[1].source.position 3 is not below max_count 2" in text
    assert "inputs[0].features[1]: an object slot needs 'padding'" in text
    assert "inputs[0].features[0].angle_range is set but the unit is '1'" in text
    assert "with several files each needs applies_to" in text
    assert "files[0].references[0].inputs names 'x_typo', which is not an input node" in text


def test_folds_must_cover_every_event(card_path: Path) -> None:
    document = json.loads(card_path.read_text())
    first = document["files"][0]
    document["files"] = [dict(first, applies_to={"modulus": 3, "remainder": r}) for r in (0, 2)]
    with pytest.raises(CardCheckError, match=r"remainders \[0, 2\] must cover 0\.\.2 once each"):
        NetworkCard(document, card_path)


def test_cli_check_exit_codes_and_messages(card_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["card", "check", str(card_path)])
    assert ok.exit_code == 0
    assert "passes every check" in ok.output
    edit(card_path, lambda card: card.update(schema_version="0.1"))
    bad = runner.invoke(cli, ["card", "check", str(card_path)])
    assert bad.exit_code == 1
    assert bad.output.startswith(f"error: {card_path}: field 'schema_version' is '0.1'")
    assert "Traceback" not in bad.output
    missing = runner.invoke(cli, ["card", "check", str(card_path.parent / "nope.json")])
    assert missing.exit_code == 2
    assert "nope.json: no such file" in missing.output


def test_cli_show_prints_every_feature(card_path: Path) -> None:
    result = CliRunner().invoke(cli, ["card", "show", str(card_path)])
    assert result.exit_code == 0, result.output
    for text in ("network card small", "v0", "v2", "small.onnx", "onnxruntime"):
        assert text in result.output
