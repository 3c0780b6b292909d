"""The command line: one clear line per user mistake, the right exit code, nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.preserve.card import NetworkCard

from .conftest import linear_onnx

VARIABLES = ["ht", "met", "mjj"]


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path]:
    """A network published the SimpleAnalysis way, with lwtnn metadata that agrees."""
    onnx_path = tmp_path / "net.onnx"
    linear_onnx(onnx_path, 3)
    offsets, scales = [100.0, 50.0, 500.0], [200.0, 80.0, 300.0]
    model = onnx.load(str(onnx_path))
    for i, (name, offset, scale) in enumerate(zip(VARIABLES, offsets, scales, strict=True)):
        for key, value in (
            (f"input_{i}", name),
            (f"{name}_mean", str(-offset)),
            (f"{name}_std", str(1.0 / scale)),
        ):
            model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(onnx_path))
    sidecar = tmp_path / "net_variables.json"
    sidecar.write_text(json.dumps({"variables": VARIABLES, "scale": scales, "offset": offsets}))
    return onnx_path, sidecar


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_import_with_sidecar_writes_a_card_that_checks(published, tmp_path: Path) -> None:
    onnx_path, sidecar = published
    card_path = tmp_path / "net.card.json"  # a card names files inside its own folder
    result = run(
        "card",
        "import",
        str(onnx_path),
        "--sidecar",
        str(sidecar),
        "-o",
        str(card_path),
        "--label",
        "signal",
        "--unit-of",
        "ht=GeV",
    )
    assert result.exit_code == 0, result.output
    card = NetworkCard.load(card_path)
    assert [f["name"] for _, f in card.features()] == VARIABLES
    assert card.document["outputs"][0]["columns"][0]["label"] == "signal"
    first = next(card.features())[1]
    assert first["preprocessing"] == {
        "formula": "(x - offset) / scale",
        "offset": 100.0,
        "scale": 200.0,
    }
    assert first["unit"] == "GeV"
    assert run("card", "check", str(card_path)).exit_code == 0


def test_import_from_metadata_alone(published, tmp_path: Path) -> None:
    onnx_path, _ = published
    result = run("card", "import", str(onnx_path), "-o", str(tmp_path / "m.card.json"))
    assert result.exit_code == 0, result.output
    card = NetworkCard.load(tmp_path / "m.card.json")
    first = next(card.features())[1]
    assert first["preprocessing"]["formula"] == "(x + offset) * scale"
    assert first["preprocessing"]["offset"] == pytest.approx(-100.0)


def test_swapped_sidecar_is_refused_and_nothing_is_written(published, tmp_path: Path) -> None:
    onnx_path, sidecar = published
    document = json.loads(sidecar.read_text())
    document["scale"], document["offset"] = document["offset"], document["scale"]
    sidecar.write_text(json.dumps(document))
    card_path = tmp_path / "bad.card.json"
    result = run("card", "import", str(onnx_path), "--sidecar", str(sidecar), "-o", str(card_path))
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    for name in VARIABLES:
        assert name in result.output
    assert "swapped" in result.output
    assert not card_path.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fold", "a.onnx=x"], "REMAINDER must be a non-negative whole number"),
        (["--fold", "a.onnx"], "expected NAME=VALUE"),
        (["net.onnx", "--fold", "a.onnx=0"], "not both"),
        ([], "give the ONNX file to import"),
        (["net.onnx", "--angle-range", "met_phi"], "expected NAME=VALUE"),
    ],
)
def test_import_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = run("card", "import", *args, "-o", str(tmp_path / "c.json"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_import_of_a_missing_file(tmp_path: Path) -> None:
    result = run("card", "import", str(tmp_path / "absent.onnx"), "-o", str(tmp_path / "c.json"))
    assert result.exit_code == 2
    assert "absent.onnx" in result.output


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "card", "check", str(tmp_path / "absent.json"))
    assert result.exit_code != 0
    assert result.exception is not None


def test_version_and_help() -> None:
    assert run("--version").output.startswith("recast, version ")
    assert "Network cards" in run("-h").output


def test_a_reader_that_stops_reading_is_no_failure() -> None:
    """`recast xsec --list | head -1`: the pipe closes before recast has written; that is an
    exit as by SIGPIPE (141), not an "unexpected failure" on stderr."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        finished = subprocess.run(
            [sys.executable, "-c", "from recast.cli import main; main()", "xsec", "--list"],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    finally:
        os.close(write)
    assert finished.returncode == 141
    assert b"unexpected" not in finished.stderr and b"Traceback" not in finished.stderr
