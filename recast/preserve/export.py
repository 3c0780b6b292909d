"""Export a trained network to ONNX with its card (the experimentalist's side).

The caller describes the inputs and outputs in a *card template*: a card without the parts the
export fills in (``files`` with digest, opset and producer; reference vectors; tested runtimes;
node shapes). Reference outputs are computed by the source framework (torch or scikit-learn),
and the export refuses to finish unless onnxruntime reproduces them within the tolerance.
"""

from __future__ import annotations

import copy
import importlib
import io
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
import onnx
import onnxruntime as ort

from ..errors import (
    ArtefactNotFoundError,
    CardError,
    ImportFormatError,
    MissingDependencyError,
    UsageError,
)
from ..io import sha256_file, write_bytes
from ..schema import current_version
from . import activations
from . import export_sklearn as _sklearn
from .card import NUMPY_DTYPES, NetworkCard
from .session import make_session, run_rows

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = {"absolute": 1e-5, "relative": 1e-4}


def _optional(module: str, package: str, extra: str, purpose: str) -> Any:
    """Import an optional dependency, or say exactly what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package, extra, purpose) from None


def complete_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """Fill node shapes and dtypes that follow from the features (batch axis dynamic)."""
    card = copy.deepcopy(dict(template))
    card.setdefault("schema_version", current_version("network-card"))
    card.setdefault("evaluate_per", "event")
    card.setdefault("description", "")
    card.setdefault("provenance", {})
    for node in card.get("inputs", []):
        node.setdefault("dtype", "float32")
        node.setdefault("layout", "flat")
        n_features = len(node.get("features", []))
        if "shape" not in node:
            if node["layout"] == "flat":
                node["shape"] = [None, n_features]
            elif node["layout"] == "sequence":
                node["shape"] = [None, node.get("max_count"), n_features]
            else:
                node["shape"] = [None, node.get("max_count")]
        node.setdefault("dynamic_axes", {"0": "batch"})
    for node in card.get("outputs", []):
        node.setdefault("dtype", "float32")
        if "shape" not in node:
            node["shape"] = [None, len(node.get("columns", [])) or 1]
    return card


def template_card(
    template: Mapping[str, Any], source: str | Path = "template.card.json"
) -> NetworkCard:
    """A card for a template before any ONNX file exists: enough to build inputs with.

    Experiments need the inputs before training (e.g. to derive the normalisation); the
    placeholder file entry is never opened.
    """
    card = complete_template(template)
    card["files"] = [
        {
            "path": "not-yet-exported.onnx",
            "sha256": "0" * 64,
            "opset": 1,
            "producer": {"name": "recast-nn", "version": "template"},
        }
    ]
    card["runtimes_tested"] = []
    return NetworkCard(card, Path(source))


def checked_template(template: Any, source: str | Path = "template") -> dict[str, Any]:
    """The completed template, refused (every problem listed) before any work when it is not
    a card without files: schema, meaning checks and sizes, as for a card."""
    if not isinstance(template, Mapping):
        raise CardError(
            f"{source}: a card template is a JSON object, not {type(template).__name__}"
        )
    template_card(template, Path(source))
    return complete_template(template)


def _activation_problems(card: Mapping[str, Any], model: onnx.ModelProto, outputs: Any) -> None:
    """Refuse an export whose declared output activations the network contradicts."""
    problems = list(activations.operation_problems(card["outputs"], model.graph, {}))
    values = {k: np.asarray(v) for k, v in outputs.items()}
    problems += activations.value_problems(card["outputs"], values, "the reference inputs")
    if problems:
        raise CardError(f"export of {card['name']}: " + "; ".join(problems))


def _shape_problems(
    card: Mapping[str, Any],
    model: onnx.ModelProto,
    stem: str,
    outputs: Mapping[str, np.ndarray],
) -> None:
    """Refuse an export whose card `recast card check` would refuse for its output shapes:
    the template's columns against what the model gives and against what the graph declares.

    (Without this a two-column classifier exported with a one-column template wrote a card
    whose references had two columns and whose node had one: it failed its own check.)
    """
    graph = {o.name: o.type.tensor_type.shape for o in model.graph.output}
    problems = []
    for node in card["outputs"]:
        declared = node["shape"]
        labels = [c["label"] for c in node.get("columns", [])]
        if node["name"] in outputs:
            actual = list(np.shape(outputs[node["name"]]))
            fits = len(actual) == len(declared) and all(
                d is None or d == a for d, a in zip(declared, actual, strict=True)
            )
            if not fits:
                problems.append(
                    f"output {node['name']!r} is {actual[1:]} per row but the template "
                    f"declares {declared[1:]} ({len(labels)} column(s): {labels}); declare one "
                    "column per value the model gives"
                )
                continue
        if node["name"] in graph:
            dims = [
                d.dim_value if d.HasField("dim_value") else None for d in graph[node["name"]].dim
            ]
            if len(dims) == len(declared) and any(
                d is not None and g is not None and d != g
                for d, g in zip(declared, dims, strict=True)
            ):
                problems.append(
                    f"output {node['name']!r} has shape {dims} in the graph but the template "
                    f"declares {declared}"
                )
    if problems:
        raise CardError(f"export of {stem}: " + "; ".join(problems))


def random_reference_inputs(
    card: Mapping[str, Any], rows: int = 4, seed: int = 0
) -> dict[str, np.ndarray]:
    """Seeded standard-normal rows in the network's own (preprocessed) input space."""
    rng = np.random.default_rng(seed)
    inputs: dict[str, np.ndarray] = {}
    for node in card["inputs"]:
        shape = [rows, *[d if d is not None else 1 for d in node["shape"][1:]]]
        array: np.ndarray
        if node["layout"] == "mask":
            array = (rng.random(shape) < 0.7).astype(NUMPY_DTYPES[node["dtype"]])
        else:
            array = rng.standard_normal(shape).astype(NUMPY_DTYPES[node["dtype"]])
        inputs[node["name"]] = array
    return inputs


