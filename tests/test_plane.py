"""Model scans: points generated once and run through several analyses, σ per point with its
±1σ, resumable, failures recorded, contours; bad input refused before any event."""

from __future__ import annotations

import contextlib
import io
import json
import re
import runpy
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import (
    EventFileError,
    GenerationError,
    OutputError,
    SchedulerUnreachableError,
)
from recast.events.slha import gluino_template
from recast.pipeline import plane as plane_module
from recast.pipeline.plane import PLANE_FILE, POINT_FILE, rescaled
from recast.pipeline.scan_model import prepare_scan, run_scan
from recast.xsec import CrossSection, cross_section

from .docs_pages import DOCS

pytest.importorskip("pythia8mc")

ANALYSIS = "DEMO_MULTIB_GLUINO"
GRID = ["m_gluino=1900,2500", "m_lsp=1,900"]
EVENTS = 100


def write_template(folder: Path) -> Path:
    path = folder / "gtt.slha.in"
    path.write_text(gluino_template())
    return path


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The worked example of docs/recasting-your-model.md, run as written in an empty folder:
    a 2 × 2 Gtt plane through the flagship at 100 events a point (about 30 s)."""
    folder = tmp_path_factory.mktemp("plane")
    script = folder / "page.py"
    page = (DOCS / "recasting-your-model.md").read_text()
    script.write_text("\n".join(re.findall(r"```python\n(.*?)```", page, re.S)))
    output = io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(output):
        namespace = runpy.run_path(str(script), run_name="__main__")
    printed = output.getvalue()
    # what the page says it prints, with what a CPU may change left out (the CLs digits)
    assert "2 of 4 point(s) excluded (DEMO_MULTIB_GLUINO)" in printed
    assert "excluded: m_gluino_1900__m_lsp_1, m_gluino_1900__m_lsp_900" in printed
    assert "observed contour: 1 line(s)" in printed and "same plane: True" in printed
    assert (folder / "plane.png").stat().st_size > 10_000
    # σ exactly; the CLs of the allowed points within 10 % (onnxruntime's kernels differ a
    # little between CPUs; the excluded points' tiny CLs move by more and are left out)
    rows = re.findall(r"│ (2500 +│ \d+ +│ [^│]+│ allowed[^\n]+)", page)
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.split("│")]
        mine = re.search(rf"│ 2500 +│ {cells[1]} +│ ([^│]+)│ allowed +│[^│]+│ ([^│]+)│", printed)
        assert mine is not None, row
        assert mine.group(1).strip() == cells[2]
        assert float(mine.group(2)) == pytest.approx(float(cells[5]), rel=0.1)
    return folder, namespace["plane"].document


def test_every_point_is_normalised_to_its_table_cross_section(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    folder, plane = scanned
    assert plane["format"] == "recast-plane"
    assert [p["status"] for p in plane["points"]] == ["ok"] * 4
    assert plane["cross_section"]["kind"] == "table"
    for point in plane["points"]:
        sigma = cross_section("gluino-pairs", point["values"]["m_gluino"])
        assert point["cross_section"]["value_pb"] == pytest.approx(sigma.value_pb, rel=1e-9)
        results = json.loads((folder / "plane/points" / point["name"] / f"{ANALYSIS}.json")
                             .read_text())  # fmt: skip
        assert results["normalisation"]["cross_section_pb"] == pytest.approx(sigma.value_pb)
        assert "NNLO+NNLL" in results["normalisation"]["cross_section_source"]
        assert results["limits"]["verdict"]["excluded"] == point["combined"]["excluded"]
        summary = point["analyses"][ANALYSIS]
        # more signal at σ + 1σ: a smaller CLs; less at σ − 1σ: a larger one
        assert summary["cls_theory"]["up"] <= summary["cls"]["observed"]
        assert summary["cls_theory"]["down"] >= summary["cls"]["observed"]
    assert plane["summary"]["points"] == 4
    assert set(plane["contours"]) == {"combined", ANALYSIS}


def test_the_heavier_gluino_is_less_excluded(scanned: tuple[Path, dict[str, Any]]) -> None:
    _, plane = scanned
    cls = {(p["values"]["m_gluino"], p["values"]["m_lsp"]): p["combined"]["cls"]["observed"]
           for p in plane["points"]}  # fmt: skip
    assert cls[(2500.0, 1.0)] > cls[(1900.0, 1.0)]
    assert cls[(2500.0, 900.0)] > cls[(1900.0, 900.0)]


def _copy(scanned: tuple[Path, dict[str, Any]], tmp_path: Path) -> tuple[Path, Path]:
    folder, _ = scanned
    shutil.copytree(folder / "plane", tmp_path / "plane")
    return tmp_path / "plane", folder / "gtt.slha.in"


def _no_events(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a stored point was generated again")


def test_a_rerun_generates_nothing_and_gives_the_same_plane(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, template = _copy(scanned, tmp_path)
    monkeypatch.setattr(plane_module, "run_unit_chains", _no_events)
    scan = prepare_scan([ANALYSIS], None, output, template=template, sets=GRID, n_events=EVENTS)
    again = run_scan(scan, progress=False)
    first = scanned[1]
    assert [p["combined"] for p in again["points"]] == [p["combined"] for p in first["points"]]
    assert again["contours"] == first["contours"]


def test_only_missing_and_unreadable_points_are_generated(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, template = _copy(scanned, tmp_path)
    shutil.rmtree(output / "points" / "m_gluino_2500__m_lsp_900")  # an interrupted scan
    (output / "points" / "m_gluino_2500__m_lsp_1" / POINT_FILE).write_text('{"status": "ok",')
    generated = []
    real = plane_module.run_unit_chains

    def counting(unit: Any, options: Any) -> Any:
        generated.append(unit.path)
        return real(unit, options)

    monkeypatch.setattr(plane_module, "run_unit_chains", counting)
    scan = prepare_scan([ANALYSIS], None, output, template=template, sets=GRID, n_events=EVENTS)
    plane = run_scan(scan, progress=False)
    # the missing point and the one whose summary was cut short; no other
    assert {Path(path).stem for path in generated} == {
        "m_gluino_2500__m_lsp_900",
        "m_gluino_2500__m_lsp_1",
    }
    assert [p["status"] for p in plane["points"]] == ["ok"] * 4


def test_another_cross_section_rescales_without_events(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, template = _copy(scanned, tmp_path)
    monkeypatch.setattr(plane_module, "run_unit_chains", _no_events)
    # the two points at 1900 GeV of the stored plane (each point's limits take seconds)
    scan = prepare_scan([ANALYSIS], None, output, template=template,
                        sets=["m_gluino=1900", "m_lsp=1,900"], n_events=EVENTS,
                        xsec="0.5fb")  # fmt: skip
    plane = run_scan(scan, progress=False)
    assert len(plane["points"]) == 2
    for point, before in zip(plane["points"], scanned[1]["points"][:2], strict=True):
        assert point["name"] == before["name"]
        assert point["cross_section"]["value_pb"] == pytest.approx(5e-4)
        assert point["cross_section"]["xsec"]["kind"] == "fixed"
        name = f"points/{point['name']}/{ANALYSIS}.json"
        stored = json.loads((output / name).read_text())
        original = json.loads((scanned[0] / "plane" / name).read_text())
        ratio = 5e-4 / before["cross_section"]["value_pb"]
        assert stored["normalisation"]["cross_section_pb"] == pytest.approx(5e-4)
        for region, entry in stored["yields"].items():
            assert entry["value"] == pytest.approx(original["yields"][region]["value"] * ratio)
            assert entry["raw"] == original["yields"][region]["raw"]
        assert "limits" in stored
        assert "cls_theory" not in point["analyses"][ANALYSIS]  # a fixed σ has no band


def test_the_generator_choice_after_a_table_takes_the_events_own_sigma(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Going back to Pythia's σ needs no events either: it is read from the stored
    documents' provenance, not from the σ they were last normalised to."""
    output, template = _copy(scanned, tmp_path)
    monkeypatch.setattr(plane_module, "run_unit_chains", _no_events)
    scan = prepare_scan([ANALYSIS], None, output, template=template,
                        sets=["m_gluino=1900", "m_lsp=1"], n_events=EVENTS,
                        xsec="generator")  # fmt: skip
    point = run_scan(scan, progress=False)["points"][0]
    stored = json.loads((output / "points" / point["name"] / f"{ANALYSIS}.json").read_text())
    estimates = stored["provenance"]["generator_cross_sections_pb"]
    pythia = sum(e["value"] * e["events"] for e in estimates) / sum(e["events"] for e in estimates)
    assert point["cross_section"]["value_pb"] == pytest.approx(pythia)
    assert stored["normalisation"]["cross_section_pb"] == pytest.approx(pythia)
    # Pythia's LO σ lies about a factor 2 below the NNLO+NNLL table here
    table = cross_section("gluino-pairs", 1900).value_pb
    assert 0.3 < pythia / table < 0.7


