"""The config behind `recast train surrogate CONFIG`: validated by the schema train-surrogate,
every problem listed at once; a config trains from Parquet and writes map, card, report, plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awkward as ak
import pytest

pytest.importorskip("torch")

from recast.errors import InvalidDocumentError, UnknownSchemaVersionError
from recast.preserve.check import check_card
from recast.schema import schemas_root
from recast.train import SurrogateTrainer, train_surrogate
from recast.train.surrogate.samples import SYNTHETIC, flavoured

from .trainers import run_config, write_parquet_sample


def test_a_config_that_is_not_a_mapping_or_of_an_unknown_version(tmp_path: Path) -> None:
    with pytest.raises(InvalidDocumentError, match="expected a JSON object"):
        train_surrogate(["output"], tmp_path / "train.json")  # type: ignore[arg-type]
    with pytest.raises(UnknownSchemaVersionError, match=r"'9\.9\.9'.*known versions: 1\.0\.0"):
        train_surrogate({"schema_version": "9.9.9", "output": "m"}, tmp_path / "train.json")


def test_the_schema_lists_every_trainer_parameter_and_process() -> None:
    schema = json.loads((schemas_root() / "1.0.0" / "train-surrogate.json").read_text())
    assert set(schema["$defs"]["trainer"]["properties"]) == set(SurrogateTrainer().get_params())
    assert schema["$defs"]["sample"]["properties"]["synthetic"]["enum"] == sorted(SYNTHETIC)


def test_a_config_trains_from_a_parquet_file(tmp_path: Path) -> None:
    sample = flavoured(300, seed=41, score_seed=3)
    write_parquet_sample(sample.events, sample.score, "dl1r", tmp_path / "train.parquet")
    config = {
        "schema_version": "1.0.0",
        "output": "maps",
        "name": "dl1r",
        "threshold": 0.7,
        "train": {"parquet": "train.parquet", "score": "dl1r", "weight": "weight"},
        "held_out": [{"synthetic": "flavoured", "events": 200, "seed": 3, "score_seed": 9}],
        "trainer": {"n_models": 2, "max_epochs": 2, "hidden": 8, "device": "cpu"},
        "check": {"seed": 2, "pt_edges": [20.0, 60.0, 2000.0], "min_objects": 10},
        "plot": True,
    }
    study = run_config(train_surrogate, config, tmp_path)
    assert study.folder == tmp_path / "maps"
    assert sorted(p.name for p in study.folder.iterdir()) == [
        "dl1r.card.json",
        "dl1r.json",
        "dl1r.onnx",
        "surrogate_closure.png",
        "surrogate_report.json",
    ]
    report = json.loads(study.report_path.read_text())
    assert report["kind"] == "surrogate-closure-report" and report["seed"] == 2
    assert [r["pt"] for r in report["samples"][0]["tables"]["pt"]] == [[20, 60], [60, 2000]]
    assert report["training"]["events"] == 300 and report["training"]["device"] == "cpu"
    summary = study.summary()
    assert set(summary["closure"]["flavoured"]) == {"pt", "pt_flavour", "dr_flavour"}
    assert summary["support"]["flavoured"]["outside_validity"] < 0.05
    json.dumps(summary)  # printable as it is
    check_card(study.card)


def test_a_parquet_sample_without_the_score_field(tmp_path: Path) -> None:
    sample = flavoured(20, seed=41, score_seed=3)
    ak.to_parquet(sample.events[["event_number", "jets"]], tmp_path / "train.parquet")
    config: dict[str, Any] = {
        "output": "maps",
        "train": {"parquet": "train.parquet", "score": "dl1r"},
    }
    with pytest.raises(KeyError, match="score field 'dl1r'"):
        train_surrogate(config, tmp_path / "train.json")
    config["train"]["parquet"] = "absent.parquet"
    with pytest.raises(FileNotFoundError, match=r"absent\.parquet: no such file"):
        train_surrogate(config, tmp_path / "train.json")
