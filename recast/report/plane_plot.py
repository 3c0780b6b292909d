"""The exclusion plot of a model scan (a ``recast-plane`` document), in the style of the
ATLAS and CMS SUSY summary plots.

The points are markers coloured by their observed CLs; the observed limit is a thick black
line with thin dotted ones for the ±1σ theory (cross-section) variations, the expected limit a
dashed red line over the yellow ±1σ experimental band. The lines are the document's contours,
drawn as they are; only the band's fill is computed here, from the points' expected ±1σ CLs,
because a fill needs a region and the document holds its two edges. Needs matplotlib
(``pip install 'recast-nn[plot]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError, UsageError, closest
from ..likelihood.contours import SMALLEST_CLS, triangles
from .figure import save_figure
from .scan_plot import plot_axes

log = logging.getLogger(__name__)

#: the resolution of plane plots (dots per inch)
DPI = 150

#: the colour scale of the observed CLs
CLS_RANGE = (1e-4, 1.0)

#: readable names of the masses of common particles
PARTICLES = {
    "gluino": "g̃",
    "lsp": "χ̃⁰₁",
    "neutralino": "χ̃⁰₁",
    "chi10": "χ̃⁰₁",
    "n1": "χ̃⁰₁",
    "stop": "t̃₁",
    "sbottom": "b̃₁",
    "squark": "q̃",
    "chargino": "χ̃±₁",
    "c1": "χ̃±₁",
    "n2": "χ̃⁰₂",
    "slepton": "ℓ̃",
}

#: the contour keys of a plane document, and how each is drawn
OBSERVED: dict[str, Any] = {"color": "black", "linestyle": "-", "linewidth": 2.0}
THEORY: dict[str, Any] = {"color": "black", "linestyle": ":", "linewidth": 1.0}
EXPECTED: dict[str, Any] = {"color": "red", "linestyle": "--", "linewidth": 2.0}
BAND: dict[str, Any] = {"color": "yellow"}


def axis_label(name: str) -> str:
    """A readable axis label with its unit: ``m_gluino`` → "m(g̃) [GeV]", another mass
    ``m_XXX`` → "m_XXX [GeV]", a branching ratio (``br_*``, ``BR*``) without unit, anything
    else the name itself."""
    if name.startswith("m_"):
        particle = PARTICLES.get(name[2:])
        return f"m({particle}) [GeV]" if particle else f"{name} [GeV]"
    return name


def _matplotlib() -> Any:
    try:
        import matplotlib.figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", "the plane plot") from None
    return matplotlib


def _source(document: Mapping[str, Any]) -> str:
    return str(document.get("source", "the plane document"))


def _check(document: Mapping[str, Any]) -> None:
    if document.get("format") != "recast-plane":
        raise UsageError(
            f"{_source(document)}: field 'format' is {document.get('format')!r}, not "
            "'recast-plane': draw_plane draws the document of a model scan (recast plane)"
        )
    if document.get("version") != 1:
        raise UsageError(
            f"{_source(document)}: field 'version' is {document.get('version')!r}; this "
            "recast-nn draws version 1. Upgrade recast-nn or redo the scan."
        )


def _choices(document: Mapping[str, Any]) -> list[str]:
    return ["combined", *document.get("analyses", [])]


def _axes(document: Mapping[str, Any], x: str | None, y: str | None) -> tuple[str, str]:
    names = list(document.get("parameters", [])) or ["(none)"]
    chosen_x, chosen_y = x or document.get("x"), y or document.get("y")
    return plot_axes(names, chosen_x, chosen_y, _source(document), error=UsageError)


def _entry(point: Mapping[str, Any], analysis: str) -> Mapping[str, Any] | None:
    """The result of ``analysis`` ("combined" or an analysis) at a point, or None."""
    if point.get("status") == "failed":
        return None
    if analysis == "combined":
        found = point.get("combined")
    else:
        found = (point.get("analyses") or {}).get(analysis)
    return found if isinstance(found, Mapping) else None


def _cls(entry: Mapping[str, Any] | None, member: str) -> float:
    """One CLs of a point's result (``observed`` or an expected member), NaN when absent."""
    if entry is None:
        return np.nan
    cls = entry.get("cls") or {}
    value = cls.get("observed") if member == "observed" else (cls.get("expected") or {}).get(member)
    return np.nan if value is None else float(value)


def _title(document: Mapping[str, Any], analysis: str) -> str:
    if analysis == "combined":
        analyses = list(document.get("analyses", []))
        if len(analyses) > 1:
            name = f"best expected of {', '.join(analyses)}"
        else:
            name = analyses[0] if analyses else "combined"
    else:
        name = analysis
    description = (document.get("cross_section") or {}).get("description")
    return f"{name} — {description}" if description else name


