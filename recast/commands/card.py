"""recast card: check, show, export, import and edit network cards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError
from .group import cli, path_option, reports_errors

if TYPE_CHECKING:  # the commands import the library lazily: `recast --help` stays fast
    from ..preserve.card import NetworkCard

F = TypeVar("F", bound=Callable[..., Any])

#: the provenance options: (option, card field, help)
_PROVENANCE = (
    ("--analysis-id", "analysis_id", "The analysis id, e.g. ATLAS-SUSY-2018-30."),
    ("--arxiv", "arxiv", "The paper's arXiv id, e.g. 2211.08028."),
    ("--inspire", "inspire", "The paper's INSPIRE record number."),
    ("--hepdata-doi", "hepdata_doi", "The HEPData record's DOI, e.g. 10.17182/hepdata.1.v1."),
    ("--license", "license", "The licence of the network files, e.g. CC-BY-4.0."),
)


def provenance_options(func: F) -> F:
    """``--analysis-id``, ``--arxiv``, ``--inspire``, ``--hepdata-doi``, ``--license``: the
    card's provenance, passed to the command as ``provenance`` (a dict of those given)."""
    for option, field, text in reversed(_PROVENANCE):
        func = click.option(option, field, default=None, metavar="TEXT", help=text)(func)
    return func


def _provenance(options: dict[str, str | None]) -> dict[str, Any]:
    """The provenance options given, as a validated definitions document."""
    from ..errors import InvalidDocumentError
    from ..preserve.definitions import provenance_definitions

    given = {field: options.pop(field) for _, field, _ in _PROVENANCE}
    try:
        return provenance_definitions(given, "the provenance options")
    except InvalidDocumentError as exc:  # said by option, not by the card's field
        flags = {f"provenance.{field}": option for option, field, _ in _PROVENANCE}
        lines = [f"{flags.get(path, path)}: {message}" for path, message in exc.problems]
        raise UsageError("; ".join(lines)) from None


_DEFINITIONS_HELP = (
    "A definitions file (JSON): per input its definition, collection, attribute, unit, "
    "padding, angle_range; and the card's provenance (see docs/importing.md)."
)


# -- recast card ----------------------------------------------------------------------------
@cli.group()
def card() -> None:
    """Network cards: check, show, export, import and edit preserved networks."""


