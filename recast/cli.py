"""The `recast` command line: a thin layer that parses, calls one API function, and prints.

Exit codes: 0 success, 1 an invalid document or a failed check, 2 any other user error.
``--debug`` shows the traceback of an error instead of one clear message.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import RecastError, UsageError

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(func: F) -> F:
    """Turn a RecastError into its message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RecastError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recast")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(verbose: int, debug: bool) -> None:
    """recast-nn: reuse published LHC searches that select events with neural networks."""
    level = logging.WARNING - 10 * verbose if not debug else logging.DEBUG
    from rich.logging import RichHandler

    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(message)s",
        handlers=[RichHandler(show_time=False, show_path=False, console=_stderr_console())],
    )


@functools.cache
def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _stdout_console() -> Any:
    """The terminal's width on a terminal; piped or captured, wide enough to keep cells whole."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


# -- recast card ----------------------------------------------------------------------------
@cli.group()
def card() -> None:
    """Network cards: check, show, export and import preserved networks."""


@card.command("check")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@_reports_errors
def card_check(card_path: Path) -> None:
    """Verify a card: schema, digests, ONNX graph, node names/dtypes/shapes, reference vectors.

    Example: recast card check analyses/DEMO/networks/nn.card.json
    """
    from .preserve.check import check_card

    report = check_card(card_path)
    for line in report.checked:
        click.echo(f"ok  {line}")
    click.echo(f"{card_path}: card {report.card.name!r} passes every check")


@card.command("show")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@_reports_errors
def card_show(card_path: Path) -> None:
    """Print a readable summary of a card: inputs, outputs, files, provenance.

    Example: recast card show my_network.card.json
    """
    from rich.console import Console

    from .preserve.card import NetworkCard
    from .report.card_table import card_tables

    console = Console()
    if not console.is_terminal:  # piped or captured: no width to fit, keep every cell whole
        console = Console(width=200)
    for table in card_tables(NetworkCard.load(card_path)):
        console.print(table)


@card.command("export")
@click.argument("template", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(path_type=Path),
    help="An ONNX file, or a TorchScript file (.pt/.ts) to export with torch.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write NAME.onnx and NAME.card.json into.",
)
@click.option("--stem", default=None, help="File name stem (default: the card's name).")
@_reports_errors
def card_export(template: Path, model_path: Path, out_dir: Path, stem: str | None) -> None:
    """Export a network with its card from a card TEMPLATE (a card without files/references).

    Example: recast card export template.json --model net.pt -o published/
    """
    from .preserve.export import export_model_file
    from .schema import load_json

    exported = export_model_file(model_path, load_json(template), out_dir, stem=stem)
    for model in exported.model_files():
        click.echo(f"wrote {model.path} (sha256 {model.sha256[:12]}…)")
    click.echo(f"wrote {exported.source}")


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    """``("a=b", ...)`` → ``{"a": "b"}``, refusing items without ``=``."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected NAME=VALUE")
        pairs[key] = value
    return pairs


