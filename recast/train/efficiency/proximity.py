"""Closure of efficiency maps on a known proximity effect: the test's study and the docs' figure.

Jets get a true b-tagging efficiency with a proximity effect,

    ε = ε_f(pT, |η|) · Π_j f(ΔR_ij),   f(ΔR) = 1 − 0.8 exp(−(ΔR / 0.25)²)

over the other jets j of the event (f → 1 beyond ΔR ≈ 0.6). Tags are sampled from ε; on the
tagged sample a binned pT–|η| map is measured (tagged / all per bin) and a small MLP on
(pT, |η|, ΔR to the nearest jet) is trained with binary cross-entropy, which converges to ε as a
function of what it sees (arXiv:2004.02665). Both become map documents, are loaded with
:func:`~recast.detector.maps.load_map` like any published map, and are evaluated on held-out
jets. The pT–η map averages the proximity loss over all ΔR: right for isolated jets, far too
high for close ones; the learned map follows ε at every ΔR.

>>> result = run_closure("closure/")                         # doctest: +SKIP
>>> for band in result.bands(): print(band)                  # doctest: +SKIP

Training needs torch (extra ``train``); everything else is the core package.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import vector

from ...detector.context import with_context
from ...detector.maps import EfficiencyMap, load_map
from ...detector.tagging import sample_decisions
from ...io import sha256_file, write_text
from ...preserve.card import attribute_feature

log = logging.getLogger(__name__)
vector.register_awkward()

#: the binned map's axes
PT_EDGES = (20.0, 40.0, 70.0, 120.0, 250.0, 2000.0)
ABS_ETA_EDGES = (0.0, 0.8, 1.6, 2.5)
#: the ΔR-to-the-nearest-jet bands over which biases are quoted
DR_BANDS = (0.0, 0.2, 0.4, 0.6, 1.0, 10.0)


def true_efficiency(jets: ak.Array) -> ak.Array:
    """ε per jet; ``jets`` needs ``abs_eta`` and ``neighbours`` (see :func:`.with_context`)."""
    eps_f = 0.85 - 0.1 * jets.abs_eta / 2.5 - 0.3 * np.exp(-(jets.pt - 20) / 40)
    f = 1 - 0.8 * np.exp(-((jets.neighbours.dr / 0.25) ** 2))
    return eps_f * ak.prod(f, axis=-1)


def proximity_sample(n_events: int, seed: int) -> tuple[ak.Array, ak.Array]:
    """Events of 2 + Poisson(5) jets (pT 20 + Exp(60) GeV, |η| < 2.5) with their context, and ε.

    Event numbers start at ``seed`` × 10⁶, so samples of different seeds never share the
    random numbers of sampled tags.
    """
    rng = np.random.default_rng(seed)
    counts = rng.poisson(5, n_events) + 2
    n = int(counts.sum())
    pt = 20 + rng.exponential(60, n)
    eta = rng.uniform(-2.5, 2.5, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    context = ["dr_nearest", "abs_eta", "neighbours"]
    jets = {"pt": pt, "eta": eta, "phi": phi, "mass": np.zeros(n), "flavour": np.full(n, 5)}
    events = jet_events(counts, seed, context, **jets)
    return events, true_efficiency(events.jets)


def jet_events(
    counts: np.ndarray, seed: int, context: Sequence[str], **fields: np.ndarray
) -> ak.Array:
    """Events of ``counts`` jets each, the jets' flat ``fields`` (pt, eta, phi, mass, ...) zipped
    as ``Momentum4D``, weight 1 and event numbers from ``seed`` × 10⁶ (samples of different
    seeds never share the random numbers of sampled tags); with the ``context`` fields added."""
    jets = ak.zip(fields, with_name="Momentum4D")
    events = ak.zip(
        {
            "event_number": np.arange(len(counts), dtype=np.int64) + seed * 10**6,
            "weight": np.ones(len(counts)),
            "jets": ak.unflatten(jets, counts),
        },
        depth_limit=1,
    )
    return with_context(events, "jets", list(context))


def _flat(array: ak.Array) -> np.ndarray:
    return np.asarray(ak.to_numpy(ak.flatten(array, axis=1)), dtype=np.float64)


def binned_map_document(
    events: ak.Array,
    tags: np.ndarray,
    pt_edges: Sequence[float] = PT_EDGES,
    abs_eta_edges: Sequence[float] = ABS_ETA_EDGES,
) -> dict[str, Any]:
    """A binned pT–|η| map measured on tagged jets: tagged / all per bin (flat ``tags``)."""
    pt, abs_eta = _flat(events.jets.pt), _flat(events.jets.abs_eta)
    bins = [list(pt_edges), list(abs_eta_edges)]
    passed, _, _ = np.histogram2d(pt, abs_eta, bins, weights=np.asarray(tags, dtype=np.float64))
    total, _, _ = np.histogram2d(pt, abs_eta, bins)
    return {
        "schema_version": "1.0.0",
        "name": "btag_binned",
        "object": "jets",
        "working_point": "closure study",
        "kind": "binned",
        "axes": [
            {"variable": "pt", "unit": "GeV", "edges": bins[0]},
            {"variable": "abs_eta", "unit": "1", "edges": bins[1]},
        ],
        "values": (passed / total).tolist(),
        "out_of_range": "clamp",
        "provenance": {"notes": "closure study, recast.train.efficiency.proximity"},
    }


def learned_template() -> dict[str, Any]:
    """The card template of the learned map: (pT / 100 GeV, |η|, ΔR to the nearest jet)."""

    scale = {"formula": "(x - offset) / scale", "offset": 0.0, "scale": 100.0}
    return {
        "name": "proximity",
        "description": "b-tagging efficiency with a proximity effect",
        "evaluate_per": "jets",
        "inputs": [
            {
                "name": "x",
                "layout": "flat",
                "features": [
                    attribute_feature(0, "pt", "GeV", scale),
                    attribute_feature(1, "abs_eta"),
                    attribute_feature(2, "dr_nearest"),
                ],
            }
        ],
        "outputs": [
            {"name": "y", "columns": [{"index": 0, "label": "efficiency", "activation": "sigmoid"}]}
        ],
        "provenance": {"notes": "closure study, recast.train.efficiency.proximity"},
    }


def train_learned_map(
    events: ak.Array, tags: np.ndarray, folder: Path, epochs: int = 500, seed: int = 0
) -> Path:
    """Train the MLP 3→32→1 with BCE on the tagged jets (full batch, Adam), export it with its
    card to ``folder``, and return the card's path."""
    from ...preserve.builder import InputBuilder
    from ...preserve.export import export_torch, template_card
    from ..core._torch import torch

    template = learned_template()
    x = torch.from_numpy(InputBuilder(template_card(template)).build(events).at()["x"])
    y = torch.from_numpy(np.asarray(tags, dtype=np.float32))[:, None]
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1), torch.nn.Sigmoid()
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=0.03)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: more threads only contend
    try:
        for _ in range(epochs):
            optimiser.zero_grad()
            torch.nn.functional.binary_cross_entropy(net(x), y).backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    card = export_torch(net, template, folder)
    return Path(card.source)


