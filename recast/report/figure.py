"""Figures without pyplot: no matplotlib backend is chosen or changed for the caller.

Choosing a backend, or pyplot's global state, would switch a notebook user's backend; a
``Figure`` made directly renders through ``savefig`` alone.
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError


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
