"""Import already-published networks: an ONNX file plus, optionally, a preprocessing side-car.

The published preprocessing (side-car forms 1 and 2, ONNX metadata form 3) is read and
cross-checked by :mod:`recast.preserve.sidecars`, and what each input is guessed from its
published name by :mod:`recast.preserve.names`; this module reads the ONNX graph, runs the
network for reference vectors and assembles a validated card, one file or k folds (each fold
keeping its own preprocessing).

>>> card = import_network("model.onnx", "model_variables.json", card_path="model.card.json")
...                                                             # doctest: +SKIP
>>> write_imported_card(card, "model.card.json")               # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import onnx
import onnxruntime as ort

from ..errors import (
    ArtefactNotFoundError,
    CardCheckError,
    ImportFormatError,
    SidecarMismatchError,
    UsageError,
)
from ..io import check_output, sha256_file, write_bytes
from ..schema import current_version
from ..version import __version__
from .activations import graph_activation
from .batch import fixed_batch, reexport_bytes
from .card import ENERGY_UNITS, NetworkCard
from .definitions import apply_definitions, check_input_names, stated_fields
from .lwtnn import (
    LwtnnNetwork,
    check_names,
    expected_names,
    is_lwtnn,
    json_document,
    looks_like_lwtnn,
    lwtnn_to_onnx,
    read_lwtnn,
)
from .names import features
from .session import make_session, run_rows
from .sidecars import (
    FORMS,
    Normalisation,
    check_agreement,
    differing_steps,
    inferred_angle_range,
    published_normalisation,
    read_metadata,
    read_sidecar,
    same_transformation,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

REFERENCE_TOLERANCE = {"absolute": 1e-5, "relative": 1e-4}
REFERENCE_SEED = 0
REFERENCE_RANDOM_ROWS = 3
ANGLE_RANGES = ("(-pi, pi]", "[0, 2pi)")

_DTYPES = ("float32", "float64", "float16", "int64", "int32", "bool")


@dataclass(frozen=True)
class FoldFile:
    """One ONNX file of a k-fold network and the events it is *applied* to.

    ``remainder`` is stated by the caller: a file called ``..._even`` may have been *trained*
    on even event numbers and so be applied to odd ones; the name does not say which.
    """

    onnx: str | Path
    remainder: int
    sidecar: str | Path | None = None


@dataclass(frozen=True)
class _Graph:
    path: Path
    model: onnx.ModelProto
    input: dict[str, Any]  # name, dtype, shape[, dynamic_axes]
    outputs: list[dict[str, Any]]  # name, dtype, shape[, activation]
    #: the file's bytes when recast made it (converted, re-exported) and it is not yet
    #: written at ``path``: it is written only once the card is complete
    data: bytes | None = None

    def source(self) -> str | bytes:
        """What onnxruntime loads: the pending bytes, or the file."""
        return self.data if self.data is not None else str(self.path)

    def sha256(self) -> str:
        return (
            hashlib.sha256(self.data).hexdigest()
            if self.data is not None
            else sha256_file(self.path)
        )


# -- the ONNX graph --------------------------------------------------------------------------
def _tensor(value: onnx.ValueInfoProto, source: str) -> dict[str, Any]:
    if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
        raise ImportFormatError(f"{source}: node {value.name!r} is not a tensor of known rank")
    tensor = value.type.tensor_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)).name
    if dtype not in _DTYPES:
        raise ImportFormatError(
            f"{source}: node {value.name!r} has dtype {dtype}; cards take {list(_DTYPES)}"
        )
    shape: list[int | None] = []
    dynamic: dict[str, str] = {}
    for axis, dim in enumerate(tensor.shape.dim):
        shape.append(dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None)
        if dim.HasField("dim_param"):
            dynamic[str(axis)] = dim.dim_param
    node: dict[str, Any] = {"name": value.name, "dtype": dtype, "shape": shape}
    return node | ({"dynamic_axes": dynamic} if dynamic else {})


def _read_graph(path: Path) -> _Graph:
    if not path.is_file():
        raise ArtefactNotFoundError(f"{path}: no such ONNX file")
    document = json_document(path)
    if looks_like_lwtnn(document):
        raise ImportFormatError(
            f"{path}: is an lwtnn network (JSON), not an ONNX file: import it on its own with "
            "import_lwtnn (`recast card import` recognises it); folds of lwtnn files are not "
            "supported, convert each first"
        )
    if document is not None:
        raise ImportFormatError(
            f"{path}: is a JSON document (keys {sorted(document)[:8]}), not an ONNX file; "
            "give the network's .onnx file, or an lwtnn network (a JSON object with 'layers' "
            "and 'inputs' or 'nodes')"
        )
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises its own, untyped decode errors
        raise ImportFormatError(f"{path}: not a readable ONNX model ({exc})") from None
    return _graph(path, model)


def _graph(path: Path, model: onnx.ModelProto, data: bytes | None = None) -> _Graph:
    """The nodes of a loaded model; ``data`` are its bytes when not yet written at ``path``."""
    if not model.graph.node and not model.graph.input:  # protobuf parses empty bytes too
        raise ImportFormatError(
            f"{path}: not an ONNX model: it holds no graph (an empty file, or another format); "
            "fetch the published file again"
        )
    initialisers = {i.name for i in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initialisers]
    if len(inputs) != 1:
        raise ImportFormatError(
            f"{path}: the graph has {len(inputs)} input nodes {[v.name for v in inputs]}; the "
            "importer reads one flat [batch, features] node, write the card for others by hand"
        )
    node = _tensor(inputs[0], str(path))
    if len(node["shape"]) != 2:
        raise ImportFormatError(
            f"{path}: input {node['name']!r} has shape {node['shape']}; the "
            "importer reads a flat [batch, features] node"
        )
    outputs = []
    for value in model.graph.output:
        out = _tensor(value, str(path))
        out.pop("dynamic_axes", None)  # the card's output nodes do not record them
        outputs.append(out | {"activation": graph_activation(model.graph, value.name)})
    return _Graph(path, model, node, outputs, data)


def _opset(graph: _Graph) -> int:
    for opset in graph.model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    raise ImportFormatError(f"{graph.path}: no opset for the default ONNX domain")


# -- outputs and references --------------------------------------------------------------------
def _reference(graph: _Graph, input_name: str, width: int) -> tuple[dict[str, Any], list[int]]:
    """A zero row and seeded random rows (preprocessed space) through onnxruntime."""
    rng = np.random.default_rng(REFERENCE_SEED)
    rows = np.zeros((1 + REFERENCE_RANDOM_ROWS, width))
    rows[1:] = rng.standard_normal((REFERENCE_RANDOM_ROWS, width))
    rows = rows.astype(graph.input["dtype"])
    names = [o["name"] for o in graph.outputs]
    session = make_session(graph.source(), label=str(graph.path))
    try:
        values = run_rows(session, names, {graph.input["name"]: rows})
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ImportFormatError(f"{graph.path}: onnxruntime cannot run it: {exc}") from None
    reference = {
        "computed_by": {"name": "onnxruntime", "version": ort.__version__},
        "inputs": {input_name: rows.tolist()},
        "outputs": {},  # keyed by the card's output names, filled by the caller
        "tolerance": dict(REFERENCE_TOLERANCE),
    }
    reference["outputs"] = dict(zip(names, [np.asarray(v).tolist() for v in values], strict=True))
    return reference, [1 if np.ndim(v) == 1 else int(np.shape(v)[-1]) for v in values]


def _labels(
    outputs: list[dict[str, Any]], widths: list[int], labels: Sequence[str] | None
) -> list[list[str]]:
    if labels is not None:
        if len(labels) != sum(widths):
            raise UsageError(
                f"{len(labels)} output labels given for {sum(widths)} output "
                f"column(s) ({[o['name'] for o in outputs]} of widths {widths})"
            )
        starts = itertools.accumulate(widths, initial=0)
        return [list(labels[a:b]) for a, b in itertools.pairwise(starts)]
    if len(outputs) == 1:
        return [["score"] if widths[0] == 1 else [f"output_{k}" for k in range(widths[0])]]
    safe = [re.sub(r"[^A-Za-z0-9_.\-]", "_", o["name"]) for o in outputs]
    return [
        [s] if w == 1 else [f"{s}_{k}" for k in range(w)] for s, w in zip(safe, widths, strict=True)
    ]


def _output_nodes(
    graph: _Graph, widths: list[int], labels: Sequence[str] | None
) -> list[dict[str, Any]]:
    nodes = []
    for out, names in zip(graph.outputs, _labels(graph.outputs, widths, labels), strict=True):
        columns = []
        for k, label in enumerate(names):
            column = {"index": k, "label": label}
            columns.append(
                column | ({"activation": out["activation"]} if out["activation"] else {})
            )
        nodes.append(
            {"name": out["name"], "dtype": out["dtype"], "shape": out["shape"], "columns": columns}
        )
    return nodes


# -- assembling the card -----------------------------------------------------------------------
@dataclass
class _Imported:
    graph: _Graph
    norm: Normalisation
    checked: bool  # side-car and metadata both read and found to agree
    sidecar: Path | None
    remainder: int | None = None
    #: feature name -> this file's own preprocessing, where it differs from the card's feature
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: how recast made the file the card names (converted, re-exported), for the provenance
    made_from: list[str] = field(default_factory=list)
    #: the published file the network came from, when not ``graph.path`` (for messages)
    published: Path | None = None


def _read(onnx_path: Path, sidecar: Path | None, remainder: int | None = None) -> _Imported:
    graph = _read_graph(onnx_path)
    norm, checked = published_normalisation(
        graph.model, graph.path, sidecar, graph.input["name"], graph.input["shape"][1]
    )
    return _Imported(graph, norm, checked, sidecar, remainder)


def _file_entry(
    item: _Imported, folder: Path, card_inputs: str, card_outputs: list[str], width: int
) -> tuple[dict[str, Any], list[int]]:
    graph = item.graph
    reference, widths = _reference(graph, card_inputs, width)
    reference["outputs"] = dict(zip(card_outputs, reference["outputs"].values(), strict=True))
    own = [graph.input["name"], *(o["name"] for o in graph.outputs)]
    renamed = {c: o for c, o in zip([card_inputs, *card_outputs], own, strict=True) if c != o}
    producer = graph.model.producer_name or "unknown"
    entry: dict[str, Any] = {
        "path": Path(os.path.relpath(graph.path.resolve(), folder)).as_posix(),
        "sha256": graph.sha256(),
        "opset": _opset(graph),
        "producer": {"name": producer, "version": graph.model.producer_version or "unknown"},
    }
    if item.remainder is not None:
        entry["applies_to"] = {"modulus": 0, "remainder": item.remainder}  # modulus set later
    if item.overrides:
        entry["preprocessing"] = {n: dict(step) for n, step in item.overrides.items()}
    if renamed:
        entry["node_names"] = renamed
    entry["references"] = [reference]
    return entry, widths


def _same_network(first: _Imported, other: _Imported) -> None:
    """Folds share one card: same inputs, outputs and parameter points, node names aside."""
    where = f"{other.graph.path.name} vs {first.graph.path.name}"
    if other.norm.names != first.norm.names:
        raise ImportFormatError(
            f"folds {where}: input variables differ: {other.norm.names} vs {first.norm.names}"
        )
    for what, part in (
        ("input dtypes", lambda i: i.graph.input["dtype"]),
        (
            "outputs (dtype, activation)",
            lambda i: [(o["dtype"], o["activation"]) for o in i.graph.outputs],
        ),
        ("parameter points", lambda i: i.norm.parameter_points),
    ):
        if part(other) != part(first):
            raise ImportFormatError(f"folds {where}: {what} differ: {part(other)} vs {part(first)}")


def _check_fold_angles(
    features: list[dict[str, Any]], items: list[_Imported], stated: Mapping[str, str]
) -> None:
    """A φ range inferred from the first fold's normalisation must fit every fold's."""
    for feature in features:
        name = feature["name"]
        if feature["unit"] != "rad" or name in stated:
            continue
        for item in items[1:]:
            if name not in item.overrides:
                continue
            inferred, centre, std = inferred_angle_range(item.overrides[name])
            if inferred != feature["angle_range"]:
                raise ImportFormatError(
                    f"folds {item.graph.path.name} vs {items[0].graph.path.name}: the "
                    f"normalisations of {name!r} fit different φ ranges ({inferred} from mean "
                    f"{centre:.4g}, std {std:.4g} vs {feature['angle_range']}); state it with "
                    f"angle_ranges={{{name!r}: ...}}"
                )


def _provenance(items: list[_Imported], provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    sources = [
        (i.published or i.graph.path).name + (f" + {i.sidecar.name}" if i.sidecar else "")
        for i in items
    ]
    result = {"source": "; ".join(sources)} | dict(provenance or {})
    made = [note for i in items for note in i.made_from]
    if made:  # how the files came to be is kept whatever notes the caller gives
        notes = [result["notes"]] if result.get("notes") else []
        result["notes"] = "; ".join([*notes, *made])
    return result


def _description(items: list[_Imported]) -> str:
    sources = [
        f"the {i.norm.origin}" + (" checked against the ONNX metadata_props" if i.checked else "")
        for i in items
    ]
    files = ", ".join(i.graph.path.name for i in items)
    text = f"{files}, imported by recast-nn; preprocessing from {'; '.join(sources)}."
    for item in items:
        prefix = f"{item.graph.path.name}: " if len(items) > 1 else ""
        text += "".join(f" {prefix}{note[0].upper()}{note[1:]}." for note in item.made_from)
    if any(i.overrides for i in items):
        text += (
            f" The folds were normalised separately: the features carry the preprocessing "
            f"of {items[0].graph.path.name}, and files[k].preprocessing that of file k "
            "where it differs."
        )
    return text


def _card_name(name: str | None, path: Path) -> str:
    if name is not None:
        return name
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", path.stem)
    return stem if re.match(r"[A-Za-z_]", stem) else f"_{stem}"


def _location(name: str | None, card_path: str | Path | None, first: Path) -> tuple[str, Path]:
    """The card's name and path: as given, else from the first published file (beside it)."""
    card_name = _card_name(name, first)
    return card_name, (
        Path(card_path) if card_path is not None else first.parent / f"{card_name}.card.json"
    )