def _references(
    inputs: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    computed_by: Mapping[str, str],
    tolerance: Mapping[str, float],
) -> dict[str, Any]:
    return {
        "computed_by": dict(computed_by),
        "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()},
        "outputs": {k: np.asarray(v).tolist() for k, v in outputs.items()},
        "tolerance": dict(tolerance),
    }


def reproduce_references(
    session: ort.InferenceSession,
    reference: Mapping[str, Any],
    node_names: Mapping[str, str] | None = None,
) -> list[str]:
    """Run ``reference['inputs']`` through ``session``; the problems found (empty if none)."""
    node_names = node_names or {}
    dtypes = {i.name: i.type for i in session.get_inputs()}
    feeds = {}
    for name, values in reference["inputs"].items():
        graph_name = node_names.get(name, name)
        dtype = np.float32 if dtypes.get(graph_name) == "tensor(float)" else None
        array = _rectangular(values, dtype)
        if array is None:
            return [f"inputs.{name} is not a rectangular array of numbers (rows of equal length)"]
        feeds[graph_name] = array
    wanted = list(reference["outputs"])
    try:
        got = run_rows(session, [node_names.get(n, n) for n in wanted], feeds)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        return [f"onnxruntime could not run the reference inputs: {exc}"]
    tolerance = reference["tolerance"]
    problems = []
    for name, actual in zip(wanted, got, strict=True):
        expected = _rectangular(reference["outputs"][name], np.float64)
        if expected is None:
            problems.append(f"outputs.{name} is not a rectangular array of numbers")
            continue
        actual = np.asarray(actual, dtype=np.float64)
        if expected.shape != actual.shape:
            problems.append(f"output {name!r}: shape {actual.shape}, reference {expected.shape}")
            continue
        allowed = tolerance["absolute"] + tolerance.get("relative", 0.0) * np.abs(expected)
        worst = np.abs(actual - expected) - allowed
        if (worst > 0).any() or np.isnan(actual).any():
            k = int(np.nanargmax(worst)) if not np.isnan(worst).all() else 0
            problems.append(
                f"output {name!r} not reproduced: |difference| up to "
                f"{float(np.nanmax(np.abs(actual - expected))):.3g} at flat index {k}, "
                f"tolerance {tolerance}"
            )
    return problems


