"""Schema machinery: versions, all errors with JSON paths, offline, shipped in the wheel."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from recast import schema
from recast.errors import ArtefactNotFoundError, InvalidDocumentError, UnknownSchemaVersionError
from recast.preserve.card import NetworkCard
from recast.preserve.export import export_onnx_file
from recast.toy import multib_template

from .conftest import linear_onnx

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def valid_card(tmp_path: Path) -> Path:
    linear_onnx(tmp_path / "net.onnx", 87, 5, input_name="input_1", output_name="dense_4")
    template = multib_template()
    for column in template["outputs"][0]["columns"]:  # the linear test graph gives logits
        column["activation"] = "linear"
    card = export_onnx_file(tmp_path / "net.onnx", template, tmp_path / "card")
    return Path(card.source)


def test_known_versions_come_from_the_schemas_folder() -> None:
    assert schema.known_versions() == ("1.0.0", "1.1.0")
    # 1.1.0 changed the bundle document and the network card (features' guessed fields)
    assert schema.known_versions("analysis") == ("1.0.0", "1.1.0")
    assert schema.known_versions("network-card") == ("1.0.0", "1.1.0")
    # and added the definitions file that states them: no 1.0.0 version of it
    assert schema.known_versions("card-definitions") == ("1.1.0",)


def test_unknown_version_is_refused_with_the_known_ones(valid_card: Path) -> None:
    document = json.loads(valid_card.read_text())
    document["schema_version"] = "9.9.9"
    with pytest.raises(UnknownSchemaVersionError, match=r"'9.9.9'.*known versions: 1\.0\.0"):
        NetworkCard(document, valid_card)


def test_every_problem_is_reported_at_once_with_its_json_path(valid_card: Path) -> None:
    document = json.loads(valid_card.read_text())
    del document["provenance"]
    document["inputs"][0]["features"][3]["unit"] = "furlong"
    document["files"][0]["sha256"] = "xyz"
    with pytest.raises(InvalidDocumentError) as caught:
        NetworkCard(document, valid_card)
    paths = [path for path, _ in caught.value.problems]
    assert paths == ["(document)", "files[0].sha256", "inputs[0].features[3].unit"]
    assert "'provenance' is a required property" in str(caught.value)
    assert str(valid_card) in str(caught.value)


def test_missing_schema_version_says_what_to_add(valid_card: Path) -> None:
    document = json.loads(valid_card.read_text())
    del document["schema_version"]
    # the version writers stamp on cards (recast.schema.current_version)
    with pytest.raises(InvalidDocumentError, match=r'add "schema_version": "1\.1\.0"'):
        NetworkCard(document, valid_card)


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text('{"schema_version": "1.0.0",\n  "name": }')
    with pytest.raises(InvalidDocumentError, match=r"line 2 column 11.*not valid JSON"):
        NetworkCard.load(path)


def test_missing_card_file(tmp_path: Path) -> None:
    with pytest.raises(ArtefactNotFoundError, match="no such file"):
        NetworkCard.load(tmp_path / "absent.json")


def test_validation_needs_no_network(valid_card: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("schema validation tried to open a socket")

    schema._registry.cache_clear()
    schema._validator.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    assert NetworkCard.load(valid_card).name == "multib_87"


@pytest.mark.slow
def test_the_wheel_carries_the_schemas(tmp_path: Path, valid_card: Path) -> None:
    """Build the wheel, install it apart from the source tree, check a card from elsewhere."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("recast_nn-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    probe = (
        "import recast, recast.schema as s, sys;"
        "from recast.preserve.check import check_card;"
        f"check_card({str(valid_card)!r});"
        "print(recast.__file__); print(s.schemas_root())"
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=outside,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    module_file, root = result.stdout.split()
    assert module_file.startswith(str(site))
    assert root == str(site / "recast" / "_data" / "schemas")