def _lines(contours: Mapping[str, Any], key: str) -> list[np.ndarray]:
    """The polylines of one contour key, as (n, 2) arrays; [] when absent or empty."""
    lines = []
    for line in contours.get(key) or []:
        array = np.asarray(line, dtype=np.float64).reshape(-1, 2)
        if len(array) > 1:
            lines.append(array)
    return lines


def _clip(polygon: np.ndarray, column: int, sign: float) -> np.ndarray:
    """The part of a convex polygon (rows x, y, then linear fields) where ``sign`` × the
    field in ``column`` is ≤ 0; every field is interpolated along the cut edges."""
    kept: list[np.ndarray] = []
    for here, there in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        g, h = sign * here[column], sign * there[column]
        if g <= 0:
            kept.append(here)
        if (g <= 0) != (h <= 0):
            kept.append(here + g / (g - h) * (there - here))
    return np.array(kept).reshape(-1, polygon.shape[1])


def band_polygons(
    xs: np.ndarray, ys: np.ndarray, minus1: np.ndarray, plus1: np.ndarray, alpha: float
) -> list[np.ndarray] | None:
    """The ±1σ expected band as polygons ((k, 2) arrays): where exactly one of the two
    members' CLs lies below ``alpha``. Each triangle of :func:`~recast.likelihood.contours.
    triangles` is cut along the lines where log10 CLs, linear inside it, crosses log10
    ``alpha``: the band's edges are then the document's expected ±1σ contours exactly. None
    when the points with both members do not span a plane."""
    usable = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(minus1) & np.isfinite(plus1)
    xs, ys = xs[usable], ys[usable]
    simplices = triangles(xs, ys)
    if simplices is None:
        return None
    floor = np.log10(alpha)
    low = np.log10(np.maximum(minus1[usable], SMALLEST_CLS)) - floor
    high = np.log10(np.maximum(plus1[usable], SMALLEST_CLS)) - floor
    corners = np.stack([xs, ys, low, high], axis=1)[simplices]  # (m, 3, 4)
    # a triangle holds band only if one member excludes at some corner and the other not
    below = corners[..., 2:] < 0
    candidate = (below[..., 0].any(axis=1) & ~below[..., 1].all(axis=1)) | (
        below[..., 1].any(axis=1) & ~below[..., 0].all(axis=1)
    )
    polygons = []
    for triangle in corners[candidate]:
        for excluding, other in ((2, 3), (3, 2)):
            piece = _clip(_clip(triangle, excluding, 1.0), other, -1.0)
            if len(piece) >= 3:
                polygons.append(piece[:, :2])
    return polygons


def _observed_handler() -> Any:
    """A legend handler drawing a thick line between two thin dotted ones, as the observed
    limit with its theory variations appears in the plot."""
    from matplotlib.legend_handler import HandlerBase
    from matplotlib.lines import Line2D

    class Observed(HandlerBase):
        def create_artists(
            self,
            legend: Any,
            orig_handle: Any,
            xdescent: float,
            ydescent: float,
            width: float,
            height: float,
            fontsize: float,
            trans: Any,
        ) -> list[Any]:
            artists = []
            for y, style in ((0.5, OBSERVED), (0.05, THEORY), (0.95, THEORY)):
                line = Line2D([-xdescent, width - xdescent], [height * y - ydescent] * 2)
                line.set(**style)
                line.set_transform(trans)
                artists.append(line)
            return artists

    return Observed()