def _rectangular(values: Any, dtype: Any) -> np.ndarray | None:
    """``values`` as an array, or None when they are ragged or not numbers."""
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        return None
    return array if array.dtype.kind in "fiub" else None


def _finish(
    onnx_bytes: bytes,
    template: Mapping[str, Any],
    out_dir: str | Path,
    stem: str,
    reference_inputs: Mapping[str, np.ndarray],
    reference_outputs: Mapping[str, np.ndarray],
    computed_by: Mapping[str, str],
    tolerance: Mapping[str, float],
) -> NetworkCard:
    """Write ONNX + card atomically after checking onnxruntime reproduces the source framework."""
    out_dir = Path(out_dir)
    try:
        model = onnx.load_from_string(onnx_bytes)
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises several untyped errors for broken graphs
        raise ImportFormatError(f"export of {stem}: not a valid ONNX model: {exc}") from None
    card = complete_template(template)
    _shape_problems(card, model, stem, reference_outputs)
    _activation_problems(card, model, reference_outputs)
    reference = _references(reference_inputs, reference_outputs, computed_by, tolerance)
    session = make_session(onnx_bytes)
    problems = reproduce_references(session, reference)
    if problems:
        raise CardError(
            f"export of {stem}: onnxruntime does not reproduce {computed_by['name']}: "
            + "; ".join(problems)
        )
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    onnx_path = out_dir / f"{stem}.onnx"
    card_path = out_dir / f"{stem}.card.json"
    card["files"] = [
        {
            "path": onnx_path.name,
            "sha256": "0" * 64,  # replaced below, once the file is written
            "opset": int(opset),
            "producer": {
                "name": model.producer_name or computed_by["name"],
                "version": model.producer_version or computed_by["version"],
            },
            "references": [reference],
        }
    ]
    card["runtimes_tested"] = [{"name": "onnxruntime", "version": ort.__version__}]
    NetworkCard(card, card_path)  # validate before anything is written
    write_bytes(onnx_path, onnx_bytes)
    card["files"][0]["sha256"] = sha256_file(onnx_path)
    checked = NetworkCard(card, card_path)
    checked.save(card_path)
    log.info("wrote %s and %s", onnx_path, card_path)
    return NetworkCard.load(card_path)


class ExportOptions(TypedDict, total=False):
    """The keywords every exporter takes: ``stem`` (file name stem; default the card's name),
    ``reference_inputs`` by input node (default: random inputs the card allows), the ONNX
    ``opset`` (17) and the reference ``tolerance`` (:data:`DEFAULT_TOLERANCE`)."""

    stem: str | None
    reference_inputs: Mapping[str, np.ndarray] | None
    opset: int
    tolerance: Mapping[str, float]


def _export_setup(
    template: Mapping[str, Any], options: ExportOptions
) -> tuple[dict[str, Any], str, dict[str, np.ndarray], int, Mapping[str, float]]:
    """The checked card template, the stem, the reference inputs, the opset, the tolerance."""
    card = checked_template(template)
    given = options.get("reference_inputs")
    inputs = dict(given) if given is not None else random_reference_inputs(card)
    return (
        card,
        options.get("stem") or card["name"],
        inputs,
        options.get("opset", 17),
        options.get("tolerance", DEFAULT_TOLERANCE),
    )


