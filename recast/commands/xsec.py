"""recast xsec: the built-in 13 TeV SUSY production cross-sections, with their uncertainties."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from ..errors import UsageError
from .group import cli, reports_errors

if TYPE_CHECKING:
    from ..xsec import CrossSection


def _percent(part: float, value: float) -> str:
    return f"{100 * part / value:.1f}%"


def _lines(sigma: CrossSection) -> list[str]:
    """σ, each uncertainty component given (up and down, pb and %), and the source."""
    value = sigma.value_pb
    lines = [
        f"{sigma.process} at {sigma.mass_gev:g} GeV, {sigma.order}, √s = "
        f"{sigma.sqrt_s_gev / 1000:g} TeV: σ = {value:.4g} pb ({1000 * value:.4g} fb)"
    ]
    for label, up, down in (
        ("scale", sigma.scale_up_pb, sigma.scale_down_pb),
        ("PDF+αs", sigma.pdf_up_pb, sigma.pdf_down_pb),
        ("total", sigma.total_up_pb, sigma.total_down_pb),
    ):
        if up is None or down is None:
            continue
        lines.append(
            f"  {label:<7}+{up:.3g} −{down:.3g} pb "
            f"(+{_percent(up, value)} −{_percent(down, value)})"
        )
    lines.append(f"source: {sigma.source}")
    return lines


@cli.command("xsec")
@click.argument("process", required=False)
@click.argument("mass", required=False, type=float)
@click.option(
    "--order",
    default=None,
    metavar="ORDER",
    help="A column of the table: LO, NLO or NNLO+NNLL for gluinos, squarks and stops; "
    "NLO+NLL for electroweakinos and sleptons (default: the highest).",
)
@click.option("--list", "listing", is_flag=True, help="List the tables: mass ranges and orders.")
@click.option("--json", "as_json", is_flag=True, help="Print the cross-section as JSON.")
@reports_errors
def xsec_command(
    process: str | None, mass: float | None, order: str | None, listing: bool, as_json: bool
) -> None:
    """The 13 TeV production cross-section of PROCESS at MASS GeV, interpolated in log σ.

    Built-in tables: NNLO+NNLL (NNLL-fast) for gluino, squark and stop/sbottom pairs, NLO+NLL
    (LHC SUSY cross-section working group) for higgsinos, winos and sleptons. A mass outside
    a table's grid is refused, never extrapolated.

    \b
    Examples:
      recast xsec --list
      recast xsec gluino-pairs 1800
      recast xsec gluino-pairs 1800 --order LO
      recast xsec higgsino-n1n2 250 --json
    """
    from ..xsec import cross_section, describe, processes

    if listing:
        if process is not None:
            raise UsageError("--list lists every table: give it without PROCESS and MASS")
        for known in processes():
            click.echo(describe(known))
        click.echo("(sbottom-pairs is another name of stop-pairs)")
        return
    if process is None or mass is None:
        raise UsageError(
            "give PROCESS and MASS (GeV), e.g. `recast xsec gluino-pairs 1800`; "
            "`recast xsec --list` shows the tables"
        )
    sigma = cross_section(process, mass, order=order)
    if as_json:
        click.echo(json.dumps(sigma.to_dict(), indent=1, ensure_ascii=False))
        return
    for line in _lines(sigma):
        click.echo(line)
