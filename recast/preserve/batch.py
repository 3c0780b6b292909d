"""Networks published with a fixed batch axis, and their re-export with a dynamic one.

Some published ONNX files fix the batch axis of their input to 1 (a PyTorch export without
``dynamic_axes``: ATLAS-SUSY-2019-04's ``input.1`` is ``[1, 65]``). onnxruntime then runs one
event per call, which recast-nn does (see :func:`recast.preserve.session.run_rows`) but
slowly. :func:`reexport_dynamic_batch` writes a copy that takes any number of rows:

1. the first axis of every graph input and output fixed to the batch becomes the symbolic
   ``batch``; value_info entries whose first axis is the batch are dropped (onnxruntime
   infers them again, where a stale ``1`` could contradict the new shapes);
2. a ``Reshape`` whose constant shape starts with the batch gets its own copy of the shape
   starting with -1 (or 0, "keep the input's first axis", when another entry already is -1);
3. the copy is **verified**: fed :data:`VERIFY_ROWS` seeded random rows at once, it must give
   what the original gives fed the same rows one batch at a time, to :data:`VERIFY_TOLERANCE`
   (absolute and relative). Anything else that bakes the batch size into the graph (an
   ``Expand``, a ``Tile``, a shape computed from constants) fails this check, and the
   re-export is refused: export the network again from its source.

>>> result = reexport_dynamic_batch("net_fixed.onnx", "net.dynamic-batch.onnx")  # doctest: +SKIP
>>> result.note()                                                              # doctest: +SKIP
're-exported with a dynamic batch from net_fixed.onnx, sha256 ...'
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import ArtefactNotFoundError, ImportFormatError
from ..io import check_output, write_bytes
from ..version import __version__
from .session import make_session

log = logging.getLogger(__name__)

#: The symbolic name given to the batch axis.
BATCH = "batch"
#: Rows fed to the re-exported graph at once (and to the original one batch at a time).
VERIFY_ROWS = 64
#: Largest |difference| allowed, absolute and relative: float32 rounding of a whole-batch
#: matrix product against row-by-row ones is ~1e-7.
VERIFY_TOLERANCE = 1e-6
VERIFY_SEED = 0

_FIX = (
    "export the network again from its source with a dynamic batch axis (e.g. "
    "torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}}))"
)


def _graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initialisers = {i.name for i in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initialisers]


def _first_dim(value: onnx.ValueInfoProto) -> onnx.TensorShapeProto.Dimension | None:
    if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
        return None
    dims = value.type.tensor_type.shape.dim
    return dims[0] if len(dims) else None


def fixed_batch(model: onnx.ModelProto) -> dict[str, int]:
    """The graph inputs (initialisers aside) whose first axis is a fixed number, with it."""
    fixed = {}
    for value in _graph_inputs(model):
        dim = _first_dim(value)
        if dim is not None and dim.HasField("dim_value") and dim.dim_value > 0:
            fixed[value.name] = int(dim.dim_value)
    return fixed


def _constant_shapes(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Tensors that are constants (initialisers, Constant nodes' values), by name."""
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    constants[node.output[0]] = numpy_helper.to_array(attribute.t)
    return constants


