"""Train a surrogate tagger: the distribution of a detector-level score from truth inputs.

A network given an object's truth-level inputs (pT, |η|, ΔR to the nearest jet, flavour, and
the other jets of the event as a set) outputs a softmax over the bins of ``score_edges``;
trained with cross-entropy on (inputs, observed score bin) pairs it converges to the score's
conditional distribution, detector randomness included (arXiv:2402.15558). K members, each on
a bootstrap resample of the training events from its own seed, are exported as one network
(:class:`.surrogate_network.ScoreEnsemble`): their mixture is the distribution, and two more
columns, ``score_spread`` and ``disagreement``, say how far the members part. Together with
the map's ``validity`` (the training range of every own feature), they flag inputs outside
the training support (see :func:`.surrogate_check.surrogate_uncertainty`).

>>> trainer = SurrogateTrainer(n_models=5, seed=1).fit(events, "dl1r")        # doctest: +SKIP
>>> path = trainer.export("maps/", name="dl1r_surrogate", threshold=0.665)     # doctest: +SKIP
>>> load_map(path).sample_scores(events, seed=3)                                # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import awkward as ak
import numpy as np

from ..detector.learned import SurrogateTagger
from ..detector.maps import load_map
from ..errors import UsageError
from ..io import sha256_file, write_json
from ..preserve.export import export_torch
from ..schema import CURRENT_VERSION
from ._torch import select_device, threads, torch
from .fitting import FitHistory, build_member
from .inputs import (
    MASK,
    NEIGHBOURS,
    OWN,
    ObjectRows,
    bootstrap_events,
    check_features,
    check_log_features,
    event_weights,
    network_inputs,
    network_scaling,
    split_by_event,
    with_name,
)
from .parameters import Parameters
from .surrogate_fit import NEGATIVE, fit_density
from .surrogate_inputs import (
    DEFAULT_EDGES,
    DISAGREEMENT,
    OUTPUT,
    SPREAD,
    score_bins,
    surrogate_template,
)
from .surrogate_network import Categories, ScoreDensity, ScoreEnsemble

log = logging.getLogger(__name__)

NODES = [OWN, NEIGHBOURS, MASK]


class SurrogateTrainer(Parameters):
    """A score distribution per object with event context, learned from scored objects.

    scikit-learn conventions: the constructor only stores its keyword arguments, :meth:`fit`
    returns the trainer, learned attributes end in ``_``. Everything is seeded by ``seed``;
    training runs on ``device`` (None: CUDA when torch sees one, else the CPU) with
    ``threads`` torch threads (None: torch's default).

    ``log_features`` names own features (positive, e.g. ``pt``) the network takes the
    logarithm of, as the first step of the exported graph; the card still passes them raw.
    """

    def __init__(
        self,
        *,
        collection: str = "jets",
        own_features: Sequence[str] = ("pt", "abs_eta", "dr_nearest", "flavour"),
        neighbour_features: Sequence[str] = ("dr",),
        log_features: Sequence[str] = (),
        max_neighbours: int = 3,
        score_edges: Sequence[float] = DEFAULT_EDGES,
        hidden: int = 32,
        depth: int = 2,
        edge_messages: bool = False,
        neighbour_reach: float | None = 2.0,
        n_models: int = 5,
        bootstrap: bool = True,
        validation_fraction: float = 0.2,
        max_epochs: int = 20,
        patience: int = 5,
        batch_size: int = 512,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        negative_weights: str = "signed",
        seed: int = 0,
        threads: int | None = 1,
        device: str | None = None,
    ) -> None:
        self._store(locals())

    @property
    def edges(self) -> np.ndarray:
        return np.asarray(self.score_edges, dtype=np.float64)

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        events: ak.Array,
        score: ak.Array | np.ndarray | str,
        sample_weight: np.ndarray | str | None = None,
    ) -> SurrogateTrainer:
        """Train on the objects of ``events[collection]``; ``score`` is one detector-level
        score per object (jagged like the collection, flat, or the name of a field of the
        objects); ``sample_weight`` one weight per event (an array, a field name, or None)."""
        self.check_parameters()
        own, neighbour = list(self.own_features), list(self.neighbour_features)
        edges = self.edges
        raw = surrogate_template(self.collection, own, neighbour, self.max_neighbours, edges)
        raw_rows = self._rows(events, raw, score, sample_weight)
        if raw_rows.n_events < 2 or len(raw_rows) == 0:
            raise UsageError(
                f"training needs at least two events with {self.collection}; got "
                f"{raw_rows.n_events} event(s) with {len(raw_rows)} object(s)"
            )
        self.validity_ = _validity(raw_rows, own)
        logarithm = list(self.log_features)
        scaling, self.log_columns_ = network_scaling(raw_rows, raw, logarithm)
        self.template_ = surrogate_template(
            self.collection,
            own,
            neighbour,
            self.max_neighbours,
            edges,
            scaling,
            logarithm=logarithm,
        )
        rows = self._rows(events, self.template_, score, sample_weight)
        train, validation = split_by_event(rows, self.validation_fraction, self.seed)
        if len(validation) == 0 or len(train) == 0:
            raise UsageError(
                f"the {self.validation_fraction:g} validation split of {rows.n_events} events "
                f"leaves no {self.collection} on one side; give more events"
            )
        self.device_ = str(select_device(self.device))
        seeds = np.random.SeedSequence(self.seed).spawn(self.n_models)
        self.members_: list[torch.nn.Module] = []
        self.histories_: list[FitHistory] = []
        with threads(self.threads):
            for k, sequence in enumerate(seeds):
                member_seed = int(sequence.generate_state(1)[0])
                sample = (
                    bootstrap_events(train, np.random.default_rng(member_seed))
                    if self.bootstrap
                    else train
                )
                net = build_member(
                    ScoreDensity,
                    member_seed,
                    len(own),
                    len(neighbour),
                    len(edges) - 1,
                    self.hidden,
                    self.depth,
                    self.edge_messages,
                    self._distance(neighbour),
                    self.neighbour_reach or 2.0,
                    self._categories(raw_rows, own),
                    logs=self.log_columns_,
                )
                history = fit_density(
                    net,
                    sample,
                    validation,
                    NODES,
                    seed=member_seed,
                    max_epochs=self.max_epochs,
                    patience=self.patience,
                    batch_size=self.batch_size,
                    learning_rate=self.learning_rate,
                    weight_decay=self.weight_decay,
                    negative_weights=self.negative_weights,
                    device=self.device_,
                )
                log.info(
                    "member %d/%d: %d epochs, validation loss %.5f",
                    k + 1,
                    self.n_models,
                    len(history.train_loss),
                    history.best_loss,
                )
                self.members_.append(net)
                self.histories_.append(history)
        self.n_events_ = rows.n_events
        self.n_objects_ = len(rows)
        self.validation_loss_ = float(np.mean([h.best_loss for h in self.histories_]))
        self.reference_inputs_ = {k: v[:8].copy() for k, v in validation.inputs.items()}
        log.info(
            "trained %d member(s) on %d objects on %s", self.n_models, len(train), self.device_
        )
        return self

    def _rows(
        self,
        events: ak.Array,
        template: Mapping[str, Any],
        score: ak.Array | np.ndarray | str,
        sample_weight: np.ndarray | str | None,
    ) -> ObjectRows:
        """One row per object; ``tagged`` holds the object's score-bin index."""
        arrays, counts = network_inputs(events, template)
        _, index = score_bins(events, self.collection, score, self.edges)
        weights = event_weights(events, sample_weight)
        event = np.repeat(np.arange(len(events)), counts)
        return ObjectRows(arrays, index.astype(np.float64), weights[event], event, len(events))

    def check_parameters(self) -> None:
        """Refuse parameters that cannot train (also called by :meth:`fit`)."""
        check_features(self.own_features, self.neighbour_features)
        check_log_features(self.own_features, self.log_features)
        if self.negative_weights not in NEGATIVE:
            raise UsageError(
                f"negative_weights={self.negative_weights!r}; choose one of {sorted(NEGATIVE)}"
            )
        edges = self.edges
        if edges.ndim != 1 or len(edges) < 3:
            raise UsageError("score_edges needs at least three edges (two bins)")
        if not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
            raise UsageError("score_edges must be finite and strictly increasing")
        if self.neighbour_reach is not None and not self.neighbour_reach > 0:
            raise UsageError(f"neighbour_reach must be > 0 (or None), not {self.neighbour_reach!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise UsageError("validation_fraction must lie strictly between 0 and 1")
        if not 0.0 < self.learning_rate < float("inf"):  # NaN fails too
            raise UsageError(
                f"learning_rate must be a finite number > 0, not {self.learning_rate!r}"
            )
        if not 0.0 <= self.weight_decay < float("inf"):
            raise UsageError(f"weight_decay must be a finite number ≥ 0, not {self.weight_decay!r}")
        for name in ("n_models", "max_neighbours", "hidden", "depth", "max_epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        select_device(self.device)  # refuses an unknown device, or CUDA where there is none

    def _distance(self, features: list[str]) -> tuple[int, float, float] | None:
        """(column, mean, std) of the neighbours' ΔR, expanded on a Gaussian basis, if used."""
        if self.neighbour_reach is None or "dr" not in features:
            return None
        column = features.index("dr")
        preprocessing = self.template_["inputs"][1]["features"][column]["preprocessing"]
        return column, float(preprocessing["mean"]), float(preprocessing["std"])

    def _categories(self, raw: ObjectRows, own: list[str]) -> Categories | None:
        """The flavour column, one-hot over the labels seen in training (at most 10)."""
        if "flavour" not in own:
            return None
        column = own.index("flavour")
        values = np.unique(raw.inputs[OWN][:, column])
        if len(values) > 10 or not np.allclose(values, np.round(values)):
            return None
        preprocessing = self.template_["inputs"][0]["features"][column]["preprocessing"]
        # a feature in log_features is passed raw: nothing to undo
        mean, std = float(preprocessing.get("mean", 0.0)), float(preprocessing.get("std", 1.0))
        return column, mean, std, tuple(float(v) for v in values)

    # -- prediction ----------------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise UsageError("this SurrogateTrainer is not fitted yet; call fit() first")

    def _ensemble(self) -> ScoreEnsemble:
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        return ScoreEnsemble(self.members_, torch.from_numpy(centres)).eval()

    def predict_outputs(self, events: ak.Array) -> np.ndarray:
        """The exported network's outputs for every object, flat: ``[objects, bins + 2]``
        (bin probabilities of the mixture, ``score_spread``, ``disagreement``)."""
        self._fitted()
        arrays = network_inputs(events, self.template_)[0]
        inputs = tuple(torch.from_numpy(np.ascontiguousarray(arrays[n])) for n in NODES)
        with torch.no_grad(), threads(self.threads):
            return self._ensemble()(*inputs).double().numpy()

    def predict_proba(self, events: ak.Array) -> np.ndarray:
        """The mixture's probability of every score bin per object, flat ``[objects, bins]``."""
        return self.predict_outputs(events)[:, : len(self.edges) - 1]

    # -- export --------------------------------------------------------------------------------
    def export(
        self,
        folder: str | Path,
        name: str = "surrogate",
        *,
        threshold: float | None = None,
        working_point: str | None = None,
        description: str | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write ``<name>.onnx``, ``<name>.card.json`` and the map ``<name>.json`` (kind
        ``surrogate``, with ``score_edges``, the ``threshold`` if given, and ``validity``);
        the map is loaded back with :func:`load_map` before the path is returned."""
        self._fitted()
        edges = self.edges
        if threshold is not None and not edges[0] <= threshold <= edges[-1]:
            raise UsageError(
                f"threshold {threshold:g} is outside score_edges [{edges[0]:g}, {edges[-1]:g}]; "
                "the working point must lie within the score range"
            )
        folder = Path(folder)
        template = with_name(self.template_, name)
        if provenance:
            template["provenance"] = {**template["provenance"], **dict(provenance)}
        with threads(self.threads):
            card = export_torch(
                self._ensemble(),
                template,
                folder,
                stem=name,
                reference_inputs=self.reference_inputs_,
            )
        card_path = Path(card.source)
        document: dict[str, Any] = {
            "schema_version": CURRENT_VERSION,
            "name": name,
            "description": description
            or (
                f"surrogate tagger for {self.collection}: the score's distribution over "
                f"{len(self.edges) - 1} bins from an ensemble of {self.n_models} set network(s) "
                f"trained on {self.n_objects_} objects of {self.n_events_} events; output "
                f"columns {SPREAD!r} and {DISAGREEMENT!r} give the members' spread"
            ),
            "object": self.collection,
            "kind": "surrogate",
            "network": {"card": card_path.name, "sha256": sha256_file(card_path), "output": OUTPUT},
            "score_edges": [float(e) for e in self.edges],
            "out_of_range": "clamp",
            "validity": self.validity_,
            "provenance": {"notes": "recast.train.surrogate", **dict(provenance or {})},
        }
        if threshold is not None:
            document["threshold"] = float(threshold)
        if working_point is not None:
            document["working_point"] = working_point
        path = folder / f"{name}.json"
        write_json(path, document)
        self.map_ = cast(SurrogateTagger, load_map(path))
        log.info("wrote the surrogate tagger %s", path)
        return path


def _validity(rows: ObjectRows, own: list[str]) -> dict[str, list[float]]:
    """[min, max] of the own features seen in training (raw, internal units)."""
    values = rows.inputs[OWN]
    domain = {}
    for i, name in enumerate(own):
        lo, hi = float(values[:, i].min()), float(values[:, i].max())
        if lo < hi:
            domain[name] = [lo, hi]
    return domain


__all__ = ["DEFAULT_EDGES", "DISAGREEMENT", "OUTPUT", "SPREAD", "SurrogateTrainer"]