@card.command("import")
@click.argument("onnx_path", metavar="[ONNX]", required=False, type=click.Path(path_type=Path))
@click.option(
    "--sidecar",
    type=click.Path(path_type=Path),
    default=None,
    help="Published preprocessing side-car (JSON); without it, the ONNX metadata.",
)
@click.option(
    "--fold",
    "folds",
    multiple=True,
    metavar="ONNX=REMAINDER[:SIDECAR]",
    help="One file of a k-fold network, applied where event_number % k == REMAINDER."
    " Repeat for every fold (instead of ONNX).",
)
@click.option(
    "-o",
    "--output",
    "card_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the card.",
)
@click.option("--name", default=None, help="Card name (default: from the ONNX file name).")
@click.option("--unit", default="GeV", show_default=True, help="Energy unit of the inputs.")
@click.option(
    "--padding",
    default=0.0,
    show_default=True,
    help="Raw value of a missing object's inputs, before preprocessing.",
)
@click.option("--label", "labels", multiple=True, help="Output labels, in order. Repeatable.")
@click.option(
    "--angle-range",
    "angle_ranges",
    multiple=True,
    metavar="FEATURE=RANGE",
    help="Override a φ input's range, e.g. met_phi='[0, 2pi)'. Repeatable.",
)
@click.option(
    "--unit-of",
    "units",
    multiple=True,
    metavar="FEATURE=UNIT",
    help="Override one input's unit, e.g. mH1=GeV. Repeatable.",
)
@_reports_errors
def card_import(
    onnx_path: Path | None,
    sidecar: Path | None,
    folds: tuple[str, ...],
    card_path: Path,
    name: str | None,
    unit: str,
    padding: float,
    labels: tuple[str, ...],
    angle_ranges: tuple[str, ...],
    units: tuple[str, ...],
) -> None:
    """Make a card for an already-published ONNX network (and its side-car).

    \b
    Examples:
      recast card import model.onnx --sidecar model_variables.json -o model.card.json
      recast card import --fold even.onnx=0:even.json --fold odd.onnx=1:odd.json -o nn.card.json
    """
    from .preserve.importers import FoldFile, import_folds, import_network, write_imported_card

    options = {
        "name": name,
        "card_path": card_path,
        "unit": unit,
        "padding": padding,
        "output_labels": list(labels) or None,
        "angle_ranges": _pairs(angle_ranges, "--angle-range") or None,
        "units": _pairs(units, "--unit-of") or None,
    }
    if folds and (onnx_path is not None or sidecar is not None):
        raise UsageError("give either ONNX [--sidecar FILE] or --fold options, not both")
    if folds:
        fold_files = []
        for onnx_file, spec in _pairs(folds, "--fold").items():
            remainder, _, fold_sidecar = spec.partition(":")
            if not remainder.isdigit():
                raise UsageError(f"--fold {onnx_file}={spec}: REMAINDER must be a whole number")
            fold_files.append(FoldFile(onnx_file, int(remainder), fold_sidecar or None))
        document = import_folds(fold_files, **options)
    elif onnx_path is not None:
        document = import_network(onnx_path, sidecar, **options)
    else:
        raise UsageError("give the ONNX file to import (or --fold options for a k-fold network)")
    card = write_imported_card(document, card_path)
    click.echo(
        f"wrote {card_path}: {len(list(card.features()))} inputs, {len(card.model_files())} file(s)"
    )


# -- events ---------------------------------------------------------------------------------
@cli.command("inspect")
@click.argument("event_file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Skip and count bad events instead of stopping.")
@click.option("-o", "--output", default=None, help="Also write the summary as JSON (- for stdout).")
@_reports_errors
def inspect_command(event_file: Path, skip_bad: bool, output: str | None) -> None:
    """Summarise an event file: format, units, events, particles, weights, cross-section.

    Example: recast inspect events.hepmc.gz
    """
    from rich.console import Console

    from .events.inspect import inspect_file, inspect_table
    from .io import write_json

    summary = inspect_file(event_file, skip_bad=skip_bad)
    if output:
        write_json(output, summary)
    if output != "-":
        Console().print(inspect_table(summary))


@cli.command("generate")
@click.option(
    "--slha",
    type=click.Path(path_type=Path),
    default=None,
    help="SLHA spectrum: gluino-pair production at 13 TeV with its decays.",
)
@click.option(
    "--settings",
    type=click.Path(path_type=Path),
    default=None,
    help="A file of Pythia8 settings, one per line (instead of --slha).",
)
@click.option("--events", "n_events", type=int, required=True, help="Number of events.")
@click.option("--seed", type=int, required=True, help="Random seed (1 to 900000000).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The HepMC3 file to write.",
)
@_reports_errors
def generate_command(
    slha: Path | None, settings: Path | None, n_events: int, seed: int, output: Path
) -> None:
    """Generate events in process with Pythia8 and write a HepMC3 file.

    Example: recast generate --slha gluino.slha --events 1000 --seed 7 -o gluino.hepmc
    """
    from .events.pythia import generate_to_hepmc

    if (slha is None) == (settings is None):
        raise UsageError("give exactly one of --slha FILE or --settings FILE")
    if str(output) == "-":
        raise UsageError("-o -: a HepMC3 file is written atomically; give a file name")
    setup: Any = slha
    if settings is not None:
        if not settings.is_file():
            raise UsageError(f"--settings {settings}: no such file")
        setup = [
            line.strip()
            for line in settings.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith(("#", "!"))
        ]
    summary = generate_to_hepmc(setup, n_events, seed, output)
    click.echo(
        f"wrote {summary['events']} events to {output} in {summary['seconds']:.1f} s; "
        f"σ = {summary['cross_section_pb']:.4g} ± {summary['cross_section_error_pb']:.2g} pb"
    )