def test_rescaled_scales_yields_cutflows_and_drops_limits() -> None:
    document = {
        "normalisation": {"cross_section_pb": 0.002, "factor": 0.5, "cross_section_source": "x"},
        "yields": {"SR": {"value": 4.0, "mc_uncertainty": 1.0, "raw": 8}},
        "cutflows": {"SR": {"sumw": [10.0, 4.0], "sumw2": [5.0, 2.0], "raw": [20, 8]}},
        "limits": {"verdict": {}},
    }
    sigma = CrossSection("gluino-pairs", "NNLO+NNLL", 0.006, "table")
    out = rescaled(document, sigma)
    assert out["yields"]["SR"] == {"value": 12.0, "mc_uncertainty": 3.0, "raw": 8}
    assert out["cutflows"]["SR"]["sumw"] == [30.0, 12.0]
    assert out["cutflows"]["SR"]["sumw2"] == pytest.approx([45.0, 18.0])
    assert out["normalisation"]["factor"] == pytest.approx(1.5)
    assert "limits" not in out and "limits" in document  # the input is not touched


def test_a_point_that_fails_is_recorded_and_the_scan_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = write_template(tmp_path)
    real = plane_module.run_unit_chains

    def failing(unit: Any, options: Any) -> Any:
        if "m_gluino_2500" in unit.path:
            raise GenerationError("Pythia stopped after 10 failed events (a test)")
        return real(unit, options)

    monkeypatch.setattr(plane_module, "run_unit_chains", failing)
    result = CliRunner().invoke(cli, [
        "scan", ANALYSIS, "--template", str(template), "--set", "m_gluino=1900,2500",
        "--set", "m_lsp=1", "--events", "50", "-o", str(tmp_path / "out"),
    ])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "m_gluino_2500__m_lsp_1: FAILED: GenerationError" in result.output
    assert "1 point(s) failed: m_gluino_2500__m_lsp_1" in result.output
    assert "Traceback" not in result.output
    failed = json.loads((tmp_path / "out/points/m_gluino_2500__m_lsp_1" / POINT_FILE).read_text())
    assert failed["status"] == "failed" and "Pythia stopped" in failed["error"]
    plane = json.loads((tmp_path / "out" / PLANE_FILE).read_text())
    assert plane["summary"]["failed"] == ["m_gluino_2500__m_lsp_1"]
    assert [p["status"] for p in plane["points"]] == ["ok", "failed"]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["m_gluino=1900", "m_lsp=1", "m_neutralino=1"], "parameter 'm_neutralino' is not in"),
        (["m_gluino=1900,9000", "m_lsp=1"], "point m_gluino_9000__m_lsp_1"),
    ],
)
def test_bad_points_are_refused_before_any_event(
    tmp_path: Path, sets: list[str], message: str
) -> None:
    template = write_template(tmp_path)
    args = ["scan", ANALYSIS, "--template", str(template), "-o", str(tmp_path / "out")]
    for option in sets:
        args += ["--set", option]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "points").exists()


