"""Network files a bundle cannot ship: git blob digests, where files are looked for, regions
skipped without them, ``--network`` and ``--option`` on `recast run`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast.analysis.bundle import available, check_bundle, load_bundle
from recast.analysis.settings import option_values, parse_assignments
from recast.cli import cli
from recast.errors import (
    DigestMismatchError,
    NetworkUnavailableError,
    UsageError,
)
from recast.io import sha256_file
from recast.pipeline.run import recast_run
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.locate import DATA_DIR_VARIABLE, git_blob_id

from .conftest import GttSample

BUNDLE = "EXAMPLE_JETS_MET"
CARD = "networks/signal_mlp.card.json"
XSEC = "48.8fb"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user data folder, so that the developer's own never interferes."""
    folder = tmp_path / "user-data"
    folder.mkdir()
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(folder))
    return folder


def undistributed_bundle(tmp_path: Path, digest: str = "git_blob") -> tuple[Path, Path]:
    """A copy of the example bundle whose network file is named by digest but not shipped.

    Returns the bundle folder and the ONNX file, moved out of it.
    """
    folder = tmp_path / BUNDLE
    shutil.copytree(available()[BUNDLE], folder, ignore=shutil.ignore_patterns("__pycache__"))
    card_path = folder / CARD
    card = json.loads(card_path.read_text())
    entry = card["files"][0]
    onnx = folder / "networks" / entry["path"]
    if digest == "git_blob":
        del entry["sha256"]
        entry["git_blob"] = git_blob_id(onnx)[:8]
    entry["distributed"] = False
    entry["source"] = "the example's make_artefacts.py"
    card_path.write_text(json.dumps(card, indent=2))
    document = json.loads((folder / "analysis.json").read_text())
    document["networks"]["signal_mlp"]["sha256"] = sha256_file(card_path)
    (folder / "analysis.json").write_text(json.dumps(document, indent=2))
    moved = tmp_path / "elsewhere" / onnx.name
    moved.parent.mkdir()
    onnx.rename(moved)
    return folder, moved


# -- digests and places ----------------------------------------------------------------------
def test_git_blob_id_is_the_id_git_gives(tmp_path: Path) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(b"any bytes\x00 at all\n" * 1000)
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot compare with git hash-object")
    expected = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_blob_id(path) == expected


def test_card_named_by_git_blob_prefix_verifies_and_refuses_another_file(
    tmp_path: Path, data_dir: Path
) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    card = NetworkCard.load(folder / CARD)
    card.use_files_from(onnx)
    card.verify_digests()
    impostor = tmp_path / "impostor" / onnx.name
    impostor.parent.mkdir()
    impostor.write_bytes(onnx.read_bytes() + b"\x00")
    card.use_files_from(impostor)
    with pytest.raises(DigestMismatchError, match=r"git_blob is [0-9a-f]{40} but files\[0\]"):
        card.verify_digests()


def test_missing_undistributed_file_says_where_it_looked_and_what_to_do(
    tmp_path: Path, data_dir: Path
) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    card = NetworkCard.load(folder / CARD)
    with pytest.raises(NetworkUnavailableError) as caught:
        card.verify_digests()
    message = str(caught.value)
    assert "is not distributed" in message and "make_artefacts.py" in message
    assert "--network signal_mlp=PATH" in message and str(data_dir / "networks") in message
    report = check_card(folder / CARD)  # a valid card whose graph cannot be checked
    assert report.skipped and "is not distributed" in report.skipped[0]
    assert check_card(folder / CARD, onnx).skipped == []


def test_file_in_the_user_data_folder_is_found(tmp_path: Path, data_dir: Path) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    (data_dir / "networks").mkdir()
    shutil.copy(onnx, data_dir / "networks" / onnx.name)
    card = NetworkCard.load(folder / CARD)
    card.verify_digests()
    assert card.model_files()[0].path == data_dir / "networks" / onnx.name


def test_a_folder_given_for_the_files_is_searched_by_name(tmp_path: Path, data_dir: Path) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    card = NetworkCard.load(folder / CARD)
    card.use_files_from(onnx.parent)
    card.verify_digests()
    card.use_files_from(tmp_path)  # a folder without the file: reported under the given name
    with pytest.raises(NetworkUnavailableError, match=re.escape(str(tmp_path / onnx.name))):
        card.verify_digests()


