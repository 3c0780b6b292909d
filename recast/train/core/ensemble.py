"""The per-object ensemble both map trainers share: a set network per object in its event,
K members each trained on a bootstrap resample of the training events from its own seed.

:class:`SetEnsembleTrainer` holds their common parameters and the whole fitting sequence:
raw rows → the training range of the own features (the map's ``validity``) → the card's
standardisation → rows as the card builds them → a split by event → K members (bootstrap,
seeded initialisation, :func:`.fitting.fit_member`). By default the members learn an
efficiency from tags; a subclass says which network it trains (:meth:`~SetEnsembleTrainer._network`)
and may change the template, the targets and the loss (:meth:`~SetEnsembleTrainer._template`,
:meth:`~SetEnsembleTrainer._rows`, ``CATEGORICAL``); it writes its map document with
:meth:`~SetEnsembleTrainer._write_map`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import awkward as ak
import numpy as np

from ...errors import UsageError
from ...io import sha256_file, write_json
from ...schema import CURRENT_VERSION
from ._torch import select_device, threads, torch
from .fitting import FitHistory, build_member, fit_member
from .inputs import (
    MASK,
    NEIGHBOURS,
    OWN,
    ObjectRows,
    bootstrap_events,
    check_features,
    check_log_features,
    efficiency_template,
    network_scaling,
    object_rows,
    split_by_event,
    training_range,
    with_name,
)
from .trainer import Trainer

log = logging.getLogger(__name__)

#: node names of the exported network, in the order its ``forward`` takes them
NODES = [OWN, NEIGHBOURS, MASK]
NEGATIVE_WEIGHTS = ("signed", "complementary")
#: what a trainer learns from: tags or scores per object (jagged, flat, or a field name)
Targets: TypeAlias = ak.Array | np.ndarray | str
#: one weight per event: an array, the name of a field, or None (1)
Weights: TypeAlias = np.ndarray | str | None


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class SetEnsembleTrainer(Trainer):
    """Parameters and fitting of a per-object set-network ensemble (see the module docstring)."""

    collection: str = "jets"
    own_features: Sequence[str] = ("pt", "abs_eta", "dr_nearest")
    neighbour_features: Sequence[str] = ("dr",)
    log_features: Sequence[str] = ()
    max_neighbours: int = 3
    hidden: int = 32
    depth: int = 2
    edge_messages: bool = False
    neighbour_reach: float | None = 2.0
    n_models: int = 5
    bootstrap: bool = True
    negative_weights: str = "signed"

    COUNTS: ClassVar[tuple[str, ...]] = (
        "n_models",
        "max_neighbours",
        "hidden",
        "depth",
        "max_epochs",
        "batch_size",
    )
    #: the members learn a categorical density (score bins) rather than a probability
    CATEGORICAL: ClassVar[bool] = False
    #: the name of the card template while training (the export names the card)
    TEMPLATE_NAME: ClassVar[str] = "efficiency_network"

    # -- what a subclass trains (by default: an efficiency from tags) --------------------------
    def _template(
        self, scaling: Mapping[str, Any] | None, logarithm: Sequence[str]
    ) -> dict[str, Any]:
        """The card template, inputs standardised by ``scaling`` (None: raw)."""
        own, neighbour = list(self.own_features), list(self.neighbour_features)
        return efficiency_template(
            self.collection,
            own,
            neighbour,
            self.max_neighbours,
            scaling,
            self.TEMPLATE_NAME,
            logarithm=logarithm,
        )

    def _rows(
        self, events: ak.Array, template: Mapping[str, Any], target: Targets, weight: Weights
    ) -> ObjectRows:
        """One row per object, its target in ``tagged`` (here: the tag)."""
        return object_rows(events, template, target, weight)

    def _network(self, raw: ObjectRows) -> torch.nn.Module:
        """A fresh member (called inside a seeded block)."""
        raise NotImplementedError

    # -- checks ---------------------------------------------------------------------------------
    def check_parameters(self) -> None:
        check_features(self.own_features, self.neighbour_features)
        check_log_features(self.own_features, self.log_features)
        if self.negative_weights not in NEGATIVE_WEIGHTS:
            raise UsageError(
                f"negative_weights={self.negative_weights!r}; choose one of {NEGATIVE_WEIGHTS}"
            )
        if self.neighbour_reach is not None and not self.neighbour_reach > 0:
            raise UsageError(f"neighbour_reach must be > 0 (or None), not {self.neighbour_reach!r}")
        super().check_parameters()

    # -- training -------------------------------------------------------------------------------
    def _fit_members(
        self, events: ak.Array, target: Targets, sample_weight: Weights
    ) -> tuple[ObjectRows, ObjectRows]:
        """Prepare the rows and train the members; returns (training, validation) rows."""
        self.check_parameters()
        self.device_ = str(select_device(self.device))
        own = list(self.own_features)
        raw = self._template(None, ())
        raw_rows = self._rows(events, raw, target, sample_weight)
        if raw_rows.n_events < 2 or len(raw_rows) == 0:
            raise UsageError(
                f"training needs at least two events with {self.collection}; got "
                f"{raw_rows.n_events} event(s) with {len(raw_rows)} object(s)"
            )
        self.validity_ = training_range(raw_rows, own)
        logarithm = list(self.log_features)
        scaling, self.log_columns_ = network_scaling(raw_rows, raw, logarithm)
        self.template_ = self._template(scaling, logarithm)
        rows = self._rows(events, self.template_, target, sample_weight)
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
                net = build_member(member_seed, lambda: self._network(raw_rows))
                history = fit_member(
                    net,
                    sample,
                    validation,
                    NODES,
                    self._fit_settings(member_seed, self.device_),
                    categorical=self.CATEGORICAL,
                    negative_weights=self.negative_weights,
                )
                log.info("member %d/%d: %s", k + 1, self.n_models, history)
                self.members_.append(net)
                self.histories_.append(history)
        self.n_events_ = rows.n_events
        self.n_objects_ = len(rows)
        self.reference_inputs_ = {k: v[:8].copy() for k, v in validation.inputs.items()}
        return train, validation

    def _distance(self, features: list[str]) -> tuple[int, float, float] | None:
        """(column, mean, std) of the neighbours' ΔR, expanded on a Gaussian basis, if used."""
        if self.neighbour_reach is None or "dr" not in features:
            return None
        column = features.index("dr")
        preprocessing = self.template_["inputs"][1]["features"][column]["preprocessing"]
        return column, float(preprocessing["mean"]), float(preprocessing["std"])

    @staticmethod
    def _tensors(arrays: Mapping[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
        """The network's inputs from the builder's arrays, in :data:`NODES` order."""
        return tuple(torch.from_numpy(np.ascontiguousarray(arrays[n])) for n in NODES)

    # -- export ---------------------------------------------------------------------------------
    def _write_map(
        self,
        model: torch.nn.Module,
        folder: str | Path,
        name: str,
        *,
        kind: str,
        output: str,
        description: str,
        notes: str,
        working_point: str | None,
        provenance: Mapping[str, Any] | None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> Path:
        """Export ``model`` as ``<name>.onnx`` + ``<name>.card.json`` and write the map
        document ``<name>.json`` of ``kind`` that points at the card (``before`` entries go
        after ``network``, ``after`` entries after ``provenance``); returns its path."""
        folder = Path(folder)
        template = with_name(self.template_, name)
        if provenance:
            template["provenance"] = {**template["provenance"], **dict(provenance)}
        card_path = self._export_card(model, template, folder, name, self.reference_inputs_)
        document: dict[str, Any] = {
            "schema_version": CURRENT_VERSION,
            "name": name,
            "description": description,
            "object": self.collection,
            "kind": kind,
            "network": {"card": card_path.name, "sha256": sha256_file(card_path), "output": output},
            **dict(before or {}),
            "out_of_range": "clamp",
            "validity": self.validity_,
            "provenance": {"notes": notes, **dict(provenance or {})},
            **dict(after or {}),
        }
        if working_point is not None:
            document["working_point"] = working_point
        path = folder / f"{name}.json"
        write_json(path, document)
        return path


__all__ = ["NEGATIVE_WEIGHTS", "NODES", "SetEnsembleTrainer", "Targets", "Weights"]
