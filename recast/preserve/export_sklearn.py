"""The scikit-learn side of :func:`recast.preserve.export.export_sklearn`: which estimators
are refused, the card's output node, the conversion and the graph's single output.

(The export itself, which checks the template, computes the references and writes the files as
every exporter does, is in :mod:`recast.preserve.export`, which imports this module.)

Everything skl2onnx converts is exported: linear models, SVMs, nearest neighbours, naive Bayes,
trees and their ensembles (random forests, extra trees, AdaBoost, gradient boosting and
histogram gradient boosting), multi-layer perceptrons and pipelines of them; XGBoost and
LightGBM through their scikit-learn API (``XGBClassifier``, ``LGBMRegressor``, ...) with the
converters of onnxmltools (the optional extra ``trees``).

What the card's single output node holds:

- a classifier with ``predict_proba``: node ``probabilities``, one column per class in the
  order of ``classes_`` (a binary classifier has two columns), activation ``probability``;
- a classifier without it (``LinearSVC``, ``RidgeClassifier``, ``SVC()`` without
  ``probability=True``): node ``scores``, ``decision_function`` as scikit-learn gives it (one
  column per class; a binary classifier's single column favours ``classes_[1]``), ``linear``;
- a regressor: node ``prediction``, one column per target, ``linear``.

A template may leave the output node out, or give it without ``columns``: the columns are then
labelled from ``classes_`` (see :func:`class_labels`). A template that labels them must give as
many columns as the model has. The references are computed by the original estimator, and the
export refuses to finish unless onnxruntime reproduces them.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import CardError, MissingDependencyError, UnconvertibleModelError
from .session import make_session, run_rows

log = logging.getLogger(__name__)

#: an output label as the card schema allows it
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_NOT_IN_IDENTIFIER = re.compile(r"[^A-Za-z0-9_.\-]")
#: the top-level packages whose scikit-learn-API estimators need onnxmltools' converters
_BOOSTERS = ("xgboost", "lightgbm")
_FIX = (
    "Export a model skl2onnx converts (https://onnx.ai/sklearn-onnx/supported.html lists "
    "them), register a converter for it with skl2onnx.update_registered_converter, or export "
    "the network to ONNX yourself and card it with `recast card export TEMPLATE --model "
    "FILE.onnx`"
)


def _optional(module: str, package: str, purpose: str) -> Any:
    """Import a package of the optional extra ``trees``, or say exactly what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package, "trees", purpose) from None


@dataclass(frozen=True)
class _Output:
    """What the exported output node holds."""

    method: str  #: the estimator's method the references come from
    node: str  #: the node's default name
    activation: str  #: the columns' default activation
    labels: list[str]  #: the columns' default labels
    what: str  #: the columns, in words, for messages


def class_labels(classes: Sequence[Any]) -> list[str]:
    """Column labels for ``classes_``: the class value itself when it is a name the card
    allows (``signal``, ``ttbar``), else ``class_<value>`` (``class_0``, ``class_-1``,
    ``class_0.5``), characters a label cannot hold replaced by ``_``."""
    labels = []
    for value in classes:
        text = str(value.item() if isinstance(value, np.generic) else value)
        if not _IDENTIFIER.match(text):
            text = "class_" + _NOT_IN_IDENTIFIER.sub("_", text)
        labels.append(text)
    return labels


def fill_outputs(
    estimator: Any, template: Mapping[str, Any], inputs: list[dict[str, Any]], label: str
) -> tuple[dict[str, Any], str]:
    """The template with its output node filled in from the model (or its columns checked
    against the model's), and the estimator's method the references come from.

    ``inputs`` are the template's input nodes, completed and checked against the schema;
    ``label`` names the export in messages.
    """
    n_features = _input_width(estimator, inputs, label)
    output = _output_kind(estimator, n_features, label)
    return _with_outputs(template, output, type(estimator).__name__, label), output.method


def convert(
    estimator: Any,
    method: str,
    input_name: str,
    output_name: str,
    x: np.ndarray,
    opset: int,
    label: str,
) -> tuple[bytes, np.ndarray, dict[str, str]]:
    """The ONNX graph of ``estimator`` (one input, one output, named as the card names them),
    the original's ``method`` on the reference rows ``x``, and who computed them."""
    fitted = getattr(estimator, "n_features_in_", None)
    n_features = int(x.shape[-1] if fitted is None else fitted)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise CardError(
            f"export of {label}: reference_inputs[{input_name!r}] has shape {list(x.shape)}; "
            f"{type(estimator).__name__} takes rows of {n_features} features"
        )
    converted = _convert(estimator, input_name, n_features, opset, label)
    expected = _call(estimator, method, x)
    model = _single_output(label, converted, output_name, expected, input_name, x)
    return model.SerializeToString(), expected, _computed_by(estimator)