def network_map_document(card: Path) -> dict[str, Any]:
    """The map document of a learned map whose card lies beside it."""
    return {
        "schema_version": "1.0.0",
        "name": "btag_learned",
        "object": "jets",
        "working_point": "closure study",
        "kind": "network",
        "network": {"card": card.name, "sha256": sha256_file(card), "output": "efficiency"},
        "out_of_range": "clamp",
        "provenance": {"notes": "closure study, recast.train.efficiency.proximity"},
    }


@dataclass(frozen=True, eq=False)
class ClosureResult:
    """Per held-out jet (flat): ΔR to the nearest jet, the true ε and the two maps' ε."""

    dr: np.ndarray
    truth: np.ndarray
    binned: np.ndarray
    learned: np.ndarray
    binned_map: EfficiencyMap
    learned_map: EfficiencyMap

    def bands(self, edges: Sequence[float] = DR_BANDS) -> list[dict[str, float]]:
        """Per ΔR band [lo, hi): the jets, mean ε, and each map's mean bias (map − truth)."""
        rows = []
        for lo, hi in itertools.pairwise(edges):
            band = (self.dr >= lo) & (self.dr < hi)
            rows.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "jets": int(band.sum()),
                    "truth": float(self.truth[band].mean()),
                    "binned": float((self.binned - self.truth)[band].mean()),
                    "learned": float((self.learned - self.truth)[band].mean()),
                }
            )
        return rows


def run_closure(
    folder: str | Path,
    n_train: int = 5000,
    n_test: int = 3000,
    train_seed: int = 1,
    test_seed: int = 2,
    tag_seed: int = 7,
    epochs: int = 500,
) -> ClosureResult:
    """The whole study; the maps and the card are written to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train, eps_train = proximity_sample(n_train, train_seed)
    tags = _flat(sample_decisions(train, eps_train, seed=tag_seed, stream="btag"))
    binned_path = folder / "btag_binned.json"
    write_text(binned_path, json.dumps(binned_map_document(train, tags), indent=1))
    card = train_learned_map(train, tags, folder, epochs=epochs)
    learned_path = folder / "btag_learned.json"
    write_text(learned_path, json.dumps(network_map_document(card), indent=1))
    binned_map, learned_map = load_map(binned_path), load_map(learned_path)
    test, eps_test = proximity_sample(n_test, test_seed)
    log.info(
        "closure: %d training jets, %d held-out jets", len(tags), int(ak.sum(ak.num(test.jets)))
    )
    return ClosureResult(
        dr=_flat(test.jets.dr_nearest),
        truth=_flat(eps_test),
        binned=_flat(binned_map.efficiency(test)),
        learned=_flat(learned_map.efficiency(test)),
        binned_map=binned_map,
        learned_map=learned_map,
    )


__all__ = [
    "ABS_ETA_EDGES",
    "DR_BANDS",
    "PT_EDGES",
    "ClosureResult",
    "binned_map_document",
    "jet_events",
    "learned_template",
    "network_map_document",
    "proximity_sample",
    "run_closure",
    "train_learned_map",
    "true_efficiency",
]
