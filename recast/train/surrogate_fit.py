"""One training run of a score-density network: cross-entropy on the observed score bin.

The loop is :func:`.fitting.fit_network` (mini-batches, Adam with a cosine learning rate, the
weights of the best validation loss kept, early stopping), with a categorical loss. The
initialisation is seeded by the caller (:func:`.fitting.build_member`), the batch order by
``seed``.
"""

from __future__ import annotations

import logging

import numpy as np

from ._torch import torch
from .fitting import FitHistory, fit_network
from .inputs import ObjectRows
from .losses import Negative, weighted_cross_entropy

log = logging.getLogger(__name__)

#: how the trainers' ``negative_weights`` names map onto :func:`.losses.weighted_cross_entropy`
NEGATIVE: dict[str, Negative] = {"signed": "naive", "complementary": "complementary"}


def _tensors(rows: ObjectRows, names: list[str]) -> list[torch.Tensor]:
    arrays = [np.ascontiguousarray(rows.inputs[n]) for n in names]
    arrays += [rows.tagged.astype(np.int64), rows.weight.astype(np.float32)]
    return [torch.from_numpy(a) for a in arrays]


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

    def batch_loss(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return weighted_cross_entropy(logits, y, w, negative=negative)

    return fit_network(
        net,
        _tensors(train, names),
        _tensors(validation, names),
        batch_loss,
        lambda network, rows: _loss(network, rows, negative),
        seed=seed,
        max_epochs=max_epochs,
        patience=patience,
        batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        device=device,
    )


__all__ = ["NEGATIVE", "fit_density"]