# -- analyses -------------------------------------------------------------------------------
@cli.command("list")
@_reports_errors
def list_command() -> None:
    """The analysis bundles shipped with recast-nn, with their status."""
    from rich.markup import escape
    from rich.table import Table

    from .analysis.bundle import list_bundles

    table = Table(title="analysis bundles")
    for column in ("id", "experiment", "√s [TeV]", "L [fb⁻¹]", "status", "regions"):
        table.add_column(column, overflow="fold")
    for row in list_bundles():
        if "error" in row:
            table.add_row(row["id"], "", "", "", f"[red]INVALID[/red]: {escape(row['error'])}", "")
            continue
        status = row["status"]
        text = status["state"] + (f" ({status['reason']})" if "reason" in status else "")
        table.add_row(
            row["id"],
            row["experiment"],
            f"{row['sqrt_s']:g}",
            f"{row['luminosity']:g}",
            text,
            ", ".join(row["regions"]),
        )
    _stdout_console().print(table)


@cli.group()
def bundle() -> None:
    """Analysis bundles: check one before release."""


@bundle.command("check")
@click.argument("analysis", metavar="ANALYSIS")
@_reports_errors
def bundle_check(analysis: str) -> None:
    """Verify a bundle: schemas, digests, network cards, cuts and published cutflow names.

    Example: recast bundle check analyses/MY_ANALYSIS
    """
    from .analysis.bundle import check_bundle

    for line in check_bundle(analysis):
        click.echo(f"ok  {line}")
    click.echo(f"{analysis}: bundle passes every check")