@card.command("check")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@path_option(
    "--network",
    "network_file",
    help="The model file (or a folder holding it) for a card whose file is not distributed.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 1) when inputs still lack a definition, unit or padding (guessed, TODO).",
)
@reports_errors
def card_check(card_path: Path, network_file: Path | None, strict: bool) -> None:
    """Verify a card: schema, digests, ONNX graph, node names/dtypes/shapes, reference vectors.

    Also refused: NaN or zero-width preprocessing, absurd static shapes, and outputs whose
    declared activation the graph contradicts (see docs/preserving.md). Inputs whose
    definition, unit or padding was guessed by the importer (or is marked TODO) are listed as
    warnings; --strict makes them errors. Exit 0 when the card passes (warnings are
    printed), 1 otherwise.

    Example: recast card check analyses/DEMO/networks/nn.card.json
    """
    from ..preserve.check import check_card

    report = check_card(card_path, network_file, strict=strict)
    for line in report.checked:
        click.echo(f"ok  {line}")
    for line in report.skipped:
        click.echo(f"skipped  {line}")
    for line in report.warnings:
        click.echo(f"warning  {line}")
    verdict = "passes every check" if not report.skipped else "passes; its graph was not checked"
    if report.gaps:
        verdict += " but does not state every input (--strict fails)"
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
@path_option("--definitions", "definitions_path", help=_DEFINITIONS_HELP)
@provenance_options
@reports_errors
def card_export(
    template: Path,
    model_path: Path,
    out_dir: Path,
    stem: str | None,
    definitions_path: Path | None,
    **provenance: str | None,
) -> None:
    """Export a network with its card from a card TEMPLATE (a card without files/references).

    --definitions and the provenance options are applied to the template first.

    Example: recast card export template.json --model net.pt -o published/ --arxiv 2211.08028
    """
    from ..io import check_output
    from ..preserve.definitions import apply_definitions, is_empty, load_definitions
    from ..preserve.export import check_stem, checked_template, export_model_file
    from ..schema import load_json

    check_stem(stem)  # before anything is read: ../x would write outside -o
    document = load_json(template)
    stated = (
        [(str(definitions_path), load_definitions(definitions_path))] if definitions_path else []
    )
    stated.append(("the provenance options", _provenance(provenance)))
    stated = [(source, d) for source, d in stated if not is_empty(d)]
    if stated:
        document = checked_template(document, template)  # its own errors first
        for source, definitions in stated:
            document = apply_definitions(document, definitions, source)
    check_output(out_dir, inputs=[template, model_path, definitions_path], folder=True)
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
@click.option(
    "--unit",
    default=None,
    help="Energy unit of the inputs (when not given: GeV, marked guessed in the card).",
)
@click.option(
    "--padding",
    type=float,
    default=None,
    help="Raw value of a missing object's inputs, before preprocessing (when not given: 0,"
    " marked guessed in the card).",
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
@path_option("--definitions", "definitions_path", help=_DEFINITIONS_HELP)
@provenance_options
@reports_errors
def card_import(
    onnx_path: Path | None,
    sidecar: Path | None,
    names_path: Path | None,
    dynamic_batch: bool,
    folds: tuple[str, ...],
    card_path: Path,
    name: str | None,
    unit: str | None,
    padding: float | None,
    labels: tuple[str, ...],
    angle_ranges: tuple[str, ...],
    units: tuple[str, ...],
    definitions_path: Path | None,
    **provenance: str | None,
) -> None:
    """Make a card for an already-published network: ONNX (and its side-car) or lwtnn JSON.

    An lwtnn file (recognised by its content) is converted to ONNX beside the card. A network
    whose batch axis is fixed runs one row at a time unless imported with --dynamic-batch.
    What the importer infers from the published names and its defaults (definitions, sources,
    units, paddings, φ ranges) is marked "guessed" in the card; state it with --definitions
    FILE (or later with recast card edit).

    \b
    Examples:
      recast card import model.onnx --sidecar model_variables.json -o model.card.json
      recast card import --fold even.onnx=0:even.json --fold odd.onnx=1:odd.json -o nn.card.json
      recast card import network_6j.json --unit "100 GeV" -o nn_6j.card.json
      recast card import fixed.onnx --sidecar vars.json --dynamic-batch -o nn.card.json
      recast card import model.onnx --definitions inputs.json --arxiv 2411.02040 -o nn.card.json
    """
    from ..io import check_output
    from ..preserve.definitions import load_definitions
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
        "provenance": _provenance(provenance).get("provenance"),
    }
    if definitions_path is not None:
        options["definitions"] = load_definitions(definitions_path)
        options["definitions_source"] = str(definitions_path)
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
    check_output(card_path, inputs=[onnx_path, sidecar, names_path, definitions_path, *fold_inputs])
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
    _said_written(card_path, card, f"{len(card.model_files())} file(s)")


