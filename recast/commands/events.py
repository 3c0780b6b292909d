"""recast inspect, generate and cache: event files in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from .group import cli, hepmc_parser_option, output_option, path_option, reports_errors


# -- events ---------------------------------------------------------------------------------
@cli.command("inspect")
@click.argument("event_file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Skip and count bad events instead of stopping.")
@hepmc_parser_option("the text is")
@output_option("Also write the summary as JSON (- for stdout).")
@reports_errors
def inspect_command(
    event_file: Path, skip_bad: bool, hepmc_parser: str, output: str | None
) -> None:
    """Summarise an event file: format, units, events, particles, weights, cross-section.

    Example: recast inspect events.hepmc.gz
    """
    from rich.console import Console

    from ..events.inspect import inspect_file, inspect_table
    from ..io import check_output, write_json

    check_output(output, inputs=[event_file])
    summary = inspect_file(event_file, skip_bad=skip_bad, parser=hepmc_parser)
    if output:
        write_json(output, summary)
    if output != "-":
        Console().print(inspect_table(summary))


@cli.command("generate")
@path_option(
    "--slha",
    help="SLHA spectrum: gluino-pair production at 13 TeV with its decays (or --process).",
)
@click.option(
    "--process",
    default=None,
    metavar="NAME",
    help="With --slha: the production process (gluino-pairs, squark-pairs, stop-pairs, "
    "higgsino-n1n2, wino-c1c1, slepton-pairs, ...; `recast points --help`).",
)
@path_option(
    "--settings",
    help="A file of Pythia8 settings, one per line (instead of --slha).",
)
@click.option("--events", "n_events", type=int, required=True, help="Number of events.")
@click.option("--seed", type=int, required=True, help="Random seed (1 to 900000000).")
@path_option(
    "-o",
    "--output",
    required=True,
    help="The HepMC3 file to write; compressed by its name (.gz, .bz2, .xz, .zst).",
)
@reports_errors
def generate_command(
    slha: Path | None,
    process: str | None,
    settings: Path | None,
    n_events: int,
    seed: int,
    output: Path,
) -> None:
    """Generate events in process with Pythia8 and write a HepMC3 file.

    The file is compressed as its name says: .gz (gzip), .bz2, .xz or .zst (zstd, with
    Python 3.14 or backports.zstd); any other name is plain text, but another compression's
    suffix (.zip, .lz4, ...) is refused before generating. recast run reads them all.

    \b
    Examples:
      recast generate --slha gluino.slha --events 1000 --seed 7 -o gluino.hepmc
      recast generate --slha gluino.slha --events 2000 --seed 7 -o gluino.hepmc.gz
      recast generate --slha stop.slha --process stop-pairs --events 1000 --seed 7 -o t.hepmc
    """
    from ..events.pythia import generate_to_hepmc
    from ..io import check_output

    if (slha is None) == (settings is None):
        raise UsageError("give exactly one of --slha FILE or --settings FILE")
    if process is not None and slha is None:
        raise UsageError("--process NAME goes with --slha FILE (--settings names its own)")
    if n_events < 1:  # an empty file would only be refused later, by whatever reads it
        raise UsageError(f"--events {n_events}: give the number of events to generate, at least 1")
    if str(output) == "-":
        raise UsageError("-o -: a HepMC3 file is written atomically; give a file name")
    for option, given in (("--slha", slha), ("--settings", settings)):
        if given is not None and given.exists() and not given.is_file():
            # a folder here would otherwise be blamed on -o ("inside the input folder")
            raise UsageError(f"{option} {given}: is not a file (a folder?); give the file")
    check_output(output, inputs=[slha, settings])
    setup: Any = slha
    if process is not None and slha is not None:
        from ..model import process_settings

        setup = process_settings(process, slha)
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


@cli.command("cache")
@click.argument("event_file", metavar="FILE", type=click.Path(path_type=Path))
@path_option(
    "-o",
    "--output",
    required=True,
    help="The Parquet file to write.",
)
@click.option(
    "--analysis",
    default=None,
    help="Build the objects with this bundle's object options (default: recast's).",
)
@click.option("--chunk-size", type=int, default=1000, show_default=True)
@click.option("--skip-bad", is_flag=True, help="Skip and count bad events.")
@reports_errors
def cache_command(
    event_file: Path, output: Path, analysis: str | None, chunk_size: int, skip_bad: bool
) -> None:
    """Build the truth objects of a HepMC3 FILE once and keep them in Parquet.

    `recast run ANALYSIS objects.parquet` then reads the objects instead of the HepMC file,
    with the same results: the cache keeps each event's cross-section (the generator's, as
    the file states it), so --xsec is needed only where the file needs it.

    Example: recast cache events.hepmc -o events.objects.parquet --analysis EXAMPLE_JETS_MET
    """
    from ..pipeline.api import cache

    if str(output) == "-":
        raise UsageError("-o -: a cache is a Parquet file; give a file name")
    events = cache(event_file, output, analysis=analysis, chunk_size=chunk_size, skip_bad=skip_bad)
    click.echo(f"wrote the objects of {events} events to {output}")
