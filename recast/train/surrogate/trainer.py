"""Train a surrogate tagger: the distribution of a detector-level score from truth inputs.

A network given an object's truth-level inputs (pT, |η|, ΔR to the nearest jet, flavour, and
the other jets of the event as a set) outputs a softmax over the bins of ``score_edges``;
trained with cross-entropy on (inputs, observed score bin) pairs it converges to the score's
conditional distribution, detector randomness included (arXiv:2402.15558). K members, each on
a bootstrap resample of the training events from its own seed, are exported as one network
(:class:`.network.ScoreEnsemble`): their mixture is the distribution, and two more
columns, ``score_spread`` and ``disagreement``, say how far the members part. Together with
the map's ``validity`` (the training range of every own feature), they flag inputs outside
the training support (see :func:`.closure.surrogate_uncertainty`).

>>> trainer = SurrogateTrainer(n_models=5, seed=1).fit(events, "dl1r")        # doctest: +SKIP
>>> path = trainer.export("maps/", name="dl1r_surrogate", threshold=0.665)     # doctest: +SKIP
>>> load_map(path).sample_scores(events, seed=3)                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import awkward as ak
import numpy as np

from ...detector.learned import SurrogateTagger
from ...detector.maps import load_map
from ...errors import UsageError
from ..core._torch import threads, torch
from ..core.ensemble import SetEnsembleTrainer, Targets, Weights
from ..core.inputs import OWN, ObjectRows, event_weights, network_inputs
from .inputs import (
    DEFAULT_EDGES,
    DISAGREEMENT,
    OUTPUT,
    SPREAD,
    score_bins,
    with_score_outputs,
)
from .network import Categories, ScoreDensity, ScoreEnsemble

log = logging.getLogger(__name__)


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class SurrogateTrainer(SetEnsembleTrainer):
    """A score distribution per object with event context, learned from scored objects.

    scikit-learn conventions: the constructor only stores its keyword arguments, :meth:`fit`
    returns the trainer, learned attributes end in ``_``. Everything is seeded by ``seed``;
    training runs on ``device`` (None: CUDA when torch sees one, else the CPU) with
    ``threads`` torch threads (None: torch's default).

    ``log_features`` names own features (positive, e.g. ``pt``) the network takes the
    logarithm of, as the first step of the exported graph; the card still passes them raw.
    """

    own_features: Sequence[str] = ("pt", "abs_eta", "dr_nearest", "flavour")
    max_epochs: int = 20
    patience: int = 5
    device: str | None = None
    score_edges: Sequence[float] = DEFAULT_EDGES

    CATEGORICAL: ClassVar[bool] = True
    TEMPLATE_NAME: ClassVar[str] = "surrogate_network"

    @property
    def edges(self) -> np.ndarray:
        return np.asarray(self.score_edges, dtype=np.float64)

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        events: ak.Array,
        score: Targets,
        sample_weight: Weights = None,
    ) -> SurrogateTrainer:
        """Train on the objects of ``events[collection]``; ``score`` is one detector-level
        score per object (jagged like the collection, flat, or the name of a field of the
        objects); ``sample_weight`` one weight per event (an array, a field name, or None)."""
        train, _ = self._fit_members(events, score, sample_weight)
        self.validation_loss_ = float(np.mean([h.best_loss for h in self.histories_]))
        log.info(
            "trained %d member(s) on %d objects on %s", self.n_models, len(train), self.device_
        )
        return self

    def _template(
        self, scaling: Mapping[str, Any] | None, logarithm: Sequence[str]
    ) -> dict[str, Any]:
        return with_score_outputs(super()._template(scaling, logarithm), self.edges)

    def _rows(
        self, events: ak.Array, template: Mapping[str, Any], target: Targets, weight: Weights
    ) -> ObjectRows:
        """One row per object; ``tagged`` holds the object's score-bin index."""
        arrays, counts = network_inputs(events, template)
        _, index = score_bins(events, self.collection, target, self.edges)
        weights = event_weights(events, weight)
        event = np.repeat(np.arange(len(events)), counts)
        return ObjectRows(arrays, index.astype(np.float64), weights[event], event, len(events))

    def _network(self, raw: ObjectRows) -> torch.nn.Module:
        own, neighbour = list(self.own_features), list(self.neighbour_features)
        return ScoreDensity(
            len(own),
            len(neighbour),
            len(self.edges) - 1,
            categories=self._categories(raw, own),
            hidden=self.hidden,
            depth=self.depth,
            edge=self.edge_messages,
            distance=self._distance(neighbour),
            reach=self.neighbour_reach or 2.0,
            logs=self.log_columns_,
        )

    def check_parameters(self) -> None:
        """Refuse parameters that cannot train (also called by :meth:`fit`)."""
        edges = self.edges
        if edges.ndim != 1 or len(edges) < 3:
            raise UsageError("score_edges needs at least three edges (two bins)")
        if not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
            raise UsageError("score_edges must be finite and strictly increasing")
        super().check_parameters()

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
    def _ensemble(self) -> ScoreEnsemble:
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        return ScoreEnsemble(self.members_, torch.from_numpy(centres)).eval()

    def predict_outputs(self, events: ak.Array) -> np.ndarray:
        """The exported network's outputs for every object, flat: ``[objects, bins + 2]``
        (bin probabilities of the mixture, ``score_spread``, ``disagreement``)."""
        self._fitted()
        inputs = self._tensors(network_inputs(events, self.template_)[0])
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
        check_threshold(threshold, self.edges)
        path = self._write_map(
            self._ensemble(),
            folder,
            name,
            kind="surrogate",
            output=OUTPUT,
            description=description
            or (
                f"surrogate tagger for {self.collection}: the score's distribution over "
                f"{len(self.edges) - 1} bins from an ensemble of {self.n_models} set network(s) "
                f"trained on {self.n_objects_} objects of {self.n_events_} events; output "
                f"columns {SPREAD!r} and {DISAGREEMENT!r} give the members' spread"
            ),
            notes="recast.train.surrogate",
            working_point=working_point,
            provenance=provenance,
            before={"score_edges": [float(e) for e in self.edges]},
            after={} if threshold is None else {"threshold": float(threshold)},
        )
        self.map_ = cast(SurrogateTagger, load_map(path))
        log.info("wrote the surrogate tagger %s", path)
        return path


def check_threshold(threshold: float | None, edges: np.ndarray, source: str = "") -> None:
    """The working point must lie within the score range (checked before training)."""
    if threshold is not None and not edges[0] <= threshold <= edges[-1]:
        where = f"{source}: " if source else ""
        raise UsageError(
            f"{where}threshold {threshold:g} is outside score_edges "
            f"[{edges[0]:g}, {edges[-1]:g}]; the working point must lie within the score range"
        )


__all__ = [
    "DEFAULT_EDGES",
    "DISAGREEMENT",
    "OUTPUT",
    "SPREAD",
    "SurrogateTrainer",
    "check_threshold",
]
