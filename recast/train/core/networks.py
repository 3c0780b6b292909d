"""The set network of the per-object trainers (plain torch): one object given the other objects
of its event.

:class:`ObjectInContext` is one message-passing step followed by a readout, evaluated per
object *i*::

    m_i = Σ_j mask_ij · φ(a_i ⊕ b_ij)        (a sum over the neighbours j: permutation-invariant)
    ε_i = sigmoid(ρ(a_i ⊕ m_i))

where ``a_i`` are the object's own features (pT, |η|, ...) and ``b_ij`` those of neighbour j
*relative to i* (ΔR, Δη, Δφ, its pT), as :func:`recast.detector.context.with_context` provides
them. Conditioning each message on ``a_i`` makes it an edge-conditioned (EdgeConv-like) layer;
the sum handles any number of neighbours up to the card's ``max_count`` (the nearest ones), and
a lone object simply gets ``m_i = 0``. A product of per-neighbour factors, ε = ε_f · Π_j f(ΔR_ij),
is a sum in the logarithm, which is exactly what the sum pooling represents.

Own features listed in ``logs`` arrive raw (the card passes them unscaled) and the network's
first step replaces them by their standardised logarithm: the exported graph still takes pT in
GeV, and a dependence that is steep at low pT is not squeezed by a range of two decades.

The surrogate tagger's network (:class:`recast.train.surrogate.network.ScoreDensity`) is this
one with a logit per score bin.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

from ._torch import torch

log = logging.getLogger(__name__)
nn = torch.nn
#: where a ΔR sits in an input node: (column, mean, std of the card's standardisation)
Distance = tuple[int, float, float]
#: an own feature the network takes the logarithm of: (column, mean, std of its logarithm in
#: training); the card passes the feature raw
LogColumn = tuple[int, float, float]
#: the smallest value a logarithm sees: a zero or negative input gives a finite, far-off value
LOG_FLOOR = 1e-6


def mlp(widths: list[int], final_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(n_in, n_out))
        if k < len(widths) - 2 or final_activation:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class ObjectInContext(nn.Module):
    """ε(object | its neighbours): inputs ``own [N, A]``, ``neighbours [N, M, B]``,
    ``mask [N, M]`` (1 for a real neighbour, 0 for padding); output ``[N, 1]`` in (0, 1)."""

    def __init__(
        self,
        n_own: int,
        n_neighbour: int,
        hidden: int = 32,
        depth: int = 2,
        edge: bool = False,
        distance: Distance | None = None,
        reach: float = 2.0,
        n_basis: int = 16,
        logs: Sequence[LogColumn] = (),
    ) -> None:
        super().__init__()
        self.edge = edge
        self.distance = distance
        self.logs = [(int(c), float(m), float(s)) for c, m, s in logs]
        # the neighbours' ΔR is expanded on Gaussians centred on [0, reach] (as SchNet expands
        # distances): a linear standardisation squeezes the short range, where a proximity
        # effect lives, into a sliver of the input; and beyond reach the basis is 0, so a far
        # neighbour sends the same message as no neighbour at all
        self.centres: torch.Tensor
        self.register_buffer("centres", torch.linspace(0.0, reach, n_basis))
        self.spacing = reach / (n_basis - 1)
        width = n_neighbour + (n_basis - 1 if distance else 0) + (n_own if edge else 0)
        self.phi = mlp([width] + [hidden] * depth, final_activation=True)
        self.rho = mlp([n_own + hidden] + [hidden] * depth + [1], final_activation=False)

    def _own(self, own: torch.Tensor) -> torch.Tensor:
        """The own features with the ``logs`` columns replaced by their standardised logarithm:
        a steep dependence at small values (low pT) is not squeezed by a range of decades."""
        for column, mean, std in self.logs:
            raw = own[:, column : column + 1].clamp_min(LOG_FLOOR)
            scaled = (torch.log(raw) - mean) / std
            own = torch.cat([own[:, :column], scaled, own[:, column + 1 :]], dim=-1)
        return own

    def _expanded(self, x: torch.Tensor) -> torch.Tensor:
        """The neighbours with their ΔR column replaced by the Gaussian basis (0 far away)."""
        if self.distance is None:
            return x
        column, mean, std = self.distance
        dr = x[..., column : column + 1] * std + mean  # undo the card's preprocessing
        basis = torch.exp(-(((dr - self.centres) / self.spacing) ** 2))
        return torch.cat([x[..., :column], x[..., column + 1 :], basis], dim=-1)

    def logit(
        self, own: torch.Tensor, neighbours: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """The pre-sigmoid output, ``[N]`` (losses work on logits for numerical stability)."""
        own = self._own(own)
        neighbours = self._expanded(neighbours)
        # a message is measured from that of an absent neighbour (all features 0: the mean of
        # the other features, no ΔR basis), so lone objects and far neighbours add nothing
        absent = torch.zeros_like(neighbours[:, :1])
        if self.edge:
            repeated = own.unsqueeze(1).expand(-1, neighbours.shape[1], -1)
            neighbours = torch.cat([repeated, neighbours], dim=-1)
            absent = torch.cat([own.unsqueeze(1), absent], dim=-1)
        messages = self.phi(neighbours) - self.phi(absent)
        summary = (messages * mask.unsqueeze(-1)).sum(dim=1)
        return self.rho(torch.cat([own, summary], dim=-1)).squeeze(-1)

    def forward(
        self, own: torch.Tensor, neighbours: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        return torch.sigmoid(self.logit(own, neighbours, mask)).unsqueeze(-1)


__all__ = ["LOG_FLOOR", "Distance", "LogColumn", "ObjectInContext", "mlp"]