def _run_options(function: F) -> F:
    options = [
        click.option(
            "--xsec",
            default=None,
            help="Cross-section with unit, e.g. 12.3fb "
            "(default: the generator's own, from the events).",
        ),
        click.option(
            "--lumi",
            type=float,
            default=None,
            help="Integrated luminosity in fb⁻¹ (default: the analysis's).",
        ),
        click.option(
            "--seed",
            type=int,
            default=1,
            show_default=True,
            help="Seed of every stochastic detector step; with --pythia-slha also of Pythia8 "
            "(the events come in blocks of 500, block i seeded with SEED + i).",
        ),
        click.option("--chunk-size", type=int, default=1000, show_default=True),
        click.option(
            "--workers",
            type=int,
            default=1,
            show_default=True,
            help="Processes on a local Dask cluster.",
        ),
        click.option("--scheduler", default=None, help="Address of a running Dask scheduler."),
        click.option("--skip-bad", is_flag=True, help="Skip and count bad events."),
        click.option(
            "--pythia-slha",
            type=click.Path(path_type=Path),
            default=None,
            help="Generate the events in process from this SLHA instead (with --events).",
        ),
        click.option(
            "--events",
            "n_events",
            type=int,
            default=None,
            help="Number of events to generate with --pythia-slha.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@cli.command("run")
@click.argument("analysis", metavar="ANALYSIS")
@click.argument("events", nargs=-1, type=click.Path(path_type=Path))
@_run_options
@click.option("-o", "--output", default=None, help="Write the results JSON (- for stdout).")
@_reports_errors
def run_command(
    analysis: str,
    events: tuple[Path, ...],
    xsec: str | None,
    lumi: float | None,
    seed: int,
    chunk_size: int,
    workers: int,
    scheduler: str | None,
    skip_bad: bool,
    pythia_slha: Path | None,
    n_events: int | None,
    output: str | None,
) -> None:
    """Recast ANALYSIS on truth-level EVENTS: yields and cutflows of every region at σ × L.

    EVENTS are HepMC3 files (plain or compressed) or Parquet caches, one work unit each;
    or, with --pythia-slha, events generated in process. The results JSON is written only
    once the run succeeded. With --workers N the inputs are spread over a local Dask
    cluster (or --scheduler ADDRESS); the results are identical to a serial run.

    \b
    Examples:
      recast run EXAMPLE_JETS_MET events.hepmc --xsec 12.3fb -o results.json
      recast run EXAMPLE_JETS_MET a.hepmc b.hepmc --workers 2
      recast run EXAMPLE_JETS_MET --pythia-slha gtt.slha --events 2000 --workers 2
    """
    from .analysis.run import recast_run
    from .report.progress import events_progress

    with events_progress(f"recast {analysis}") as progress:
        document = recast_run(
            analysis,
            list(events),
            xsec=xsec,
            lumi=lumi,
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            scheduler=scheduler,
            skip_bad=skip_bad,
            pythia_slha=pythia_slha,
            n_events=n_events,
            output=output,
            progress=progress,
        )
    if output != "-":
        from .report.results_table import results_tables

        console = _stdout_console()
        for table in results_tables(document):
            console.print(table)


@cli.command("validate")
@click.argument("analysis", metavar="ANALYSIS")
@click.argument("events", nargs=-1, type=click.Path(path_type=Path))
@click.option("--benchmark", required=True, help="The published benchmark point to compare to.")
@_run_options
@click.option("-o", "--output", default=None, help="Write the comparison JSON (- for stdout).")
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a plot of the comparison (PNG or PDF).",
)
@_reports_errors
def validate_command(
    analysis: str,
    events: tuple[Path, ...],
    benchmark: str,
    xsec: str | None,
    lumi: float | None,
    seed: int,
    chunk_size: int,
    workers: int,
    scheduler: str | None,
    skip_bad: bool,
    pythia_slha: Path | None,
    n_events: int | None,
    output: str | None,
    plot: Path | None,
) -> None:
    """Compare the cutflow on EVENTS with the published one of BENCHMARK, step by step.

    The cross-section defaults to the benchmark's. A step passes when |ratio − 1| or
    |pull| is within the bundle's tolerance; exit code 0 when every step passes, 1 otherwise.

    \b
    Examples:
      recast validate EXAMPLE_JETS_MET bench.hepmc --benchmark gtt_1200_100 --plot v.png
      recast validate EXAMPLE_JETS_MET --benchmark gtt_1200_100 \\
          --pythia-slha gtt_1200_100.slha --events 2000 --workers 2
    """
    from .analysis.run import recast_validate
    from .report.progress import events_progress

    with events_progress(f"validate {analysis}") as progress:
        verdict = recast_validate(
            analysis,
            list(events),
            benchmark=benchmark,
            xsec=xsec,
            lumi=lumi,
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            scheduler=scheduler,
            skip_bad=skip_bad,
            pythia_slha=pythia_slha,
            n_events=n_events,
            output=output,
            plot=plot,
            progress=progress,
        )
    if output != "-":
        from .report.validation_table import validation_tables

        console = _stdout_console()
        for table in validation_tables(verdict):
            console.print(table)
        failed = [r["region"] for r in verdict["regions"] if not r["passed"]]
        summary = "every step passes" if not failed else f"FAILED in {', '.join(failed)}"
        click.echo(f"{verdict['analysis']}, benchmark {verdict['benchmark']}: {summary}")
    if not verdict["passed"]:
        sys.exit(1)


def main() -> None:
    cli(prog_name="recast")


if __name__ == "__main__":
    main()
