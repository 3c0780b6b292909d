"""Run a preserved network on whole chunks through onnxruntime, outputs as labelled columns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
import onnxruntime as ort

from ..errors import CardError, MissingCollectionError
from .builder import BuiltInputs, InputBuilder
from .card import NUMPY_DTYPES, ModelFile, NetworkCard

log = logging.getLogger(__name__)


def make_session(
    source: str | bytes, threads: int = 1, label: str | None = None
) -> ort.InferenceSession:
    """A CPU onnxruntime session; one thread by default, parallelism comes from workers.

    ``label`` names in-memory bytes in messages (e.g. the file they were read from).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if label is None:
        label = "the in-memory ONNX model" if isinstance(source, bytes) else source
    try:
        return ort.InferenceSession(
            source, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises untyped errors for unreadable graphs
        reason = str(exc).rstrip(".")
        raise CardError(
            f"{label}: onnxruntime {ort.__version__} cannot load this network: {reason}. "
            "Is it a complete ONNX file? Fetch or export it again"
        ) from None


def _rows(feeds: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(feeds.values()))) if feeds else 0


def _fixed_batch(session: ort.InferenceSession) -> int | None:
    """The batch size an onnxruntime session's inputs fix, or None when it is dynamic."""
    fixed = {i.shape[0] for i in session.get_inputs() if i.shape and isinstance(i.shape[0], int)}
    return min(fixed) if fixed else None


def run_rows(
    session: ort.InferenceSession, names: list[str], feeds: Mapping[str, np.ndarray]
) -> list[np.ndarray]:
    """``session.run``, row by row when the graph fixes its batch axis to 1 (a published
    form) and several rows are fed; onnxruntime's own errors are left to the caller."""
    fixed = any(i.shape and i.shape[0] == 1 for i in session.get_inputs())
    rows = _rows(feeds)
    if not fixed or rows <= 1:
        return list(session.run(names, dict(feeds)))
    parts = [session.run(names, {k: v[i : i + 1] for k, v in feeds.items()}) for i in range(rows)]
    return [np.concatenate([part[k] for part in parts]) for k in range(len(names))]


