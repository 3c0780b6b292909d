"""A model scan from what the user names: analyses, points (a folder, a points list, or a
template with its grid), the σ choice; run with an executor, plotted when asked.

Everything that can be refused is refused by :func:`prepare_scan`, before any event: an
unknown analysis, a template parameter that is not in the SLHA, a mass outside a σ table, an
LHE file without a cross-section, an output folder that holds other files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Unpack

from ..analysis.bundle import Bundle, load_bundle
from ..errors import OutputError, UsageError
from ..io import check_output
from .model_points import resolve_points
from .plane import PLANE_FILE, ModelScan, ScanRunOptions, scan_model
from .run import DEFAULT_SEED

log = logging.getLogger(__name__)

#: where a scan made from a template keeps its SLHA files, inside the output folder
SLHA_FOLDER = "slha"


def _check_folder(output: Path, inputs: Sequence[Path]) -> None:
    """A new or empty folder, or one an earlier scan wrote (its points/ or plane.json)."""
    check_output(output, inputs=inputs, field="-o/--output", folder=True)
    if output.is_dir() and any(output.iterdir()):
        ours = {"points", PLANE_FILE, SLHA_FOLDER}
        if not any((output / name).exists() for name in ours):
            raise OutputError(
                f"-o/--output {output}: the folder holds other files and no earlier scan; "
                "give a new or empty folder (or the folder of an earlier scan, to resume it)"
            )


def prepare_scan(
    analyses: Sequence[str | Path | Bundle],
    points: str | os.PathLike[str] | None,
    output: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    sets: Sequence[str] | Mapping[str, Any] = (),
    n_events: int = 2000,
    process: str | None = None,
    xsec: str | float | None = None,
    seed: int = DEFAULT_SEED,
    chunk_size: int = 1000,
) -> ModelScan:
    """The scan, checked, with every point's σ looked up; nothing generated yet. ``points``
    is a folder written by `recast points` or a JSON points list; or give ``template`` with
    ``sets`` (``["m_gluino=1800,2000", ...]`` or a grid mapping), whose SLHA files are
    written into ``output``/slha."""
    if not isinstance(n_events, int) or isinstance(n_events, bool) or n_events < 1:
        raise UsageError(f"n_events={n_events!r}: give a positive number of events per point")
    bundles = [a if isinstance(a, Bundle) else load_bundle(a) for a in analyses]
    if not bundles:
        raise UsageError("give at least one analysis to scan the points through")
    target = Path(output)
    inputs = [Path(p) for p in (points, template) if p is not None]
    _check_folder(target, inputs)
    e_cm = float(bundles[0].document["sqrt_s"]) * 1000.0
    if template is not None:
        if points is not None:
            raise UsageError("give the points as a folder or as a template with its grid, not both")
        points = _points_from_template(template, sets, target / SLHA_FOLDER, process)
    if points is None:
        raise UsageError("give the points: a folder written by `recast points`, or a template")
    parameters, found, choice, sigmas = resolve_points(
        points, process=process, xsec=xsec, e_cm=e_cm
    )
    return ModelScan(
        bundles, found, parameters, target, sigmas=sigmas, xsec_record=choice.record(),
        n_events=n_events, seed=seed, chunk_size=chunk_size,
    )  # fmt: skip


def _points_from_template(
    template: str | os.PathLike[str],
    sets: Sequence[str] | Mapping[str, Any],
    folder: Path,
    process: str | None,
) -> Path:
    """Fill the template over the grid into ``folder`` (refused before anything is written:
    a parameter that is not in the template, a value that is not a number)."""
    from ..model import load_template, parse_set, points, production, write_points
    from ..model.template import as_grid

    if not sets:
        raise UsageError("a template needs the values of its parameters (--set NAME=V1,V2,...)")
    if process is not None:
        production(process)  # an unknown process: before anything is filled
    model = load_template(template)
    grid = as_grid(sets, "the grid") if isinstance(sets, Mapping) else parse_set(sets)
    filled = points(model, grid, grid_source="--set")
    write_points(model, filled, folder, process=process)
    return folder


def run_scan(
    scan: ModelScan,
    *,
    plot: str | os.PathLike[str] | None = None,
    **options: Unpack[ScanRunOptions],
) -> dict[str, Any]:
    """Run ``scan`` (see :func:`recast.pipeline.plane.scan_model`, ``options`` as there) and
    draw its plane into ``plot`` when given; returns the plane document."""
    plane = scan_model(scan, **options)
    if plot is not None:
        from ..report.plane_plot import save_plane

        save_plane({**plane, "source": str(scan.output / PLANE_FILE)}, Path(plot))
    return plane