def export_torch(
    model: Any, template: Mapping[str, Any], out_dir: str | Path, **options: Unpack[ExportOptions]
) -> NetworkCard:
    """Export a torch module whose ``forward`` takes the card's input nodes in order.

    >>> card = export_torch(net, template, "out/")     # doctest: +SKIP
    >>> card.model_files()[0].path                      # doctest: +SKIP
    PosixPath('out/my_net.onnx')
    """
    torch = _optional("torch", "torch", "train", "Exporting a torch network")
    card, stem, inputs, opset, tolerance = _export_setup(template, options)
    names = [n["name"] for n in card["inputs"]]
    outputs = [n["name"] for n in card["outputs"]]
    tensors = tuple(torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in names)
    model.eval()
    try:
        with torch.no_grad():
            result = model(*tensors)
    except (RuntimeError, TypeError, ValueError) as exc:
        shapes = {n: list(inputs[n].shape) for n in names}
        raise CardError(
            f"export of {stem}: the model does not accept the inputs the template describes "
            f"({shapes}): {exc}. Make the template's features match the model's input width."
        ) from None
    result = result if isinstance(result, tuple | list) else (result,)
    reference_outputs = {n: r.detach().cpu().numpy() for n, r in zip(outputs, result, strict=True)}
    dynamic = {
        n["name"]: {int(k): v for k, v in n.get("dynamic_axes", {}).items()}
        for n in card["inputs"] + card["outputs"]
    }
    buffer = io.BytesIO()
    # The TorchScript exporter: deterministic, exports TorchScript files too, and needs no
    # onnxscript. torch 2.13 warns that it is deprecated (and about TorchScript signatures);
    # those warnings are torch's, not the user's: they go to the debug log.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(
            model,
            tensors,
            buffer,
            input_names=names,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    for warning in caught:
        log.debug("torch.onnx.export: %s", warning.message)
    computed_by = {"name": "torch", "version": torch.__version__}
    return _finish(
        buffer.getvalue(), card, out_dir, stem, inputs, reference_outputs, computed_by, tolerance
    )


def export_sklearn(
    estimator: Any,
    template: Mapping[str, Any],
    out_dir: str | Path,
    **options: Unpack[ExportOptions],
) -> NetworkCard:
    """Export a fitted scikit-learn classifier or regressor, or a Pipeline ending with one
    (XGBoost and LightGBM through their scikit-learn API too), with one flat float32 input.

    A classifier exports its class probabilities (node ``probabilities``, one column per
    class in the order of ``classes_``: two for a binary classifier), or its decision function
    when it has no ``predict_proba`` (node ``scores``); a regressor one column per target (node
    ``prediction``). Columns the template leaves out are labelled from ``classes_`` (see
    :mod:`recast.preserve.export_sklearn`). Refused with
    :class:`~recast.errors.UnconvertibleModelError` (nothing written) when the estimator is not
    fitted, not a classifier or regressor, or has no ONNX converter; with
    :class:`~recast.errors.CardError` when the template does not fit the model.

    >>> card = export_sklearn(classifier, template, "published/")   # doctest: +SKIP
    >>> [c["label"] for c in card.outputs[0]["columns"]]           # doctest: +SKIP
    ['background', 'signal']
    """
    _optional("skl2onnx", "skl2onnx", "train", "Exporting a scikit-learn model")
    named = template.get("name") if isinstance(template, Mapping) else None
    label = str(options.get("stem") or named or "model")
    _sklearn.refuse_unusable(estimator, label)
    nodes = checked_template(_sklearn.placeholder_outputs(template), label)["inputs"]
    filled, method = _sklearn.fill_outputs(estimator, template, nodes, label)
    card, stem, inputs, opset, tolerance = _export_setup(filled, options)
    node, output = card["inputs"][0]["name"], card["outputs"][0]["name"]
    x = np.asarray(inputs[node], dtype=np.float32)
    onnx_bytes, expected, computed_by = _sklearn.convert(
        estimator, method, node, output, x, opset, stem
    )
    return _finish(
        onnx_bytes, card, out_dir, stem, {node: x}, {output: expected}, computed_by, tolerance
    )


