"""One training run of a network: mini-batches, early stopping, best weights kept.

:func:`fit_network` is the loop (Adam with a cosine learning rate, the weights of the best
validation loss kept, early stopping); :func:`fit_member` runs it on per-object rows with the
loss of an efficiency (weighted binary cross-entropy on the tag) or of a score density
(weighted cross-entropy on the score bin). :class:`FitHistory` records any training run, the
event filter's too. Every source of randomness is seeded: the initialisation
(:func:`build_member`: torch's generator, forked so the caller's state is untouched) and the
batch order (a numpy generator).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ._torch import seeded, torch
from .inputs import ObjectRows
from .losses import Negative, weighted_binary_cross_entropy, weighted_cross_entropy

log = logging.getLogger(__name__)


@dataclass
class FitHistory:
    """Per epoch the training and validation losses; where the kept weights come from."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False

    @property
    def best_loss(self) -> float:
        return self.validation_loss[self.best_epoch]

    def __str__(self) -> str:
        return f"{len(self.train_loss)} epochs, validation loss {self.best_loss:.5f}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "epochs": len(self.train_loss),
            "best_epoch": self.best_epoch,
            "best_validation_loss": self.best_loss,
            "stopped_early": self.stopped_early,
        }


def logit_of(net: torch.nn.Module) -> Callable[..., torch.Tensor]:
    """The network's ``logit`` method (every network here has one beside ``forward``)."""
    return cast(Callable[..., torch.Tensor], net.logit)


def logits_of(
    net: torch.nn.Module, inputs: tuple[torch.Tensor, ...], batch: int = 65536
) -> torch.Tensor:
    """The network's logits over many rows, in batches (the neighbour tensors are large)."""
    parts = [
        logit_of(net)(*(x[start : start + batch] for x in inputs))
        for start in range(0, len(inputs[0]), batch)
    ]
    return torch.cat(parts) if parts else torch.zeros(0)


#: a training loss: (logits, targets, weights) → the mean loss of a batch
BatchLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
#: the validation loss of the whole validation set: (network, [*inputs, targets, weights])
ValidationLoss = Callable[[torch.nn.Module, list[torch.Tensor]], float]


@dataclass(frozen=True)
class FitSettings:
    """How :func:`fit_network` trains one network: the batch order's ``seed``, at most
    ``max_epochs`` epochs, stopping after ``patience`` without a better validation loss, Adam
    on batches of ``batch_size`` rows, and the ``device`` (None: the CPU)."""

    seed: int
    max_epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    device: torch.device | str | None


def fit_network(
    net: torch.nn.Module,
    train: list[torch.Tensor],
    validation: list[torch.Tensor],
    batch_loss: BatchLoss,
    validation_loss: ValidationLoss,
    settings: FitSettings,
) -> FitHistory:
    """Train ``net`` (which has ``logit(*inputs)``) in place on tensors ``[*inputs, targets,
    weights]``; keep the weights of the best validation loss. Adam with a cosine learning rate
    from ``learning_rate`` to 1/100 of it over ``max_epochs``; training stops after
    ``patience`` epochs without a better validation loss. Runs on ``settings.device``; the
    network comes back on the CPU, in eval mode, ready for export."""
    seed, max_epochs, patience = settings.seed, settings.max_epochs, settings.patience
    batch_size, learning_rate = settings.batch_size, settings.learning_rate
    weight_decay = settings.weight_decay
    device = torch.device(settings.device or "cpu")
    net.to(device)
    train = [x.to(device) for x in train]
    validation = [x.to(device) for x in validation]
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    # cosine decay over max_epochs: the bulk is learnt early, the rare corners (close pairs)
    # late, at a small step; a plateau schedule triggered by validation noise stops too soon
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=max_epochs, eta_min=learning_rate / 100
    )
    rng = np.random.default_rng(seed)
    history = FitHistory()
    best_state = copy.deepcopy(net.state_dict())
    n = len(train[0])
    for epoch in range(max_epochs):
        net.train()
        # one gather per epoch, then contiguous slices: cheaper than a gather per batch
        order = torch.from_numpy(rng.permutation(n)).to(device)
        shuffled = [x[order] for x in train]
        total = 0.0
        for start in range(0, n, batch_size):
            *x, y, w = (t[start : start + batch_size] for t in shuffled)
            optimiser.zero_grad()
            loss = batch_loss(logit_of(net)(*x), y, w)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(y)
        net.eval()
        with torch.no_grad():
            val = validation_loss(net, validation)
        history.train_loss.append(total / max(n, 1))
        history.validation_loss.append(val)
        schedule.step()
        if history.best_epoch < 0 or val < history.best_loss - 1e-6:
            history.best_epoch = epoch
            best_state = copy.deepcopy(net.state_dict())
        elif epoch - history.best_epoch >= patience:
            history.stopped_early = True
            break
    net.load_state_dict(best_state)
    net.to("cpu")
    net.eval()
    log.debug(
        "member seed %d: %d epochs, best %d (validation loss %.5f)",
        seed,
        len(history.train_loss),
        history.best_epoch,
        history.best_loss,
    )
    return history


