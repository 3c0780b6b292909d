"""Benchmarks that validate themselves, and the status rules of `recast bundle check`."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from recast import schema
from recast.analysis.bundle import BundleCheckError, bundles_root
from recast.io import write_json
from recast.pipeline.release_check import check_release

needs_pythia = pytest.mark.skipif(
    importlib.util.find_spec("pythia8mc") is None, reason="pythia8mc (extra [gen]) not installed"
)
SLHA = "cutflows/gtt_1200_100.slha"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the shipped example bundle, free to break."""
    folder = tmp_path / "EXAMPLE_JETS_MET"
    shutil.copytree(bundles_root() / "EXAMPLE_JETS_MET", folder)
    return folder


def _edit_document(folder: Path, **changes: object) -> None:
    document = schema.load_json(folder / "analysis.json")
    document.update(changes)
    write_json(folder / "analysis.json", document)


def _problems(folder: Path, *, pythia: bool = False) -> list[str]:
    with pytest.raises(BundleCheckError) as caught:
        check_release(folder, pythia=pythia)
    return caught.value.problems


@needs_pythia
def test_a_shipped_benchmark_parses_and_pythia_starts_from_it(example: Path) -> None:
    result = check_release(example)
    assert any(
        line.startswith("benchmark gtt_1200_100: spectrum gtt_1200_100.slha parses, "
                        "gluino-pairs produces from it, Pythia8 initialises on it")
        for line in result.passed
    )  # fmt: skip
    assert result.notes == []


def test_a_missing_spectrum_is_named_with_its_cutflow(example: Path) -> None:
    (example / SLHA).unlink()
    problems = _problems(example)
    assert len(problems) == 1
    assert problems[0].startswith("benchmark gtt_1200_100 (cutflows/gtt_1200_100_")
    assert "benchmark.slha 'gtt_1200_100.slha': no such file" in problems[0]


def test_a_spectrum_with_a_nan_mass_is_refused(example: Path) -> None:
    slha = example / SLHA
    slha.write_text(slha.read_text().replace("1.20000000E+03   # ~g", "nan   # ~g"))
    (problem,) = _problems(example)
    assert "BLOCK MASS 1000021: the mass is 'nan', not a finite number" in problem


def test_a_file_that_is_no_spectrum_is_refused(example: Path) -> None:
    (example / SLHA).write_text("<html>not found</html>\n")
    (problem,) = _problems(example)
    assert "not an SLHA spectrum (no BLOCK MASS)" in problem


def test_a_spectrum_without_the_produced_particle_is_refused(example: Path) -> None:
    slha = example / SLHA
    slha.write_text(slha.read_text().replace("1.20000000E+03   # ~g", "2.0E+05   # ~g"))
    (problem,) = _problems(example)
    assert "benchmark.process 'gluino-pairs'" in problem and "nothing would be generated" in problem


@needs_pythia
def test_a_spectrum_pythia_cannot_read_is_refused_with_pythias_words(example: Path) -> None:
    """NMSSM declared (MODSEL 3 = 1) without its mixing blocks: recast's parser has nothing to
    say, Pythia's init fails."""
    slha = example / SLHA
    text = slha.read_text().replace("     1     0   # general MSSM", "     1     0\n     3     1")
    slha.write_text(text)
    (problem,) = _problems(example, pythia=True)
    assert problem.startswith("benchmark gtt_1200_100 (")
    assert "Pythia8 cannot start from benchmark.slha" in problem
    assert "NMSSM" in problem


def test_an_unknown_process_is_refused(example: Path) -> None:
    for cutflow in (example / "cutflows").glob("*.json"):
        document = schema.load_json(cutflow)
        document["benchmark"]["process"] = "gluino-pairz"
        write_json(cutflow, document)
    _edit_document(example, cutflows=_restamped(example))
    (problem,) = _problems(example)
    assert "benchmark.process" in problem and "gluino-pairs" in problem  # the closest name


def _restamped(folder: Path) -> list[dict[str, str]]:
    from recast.io import sha256_file

    document = schema.load_json(folder / "analysis.json")
    return [
        {**entry, "sha256": sha256_file(folder / entry["path"])} for entry in document["cutflows"]
    ]


