"""Figures without pyplot: no matplotlib backend is chosen or changed for the caller.

Choosing a backend, or pyplot's global state, would switch a notebook user's backend; a
``Figure`` made directly renders through ``savefig`` alone. :func:`save_figure` writes one
atomically and reproducibly; :func:`stacked_panels`, :data:`MARKER` and :func:`ratio_panel`
are the style the closure plots share (a main panel over a ratio or difference panel, points
with error bars over lines).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError
from ..io import atomic_open

log = logging.getLogger(__name__)

#: data points with error bars: small round markers, no connecting line
MARKER: dict[str, Any] = {"fmt": "o", "ms": 3}


def new_figure(purpose: str, **options: Any) -> Any:
    """A ``matplotlib.figure.Figure`` (``figsize``, ``layout``, ...); ``purpose`` names what
    needs it in the error when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", purpose) from None
    return Figure(**options)


def subplots(
    purpose: str,
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] | None = None,
    **options: Any,
) -> tuple[Any, Any]:
    """(figure, axes) as ``pyplot.subplots`` gives them, without pyplot."""
    figure = new_figure(purpose, figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **options)


def stacked_panels(
    purpose: str,
    rows: int,
    columns: int,
    *,
    panel: tuple[float, float],
    heights: tuple[float, float],
    **options: Any,
) -> tuple[Any, list[list[tuple[Any, Any]]]]:
    """A grid of ``rows`` × ``columns`` cells of ``panel`` inches (width, height), each a main
    panel over a smaller one in the ratio ``heights``: (figure, ``cells[row][column]`` = (top,
    bottom)). ``options`` go to ``subplots`` (e.g. ``sharex``)."""
    figure, axes = subplots(
        purpose,
        2 * rows,
        columns,
        figsize=(panel[0] * columns, panel[1] * rows),
        gridspec_kw={"height_ratios": list(heights) * rows},
        squeeze=False,
        **options,
    )
    cells = [[(axes[2 * r, c], axes[2 * r + 1, c]) for c in range(columns)] for r in range(rows)]
    return figure, cells


def save_figure(figure: Any, path: str | Path, *, dpi: float, tight: bool = True) -> Path:
    """Write ``figure`` to ``path`` atomically (a failure leaves no half-written file), in the
    format its suffix names (PNG without one), laid out tightly first unless ``tight`` is
    False. A PNG carries no matplotlib version stamp, so the same figure gives the same bytes
    whichever matplotlib drew it."""
    if tight:
        figure.tight_layout()
    path = Path(path)
    kind = path.suffix.lstrip(".").lower() or "png"
    with atomic_open(path, "wb") as handle:
        figure.savefig(
            handle,
            format=kind,
            dpi=dpi,
            metadata={"Software": None} if kind == "png" else None,
        )
    log.info("wrote %s", path)
    return path


def ratio_panel(
    axis: Any, reference: float, limits: tuple[float, float], label: str | None = None
) -> None:
    """The lower panel of a closure plot: a line at ``reference`` (0 for a difference, 1 for
    a ratio), the y range ``limits`` and its label."""
    axis.axhline(reference, color="black", lw=0.8)
    axis.set_ylim(*limits)
    if label is not None:
        axis.set_ylabel(label)
