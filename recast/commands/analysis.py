"""recast list, bundle check, run and validate: analyses."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from ..progress import events_progress
from .group import (
    F,
    cli,
    hepmc_parser_option,
    output_option,
    path_option,
    plot_option,
    reports_errors,
    required_output_option,
    stdout_console,
)


# -- analyses -------------------------------------------------------------------------------
@cli.command("list")
@reports_errors
def list_command() -> None:
    """The analysis bundles shipped with recast-nn and those installed (recast bundle
    install), with their status, origin and digest (the first 12 hex digits of the sha256
    of analysis.json)."""
    from rich.text import Text

    from ..analysis.bundle import list_bundles
    from ..text import Table, printable

    table = Table(title="analysis bundles")  # strings from documents are shown literally
    # the status (a sentence) gets the room: the experiment, regions and a long origin fold
    widths = {"experiment": 24, "regions": 21, "origin": 24}
    columns = ("id", "experiment", "√s [TeV]", "L [fb⁻¹]", "status", "regions", "origin", "digest")
    for column in columns:
        table.add_column(column, overflow="fold", max_width=widths.get(column))
    for row in list_bundles():
        origin = row["origin"] + (f" ({row['path']})" if row["origin"] == "installed" else "")
        if "error" in row:
            invalid = Text.assemble(("INVALID", "red"), f": {printable(row['error'])}")
            table.add_row(row["id"], "", "", "", invalid, "", origin, row.get("digest", ""))
            continue
        status = row["status"]
        text = status["state"] + (f" ({status['reason']})" if "reason" in status else "")
        table.add_row(
            row["id"],
            row["experiment"],
            f"{row['sqrt_s']:g}",
            f"{row['luminosity']:g}",
            text,
            _region_summary(row["kinds"]),
            origin,
            row["digest"],
        )
    stdout_console().print(table)


def _region_summary(kinds: list[str]) -> str:
    """ "22 signal, 24 control": how many regions of each kind (the names: recast bundle check)."""
    counts = {kind: kinds.count(kind) for kind in dict.fromkeys(kinds)}
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


@cli.group()
def bundle() -> None:
    """Analysis bundles: start one, check it, pack it to share, install one."""


@bundle.command("check")
@click.argument("analysis", metavar="ANALYSIS")
@click.option(
    "--no-pythia",
    is_flag=True,
    help="Do not start Pythia8 on the benchmark spectra (about a second each); parse them only.",
)
@reports_errors
def bundle_check(analysis: str, no_pythia: bool) -> None:
    """Verify a bundle: schemas, digests, network cards, cuts, published cutflows, and every
    benchmark's spectrum (parsed, and read by Pythia8 when installed).

    A VALIDATED bundle must also publish a cutflow, state every network input fully and hold
    no TODO marker; for an UNVALIDATED one those are notes. Its code is imported (run) only
    once every file matches its digest in analysis.json.
    Example: recast bundle check analyses/MY_ANALYSIS
    """
    from ..pipeline.release_check import check_release

    result = check_release(analysis, pythia=not no_pythia)
    for line in result.passed:
        click.echo(f"ok  {line}")
    for line in result.notes:
        click.echo(f"note  {line}")
    click.echo(
        f"{analysis}: bundle passes every check"
        + (f" ({len(result.notes)} note(s) above)" if result.notes else "")
    )


@bundle.command("cutflow")
@click.argument("analysis", metavar="ID|PATH")
@click.argument("table", metavar="TABLE.csv", type=click.Path(path_type=Path))
@click.option("--region", required=True, help="The region the cutflow is of.")
@click.option("--benchmark", required=True, help="The benchmark point's name.")
@click.option(
    "--unit",
    type=click.Choice(["events", "fraction"]),
    default="events",
    show_default=True,
    help="Yields at the analysis luminosity, or cumulative efficiencies.",
)
@path_option("--slha", help="The benchmark's spectrum; copied beside the cutflow.")
@click.option(
    "--process", default=None, help="The production that generates it, e.g. higgsino-n1n2."
)
@click.option(
    "--xsec", default=None, help="The benchmark's cross-section with a unit, e.g. 104.252fb."
)
@click.option("--generator", default=None, help="How the published sample was generated, in words.")
@click.option("--description", default=None, help="The benchmark in words.")
@click.option("--replace", is_flag=True, help="Replace this region's cutflow of this benchmark.")
@reports_errors
def bundle_cutflow(
    analysis: str,
    table: Path,
    region: str,
    benchmark: str,
    unit: str,
    slha: Path | None,
    process: str | None,
    xsec: str | None,
    generator: str | None,
    description: str | None,
    replace: bool,
) -> None:
    """Add a published cutflow to a bundle from a table (CSV: cut,value[,uncertainty], '#'
    comments, a first row 'initial' for the yield before cuts), recorded with its sha256.

    \b
    Example:
      recast bundle cutflow ./MY_SEARCH sr_cutflow.csv --region SR --benchmark gtt_1400_100 \\
        --slha gtt_1400_100.slha --xsec 0.284pb
    """
    from ..analysis.publishing import add_cutflow
    from ..pipeline.normalise import cross_section_pb

    added = add_cutflow(
        analysis,
        region,
        benchmark,
        table,
        unit=unit,
        slha=slha,
        process=process,
        cross_section_pb=cross_section_pb(xsec),
        generator=generator,
        description=description,
        replace=replace,
    )
    how = "replaced" if added.replaced else "written"
    click.echo(
        f"{added.path}: {added.steps} step(s) of region {region}, {how}; analysis.json records it"
    )
    if added.slha is not None:
        click.echo(f"{added.slha}: the benchmark's spectrum")
    click.echo(f"next: recast bundle check {analysis}")


@bundle.command("stamp")
@click.argument("analysis", metavar="ID|PATH")
@click.option(
    "--artefacts",
    is_flag=True,
    help="Also re-record the digests of every file analysis.json names (after regenerating them).",
)
@reports_errors
def bundle_stamp(analysis: str, artefacts: bool) -> None:
    """Record the sha256 of every Python file of a bundle (a shipped id or a folder) in its
    analysis.json (code.files); with --artefacts also of every file it names.

    Read the code first: a bundle is code, and its digests say only that it has not changed
    since it was stamped. Example: recast bundle stamp analyses/MY_ANALYSIS
    """
    from ..analysis.bundle import locate, stamp_bundle

    for relative, digest in stamp_bundle(analysis, artefacts=artefacts).items():
        click.echo(f"{digest}  {relative}")
    click.echo(f"{locate(analysis) / 'analysis.json'}: code.files recorded")


@bundle.command("new")
@click.argument("bundle_id", metavar="ID")
@click.option(
    "-o",
    "--output",
    "parent",
    type=click.Path(path_type=Path),
    default=None,
    help="The folder to create ID/ in (default: the working directory).",
)
@reports_errors
def bundle_new(bundle_id: str, parent: Path | None) -> None:
    """Start a new bundle: the folder ID/ with analysis.json (UNVALIDATED, its code digest
    recorded), analysis.py (one example region of two cuts) and README.md.

    It passes `recast bundle check` as written; the fields to fill in say TODO. ID is
    capital letters, digits and '_' (analysis.json's id). Example: recast bundle new MY_SEARCH
    """
    from ..analysis.bundle import is_explicit_path
    from ..analysis.packaging import new_bundle, todo_summary
    from ..schema import load_json

    folder = new_bundle(bundle_id, parent)
    shown = str(folder) if is_explicit_path(str(folder)) else f"./{folder}"
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    click.echo(f"{shown}: new bundle {bundle_id} (UNVALIDATED): {files}")
    summary = todo_summary(load_json(folder / "analysis.json"))
    if summary:
        click.echo(f"{summary} (analysis.json)")
    click.echo(
        f"next: write the selection, then `recast bundle stamp {shown}` and "
        f"`recast bundle check {shown}`"
    )


@bundle.command("pack")
@click.argument("analysis", metavar="ID|PATH")
@required_output_option("The archive to write, e.g. MY_SEARCH.tar.gz.")
@reports_errors
def bundle_pack(analysis: str, output: Path) -> None:
    """Pack a bundle (a shipped or installed id, or a folder) into a .tar.gz to share or
    submit: only once it passes `recast bundle check` (which runs its code).

    The archive holds the folder ID/ with the bundle's files (no hidden files, no caches)
    and ID/MANIFEST.json (the sha256 of every file). The same bundle always packs to the
    same bytes (mtime 0, or $SOURCE_DATE_EPOCH). Example:
    recast bundle pack ./MY_SEARCH -o MY_SEARCH.tar.gz
    """
    from ..analysis.packaging import MANIFEST, pack_bundle

    packed = pack_bundle(analysis, output)
    count = packed.manifest["summary"]["files"]
    click.echo(
        f"{output}: bundle {packed.bundle} packed ({packed.manifest['status']}), {count} "
        f"file(s) and {packed.bundle}/{MANIFEST}"
    )
    click.echo(f"{packed.sha256}  {output}")


@bundle.command("install")
@click.argument("source", metavar="PATH|ARCHIVE", type=click.Path(path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Replace an installed bundle of the same id (atomically)."
)
@reports_errors
def bundle_install(source: Path, replace: bool) -> None:
    """Install a bundle, from its folder or a .tar.gz of `recast bundle pack`, into the user
    bundle folder ($RECAST_DATA_DIR/analyses, by default ~/.local/share/recast-nn/analyses),
    where its id then names it (recast list shows it).

    Every member of an archive is verified against its MANIFEST.json first (no link, no path
    leaving its folder); the bundle must pass `recast bundle check` (which runs its code), and
    appears whole or not at all. A shipped bundle's id is refused.

    \b
    Examples:
      recast bundle install MY_SEARCH.tar.gz
      recast bundle install ./MY_SEARCH --replace
    """
    from ..analysis.packaging import MANIFEST, install_bundle

    done = install_bundle(source, replace=replace)
    if source.is_file():
        click.echo(f"ok  {done.files} file(s) match {done.bundle}/{MANIFEST}")
    click.echo("ok  the bundle passes `recast bundle check`")
    verb = "replaced" if done.replaced else "installed"
    click.echo(f"{done.bundle}: {verb} in {done.folder}")


@bundle.command("hepdata")
@click.option("-o", "--output", required=True, help="Write the analyses JSON (- for stdout).")
@click.option(
    "--base-url",
    default="https://recast-nn.org/docs/",  # recast.analysis.hepdata.DEFAULT_BASE_URL
    show_default=True,
    help="Where the docs site is published; each bundle links to its page bundles/ID/ there.",
)
@reports_errors
def bundle_hepdata(output: str, base_url: str) -> None:
    """List the shipped bundles for HEPData: its analyses JSON (schema 1.0.0), one entry per
    bundle with an INSPIRE id, linking to the bundle's page on the docs site.

    Bundles without an INSPIRE id (the demonstration, the example) are left out, and named.
    Example: recast bundle hepdata -o analyses.json
    """
    from ..analysis.hepdata import write_hepdata_listing

    listing = write_hepdata_listing(output, base_url)
    aside = output == "-"  # stdout holds the document alone
    click.echo(f"listed: {', '.join(listing.listed)}", err=aside)
    for bundle_id, reason in listing.left_out.items():
        click.echo(f"left out: {bundle_id}: {reason}", err=aside)
    if not aside:
        click.echo(f"{output}: HEPData analyses JSON written")


@bundle.command("report")
@click.argument("analysis", metavar="ID|PATH")
@required_output_option(
    "The page's folder: new, empty, or an earlier page or report (replaced whole)."
)
@click.option(
    "--validation",
    type=click.Path(path_type=Path),
    default=None,
    help="A validation document of this bundle (recast validate -o): its comparison is added.",
)
@reports_errors
def bundle_report(analysis: str, output: Path, validation: Path | None) -> None:
    """Write the HTML page of a bundle (a shipped id or a folder) from its documents alone,
    running none of its code: its status and the reason, the publication, the regions with
    their cuts and published numbers, every published benchmark's cutflows, the likelihood,
    networks, options, detector descriptions and every choice with its reason.

    The folder holds index.html and opens offline from disk; the docs site carries the page
    of every shipped bundle at bundles/ID/, where HEPData links to.

    \b
    Examples:
      recast bundle report ATLAS_SUSY_2018_30 -o page
      recast bundle report EXAMPLE_JETS_MET -o page --validation validation.json
    """
    from ..report.html import write_bundle_page

    index = write_bundle_page(analysis, output, validation=validation)
    click.echo(f"wrote {index}")


#: the options of every run, handed to the command as one ``run`` argument: the keywords of
#: recast.pipeline.run.RunOptions, shared by recast_run and recast_validate
_RUN_KEYS = (
    "seed",
    "chunk_size",
    "workers",
    "scheduler",
    "skip_bad",
    "hepmc_parser",
    "pythia_slha",
    "pythia_process",
    "n_events",
    "detector",
)


def _run_options(function: F) -> F:
    """The run options on a command, gathered into its ``run`` argument."""

    @functools.wraps(function)
    @reports_errors  # a malformed --network/--option is the user's mistake: one line, exit 2
    def gather(**kwargs: Any) -> Any:
        from ..analysis.settings import parse_assignments

        run = {key: kwargs.pop(key) for key in _RUN_KEYS}
        run["networks"] = parse_assignments(kwargs.pop("networks"), "--network")
        run["options"] = parse_assignments(kwargs.pop("options"), "--option")
        return function(run=run, **kwargs)

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
            "(the events come in blocks of 500: block 0 seeded with SEED, block i from (SEED, i)).",
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
        hepmc_parser_option(),
        path_option(
            "--pythia-slha",
            help="Generate the events in process from this SLHA instead (with --events).",
        ),
        click.option(
            "--process",
            "pythia_process",
            default=None,
            metavar="NAME",
            help="The production to generate with --pythia-slha, e.g. higgsino-n1n2 (the "
            "names of `recast points --process`; default: gluino pairs).",
        ),
        click.option(
            "--events",
            "n_events",
            type=int,
            default=None,
            help="Number of events to generate with --pythia-slha.",
        ),
        click.option(
            "--network",
            "networks",
            multiple=True,
            metavar="NAME=PATH",
            help="The model file (or a folder holding it) of a network the bundle does not "
            "ship; without it, the regions that need it are skipped. Repeatable.",
        ),
        click.option(
            "--option",
            "options",
            multiple=True,
            metavar="NAME=VALUE",
            help="Set one of the bundle's options (analysis.json → options). Repeatable.",
        ),
        click.option(
            "--detector",
            default=None,
            metavar="NAME|PATH",
            help="The detector description: a name from the bundle's 'detectors' "
            "(analysis.json; 'default' is its 'detector'), or the path of any detector "
            "description file. Recorded in the provenance.",
        ),
    ]
    wrapped: Any = gather
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped  # type: ignore[no-any-return]


@cli.command("run")
@click.argument("analysis", metavar="ANALYSIS")
@click.argument("events", nargs=-1, type=click.Path(path_type=Path))
@_run_options
@output_option("Write the results JSON (- for stdout).")
@reports_errors
def run_command(
    analysis: str,
    events: tuple[Path, ...],
    xsec: str | None,
    lumi: float | None,
    output: str | None,
    run: dict[str, Any],
) -> None:
    """Recast ANALYSIS on truth-level EVENTS: yields and cutflows of every region at σ × L.

    ANALYSIS is a shipped id (recast list) or a bundle folder by path (./MY_ANALYSIS): a
    bundle is code, so a bare name never means a folder of the working directory.

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
    from ..pipeline.run import recast_run

    with events_progress(f"recast {analysis}") as progress:
        run["progress"] = progress
        document = recast_run(analysis, list(events), xsec=xsec, lumi=lumi, output=output, **run)
    if output != "-":
        from ..report.results_table import results_tables

        console = stdout_console()
        for table in results_tables(document):
            console.print(table)
        print_verdict(console, document)


@cli.command("validate")
@click.argument("analysis", metavar="ANALYSIS")
@click.argument("events", nargs=-1, type=click.Path(path_type=Path))
@click.option("--benchmark", required=True, help="The published benchmark point to compare to.")
@_run_options
@output_option("Write the comparison JSON (- for stdout).")
@plot_option("Write a plot of the comparison (PNG or PDF).")
@reports_errors
def validate_command(
    analysis: str,
    events: tuple[Path, ...],
    benchmark: str,
    xsec: str | None,
    lumi: float | None,
    output: str | None,
    plot: Path | None,
    run: dict[str, Any],
) -> None:
    """Compare the cutflow on EVENTS with the published one of BENCHMARK, step by step.

    Without EVENTS and --pythia-slha, --events N generates the benchmark's own spectrum
    with its own production. The cross-section defaults to the benchmark's. A step passes
    when |ratio − 1| or |pull| is within the bundle's tolerance; exit code 0 when every step
    passes, 1 otherwise.

    \b
    Examples:
      recast validate EXAMPLE_JETS_MET bench.hepmc --benchmark gtt_1200_100 --plot v.png
      recast validate ATLAS_SUSY_2019_04 --benchmark higgsino_n1n2_250 --events 20000
    """
    from ..pipeline.run import recast_validate

    with events_progress(f"validate {analysis}") as progress:
        run["progress"] = progress
        verdict = recast_validate(
            analysis, list(events), benchmark=benchmark, xsec=xsec, lumi=lumi, output=output,
            plot=plot, **run,
        )  # fmt: skip
    if output != "-":
        from ..report.validation_table import validation_tables

        console = stdout_console()
        for table in validation_tables(verdict):
            console.print(table)
        failed = [r["region"] for r in verdict["regions"] if not r["passed"]]
        failed += [
            f"the {h['network']} histogram of {h.get('feature') or h.get('label')}"
            for h in verdict.get("network_histograms", [])
            if not h.get("passed", True)
        ]
        summary = "every step passes" if not failed else f"FAILED in {', '.join(failed)}"
        click.echo(f"{verdict['analysis']}, benchmark {verdict['benchmark']}: {summary}")
    if not verdict["passed"]:
        sys.exit(1)


def print_verdict(console: Any, document: dict[str, Any], *, table: bool = True) -> None:
    """The verdict of a results document with limits, as the demo prints it: (``table``) CLs
    and μ95 of the verdict's source, the fitted likelihoods and every region, with the fits'
    notes and the warnings; else the regions not run and why. Then one line: excluded or not,
    by what, with CLs and μ95; and one naming the regions not run, which are in no limit.
    Nothing for a document without limits."""
    if "limits" not in document:
        return
    from rich.markup import escape

    from ..pipeline.outcome import Limits
    from ..report.results_table import skipped_table

    limits = document["limits"]
    skipped = document.get("skipped", {})
    if table:
        from ..report.summary import print_limits

        print_limits(console, limits)
    elif skipped:
        console.print(skipped_table(document))
    console.print(f"[bold]verdict:[/bold] {escape(Limits(limits).verdict)}")
    if skipped:
        console.print(
            f"not run, so in no limit: {escape(', '.join(skipped))} "
            "(why: the table 'regions not run')"
        )