def _refuse(label: str, estimator: Any, reason: str, fix: str) -> UnconvertibleModelError:
    return UnconvertibleModelError(
        f"export of {label}: {type(estimator).__name__} cannot be exported: {reason}. {fix}"
    )


def refuse_unusable(estimator: Any, label: str) -> None:
    """Refuse (:class:`~recast.errors.UnconvertibleModelError`) what is not a fitted
    scikit-learn classifier or regressor."""
    from sklearn.base import BaseEstimator, is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(estimator, BaseEstimator):
        raise _refuse(
            label,
            estimator,
            "it is not a scikit-learn estimator (a subclass of sklearn.base.BaseEstimator)",
            "Export a torch module with export_torch, or an ONNX file with export_onnx_file",
        )
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise _refuse(
            label, estimator, "it is not fitted", "Call fit(X, y) before exporting it"
        ) from None
    if not (is_classifier(estimator) or is_regressor(estimator)):
        raise _refuse(
            label,
            estimator,
            "it is neither a classifier nor a regressor (scikit-learn's estimator type)",
            "Export the classifier or regressor whose output the analysis selects on; a "
            "transformer goes first in a Pipeline ending with it",
        )


def _input_width(estimator: Any, nodes: list[dict[str, Any]], label: str) -> int:
    """The number of features the estimator was fitted on, checked against the template."""
    if len(nodes) != 1 or nodes[0]["layout"] != "flat" or nodes[0]["dtype"] != "float32":
        raise CardError(
            f"export of {label}: scikit-learn models take one flat float32 input node; the "
            f"template has {[(n['name'], n['layout'], n['dtype']) for n in nodes]}. Describe "
            "one node with layout 'flat' (dtype float32, the default)"
        )
    declared = len(nodes[0]["features"])
    fitted = getattr(estimator, "n_features_in_", None)
    if fitted is not None and int(fitted) != declared:
        raise CardError(
            f"export of {label}: {type(estimator).__name__} was fitted on {fitted} features but "
            f"the template's input {nodes[0]['name']!r} describes {declared}; describe the "
            "features the model was trained on, in the order of its columns"
        )
    return declared


def placeholder_outputs(template: Mapping[str, Any]) -> Mapping[str, Any]:
    """The template with one placeholder column where its output node has none, so that
    the schema can check the inputs before the model says how many columns there are."""
    if not isinstance(template, Mapping):
        return template  # refused by checked_template, with what it is
    outputs = template.get("outputs")
    if outputs is None or outputs == []:
        return {**template, "outputs": [{"name": "placeholder", "columns": [_column(0, "x")]}]}
    if (
        isinstance(outputs, list)
        and len(outputs) == 1
        and isinstance(outputs[0], Mapping)
        and "columns" not in outputs[0]
    ):
        return {**template, "outputs": [{**outputs[0], "columns": [_column(0, "x")]}]}
    return template


def _column(index: int, label: str, activation: str | None = None) -> dict[str, Any]:
    column: dict[str, Any] = {"index": index, "label": label}
    if activation:
        column["activation"] = activation
    return column


def _output_kind(estimator: Any, n_features: int, label: str) -> _Output:
    """What the exported node holds, and its columns' default labels."""
    from sklearn.base import is_classifier

    probe = np.zeros((1, n_features), dtype=np.float32)
    if is_classifier(estimator):
        classes = getattr(estimator, "classes_", None)
        # a multi-output classifier has a list of classes_ per output
        if not isinstance(classes, np.ndarray) or classes.ndim != 1:
            raise _refuse(
                label,
                estimator,
                "it is a multi-output classifier (no single list of classes_)",
                "Export one classifier per output",
            )
        labels = class_labels(list(classes))
        if hasattr(estimator, "predict_proba"):
            what = f"one probability column per class in classes_ {_plain(classes)}"
            return _Output("predict_proba", "probabilities", "probability", labels, what)
        if hasattr(estimator, "decision_function"):
            width = _probe_width(estimator, "decision_function", probe, label)
            if width == 1 and len(labels) == 2:  # scikit-learn's binary decision function
                labels = labels[1:]
                what = (
                    f"one decision-function column (positive favours class {_plain(classes)[1]!r})"
                )
            else:
                what = f"one decision-function column per class in classes_ {_plain(classes)}"
            return _Output("decision_function", "scores", "linear", labels, what)
        raise _refuse(
            label,
            estimator,
            "it gives neither class probabilities (predict_proba) nor scores "
            "(decision_function), only labels",
            "Export a classifier that gives probabilities (e.g. VotingClassifier with "
            "voting='soft', or the classifier wrapped in CalibratedClassifierCV)",
        )
    width = _probe_width(estimator, "predict", probe, label)
    labels = ["prediction"] if width == 1 else [f"prediction_{k}" for k in range(width)]
    return _Output("predict", "prediction", "linear", labels, f"one column per target ({width})")


