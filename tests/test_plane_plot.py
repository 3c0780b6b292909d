"""The plot of a model scan (a recast-plane document), from documents built by hand."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recast.errors import UsageError
from recast.likelihood.contours import exclusion_contours, lines_to_json
from recast.report.plane_plot import axis_label, band_polygons, draw_plane, save_plane

ANALYSES = ["ATLAS_SUSY_2018_30", "DEMO_MULTIB_GLUINO"]
DESCRIPTION = "NNLO+NNLL gluino-pairs (built-in table)"

#: shifts of the excluded mass (GeV) of each curve against the observed one
SHIFTS = {"minus2": 240, "minus1": 120, "median": 50, "plus1": -20, "plus2": -90}


def cls_at(m_gluino: float, m_lsp: float, shift: float = 0.0) -> float:
    """A CLs falling tenfold per 300 GeV of m_gluino + 0.8 m_lsp, 0.05 at 2200 GeV."""
    return float(min(1.0, 10 ** (-1.3 + (m_gluino + 0.8 * m_lsp - 2200 + shift) / 300)))


def result(m_gluino: float, m_lsp: float) -> dict[str, Any]:
    observed = cls_at(m_gluino, m_lsp)
    return {
        "cls": {
            "observed": observed,
            "expected": {k: cls_at(m_gluino, m_lsp, s) for k, s in SHIFTS.items()},
        },
        "cls_theory": {"up": cls_at(m_gluino, m_lsp, -60), "down": cls_at(m_gluino, m_lsp, 60)},
        "excluded": observed < 0.05,
    }


CURVES: dict[str, Callable[[dict[str, Any]], float]] = {
    "observed": lambda r: r["cls"]["observed"],
    "expected": lambda r: r["cls"]["expected"]["median"],
    "expected_minus1": lambda r: r["cls"]["expected"]["minus1"],
    "expected_plus1": lambda r: r["cls"]["expected"]["plus1"],
    "observed_theory_up": lambda r: r["cls_theory"]["up"],
    "observed_theory_down": lambda r: r["cls_theory"]["down"],
}


def plane(
    masses: list[tuple[float, float]], failed: Collection[tuple[float, float]] = ()
) -> dict[str, Any]:
    """A plane document over (m_gluino, m_lsp) points, its contours from the points."""
    points: list[dict[str, Any]] = []
    for m_gluino, m_lsp in masses:
        point: dict[str, Any] = {
            "name": f"m_gluino_{m_gluino:g}__m_lsp_{m_lsp:g}",
            "values": {"m_gluino": m_gluino, "m_lsp": m_lsp},
        }
        if (m_gluino, m_lsp) in failed:
            point.update(status="failed", error="the fit did not converge")
        else:
            single = result(m_gluino, m_lsp)
            point.update(
                status="ok",
                combined={"analysis": ANALYSES[1], **single},
                analyses={a: {**single, "deciding": "region SR-Gtt-1L-B"} for a in ANALYSES},
            )
        points.append(point)
    xs = [p["values"]["m_gluino"] for p in points]
    ys = [p["values"]["m_lsp"] for p in points]
    contours = {
        key: lines_to_json(
            exclusion_contours(
                xs, ys, [get(p["combined"]) if p["status"] == "ok" else None for p in points]
            )
        )
        for key, get in CURVES.items()
    }
    return {
        "format": "recast-plane",
        "version": 1,
        "parameters": ["m_gluino", "m_lsp"],
        "x": "m_gluino",
        "y": "m_lsp",
        "analyses": ANALYSES,
        "alpha": 0.05,
        "cross_section": {"choice": "table", "description": DESCRIPTION},
        "points": points,
        "contours": {"combined": contours, **{a: copy.deepcopy(contours) for a in ANALYSES}},
    }


def grid(nx: int = 5, ny: int = 4) -> list[tuple[float, float]]:
    return [(g, m) for g in np.linspace(1400, 2600, nx) for m in np.linspace(1, 1201, ny)]


def legend(figure: Any) -> list[str]:
    found = figure.axes[0].get_legend()
    return [] if found is None else [t.get_text() for t in found.get_texts()]


def crosses(figure: Any) -> np.ndarray:
    """The positions of the grey crosses (failed points)."""
    for collection in figure.axes[0].collections:
        if len(collection.get_offsets()) and np.allclose(
            collection.get_facecolors()[0][:3], 0.5, atol=0.01
        ):
            return np.asarray(collection.get_offsets())
    return np.zeros((0, 2))


@pytest.fixture(autouse=True)
def _matplotlib() -> None:
    pytest.importorskip("matplotlib")


def test_a_plane_is_drawn_and_saved_as_png(tmp_path: Path) -> None:
    document = plane(grid())
    assert len(document["points"]) == 20
    assert document["contours"]["combined"]["observed"]  # the synthetic plane has a limit
    path = save_plane(document, tmp_path / "plane.png")
    assert path == tmp_path / "plane.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000

    figure = draw_plane(document)
    axes, colorbar = figure.axes
    assert axes.get_xlabel() == "m(g̃) [GeV]"
    assert axes.get_ylabel() == "m(χ̃⁰₁) [GeV]"
    assert colorbar.get_ylabel() == "observed CLs"
    assert axes.get_title() == f"best expected of {', '.join(ANALYSES)} — {DESCRIPTION}"
    assert legend(figure) == ["Observed limit (±1σ theory)", "Expected limit (±1σ experiment)"]
    assert any(t.get_text() == "95 % CL" for t in axes.texts)
    # two thick curves, two thin dotted ones, the band under them; every point a marker
    styles = sorted((line.get_linestyle(), line.get_color()) for line in axes.get_lines())
    assert ("-", "black") in styles and ("--", "red") in styles and (":", "black") in styles
    assert any(type(c).__name__ == "PolyCollection" for c in axes.collections)
    assert sum(len(c.get_offsets()) for c in axes.collections if c.get_offsets().size) >= 20
    assert len(crosses(figure)) == 0


def test_failed_points_are_grey_crosses() -> None:
    document = plane(grid(), failed={(2000.0, 401.0)})
    figure = draw_plane(document)
    np.testing.assert_array_equal(crosses(figure), [[2000.0, 401.0]])
    assert "failed point (no CLs)" in legend(figure)


def test_one_analysis_is_drawn_by_name() -> None:
    figure = draw_plane(plane(grid()), analysis=ANALYSES[0])
    assert figure.axes[0].get_title() == f"{ANALYSES[0]} — {DESCRIPTION}"


def test_an_unknown_analysis_names_those_available() -> None:
    with pytest.raises(UsageError, match="combined, ATLAS_SUSY_2018_30, DEMO_MULTIB_GLUINO"):
        draw_plane(plane(grid()), analysis="ATLAS_SUSY_2018_31")


def test_bad_documents_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="'format'"):
        draw_plane({**plane(grid()), "format": "recast-scan"})
    with pytest.raises(UsageError, match="m_stop"):
        draw_plane(plane(grid()), x="m_stop")


def test_curves_without_contours_leave_the_legend() -> None:
    document = plane(grid())
    for key in ("expected", "expected_minus1", "expected_plus1", "observed_theory_up"):
        document["contours"]["combined"][key] = []
    del document["contours"]["combined"]["observed_theory_down"]
    figure = draw_plane(document)
    assert legend(figure) == ["Observed limit"]
    assert not any(type(c).__name__ == "PolyCollection" for c in figure.axes[0].collections)

    document["contours"]["combined"] = {}
    assert legend(draw_plane(document)) == []


@pytest.mark.parametrize(
    "masses",
    [
        [(1400.0, 1.0), (1800.0, 1.0)],  # two points
        [(1400.0, 1.0), (1800.0, 1.0), (2200.0, 1.0), (2600.0, 1.0)],  # one line
    ],
)
def test_points_without_a_plane_still_draw_their_markers(
    masses: list[tuple[float, float]], tmp_path: Path
) -> None:
    document = plane(masses)
    assert all(lines == [] for lines in document["contours"]["combined"].values())
    figure = draw_plane(document)
    offsets = [c.get_offsets() for c in figure.axes[0].collections]
    assert sum(len(o) for o in offsets) == len(masses)
    assert legend(figure) == []
    assert save_plane(document, tmp_path / "few.png").exists()


def test_the_band_lies_between_the_expected_contours_exactly() -> None:
    # the ±1σ members cross 0.05 at x = 1300 and x = 1700 (linear in log CLs, so exactly)
    gx, gy = np.meshgrid(np.linspace(1000, 2500, 6), np.linspace(0, 1200, 5))
    x, y = gx.ravel(), gy.ravel()
    minus1 = 0.05 * 10 ** (-(x - 1700) / 200)
    plus1 = 0.05 * 10 ** (-(x - 1300) / 200)
    polygons = band_polygons(x, y, minus1, plus1, 0.05)
    assert polygons is not None
    # shoelace: the pieces are convex and do not overlap
    area = sum(
        0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1)))
        for p in polygons
    )
    assert area == pytest.approx(400 * 1200, rel=1e-9)
    corners = np.concatenate(polygons)
    assert corners[:, 0].min() == pytest.approx(1300) and corners[:, 0].max() == pytest.approx(1700)
    assert band_polygons(x[:2], y[:2], minus1[:2], plus1[:2], 0.05) is None


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("m_gluino", "m(g̃) [GeV]"),
        ("m_lsp", "m(χ̃⁰₁) [GeV]"),
        ("m_neutralino", "m(χ̃⁰₁) [GeV]"),
        ("m_chi10", "m(χ̃⁰₁) [GeV]"),
        ("m_stop", "m(t̃₁) [GeV]"),
        ("m_sbottom", "m(b̃₁) [GeV]"),
        ("m_squark", "m(q̃) [GeV]"),
        ("m_chargino", "m(χ̃±₁) [GeV]"),
        ("m_c1", "m(χ̃±₁) [GeV]"),
        ("m_n2", "m(χ̃⁰₂) [GeV]"),
        ("m_slepton", "m(ℓ̃) [GeV]"),
        ("m_zprime", "m_zprime [GeV]"),
        ("br_stop_to_top", "br_stop_to_top"),
        ("BR_gluino_ttbar", "BR_gluino_ttbar"),
        ("tan_beta", "tan_beta"),
    ],
)
def test_axis_labels(name: str, label: str) -> None:
    assert axis_label(name) == label
