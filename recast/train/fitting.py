"""One training run of a per-object network: mini-batches, early stopping, best weights kept.

Every source of randomness is seeded: the initialisation (torch's generator, forked so the
caller's state is untouched) and the batch order (a numpy generator).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._torch import seeded, torch
from .inputs import ObjectRows
from .losses import Negative, weighted_binary_cross_entropy

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

    def as_dict(self) -> dict[str, object]:
        return {
            "epochs": len(self.train_loss),
            "best_epoch": self.best_epoch,
            "best_validation_loss": self.best_loss,
            "stopped_early": self.stopped_early,
        }


def tensors(rows: ObjectRows, names: list[str]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(rows.inputs[n])) for n in names)


def logits_of(
    net: torch.nn.Module, inputs: tuple[torch.Tensor, ...], batch: int = 65536
) -> torch.Tensor:
    """The network's logits over many rows, in batches (the neighbour tensors are large)."""
    parts = [
        net.logit(*(x[start : start + batch] for x in inputs))
        for start in range(0, len(inputs[0]), batch)
    ]
    return torch.cat(parts) if parts else torch.zeros(0)


#: a training loss: (logits, targets, weights) → the mean loss of a batch
BatchLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
#: the validation loss of the whole validation set: (network, [*inputs, targets, weights])
ValidationLoss = Callable[[torch.nn.Module, list[torch.Tensor]], float]


def fit_network(
    net: torch.nn.Module,
    train: list[torch.Tensor],
    validation: list[torch.Tensor],
    batch_loss: BatchLoss,
    validation_loss: ValidationLoss,
    *,
    seed: int,
    max_epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float = 0.0,
    device: torch.device | str | None = None,
) -> FitHistory:
    """Train ``net`` (which has ``logit(*inputs)``) in place on tensors ``[*inputs, targets,
    weights]``; keep the weights of the best validation loss. Adam with a cosine learning rate
    from ``learning_rate`` to 1/100 of it over ``max_epochs``; training stops after
    ``patience`` epochs without a better validation loss. Runs on ``device`` (the CPU by
    default); the network comes back on the CPU, in eval mode, ready for export."""
    device = torch.device(device or "cpu")
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
            loss = batch_loss(net.logit(*x), y, w)
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


def fit_member(
    net: torch.nn.Module,
    train: ObjectRows,
    validation: ObjectRows,
    names: list[str],
    *,
    seed: int,
    max_epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float = 0.0,
    negative_weights: Negative | str = "signed",
    device: torch.device | None = None,
) -> FitHistory:
    """:func:`fit_network` with weighted BCE on the objects' tagged flags; the loss is
    Σ w·ℓ / Σ|w| per batch, so a batch of mostly negative weights cannot blow it up."""

    def rows_tensors(rows: ObjectRows) -> list[torch.Tensor]:
        return [
            *tensors(rows, names),
            torch.from_numpy(rows.tagged.astype(np.float32)),
            torch.from_numpy(rows.weight.astype(np.float32)),
        ]

    def batch_loss(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return weighted_binary_cross_entropy(logits, y, w, negative=negative_weights)  # type: ignore[arg-type]

    def validation_loss(network: torch.nn.Module, rows: list[torch.Tensor]) -> float:
        *x, y, w = rows
        return float(batch_loss(logits_of(network, tuple(x)), y, w))

    return fit_network(
        net,
        rows_tensors(train),
        rows_tensors(validation),
        batch_loss,
        validation_loss,
        seed=seed,
        max_epochs=max_epochs,
        patience=patience,
        batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        device=device,
    )


def build_member(factory: type, seed: int, *args: Any, **kwargs: Any) -> torch.nn.Module:
    """A freshly initialised network from a seed (independent of torch's global state)."""
    with seeded(seed):
        return factory(*args, **kwargs)


__all__ = ["FitHistory", "build_member", "fit_member", "fit_network", "logits_of", "tensors"]