def test_a_bundle_without_cutflows_is_reported_and_refused_once_validated(example: Path) -> None:
    _edit_document(example, cutflows=[])
    result = check_release(example, pythia=False)
    assert result.notes == [
        "the bundle publishes no cutflow, so nobody can validate a recast of it: add the "
        "published cutflows (cutflows in analysis.json) of at least one benchmark"
    ]
    _edit_document(example, status={"state": "VALIDATED"})
    (problem,) = _problems(example)
    assert problem.startswith("status VALIDATED but the bundle publishes no cutflow")


def test_a_benchmark_without_spectrum_or_cross_section_is_reported(example: Path) -> None:
    for cutflow in (example / "cutflows").glob("*.json"):
        document = schema.load_json(cutflow)
        del document["benchmark"]["slha"], document["benchmark"]["cross_section_pb"]
        write_json(cutflow, document)
    _edit_document(example, cutflows=_restamped(example))
    result = check_release(example, pythia=False)
    assert [n.split(": ", 1)[1][:24] for n in result.notes] == [
        "no cross_section_pb: rec",
        "no benchmark.slha: recas",
    ]


@needs_pythia
def test_validate_names_the_bundles_spectrum_when_pythia_refuses_it(
    example: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from recast.cli import cli

    slha = example / SLHA
    slha.write_text(
        slha.read_text().replace("     1     0   # general MSSM", "     1     0\n     3     1")
    )
    out = tmp_path / "verdict.json"
    args = [
        "validate",
        str(example),
        "--benchmark",
        "gtt_1200_100",
        "--events",
        "20",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith(
        f"error: benchmark gtt_1200_100 of EXAMPLE_JETS_MET: its spectrum {slha}"
    )
    assert "Pythia init() failed" in message and "recast bundle check" in message
    assert not out.exists()


def test_a_validated_bundle_may_not_leave_todo_markers_or_guessed_inputs(example: Path) -> None:
    from recast.analysis.bundle import stamp_bundle

    card_path = example / "networks" / "signal_mlp.card.json"
    card = schema.load_json(card_path)
    card["schema_version"] = "1.1.0"
    card["inputs"][0]["features"][1]["guessed"] = ["unit"]
    write_json(card_path, card)
    _edit_document(example, title="TODO: the paper's title")
    stamp_bundle(example, artefacts=True)
    notes = check_release(example, pythia=False).notes  # UNVALIDATED: said, not refused
    assert [n[:40] for n in notes] == [
        "1 TODO marker left: title (analysis.json",
        "network 'signal_mlp': 1 input has a gues",
    ]
    _edit_document(example, status={"state": "VALIDATED"})
    problems = _problems(example)
    assert problems == notes
    name = card["inputs"][0]["features"][1]["name"]
    assert f"1 input has a guessed unit: {name} — state it with --definitions FILE" in problems[1]


def test_bundle_check_prints_notes_and_fails_on_problems(example: Path) -> None:
    from click.testing import CliRunner

    from recast.cli import cli

    _edit_document(example, cutflows=[])
    result = CliRunner().invoke(cli, ["bundle", "check", str(example), "--no-pythia"])
    assert result.exit_code == 0, result.output
    assert "\nnote  the bundle publishes no cutflow" in result.output
    assert result.output.endswith(f"{example}: bundle passes every check (1 note(s) above)\n")
    _edit_document(example, status={"state": "VALIDATED"})
    result = CliRunner().invoke(cli, ["bundle", "check", str(example), "--no-pythia"])
    assert result.exit_code == 1
    assert "status VALIDATED but the bundle publishes no cutflow" in result.output
    assert "Traceback" not in result.output


def test_a_mass_block_is_recognised_as_slha_writes_it() -> None:
    from recast.events.slha import has_mass_block

    assert has_mass_block("Block Mass  # spectrum\n 1000021 1200\n")
    assert has_mass_block("BLOCK\tMASS\n")
    assert not has_mass_block("# BLOCK MASS is missing here\nBLOCK MODSEL\n")
    assert not has_mass_block("<html>not found</html>")
