"""Catalogue of bad training configs (`recast train efficiency|surrogate|filter CONFIG`).

Every config is refused before any sample is made or any network trained (a config value the
schema cannot judge: NaN, edges out of order, a count that would train until killed, a variable
the sample will not have), and a study that fails late leaves the output folder as it was.
Each case runs the real command line from a folder holding only the config (and its sample
file), and asserts the exit code, the message's words and that nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recast.errors import UsageError
from recast.train.core.staging import staged

from . import assert_refused, invoke

NAN = float("nan")

EFFICIENCY: dict[str, Any] = {
    "output": "maps",
    "name": "btag",
    "train": {"synthetic": "boosted_pair", "events": 100, "seed": 3, "tag_seed": 9},
    "held_out": [{"synthetic": "boosted_pair", "events": 100, "seed": 4, "tag_seed": 9}],
    "trainer": {"n_models": 1, "max_epochs": 1, "hidden": 4, "depth": 1, "device": "cpu"},
    "binned_axes": [{"variable": "pt", "unit": "GeV", "edges": [20, 40, 70, 120, 250, 2000]}],
    "min_objects": 10,
    "plot": False,
}
SURROGATE: dict[str, Any] = {
    "output": "smaps",
    "name": "sur",
    "threshold": 0.7,
    "train": {"synthetic": "flavoured", "events": 50, "seed": 1, "score_seed": 2},
    "held_out": [{"synthetic": "flavoured", "events": 50, "seed": 3, "score_seed": 4}],
    "trainer": {"n_models": 1, "max_epochs": 1, "hidden": 4, "depth": 1, "device": "cpu"},
    "check": {"seed": 1, "pt_edges": [20, 70, 2000], "min_objects": 5},
    "plot": False,
}
FILTER: dict[str, Any] = {
    "output": "fout",
    "name": "f",
    "sample": {"synthetic": "decay_tree", "events": 40, "seed": 1},
    "graph": {"max_particles": 24},
    "decorrelate": "m_vis",
    "decorrelation": 0.3,
    "trainer": {"max_epochs": 2, "decorrelation_warmup": 1, "hidden": 4, "depth": 1},
    "downstream": [{"label": "assumed", "seconds": 0.1}],
    "bias": {"variables": ["m_vis"], "bins": 2},
}
BASES = {"efficiency": EFFICIENCY, "surrogate": SURROGATE, "filter": FILTER}


def config(folder: Path, kind: str, **changes: Any) -> Path:
    """``train.json`` in ``folder``: the kind's small valid config with ``changes`` (a dotted
    key changes a nested value)."""
    document = json.loads(json.dumps(BASES[kind]))
    for key, value in changes.items():
        *parents, last = key.split(".")
        block = document
        for parent in parents:
            block = block[int(parent)] if isinstance(block, list) else block.setdefault(parent, {})
        block[last] = value
    path = folder / "train.json"
    path.write_text(json.dumps(document))  # NaN written as JSON's NaN
    return path


def test_train_filter_refuses_graphs_too_large_to_ship_before_training(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    config(tmp_path, "filter", **{"graph.max_particles": 2000})
    # it trained for minutes and was refused only when its card was exported
    assert_refused(
        ["train", "filter", "train.json"],
        tmp_path,
        ["max_particles=2000", "1000000", "choose max_particles ≤ 995"],
        exit_code=2,
    )


# -- efficiency ---------------------------------------------------------------------------------
def test_a_training_sample_that_is_no_parquet_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_text("not parquet\n")
    config(tmp_path, "efficiency", train={"parquet": "fake.parquet", "tag": "btag"})
    assert_refused(
        ["train", "efficiency", "train.json"],
        tmp_path,
        ["fake.parquet", "not a Parquet file", "train.parquet", "ak.to_parquet"],
        exit_code=2,
    )


def test_a_held_out_sample_that_is_no_parquet_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_bytes(b"PAR1" + bytes(20))
    config(tmp_path, "efficiency", held_out=[{"parquet": "fake.parquet", "tag": "btag"}])
    assert_refused(
        ["train", "efficiency", "train.json"],
        tmp_path,
        ["fake.parquet", "not a Parquet file", "held_out[0].parquet"],
        exit_code=2,
    )


@pytest.mark.parametrize(
    ("edges", "words"),
    [
        ([20, 70, 40], ["binned_axes[0].edges", "increase strictly", "70", "40"]),
        ([20, 70, 70, 120], ["binned_axes[0].edges", "increase strictly", "drop repeats"]),
        ([20, NAN, 70], ["binned_axes[0].edges[1]", "nan", "finite"]),
        ([20, 70, float("inf")], ["binned_axes[0].edges[2]", "inf", "finite"]),
    ],
)
def test_binned_edges_must_be_finite_and_increasing(
    tmp_path: Path, edges: list[float], words: list[str]
) -> None:
    config(tmp_path, "efficiency", binned_axes=[{"variable": "pt", "unit": "GeV", "edges": edges}])
    assert_refused(["train", "efficiency", "train.json"], tmp_path, words, exit_code=1)


def test_an_empty_bin_is_refused_before_training_and_leaves_nothing(tmp_path: Path) -> None:
    """pT of the boosted pair stays well below 2 TeV: the bin [2000, 9000) is empty."""
    edges = [20, 40, 70, 120, 250, 2000, 9000]
    config(tmp_path, "efficiency", binned_axes=[{"variable": "pt", "unit": "GeV", "edges": edges}])
    assert_refused(
        ["train", "efficiency", "train.json"],
        tmp_path,
        ["pt [2000, 9000)", "hold no objects", "binned_axes", "merge"],
        exit_code=2,
    )


#: (key, value, words) of efficiency configs refused with exit code 1: counts are bounded,
#: numbers finite
EFFICIENCY_VALUES = [
    ("trainer.n_models", 1_000_000_000, ["trainer.n_models", "at most 100"]),
    ("trainer.max_epochs", 10**7, ["trainer.max_epochs", "at most 10000"]),
    ("trainer.hidden", 10**6, ["trainer.hidden", "at most 4096"]),
    ("trainer.batch_size", 10**9, ["trainer.batch_size", "at most"]),
    ("train.events", 10**10, ["train.events", "at most 10000000"]),
    ("held_out.0.events", 10**10, ["held_out[0].events", "at most"]),
    ("trainer.learning_rate", NAN, ["trainer.learning_rate", "finite"]),
    ("trainer.neighbour_reach", NAN, ["trainer.neighbour_reach", "finite"]),
    ("trainer.validation_fraction", NAN, ["trainer.validation_fraction", "finite"]),
    ("trainer.weight_decay", float("inf"), ["trainer.weight_decay", "finite"]),
]


def test_a_late_failure_leaves_the_output_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The maps and card of a study are staged: a failure after training (here: the plot)
    removes them, and the files of an earlier study in the folder stay."""
    import recast.train.efficiency.study

    def broken(*args: Any, **kwargs: Any) -> Path:
        raise UsageError("the plot could not be drawn")

    monkeypatch.setattr(recast.train.efficiency.study, "plot_closure", broken)
    config(tmp_path, "efficiency", plot=True)
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "btag_learned.json").write_text('{"earlier": "study"}\n')
    assert_refused(["train", "efficiency", "train.json"], tmp_path, ["plot could not"], exit_code=2)


