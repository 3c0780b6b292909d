"""`recast scan --points/--template`: a model's plane through several analyses."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError

log = logging.getLogger(__name__)


def model_scan(
    analyses: Sequence[str],
    points: Path | None,
    template: Path | None,
    sets: Sequence[str],
    options: Mapping[str, Any],
) -> None:
    """Resolve the points, run the scan with a progress bar and a line per point, write the
    plane and its plot; exit 1 when a point failed (everything else is kept)."""
    from ..io import PLOT_SUFFIXES, check_outputs
    from ..likelihood.scan import ScanIncompleteError
    from ..pipeline.model_points import describe_point
    from ..pipeline.plane import PLANE_FILE
    from ..pipeline.scan_model import prepare_scan, run_scan

    n_events, output, plot = options["n_events"], options["output"], options["plot"]
    if output is None or output == "-":
        raise UsageError("a model scan writes a folder: give it with -o FOLDER")
    if n_events < 1:
        raise UsageError(f"--events {n_events}: give a positive number of events per point")
    check_outputs({"--plot": plot}, suffixes={"--plot": (*PLOT_SUFFIXES, "")})
    scan = prepare_scan(
        analyses, points, output, template=template, sets=sets, n_events=n_events,
        process=options["process"], xsec=options["xsec"], seed=options["seed"],
    )  # fmt: skip
    click.echo(
        f"{len(scan.points)} point(s) × {', '.join(b.id for b in scan.bundles)}; σ from "
        f"{scan.xsec_record['description']}; {n_events} events a point"
    )

    finished = []

    def said(summary: Mapping[str, Any]) -> None:
        finished.append(summary["name"])
        click.echo(describe_point(summary))

    try:
        plane = run_scan(scan, workers=options["workers"], scheduler=options["scheduler"],
                         on_point=said, plot=plot,
                         mu95=options.get("mu95") is not False)  # fmt: skip
    except KeyboardInterrupt as exc:
        exc.recast_hint = (  # type: ignore[attr-defined]
            f"interrupted; the {len(finished)} point(s) finished are kept in "
            f"{Path(output) / 'points'}: run the same command again to finish the others"
        )
        raise
    summary = plane["summary"]
    click.echo(
        f"{summary['excluded']} of {summary['points']} point(s) excluded at 95 % CL "
        f"({summary['rule']}); the plane: {Path(output) / PLANE_FILE}"
        + (f"; the plot: {plot}" if plot is not None else "")
    )
    if summary["failed"]:
        raise ScanIncompleteError(
            f"{len(summary['failed'])} point(s) failed: {', '.join(summary['failed'])} (see "
            f"their point.json in {Path(output) / 'points'}); the others are kept, and a rerun "
            "tries only the failed and missing ones"
        )