def dynamic_batch_model(model: onnx.ModelProto, source: str) -> tuple[onnx.ModelProto, list[str]]:
    """A copy of ``model`` with a symbolic batch axis (steps 1 and 2 of the module's doc),
    unverified, and the names of the Reshape nodes whose shape was rewritten."""
    fixed = fixed_batch(model)
    if not fixed:
        raise ImportFormatError(
            f"{source}: no input fixes its batch axis (the first axis of "
            f"{[v.name for v in _graph_inputs(model)]} is already dynamic); nothing to re-export"
        )
    if len(set(fixed.values())) > 1:
        raise ImportFormatError(f"{source}: the inputs fix different batch sizes {fixed}; {_FIX}")
    batch = next(iter(fixed.values()))
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    graph = copy.graph
    for value in [*_graph_inputs(copy), *graph.output]:
        dim = _first_dim(value)
        if dim is not None and dim.HasField("dim_value") and dim.dim_value == batch:
            dim.Clear()
            dim.dim_param = BATCH
    kept = [v for v in graph.value_info if not _batch_sized(v, batch)]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    constants = _constant_shapes(copy)
    rewritten = []
    for k, node in enumerate(graph.node):
        if node.op_type != "Reshape" or len(node.input) < 2 or node.input[1] not in constants:
            continue
        shape = np.asarray(constants[node.input[1]]).astype(np.int64).reshape(-1)
        if not shape.size or shape[0] != batch or batch == -1:
            continue
        allowzero = any(a.name == "allowzero" and a.i for a in node.attribute)
        new = shape.copy()
        if -1 not in shape[1:]:
            new[0] = -1
        elif not allowzero:
            new[0] = 0  # keep the input's first axis: the batch, if the graph is per row
        else:
            continue  # cannot say "the batch" here; the verification decides
        name = f"{node.input[1]}__dynamic_batch_{k}"
        graph.initializer.append(numpy_helper.from_array(new, name))
        node.input[1] = name
        rewritten.append(node.name or f"Reshape #{k}")
    return copy, rewritten


def _batch_sized(value: onnx.ValueInfoProto, batch: int) -> bool:
    dim = _first_dim(value)
    return dim is not None and dim.HasField("dim_value") and dim.dim_value == batch


@dataclass(frozen=True)
class Reexport:
    """What :func:`reexport_dynamic_batch` did."""

    original: Path
    original_sha256: str
    path: Path
    batch: int
    reshapes: list[str]
    rows_checked: int
    max_difference: float

    def note(self) -> str:
        """The provenance line of a card using the re-exported file."""
        return (
            f"re-exported with a dynamic batch from {self.original.name}, sha256 "
            f"{self.original_sha256} (by recast-nn {__version__}; {self.rows_checked} random "
            f"rows fed at once give what the original gives fed {self.batch} at a time: "
            f"largest difference {self.max_difference:.2g}, allowed {VERIFY_TOLERANCE:g})"
        )