def test_distributed_file_missing_is_a_card_problem(tmp_path: Path, data_dir: Path) -> None:
    folder, _ = undistributed_bundle(tmp_path, digest="sha256")
    card_path = folder / CARD
    card = json.loads(card_path.read_text())
    del card["files"][0]["distributed"]
    card_path.write_text(json.dumps(card))
    with pytest.raises(Exception, match="no such file"):
        check_card(card_path)


# -- bundles and runs ------------------------------------------------------------------------
def test_bundle_check_passes_and_names_the_regions_that_will_be_skipped(
    tmp_path: Path, data_dir: Path
) -> None:
    folder, _ = undistributed_bundle(tmp_path)
    checked = check_bundle(folder)
    assert any("regions SR_nn will be skipped" in line for line in checked)


def test_region_naming_an_unknown_network_is_a_bundle_problem(tmp_path: Path) -> None:
    folder = tmp_path / BUNDLE
    shutil.copytree(available()[BUNDLE], folder, ignore=shutil.ignore_patterns("__pycache__"))
    document = json.loads((folder / "analysis.json").read_text())
    document["regions"]["SR_nn"]["networks"] = ["signal_mpl"]
    (folder / "analysis.json").write_text(json.dumps(document))
    with pytest.raises(Exception, match=r"regions.SR_nn.networks names 'signal_mpl'.*signal_mlp"):
        check_bundle(folder)


def run(folder: Path, gtt: GttSample, **kwargs: Any) -> dict[str, Any]:
    return recast_run(str(folder), [str(gtt.first)], xsec=XSEC, **kwargs)


def test_run_without_the_file_skips_only_the_network_region(
    tmp_path: Path, data_dir: Path, gtt: GttSample
) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    without = run(folder, gtt)
    assert set(without["yields"]) == {"SR_loose", "SR_btag", "CR_1L"}
    assert "is not distributed" in without["skipped"]["SR_nn"]
    assert without["provenance"]["networks"] == {}
    with_file = run(folder, gtt, networks={"signal_mlp": onnx})
    assert "skipped" not in with_file and "SR_nn" in with_file["yields"]
    assert with_file["yields"]["SR_loose"] == without["yields"]["SR_loose"]
    assert "git_blob" in with_file["provenance"]["networks"]["signal_mlp"][0]
    shipped = recast_run(BUNDLE, [str(gtt.first)], xsec=XSEC)
    assert with_file["yields"]["SR_nn"] == shipped["yields"]["SR_nn"]


