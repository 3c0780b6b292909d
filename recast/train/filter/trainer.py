"""The event-level "selective simulation" filter: will this generated event pass the skim?

A graph network (:class:`.network.GraphFilter`) over the generator-level truth record
(:mod:`recast.events.graphs`: PDG id, four-momentum, production vertex, decay time;
mother–daughter links; cropped or padded to ``max_particles``) is trained with

    L = BCE(y, p) + λ · dCorr²(x, p)

where x is a chosen variable (e.g. a mass) whose distribution in the selected events must not be
sculpted by the filter; the penalty (:func:`recast.train.core.losses.distance_correlation`, the
DisCo form with a finite gradient at 0) is taken over the events of class ``decorrelate_on``
in each batch ("pass" by default: the distribution that matters is that of the events that
will pass).
Early stopping keeps the weights of the best validation loss. The trained filter is used as a
sampling probability (:mod:`recast.events.importance`) and exported as ONNX + card.

>>> trainer = FilterTrainer(decorrelation=5.0).fit(graphs, passed, m_vis)   # doctest: +SKIP
>>> p = trainer.predict(graphs)                                             # doctest: +SKIP
>>> card = trainer.export("filters/", name="ttbar_filter")                  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, ClassVar

import awkward as ak
import numpy as np

from ...errors import UsageError
from ...events.graphs import (
    FEATURES,
    ORDERINGS,
    GraphArrays,
    graph_arrays,
    preprocess,
    standardisation,
    vocabulary,
)
from ...preserve.card import MAX_OBJECTS, MAX_ROW_ELEMENTS
from ..core._torch import seeded, select_device, threads, torch
from ..core.fitting import FitHistory
from ..core.losses import distance_correlation, weighted_binary_cross_entropy
from ..core.trainer import Trainer
from .card import ADJACENCY, MASK, NODES, card_template
from .network import GraphFilter

log = logging.getLogger(__name__)

DECORRELATE_ON = ("pass", "fail", "all")
MAX_DCORR_ROWS = 3000  # the penalty is O(N²) in memory


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (the Mann–Whitney statistic, ties counted half)."""
    label = np.asarray(label, dtype=bool)
    n_pos, n_neg = int(label.sum()), int((~label).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = np.empty(len(score))
    order = np.argsort(score, kind="stable")
    sorted_score = np.asarray(score)[order]
    # average ranks of ties
    _, first, counts = np.unique(sorted_score, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class FilterTrainer(Trainer):
    """Train the event filter. scikit-learn conventions: the constructor only stores its
    keyword arguments, :meth:`fit` returns the trainer, learned attributes end in ``_``."""

    max_epochs: int = 40
    patience: int = 6
    batch_size: int = 256
    max_particles: int = 100
    ordering: str = "pt"
    vocabulary_size: int = 48
    embedding: int = 8
    hidden: int = 32
    depth: int = 3
    decorrelation: float = 0.0
    decorrelate_on: str = "pass"
    decorrelation_warmup: int = 10

    COUNTS: ClassVar[tuple[str, ...]] = (
        "max_particles",
        "vocabulary_size",
        "embedding",
        "hidden",
        "depth",
        "max_epochs",
        "patience",
        "batch_size",
    )
    FITTED: ClassVar[str] = "network_"

    # -- inputs --------------------------------------------------------------------------------
    def graphs(self, events: ak.Array | GraphArrays) -> GraphArrays:
        """The padded graphs of ``events`` with this trainer's slots and ordering."""
        if isinstance(events, GraphArrays):
            if events.max_particles != self.max_particles:
                raise UsageError(
                    f"the graphs have {events.max_particles} slots but max_particles is "
                    f"{self.max_particles}; build them with max_particles={self.max_particles}"
                )
            return events
        return graph_arrays(events, self.max_particles, self.ordering)

    def check_parameters(self) -> None:
        """Refuse parameters that cannot train or ship (also called by :meth:`fit`)."""
        if self.ordering not in ORDERINGS:
            raise UsageError(f"ordering={self.ordering!r}; choose one of {list(ORDERINGS)}")
        if self.decorrelate_on not in DECORRELATE_ON:
            raise UsageError(
                f"decorrelate_on={self.decorrelate_on!r}; choose one of {list(DECORRELATE_ON)}"
            )
        if not 0 <= self.decorrelation < float("inf"):
            raise UsageError(
                f"decorrelation (λ) must be a finite number ≥ 0, not {self.decorrelation!r}"
            )
        super().check_parameters()
        _check_shippable(int(self.max_particles))
        warmup = int(self.decorrelation_warmup)
        if warmup < 0 or (self.decorrelation > 0 and warmup >= int(self.max_epochs)):
            raise UsageError(
                f"decorrelation_warmup must lie in [0, max_epochs = {self.max_epochs}), "
                f"not {self.decorrelation_warmup!r}"
            )

    def _device(self) -> torch.device:
        return select_device(self.device)

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        events: ak.Array | GraphArrays,
        passed: np.ndarray,
        decorrelate: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> FilterTrainer:
        """Train on the truth records ``events`` (or their graphs) with the pass labels
        ``passed`` (one bool per event); ``decorrelate`` is the variable x of the dCorr penalty
        (needed when ``decorrelation`` > 0); ``sample_weight`` one weight ≥ 0 per event."""
        self.check_parameters()
        graphs = self.graphs(events)
        n = len(graphs)
        y = np.asarray(passed).astype(bool)
        weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        x = np.zeros(n) if decorrelate is None else np.asarray(decorrelate, dtype=np.float64)
        for name, values in (("passed", y), ("sample_weight", weight), ("decorrelate", x)):
            if values.shape != (n,):
                raise UsageError(f"{name} must hold one value per event ({n}), got {values.shape}")
        if self.decorrelation > 0 and decorrelate is None:
            raise UsageError("decorrelation > 0 needs the variable to decorrelate (decorrelate=)")
        if not np.isfinite(x).all() or not np.isfinite(weight).all() or (weight < 0).any():
            raise UsageError("decorrelate and sample_weight must be finite, weights ≥ 0")
        if y.all() or not y.any():
            raise UsageError(f"the labels are all {bool(y[0])}: the filter needs both classes")
        order = np.random.default_rng(self.seed).permutation(n)
        n_val = min(max(round(self.validation_fraction * n), 1), n - 1)
        train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
        training = graphs.take(train)
        self.vocabulary_ = vocabulary(training, self.vocabulary_size)
        self.scaling_ = standardisation(training)
        device = self._device()
        with threads(self.threads), seeded(self.seed):
            self.network_ = GraphFilter(
                self.vocabulary_,
                len(FEATURES),
                embedding=self.embedding,
                hidden=self.hidden,
                depth=self.depth,
            ).to(device)
        data = self._tensors(graphs, y, x, weight)
        with threads(self.threads):
            self.history_ = self._train(data, train, val, device)
            p_val = self._probabilities(graphs.take(val))
        self.network_.to("cpu")
        self.validation_ = {
            "events": len(val),
            "auc": auc(p_val, y[val]),
            "accuracy": float(np.mean((p_val > 0.5) == y[val])),
            "pass_fraction": float(y[val].mean()),
        }
        reference = graphs.take(val[:2])  # two rows: the adjacency makes a card large
        self.reference_inputs_ = {
            NODES: preprocess(reference, self.scaling_),
            ADJACENCY: reference.adjacency.astype(np.float32),
            MASK: reference.mask.copy(),
        }
        self.n_events_ = n
        log.info(
            "filter trained on %d events (λ = %g): validation AUC %.4f after %d epochs",
            len(train),
            self.decorrelation,
            self.validation_["auc"],
            len(self.history_.train_loss),
        )
        return self

    def _tensors(
        self, graphs: GraphArrays, y: np.ndarray, x: np.ndarray, w: np.ndarray
    ) -> dict[str, torch.Tensor]:
        return {
            "nodes": torch.from_numpy(preprocess(graphs, self.scaling_)),
            "adjacency": torch.from_numpy(graphs.adjacency),  # uint8: ¼ of the memory
            "mask": torch.from_numpy(graphs.mask),
            "y": torch.from_numpy(y.astype(np.float32)),
            "x": torch.from_numpy(((x - x.mean()) / (x.std() or 1.0)).astype(np.float32)),
            "w": torch.from_numpy(w.astype(np.float32)),
        }

    def _loss(
        self, logit: torch.Tensor, batch: dict[str, torch.Tensor], strength: float
    ) -> torch.Tensor:
        loss = weighted_binary_cross_entropy(logit, batch["y"], batch["w"])
        if strength <= 0:
            return loss
        if self.decorrelate_on == "all":
            chosen = torch.ones_like(batch["y"], dtype=torch.bool)
        else:
            chosen = batch["y"] > 0.5 if self.decorrelate_on == "pass" else batch["y"] < 0.5
        index = torch.nonzero(chosen).squeeze(-1)[:MAX_DCORR_ROWS]
        if len(index) < 3:
            return loss
        score = torch.sigmoid(logit[index])
        penalty = distance_correlation(score, batch["x"][index], batch["w"][index], squared=True)
        return loss + strength * penalty

    def _batch(
        self, data: dict[str, torch.Tensor], rows: np.ndarray, device: torch.device
    ) -> dict[str, torch.Tensor]:
        index = torch.from_numpy(rows)
        out = {k: v[index].to(device) for k, v in data.items()}
        out["adjacency"] = out["adjacency"].to(torch.float32)
        return out

    def _validation_loss(
        self,
        data: dict[str, torch.Tensor],
        val: np.ndarray,
        device: torch.device,
        strength: float,
    ) -> float:
        logits, parts = [], []
        with torch.no_grad():
            for start in range(0, len(val), 1024):
                batch = self._batch(data, val[start : start + 1024], device)
                logits.append(
                    self.network_.logit(batch["nodes"], batch["adjacency"], batch["mask"])
                )
                parts.append({k: batch[k] for k in ("y", "x", "w")})
            whole = {k: torch.cat([p[k] for p in parts]) for k in ("y", "x", "w")}
            return float(self._loss(torch.cat(logits), whole, strength))

    def _train(
        self,
        data: dict[str, torch.Tensor],
        train: np.ndarray,
        val: np.ndarray,
        device: torch.device,
    ) -> FitHistory:
        net = self.network_
        optimiser = torch.optim.Adam(
            net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        rng = np.random.default_rng(self.seed + 1)
        history = FitHistory()
        best = copy.deepcopy(net.state_dict())
        warmup = int(self.decorrelation_warmup) if self.decorrelation > 0 else 0
        for epoch in range(int(self.max_epochs)):
            # λ rises linearly over the warm-up: the network first learns what passes, then
            # unlearns the dependence on x (from the start, a constant score is the cheapest
            # way to a small dCorr)
            strength = float(self.decorrelation) * min(1.0, epoch / warmup if warmup else 1.0)
            net.train()
            shuffled = train[rng.permutation(len(train))]
            total = 0.0
            for start in range(0, len(shuffled), int(self.batch_size)):
                batch = self._batch(data, shuffled[start : start + int(self.batch_size)], device)
                optimiser.zero_grad()
                logit = net.logit(batch["nodes"], batch["adjacency"], batch["mask"])
                loss = self._loss(logit, batch, strength)
                loss.backward()
                optimiser.step()
                total += loss.detach().item() * len(batch["y"])
            net.eval()
            history.train_loss.append(total / len(train))
            history.validation_loss.append(self._validation_loss(data, val, device, strength))
            current = history.validation_loss[-1]
            if epoch < warmup:  # losses with a smaller λ do not compare with the final one
                continue
            if history.best_epoch < 0 or current < history.best_loss - 1e-6:
                history.best_epoch = epoch
                best = copy.deepcopy(net.state_dict())
            elif epoch - history.best_epoch >= int(self.patience):
                history.stopped_early = True
                break
        net.load_state_dict(best)
        net.eval()
        return history

    # -- prediction ----------------------------------------------------------------------------
    def _probabilities(self, graphs: GraphArrays, batch: int = 1024) -> np.ndarray:
        device = next(self.network_.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(graphs), batch):
                part = graphs.take(np.arange(start, min(start + batch, len(graphs))))
                nodes = torch.from_numpy(preprocess(part, self.scaling_)).to(device)
                adjacency = torch.from_numpy(part.adjacency).to(device, torch.float32)
                mask = torch.from_numpy(part.mask).to(device)
                out.append(torch.sigmoid(self.network_.logit(nodes, adjacency, mask)).cpu())
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    def predict(self, events: ak.Array | GraphArrays) -> np.ndarray:
        """The pass probability of every event (float64)."""
        self._fitted()
        with threads(self.threads):
            return self._probabilities(self.graphs(events))

    # -- export --------------------------------------------------------------------------------
    def template(self, name: str, description: str | None = None) -> dict[str, Any]:
        """The card template of the exported network (:func:`.card.card_template`)."""
        self._fitted()
        return card_template(
            name,
            max_particles=self.max_particles,
            ordering=self.ordering,
            scaling=self.scaling_,
            vocabulary=self.vocabulary_,
            decorrelation=self.decorrelation,
            description=description,
        )

    def export(
        self, folder: str | Path, name: str = "event_filter", *, description: str | None = None
    ) -> Path:
        """Write ``<name>.onnx`` and ``<name>.card.json`` (checked against onnxruntime) to
        ``folder``; returns the card's path."""
        self._fitted()
        template = self.template(name, description)
        return self._export_card(
            self.network_.to("cpu"), template, folder, name, self.reference_inputs_
        )


__all__ = ["FilterTrainer", "auc"]


def _check_shippable(max_particles: int) -> None:
    """Refuse, before any training, a graph size whose exported card no recast would load:
    a row holds the node features and one adjacency column per slot for every slot."""
    per_row = max_particles * (len(FEATURES) + max_particles)
    if max_particles <= MAX_OBJECTS and per_row <= MAX_ROW_ELEMENTS:
        return
    largest = int((-len(FEATURES) + math.sqrt(len(FEATURES) ** 2 + 4 * MAX_ROW_ELEMENTS)) / 2)
    raise UsageError(
        f"max_particles={max_particles}: the exported network's input rows would hold "
        f"{per_row} values, beyond the {MAX_ROW_ELEMENTS} a card may declare (its input would "
        f"take {4 * per_row / 2**20:.0f} MiB per event); choose max_particles ≤ {largest}"
    )
