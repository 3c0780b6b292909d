"""Bad options of run, validate, generate and train, and the command line's own contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from recast.events import slha

from . import assert_refused, invoke

ANALYSIS = "EXAMPLE_JETS_MET"


@pytest.fixture
def events(gtt, tmp_path: Path) -> Path:
    """15 generated events in the working folder."""
    return Path(shutil.copy(gtt.tiny_a, tmp_path / "events.hepmc"))


@pytest.mark.parametrize("xsec", ["12", "abcfb", "nanfb", "inffb", "0fb", "-5fb", "1e400fb"])
def test_run_refuses_a_cross_section_that_is_no_positive_number_with_a_unit(
    events: Path, xsec: str
) -> None:
    assert_refused(
        ["run", ANALYSIS, events.name, "--xsec", xsec],
        events.parent,
        ["--xsec", repr(xsec), "e.g. 12.3fb"],
        exit_code=2,
    )


@pytest.mark.parametrize("lumi", ["0", "-3", "nan", "inf"])
def test_run_refuses_a_luminosity_that_is_not_positive_and_finite(events: Path, lumi: str) -> None:
    assert_refused(
        ["run", ANALYSIS, events.name, "--lumi", lumi],
        events.parent,
        ["--lumi", "positive integrated luminosity"],
        exit_code=2,
    )


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--chunk-size", "0"], ["--chunk-size", "positive"]),
        (["--workers", "0"], ["--workers", "at least 1"]),
        # hundreds of local processes exhaust the machine before any work: refused at once
        (["--workers", "100000"], ["--workers 100000", "core(s)", "--scheduler"]),
        (["--option", "nope=3"], ["--option nope", "no such option", "nn_threshold"]),
        (["--option", "nn_threshold=abc"], ["--option nn_threshold", "expected a number"]),
        (["--option", "nn_threshold"], ["--option", "NAME=VALUE"]),
        (["--network", "nope=x.onnx"], ["--network nope", "no network 'nope'", "signal_mlp"]),
        (["--network", "signal_mlp=absent.onnx"], ["absent.onnx", "no such file"]),
        (["--detector", "nope"], ["--detector nope", "no detector 'nope'", "detectors"]),
        (["--detector", "events.hepmc"], ["--detector events.hepmc", "not valid JSON"]),
    ],
)
def test_run_refuses_bad_run_options_before_any_event(
    events: Path, option: list[str], words: list[str]
) -> None:
    assert_refused(["run", ANALYSIS, events.name, *option], events.parent, words)


def test_run_needs_an_input(tmp_path: Path) -> None:
    assert_refused(["run", ANALYSIS], tmp_path, ["no input", "--pythia-slha"], exit_code=2)


def test_run_in_process_generation_needs_a_number_of_events(tmp_path: Path) -> None:
    spectrum = slha.write_gluino_slha(tmp_path / "g.slha", 1200.0, 100.0, "ttbar")
    assert_refused(
        ["run", ANALYSIS, "--pythia-slha", spectrum.name],
        tmp_path,
        ["--pythia-slha needs --events"],
        exit_code=2,
    )


def test_validate_names_the_published_benchmarks(events: Path) -> None:
    assert_refused(
        ["validate", ANALYSIS, events.name, "--benchmark", "gtt_1300_100"],
        events.parent,
        ["no published cutflow for benchmark 'gtt_1300_100'", "gtt_1200_100"],
        exit_code=2,
    )


# -- generate ------------------------------------------------------------------------------
@pytest.fixture
def spectrum(tmp_path: Path) -> Path:
    return slha.write_gluino_slha(tmp_path / "g.slha", 1200.0, 100.0, "ttbar")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--events", "0"], ["--events 0", "at least 1"]),
        (["--events", "-5"], ["--events -5", "at least 1"]),
        (["--events", "5", "--seed", "-1"], ["seed -1", "1..900000000"]),
        (["--events", "5", "--seed", "900000001"], ["seed 900000001", "1..900000000"]),
    ],
)
def test_generate_refuses_counts_and_seeds_out_of_range(
    spectrum: Path, options: list[str], words: list[str]
) -> None:
    args = ["generate", "--slha", spectrum.name, "--seed", "3", *options, "-o", "out.hepmc"]
    assert_refused(args, spectrum.parent, words, exit_code=2)


def test_generate_refuses_a_file_that_is_no_slha_spectrum(tmp_path: Path) -> None:
    (tmp_path / "notes.slha").write_text("masses: gluino 1200\n")
    args = ["generate", "--slha", "notes.slha", "--events", "5", "--seed", "1", "-o", "o.hepmc"]
    assert_refused(args, tmp_path, ["notes.slha", "not an SLHA spectrum", "BLOCK MASS"])


def test_generate_refuses_a_missing_spectrum(tmp_path: Path) -> None:
    args = ["generate", "--slha", "absent.slha", "--events", "5", "--seed", "1", "-o", "o.hepmc"]
    assert_refused(args, tmp_path, ["absent.slha", "not found"], exit_code=2)


@pytest.mark.parametrize("line", ["Foo:bar = on", "just words"])
def test_generate_names_the_setting_pythia_refuses(tmp_path: Path, line: str) -> None:
    (tmp_path / "run.cmnd").write_text(f"Beams:eCM = 13000.\n{line}\n")
    args = ["generate", "--settings", "run.cmnd", "--events", "5", "--seed", "1", "-o", "o.hepmc"]
    assert_refused(args, tmp_path, [f"setting '{line}'", "Pythia said"], exit_code=2)


@pytest.mark.parametrize("both", [True, False])
def test_generate_needs_exactly_one_setup(spectrum: Path, both: bool) -> None:
    (spectrum.parent / "run.cmnd").write_text("Beams:eCM = 13000.\n")
    setup = ["--slha", spectrum.name, "--settings", "run.cmnd"] if both else []
    args = ["generate", *setup, "--events", "5", "--seed", "1", "-o", "o.hepmc"]
    assert_refused(args, spectrum.parent, ["exactly one of --slha", "--settings"], exit_code=2)


# -- train ---------------------------------------------------------------------------------
@pytest.mark.parametrize("trainer", ["efficiency", "surrogate", "filter"])
@pytest.mark.parametrize(
    ("content", "words", "code"),
    [
        (None, ["config.json", "no such file"], 2),
        ("", ["config.json", "not valid JSON"], 1),
        ('{"train": ', ["config.json", "not valid JSON"], 1),
        ("{}", ["config.json", "against the schema", "missing"], 1),
        ("[1, 2]", ["config.json", "against the schema"], 1),
    ],
)
def test_train_refuses_a_config_that_is_missing_or_malformed(
    tmp_path: Path, trainer: str, content: str | None, words: list[str], code: int
) -> None:
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    assert_refused(["train", trainer, "config.json"], tmp_path, words, exit_code=code)


# -- the command line's own contract ---------------------------------------------------------
def test_an_unforeseen_failure_is_one_line_with_exit_3_and_debug_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recast.analysis.bundle as bundle

    def broken() -> dict[str, Path]:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(bundle, "available", broken)
    result = invoke(["list"], tmp_path)
    message = result.stderr + result.stdout
    assert result.exit_code == 3
    assert "Traceback" not in message
    assert "unexpected failure (builtins.ZeroDivisionError): float division by zero" in message
    assert "--debug" in message
    debugged = invoke(["--debug", "list"], tmp_path)
    assert isinstance(debugged.exception, ZeroDivisionError)


def test_an_interrupt_exits_130_and_says_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recast.analysis.bundle as bundle

    def interrupted() -> dict[str, Path]:
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle, "available", interrupted)
    assert_refused(["list"], tmp_path, ["interrupted", "nothing was written"], exit_code=130)


def test_train_filter_refuses_graphs_too_large_to_ship_before_training(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    config = {
        "output": "out",
        "name": "toy_filter",
        "sample": {"synthetic": "decay_tree", "events": 400, "seed": 1},
        "graph": {"max_particles": 2000},
        "decorrelate": "m_vis",
        "decorrelation": 0.3,
        "trainer": {"max_epochs": 3, "decorrelation_warmup": 1, "hidden": 8, "depth": 1},
        "importance": {"p_min": 0.1, "seed": 3},
        "downstream": [{"label": "assumed", "seconds": 0.1}],
        "bias": {"variables": ["m_vis", "n_particles"], "bins": 4},
    }
    (tmp_path / "filter.json").write_text(json.dumps(config))
    # it trained for minutes and was refused only when its card was exported
    assert_refused(
        ["train", "filter", "filter.json"],
        tmp_path,
        ["max_particles=2000", "1000000", "choose max_particles ≤ 995"],
        exit_code=2,
    )
