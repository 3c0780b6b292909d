"""The CLs closure of the flagship on a synthetic closure report and a small likelihood."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recast.errors import UsageError
from recast.likelihood.spec import likelihood_from_document
from reference_experiment import closure_limits as cl

REGIONS = {
    "SR-Gtt-0L": {"observed": 2, "background": 1.5, "background_uncertainty": 0.9},
    "SR-Gbb-0L": {"observed": 1, "background": 1.8, "background_uncertainty": 1.0},
}


def _point(official: dict[str, float], learned: dict[str, float]) -> dict[str, Any]:
    regions: dict[str, Any] = {}
    for region in REGIONS:
        regions[region] = {
            name: {
                "yield": [10.0, y[region]],
                "error": [1.0, 0.1 * y[region]],
                "raw": [1000, 100],
                "ratio_error": [0.0, 0.05],
            }
            for name, y in (("official", official), ("learned", learned))
        }
    return {"regions": regions}


@pytest.fixture()
def spec() -> Any:
    return likelihood_from_document({"regions": REGIONS}, Path("."), "test likelihood")


def test_cls_of_the_same_yields_close_exactly_and_others_do_not(spec: Any) -> None:
    closure = {
        "points": {
            "Gtt_2100_800": _point(
                {"SR-Gtt-0L": 3.0, "SR-Gbb-0L": 1.0}, {"SR-Gtt-0L": 3.0, "SR-Gbb-0L": 1.0}
            ),
            "Gtt_1900_400": _point(
                {"SR-Gtt-0L": 4.0, "SR-Gbb-0L": 1.0}, {"SR-Gtt-0L": 6.0, "SR-Gbb-0L": 1.0}
            ),
            "Gtt_2300_300": _point(
                {"SR-Gtt-0L": 1.0, "SR-Gbb-0L": 0.5}, {"SR-Gtt-0L": 1.0, "SR-Gbb-0L": 0.5}
            ),
        }
    }
    report = cl.closure_limits(closure, spec=spec)
    same = report["points"]["Gtt_2100_800"]
    assert same["learned"]["verdict"] == same["official"]["verdict"]
    rows = [r for r in report["targets"]["cls"] if r[0] == "Gtt_2100_800"]
    assert rows and all(r[-1] for r in rows)
    shifted = report["points"]["Gtt_1900_400"]
    assert shifted["learned"]["cls"]["region SR-Gtt-0L"] < (
        shifted["official"]["cls"]["region SR-Gtt-0L"] - cl.CLS_TOLERANCE
    )
    # a 5 % larger signal lowers CLs: the MC-statistics scale of each comparison
    assert (
        shifted["learned"]["cls_shifted"]["region SR-Gtt-0L"]
        < (shifted["learned"]["cls"]["region SR-Gtt-0L"])
    )
    row = next(
        r
        for r in report["targets"]["cls"]
        if r[:3] == ["Gtt_1900_400", "region SR-Gtt-0L", "learned"]
    )
    assert row[5] > 0 and row[6] == 100 and row[7] is False
    assert report["masses"]["Gtt_1900_400"] == {"model": "Gtt", "m_gluino": 1900.0, "m_lsp": 400.0}
    counts = cl.summary(report)["learned"]
    assert counts["points"] == 3 and counts["within"] < counts["compared"]
    assert counts["within"] <= counts["consistent"] <= counts["compared"]
    table = cl.markdown(report)
    assert "| Gtt_1900_400 |" in table and "ΔCLs learned" in table
    json.dumps(report)  # plain JSON


def test_the_exclusion_figure_is_written(spec: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    points = {}
    for name, s in (
        ("Gtt_1900_400", 8.0),
        ("Gtt_2100_800", 3.0),
        ("Gtt_2300_300", 0.5),
        ("Gtt_2100_1", 4.0),
    ):
        points[name] = _point(
            {"SR-Gtt-0L": s, "SR-Gbb-0L": 0.2}, {"SR-Gtt-0L": s, "SR-Gbb-0L": 0.2}
        )
    report = cl.closure_limits({"points": points}, spec=spec)
    # 8 signal events on 1.5 ± 0.9 background with 2 observed are excluded, 0.5 are not: the
    # figure has a contour to draw
    assert report["points"]["Gtt_1900_400"]["official"]["verdict"]["excluded"] is True
    assert report["points"]["Gtt_2300_300"]["official"]["verdict"]["excluded"] is False
    path = cl.exclusion_figure(report, tmp_path / "exclusion.png")
    assert path.stat().st_size > 10_000


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "closure.json"
    bad.write_text("{}")
    assert cl.main(["--closure", str(bad), "--out", str(tmp_path / "o.json")]) == 2
    assert "no 'points'" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()
    with pytest.raises(UsageError):
        cl.masses("Gtt_1950_300")