def _probe_width(estimator: Any, method: str, probe: np.ndarray, label: str) -> int:
    try:
        values = _call(estimator, method, probe)
    except Exception as exc:  # whatever the estimator raises on one row of zeros
        raise _refuse(
            label, estimator, f"{method} fails on a row of zeros: {exc}", "Check the estimator"
        ) from None
    return int(values.shape[1])


def _plain(classes: Any) -> list[Any]:
    """``classes_`` as Python values, for messages (``[0, 1]``, not ``[np.int64(0), ...]``)."""
    return [c.item() if isinstance(c, np.generic) else c for c in classes]


def _call(estimator: Any, method: str, x: np.ndarray) -> np.ndarray:
    """``estimator.method(x)`` as float64 rows; scikit-learn's warnings (feature names) are
    about how the export calls it, not the user's data: they go to the debug log."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = getattr(estimator, method)(x)
    for warning in caught:
        log.debug("%s.%s: %s", type(estimator).__name__, method, warning.message)
    return np.asarray(values, dtype=np.float64).reshape(len(x), -1)


def _with_outputs(
    template: Mapping[str, Any], output: _Output, name: str, label: str
) -> dict[str, Any]:
    """The template with its output node filled in (or its columns checked against the
    model's)."""
    filled = copy.deepcopy(dict(template))
    outputs = filled.get("outputs")
    if outputs is None or outputs == []:
        outputs = filled["outputs"] = [{"name": output.node}]
    if not isinstance(outputs, list) or len(outputs) != 1 or not isinstance(outputs[0], dict):
        raise CardError(
            f"export of {label}: a scikit-learn model has one output node; the template's "
            f"'outputs' must be a list of one node (or be left out to get {output.node!r})"
        )
    node = outputs[0]
    columns = node.get("columns")
    if columns is None and len(set(output.labels)) != len(output.labels):
        raise CardError(
            f"export of {label}: {output.what} of {name} would be labelled {output.labels}, "
            "some twice; label the columns in the template's output node"
        )
    if columns is None:
        node["columns"] = [
            _column(k, text, output.activation) for k, text in enumerate(output.labels)
        ]
    elif isinstance(columns, list) and len(columns) != len(output.labels):
        declared = [c.get("label") for c in columns if isinstance(c, Mapping)]
        binary = "; a binary classifier's probabilities are two columns" * (
            output.method == "predict_proba"
        )
        raise CardError(
            f"export of {label}: {name} gives {len(output.labels)} column(s), {output.what}, "
            f"but the template's output {node.get('name')!r} declares {len(columns)} "
            f"({declared}){binary}. Declare {len(output.labels)} columns in that order, or "
            f"leave 'columns' out to have them labelled {output.labels}"
        )
    if "shape" in node and node["shape"] != [None, len(output.labels)]:
        raise CardError(
            f"export of {label}: the template's output {node.get('name')!r} has shape "
            f"{node['shape']} but {name} gives [null, {len(output.labels)}]; leave 'shape' out"
        )
    return filled


def _estimators_in(estimator: Any) -> Iterator[Any]:
    """The estimator and those inside it (pipeline steps, ensemble members), depth first."""
    stack, seen = [estimator], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if type(current).__module__.split(".")[0] in _BOOSTERS:
            continue  # their parameters are numbers, and get_params may warn
        try:
            params = current.get_params(deep=False)
        except Exception:  # not an estimator, or one whose get_params fails: nothing inside
            continue
        for value in params.values():
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                if isinstance(item, tuple) and len(item) >= 2:  # (name, estimator) steps
                    item = item[1]
                if hasattr(item, "fit"):
                    stack.append(item)


def _register_boosters(estimator: Any) -> list[str]:
    """Register onnxmltools' converters for the XGBoost and LightGBM estimators inside
    ``estimator`` with skl2onnx; the packages found."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    found = sorted({type(e).__module__.split(".")[0] for e in _estimators_in(estimator)})
    found = [f for f in found if f in _BOOSTERS]
    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for package in found:
        _optional("onnxmltools", "onnxmltools", f"Exporting a {package} model")
        if package == "xgboost":
            from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
            from xgboost import XGBClassifier, XGBRegressor

            pairs = [(XGBClassifier, "XGBoostXGBClassifier"), (XGBRegressor, "XGBoostXGBRegressor")]
            convert: Any = convert_xgboost
        else:
            from lightgbm import LGBMClassifier, LGBMRegressor
            from onnxmltools.convert.lightgbm.operator_converters.LightGbm import (
                convert_lightgbm,
            )

            pairs = [
                (LGBMClassifier, "LightGbmLGBMClassifier"),
                (LGBMRegressor, "LightGbmLGBMRegressor"),
            ]
            convert = convert_lightgbm
        for cls, alias in pairs:
            classifier = "Classifier" in alias
            update_registered_converter(
                cls,
                alias,
                calculate_linear_classifier_output_shapes
                if classifier
                else calculate_linear_regressor_output_shapes,
                convert,
                options=classifier_options if classifier else None,
            )
    return found


def _zipmap_options(estimator: Any) -> dict[int, dict[str, Any]] | None:
    """Ask for a probability tensor instead of ZipMap's list of dicts, from the converters
    that make a ZipMap (those of LinearSVC and regressors refuse the option)."""
    final = estimator
    while hasattr(final, "steps"):  # a pipeline's output is its last step's
        final = final.steps[-1][1]
    try:
        from skl2onnx import get_model_alias
        from skl2onnx.common._registration import get_converter

        allowed = get_converter(get_model_alias(type(final))).get_allowed_options() or {}
    except Exception:  # no converter (to_onnx says so, with the class), or another skl2onnx
        return None
    return {id(final): {"zipmap": False}} if "zipmap" in allowed else None


def _convert(
    estimator: Any, input_name: str, n_features: int, opset: int, label: str
) -> onnx.ModelProto:
    """skl2onnx's graph of ``estimator``; every failure refused with the class and the fix."""
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator

    boosters = _register_boosters(estimator)
    try:
        with warnings.catch_warnings(record=True) as caught, _leaf_flags_as_ints():
            warnings.simplefilter("always")
            model = skl2onnx.to_onnx(
                estimator,
                initial_types=[(input_name, FloatTensorType([None, n_features]))],
                target_opset={"": opset, "ai.onnx.ml": 3},
                options=_zipmap_options(estimator),
            )
    except (MissingShapeCalculator, MissingConverter) as exc:
        found = re.search(r"<class '([^']+)'>", str(exc))
        missing = found.group(1).rsplit(".", 1)[-1] if found else type(estimator).__name__
        inside = "" if missing == type(estimator).__name__ else " (a step or member of it)"
        reason = f"skl2onnx has no converter for {missing}{inside}"
        raise _refuse(label, estimator, reason, _FIX) from None
    except Exception as exc:  # converters raise anything, from NameError to AttributeError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        extra = f" (through onnxmltools, for {', '.join(boosters)})" if boosters else ""
        raise _refuse(label, estimator, f"skl2onnx{extra} failed: {reason}", _FIX) from None
    for warning in caught:
        log.debug("skl2onnx.to_onnx: %s", warning.message)
    return model


@contextlib.contextmanager
def _leaf_flags_as_ints() -> Iterator[None]:
    """skl2onnx 1.20 gives the leaves of a HistGradientBoosting tree the missing-value flag
    ``False``, a bool, in a list of ints; protobuf 7 refuses it ("Expected an int, got a
    boolean") and every HistGradientBoosting model fails to convert. During the conversion,
    its tree helper's flags are made ints (the values are the same)."""
    try:
        from skl2onnx.operator_converters import random_forest
    except ImportError:  # another layout: nothing to mend
        yield
        return
    name = "add_tree_to_attribute_pairs_hist_gradient_boosting"
    original = getattr(random_forest, name, None)
    if original is None:
        yield
        return

    def mended(attr_pairs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        result = original(attr_pairs, *args, **kwargs)
        flags = attr_pairs.get("nodes_missing_value_tracks_true")
        if flags:
            flags[:] = [int(flag) for flag in flags]
        return result

    setattr(random_forest, name, mended)
    try:
        yield
    finally:
        setattr(random_forest, name, original)


def _single_output(
    label: str,
    model: onnx.ModelProto,
    card_output: str,
    expected: np.ndarray,
    input_name: str,
    x: np.ndarray,
) -> onnx.ModelProto:
    """The graph with one output, ``card_output``, giving ``expected``'s columns.

    skl2onnx's classifiers output labels and probabilities (or scores); the scores of a binary
    classifier may be one column or two ([-d, d] or [d, -d], by converter): the column that
    reproduces scikit-learn's is picked. The graph's own tensors are left as they are (another
    node may read them: renaming one where it is made but not where it is read broke the
    graph); a new node makes the card's output.
    """
    graph = model.graph
    source = next((o for o in graph.output if o.name in ("probabilities", "variable")), None)
    source = source or graph.output[len(graph.output) - 1]
    try:
        session = make_session(model.SerializeToString(), label=f"skl2onnx's graph of {label}")
        (actual,) = run_rows(session, [source.name], {input_name: x})
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise UnconvertibleModelError(
            f"export of {label}: onnxruntime cannot run the graph skl2onnx made: {exc}. {_FIX}"
        ) from None
    actual = np.asarray(actual, dtype=np.float64)
    width = expected.shape[1]
    taken = set(_names(graph))
    if card_output in taken and card_output != source.name:
        _rename(graph, card_output, _fresh(f"{card_output}_sklearn", taken))
    if actual.ndim == 2 and actual.shape[1] == width:
        if card_output != source.name:
            graph.node.append(helper.make_node("Identity", [source.name], [card_output]))
    elif actual.size == expected.size:
        # one value per row as a vector, or skl2onnx's MLPRegressor with several targets
        # ([rows * targets, 1], row after row): the same values in the wrong shape
        shape = _fresh("recast_shape", taken)
        graph.initializer.append(numpy_helper.from_array(np.array([-1, width], np.int64), shape))
        graph.node.append(helper.make_node("Reshape", [source.name, shape], [card_output]))
    elif actual.ndim == 2 and width == 1:
        # the converter's column that is scikit-learn's (the others are its negative)
        k = int(np.argmin(np.abs(actual - expected).max(axis=0)))
        index = _fresh("recast_column", taken)
        graph.initializer.append(numpy_helper.from_array(np.array([k], np.int64), index))
        graph.node.append(helper.make_node("Gather", [source.name, index], [card_output], axis=1))
    else:
        raise CardError(
            f"export of {label}: the converted graph's output {source.name!r} has shape "
            f"{list(actual.shape)} on {len(x)} rows, the model's {list(expected.shape)}; it "
            f"cannot be exported as it is. {_FIX}"
        )
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info(card_output, TensorProto.FLOAT, [None, width])
    )
    return model


def _names(graph: onnx.GraphProto) -> Iterator[str]:
    """Every tensor name of the graph and its subgraphs (ONNX names are unique across them)."""
    for value in [*graph.input, *graph.output, *graph.value_info]:
        yield value.name
    for initializer in graph.initializer:
        yield initializer.name
    for node in graph.node:
        yield from node.input
        yield from node.output
        for attribute in node.attribute:
            for sub in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                yield from _names(sub)


def _rename(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Rename a tensor everywhere it is made or read, subgraphs included."""
    for value in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
        for attribute in node.attribute:
            for sub in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                _rename(sub, old, new)


def _fresh(stem: str, taken: set[str]) -> str:
    name, k = stem, 0
    while name in taken:
        k += 1
        name = f"{stem}_{k}"
    taken.add(name)
    return name


def _computed_by(estimator: Any) -> dict[str, str]:
    """The package whose estimator computed the references (scikit-learn for a pipeline of
    scikit-learn steps around an XGBoost or LightGBM model too: it calls them)."""
    package = type(estimator).__module__.split(".")[0]
    if package in _BOOSTERS:
        module = _optional(package, package, f"Exporting a {package} model")
        return {"name": package, "version": str(module.__version__)}
    import sklearn

    return {"name": "scikit-learn", "version": str(sklearn.__version__)}


__all__ = ["class_labels", "convert", "fill_outputs", "placeholder_outputs", "refuse_unusable"]
