"""`recast scan`: a likelihood found by name, a grid file, an executor, a table and a plot.

:func:`recast.likelihood.scan.scan_points` computes; this module resolves what the user named,
starts the executor, and writes the table and the exclusion plot when asked::

    from recast.pipeline.scan import scan
    table = scan("DEMO_MULTIB_GLUINO", "grid.json", workers=2)   # under if __name__ == "__main__"
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ..analysis.bundle import Bundle
from ..arguments import arg
from ..io import write_json
from ..likelihood.errors import UndrawablePlotError
from ..likelihood.scan import load_grid, scan_points
from ..likelihood.spec import LikelihoodSpec
from ..parallel import Executor
from .limits import resolve_likelihood

log = logging.getLogger(__name__)


class ScanOptions(TypedDict, total=False):
    """How a scan runs: ``workers`` > 1 starts a local cluster of processes, ``scheduler``
    uses a running one, ``client`` an existing dask ``Client``; ``method`` is the calculator
    (``auto``, ``asymptotic``, ``exact``, ``toys``), ``negative`` what a negative yield gets
    (``clip`` or ``error``), ``with_limits`` whether μ95 is computed besides CLs,
    ``chunk_size`` how many points a task computes."""

    workers: int
    scheduler: str | None
    client: Any
    method: str
    negative: str
    with_limits: bool
    chunk_size: int | None


def scan(
    analysis: str | Path | Bundle | LikelihoodSpec,
    grid: str | Path,
    *,
    output: str | Path | None = None,
    plot: str | Path | None = None,
    **options: Unpack[ScanOptions],
) -> dict[str, Any]:
    """A verdict, CLs and μ limits per grid point of ``grid`` (a grid file), run as
    ``options`` say (:class:`ScanOptions`). Writes the table as JSON to ``output`` and the
    exclusion plot to ``plot`` only when given; the plot is drawn before anything is written,
    so a plot that fails leaves no JSON.
    """
    workers = options.get("workers", 1)
    executor = Executor(workers, options.get("scheduler"), options.get("client"))
    spec = resolve_likelihood(analysis)
    parameters, points = load_grid(grid)
    if plot is not None:  # what the grid alone says about the plot: before any point
        from ..report.scan_plot import check_drawable

        check_drawable(parameters, [p.parameters for p in points], str(grid))
    with executor:
        document = scan_points(
            spec,
            parameters,
            points,
            executor,
            grid=str(grid),
            method=options.get("method", "auto"),
            negative=options.get("negative", "clip"),
            with_limits=options.get("with_limits", True),
            chunk_size=options.get("chunk_size"),
        )
    figure = None
    if plot is not None:
        from ..report.scan_plot import draw_exclusion

        try:
            figure = draw_exclusion(document)
        except UndrawablePlotError as exc:
            if not document["failed"]:
                raise
            # failed points left too few to draw: the table is kept as for any scan with
            # failed points (the caller's failed_points() makes that exit 1), the plot is not
            log.error("%s: %s %s not written: %s", grid, arg("plot"), plot, exc)
    if output is not None:
        write_json(output, document)
    if figure is not None and plot is not None:
        from ..report.figure import save_figure
        from ..report.scan_plot import DPI

        save_figure(figure, plot, dpi=DPI, tight=False)
    return document