def draw_plane(
    document: Mapping[str, Any],
    *,
    analysis: str = "combined",
    x: str | None = None,
    y: str | None = None,
) -> Any:
    """The exclusion plot of a plane document for ``analysis`` ("combined": per point the
    analysis of best expected CLs, or one analysis by name) as a matplotlib ``Figure``
    (nothing written, no pyplot state touched)."""
    mpl = _matplotlib()
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _check(document)
    if analysis not in _choices(document):
        raise UsageError(
            f"{_source(document)}: no analysis {analysis!r} in the plane; it has "
            f"{', '.join(_choices(document))}.{closest(analysis, _choices(document))}"
        )
    x, y = _axes(document, x, y)
    points: Sequence[Mapping[str, Any]] = document.get("points", [])
    try:
        xs = np.array([p["values"][x] for p in points], dtype=np.float64)
        ys = np.array([p["values"][y] for p in points], dtype=np.float64)
    except (KeyError, TypeError) as exc:
        raise UsageError(
            f"{_source(document)}: a point lacks the value of {exc} in field 'values'; "
            "every point needs both plotted parameters"
        ) from None
    entries = [_entry(p, analysis) for p in points]
    observed = np.array([_cls(e, "observed") for e in entries])
    alpha = float(document.get("alpha", 0.05))

    figure = Figure(figsize=(7.5, 5.8), layout="constrained")
    axes = figure.subplots()
    norm = LogNorm(*CLS_RANGE)
    colours = mpl.colormaps["Blues_r"]
    handles: list[Any] = []
    labels: list[str] = []
    handler_map: dict[Any, Any] = {}

    contours = (document.get("contours") or {}).get(analysis) or {}
    # the band under everything; the legend names the observed limit first
    edges = _lines(contours, "expected_minus1") + _lines(contours, "expected_plus1")
    band = False
    if edges:
        polygons = band_polygons(
            xs,
            ys,
            np.array([_cls(e, "minus1") for e in entries]),
            np.array([_cls(e, "plus1") for e in entries]),
            alpha,
        )
        if polygons is not None:
            # edges in the face colour hide the seams between the triangles' pieces
            axes.add_collection(
                PolyCollection(
                    polygons,
                    facecolors=BAND["color"],
                    edgecolors=BAND["color"],
                    linewidths=0.5,
                    zorder=1,
                ),
                autolim=False,
            )
        else:  # no fill from the points: its edges at least
            for line in edges:
                axes.plot(*line.T, color=BAND["color"], linewidth=4, zorder=1)
        band = True
    central = _lines(contours, "observed")
    theory = _lines(contours, "observed_theory_up") + _lines(contours, "observed_theory_down")
    for line in central:
        axes.plot(*line.T, zorder=4, **OBSERVED)
    for line in theory:
        axes.plot(*line.T, zorder=4, **THEORY)
    if central and theory:
        handles.append(Line2D([], [], **OBSERVED))
        handler_map[handles[-1]] = _observed_handler()
        labels.append("Observed limit (±1σ theory)")
    elif central:
        handles.append(Line2D([], [], **OBSERVED))
        labels.append("Observed limit")
    elif theory:
        handles.append(Line2D([], [], **THEORY))
        labels.append("Observed limit ±1σ theory")

    expected = _lines(contours, "expected")
    for line in expected:
        axes.plot(*line.T, zorder=3, **EXPECTED)
    if expected or band:
        patch = Patch(facecolor=BAND["color"], edgecolor="none")
        if expected and band:
            handles.append((patch, Line2D([], [], **EXPECTED)))
            labels.append("Expected limit (±1σ experiment)")
        elif expected:
            handles.append(Line2D([], [], **EXPECTED))
            labels.append("Expected limit")
        else:
            handles.append(patch)
            labels.append("Expected limit ±1σ experiment")
    # the points over the band, under the lines: a limit is read along its whole length
    known = np.isfinite(observed)
    axes.scatter(
        xs[known],
        ys[known],
        c=np.clip(observed[known], SMALLEST_CLS, 1.0),
        norm=norm,
        cmap=colours,
        s=40,
        edgecolors="black",
        linewidths=0.6,
        zorder=2,
    )
    figure.colorbar(
        ScalarMappable(norm=norm, cmap=colours), ax=axes, label="observed CLs", extend="min"
    )
    if not known.all():
        failed = axes.scatter(
            xs[~known], ys[~known], s=40, marker="x", c="grey", linewidths=1.5, zorder=2
        )
        handles.append(failed)
        labels.append("failed point (no CLs)")

    axes.set_xlabel(axis_label(x))
    axes.set_ylabel(axis_label(y))
    axes.set_title(_title(document, analysis), fontsize="medium", wrap=True)
    _limits(axes, xs, ys)
    axes.text(
        0.03,
        0.97,
        f"{100 * (1 - alpha):g} % CL",
        transform=axes.transAxes,
        ha="left",
        va="top",
        fontsize="medium",
    )
    if handles:
        axes.legend(
            handles,
            labels,
            handler_map=handler_map,
            loc="upper right",
            fontsize="small",
            framealpha=0.9,
        )
    if not known.any():
        log.warning("%s: no point of %s has an observed CLs", _source(document), analysis)
    return figure


def _limits(axes: Any, xs: np.ndarray, ys: np.ndarray) -> None:
    """A margin around the points, and room above them for the legend, as the experiments'
    plots leave."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    if not finite.any():
        return
    for values, limits, top in (
        (xs[finite], axes.set_xlim, 0.05),
        (ys[finite], axes.set_ylim, 0.3),
    ):
        low, high = float(values.min()), float(values.max())
        span = high - low or max(abs(high), 1.0)
        limits(low - 0.05 * span, high + top * span)


def save_plane(document: Mapping[str, Any], path: str | Path, **options: Any) -> Path:
    """Write the plane plot of ``document`` to ``path`` (PNG, PDF or SVG by suffix);
    ``options`` as for :func:`draw_plane` (``analysis``, ``x``, ``y``)."""
    return save_figure(draw_plane(document, **options), path, dpi=DPI, tight=False)
