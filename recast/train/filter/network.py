"""A graph convolutional network over the padded truth record (plain torch, ONNX-exportable).

Kipf & Welling's graph convolution, H⁽ˡ⁺¹⁾ = σ(Â H⁽ˡ⁾ W⁽ˡ⁾), with Â = D^-1/2 (A + I) D^-1/2
the symmetric-normalised adjacency with self loops (padding slots have neither links nor a self
loop, so they never mix into real nodes). The PDG id is embedded inside the network: it is
compared with a fixed vocabulary (one-hot, plus a column for "any other id") and multiplied by a
learned matrix, so the exported graph takes the PDG id itself as a node feature and the card
needs no lookup table. Masked mean and max pooling over the particles feed a small head that
gives the pass logit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..core._torch import torch

log = logging.getLogger(__name__)

Tensor = torch.Tensor


def normalised_adjacency(adjacency: Tensor, mask: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 on the real particles (``[N, P, P]``; padding rows/columns 0)."""
    pair = mask.unsqueeze(-1) * mask.unsqueeze(-2)
    eye = torch.eye(adjacency.shape[-1], dtype=adjacency.dtype, device=adjacency.device)
    a = (adjacency + eye) * pair
    inverse_sqrt = a.sum(-1).clamp_min(1.0).rsqrt() * mask
    return inverse_sqrt.unsqueeze(-1) * a * inverse_sqrt.unsqueeze(-2)


class GraphFilter(torch.nn.Module):
    """Pass probability of an event from its truth graph.

    ``forward(nodes [N, P, F], adjacency [N, P, P], mask [N, P])`` → ``[N, 1]`` probability;
    ``logit`` gives the logit ``[N]`` (training). Column 0 of ``nodes`` is the PDG id.
    """

    def __init__(
        self,
        vocabulary: Sequence[int],
        n_features: int,
        *,
        embedding: int = 8,
        hidden: int = 32,
        depth: int = 3,
    ) -> None:
        super().__init__()
        self.vocabulary: Tensor
        self.register_buffer("vocabulary", torch.tensor(list(vocabulary), dtype=torch.float32))
        self.embed = torch.nn.Linear(len(vocabulary) + 1, embedding, bias=False)
        self.encode = torch.nn.Linear(embedding + n_features - 1, hidden)
        self.convolutions = torch.nn.ModuleList(
            torch.nn.Linear(hidden, hidden, bias=False) for _ in range(depth)
        )
        self.head = torch.nn.Sequential(
            torch.nn.Linear(2 * hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def logit(self, nodes: Tensor, adjacency: Tensor, mask: Tensor) -> Tensor:
        pid = nodes[..., :1]
        one_hot = (pid == self.vocabulary).to(nodes.dtype)
        other = 1.0 - one_hot.sum(-1, keepdim=True)
        embedded = self.embed(torch.cat([one_hot, other], dim=-1))
        m = mask.unsqueeze(-1)
        h = torch.relu(self.encode(torch.cat([embedded, nodes[..., 1:]], dim=-1))) * m
        a_hat = normalised_adjacency(adjacency.to(nodes.dtype), mask)
        for weight in self.convolutions:
            h = torch.relu(torch.matmul(a_hat, weight(h)))
        count = m.sum(1)
        mean = h.sum(1) / count.clamp_min(1.0)
        largest = (h - (1.0 - m) * 1e4).amax(1) * (count > 0.5).to(h.dtype)
        return self.head(torch.cat([mean, largest], dim=-1)).squeeze(-1)

    def forward(self, nodes: Tensor, adjacency: Tensor, mask: Tensor) -> Tensor:
        return torch.sigmoid(self.logit(nodes, adjacency, mask)).unsqueeze(-1)


__all__ = ["GraphFilter", "normalised_adjacency"]
