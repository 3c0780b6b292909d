"""`recast train filter CONFIG`: the config schema, its errors, and a small study end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.schema import schemas_root

torch = pytest.importorskip("torch")

import recast.commands.train_filter  # noqa: E402, F401  (registers `recast train filter`)
from recast.errors import (  # noqa: E402
    InvalidDocumentError,
    UnknownSchemaVersionError,
    UsageError,
)
from recast.preserve.check import check_card  # noqa: E402
from recast.train.filter.study import train_filter  # noqa: E402
from recast.train.filter.trainer import FilterTrainer  # noqa: E402

SMALL = {
    "output": "out",
    "name": "toy_filter",
    "sample": {"synthetic": "decay_tree", "events": 400, "seed": 1},
    "graph": {"max_particles": 24},
    "decorrelate": "m_vis",
    "decorrelation": 0.3,
    "trainer": {"max_epochs": 3, "decorrelation_warmup": 1, "hidden": 8, "depth": 1},
    "importance": {"p_min": 0.1, "seed": 3},
    "downstream": [{"label": "assumed", "seconds": 0.1}],
    "bias": {"variables": ["m_vis", "n_particles"], "bins": 4},
}


def test_the_schema_lists_every_trainer_parameter() -> None:
    schema = json.loads((schemas_root() / "1.0.0" / "train-filter.json").read_text())
    listed = set(schema["$defs"]["trainer"]["properties"])
    # the graph slots and λ have their own places in the config
    assert listed == set(FilterTrainer().get_params()) - {
        "max_particles",
        "ordering",
        "decorrelation",
    }


def test_a_small_study_from_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "filter.json"
    config.write_text(json.dumps(SMALL))
    summary_path = tmp_path / "summary.json"
    result = CliRunner().invoke(
        cli, ["train", "filter", str(config), "-o", str(summary_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(summary_path.read_text())
    assert set(summary["models"]) == {"plain", "dcorr"}
    for card in summary["cards"].values():
        check_card(card)
    report = json.loads((tmp_path / "out" / "toy_filter_report.json").read_text())
    assert report["events"] == {"train": 200, "test": 200}
    model = report["models"]["dcorr"]
    assert model["decorrelation"] == 0.3
    assert set(model["bias"]) == {"m_vis", "n_particles"}
    scenario = model["importance"]["scenarios"][0]
    assert scenario["label"] == "assumed" and scenario["timing"]["downstream"] == 0.1
    assert scenario["timing"]["downstream_source"] == "assumed"
    assert 0 < scenario["kept_fraction"] <= 1
    p_mins = [row["p_min"] for row in model["importance"]["p_min_scan"]]
    assert p_mins == sorted(p_mins) and 0.1 in p_mins and 1.0 in p_mins
    # p_min = 1 keeps every event with weight 1: the speed-up can only be a loss
    assert model["importance"]["p_min_scan"][-1]["kept_fraction"] == 1.0
    assert model["importance"]["p_min_scan"][-1]["effective_speed_up"]["assumed"] < 1.0


def test_plots_are_written_when_asked(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    config = tmp_path / "filter.json"
    config.write_text(json.dumps({**SMALL, "decorrelation": 0.0, "plot": True}))
    study = train_filter(json.loads(config.read_text()), config)
    assert [p.name for p in study.plots] == ["toy_filter_bias.png", "toy_filter_speed_up.png"]
    assert all(p.stat().st_size > 1000 for p in study.plots)
    assert set(study.report["models"]) == {"plain"}


def test_a_bad_config_lists_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "filter.json"
    bad = {
        "sample": {"synthetic": "higgs", "events": 5},
        "decorrelation": -1,
        "trainer": {"max_epoch": 3},
        "graph": {"ordering": "energy"},
    }
    config.write_text(json.dumps(bad))
    result = CliRunner().invoke(cli, ["train", "filter", str(config)])
    assert result.exit_code == 1
    assert "at decorrelate: missing" in result.output
    assert "at decorrelation" in result.output
    assert "at trainer.max_epoch: unknown key" in result.output
    assert "max_epochs" in result.output  # the suggestion
    assert "at graph.ordering: 'energy' is not allowed" in result.output


def test_a_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "filter", str(tmp_path / "nope.json")])
    assert result.exit_code != 0
    assert "nope.json: no such file" in result.output


def test_an_unknown_variable_is_named_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"'m_viz'.*m_vis"):
        train_filter({**SMALL, "decorrelate": "m_viz"}, tmp_path / "filter.json")
    with pytest.raises(UsageError, match=r"bias.variables names 'ht'"):
        train_filter({**SMALL, "bias": {"variables": ["ht"]}}, tmp_path / "filter.json")


def test_a_measured_downstream_needs_a_real_chain(tmp_path: Path) -> None:
    config = {**SMALL, "downstream": [{"label": "chain", "measured": True}]}
    with pytest.raises(UsageError, match="synthetic sample has no downstream chain"):
        train_filter(config, tmp_path / "filter.json")


def test_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownSchemaVersionError, match=r"9\.9\.9"):
        train_filter({**SMALL, "schema_version": "9.9.9"}, tmp_path / "filter.json")


def test_a_downstream_scenario_needs_one_kind_of_cost(tmp_path: Path) -> None:
    config = {**SMALL, "downstream": [{"label": "x", "seconds": 1.0, "generation_factor": 3}]}
    with pytest.raises(InvalidDocumentError, match="downstream"):
        train_filter(config, tmp_path / "filter.json")


def test_sample_specs_are_checked_before_any_generation() -> None:
    from recast.train.filter.samples import load_sample, pythia_sample

    with pytest.raises(UsageError, match=r"unknown field\(s\) \['min_bjets'\]"):
        pythia_sample(["Top:gg2ttbar = on"], 10, 1, 100, "pt", selection={"min_bjets": 2})
    with pytest.raises(UsageError, match="give 'synthetic' or 'pythia'"):
        load_sample({"events": 10}, 100, "pt")
    with pytest.raises(UsageError, match="choose one of"):
        load_sample({"synthetic": "higgs", "events": 10}, 100, "pt")
    with pytest.raises(UsageError, match=r"events must be an integer ≥ 10"):
        load_sample({"synthetic": "decay_tree", "events": 3}, 100, "pt")


def test_a_test_fraction_that_leaves_no_events_is_refused(tmp_path: Path) -> None:
    config = {**SMALL, "sample": {"synthetic": "decay_tree", "events": 10}, "test_fraction": 0.01}
    with pytest.raises(UsageError, match="test_fraction leaves no events"):
        train_filter(config, tmp_path / "filter.json")


@pytest.mark.parametrize("where", ["fail", "all"])
def test_the_penalty_can_be_taken_on_other_events(where: str) -> None:
    from recast.train.filter.toy import decay_tree_events

    events, truth = decay_tree_events(300, seed=2)
    trainer = FilterTrainer(
        max_particles=24, max_epochs=2, decorrelation=0.5, decorrelation_warmup=0, hidden=8
    )
    trainer.set_params(decorrelate_on=where).fit(events, truth["passed"], truth["m_vis"])
    assert len(trainer.history_.validation_loss) == 2
    assert np.isfinite(trainer.history_.validation_loss).all()


def test_a_yaml_config_runs_like_json(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    config = tmp_path / "filter.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "decorrelation": 0.0}))
    result = CliRunner().invoke(cli, ["train", "filter", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["models"]["plain"]["decorrelation"] == 0.0
