"""recast limits and recast scan: CLs, upper limits and S95 through pyhf or closed forms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from ..errors import UsageError
from .group import (
    F,
    cli,
    negative_option,
    output_option,
    path_option,
    plot_option,
    reports_errors,
    stdout_console,
)

_METHODS = click.Choice(["auto", "asymptotic", "exact", "toys"])


def mu95_option(help_text: str) -> Callable[[F], F]:
    """``--mu95/--no-mu95``: None when not given, so that a form without μ95 can refuse it."""
    return click.option("--mu95/--no-mu95", "mu95", default=None, help=help_text)


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
@mu95_option(
    "With RESULTS or --workspace: compute the upper limit μ95 (observed and expected band) "
    "besides CLs at μ = 1 (the default), or not: --no-mu95 gives CLs alone, a few fits."
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
    mu95: bool | None,
    output: str | None,
) -> None:
    """CLs and upper limits: of a run's RESULTS, of a region table, or of a workspace + patch.

    \b
    Examples:
      recast limits results.json
      recast limits --regions signal_regions.json -o s95.json
      recast limits --workspace BkgOnly.json --patch patch.json
      recast limits --workspace BkgOnly.json --patch patchset.json --patch-name Gtt_2100_1
      recast limits --workspace BkgOnly.json --patch patch.json --no-mu95
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
    if regions is not None and mu95 is not None:
        raise UsageError(
            f"--{'' if mu95 else 'no-'}mu95 applies to RESULTS and --workspace (μ95 is the "
            "upper limit on a signal's strength); --regions gives each region's S95, which "
            "has no signal to scale: drop the option"
        )
    with_limits = True if mu95 is None else mu95
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
            with_limits=with_limits,
            output=output,
        )
        tables = [limits_table.workspace_table(document)]
    else:
        assert results is not None
        document = limits_for_results(
            results,
            likelihood=likelihood,
            method=method,
            negative=negative,
            with_limits=with_limits,
            output=output,
        )
        tables = limits_table.limits_tables(document["limits"])
    if output != "-":
        for table in tables:
            console.print(table)
        if results is not None:  # the run's verdict, as `recast run` prints it
            from .analysis import print_verdict

            print_verdict(console, document, table=False)


@cli.command("scan")
@click.argument("analyses", metavar="ANALYSIS...", nargs=-1, required=True)
@path_option(
    "--grid",
    help="Signal points with their region yields (JSON): CLs of one analysis, no events.",
)
@path_option(
    "--points",
    help="A model's points: a folder written by `recast points`, or a JSON list of points "
    "with an SLHA, LHE or event files each. Every point is generated once and run through "
    "every ANALYSIS; -o names the output folder.",
)
@path_option("--template", help="An SLHA template (with --set): the points made on the fly.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="With --template: values of one parameter; several --set give every combination.",
)
@click.option(
    "--events",
    "n_events",
    type=int,
    default=2000,
    show_default=True,
    help="Events generated per point (--points, --template).",
)
@click.option(
    "--process",
    default=None,
    metavar="NAME",
    help="The production process (see `recast xsec --list`; default: the points' own, "
    "else gluino-pairs).",
)
@click.option(
    "--xsec",
    default=None,
    metavar="CHOICE",
    help="σ per point: 'table' (the process's built-in table, the default when it has one), "
    "a table's name, 'slha' (each file's XSECTION), 'generator' (Pythia8, LO), a CSV "
    "file (mass_gev,xsec_pb,uncertainty_pb) or a value with a unit (12fb).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of every point.")
@click.option("--workers", type=int, default=1, show_default=True)
@click.option(
    "--scheduler",
    default=None,
    help="Address of a running Dask scheduler (tcp://HOST:PORT); it must answer in ten seconds.",
)
@click.option("--method", type=_METHODS, default="auto", show_default=True)
@mu95_option(
    "Compute μ95 (observed and expected band) at every point besides CLs (the default), or "
    "not: the verdicts and contours need CLs alone."
)
@negative_option("A negative signal yield is clipped to zero with a warning, or refused.")
@output_option(
    "--grid: write the table as JSON (- for stdout). --points: the output folder (a rerun "
    "finishes only the missing points)."
)
@plot_option("Write the exclusion plot (CLs across the plane, 0.05 contours).")
@reports_errors
def scan_command(
    analyses: tuple[str, ...],
    grid: Path | None,
    points: Path | None,
    template: Path | None,
    sets: tuple[str, ...],
    n_events: int,
    process: str | None,
    xsec: str | None,
    seed: int,
    workers: int,
    scheduler: str | None,
    method: str,
    mu95: bool | None,
    negative: str,
    output: str | None,
    plot: Path | None,
) -> None:
    """CLs and limits over a plane: of a model's points through several analyses (--points
    or --template), or of signal yields under one likelihood (--grid).

    \b
    Examples:
      recast points gtt.slha.in --set m_gluino=1800,2000,2200 --set m_lsp=1,600 -o gtt
      recast scan ATLAS_SUSY_2018_30 DEMO_MULTIB_GLUINO --points gtt -o plane --plot plane.png
      recast scan DEMO_MULTIB_GLUINO --template gtt.slha.in --set m_gluino=1800,2200 \\
          --set m_lsp=1,600 -o plane --workers 2
      recast scan EXAMPLE_JETS_MET --grid grid.json --workers 2 --plot exclusion.png
    """
    modes = [name for name, given in (("--grid", grid), ("--points", points),
                                      ("--template", template)) if given]  # fmt: skip
    if len(modes) != 1:
        raise UsageError(
            "give the points with one of --points FOLDER, --template FILE --set ..., or "
            f"--grid FILE{f' (not {chr(32).join(modes)})' if modes else ''}"
        )
    if sets and template is None:
        raise UsageError("--set gives the values of --template's parameters: add --template")
    if grid is None:
        from .plane import model_scan

        model_scan(analyses, points, template, sets, click.get_current_context().params)
        return
    if len(analyses) != 1:
        raise UsageError("--grid holds the yields of one analysis: give one ANALYSIS")
    analysis = analyses[0]
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
        with_limits=True if mu95 is None else mu95,
        output=output,
        plot=plot,
    )
    if output != "-":
        stdout_console().print(scan_table(document))
    error = failed_points(document)
    if error is not None:  # written, but a scan with failed points is not a success
        raise error
