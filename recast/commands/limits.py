"""recast limits and recast scan: CLs, upper limits and S95 through pyhf or closed forms."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from .group import (
    cli,
    negative_option,
    output_option,
    path_option,
    plot_option,
    reports_errors,
    stdout_console,
)

_METHODS = click.Choice(["auto", "asymptotic", "exact", "toys"])


@cli.command("limits")
@click.argument("results", required=False, type=click.Path(path_type=Path))
@path_option(
    "--regions",
    help="A region table (name, observed, background, background_uncertainty): "
    "model-independent S95 of every region.",
)
@path_option(
    "--workspace",
    help="A background-only pyhf workspace (with --patch).",
)
@path_option(
    "--patch",
    help="A signal patch or patchset in pyhf's patch format.",
)
@click.option(
    "--patch-name",
    "patch_names",
    multiple=True,
    metavar="NAME",
    help="With --patch PATCHSET: fit only the patch of this name (repeatable; all by default).",
)
@click.option(
    "--poi",
    default=None,
    metavar="NAME",
    help="With --workspace: the parameter of interest (default: the measurement's).",
)
@path_option(
    "--likelihood",
    help="With RESULTS: a likelihood other than the bundle's.",
)
@negative_option(
    "With RESULTS: a negative signal yield is clipped to zero with a warning, or refused."
)
@click.option(
    "--method",
    type=_METHODS,
    default="auto",
    show_default=True,
    help="auto picks exact counting where counts are low, asymptotics elsewhere; above 1000 "
    "events exact gives way to asymptotics (bounded memory), as the 'calculator' field says.",
)
@output_option("Write JSON (- for stdout).")
@reports_errors
def limits_command(
    results: Path | None,
    regions: Path | None,
    workspace: Path | None,
    patch: Path | None,
    patch_names: tuple[str, ...],
    poi: str | None,
    likelihood: Path | None,
    negative: str,
    method: str,
    output: str | None,
) -> None:
    """CLs and upper limits: of a run's RESULTS, of a region table, or of a workspace + patch.

    \b
    Examples:
      recast limits results.json
      recast limits --regions signal_regions.json -o s95.json
      recast limits --workspace BkgOnly.json --patch patch.json
      recast limits --workspace BkgOnly.json --patch patchset.json --patch-name Gtt_2100_1
    """
    from ..io import check_output
    from ..likelihood.limits import limits_for_regions, limits_for_workspace
    from ..pipeline.limits import limits_for_results
    from ..report import limits_table

    forms = [results is not None, regions is not None, workspace is not None or patch is not None]
    if sum(forms) != 1:
        raise UsageError(
            "give exactly one of: RESULTS, --regions FILE, or --workspace FILE --patch FILE"
        )
    check_output(output, inputs=[results, regions, workspace, patch, likelihood])
    if patch_names and patch is None:
        raise UsageError("--patch-name selects patches of --patch PATCHSET; give --patch too")
    if poi is not None and workspace is None:
        raise UsageError("--poi names the parameter of interest of --workspace; give it too")
    console = stdout_console()
    if regions is not None:
        document = limits_for_regions(regions, method=method, output=output)
        tables = [limits_table.s95_table(document)]
    elif workspace is not None or patch is not None:
        if workspace is None or patch is None:
            raise UsageError("--workspace and --patch go together")
        document = limits_for_workspace(
            workspace,
            patch,
            patch_names=list(patch_names) or None,
            poi=poi,
            method=method,
            output=output,
        )
        tables = [limits_table.workspace_table(document)]
    else:
        assert results is not None
        document = limits_for_results(
            results, likelihood=likelihood, method=method, negative=negative, output=output
        )
        tables = limits_table.limits_tables(document["limits"])
    if output != "-":
        for table in tables:
            console.print(table)
        if results is not None:  # the run's verdict, as `recast run` prints it
            from .analysis import print_verdict

            print_verdict(console, document, table=False)


@cli.command("scan")
@click.argument("analysis", metavar="ANALYSIS")
@path_option(
    "--grid",
    required=True,
    help="Signal points with their region yields (JSON).",
)
@click.option("--workers", type=int, default=1, show_default=True)
@click.option(
    "--scheduler",
    default=None,
    help="Address of a running Dask scheduler (tcp://HOST:PORT); it must answer in ten seconds.",
)
@click.option("--method", type=_METHODS, default="auto", show_default=True)
@negative_option("A negative signal yield is clipped to zero with a warning, or refused.")
@output_option("Write the table as JSON (- for stdout).")
@plot_option("Write the exclusion plot (CLs across the plane, 0.05 contour).")
@reports_errors
def scan_command(
    analysis: str,
    grid: Path,
    workers: int,
    scheduler: str | None,
    method: str,
    negative: str,
    output: str | None,
    plot: Path | None,
) -> None:
    """CLs and limits over a grid of signal points, in parallel with Dask.

    Example: recast scan EXAMPLE_JETS_MET --grid grid.json --workers 2 --plot exclusion.png
    """
    from ..analysis.bundle import locate
    from ..io import PLOT_SUFFIXES, check_outputs
    from ..likelihood.scan import failed_points
    from ..pipeline.scan import scan
    from ..report.limits_table import scan_table

    check_outputs(
        {"-o/--output": output, "--plot": plot},
        # a likelihood file or region table is a file; a bundle is located (and checked)
        inputs=[grid, Path(analysis) if Path(analysis).is_file() else locate(analysis)],
        suffixes={"--plot": (*PLOT_SUFFIXES, "")},
    )
    document = scan(
        analysis,
        grid,
        workers=workers,
        scheduler=scheduler,
        method=method,
        negative=negative,
        output=output,
        plot=plot,
    )
    if output != "-":
        stdout_console().print(scan_table(document))
    error = failed_points(document)
    if error is not None:  # written, but a scan with failed points is not a success
        raise error
