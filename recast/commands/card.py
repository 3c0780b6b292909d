"""recast card: check, show, export and import network cards."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from .group import cli, path_option, reports_errors


# -- recast card ----------------------------------------------------------------------------
@cli.group()
def card() -> None:
    """Network cards: check, show, export and import preserved networks."""


@card.command("check")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@path_option(
    "--network",
    "network_file",
    help="The model file (or a folder holding it) for a card whose file is not distributed.",
)
@reports_errors
def card_check(card_path: Path, network_file: Path | None) -> None:
    """Verify a card: schema, digests, ONNX graph, node names/dtypes/shapes, reference vectors.

    Also refused: NaN or zero-width preprocessing, absurd static shapes, and outputs whose
    declared activation the graph contradicts (see docs/preserving.md). Exit 0 when the card
    passes (warnings are printed), 1 otherwise.

    Example: recast card check analyses/DEMO/networks/nn.card.json
    """
    from ..preserve.check import check_card

    report = check_card(card_path, network_file)
    for line in report.checked:
        click.echo(f"ok  {line}")
    for line in report.skipped:
        click.echo(f"skipped  {line}")
    for line in report.warnings:
        click.echo(f"warning  {line}")
    verdict = "passes every check" if not report.skipped else "passes; its graph was not checked"
    click.echo(f"{card_path}: card {report.card.name!r} {verdict}")


@card.command("show")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@reports_errors
def card_show(card_path: Path) -> None:
    """Print a readable summary of a card: inputs, outputs, files, provenance.

    Example: recast card show my_network.card.json
    """
    from rich.console import Console

    from ..preserve.card import NetworkCard
    from ..report.card_table import card_tables

    console = Console()
    if not console.is_terminal:  # piped or captured: no width to fit, keep every cell whole
        console = Console(width=200)
    for table in card_tables(NetworkCard.load(card_path)):
        console.print(table)


@card.command("export")
@click.argument("template", type=click.Path(path_type=Path))
@path_option(
    "--model",
    "model_path",
    required=True,
    help="An ONNX file, or a TorchScript file (.pt/.ts) to export with torch.",
)
@path_option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    help="Folder to write NAME.onnx and NAME.card.json into.",
)
@click.option("--stem", default=None, help="File name stem (default: the card's name).")
@reports_errors
def card_export(template: Path, model_path: Path, out_dir: Path, stem: str | None) -> None:
    """Export a network with its card from a card TEMPLATE (a card without files/references).

    Example: recast card export template.json --model net.pt -o published/
    """
    from ..io import check_output
    from ..preserve.export import check_stem, export_model_file
    from ..schema import load_json

    check_stem(stem)  # before anything is read: ../x would write outside -o
    document = load_json(template)
    check_output(out_dir, inputs=[template, model_path], folder=True)
    name = stem or (document.get("name") if isinstance(document, dict) else None)
    for suffix in (".onnx", ".card.json") if isinstance(name, str) and name else ():
        # the two files it writes, named as export_model_file names them
        check_output(out_dir / f"{name}{suffix}", inputs=[template, model_path])
    exported = export_model_file(model_path, document, out_dir, stem=stem, source=template)
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
        if key in pairs:  # the last would silently win (one fold's file given for two folds)
            raise UsageError(f"{option} {key}: given twice ({pairs[key]!r} and {value!r})")
        pairs[key] = value
    return pairs


@card.command("import")
@click.argument(
    "onnx_path", metavar="[ONNX|LWTNN]", required=False, type=click.Path(path_type=Path)
)
@path_option(
    "--sidecar",
    help="Published preprocessing side-car (JSON); without it, the ONNX metadata"
    " (for an lwtnn file: checked against its variables).",
)
@path_option(
    "--names",
    "names_path",
    help="For an lwtnn file: a card, card template, side-car or JSON list whose input names"
    " the lwtnn variables must match, in order.",
)
@click.option(
    "--dynamic-batch",
    is_flag=True,
    help="Re-export a network whose batch axis is fixed (e.g. [1, 65]) with a dynamic one,"
    " verified against the original, beside the card; the card names the copy.",
)
@click.option(
    "--fold",
    "folds",
    multiple=True,
    metavar="ONNX=REMAINDER[:SIDECAR]",
    help="One file of a k-fold network, applied where event_number % k == REMAINDER."
    " Repeat for every fold (instead of ONNX).",
)
@path_option(
    "-o",
    "--output",
    "card_path",
    required=True,
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
@reports_errors
def card_import(
    onnx_path: Path | None,
    sidecar: Path | None,
    names_path: Path | None,
    dynamic_batch: bool,
    folds: tuple[str, ...],
    card_path: Path,
    name: str | None,
    unit: str,
    padding: float,
    labels: tuple[str, ...],
    angle_ranges: tuple[str, ...],
    units: tuple[str, ...],
) -> None:
    """Make a card for an already-published network: ONNX (and its side-car) or lwtnn JSON.

    An lwtnn file (recognised by its content) is converted to ONNX beside the card. A network
    whose batch axis is fixed runs one row at a time unless imported with --dynamic-batch.

    \b
    Examples:
      recast card import model.onnx --sidecar model_variables.json -o model.card.json
      recast card import --fold even.onnx=0:even.json --fold odd.onnx=1:odd.json -o nn.card.json
      recast card import network_6j.json --unit "100 GeV" -o nn_6j.card.json
      recast card import fixed.onnx --sidecar vars.json --dynamic-batch -o nn.card.json
    """
    from ..io import check_output
    from ..preserve.importers import (
        CardOptions,
        FoldFile,
        converted_onnx_path,
        dynamic_batch_path,
        import_folds,
        import_lwtnn,
        import_network,
        is_lwtnn,
        write_imported_card,
    )

    options: CardOptions = {
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
    fold_inputs: list[str | None] = []
    for item in folds:  # ONNX=REMAINDER[:SIDECAR]
        fold_onnx, _, spec = item.partition("=")
        fold_inputs += [fold_onnx, spec.partition(":")[2] or None]
    lwtnn = onnx_path is not None and is_lwtnn(onnx_path)
    if names_path is not None and not lwtnn:
        raise UsageError(
            "--names checks the variables of an lwtnn file; for an ONNX file, give the names "
            "and preprocessing with --sidecar"
        )
    check_output(card_path, inputs=[onnx_path, sidecar, names_path, *fold_inputs])
    # the network files recast writes beside the card: removed again if the card is not
    planned = []
    if lwtnn and onnx_path is not None:
        planned.append(converted_onnx_path(onnx_path, card_path))
    elif dynamic_batch:
        published = [onnx_path] if onnx_path is not None else fold_inputs[::2]
        planned += [dynamic_batch_path(p, card_path) for p in published if p is not None]
    fresh = [p for p in planned if not p.exists()]
    if folds:
        fold_files = []
        for onnx_file, spec in _pairs(folds, "--fold").items():
            remainder, _, fold_sidecar = spec.partition(":")
            if not remainder.isdigit():
                raise UsageError(
                    f"--fold {onnx_file}={spec}: REMAINDER must be a non-negative whole number "
                    "(0, 1, ...: event_number % k)"
                )
            fold_files.append(FoldFile(onnx_file, int(remainder), fold_sidecar or None))
        document = import_folds(fold_files, dynamic_batch=dynamic_batch, **options)
    elif onnx_path is not None and lwtnn:
        document = import_lwtnn(onnx_path, sidecar, names=names_path, **options)
    elif onnx_path is not None:
        document = import_network(onnx_path, sidecar, dynamic_batch=dynamic_batch, **options)
    else:
        raise UsageError("give the ONNX file to import (or --fold options for a k-fold network)")
    try:
        card = write_imported_card(document, card_path)
    except BaseException:
        for path in fresh:
            path.unlink(missing_ok=True)
        raise
    made = {p.resolve() for p in planned}
    for model in card.model_files():
        if model.path.resolve() in made:
            how = "converted from lwtnn" if lwtnn else "re-exported with a dynamic batch"
            click.echo(f"wrote {card_path.parent / model.entry['path']} ({how})")
    click.echo(
        f"wrote {card_path}: {len(list(card.features()))} inputs, {len(card.model_files())} file(s)"
    )
