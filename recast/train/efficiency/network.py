"""The exported network of a learned efficiency map: K trained set networks
(:class:`recast.train.core.networks.ObjectInContext`) as one, giving the mean efficiency and the
members' spread as two output columns."""

from __future__ import annotations

import logging

from ..core._torch import torch

log = logging.getLogger(__name__)
nn = torch.nn


class EnsembleAverage(nn.Module):
    """K members → ``[N, 2]``: the mean efficiency and the members' standard deviation
    (ddof = 1; 0 for a single member)."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.denominator = float(max(len(members) - 1, 1))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        p = torch.cat([member(*inputs) for member in self.members], dim=1)
        mean = p.mean(dim=1, keepdim=True)
        spread = (((p - mean) ** 2).sum(dim=1, keepdim=True) / self.denominator).sqrt()
        return torch.cat([mean, spread], dim=1)


__all__ = ["EnsembleAverage"]
