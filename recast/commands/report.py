"""recast report: a static HTML site of a run, its validation and a scan."""

from __future__ import annotations

from pathlib import Path

import click

from .group import cli, reports_errors, required_output_option


@cli.command("report")
@click.argument(
    "inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@required_output_option("The report folder: new, empty, or an earlier report (replaced whole).")
@click.option("--title", default=None, help="The page's title (default: the analysis).")
@reports_errors
def report_command(inputs: tuple[Path, ...], output: Path, title: str | None) -> None:
    """Write an HTML report of INPUT...: a results document (recast run -o), a validation
    document (recast validate -o), a scan document (recast scan --grid -o) or a model scan's
    folder (recast scan --points -o), at most one of each, told apart by their content.

    The folder holds index.html and its figures/, and opens offline from disk: the summary,
    every cutflow beside the published one, the yields, CLs and the verdict, the scan's plot
    and points, and the provenance. Needs matplotlib (the plot extra).

    \b
    Examples:
      recast report results.json validation.json -o report
      recast report scan.json -o scan_report --title "Gtt scan"
    """
    from ..report.html import sort_sources, write_report

    sources = sort_sources(inputs)
    index = write_report(
        output,
        results=sources.get("results"),
        validation=sources.get("validation"),
        scan=sources.get("scan"),
        title=title,
    )
    click.echo(f"wrote {index}")
