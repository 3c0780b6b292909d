"""One training run of a score-density network: cross-entropy on the observed score bin.

Mini-batches, Adam with a cosine learning rate, the weights of the best validation loss kept,
early stopping after ``patience`` epochs without one; the same shape as
:func:`.fitting.fit_member`, with a categorical loss and a device (the CPU by default, CUDA
when asked). Every source of randomness is seeded: the initialisation by the caller
(:func:`.fitting.build_member`), the batch order here by a numpy generator.
"""

from __future__ import annotations

import copy
import logging

import numpy as np

from ._torch import torch
from .fitting import FitHistory
from .inputs import ObjectRows
from .losses import Negative, weighted_cross_entropy

log = logging.getLogger(__name__)

#: how the trainers' ``negative_weights`` names map onto :func:`.losses.weighted_cross_entropy`
NEGATIVE: dict[str, Negative] = {"signed": "naive", "complementary": "complementary"}


def _tensors(rows: ObjectRows, names: list[str], device: str) -> list[torch.Tensor]:
    arrays = [np.ascontiguousarray(rows.inputs[n]) for n in names]
    arrays += [rows.tagged.astype(np.int64), rows.weight.astype(np.float32)]
    return [torch.from_numpy(a).to(device) for a in arrays]


def _loss(
    net: torch.nn.Module, tensors: list[torch.Tensor], negative: Negative, batch: int = 65536
) -> float:
    """The weighted cross-entropy over many rows, in batches (no gradient)."""
    *x, y, w = tensors
    total = torch.zeros((), dtype=torch.float64, device=y.device)
    for start in range(0, len(y), batch):
        part = slice(start, start + batch)
        logits = net.logit(*(t[part] for t in x))
        total += weighted_cross_entropy(
            logits, y[part], w[part], negative=negative, reduction="sum"
        ).double()
    return float(total / w.abs().sum().clamp_min(1e-12))


def fit_density(
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
    negative_weights: str = "signed",
    device: str = "cpu",
) -> FitHistory:
    """Train ``net`` (which has ``logit(*inputs) -> [N, bins]``) in place; ``rows.tagged``
    holds each object's score-bin index. The network is left on the CPU, in eval mode."""
    negative = NEGATIVE[negative_weights]
    net.to(device)
    train_tensors = _tensors(train, names, device)
    val_tensors = _tensors(validation, names, device)
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=max_epochs, eta_min=learning_rate / 100
    )
    rng = np.random.default_rng(seed)
    history = FitHistory()
    best_state = copy.deepcopy(net.state_dict())
    n = len(train)
    for epoch in range(max_epochs):
        net.train()
        order = torch.from_numpy(rng.permutation(n)).to(device)
        shuffled = [t[order] for t in train_tensors]
        total = 0.0
        for start in range(0, n, batch_size):
            *x, y, w = (t[start : start + batch_size] for t in shuffled)
            optimiser.zero_grad()
            loss = weighted_cross_entropy(net.logit(*x), y, w, negative=negative)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(y)
        net.eval()
        with torch.no_grad():
            val = _loss(net, val_tensors, negative)
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


__all__ = ["NEGATIVE", "fit_density"]