@card.command("edit")
@click.argument("card_path", metavar="CARD", type=click.Path(path_type=Path))
@path_option("--definitions", "definitions_path", help=_DEFINITIONS_HELP)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FEATURE.FIELD=VALUE",
    help="State one field of one input: definition, collection, attribute, unit, padding,"
    " angle_range or notes, e.g. jet_pt_0.unit=GeV. Repeatable; applied after --definitions.",
)
@provenance_options
@path_option("-o", "--output", "out_path", help="Where to write the edited card (a new file).")
@click.option(
    "--in-place",
    is_flag=True,
    help="Replace CARD itself (atomically) instead of writing -o.",
)
@reports_errors
def card_edit(
    card_path: Path,
    definitions_path: Path | None,
    settings: tuple[str, ...],
    out_path: Path | None,
    in_place: bool,
    **provenance: str | None,
) -> None:
    """State what a card's published files do not: definitions, sources, units, paddings,
    φ ranges, provenance. Writes a new card (-o), or CARD itself with --in-place.

    Every stated field leaves the input's "guessed" list. The ONNX files are not touched: the
    edited card must lie in CARD's folder (its files are named relative to it), and their
    digests are checked from there. A bundle naming the card records the card's digest:
    re-record it with `recast bundle stamp --artefacts BUNDLE`.

    \b
    Examples:
      recast card edit nn.card.json --definitions inputs.json -o nn.stated.card.json
      recast card edit nn.card.json --set mHradius.unit=GeV --arxiv 2411.02040 --in-place
    """
    from ..io import check_output
    from ..preserve.card import NetworkCard
    from ..preserve.definitions import (
        apply_definitions,
        is_empty,
        load_definitions,
        settings_definitions,
    )

    if in_place and out_path is not None:
        raise UsageError("give either -o OUT (a new card) or --in-place (replace CARD), not both")
    if not in_place and out_path is None:
        raise UsageError(
            f"give -o OUT to write the edited card to a new file, or --in-place to replace "
            f"{card_path}"
        )
    target = card_path if in_place else out_path
    assert target is not None
    stated = (
        [(str(definitions_path), load_definitions(definitions_path))] if definitions_path else []
    )
    stated.append(("--set", settings_definitions(settings)))
    stated.append(("the provenance options", _provenance(provenance)))
    stated = [(source, d) for source, d in stated if not is_empty(d)]
    if not stated:
        raise UsageError(
            "nothing to state: give --definitions FILE, --set FEATURE.FIELD=VALUE or a "
            "provenance option (--analysis-id, --arxiv, --inspire, --hepdata-doi, --license)"
        )
    if not in_place:
        check_output(target, inputs=[card_path, definitions_path])
    card = NetworkCard.load(card_path)
    document = card.document
    for source, definitions in stated:
        document = apply_definitions(document, definitions, source)
    edited = NetworkCard(document, target)
    _check_files_from(edited, card_path, target)
    edited.save(target)  # atomic: a failed write leaves CARD (or OUT) as it was
    _said_written(target, edited)
    bundle = _bundle_of(target)
    if bundle is not None:
        click.echo(
            f"note: {bundle} is a bundle and records the sha256 of its cards; re-record it "
            f"with `recast bundle stamp --artefacts {bundle}`"
        )


def _said_written(path: Path, card: Any, *details: str) -> None:
    """``wrote CARD: N inputs, ...`` and what the authors still have to state."""
    from ..preserve.check import description_gaps

    gaps = description_gaps(card)
    said = "still to state:" if gaps else "every definition, unit and padding stated"
    click.echo(
        f"wrote {path}: {', '.join([f'{len(list(card.features()))} inputs', *details, said])}"
    )
    for gap in gaps:
        click.echo(f"  {gap}")


def _check_files_from(card: NetworkCard, original: Path, target: Path) -> None:
    """The model files as the edited card names them, from where it is written: each found
    (one that is not distributed may be absent) and with its recorded digest."""
    from ..errors import DigestMismatchError
    from ..preserve import locate

    for model in card.model_files():
        if not model.path.is_file():
            if not model.distributed:
                continue  # supplied by users, never beside the card
            raise UsageError(
                f"{target}: the card names {model.entry['path']!r} (files[{model.index}].path) "
                f"relative to its folder, and there is no such file there; write the edited "
                f"card in the folder of {original} ({original.resolve().parent})"
            )
        mismatch = locate.digest_mismatch(model.path, model.entry)
        if mismatch is not None:
            name, expected, actual = mismatch
            field = f"files[{model.index}].{name} of {original}"
            raise DigestMismatchError(str(model.path), expected, actual, field, kind=name)


def _bundle_of(card_path: Path) -> Path | None:
    """The bundle folder holding the card (an analysis.json in its folder or the two above)."""
    folder = card_path.resolve().parent
    for candidate in [folder, *folder.parents][:3]:
        if (candidate / "analysis.json").is_file():
            here = Path.cwd()
            return candidate.relative_to(here) if candidate.is_relative_to(here) else candidate
    return None