def test_staged_files_move_only_when_the_block_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    with pytest.raises(RuntimeError), staged(out) as stage:
        (stage.path / "a.json").write_text("{}")
        raise RuntimeError("late")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no staging left
    with staged(out) as stage:
        (stage.path / "a.json").write_text("{}")
        assert stage.relocate({"source": str(stage.path / "a.json")}) == {
            "source": str(out.resolve() / "a.json")
        }
    assert [p.name for p in out.iterdir()] == ["a.json"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["out"]


# -- surrogate ----------------------------------------------------------------------------------
#: (key, value, words, exit code) of surrogate configs refused before any sample is drawn
SURROGATE_VALUES = [
    ("trainer.score_edges", [0, 0.5, 0.4, 1], ["trainer.score_edges", "increase"], 1),
    ("trainer.score_edges", [0, NAN, 1], ["trainer.score_edges[1]", "finite"], 1),
    ("check.pt_edges", [20, 2000, 70], ["check.pt_edges", "increase"], 1),
    ("check.pt_edges", [20, NAN], ["check.pt_edges[1]", "finite"], 1),
    ("threshold", NAN, ["threshold", "finite"], 1),
    ("threshold", 2.0, ["train.json", "threshold 2", "outside score_edges"], 2),
    ("trainer.n_models", 10**6, ["trainer.n_models", "at most 100"], 1),
    ("train.events", 10**9, ["train.events", "at most"], 1),
]


def test_a_surrogate_without_held_out_samples_says_it_is_unchecked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty held-out set is legitimate (a first look, a sample too small to split), but
    the map is then written without its closure check: a warning says so."""
    config(tmp_path, "surrogate", held_out=[])
    result = invoke(["train", "surrogate", "train.json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "no held_out sample: the surrogate is written without a closure check" in caplog.text
    assert (tmp_path / "smaps" / "sur.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".recast-staging")]


# -- filter -------------------------------------------------------------------------------------
#: (key, value, words, exit code) of filter configs refused before the sample is made
FILTER_VALUES = [
    ("decorrelation", NAN, ["decorrelation", "nan", "finite"], 1),
    ("decorrelation", float("inf"), ["decorrelation", "finite"], 1),
    ("bias", {"variables": ["nope"]}, ["bias.variables names 'nope'", "m_vis"], 2),
    ("decorrelate", "m_viz", ["decorrelate is 'm_viz'", "m_vis"], 2),
    (
        "downstream",
        [{"label": "chain", "measured": True}],
        ["downstream[0]", "no downstream chain", "seconds"],
        2,
    ),
    ("test_fraction", 0.01, ["test_fraction leaves no events", "40"], 2),
    ("trainer.max_epochs", 10**8, ["trainer.max_epochs", "at most"], 1),
    ("trainer.embedding", 10**6, ["trainer.embedding", "at most 1024"], 1),
    ("trainer.learning_rate", NAN, ["trainer.learning_rate", "finite"], 1),
    ("sample.events", 10**9, ["sample.events", "at most 10000000"], 1),
    ("importance.p_min", NAN, ["importance.p_min", "finite"], 1),
    ("downstream", [{"label": "x", "seconds": NAN}], ["downstream[0].seconds", "finite"], 1),
    ("bias.bins", 10**6, ["bias.bins", "at most 1000"], 1),
]


@pytest.mark.parametrize(
    ("kind", "key", "value", "words", "code"),
    [("efficiency", *case, 1) for case in EFFICIENCY_VALUES]
    + [("surrogate", *case) for case in SURROGATE_VALUES]
    + [("filter", *case) for case in FILTER_VALUES],
)
def test_config_values_are_checked_before_any_sample(
    tmp_path: Path, kind: str, key: str, value: Any, words: list[str], code: int
) -> None:
    config(tmp_path, kind, **{key: value})
    assert_refused(["train", kind, "train.json"], tmp_path, words, exit_code=code)


def test_a_pythia_filter_config_names_an_unknown_variable_before_generating(
    tmp_path: Path,
) -> None:
    sample = {"pythia": ["Top:gg2ttbar = on"], "events": 20, "seed": 1}
    config(tmp_path, "filter", sample=sample, decorrelate="ht", bias={"variables": ["nope"]})
    assert_refused(
        ["train", "filter", "train.json"],
        tmp_path,
        ["bias.variables names 'nope'", "lepton_pt"],
        exit_code=2,
    )
