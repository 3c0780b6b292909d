"""The flagship's sample grid and the seeded sample script."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest

from recast.errors import EventFileError, UsageError
from recast.events.cache import read_cache, read_cache_header
from recast.objects import ObjectConfig
from recast.objects.cache import check_config
from reference_experiment import REFERENCE_OBJECTS
from reference_experiment import grid as grid_module
from reference_experiment.grid import GridError, load_grid, parse_grid
from reference_experiment.read import paired_chunks, sample_chunks, sample_summary
from reference_experiment.samples import derived_seed, main, make_samples, plan, prepare_output


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return copy.deepcopy(load_grid().document)


def test_the_shipped_grid_keeps_held_out_points_apart() -> None:
    grid = load_grid()
    training = {(s.model, s.m_gluino, s.m_lsp) for s in grid.samples("training")}
    held_out = {(s.model, s.m_gluino, s.m_lsp) for s in grid.samples("held_out")}
    scan = {(s.model, s.m_gluino, s.m_lsp) for s in grid.samples("scan")}
    assert training and held_out and scan
    assert not training & held_out and not training & scan and not held_out & scan
    assert {s.model for s in grid.samples("held_out")} == {"Gtt", "Gbb"}
    assert [s.name for s in grid.samples("ttbar")] == ["ttbar"]
    backgrounds = [s.name for s in grid.samples("background")]
    assert backgrounds == ["ttbar", "ttbar_boosted"]  # what the experiment trains on
    assert [s.name for s in grid.samples("estimate")] == ["ttbar_boosted_estimate"]
    assert len(grid.samples("all")) == len(training) + len(held_out) + len(scan) + 3
    assert grid.samples("signal") == (
        grid.samples("training") + grid.samples("held_out") + grid.samples("scan")
    )
    for sample in grid.samples("all"):  # sizes and rates are stated, not left empty
        assert sample.events >= 1000
    assert grid.document["measured"]["seconds_per_event"]
    assert grid.sha256 == parse_grid(copy.deepcopy(grid.document), "elsewhere.json").sha256


def test_a_held_out_point_used_for_training_is_refused(document: dict[str, Any]) -> None:
    bad = copy.deepcopy(document)
    bad["training"]["Gtt"].append(list(bad["held_out"]["Gtt"][0]))
    with pytest.raises(GridError, match="held-out or scan point must never be a training"):
        parse_grid(bad, "grid.json")
    bad = copy.deepcopy(document)
    bad["scan"]["Gbb"].append(list(bad["training"]["Gbb"][0]))
    with pytest.raises(GridError, match=r"scan.Gbb\[20\].*is also in training.Gbb\[0\]"):
        parse_grid(bad, "grid.json")


def test_scan_points_and_estimate_samples_are_optional(document: dict[str, Any]) -> None:
    small = {k: v for k, v in document.items() if k not in ("scan", "estimate")}
    grid = parse_grid(small, "grid.json")
    assert grid.samples("scan") == [] and grid.samples("estimate") == []
    bad = copy.deepcopy(document)
    bad["estimate"]["ttbar_boosted_estimate"]["settings"] = "PhaseSpace:pTHatMin = 400"
    where = r"estimate\.ttbar_boosted_estimate\.settings: must be a list"
    with pytest.raises(GridError, match=where):
        parse_grid(bad, "grid.json")


def test_every_grid_problem_is_reported_at_once(document: dict[str, Any]) -> None:
    bad = copy.deepcopy(document)
    bad["training"]["Gtt"].append([900, 800])  # g~ -> t t chi closed
    bad["held_out"]["Gbb"].append([2000])
    bad["training"]["Gqq"] = [[2000, 1]]
    bad["events"]["training"] = 0
    with pytest.raises(GridError) as info:
        parse_grid(bad, "grid.json")
    message = str(info.value)
    assert "4 problem(s)" in message
    assert "training.Gtt[8]: Gtt point [900.0, 800.0]" in message and "closed" in message
    assert "held_out.Gbb[4]: [2000] is not a pair" in message
    assert "training.Gqq: unknown model" in message
    assert "events.training: 0 must be an integer >= 1" in message
    with pytest.raises(GridError, match="models: missing"):
        parse_grid({k: v for k, v in document.items() if k != "models"}, "grid.json")


def test_a_grid_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "grid.json"
    path.write_text("{not json")
    with pytest.raises(GridError, match="not valid JSON"):
        load_grid(path)
    with pytest.raises(UsageError, match="cannot read the sample grid"):
        load_grid(tmp_path / "missing.json")


def test_unknown_sample_names_and_bad_mass_points() -> None:
    grid = load_grid()
    with pytest.raises(UsageError, match=r"no sample 'Gtt_1950_300'.*Only the mass points"):
        grid.samples("Gtt_1950_300")
    with pytest.raises(UsageError, match="Did you mean 'ttbar'"):
        grid.samples("tbar")


def test_blocks_and_seeds() -> None:
    grid = load_grid()
    blocks = plan(grid, "Gtt_2100_1", Path("out"), seed=5, events=2500)
    assert [(b.first, b.events) for b in blocks] == [(0, 1000), (1000, 1000), (2000, 500)]
    assert len({b.pythia_seed for b in blocks}) == 3
    assert all(1 <= b.pythia_seed <= 900_000_000 for b in blocks)
    assert blocks[0].pythia_seed == derived_seed(5, "Gtt_2100_1", "pythia", 0)
    assert plan(grid, "Gtt_2100_1", Path("out"), seed=5, events=800)[0].key()["pythia_seed"] == (
        blocks[0].pythia_seed
    )  # a smaller sample starts with the same events
    assert plan(grid, "Gtt_2100_1", Path("o"), 6, 10)[0].pythia_seed != blocks[0].pythia_seed


def test_output_folder_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="must be a folder"):
        prepare_output(a_file)
    with pytest.raises(UsageError, match="cannot create the output folder"):
        prepare_output(a_file / "below")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(UsageError, match="not writable"):
        prepare_output(tmp_path / "fine")


def test_bad_arguments_fail_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"events": 0}, "--events must be an integer >= 1"),
        ({"seed": -3}, "--seed must be"),
        ({"workers": 0}, "--workers must be"),
    ]
    for kwargs, match in bad:
        with pytest.raises(UsageError, match=match):
            make_samples("ttbar", out, **kwargs)
    with pytest.raises(UsageError, match="no sample"):
        make_samples("Gtt_1_1", out)
    assert not out.exists()


def test_the_command_line_reports_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--what", "Gtt_1950_300", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Gtt_1950_300" in err and "Traceback" not in err
    assert main(["--what", "held_out", "--list", "--events", "7"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 8 and all(line.split()[-2] == "7" for line in listed)


def _tiny_grid(document: dict[str, Any]) -> grid_module.Grid:
    tiny = copy.deepcopy(document)
    tiny["block_size"] = 6
    return parse_grid(tiny, "tiny-grid.json")


def test_a_tiny_run_writes_objects_and_detector_blocks(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    grid = _tiny_grid(document)
    out = tmp_path / "samples"
    manifest = make_samples("Gbb_2100_1,ttbar", out, events=8, seed=3, grid=grid)
    assert set(manifest["samples"]) == {"Gbb_2100_1", "ttbar"}
    summary = json.loads((out / "Gbb_2100_1" / "sample.json").read_text())
    assert summary["events"] == 8 and [b["events"] for b in summary["blocks"]] == [6, 2]
    assert 0 < summary["cross_section_pb"] < 0.01  # a 2.1 TeV gluino pair: well below 10 fb
    assert (out / "Gbb_2100_1" / "Gbb_2100_1.slha").is_file()
    for name in ("Gbb_2100_1", "ttbar"):
        folder = out / name
        objects = ak.concatenate(list(_read(folder, "objects")))
        reco = ak.concatenate(list(_read(folder, "detector")))
        np.testing.assert_array_equal(objects.event_number, np.arange(8))
        np.testing.assert_array_equal(reco.event_number, np.arange(8))
        assert {"jets", "electrons", "muons", "met", "met_soft"} <= set(reco.fields)
        header = read_cache_header(folder / "detector_0000.parquet")
        assert header.extra["key"]["object_config"]["jet_exclude_leptons"] is True
        assert header.extra["cross_section_pb"] > 0
        assert header.extra["content"].startswith("reference detector")
        objects_header = read_cache_header(folder / "objects_0000.parquet").extra
        check_config(folder / "objects_0000.parquet", objects_header, REFERENCE_OBJECTS)
        with pytest.raises(UsageError, match="other options"):
            check_config("x", objects_header, ObjectConfig())
    assert manifest["samples"]["ttbar"]["cross_section_pb"] > 10.0  # pb, tt̄ above 150 GeV
    # a rerun reuses every finished block; the same seed elsewhere gives the same events
    again = make_samples("Gbb_2100_1", out, events=8, seed=3, grid=grid)
    assert again["samples"]["Gbb_2100_1"]["events"] == 8
    reused = json.loads((out / "Gbb_2100_1" / "sample.json").read_text())["blocks"]
    assert all(b["reused"] for b in reused)
    pairs = list(paired_chunks(out, "ttbar"))
    assert [len(t) for t, _ in pairs] == [6, 2]
    assert sample_summary(out, "ttbar")["events"] == 8
    with pytest.raises(UsageError, match="--what Gtt_2100_1 --out"):
        next(sample_chunks(out, "Gtt_2100_1"))
    with pytest.raises(UsageError, match="kind 'truth'"):
        next(sample_chunks(out, "ttbar", "truth"))
    (out / "ttbar" / "objects_0001.parquet").unlink()
    with pytest.raises(EventFileError, match="block 1 of ttbar is missing"):
        list(paired_chunks(out, "ttbar"))
    other = tmp_path / "other"
    make_samples("Gbb_2100_1", other, events=6, seed=3, grid=grid)
    first = ak.to_list(next(_read(other / "Gbb_2100_1", "detector")))
    assert first == ak.to_list(next(_read(out / "Gbb_2100_1", "detector")))


def _read(folder: Path, kind: str) -> Any:
    for path in sorted(folder.glob(f"{kind}_*.parquet")):
        yield from read_cache(path)


def test_two_worker_processes_make_the_same_events(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    grid = _tiny_grid(document)
    make_samples("Gtt_2100_800", tmp_path / "one", events=9, seed=4, grid=grid)
    make_samples("Gtt_2100_800", tmp_path / "two", events=9, seed=4, workers=2, grid=grid)
    one = [ak.to_list(c) for c in sample_chunks(tmp_path / "one", "Gtt_2100_800")]
    two = [ak.to_list(c) for c in sample_chunks(tmp_path / "two", "Gtt_2100_800")]
    assert len(one) == 2 and one == two
