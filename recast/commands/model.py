"""recast points: SLHA files for a grid of model points, and a check of a spectrum's decays."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import UsageError
from .group import cli, path_option, reports_errors

log = logging.getLogger(__name__)


@cli.command("points")
@click.argument("template", type=click.Path(path_type=Path))
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="Values of one template parameter; several --set give every combination.",
)
@path_option(
    "--grid",
    help='A JSON grid instead of --set: {"m_gluino": [1800, 2000], ...} (every combination) '
    'or a list of points [{"m_gluino": 1800, "m_lsp": 1}, ...].',
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="'NAME=BLOCK KEY...'",
    help="For a plain SLHA file: where parameter NAME sits, e.g. 'm_gluino=MASS 1000021', "
    "'br=DECAY 1000021 1000022 -6 6' (a branching ratio), 'w=DECAY 1000021' (the width).",
)
@click.option(
    "--process",
    default=None,
    metavar="NAME",
    help="The production process (gluino-pairs, stop-pairs, wino-n2c1, ...; see "
    "`recast xsec --list`): recorded in points.json, and the spectrum checked for it.",
)
@path_option("-o", "--output", help="The folder to write the SLHA files and points.json into.")
@click.option(
    "--check",
    is_flag=True,
    help="Only print the decay report of TEMPLATE, an SLHA file; write nothing.",
)
@click.option(
    "--decoupling",
    type=float,
    default=10000.0,
    show_default=True,
    help="Report BSM particles lighter than this (GeV).",
)
@reports_errors
def points_command(
    template: Path,
    sets: tuple[str, ...],
    grid: Path | None,
    params: tuple[str, ...],
    process: str | None,
    output: Path | None,
    check: bool,
    decoupling: float,
) -> None:
    """SLHA files for a grid of points of the model in TEMPLATE, with an index (points.json).

    TEMPLATE is an SLHA file whose varied numbers are written as {name} placeholders (e.g.
    `1000021 {m_gluino} # ~g`), or a plain SLHA file with --param saying where each
    parameter sits. Every point is checked before any file is written, and the decays of
    the first point are reported: stable charged or coloured BSM particles, unknown
    daughters, closed channels.

    \b
    Examples:
      recast points gtt.slha.in --set m_gluino=1800,2000,2200 --set m_lsp=1,400 -o gtt
      recast points gtt.slha --param 'm_gluino=MASS 1000021' --set m_gluino=1800,2000 -o gtt
      recast points gtt.slha.in --grid grid.json -o gtt
      recast points --check spectrum.slha
    """
    from ..model import (
        decay_report,
        load_template,
        parse_set,
        points,
        production,
        write_points,
    )
    from ..model.folder import check_folder
    from ..model.template import as_grid
    from ..schema import load_json

    if check:
        if sets or grid or params or output:  # --process may come: the spectrum is checked
            raise UsageError("--check reads one SLHA file and writes nothing: give it alone")
        if not template.is_file():
            raise UsageError(f"{template}: no such SLHA file")
        text = template.read_text(errors="replace")
        click.echo(decay_report(text, source=str(template), decoupling_gev=decoupling).text())
        _production(process, text, decoupling)
        return
    if output is None:
        raise UsageError("give the folder to write with -o FOLDER (or --check to only check)")
    if bool(sets) == (grid is not None):
        raise UsageError("give the grid with --set NAME=V1,V2,... or with --grid FILE (one)")
    locations = {}
    for option in params:
        name, equals, where = option.partition("=")
        if not equals or name.strip() in locations:
            raise UsageError(
                f"--param {option!r}: write NAME=LOCATION once per parameter "
                "(e.g. --param 'm_gluino=MASS 1000021')"
            )
        locations[name.strip()] = where
    if process is not None:
        production(process)  # an unknown name is refused before anything is filled
    check_folder(output, [template, *([grid] if grid else [])])
    model = load_template(template, locations or None)
    chosen = parse_set(sets) if sets else load_json(grid)  # type: ignore[arg-type]
    source = "--set" if sets else str(grid)
    filled = points(model, as_grid(chosen, source), grid_source=source)
    index = write_points(model, filled, output, process=process)
    plural = "s" if len(filled) != 1 else ""
    click.echo(f"wrote {len(filled)} point{plural} to {output} (index {index.name})")
    first = decay_report(filled[0].slha, source=filled[0].file_name, decoupling_gev=decoupling)
    click.echo(first.text())
    for point in filled[1:]:  # the others: only what needs reading
        for warning in decay_report(point.slha, decoupling_gev=decoupling).warnings:
            if warning not in first.warnings:
                click.echo(f"  ! {point.name}: {warning}")
    _production(process, filled[0].slha, decoupling)


def _production(process: str | None, text: str, decoupling: float) -> None:
    """The settings of ``process`` and what in the spectrum keeps it from producing."""
    if process is None:
        return
    from ..model import production, production_problems

    chosen = production(process)
    click.echo(f"process {chosen.name}: {chosen.title}; Pythia settings:")
    for line in chosen.settings():
        click.echo(f"  {line}")
    for problem in production_problems(chosen.name, text, decoupling_gev=decoupling):
        click.echo(f"  ! {problem}")
