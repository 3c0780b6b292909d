"""Train a learned efficiency map: a set network over the event's objects, an ensemble with
bootstrap, exported as ONNX + card + a ``network`` efficiency-map document.

A classifier trained with binary cross-entropy on tagged (1) / untagged (0) objects converges
to p_tag / (p_tag + p_untag) = ε(θ) as a function of everything it sees (arXiv:2004.02665):
here the object's own features and, through :class:`recast.train.core.networks.ObjectInContext`, its
neighbours. K members, each trained on a bootstrap resample of the training events (event
counts used as weights: the exact bootstrap, without copying rows), give the efficiency
(their mean) and its statistical uncertainty (their spread).

>>> trainer = EfficiencyMapTrainer(n_models=5, seed=1).fit(events, "btag")   # doctest: +SKIP
>>> trainer.calibration_["max_deviation"]                                    # doctest: +SKIP
>>> path = trainer.export("maps/", name="btag_learned")                       # doctest: +SKIP
>>> load_map(path).efficiency(events)                                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ...detector.maps import EfficiencyMap, load_map
from ..core._torch import threads, torch
from ..core.ensemble import SetEnsembleTrainer, Targets, Weights
from ..core.fitting import logits_of
from ..core.inputs import EFFICIENCY, ObjectRows, network_inputs
from ..core.networks import ObjectInContext
from .closure import calibration
from .network import EnsembleAverage

log = logging.getLogger(__name__)


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class EfficiencyMapTrainer(SetEnsembleTrainer):
    """A per-object efficiency with event context, learned from tagged / untagged objects.

    scikit-learn conventions: the constructor only stores its keyword arguments, :meth:`fit`
    returns the trainer, learned attributes end in ``_``. Everything is seeded by ``seed``;
    training runs on ``device`` (``auto``: CUDA when torch sees one, else the CPU) with
    ``threads`` torch threads on the CPU (None: torch's default).

    ``log_features`` names own features (positive, e.g. ``pt``) the network takes the
    logarithm of, as the first step of the exported graph: the card still passes them raw
    (pT in GeV), and a steep dependence at small values is not squeezed by a range of decades.
    """

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        events: ak.Array,
        tagged: Targets,
        sample_weight: Weights = None,
    ) -> EfficiencyMapTrainer:
        """Train on the objects of ``events[collection]``; ``tagged`` is one boolean per object
        (jagged like the collection, flat, or the name of a field of the objects);
        ``sample_weight`` one weight per event (an array, the name of a field, or None: 1)."""
        train, validation = self._fit_members(events, tagged, sample_weight)
        with threads(self.threads):
            mean, _ = self._ensemble(validation.inputs)
        self.calibration_ = calibration(mean, validation.tagged, validation.weight)
        log.info(
            "trained %d member(s) on %d objects; calibration χ²/ndf = %.2f",
            self.n_models,
            len(train),
            self.calibration_["chi2"] / max(self.calibration_["ndf"], 1),
        )
        return self

    def _network(self, raw: ObjectRows) -> torch.nn.Module:
        neighbour = list(self.neighbour_features)
        return ObjectInContext(
            len(self.own_features),
            len(neighbour),
            self.hidden,
            self.depth,
            self.edge_messages,
            self._distance(neighbour),
            self.neighbour_reach or 2.0,  # unused without a ΔR input
            logs=self.log_columns_,
        )

    # -- prediction ----------------------------------------------------------------------------
    def _members(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Every member's efficiency per row, ``[rows, n_models]`` (float64)."""
        inputs = self._tensors(arrays)
        with torch.no_grad():
            p = torch.stack([torch.sigmoid(logits_of(m, inputs)) for m in self.members_], dim=1)
        return p.double().numpy()

    def _ensemble(self, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p = self._members(arrays)
        spread = p.std(axis=1, ddof=1) if p.shape[1] > 1 else np.zeros(len(p))
        return p.mean(axis=1), spread

    def predict_members(self, events: ak.Array) -> np.ndarray:
        """Every member's efficiency for every object, flat: ``[objects, n_models]``."""
        self._fitted()
        return self._members(network_inputs(events, self.template_)[0])

    def predict(self, events: ak.Array) -> ak.Array:
        """The efficiency of every object (the ensemble mean), jagged like the collection."""
        self._fitted()
        arrays, counts = network_inputs(events, self.template_)
        return ak.unflatten(self._ensemble(arrays)[0], counts)

    def predict_spread(self, events: ak.Array) -> ak.Array:
        """The ensemble's spread (standard deviation of the members) for every object."""
        self._fitted()
        arrays, counts = network_inputs(events, self.template_)
        return ak.unflatten(self._ensemble(arrays)[1], counts)

    # -- export --------------------------------------------------------------------------------
    def export(
        self,
        folder: str | Path,
        name: str = "efficiency_learned",
        *,
        working_point: str | None = None,
        description: str | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write ``<name>.onnx``, ``<name>.card.json`` and the map ``<name>.json`` (kind
        ``network``) to ``folder``; the map is loaded back with :func:`load_map` before the
        path is returned."""
        self._fitted()
        path = self._write_map(
            EnsembleAverage(self.members_),
            folder,
            name,
            kind="network",
            output=EFFICIENCY,
            description=description
            or (
                f"learned efficiency of {self.collection}: an ensemble of {self.n_models} set "
                f"network(s) trained on {self.n_objects_} objects of {self.n_events_} events"
            ),
            notes="recast.train.efficiency",
            working_point=working_point,
            provenance=provenance,
        )
        self.map_: EfficiencyMap = load_map(path)
        log.info("wrote the learned map %s", path)
        return path


__all__ = ["EfficiencyMapTrainer"]