def _assemble(
    items: list[_Imported],
    *,
    modulus: int | None,
    name: str | None = None,
    card_path: str | Path | None = None,
    description: str | None = None,
    unit: str | None = None,
    padding: float | None = None,
    provenance: Mapping[str, Any] | None = None,
    angle_ranges: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    output_labels: Sequence[str] | None = None,
    definitions: Mapping[str, Any] | None = None,
    definitions_source: str = "the definitions",
) -> dict[str, Any]:
    if unit is not None and unit not in ENERGY_UNITS:
        raise UsageError(f"unit {unit!r} is not an energy unit; use one of {list(ENERGY_UNITS)}")
    for feature_name, value in (angle_ranges or {}).items():
        if value not in ANGLE_RANGES:
            raise UsageError(
                f"angle range {value!r} for {feature_name!r}: use one of {list(ANGLE_RANGES)}"
            )
    first = items[0]
    for other in items[1:]:
        _same_network(first, other)
        other.overrides = differing_steps(first.norm, other.norm)
    card_name, card_path = _location(name, card_path, first.graph.path)
    folder = card_path.resolve().parent
    width = len(first.norm.names)
    if definitions is not None:  # refused before any work, naming the file and the field
        check_input_names(definitions, first.norm.names, definitions_source, f"card {card_name!r}")
        # stated units and φ ranges count when the folds' normalisations are compared
        units = {**(units or {}), **stated_fields(definitions, "unit")}
        angle_ranges = {**(angle_ranges or {}), **stated_fields(definitions, "angle_range")}
    input_node = dict(first.graph.input) | {
        "layout": "flat",
        "features": features(first.norm, unit, padding, angle_ranges or {}, units or {}),
    }
    input_node["shape"] = [input_node["shape"][0], width]
    _check_fold_angles(input_node["features"], items, angle_ranges or {})
    output_names = [o["name"] for o in first.graph.outputs]
    files: list[dict[str, Any]] = []
    widths: list[int] = []
    for item in items:
        entry, item_widths = _file_entry(item, folder, input_node["name"], output_names, width)
        if widths and item_widths != widths:
            raise ImportFormatError(
                f"folds {item.graph.path.name} vs {first.graph.path.name}: "
                f"output widths differ: {item_widths} vs {widths}"
            )
        widths = item_widths
        if "applies_to" in entry:
            entry["applies_to"]["modulus"] = modulus
        files.append(entry)
    document: dict[str, Any] = {
        "schema_version": current_version("network-card"),
        "name": card_name,
        "description": description if description is not None else _description(items),
        "evaluate_per": "event",
        "inputs": [input_node],
        "outputs": _output_nodes(first.graph, widths, output_labels),
        "files": files,
        "runtimes_tested": [{"name": "onnxruntime", "version": ort.__version__}],
        "provenance": _provenance(items, provenance),
    }
    if first.norm.parameter_points:
        document["parameter_points"] = [dict(p) for p in first.norm.parameter_points]
    if definitions is not None:
        document = apply_definitions(document, definitions, definitions_source)
    try:  # raises, listing every problem, if the card is invalid
        NetworkCard(document, card_path)
    except CardCheckError as exc:  # name where the numbers came from, not only the new card
        origins = "; ".join(i.norm.origin for i in items)
        raise CardCheckError(f"{card_path} (imported from {origins})", exc.problems) from None
    log.info(
        "imported %s as card %r (%d inputs)", [i.graph.path.name for i in items], card_name, width
    )
    return document


