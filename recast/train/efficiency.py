"""Train a learned efficiency map: a set network over the event's objects, an ensemble with
bootstrap, exported as ONNX + card + a ``network`` efficiency-map document.

A classifier trained with binary cross-entropy on tagged (1) / untagged (0) objects converges
to p_tag / (p_tag + p_untag) = ε(θ) as a function of everything it sees (arXiv:2004.02665):
here the object's own features and, through :class:`.networks.ObjectInContext`, its
neighbours. K members, each trained on a bootstrap resample of the training events (event
counts used as weights: the exact bootstrap, without copying rows), give the efficiency
(their mean) and its statistical uncertainty (their spread).

>>> trainer = EfficiencyMapTrainer(n_models=5, seed=1).fit(events, "btag")   # doctest: +SKIP
>>> trainer.calibration_["max_deviation"]                                    # doctest: +SKIP
>>> path = trainer.export("maps/", name="btag_learned")                       # doctest: +SKIP
>>> load_map(path).efficiency(events)                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..detector.maps import EfficiencyMap, load_map
from ..errors import UsageError
from ..io import sha256_file, write_json
from ..preserve.export import export_torch
from ..schema import CURRENT_VERSION
from ._torch import select_device, threads, torch
from .fitting import FitHistory, build_member, fit_member, logits_of
from .inputs import (
    EFFICIENCY,
    MASK,
    NEIGHBOURS,
    OWN,
    ObjectRows,
    bootstrap_events,
    check_features,
    check_log_features,
    efficiency_template,
    network_inputs,
    network_scaling,
    object_rows,
    split_by_event,
    with_name,
)
from .networks import EnsembleAverage, ObjectInContext
from .parameters import Parameters
from .report import calibration

log = logging.getLogger(__name__)

NODES = [OWN, NEIGHBOURS, MASK]
NEGATIVE_WEIGHTS = ("signed", "complementary")


class EfficiencyMapTrainer(Parameters):
    """A per-object efficiency with event context, learned from tagged / untagged objects.

    scikit-learn conventions: the constructor only stores its keyword arguments, :meth:`fit`
    returns the trainer, learned attributes end in ``_``. Everything is seeded by ``seed``;
    training runs on ``device`` (``auto``: CUDA when torch sees one, else the CPU) with
    ``threads`` torch threads on the CPU (None: torch's default).

    ``log_features`` names own features (positive, e.g. ``pt``) the network takes the
    logarithm of, as the first step of the exported graph: the card still passes them raw
    (pT in GeV), and a steep dependence at small values is not squeezed by a range of decades.
    """

    def __init__(
        self,
        *,
        collection: str = "jets",
        own_features: Sequence[str] = ("pt", "abs_eta", "dr_nearest"),
        neighbour_features: Sequence[str] = ("dr",),
        log_features: Sequence[str] = (),
        max_neighbours: int = 3,
        hidden: int = 32,
        depth: int = 2,
        edge_messages: bool = False,
        neighbour_reach: float | None = 2.0,
        n_models: int = 5,
        bootstrap: bool = True,
        validation_fraction: float = 0.2,
        max_epochs: int = 25,
        patience: int = 15,
        batch_size: int = 512,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        negative_weights: str = "signed",
        seed: int = 0,
        threads: int | None = 1,
        device: str | None = "auto",
    ) -> None:
        self._store(locals())

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        events: ak.Array,
        tagged: ak.Array | np.ndarray | str,
        sample_weight: np.ndarray | str | None = None,
    ) -> EfficiencyMapTrainer:
        """Train on the objects of ``events[collection]``; ``tagged`` is one boolean per object
        (jagged like the collection, flat, or the name of a field of the objects);
        ``sample_weight`` one weight per event (an array, the name of a field, or None: 1)."""
        self.check_parameters()
        device = select_device(self.device)
        own, neighbour = list(self.own_features), list(self.neighbour_features)
        raw = efficiency_template(self.collection, own, neighbour, self.max_neighbours)
        raw_rows = object_rows(events, raw, tagged, sample_weight)
        if raw_rows.n_events < 2 or len(raw_rows) == 0:
            raise UsageError(
                f"training needs at least two events with {self.collection}; got "
                f"{raw_rows.n_events} event(s) with {len(raw_rows)} object(s)"
            )
        self.validity_ = _validity(raw_rows, own)
        logarithm = list(self.log_features)
        scaling, self.log_columns_ = network_scaling(raw_rows, raw, logarithm)
        self.template_ = efficiency_template(
            self.collection, own, neighbour, self.max_neighbours, scaling, logarithm=logarithm
        )
        rows = object_rows(events, self.template_, tagged, sample_weight)
        train, validation = split_by_event(rows, self.validation_fraction, self.seed)
        if len(validation) == 0 or len(train) == 0:
            raise UsageError(
                f"the {self.validation_fraction:g} validation split of {rows.n_events} events "
                f"leaves no {self.collection} on one side; give more events"
            )
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
                    ObjectInContext,
                    member_seed,
                    len(own),
                    len(neighbour),
                    self.hidden,
                    self.depth,
                    self.edge_messages,
                    self._distance(neighbour),
                    self.neighbour_reach or 2.0,  # unused without a ΔR input
                    logs=self.log_columns_,
                )
                history = fit_member(
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
                    device=device,
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
            mean, _ = self._ensemble(validation.inputs)
        self.calibration_ = calibration(mean, validation.tagged, validation.weight)
        self.n_events_ = rows.n_events
        self.n_objects_ = len(rows)
        self.reference_inputs_ = {k: v[:8].copy() for k, v in validation.inputs.items()}
        log.info(
            "trained %d member(s) on %d objects; calibration χ²/ndf = %.2f",
            self.n_models,
            len(train),
            self.calibration_["chi2"] / max(self.calibration_["ndf"], 1),
        )
        return self

    def check_parameters(self) -> None:
        """Refuse parameters that cannot train (also called by :meth:`fit`)."""
        check_features(self.own_features, self.neighbour_features)
        check_log_features(self.own_features, self.log_features)
        if self.negative_weights not in NEGATIVE_WEIGHTS:
            raise UsageError(
                f"negative_weights={self.negative_weights!r}; choose one of {NEGATIVE_WEIGHTS}"
            )
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

    def _distance(self, features: list[str]) -> tuple[int, float, float] | None:
        """(column, mean, std) of the neighbours' ΔR, expanded on a Gaussian basis, if used."""
        if self.neighbour_reach is None or "dr" not in features:
            return None
        column = features.index("dr")
        preprocessing = self.template_["inputs"][1]["features"][column]["preprocessing"]
        return column, float(preprocessing["mean"]), float(preprocessing["std"])

    # -- prediction ----------------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise UsageError("this EfficiencyMapTrainer is not fitted yet; call fit() first")

    def _members(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Every member's efficiency per row, ``[rows, n_models]`` (float64)."""
        inputs = tuple(torch.from_numpy(np.ascontiguousarray(arrays[n])) for n in NODES)
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
        folder = Path(folder)
        template = with_name(self.template_, name)
        if provenance:
            template["provenance"] = {**template["provenance"], **dict(provenance)}
        model = EnsembleAverage(self.members_)
        with threads(self.threads):
            card = export_torch(
                model, template, folder, stem=name, reference_inputs=self.reference_inputs_
            )
        card_path = Path(card.source)
        document: dict[str, Any] = {
            "schema_version": CURRENT_VERSION,
            "name": name,
            "description": description
            or (
                f"learned efficiency of {self.collection}: an ensemble of {self.n_models} set "
                f"network(s) trained on {self.n_objects_} objects of {self.n_events_} events"
            ),
            "object": self.collection,
            "kind": "network",
            "network": {
                "card": card_path.name,
                "sha256": sha256_file(card_path),
                "output": EFFICIENCY,
            },
            "out_of_range": "clamp",
            "validity": self.validity_,
            "provenance": {"notes": "recast.train.efficiency", **dict(provenance or {})},
        }
        if working_point is not None:
            document["working_point"] = working_point
        path = folder / f"{name}.json"
        write_json(path, document)
        self.map_: EfficiencyMap = load_map(path)
        log.info("wrote the learned map %s", path)
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


__all__ = ["EfficiencyMapTrainer"]
