"""`recast train efficiency|surrogate`: a bad config (JSON or YAML) gives every problem with
its path and exit code 1; the configs' schemas list every trainer parameter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import InvalidDocumentError


@pytest.mark.parametrize(
    ("kind", "name", "text", "expected"),
    [
        (
            "efficiency",
            "train.json",
            json.dumps({"train": {}}),
            ["2 problem(s)", "at output: missing", "give exactly one of 'synthetic' or 'parquet'"],
        ),
        (
            "surrogate",
            "train.yaml",
            "output: maps\ntrain: {synthetic: flavoured, events: 10, seed: 1}\n",
            ["1 problem(s)", "at train: a synthetic sample needs 'score_seed'"],
        ),
    ],
)
def test_a_bad_training_config_lists_every_problem(
    tmp_path: Path, kind: str, name: str, text: str, expected: list[str]
) -> None:
    config = tmp_path / name
    config.write_text(text)
    result = CliRunner().invoke(cli, ["train", kind, str(config)])
    assert result.exit_code == 1
    for words in expected:
        assert words in result.output, result.output


#: configs with many mistakes, and words of the problems each must list (all at once)
MISTAKES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "efficiency": (
        {
            "outptu": "maps",
            "train": {"synthetic": "proximty", "events": 10, "seed": 1},
            "held_out": [{"parquet": "x.parquet"}],
            "trainer": {"n_model": 2},
            "min_objects": "many",
        },
        [
            "at outptu: unknown key. Did you mean 'output'",
            "at output: missing",
            "at train.synthetic: unknown process",
            "a synthetic sample needs 'tag_seed'",
            "at held_out[0]: a parquet sample needs 'tag'",
            "at trainer.n_model: unknown parameter. Did you mean 'n_models'?",
            "at min_objects: expected int, got 'many'",
        ],
    ),
    "surrogate": (
        {
            "outptu": "maps",
            "train": {"synthetic": "flavored", "events": 10, "seed": 1},
            "held_out": [
                {"parquet": "x.parquet"},
                {"parquet": "y.parquet", "synthetic": "outside"},
            ],
            "trainer": {"n_model": 2, "score_edges": [0, 1], "device": "gpu"},
            "check": {"pt_edge": [20, 100]},
            "threshold": "0.7",
        },
        [
            "at outptu: unknown key. Did you mean 'output'",
            "at output: missing",
            "at train.synthetic: unknown process; known: ['flavoured', 'outside']",
            "at train: a synthetic sample needs 'score_seed'",
            "at held_out[0]: a parquet sample needs 'score'",
            "at held_out[1]: give exactly one of 'synthetic' or 'parquet'",
            "at trainer.n_model: unknown parameter. Did you mean 'n_models'?",
            "at trainer.score_edges: [0, 1] is too short",
            "at trainer.device: 'gpu' does not match",
            "at check.pt_edge: unknown key. Did you mean 'pt_edges'?",
            "at threshold: expected float, got '0.7'",
            "15 problem(s)",  # held_out[1] also lacks events, seeds and score
        ],
    ),
}


@pytest.mark.parametrize("kind", sorted(MISTAKES))
def test_a_config_with_mistakes_lists_them_all(tmp_path: Path, kind: str) -> None:
    pytest.importorskip("torch")
    from recast.train import train_efficiency, train_surrogate

    run = {"efficiency": train_efficiency, "surrogate": train_surrogate}[kind]
    config, expected = MISTAKES[kind]
    with pytest.raises(InvalidDocumentError) as error:
        run(config, tmp_path / "train.json")
    message = str(error.value)
    for words in expected:
        assert words in message, message


def test_the_efficiency_schema_lists_every_trainer_parameter_and_process() -> None:
    pytest.importorskip("torch")
    from recast.schema import schemas_root
    from recast.train import EfficiencyMapTrainer
    from recast.train.efficiency.samples import SYNTHETIC

    schema = json.loads((schemas_root() / "1.0.0" / "train-efficiency.json").read_text())
    trainer = set(schema["$defs"]["trainer"]["properties"])
    assert trainer == set(EfficiencyMapTrainer().get_params())
    assert schema["$defs"]["sample"]["properties"]["synthetic"]["enum"] == sorted(SYNTHETIC)


def test_the_efficiency_schema_checks_trainer_types(tmp_path: Path) -> None:
    config = tmp_path / "train.json"
    config.write_text(
        json.dumps(
            {
                "output": "maps",
                "train": {"synthetic": "proximity", "events": 10, "seed": 1, "tag_seed": 2},
                "trainer": {"n_models": 0, "negative_weights": "abs", "neighbour_reach": "far"},
            }
        )
    )
    result = CliRunner().invoke(cli, ["train", "efficiency", str(config)])
    assert result.exit_code == 1
    assert "at trainer.n_models: 0 is less than the minimum of 1" in result.output
    assert "at trainer.negative_weights: 'abs' is not allowed; known: ['signed'" in result.output
    assert "at trainer.neighbour_reach: expected float or null, got 'far'" in result.output


def test_yaml_configs_that_are_broken_or_absent(tmp_path: Path) -> None:
    config = tmp_path / "train.yml"
    config.write_text("output: [maps\n")
    result = CliRunner().invoke(cli, ["train", "surrogate", str(config)])
    assert result.exit_code != 0 and "not valid YAML" in result.output
    result = CliRunner().invoke(cli, ["train", "surrogate", str(tmp_path / "absent.yaml")])
    assert result.exit_code != 0 and "absent.yaml: no such file" in result.output
    result = CliRunner().invoke(cli, ["train", "surrogate", str(tmp_path / "absent.json")])
    assert result.exit_code != 0 and "absent.json: no such file" in result.output


@pytest.mark.slow
def test_recast_train_surrogate_writes_the_study(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    config = tmp_path / "train.yaml"
    config.write_text(
        "output: maps\n"
        "name: dl1r\n"
        "threshold: 0.7\n"
        "train: {synthetic: flavoured, events: 300, seed: 1, score_seed: 2}\n"
        "held_out: [{synthetic: outside, events: 50, seed: 3, score_seed: 4}]\n"
        "trainer: {n_models: 2, max_epochs: 2, hidden: 8}\n"
        "plot: false\n"
    )
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(cli, ["train", "surrogate", str(config), "-o", str(summary)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == json.loads(summary.read_text())
    assert printed["files"]["map"] == str(tmp_path / "maps" / "dl1r.json")
    assert printed["support"]["outside"]["outside_validity"] == 1.0
    result = CliRunner().invoke(cli, ["card", "check", str(tmp_path / "maps" / "dl1r.card.json")])
    assert result.exit_code == 0, result.output