def test_cli_network_flag_and_its_mistakes(tmp_path: Path, data_dir: Path, gtt: GttSample) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    runner = CliRunner()
    base = ["run", str(folder), str(gtt.first), "--xsec", XSEC]
    out = tmp_path / "r.json"
    result = runner.invoke(cli, [*base, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "regions not run" in result.output and "SR_nn" in result.output
    result = runner.invoke(cli, [*base, "--network", f"signal_mpl={onnx}"])
    assert result.exit_code != 0 and "no network 'signal_mpl'" in result.output
    assert "signal_mlp" in result.output
    result = runner.invoke(cli, [*base, "--network", str(onnx)])
    assert result.exit_code != 0 and "--network NAME=VALUE" in result.output
    wrong = tmp_path / "wrong" / onnx.name
    wrong.parent.mkdir()
    wrong.write_bytes(b"not a network")
    bad_out = tmp_path / "bad.json"
    result = runner.invoke(cli, [*base, "--network", f"signal_mlp={wrong}", "-o", str(bad_out)])
    assert result.exit_code == 1 and "git_blob is" in result.output
    assert not bad_out.exists()
    missing = tmp_path / "nowhere.onnx"
    result = runner.invoke(cli, [*base, "--network", f"signal_mlp={missing}"])
    assert result.exit_code != 0 and str(missing) in result.output


# -- options ---------------------------------------------------------------------------------
def test_options_default_convert_and_refuse() -> None:
    bundle = load_bundle(BUNDLE)
    assert option_values(bundle, {}) == {"nn_threshold": 0.9}
    assert option_values(bundle, {"nn_threshold": "0.5"}) == {"nn_threshold": 0.5}
    with pytest.raises(UsageError, match="expected a number, not 'high'"):
        option_values(bundle, {"nn_threshold": "high"})
    with pytest.raises(UsageError, match=r"no such option.*nn_threshold"):
        option_values(bundle, {"nn_treshold": "0.5"})
    assert parse_assignments(["a=1", "b = x"], "--option") == {"a": "1", "b": "x"}
    with pytest.raises(UsageError, match="given twice"):
        parse_assignments(["a=1", "a=2"], "--option")


def test_option_changes_the_network_region_and_is_recorded(gtt: GttSample) -> None:
    default = recast_run(BUNDLE, [str(gtt.first)], xsec=XSEC)
    looser = recast_run(BUNDLE, [str(gtt.first)], xsec=XSEC, options={"nn_threshold": "0.1"})
    assert looser["provenance"]["options"] == {"nn_threshold": 0.1}
    assert looser["yields"]["SR_nn"]["raw"] > default["yields"]["SR_nn"]["raw"]
    assert looser["yields"]["SR_loose"] == default["yields"]["SR_loose"]


def test_undistributed_file_needs_no_opset_but_a_source(tmp_path: Path, data_dir: Path) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    card_path = folder / CARD
    card = json.loads(card_path.read_text())
    entry = card["files"][0]
    del entry["opset"], entry["producer"]  # unknown for a file nobody here has opened
    card_path.write_text(json.dumps(card))
    assert check_card(card_path).skipped
    assert check_card(card_path, onnx).checked  # the graph is checked once given
    del entry["source"]
    card_path.write_text(json.dumps(card))
    with pytest.raises(Exception, match="source"):
        check_card(card_path)
    entry["source"] = "somewhere"
    entry["distributed"] = True
    card_path.write_text(json.dumps(card))
    with pytest.raises(Exception, match="opset"):
        check_card(card_path)


def test_one_given_file_serves_every_card_naming_it(
    tmp_path: Path, data_dir: Path, gtt: GttSample
) -> None:
    folder, onnx = undistributed_bundle(tmp_path)
    document = json.loads((folder / "analysis.json").read_text())
    twin = folder / "networks" / "twin.card.json"
    shutil.copy(folder / CARD, twin)
    document["networks"]["twin"] = {"path": "networks/twin.card.json", "sha256": sha256_file(twin)}
    document["regions"]["SR_loose"]["networks"] = ["twin"]
    (folder / "analysis.json").write_text(json.dumps(document, indent=2))
    without = run(folder, gtt)
    assert "--network twin=PATH" in without["skipped"]["SR_loose"]  # the bundle's key
    assert "--network signal_mlp=PATH" in without["skipped"]["SR_nn"]
    with_file = run(folder, gtt, networks={"signal_mlp": onnx})
    assert "skipped" not in with_file
    assert set(with_file["provenance"]["networks"]) == {"signal_mlp", "twin"}


def test_scan_leaves_out_regions_the_runs_skipped(tmp_path: Path) -> None:
    from recast.pipeline.scan import scan

    regions = [
        {"name": "SR_cut", "observed": 3, "background": 2.0, "background_uncertainty": 0.5},
        {"name": "SR_nn", "observed": 1, "background": 1.0, "background_uncertainty": 0.3},
    ]
    (tmp_path / "likelihood.json").write_text(json.dumps({"signal_regions": regions}))
    points = []
    for i, value in enumerate((2.0, 9.0)):
        results = {
            "schema_version": "1.0.0",
            "analysis": "X",
            "normalisation": {
                "cross_section_pb": 1.0,
                "luminosity_fb": 1.0,
                "sum_weights": 1.0,
                "factor": 1.0,
            },
            "yields": {"SR_cut": {"value": value, "mc_uncertainty": 0.1, "raw": 100}},
            "cutflows": {},
            "skipped": {"SR_nn": "network 'nn' is not available"},
            "provenance": {"recast_version": "0", "inputs": []},
        }
        (tmp_path / f"p{i}.json").write_text(json.dumps(results))
        points.append({"m": 100.0 * (i + 1), "results": f"p{i}.json"})
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"parameters": ["m"], "points": points}))
    table = scan(tmp_path / "likelihood.json", grid)
    assert [p["best_expected_region"] for p in table["points"]] == ["SR_cut", "SR_cut"]
    assert [p["excluded"] for p in table["points"]] == [False, True]
    results["skipped"] = {}  # a region nobody skipped and nobody has: still an error
    (tmp_path / "p0.json").write_text(json.dumps(results))
    (tmp_path / "p1.json").write_text(json.dumps(results))
    with pytest.raises(UsageError, match=r"no point has a yield for region.*SR_nn"):
        scan(tmp_path / "likelihood.json", grid)