#: how the trainers' ``negative_weights`` names map onto :func:`.losses.weighted_cross_entropy`
CATEGORICAL_NEGATIVE: dict[str, Negative] = {"signed": "naive", "complementary": "complementary"}


def row_tensors(rows: ObjectRows, names: list[str], target: type) -> list[torch.Tensor]:
    """``[*inputs, targets, weights]`` of per-object rows; the targets (``rows.tagged``) as
    ``target`` (float32 flags or int64 bin indices)."""
    arrays = [np.ascontiguousarray(rows.inputs[n]) for n in names]
    arrays += [rows.tagged.astype(target), rows.weight.astype(np.float32)]
    return [torch.from_numpy(a) for a in arrays]


def _summed_cross_entropy(
    net: torch.nn.Module, tensors: list[torch.Tensor], negative: Negative, batch: int = 65536
) -> float:
    """The weighted cross-entropy over many rows, in batches (no gradient)."""
    *x, y, w = tensors
    total = torch.zeros((), dtype=torch.float64, device=y.device)
    for start in range(0, len(y), batch):
        part = slice(start, start + batch)
        logits = logit_of(net)(*(t[part] for t in x))
        total += weighted_cross_entropy(
            logits, y[part], w[part], negative=negative, reduction="sum"
        ).double()
    return float(total / w.abs().sum().clamp_min(1e-12))


def _binary_losses(negative_weights: str) -> tuple[BatchLoss, ValidationLoss]:
    """Weighted BCE on the tagged flags (``"signed"`` keeps Σ w·BCE)."""
    negative: Negative = "naive" if negative_weights == "signed" else "complementary"

    def batch_loss(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return weighted_binary_cross_entropy(logits, y, w, negative=negative)

    def validation_loss(network: torch.nn.Module, rows: list[torch.Tensor]) -> float:
        *x, y, w = rows
        return float(batch_loss(logits_of(network, tuple(x)), y, w))

    return batch_loss, validation_loss


def _categorical_losses(negative_weights: str) -> tuple[BatchLoss, ValidationLoss]:
    """Weighted cross-entropy on the score-bin index."""
    negative = CATEGORICAL_NEGATIVE[negative_weights]

    def batch_loss(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return weighted_cross_entropy(logits, y, w, negative=negative)

    return batch_loss, lambda network, rows: _summed_cross_entropy(network, rows, negative)


def fit_member(
    net: torch.nn.Module,
    train: ObjectRows,
    validation: ObjectRows,
    names: list[str],
    settings: FitSettings,
    *,
    categorical: bool = False,
    negative_weights: str = "signed",
) -> FitHistory:
    """:func:`fit_network` on per-object rows. An efficiency network (``logit`` ``[N]``) learns
    the rows' tagged flags with weighted BCE; a ``categorical`` one (``logit`` ``[N, bins]``)
    the score-bin index in ``rows.tagged`` with weighted cross-entropy. The loss is
    Σ w·ℓ / Σ|w| per batch, so a batch of mostly negative weights cannot blow it up."""
    losses = _categorical_losses if categorical else _binary_losses
    batch_loss, validation_loss = losses(negative_weights)
    target = np.int64 if categorical else np.float32
    return fit_network(
        net,
        row_tensors(train, names, target),
        row_tensors(validation, names, target),
        batch_loss,
        validation_loss,
        settings,
    )


def build_member(seed: int, factory: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    """A freshly initialised network from a seed (independent of torch's global state)."""
    with seeded(seed):
        return factory()


__all__ = [
    "CATEGORICAL_NEGATIVE",
    "FitHistory",
    "FitSettings",
    "build_member",
    "fit_member",
    "fit_network",
    "logit_of",
    "logits_of",
    "row_tensors",
]