def export_onnx_file(
    onnx_path: str | Path,
    template: Mapping[str, Any],
    out_dir: str | Path,
    *,
    stem: str | None = None,
    reference_inputs: Mapping[str, np.ndarray] | None = None,
    tolerance: Mapping[str, float] = DEFAULT_TOLERANCE,
) -> NetworkCard:
    """Card an ONNX file exported elsewhere; references computed by onnxruntime itself."""
    card = checked_template(template)
    data = Path(onnx_path).read_bytes()
    session = make_session(data, label=str(onnx_path))
    _same_nodes(card, session, onnx_path)
    inputs = (
        dict(reference_inputs) if reference_inputs is not None else random_reference_inputs(card)
    )
    names = [n["name"] for n in card["outputs"]]
    try:
        outputs = dict(zip(names, run_rows(session, names, inputs), strict=True))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        shapes = {k: list(np.shape(v)) for k, v in inputs.items()}
        raise CardError(
            f"{onnx_path}: onnxruntime cannot run the inputs the template describes ({shapes}): "
            f"{str(exc).rstrip('.')}. Make the template's inputs match the network's"
        ) from None
    computed_by = {"name": "onnxruntime", "version": ort.__version__}
    return _finish(
        data, card, out_dir, stem or card["name"], inputs, outputs, computed_by, tolerance
    )


def _same_nodes(card: Mapping[str, Any], session: ort.InferenceSession, path: str | Path) -> None:
    """The template names the graph's input and output nodes, no more and no fewer."""
    for kind, graph in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
        declared = sorted(n["name"] for n in card[kind])
        actual = sorted(n.name for n in graph)
        if (kind == "inputs" and declared != actual) or not set(declared) <= set(actual):
            raise CardError(
                f"{path}: the template's {kind} are {declared} but the graph's are {actual}; "
                f"name the template's {kind} as the graph does"
            )


def check_stem(stem: str | None) -> None:
    """Refuse a ``stem`` that is not a plain file name: ``../x`` or ``a/b`` would write
    outside the chosen folder (and could replace files there); a leading dot hides the files."""
    if stem is None:
        return
    if (
        not stem
        or stem != stem.strip()
        or any(c in stem for c in ("/", "\\", "\0"))
        or stem.startswith(".")
    ):
        raise UsageError(
            f"--stem {stem!r}: not a plain file name; give a name without '/', '\\' or a "
            "leading dot (the files are written as STEM.onnx and STEM.card.json inside -o)"
        )


def export_model_file(
    model_path: str | Path,
    template: Mapping[str, Any],
    out_dir: str | Path,
    *,
    stem: str | None = None,
    source: str | Path = "template",
) -> NetworkCard:
    """Export from a file: ONNX as it is, or TorchScript (``.pt``/``.ts``) through torch.

    TorchScript is read with ``torch.jit.load``, which runs no pickled Python code.
    ``source`` names the template in messages (its file).
    """
    check_stem(stem)
    model_path = Path(model_path)
    template = checked_template(template, source)  # refused before the model is even read
    if not model_path.is_file():
        raise ArtefactNotFoundError(f"{model_path}: no such model file")
    if model_path.suffix == ".onnx":
        return export_onnx_file(model_path, template, out_dir, stem=stem)
    if model_path.suffix in (".pt", ".ts", ".torchscript"):
        torch = _optional("torch", "torch", "train", "Exporting a TorchScript network")
        try:
            module = torch.jit.load(str(model_path), map_location="cpu")
        except RuntimeError as exc:
            raise ImportFormatError(
                f"{model_path}: not a TorchScript file ({exc}); save it with "
                "torch.jit.script(model).save(path), or export to ONNX first"
            ) from None
        return export_torch(module, template, out_dir, stem=stem)
    raise ImportFormatError(
        f"{model_path}: unknown model format {model_path.suffix!r}; give an .onnx file or a "
        "TorchScript file (.pt, .ts)"
    )


__all__ = [
    "complete_template",
    "export_model_file",
    "export_onnx_file",
    "export_sklearn",
    "export_torch",
    "random_reference_inputs",
    "reproduce_references",
    "template_card",
]