class CardOptions(TypedDict, total=False):
    """The keywords :func:`import_network` and :func:`import_folds` share."""

    name: str | None
    card_path: str | Path | None
    description: str | None
    unit: str | None
    padding: float | None
    provenance: Mapping[str, Any] | None
    angle_ranges: Mapping[str, str] | None
    units: Mapping[str, str] | None
    output_labels: Sequence[str] | None
    #: a card-definitions document (see :mod:`recast.preserve.definitions`), applied to the
    #: imported card; ``definitions_source`` names it in messages (its file)
    definitions: Mapping[str, Any] | None
    definitions_source: str


def converted_onnx_path(lwtnn_path: str | Path, card_path: str | Path) -> Path:
    """Where :func:`import_lwtnn` writes the converted network: beside the card, named like
    the lwtnn file (``.converted.onnx`` when the lwtnn file itself ends in ``.onnx``)."""
    lwtnn_path = Path(lwtnn_path)
    suffix = ".converted.onnx" if lwtnn_path.suffix == ".onnx" else ".onnx"
    return Path(card_path).parent / f"{lwtnn_path.stem}{suffix}"


def dynamic_batch_path(onnx_path: str | Path, card_path: str | Path) -> Path:
    """Where ``dynamic_batch=True`` writes the re-export of a fixed-batch file: beside the
    card, ``<stem>.dynamic-batch.onnx``."""
    return Path(card_path).parent / f"{Path(onnx_path).stem}.dynamic-batch.onnx"


