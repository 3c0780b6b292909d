"""Losses as building blocks (plain torch): negative weights, distance correlation, adversaries.

**Negatively weighted examples** (NLO generators, signal–background interference). A plain
weighted cross-entropy with w < 0 *rewards* a small probability of the example's class without
bound (−w·log p → −∞ as p → 0), so training diverges as soon as the network can isolate such
examples. The complementary-label formulation rewrites each example with w < 0 as a positively
weighted one whose label is the *set* of every other class: "not class y", weight |w| (the
same as N_classes − 1 examples of weight |w| / (N_classes − 1), one per other class). Learning
from such candidate sets is partial-label learning; :func:`partial_label_cross_entropy` is the
classifier-consistent loss of Feng et al., arXiv:2007.08929, −log Σ_{j ∈ S} p_j, which is the
ordinary cross-entropy when S = {y} and is bounded below by 0 for any S. With two classes
it is the binary cross-entropy with the label flipped.

Caveat: the rewrite changes what the loss converges to. For *classification* it removes the
divergence; for *density-ratio estimation* (an efficiency ε = Σw_tagged / Σw), signed weights
are the consistent choice and stay bounded as long as the net weight is positive wherever the
network can resolve, which is why the efficiency trainer keeps ``negative_weights="signed"`` by
default.

**Distance correlation** (Székely et al.; DisCo, arXiv:2001.05310): dCorr(x, y) is 0 if and only
if x and y are independent. :func:`distance_correlation` is the (weighted) V-statistic over a
batch, differentiable, so ``L = BCE + λ · dCorr²(score, m)`` on background removes the
score's dependence on m.

**Adversarial decorrelation** (Louppe, Kagan, Cranmer, arXiv:1611.01046): an adversary predicts
m from the score; :class:`GradientReversal` passes its gradient back to the classifier with the
sign flipped (times λ), so one optimiser step trains the adversary to predict m and the
classifier to prevent it.

>>> loss = weighted_cross_entropy(logits, labels, weights)             # doctest: +SKIP
>>> loss = loss + 10.0 * distance_correlation(score[bkg], mass[bkg], squared=True)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from ...errors import UsageError
from ._torch import torch

log = logging.getLogger(__name__)

Tensor = torch.Tensor
Negative = Literal["complementary", "naive"]
Reduction = Literal["mean", "sum", "none"]
NEGATIVE = ("complementary", "naive")


def _check(negative: str, reduction: str) -> None:
    if negative not in NEGATIVE:
        raise UsageError(f"negative={negative!r}; choose one of {list(NEGATIVE)}")
    if reduction not in ("mean", "sum", "none"):
        raise UsageError(f"reduction={reduction!r}; choose 'mean', 'sum' or 'none'")


def _reduce(losses: Tensor, weights: Tensor, norm: Tensor, reduction: str) -> Tensor:
    """Σ w·ℓ, per example, or divided by Σ|w| (not Σw: that may be ~0 with negative weights)."""
    weighted = weights * losses
    if reduction == "none":
        return weighted
    total = weighted.sum()
    return total if reduction == "sum" else total / norm.abs().sum().clamp_min(1e-12)


def complementary_labels(labels: Tensor, weights: Tensor, n_classes: int) -> tuple[Tensor, Tensor]:
    """Candidate sets ``[N, C]`` (bool) and weights ≥ 0: an example with w ≥ 0 keeps its class
    ({y}, w); one with w < 0 becomes every class but y, with weight |w|."""
    one_hot = torch.nn.functional.one_hot(labels.long(), n_classes).bool()
    negative = (weights < 0).unsqueeze(-1)
    return torch.where(negative, ~one_hot, one_hot), weights.abs()


def partial_label_cross_entropy(
    logits: Tensor,
    candidates: Tensor,
    weights: Tensor | None = None,
    *,
    reduction: Reduction = "mean",
) -> Tensor:
    """−log Σ_{j ∈ S} softmax(z)_j per example (S: the ``candidates`` row), weighted.

    Computed as logsumexp over all classes minus logsumexp over the candidates, which is stable
    for any logits. ``reduction="mean"`` divides by Σ|w|.
    """
    _check("complementary", reduction)
    if weights is None:
        weights = torch.ones(len(logits), dtype=logits.dtype, device=logits.device)
    if bool((~candidates.bool()).all(dim=-1).any()):
        raise UsageError("partial_label_cross_entropy: an example has an empty candidate set")
    masked = logits.masked_fill(~candidates.bool(), float("-inf"))
    losses = torch.logsumexp(logits, dim=-1) - torch.logsumexp(masked, dim=-1)
    return _reduce(losses, weights, weights, reduction)


def weighted_cross_entropy(
    logits: Tensor,
    labels: Tensor,
    weights: Tensor,
    *,
    negative: Negative = "complementary",
    reduction: Reduction = "mean",
) -> Tensor:
    """Multi-class cross-entropy with per-example weights that may be negative.

    ``negative="complementary"`` rewrites w < 0 as complementary labels
    (:func:`complementary_labels` + :func:`partial_label_cross_entropy`); ``"naive"`` is the
    plain Σ w·CE, kept to show (and test) why it fails.
    """
    _check(negative, reduction)
    if negative == "naive":
        losses = torch.nn.functional.cross_entropy(logits, labels.long(), reduction="none")
        return _reduce(losses, weights, weights, reduction)
    candidates, positive = complementary_labels(labels, weights, logits.shape[-1])
    losses = partial_label_cross_entropy(logits, candidates, reduction="none")
    return _reduce(losses, positive, weights, reduction)


def weighted_binary_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    weights: Tensor,
    *,
    negative: Negative | Literal["signed"] = "signed",
    reduction: Reduction = "mean",
) -> Tensor:
    """Binary cross-entropy on logits with per-example weights that may be negative.

    ``"signed"`` (also ``"naive"``) keeps Σ w·BCE: the consistent estimator of a weighted
    density ratio. ``"complementary"`` flips the target of w < 0 (the two-class case of the
    complementary label) and uses |w|.
    """
    if negative == "signed":
        negative = "naive"
    _check(negative, reduction)
    targets = targets.to(logits.dtype)
    if negative == "complementary":
        flip = weights < 0
        targets = torch.where(flip, 1.0 - targets, targets)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, targets, reduction="none"
        )
        return _reduce(losses, weights.abs(), weights, reduction)
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return _reduce(losses, weights, weights, reduction)


# -- distance correlation ---------------------------------------------------------------------
def _centred_distances(x: Tensor, w: Tensor) -> Tensor:
    """The weighted double-centred distance matrix of a batch ``[N]`` or ``[N, d]``."""
    x = x.reshape(len(x), -1)
    if x.shape[1] == 1:
        d = (x - x.T).abs()
    else:  # sqrt with a floor: the gradient of |0| must not be NaN on the diagonal
        d = ((x.unsqueeze(1) - x.unsqueeze(0)) ** 2).sum(-1).clamp_min(1e-12).sqrt()
    row = (d * w.unsqueeze(0)).mean(dim=1)
    grand = (row * w).mean()
    return d - row.unsqueeze(0) - row.unsqueeze(1) + grand


def distance_correlation(
    x: Tensor, y: Tensor, weights: Tensor | None = None, *, squared: bool = False
) -> Tensor:
    """dCorr(x, y) of a batch (V-statistic), optionally weighted; differentiable.

    Weights act as multiplicities (integer weights equal repeating examples) and must be ≥ 0.
    O(N²) memory: use batches of a few thousand. ``squared=True`` returns dCorr², whose
    gradient is finite at 0 (use it as a penalty).
    """
    if len(x) != len(y):
        raise UsageError(f"distance_correlation: {len(x)} values of x but {len(y)} of y")
    if weights is None:
        w = torch.ones(len(x), dtype=x.dtype, device=x.device)
    else:
        if bool((weights < 0).any()):
            raise UsageError("distance_correlation: weights must be ≥ 0 (multiplicities)")
        w = weights.to(x.dtype) / weights.to(x.dtype).mean()
    a, b = _centred_distances(x, w), _centred_distances(y.to(x.dtype), w)
    ww = w.unsqueeze(0) * w.unsqueeze(1)
    ab, aa, bb = (ww * a * b).mean(), (ww * a * a).mean(), (ww * b * b).mean()
    dcorr2 = ab / (aa * bb).clamp_min(1e-24).sqrt()
    return dcorr2 if squared else dcorr2.clamp_min(0.0).sqrt()


# -- adversarial decorrelation ----------------------------------------------------------------
class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: Tensor, scale: float = 1.0) -> Tensor:
    """Identity forward; the gradient times −``scale`` backward."""
    return _Reverse.apply(x, scale)


class GradientReversal(torch.nn.Module):
    """A layer that reverses the gradient (Ganin & Lempitsky): put it between a classifier's
    score and an adversary so that minimising the adversary's loss trains the classifier to
    defeat it, with weight ``scale`` (λ)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: Tensor) -> Tensor:
        return reverse_gradient(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


__all__ = [
    "GradientReversal",
    "complementary_labels",
    "distance_correlation",
    "partial_label_cross_entropy",
    "reverse_gradient",
    "weighted_binary_cross_entropy",
    "weighted_cross_entropy",
]
