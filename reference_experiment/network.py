"""The reference experiment's parameterised multi-class network (plain torch; the [train] extra).

Three classes — background (tt̄), Gtt, Gbb — from the 87 inputs of the DEMO_MULTIB_GLUINO card
(10 small-R jets × pT, η, φ, m, b-tag; 4 large-R jets × pT, η, φ, m; 4 leptons × pT, η, φ, m;
MET, φ(MET); isGtt, m(g̃), m(χ̃⁰₁)). The parameterised-network trick: every signal event
carries the parameters of its own mass point, every background event those of a signal point
drawn at random, so the network learns P(class | event, hypothesis) at every hypothesis.

The inputs are standardised ((x − mean) / std, statistics of the training rows, written into the
card so that the runtime does the same); the network itself is 87 → 64 → 64 → 3 with a softmax,
small enough for git. Training is seeded and single-threaded, so the weights — and the exported
ONNX bytes — are the same run to run on one machine.

Nothing in the runtime imports this module; :mod:`.publish_network` drives it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recast.errors import UsageError
from recast.train.core._torch import seeded, threads, torch

log = logging.getLogger(__name__)

CLASSES = ("background", "Gtt", "Gbb")
N_INPUTS = 87
#: the columns of the three parameters in the 87-input layout
PARAMETER_COLUMNS = {"isGtt": 84, "mGluino": 85, "mLSP": 86}


class MultibNetwork(torch.nn.Module):
    """87 → hidden → hidden → 3 (ReLU), softmax output: P(background), P(Gtt), P(Gbb)."""

    def __init__(self, n_inputs: int = N_INPUTS, hidden: int = 64) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_inputs, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, len(CLASSES)),
        )

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.layers(x), dim=-1)


@dataclass(frozen=True)
class TrainingSettings:
    """Optimiser settings; the defaults made the committed network."""

    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    hidden: int = 64
    seed: int = 1


def set_parameters(x: npt.ArrayLike, parameters: npt.ArrayLike) -> np.ndarray:
    """A copy of raw inputs ``x`` (n × 87) with the parameter columns set to ``parameters``
    (n × 3: isGtt, m(g̃), m(χ̃⁰₁), or one row for all)."""
    x = np.array(x, dtype=np.float64, copy=True)
    if x.ndim != 2 or x.shape[1] != N_INPUTS:
        raise UsageError(f"inputs must have shape (n, {N_INPUTS}), not {x.shape}")
    values = np.broadcast_to(np.asarray(parameters, dtype=np.float64), (len(x), 3))
    for k, column in enumerate(PARAMETER_COLUMNS.values()):
        x[:, column] = values[:, k]
    return x


def draw_parameters(n: int, points: Sequence[Sequence[float]], seed: int) -> np.ndarray:
    """``n`` rows of (isGtt, m(g̃), m(χ̃⁰₁)) drawn uniformly from the signal ``points``."""
    table = np.asarray(points, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 3 or not len(table):
        raise UsageError("points must be a non-empty list of (isGtt, m_gluino, m_lsp)")
    rng = np.random.default_rng(seed)
    return table[rng.integers(0, len(table), n)]


def standardisation(x: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Per-column weighted mean and standard deviation (std 1 for a constant column)."""
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = np.average(x, axis=0, weights=w)
    std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    std = np.where(std > 1e-12, std, 1.0)
    return mean, std


def class_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-row weights rescaled so that every class present has the same total; the mean
    weight per row is 1."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.asarray(weights, dtype=np.float64).copy()
    present = np.unique(labels)
    for c in present:
        mine = labels == c
        total = out[mine].sum()
        if total <= 0:
            raise UsageError(f"class {CLASSES[c]!r} has no positive weight")
        out[mine] *= len(labels) / (len(present) * total)
    return out


def train(
    x: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    settings: TrainingSettings = TrainingSettings(),
) -> MultibNetwork:
    """Train on standardised inputs ``x`` (n × 87), class ``labels`` (0, 1, 2) and per-row
    ``weights`` (already class-balanced); seeded and single-threaded."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(x) != len(labels) or len(x) != len(weights):
        raise UsageError(f"{len(x)} input rows, {len(labels)} labels, {len(weights)} weights")
    if len(x) == 0:
        raise UsageError("no training rows")
    with threads(1), seeded(settings.seed):
        model = MultibNetwork(x.shape[1], settings.hidden)
        optimiser = torch.optim.Adam(
            model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
        yt = torch.as_tensor(labels)
        wt = torch.as_tensor(np.asarray(weights, dtype=np.float32))
        order = np.random.default_rng(settings.seed)
        for epoch in range(settings.epochs):
            permutation = torch.as_tensor(order.permutation(len(xt)))
            total = 0.0
            model.train()
            for start in range(0, len(xt), settings.batch_size):
                rows = permutation[start : start + settings.batch_size]
                loss_rows = torch.nn.functional.cross_entropy(
                    model.logits(xt[rows]), yt[rows], reduction="none"
                )
                loss = (loss_rows * wt[rows]).sum() / wt[rows].sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            log.debug("epoch %d: loss %.4f", epoch, total / len(xt))
        model.eval()
    log.info(
        "trained %d epochs on %d rows, last loss %.4f", settings.epochs, len(x), total / len(x)
    )
    return model


def predict(model: MultibNetwork, x: np.ndarray) -> np.ndarray:
    """Class probabilities (n × 3) for standardised inputs."""
    with threads(1), torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy().astype(np.float64)


def auc(
    signal: npt.ArrayLike,
    background: npt.ArrayLike,
    background_weights: npt.ArrayLike | None = None,
) -> float:
    """Area under the ROC curve: P(score of a signal row > that of a background row), ties
    counted one half; background rows may carry weights (signal rows count equally)."""
    s = np.asarray(signal, dtype=np.float64)
    b = np.asarray(background, dtype=np.float64)
    wb = np.ones(len(b)) if background_weights is None else np.asarray(background_weights, float)
    if not len(s) or not len(b) or wb.sum() <= 0:
        raise UsageError("the AUC needs signal and background rows")
    order = np.argsort(b, kind="stable")
    b, wb = b[order], wb[order]
    below = np.concatenate([[0.0], np.cumsum(wb)])
    lo = below[np.searchsorted(b, s, side="left")]
    hi = below[np.searchsorted(b, s, side="right")]
    return float(np.mean(lo + 0.5 * (hi - lo)) / wb.sum())


__all__ = [
    "CLASSES",
    "N_INPUTS",
    "PARAMETER_COLUMNS",
    "MultibNetwork",
    "TrainingSettings",
    "auc",
    "class_weights",
    "draw_parameters",
    "predict",
    "set_parameters",
    "standardisation",
    "train",
]