def _dynamic_batch(item: _Imported, card_path: Path, dynamic: bool) -> None:
    """Re-export a fixed-batch file with a dynamic batch (verified, written with the card);
    without ``dynamic``, say what evaluating it row by row costs."""
    graph = item.graph
    fixed = fixed_batch(graph.model)
    if not fixed:
        return
    if not dynamic:
        log.warning(
            "%s fixes the batch axis of %s to %s: recast evaluates it one row at a time (about "
            "20 times slower than whole chunks for a small MLP); import with --dynamic-batch "
            "(dynamic_batch=True) for a verified re-export that takes whole chunks",
            graph.path.name,
            list(fixed),
            sorted(set(fixed.values())),
        )
        return
    target = dynamic_batch_path(graph.path, card_path)
    check_output(target, inputs=[graph.path, item.sidecar], field="the re-exported ONNX file")
    record, data = reexport_bytes(graph.model, graph.path.read_bytes(), graph.path)
    item.published = item.published or graph.path
    item.made_from.append(record.note())
    item.graph = _graph(target, onnx.load_from_string(data), data)


def _write_pending(items: list[_Imported]) -> None:
    """Write the files recast made (converted, re-exported), all or none."""
    pending = [i.graph for i in items if i.graph.data is not None]
    targets = [g.path.resolve() for g in pending]
    if len(set(targets)) != len(targets):
        raise UsageError(
            f"two networks would be written to one file ({[str(t) for t in targets]}): give "
            "the published files different names"
        )
    written: list[Path] = []
    try:
        for graph in pending:
            assert graph.data is not None
            write_bytes(graph.path, graph.data)
            written.append(graph.path)
            log.info("wrote %s", graph.path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def import_network(
    onnx_path: str | Path,
    sidecar: str | Path | None = None,
    *,
    dynamic_batch: bool = False,
    **options: Unpack[CardOptions],
) -> dict[str, Any]:
    """A validated card document for one published ONNX file (and its side-car).

    Options (all keywords, see :class:`CardOptions`): ``card_path`` is where the card will be
    written (default: beside the ONNX file); the file is named relative to it. ``unit`` is the
    energy unit the network expects (default GeV); missing objects are ``padding`` (default 0)
    in raw units before preprocessing; either, when not given, is marked ``guessed`` in the
    features it applies to. ``angle_ranges`` and ``units`` override, per input name, what the
    importer infers. ``name``, ``description``, ``provenance`` and ``output_labels`` go into
    the card as given (defaults: from the file names, none). ``definitions`` (a
    card-definitions document, see :func:`recast.preserve.definitions.load_definitions`)
    states definitions, sources, units, paddings, φ ranges and provenance, applied last.

    With ``dynamic_batch``, a file whose input fixes the batch axis (e.g. ``[1, 65]``) is
    re-exported with a dynamic one beside the card (see :mod:`recast.preserve.batch`;
    verified against the original, recorded in the provenance) and the card names the copy.

    >>> doc = import_network("net.onnx", "net_variables.json", card_path="net.card.json")
    ...                                                          # doctest: +SKIP
    """
    item = _read(Path(onnx_path), Path(sidecar) if sidecar is not None else None)
    name, card_path = _location(options.get("name"), options.get("card_path"), item.graph.path)
    _dynamic_batch(item, card_path, dynamic_batch)
    document = _assemble([item], modulus=None, **(options | {"name": name, "card_path": card_path}))
    _write_pending([item])
    return document


def import_folds(
    folds: Sequence[FoldFile],
    *,
    modulus: int | None = None,
    dynamic_batch: bool = False,
    **options: Unpack[CardOptions],
) -> dict[str, Any]:
    """One card for a k-fold network: file i is applied where event_number % modulus == r_i.

    The caller states each file's remainder (see :class:`FoldFile`). The card's node names and
    the features' preprocessing are those of the file with the lowest remainder; another file
    gets ``node_names`` where it names a node differently and ``preprocessing`` (only the
    differing features, as published for it) where it was normalised differently. Folds whose
    inputs, dtypes, outputs or parameter points differ are refused. ``modulus`` defaults to
    the number of files; ``dynamic_batch`` is as for :func:`import_network`, per file.
    """
    if not folds:
        raise UsageError("import_folds needs at least one FoldFile")
    modulus = len(folds) if modulus is None else modulus
    remainders = sorted(f.remainder for f in folds)
    if modulus < 2 or remainders != list(range(modulus)):
        raise UsageError(
            f"fold remainders {remainders} with modulus {modulus}: each of 0..{modulus - 1} must "
            "be given exactly once, so that every event has exactly one file"
        )
    items = [
        _read(Path(f.onnx), Path(f.sidecar) if f.sidecar is not None else None, f.remainder)
        for f in sorted(folds, key=lambda f: f.remainder)
    ]
    name, card_path = _location(options.get("name"), options.get("card_path"), items[0].graph.path)
    for item in items:
        _dynamic_batch(item, card_path, dynamic_batch)
    located = options | {"name": name, "card_path": card_path}
    document = _assemble(items, modulus=modulus, **located)
    _write_pending(items)
    return document


# -- lwtnn ----------------------------------------------------------------------------------------
def lwtnn_normalisation(network: LwtnnNetwork) -> Normalisation:
    """lwtnn's x' = (x + offset) * scale per variable, as the card writes it."""
    variables = network.inputs[0].variables
    return Normalisation(
        [v.name for v in variables],
        [
            {"formula": "(x + offset) * scale", "offset": v.offset, "scale": v.scale}
            for v in variables
        ],
        f"lwtnn file {network.path.name}",
        ("offset", "scale"),
    )


def _check_sidecar(network: LwtnnNetwork, norm: Normalisation, sidecar: Path) -> None:
    """A side-car given with an lwtnn file must list its variables and preprocess alike."""
    published = read_sidecar(sidecar)
    check_names(network, published.names, f"side-car {sidecar}")
    lines = [
        f"  {name}: side-car {published.published(i)} (x' = {step['formula']}), lwtnn file "
        f"{norm.published(i)} (x' = (x + offset) * scale)"
        for i, (name, step, own) in enumerate(
            zip(norm.names, published.preprocessing, norm.preprocessing, strict=True)
        )
        if not same_transformation(step, own)
    ]
    if lines:
        raise SidecarMismatchError(
            f"{published.origin} and {norm.origin} preprocess {len(lines)} variable(s) "
            "differently:\n" + "\n".join(lines) + "\nFind out which one the network was "
            "trained with; import with that one alone (the lwtnn file alone: no --sidecar)."
        )


def _lwtnn_labels(network: LwtnnNetwork) -> list[str] | None:
    """The lwtnn output labels as card labels, or None (the defaults) if they cannot be."""
    labels = []
    for label in (label for out in network.outputs for label in out.labels):
        safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", label)
        labels.append(safe if re.match(r"[A-Za-z_]", safe) else f"_{safe}")
    return labels if len(set(labels)) == len(labels) else None


def import_lwtnn(
    lwtnn_path: str | Path,
    sidecar: str | Path | None = None,
    *,
    names: Sequence[str] | str | Path | None = None,
    onnx_path: str | Path | None = None,
    **options: Unpack[CardOptions],
) -> dict[str, Any]:
    """A validated card document for an lwtnn network, converted to ONNX by recast-nn.

    The ONNX file (see :func:`recast.preserve.lwtnn.lwtnn_to_onnx`) is written at
    ``onnx_path`` (default: :func:`converted_onnx_path`, beside the card) only once the card
    is complete: a refused import writes nothing. The features are named from the lwtnn
    variables (guessed from their names as for any import), their preprocessing is lwtnn's
    ``(x + offset) * scale``, the output labels are lwtnn's, and the provenance records the
    lwtnn file, its sha256 and the conversion.

    ``names`` (a list, or a file: a card or card template, a side-car or a JSON array) and
    ``sidecar`` are checked against the lwtnn variables: names that differ are refused at
    the first differing index; a side-car must also preprocess alike. Other options as for
    :func:`import_network`.
    """
    lwtnn_path = Path(lwtnn_path)
    network = read_lwtnn(lwtnn_path)
    if len(network.inputs) != 1:
        raise ImportFormatError(
            f"{lwtnn_path}: the network has {len(network.inputs)} input nodes "
            f"{[i.name for i in network.inputs]}; the importer reads one flat [batch, features] "
            "node: convert it with recast.preserve.lwtnn.lwtnn_to_onnx and write the card by hand"
        )
    name, card_path = _location(options.get("name"), options.get("card_path"), lwtnn_path)
    target = (
        Path(onnx_path) if onnx_path is not None else converted_onnx_path(lwtnn_path, card_path)
    )
    names_file = Path(names) if isinstance(names, str | Path) else None
    check_output(target, inputs=[lwtnn_path, sidecar, names_file], field="the converted ONNX file")
    norm = lwtnn_normalisation(network)
    if isinstance(names, str | Path):
        check_names(network, expected_names(names), str(names))
    elif names is not None:
        check_names(network, list(names), "the names given")
    made = (
        f"converted to ONNX ({target.name}) by recast-nn {__version__} from the lwtnn "
        f"{network.form} file {lwtnn_path.name}, sha256 {network.sha256}"
    )
    if sidecar is not None:
        _check_sidecar(network, norm, Path(sidecar))
        made += f"; side-car {Path(sidecar).name} checked against it"
    model = lwtnn_to_onnx(network)
    item = _Imported(
        _graph(target, model, model.SerializeToString()),
        norm,
        False,
        Path(sidecar) if sidecar is not None else None,
        made_from=[made],
        published=lwtnn_path,
    )
    labels = options.get("output_labels") or _lwtnn_labels(network)
    located = options | {"name": name, "card_path": card_path, "output_labels": labels}
    document = _assemble([item], modulus=None, **located)
    _write_pending([item])
    return document


def write_imported_card(document: Mapping[str, Any], card_path: str | Path) -> NetworkCard:
    """Validate, check the ONNX digests from where the card goes, and write it atomically."""
    card = NetworkCard(document, Path(card_path))
    card.verify_digests()  # before writing: a refused card leaves nothing behind
    card.save(card_path)
    log.info("wrote %s", card_path)
    return card


__all__ = [
    "ANGLE_RANGES",
    "FORMS",
    "FoldFile",
    "Normalisation",
    "check_agreement",
    "converted_onnx_path",
    "dynamic_batch_path",
    "import_folds",
    "import_lwtnn",
    "import_network",
    "is_lwtnn",
    "lwtnn_normalisation",
    "read_metadata",
    "read_sidecar",
    "write_imported_card",
]
