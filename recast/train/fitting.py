"""One training run of a per-object network: mini-batches, early stopping, best weights kept.

Every source of randomness is seeded: the initialisation (torch's generator, forked so the
caller's state is untouched) and the batch order (a numpy generator).
"""

from __future__ import annotations

import copy
import logging
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
    """Train ``net`` (which has ``logit(*inputs)``) in place with weighted BCE; keep the weights
    of the best validation loss. The learning rate follows a cosine from ``learning_rate`` to
    1/100 of it over ``max_epochs``; training stops after ``patience`` epochs without a better
    validation loss. Training runs on ``device`` (the CPU by default); the network comes back
    on the CPU, ready for export."""
    device = device or torch.device("cpu")
    net.to(device)
    x_train, x_val = (
        tuple(x.to(device) for x in tensors(rows, names)) for rows in (train, validation)
    )
    y_train, y_val = (
        torch.from_numpy(r.tagged.astype(np.float32)).to(device) for r in (train, validation)
    )
    w_train, w_val = (
        torch.from_numpy(r.weight.astype(np.float32)).to(device) for r in (train, validation)
    )
    # the loss is Σ w·ℓ / Σ|w| per batch: a batch of mostly negative weights cannot blow it up
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    # cosine decay over max_epochs: the bulk is learnt early, the rare corners (close pairs)
    # late, at a small step; a plateau schedule triggered by validation noise stops too soon
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=max_epochs, eta_min=learning_rate / 100
    )
    rng = np.random.default_rng(seed)
    history = FitHistory()
    best_state = copy.deepcopy(net.state_dict())
    n = len(train)
    for epoch in range(max_epochs):
        net.train()
        # one gather per epoch, then contiguous slices: cheaper than a gather per batch
        order = torch.from_numpy(rng.permutation(n)).to(device)
        shuffled = [x[order] for x in (*x_train, y_train, w_train)]
        total = 0.0
        for start in range(0, n, batch_size):
            *x, y, w = (t[start : start + batch_size] for t in shuffled)
            optimiser.zero_grad()
            loss = weighted_binary_cross_entropy(
                net.logit(*x),
                y,
                w,
                negative=negative_weights,  # type: ignore[arg-type]
            )
            loss.backward()
            optimiser.step()
            total += loss.item() * len(y)
        net.eval()
        with torch.no_grad():
            val = float(
                weighted_binary_cross_entropy(
                    logits_of(net, x_val),
                    y_val,
                    w_val,
                    negative=negative_weights,  # type: ignore[arg-type]
                )
            )
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


def build_member(factory: type, seed: int, *args: Any) -> torch.nn.Module:
    """A freshly initialised network from a seed (independent of torch's global state)."""
    with seeded(seed):
        return factory(*args)


__all__ = ["FitHistory", "build_member", "fit_member", "logits_of", "tensors"]
