"""Networks of a surrogate tagger: a categorical density of the score, per object in context.

:class:`ScoreDensity` is :class:`recast.train.core.networks.ObjectInContext` (one
message-passing step over the event's other objects, then a readout) with one logit per score
bin instead of one: a softmax over the bins of ``score_edges`` is the distribution of the
detector-level score given the truth inputs (arXiv:2402.15558). Trained with cross-entropy on
the observed score bin, it converges to the bins' conditional probabilities.

:class:`ScoreEnsemble` is the exported network: K members → ``[N, bins + 2]``:

- the *mixture* of the members' distributions (their mean, itself a normalised distribution:
  what :meth:`~recast.detector.learned.SurrogateTagger.sample_scores` samples from);
- ``score_spread``: the members' standard deviation of the mean score (ddof = 1);
- ``disagreement``: the members' mean total-variation distance ½ Σ_k |p_k − p̄_k| to the
  mixture, the share of probability the members place differently (0 when they agree).

Members trained on bootstrap resamples from their own seeds agree where the training data pin
the distribution down and drift apart outside it: the two spread columns flag inputs the
surrogate has not seen.
"""

from __future__ import annotations

import logging
from typing import Any

from ..core._torch import torch
from ..core.networks import ObjectInContext, mlp

log = logging.getLogger(__name__)
nn = torch.nn


#: where a categorical own feature sits: (column, mean, std of the card's standardisation,
#: the category values seen in training), e.g. the truth flavour 0, 4, 5
Categories = tuple[int, float, float, tuple[float, ...]]


class ScoreDensity(ObjectInContext):
    """Logits of the score bins of one object given its neighbours: inputs ``own [N, A]``,
    ``neighbours [N, M, B]``, ``mask [N, M]``; :meth:`logit` gives ``[N, bins]`` and
    ``forward`` their softmax.

    ``categories`` names an own feature (the flavour) that the network also sees one-hot:
    standardised, the labels 4 and 5 would sit close together; a label never seen in
    training gets no one-hot entry at all.
    """

    def __init__(
        self,
        n_own: int,
        n_neighbour: int,
        n_bins: int,
        *,
        categories: Categories | None = None,
        hidden: int = 32,
        depth: int = 2,
        **context: Any,
    ) -> None:
        """``context``: the other settings of :class:`ObjectInContext` (``edge``,
        ``distance``, ``reach``, ``logs``)."""
        width = n_own + (len(categories[3]) if categories else 0)
        # the one-hot columns go after the own features: the ``logs`` columns keep their index
        super().__init__(width, n_neighbour, hidden, depth, **context)
        self.categories = categories
        self.n_bins = n_bins
        # a second readout with one logit per bin (the first, drawn by the base class, is
        # replaced: drawing it keeps the seeded initialisation of every later layer as it was)
        self.rho = mlp([width + hidden] + [hidden] * depth + [n_bins], final_activation=False)

    def _one_hot(self, own: torch.Tensor) -> torch.Tensor:
        if self.categories is None:
            return own
        column, mean, std, values = self.categories
        label = own[:, column : column + 1] * std + mean  # undo the card's preprocessing
        hits = [((label - v).abs() < 0.5).to(own.dtype) for v in values]
        return torch.cat([own, *hits], dim=-1)

    def logit(
        self, own: torch.Tensor, neighbours: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        return super().logit(self._one_hot(own), neighbours, mask)

    def forward(
        self, own: torch.Tensor, neighbours: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        return torch.softmax(self.logit(own, neighbours, mask), dim=-1)


class ScoreEnsemble(nn.Module):
    """K members → ``[N, bins + 2]``: the mixture's bin probabilities, the members' spread of
    the mean score and their mean total-variation distance to the mixture."""

    def __init__(self, members: list[nn.Module], centres: torch.Tensor) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.centres: torch.Tensor
        self.register_buffer("centres", centres.float())
        self.denominator = float(max(len(members) - 1, 1))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        p = torch.stack([member(*inputs) for member in self.members], dim=1)  # [N, K, bins]
        mixture = p.mean(dim=1)
        means = (p * self.centres).sum(dim=-1)  # [N, K]
        centred = means - means.mean(dim=1, keepdim=True)
        spread = ((centred**2).sum(dim=1, keepdim=True) / self.denominator).sqrt()
        disagreement = 0.5 * (p - mixture.unsqueeze(1)).abs().sum(dim=-1).mean(dim=1)
        return torch.cat([mixture, spread, disagreement.unsqueeze(-1)], dim=1)


__all__ = ["ScoreDensity", "ScoreEnsemble"]