def test_an_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recast.parallel

    monkeypatch.setattr(recast.parallel, "CONNECT_TIMEOUT", 1)  # 10 s in use; the same path
    template = write_template(tmp_path)
    scan = prepare_scan([ANALYSIS], None, tmp_path / "out", template=template,
                        sets=["m_gluino=1900", "m_lsp=1"], n_events=10)  # fmt: skip
    with pytest.raises(SchedulerUnreachableError, match=r"tcp://127\.0\.0\.1:9"):
        run_scan(scan, scheduler="tcp://127.0.0.1:9", progress=False)


def test_an_lhe_point_without_a_cross_section_is_refused(tmp_path: Path) -> None:
    lhe = tmp_path / "point.lhe"
    lhe.write_text(
        '<LesHouchesEvents version="3.0">\n<init>\n2212 2212 6.5e3 6.5e3 0 0 0 0 3 1\n'
        "0.0 0.0 1.0 1\n</init>\n</LesHouchesEvents>\n"
    )
    points = tmp_path / "points.json"
    points.write_text(json.dumps([{"name": "a", "values": {"m": 1, "n": 2}, "lhe": "point.lhe"}]))
    with pytest.raises(EventFileError, match=r"point\.lhe: an LHE without a cross-section"):
        prepare_scan([ANALYSIS], points, tmp_path / "out", n_events=10)


def test_an_output_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("keep me")
    template = write_template(tmp_path)
    with pytest.raises(OutputError, match="holds other files"):
        prepare_scan([ANALYSIS], None, tmp_path / "out", template=template,
                     sets=["m_gluino=1900", "m_lsp=1"])  # fmt: skip
    assert (tmp_path / "out" / "thesis.tex").read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", ANALYSIS], "give the points with one of"),
        (["scan", ANALYSIS, "EXAMPLE_JETS_MET", "--grid", "g.json"], "give one ANALYSIS"),
        (["scan", ANALYSIS, "--set", "m=1", "--points", "p"], "--set gives the values"),
        (["scan", ANALYSIS, "--points", "p"], "a model scan writes a folder: give it with -o"),
        (["scan", ANALYSIS, "--points", "p", "-o", "out", "--events", "0"], "--events 0"),
    ],
)
def test_scan_modes_are_checked(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_an_interrupted_scan_says_what_it_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recast.pipeline import scan_model

    def interrupted(scan: Any, *, on_point: Any, **options: Any) -> Any:
        on_point({"name": "m_gluino_1900__m_lsp_1", "status": "failed", "error": "a test"})
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_model, "run_scan", interrupted)
    template = write_template(tmp_path)
    result = CliRunner().invoke(cli, [
        "scan", ANALYSIS, "--template", str(template), "--set", "m_gluino=1900,2500",
        "--set", "m_lsp=1", "-o", str(tmp_path / "out"),
    ])  # fmt: skip
    assert result.exit_code == 130
    assert "interrupted; the 1 point(s) finished are kept in" in result.output
    assert "run the same command again to finish the others" in result.output
