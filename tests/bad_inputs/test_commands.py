"""Bad options of run, validate, generate and train, and the command line's own contract."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from recast.events import slha

from . import assert_refused, cases, invoke

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


# -- numbers out of any physical range: refused, never NaN or Infinity in a results file -----
@pytest.mark.parametrize(
    ("command", "option", "words"),
    [
        ("run", ["--xsec", "1e300pb"], ["--xsec", "1e+300 pb", "139 fb⁻¹", "expected events"]),
        ("run", ["--xsec", "1e200pb"], ["--xsec", "expected events", "unit (fb or pb)"]),
        ("run", ["--lumi", "1e200"], ["--lumi 1e+200", "more than any collider", "fb⁻¹"]),
        ("run", ["--lumi", "1e308"], ["--lumi 1e+308", "more than any collider"]),
        (
            "validate",
            ["--benchmark", "gtt_1200_100", "--xsec", "1e300pb"],
            ["--xsec", "expected events", "unit (fb or pb)"],
        ),
        (
            "validate",
            ["--benchmark", "gtt_1200_100", "--lumi", "1e9"],
            ["--lumi", "more than any collider"],
        ),
    ],
    ids=["xsec-1e300", "xsec-1e200", "lumi-1e200", "lumi-1e308", "validate-xsec", "validate-lumi"],
)
def test_an_absurd_number_of_expected_events_is_refused_before_any_event(
    events: Path, command: str, option: list[str], words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import recast.pipeline.run as run

    def no_events(*args: object, **kwargs: object) -> None:
        raise AssertionError("events were read before the refusal")

    monkeypatch.setattr(run, "execute", no_events)
    assert_refused(
        [command, ANALYSIS, events.name, *option, "-o", "out.json"],
        events.parent,
        words,
        exit_code=2,
    )


def test_a_cross_section_in_the_file_that_gives_absurd_yields_is_refused(events: Path) -> None:
    text = events.read_text()
    events.write_text(re.sub(r"GenCrossSection \S+ \S+", "GenCrossSection 1e300 0", text))
    words = ["GenCrossSection", "1e+300 pb", "expected events", "unit (fb or pb)"]
    assert_refused(["run", ANALYSIS, events.name, "-o", "out.json"], events.parent, words, 2)


def test_a_normalisation_factor_beyond_float64_is_refused() -> None:
    from recast.errors import UsageError
    from recast.pipeline.normalise import normalisation

    # weights of 1e-320 (denormal) made σ·L/Σw infinite and every yield NaN
    with pytest.raises(UsageError, match=r"sum of event weights is 9.99989e-321.*too small.*= inf"):
        normalisation(1e-320, 1, [], 1.0, 139.0)


def test_a_results_writer_never_writes_nan(tmp_path: Path) -> None:
    from recast.errors import OutputError
    from recast.io import write_json

    path = tmp_path / "r.json"
    with pytest.raises(OutputError, match=r"nan at yields\.SR\.value.*nothing was written"):
        write_json(path, {"yields": {"SR": {"value": float("nan")}}})
    with pytest.raises(OutputError, match=r"inf at cuts\[1\]"):
        write_json(path, {"cuts": [1.0, float("inf")]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_an_option_that_is_not_a_finite_number_is_refused(events: Path, value: str) -> None:
    assert_refused(
        ["run", ANALYSIS, events.name, "--option", f"nn_threshold={value}"],
        events.parent,
        ["--option nn_threshold=", "not a finite number", "default 0.9", "options.nn_threshold"],
        exit_code=2,
    )


# -- SLHA numbers Pythia would silently replace ------------------------------------------------
SLHA_EDITS = [
    (
        "mass-nan",
        ("   1000021   1.20000000E+03", "   1000021   nan"),
        ["BLOCK MASS 1000021", "'nan'", "default mass", "in GeV"],
    ),
    (
        "mass-inf",
        ("   1000022   1.00000000E+02", "   1000022   inf"),
        ["BLOCK MASS 1000022", "'inf'", "not a finite number"],
    ),
    (
        "mass-text",
        ("   1000021   1.20000000E+03", "   1000021   MGLUINO"),
        ["BLOCK MASS", "MGLUINO", "PDG id and its mass"],
    ),
    (
        "width-nan",
        ("DECAY   1000021   1.00000000E+00", "DECAY   1000021   nan"),
        ["DECAY 1000021", "the width is 'nan'", "≥ 0 GeV"],
    ),
    (
        "br-nan",
        ("     1.00000000E+00    3   1000022", "     nan    3   1000022"),
        ["DECAY 1000021", "branching ratio 'nan'", "finite number ≥ 0"],
    ),
    (
        "br-negative",
        ("     1.00000000E+00    3   1000022", "     -1.00000000E+00    3   1000022"),
        ["DECAY 1000021", "'-1.00000000E+00'", "switched off"],
    ),
    (
        "br-sum-half",
        ("     1.00000000E+00    3   1000022", "     0.5    3   1000022"),
        ["DECAY 1000021", "sum to 0.5", "rescale them silently"],
    ),
    (
        "nda-wrong",
        ("     1.00000000E+00    3   1000022", "     1.00000000E+00    4   1000022"),
        ["DECAY 1000021", "NDA the number of daughter ids"],
    ),
]


@cases(("edit", "words"), SLHA_EDITS)
@pytest.mark.parametrize("command", ["generate", "run"])
def test_an_slha_number_pythia_would_replace_is_refused(
    spectrum: Path, command: str, edit: tuple[str, str], words: list[str]
) -> None:
    text = spectrum.read_text()
    assert edit[0] in text
    spectrum.write_text(text.replace(edit[0], edit[1], 1))
    if command == "generate":
        args = ["generate", "--slha", spectrum.name, "--events", "2", "--seed", "3"]
        args += ["-o", "g.hepmc"]
    else:
        args = ["run", ANALYSIS, "--pythia-slha", spectrum.name, "--events", "2", "-o", "r.json"]
    assert_refused(args, spectrum.parent, [spectrum.name, "line", *words], exit_code=1)


def test_real_spectra_pass_the_slha_check() -> None:
    from recast.analysis.bundle import bundles_root

    spectra = sorted(Path(bundles_root()).glob("*/cutflows/*.slha"))
    assert spectra
    for path in spectra:
        assert slha.slha_problems(path.read_text()) == [], path


# -- JSON documents: one strict loader ---------------------------------------------------------
REGION = '{"name": "SR1", "observed": 3, "background": 0.81, "background_uncertainty": 0.32}'
JSON_CASES = [
    (
        "duplicate-key",
        '{"signal_regions": [{"name": "SR1", "observed": 3, "observed": 3000000, '
        '"background": 0.81, "background_uncertainty": 0.32}]}',
        ["line 1 column 21", "key 'observed' twice", "3, then 3000000", "delete the other"],
    ),
    (
        "integer-10^400",
        '{"signal_regions": [' + REGION.replace("0.81", "1" + "0" * 400) + "]}",
        ["line 1 column", "401 digits", "float64", "1e10"],
    ),
    (
        "integer-5000-digits",
        '{"signal_regions": ['
        + REGION.replace('"observed": 3', '"observed": ' + "9" * 5000)
        + "]}",
        ["5000 digits"],
    ),
    ("100000-deep", "[" * 100000 + "]" * 100000, ["nested too deeply", "64 levels"]),
    ("70-deep", '{"signal_regions": ' + "[" * 70 + "]" * 70 + "}", ["signal_regions[0]", "64"]),
]


@cases(("text", "words"), JSON_CASES)
def test_a_json_document_the_loader_refuses(tmp_path: Path, text: str, words: list[str]) -> None:
    (tmp_path / "regions.json").write_text(text)
    assert_refused(["limits", "--regions", "regions.json"], tmp_path, ["regions.json", *words], 1)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (('{"signal_regions": [' + REGION + "]}").encode("utf-16"), ["UTF-16", "save it as UTF-8"]),
        (('{"signal_regions": [' + REGION + "]}").encode("utf-16-le"), ["UTF-16 or UTF-32"]),
        (('{"signal_regions": [' + REGION + "]}").encode("utf-32"), ["UTF-32"]),
        ('{"signal_regions": [{"name": "SRé"}]}'.encode("latin-1"), ["line 1 (byte 32)", "\\xe9"]),
    ],
    ids=["utf-16", "utf-16-without-bom", "utf-32", "latin-1"],
)
def test_a_json_document_that_is_not_utf8(tmp_path: Path, data: bytes, words: list[str]) -> None:
    (tmp_path / "regions.json").write_bytes(data)
    assert_refused(
        ["limits", "--regions", "regions.json"], tmp_path, ["regions.json", "not UTF-8", *words], 1
    )


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "regions.json").write_bytes(
        b"\xef\xbb\xbf" + ('{"signal_regions": [' + REGION + "]}").encode()
    )
    result = invoke(["limits", "--regions", "regions.json"], tmp_path)
    assert result.exit_code == 0, result.output


def test_every_json_read_of_recast_goes_through_the_strict_loader() -> None:
    import recast

    root = Path(recast.__file__).parent
    readers = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bjson\.loads?\(", line) and path.name != "schema.py"
    ]
    assert readers == [], "read JSON with recast.schema.load_json / loads_json"


# -- names from files and documents are printed as they are ------------------------------------
def test_a_file_name_with_markup_is_printed_literally(events: Path) -> None:
    folder = events.parent / "a[/x]"  # the folder x] in the folder a[
    folder.mkdir(parents=True)
    for name in ("ev[old].hepmc", "ev [bold]b.hepmc"):
        shutil.copy(events, folder / name)
        result = invoke(["inspect", str(Path("a[/x]") / name)], events.parent)
        assert result.exit_code == 0, result.output
        assert f"a[/x]/{name}" in result.output


def test_region_names_with_markup_or_escape_sequences_are_printed_literally(
    tmp_path: Path,
) -> None:
    names = ["[/x]", "[bold red]SR[/bold red]", "SR\x1b[2J\x1b[31mRED"]
    regions = [json.loads(REGION) | {"name": name} for name in names]
    (tmp_path / "regions.json").write_text(json.dumps({"signal_regions": regions}))
    result = invoke(["limits", "--regions", "regions.json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output and "[bold red]SR[/bold red]" in result.output
    assert "SR\\x1b[2J\\x1b[31mRED" in result.output
    assert "\x1b" not in result.output


def test_generate_names_a_folder_given_as_spectrum(tmp_path: Path) -> None:
    (tmp_path / "spectra").mkdir()
    args = ["generate", "--slha", "spectra", "--events", "5", "--seed", "1", "-o", "o.hepmc"]
    # it was blamed on -o, which "lies inside the input folder"
    assert_refused(args, tmp_path, ["--slha spectra", "not a file", "give the file"], exit_code=2)


def test_run_names_a_folder_given_as_detector(events: Path) -> None:
    (events.parent / "detectors").mkdir()
    assert_refused(
        ["run", ANALYSIS, events.name, "--detector", "detectors"],
        events.parent,
        ["--detector detectors", "is a folder", "detector description file", "default"],
        exit_code=2,
    )