@dataclass(frozen=True)
class Evaluation:
    """What a network received and gave in one :meth:`NetworkSession.evaluate` call, for an
    observer (e.g. histograms of its inputs and outputs for ``recast validate``)."""

    card: NetworkCard
    #: card input node name → the built array of every row, as fed (parameter columns aside:
    #: they are set per point)
    inputs: Mapping[str, np.ndarray]
    #: card output node name → the outputs of every row at every point, points stacked
    #: (rows of point k at ``k * rows`` to ``(k + 1) * rows``)
    outputs: Mapping[str, np.ndarray]
    #: the parameter points, in order (``[None]`` for a network without parameters)
    points: Sequence[Mapping[str, float] | None]
    #: each row's event weight (1 where the events carry none)
    weights: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.weights)


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
        # folds with their own normalisation need their own builders
        self.per_file_builders = any("preprocessing" in f.entry for f in self.files)
        self.builders = [InputBuilder(card, i) for i in range(len(self.files))]
        self._built: BuiltInputs | None = None
        self.sessions = [make_session(str(f.path), threads) for f in self.files]
        #: the card fixes the batch axis to 1 (the graph cannot run zero rows)
        self._batch_of_one = any(node["shape"][0] == 1 for node in card.inputs)
        for model, session in zip(self.files, self.sessions, strict=True):
            self._check_node_names(model, session)
            self._check_batch(model, session)
        #: per file: its graph takes one row per call, so chunks run row by row (said once)
        self._row_by_row = [_fixed_batch(s) == 1 for s in self.sessions]
        self._said_row_by_row = False
        #: called with an :class:`Evaluation` after every :meth:`evaluate` of at least one
        #: row; None (the default) records nothing and costs nothing
        self.observer: Callable[[Evaluation], None] | None = None

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

    def _check_batch(self, model: ModelFile, session: ort.InferenceSession) -> None:
        """A card may not promise a dynamic batch axis that the graph fixes: chunks of any
        number of rows are what it promises to every reader of the card."""
        shapes = {i.name: i.shape for i in session.get_inputs()}
        for i, node in enumerate(self.card.inputs):
            name = model.node_name(node["name"])
            graph = shapes.get(name) or [None]
            if node["shape"][0] is None and isinstance(graph[0], int) and graph[0] > 0:
                raise CardError(
                    f"{self.card.source}: input node {name!r} has a dynamic batch axis in the "
                    f"card (inputs[{i}].shape[0] null) but {model.path.name} fixes it to "
                    f"{graph[0]}, so the network cannot take a chunk of events at once. "
                    "Re-export the network with a dynamic batch (`recast card import "
                    "--dynamic-batch`, or recast.preserve.batch.reexport_dynamic_batch) and "
                    f"name the copy in the card, or set inputs[{i}].shape[0] to {graph[0]} "
                    "(recast then evaluates one row at a time, slowly)"
                )

    # -- low level: prepared arrays in, arrays out -----------------------------------------
    def run(self, feeds: Mapping[str, np.ndarray], model: int = 0) -> dict[str, np.ndarray]:
        """Run file ``model`` on feeds keyed by the card's node names; outputs keyed likewise."""
        file, session = self.files[model], self.sessions[model]
        renamed = {file.node_name(k): v for k, v in feeds.items()}
        names = [file.node_name(n["name"]) for n in self.card.outputs]
        if self._row_by_row[model] and _rows(renamed) > 1 and not self._said_row_by_row:
            self._said_row_by_row = True
            log.info(
                "%s: %s takes one row per call (its batch axis is fixed to 1): evaluating "
                "chunks one row at a time; re-export it with a dynamic batch (recast card "
                "import --dynamic-batch) to run whole chunks at once",
                self.card.source,
                file.path.name,
            )
        try:
            if self._batch_of_one and not _rows(renamed):
                values = [_no_rows(node) for node in self.card.outputs]
            else:
                values = run_rows(session, names, renamed)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            reason = str(exc).rstrip(".")
            raise CardError(
                f"{self.card.source}: onnxruntime cannot run {file.path.name} on the inputs "
                f"built from the card: {reason}. Run `recast card check` on the card"
            ) from None
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
        points: list[Mapping[str, float] | None]
        if parameters is None or isinstance(parameters, Mapping):
            single, points = True, [parameters]
        else:
            single, points = False, list(parameters)
        if not points:
            return []
        n_rows = len(self.builder.rows(events))
        which = self._file_of_rows(events, n_rows)
        merged: dict[str, np.ndarray] = {}
        fed: dict[str, np.ndarray] | None = None if self.observer is None else {}
        for i in range(len(self.files)):
            selected = np.arange(n_rows) if which is None else np.flatnonzero(which == i)
            if which is not None and not len(selected) and i > 0:
                continue
            outputs = self._run_file(events, i, selected, which, points, fed)
            for name, value in outputs.items():
                if which is None:
                    merged[name] = value
                    continue
                if name not in merged:
                    merged[name] = np.empty((len(points) * n_rows, *value.shape[1:]), value.dtype)
                for k in range(len(points)):
                    part = value[k * len(selected) : (k + 1) * len(selected)]
                    merged[name][k * n_rows + selected] = part
        if self.observer is not None and fed is not None and n_rows:
            self.observer(Evaluation(self.card, fed, merged, points, self._weights(events)))
        results = [
            self._label(merged, k * n_rows, (k + 1) * n_rows, events) for k in range(len(points))
        ]
        return results[0] if single else results

    def _weights(self, events: ak.Array) -> np.ndarray:
        """Each row's event weight (per object: its event's), for an observer."""
        if "weight" in ak.fields(events):
            weights = np.asarray(ak.to_numpy(events["weight"]), dtype=np.float64)
        else:
            weights = np.ones(len(events))
        if self.card.evaluate_per != "event":
            weights = np.repeat(weights, np.asarray(ak.num(events[self.card.evaluate_per], axis=1)))
        return weights

    def _run_file(
        self,
        events: ak.Array,
        index: int,
        selected: np.ndarray,
        which: np.ndarray | None,
        points: list[Mapping[str, float] | None],
        fed: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Build (once per chunk, or per fold when its preprocessing differs) and run file
        ``index`` on the rows ``selected``, all points stacked in one call. ``fed`` (for an
        observer) receives the built inputs of every row."""
        if self.per_file_builders and which is not None:
            built = self.builders[index].build(events[self._event_mask(events, index)])
            if fed is not None:  # this fold's rows, as its own preprocessing built them
                for name, array in built.arrays.items():
                    if name not in fed:
                        fed[name] = np.zeros((len(which), *array.shape[1:]), array.dtype)
                    fed[name][selected] = array
        else:
            if self._built is None:
                self._built = self.builder.build(events)
            built = self._built
            if fed is not None:
                fed.update(built.arrays)  # every row, built once
            if which is not None:
                built = built.take(selected)
        feeds = [built.at(p) for p in points]
        stacked = {
            k: np.concatenate([f[k] for f in feeds]) if len(feeds) > 1 else feeds[0][k]
            for k in feeds[0]
        }
        return self.run(stacked, index)

    def _event_numbers(self, events: ak.Array) -> np.ndarray:
        if "event_number" not in ak.fields(events):
            raise MissingCollectionError(
                self.card.source, "field (to choose a fold)", "event_number", ak.fields(events)
            )
        return np.asarray(events["event_number"], dtype=np.int64)

    def _event_mask(self, events: ak.Array, index: int) -> np.ndarray:
        fold = self.files[index].applies_to
        if fold is None:  # a single file applies to every event
            return np.ones(len(events), dtype=bool)
        return np.mod(self._event_numbers(events), fold["modulus"]) == fold["remainder"]

    def _file_of_rows(self, events: ak.Array, n_rows: int) -> np.ndarray | None:
        """Index of the file applying to each row, or None with a single file."""
        self._built = None
        if len(self.files) == 1:
            return None
        which = np.empty(len(events), dtype=np.int64)
        for i in range(len(self.files)):
            which[self._event_mask(events, i)] = i
        if self.card.evaluate_per != "event":
            which = np.repeat(which, np.asarray(ak.num(events[self.card.evaluate_per], axis=1)))
        assert len(which) == n_rows
        return which

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


def _no_rows(node: Mapping[str, Any]) -> np.ndarray:
    """An output node's value for no rows, as the graph would give it with a dynamic batch."""
    shape = [0, *(d if d is not None else 1 for d in node["shape"][1:])]
    return np.zeros(shape, dtype=NUMPY_DTYPES[node["dtype"]])
