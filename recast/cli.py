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


@card.command("import")
@click.argument("onnx_path", metavar="ONNX", type=click.Path(path_type=Path))
@click.option(
    "--sidecar",
    type=click.Path(path_type=Path),
    default=None,
    help="Published preprocessing side-car (JSON); without it, the ONNX metadata.",
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
    "--angle-range",
    "angle_ranges",
    multiple=True,
    metavar="FEATURE=RANGE",
    help="Override a φ feature's range, e.g. met_phi='[0, 2pi)'. Repeatable.",
)
@_reports_errors
def card_import(
    onnx_path: Path,
    sidecar: Path | None,
    card_path: Path,
    name: str | None,
    unit: str,
    angle_ranges: tuple[str, ...],
) -> None:
    """Make a card for an already-published ONNX network (and its side-car).

    Example: recast card import model.onnx --sidecar model_variables.json -o model.card.json
    """
    from .io import write_json
    from .preserve.importers import import_network

    overrides: dict[str, str] = {}
    for item in angle_ranges:
        feature, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--angle-range {item!r}: expected FEATURE=RANGE")
        overrides[feature] = value
    document = import_network(
        onnx_path,
        sidecar,
        name=name,
        card_path=card_path,
        unit=unit,
        angle_ranges=overrides or None,
    )
    write_json(card_path, document)
    click.echo(f"wrote {card_path}")


def main() -> None:
    cli(prog_name="recast")


if __name__ == "__main__":
    main()
