"""Run a preserved network on whole chunks through onnxruntime, outputs as labelled columns."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np
import onnxruntime as ort

from ..errors import CardError, MissingCollectionError
from .builder import BuiltInputs, InputBuilder
from .card import ModelFile, NetworkCard

log = logging.getLogger(__name__)


def make_session(source: str | bytes, threads: int = 1) -> ort.InferenceSession:
    """A CPU onnxruntime session; one thread by default, parallelism comes from workers."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    label = "the in-memory ONNX model" if isinstance(source, bytes) else source
    try:
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises untyped errors for unreadable graphs
        raise CardError(
            f"{label}: onnxruntime {ort.__version__} cannot load this network: {exc}"
        ) from None


class NetworkSession:
    """A card's network ready to evaluate chunks of events.

    >>> net = NetworkSession(NetworkCard.load("card.json"))          # doctest: +SKIP
    >>> scores = net.evaluate(events, parameters=net.card.parameter_points)  # doctest: +SKIP
    >>> scores[0].Gtt                                                  # doctest: +SKIP
    """

    def __init__(self, card: NetworkCard, threads: int = 1, verify: bool = True) -> None:
        self.card = card
        if verify:
            card.verify_digests()
        self.builder = InputBuilder(card)
        self.files = card.model_files()
        self.sessions = [make_session(str(f.path), threads) for f in self.files]
        for model, session in zip(self.files, self.sessions, strict=True):
            self._check_node_names(model, session)

    def _check_node_names(self, model: ModelFile, session: ort.InferenceSession) -> None:
        graph_inputs = {i.name for i in session.get_inputs()}
        graph_outputs = {o.name for o in session.get_outputs()}
        for kind, nodes, present in (
            ("input", self.card.inputs, graph_inputs),
            ("output", self.card.outputs, graph_outputs),
        ):
            for node in nodes:
                name = model.node_name(node["name"])
                if name not in present:
                    raise CardError(
                        f"{self.card.source}: {kind} node {name!r} is not in {model.path.name}, "
                        f"whose {kind}s are {sorted(present)}; fix the card's node name "
                        f"(or files[{model.index}].node_names)"
                    )

    # -- low level: prepared arrays in, arrays out -----------------------------------------
    def run(self, feeds: Mapping[str, np.ndarray], model: int = 0) -> dict[str, np.ndarray]:
        """Run file ``model`` on feeds keyed by the card's node names; outputs keyed likewise."""
        file, session = self.files[model], self.sessions[model]
        renamed = {file.node_name(k): v for k, v in feeds.items()}
        names = [file.node_name(n["name"]) for n in self.card.outputs]
        values = session.run(names, renamed)
        return {n["name"]: v for n, v in zip(self.card.outputs, values, strict=True)}

    # -- high level: events in, labelled scores out ----------------------------------------
    def evaluate(
        self,
        events: ak.Array,
        parameters: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
    ) -> ak.Array | list[ak.Array]:
        """Scores for a chunk, one field per output label.

        With a sequence of parameter points, the kinematic inputs are built once and the
        network runs once per file over all points stacked; a list (one per point) is returned.
        Per-object networks return jagged arrays (one score per object of each event).
        """
        built = self.builder.build(events)
        points: list[Mapping[str, float] | None]
        single = parameters is None or isinstance(parameters, Mapping)
        points = [parameters] if single else list(parameters)  # type: ignore[list-item]
        if not points:
            return []
        feeds = [built.at(p) for p in points]
        stacked = {
            k: np.concatenate([f[k] for f in feeds]) if len(feeds) > 1 else feeds[0][k]
            for k in feeds[0]
        }
        outputs = self._run_folds(events, built, stacked, len(points))
        results = [
            self._label(outputs, k * built.rows, (k + 1) * built.rows, events)
            for k in range(len(points))
        ]
        return results[0] if single else results

    def _fold_of_rows(self, events: ak.Array, rows: int) -> np.ndarray | None:
        folds = [f.applies_to for f in self.files]
        if len(self.files) == 1:
            return None
        if "event_number" not in ak.fields(events):
            raise MissingCollectionError(
                self.card.source, "field (to choose a fold)", "event_number", ak.fields(events)
            )
        numbers = np.asarray(events["event_number"], dtype=np.int64)
        if self.card.evaluate_per != "event":
            counts = np.asarray(ak.num(events[self.card.evaluate_per], axis=1))
            numbers = np.repeat(numbers, counts)
        modulus = folds[0]["modulus"]  # the card check guarantees one modulus for all
        which = np.empty(rows, dtype=np.int64)
        remainder = np.mod(numbers, modulus)
        for i, fold in enumerate(folds):
            which[remainder == fold["remainder"]] = i
        return which

    def _run_folds(
        self, events: ak.Array, built: BuiltInputs, feeds: dict[str, np.ndarray], n_points: int
    ) -> dict[str, np.ndarray]:
        which = self._fold_of_rows(events, built.rows)
        if which is None:
            return self.run(feeds, 0)
        which = np.tile(which, n_points)
        merged: dict[str, np.ndarray] = {}
        for i in range(len(self.files)):
            selected = np.flatnonzero(which == i)
            if not len(selected):
                continue
            part = self.run({k: v[selected] for k, v in feeds.items()}, i)
            for name, value in part.items():
                if name not in merged:
                    merged[name] = np.empty((len(which), *value.shape[1:]), dtype=value.dtype)
                merged[name][selected] = value
        if not merged:  # an empty chunk
            merged = self.run({k: v[:0] for k, v in feeds.items()}, 0)
        return merged

    def _label(
        self, outputs: dict[str, np.ndarray], start: int, stop: int, events: ak.Array
    ) -> ak.Array:
        columns: dict[str, Any] = {}
        for node in self.card.outputs:
            value = outputs[node["name"]][start:stop]
            for column in node["columns"]:
                data = value[:, column["index"]] if value.ndim > 1 else value
                columns[column["label"]] = data
        record = ak.zip(columns) if columns else ak.Array([{}] * (stop - start))
        if self.card.evaluate_per != "event":
            counts = ak.num(events[self.card.evaluate_per], axis=1)
            record = ak.unflatten(record, counts)
        return record