#: onnxruntime's type names -> numpy dtypes of the random rows
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def _random_feeds(
    session_inputs: list[Any], rows: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Seeded rows for every input: standard normal floats, integers 0-9, booleans."""
    feeds = {}
    for node in session_inputs:
        dims = [d if isinstance(d, int) and d > 0 else 1 for d in node.shape[1:]]
        dtype = np.dtype(_ORT_DTYPES.get(node.type, np.float32))
        values: np.ndarray
        if dtype.kind == "f":
            values = rng.standard_normal((rows, *dims))
        else:
            values = rng.integers(0, 2 if dtype.kind == "b" else 10, (rows, *dims))
        feeds[node.name] = values.astype(dtype)
    return feeds


def verify_dynamic_batch(
    original: bytes, reexported: bytes, source: str, batch: int, rows: int = VERIFY_ROWS
) -> float:
    """Feed ``rows`` seeded random rows to the re-exported graph at once and to the original
    ``batch`` rows at a time; the largest difference, or ImportFormatError beyond tolerance."""
    old = make_session(original, label=source)
    new = make_session(reexported, label=f"{source} (re-exported with a dynamic batch)")
    rows = batch * max(1, -(-rows // batch))
    feeds = _random_feeds(list(old.get_inputs()), rows, np.random.default_rng(VERIFY_SEED))
    names = [o.name for o in old.get_outputs()]
    try:
        whole = new.run(names, feeds)
    except Exception as exc:  # onnxruntime's own untyped errors
        reason = str(exc).rstrip(".")
        raise ImportFormatError(
            f"{source}: re-exported with a dynamic batch, the graph cannot run {rows} rows at "
            f"once ({reason}): some operation bakes the batch size {batch} into the graph; "
            f"{_FIX}"
        ) from None
    parts = [
        old.run(names, {k: v[i : i + batch] for k, v in feeds.items()})
        for i in range(0, rows, batch)
    ]
    worst = 0.0
    for k, name in enumerate(names):
        expected = np.concatenate([np.asarray(p[k]) for p in parts])
        got = np.asarray(whole[k])
        if got.shape != expected.shape:
            raise ImportFormatError(
                f"{source}: re-exported with a dynamic batch, output {name!r} has shape "
                f"{list(got.shape)} for {rows} rows where the original gives "
                f"{list(expected.shape)}; {_FIX}"
            )
        if expected.dtype.kind not in "fc":
            if not np.array_equal(got, expected):
                raise ImportFormatError(
                    f"{source}: re-exported with a dynamic batch, output {name!r} differs from "
                    f"the original's fed {batch} row(s) at a time; {_FIX}"
                )
            continue
        difference = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        allowed = VERIFY_TOLERANCE * (1.0 + np.abs(expected.astype(np.float64)))
        if not np.all(difference <= allowed):  # NaN differences fail too
            row = int(
                np.unravel_index(
                    np.argmax(np.nan_to_num(difference, nan=np.inf)), difference.shape
                )[0]
            )
            raise ImportFormatError(
                f"{source}: re-exported with a dynamic batch, output {name!r} differs from the "
                f"original's fed {batch} row(s) at a time by up to {np.nanmax(difference):.3g} "
                f"(row {row}; allowed {VERIFY_TOLERANCE:g}, absolute and relative): some "
                f"operation mixes rows or bakes the batch size {batch} into the graph; {_FIX}"
            )
        worst = max(worst, float(difference.max()) if difference.size else 0.0)
    return worst


def reexport_dynamic_batch(
    onnx_path: str | Path,
    out_path: str | Path,
    *,
    rows: int = VERIFY_ROWS,
    metadata: Mapping[str, str] | None = None,
) -> Reexport:
    """Write ``onnx_path`` again at ``out_path`` with a dynamic batch axis, verified.

    ``out_path`` must not be ``onnx_path`` (an input is never replaced); it is written
    atomically and only after the verification passed. The copy's metadata_props record the
    original's name and sha256 (plus ``metadata``).
    """
    onnx_path, out_path = Path(onnx_path), Path(out_path)
    if not onnx_path.is_file():
        raise ArtefactNotFoundError(f"{onnx_path}: no such ONNX file")
    check_output(out_path, inputs=[onnx_path], field="the re-exported ONNX file")
    data = onnx_path.read_bytes()
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf's own decode errors
        raise ImportFormatError(f"{onnx_path}: not a readable ONNX model ({exc})") from None
    result, reexported = reexport_bytes(model, data, onnx_path, rows=rows, metadata=metadata)
    write_bytes(out_path, reexported)
    log.info("wrote %s: %s", out_path, result.note())
    return Reexport(**{**result.__dict__, "path": out_path})


def reexport_bytes(
    model: onnx.ModelProto,
    data: bytes,
    source: Path,
    *,
    rows: int = VERIFY_ROWS,
    metadata: Mapping[str, str] | None = None,
) -> tuple[Reexport, bytes]:
    """:func:`reexport_dynamic_batch` in memory: the record (``path`` is ``source``'s
    ``.dynamic-batch.onnx`` sibling, where nothing is written) and the verified bytes."""
    digest = hashlib.sha256(data).hexdigest()
    dynamic, reshapes = dynamic_batch_model(model, str(source))
    batch = next(iter(fixed_batch(model).values()))
    props = {p.key: p.value for p in dynamic.metadata_props}
    props |= {
        "recast.reexported_from": source.name,
        "recast.original_sha256": digest,
        "recast.reexported_by": f"recast-nn {__version__}",
    } | dict(metadata or {})
    onnx.helper.set_model_props(dynamic, props)
    reexported = dynamic.SerializeToString()
    difference = verify_dynamic_batch(data, reexported, str(source), batch, rows)
    record = Reexport(
        original=source,
        original_sha256=digest,
        path=source.with_name(f"{source.stem}.dynamic-batch.onnx"),
        batch=batch,
        reshapes=reshapes,
        rows_checked=batch * max(1, -(-rows // batch)),
        max_difference=difference,
    )
    return record, reexported


__all__ = [
    "BATCH",
    "VERIFY_ROWS",
    "VERIFY_TOLERANCE",
    "Reexport",
    "dynamic_batch_model",
    "fixed_batch",
    "reexport_bytes",
    "reexport_dynamic_batch",
    "verify_dynamic_batch",
]
