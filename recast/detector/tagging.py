"""Two ways to apply a per-object efficiency: sampled decisions, or truth-tagging weights.

(a) :func:`sample_decisions` draws one decision per object from counter-based uniforms keyed by
    (seed, stream, event number, object index in its event): any chunking of the same events,
    and any number of workers, gives the same decisions.
(b) :func:`truth_tag_weight` keeps every event and weights it by the exact probability of the
    tag requirement (e.g. P(≥ 2 b-tags)); :func:`choose_tagged` then picks which objects carry
    the tags, drawn from their exact distribution *given* the requirement, so that kinematics
    built from "the b-tagged jets" follow the right distribution.

>>> efficiency = btag_map.efficiency(events)                              # doctest: +SKIP
>>> tagged = sample_decisions(events, efficiency, seed=1, stream="btag")  # doctest: +SKIP
>>> weight = events.weight * truth_tag_weight(efficiency, 2)              # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Literal

import awkward as ak
import numpy as np

from ..errors import MissingCollectionError, UsageError
from .random import uniforms
from .truth_tagging import probability_at_least, probability_exactly

log = logging.getLogger(__name__)

Mode = Literal["at_least", "exactly"]
MODES = ("at_least", "exactly")


def _flat_efficiency(events: ak.Array, efficiency: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """Checked flat efficiencies and objects per event."""
    if len(efficiency) != len(events):
        raise UsageError(
            f"the efficiencies cover {len(efficiency)} events but the chunk has {len(events)}; "
            "compute them from the same events"
        )
    counts = np.asarray(ak.to_numpy(ak.num(efficiency, axis=1)), dtype=np.int64)
    flat = np.asarray(ak.to_numpy(ak.flatten(efficiency, axis=1)), dtype=np.float64)
    bad = np.isnan(flat) | (flat < 0.0) | (flat > 1.0)
    if bad.any():
        raise UsageError(
            f"{int(bad.sum())} efficiencies are NaN or outside [0, 1] (e.g. "
            f"{flat[bad][0]:g}); an efficiency is a probability"
        )
    return flat, counts


def object_keys(events: ak.Array, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(event number, index within its event) of every object: the keys of its random draws."""
    if "event_number" not in ak.fields(events):
        raise MissingCollectionError(
            "sampled tagging",
            "field (to key the random numbers)",
            "event_number",
            ak.fields(events),
        )
    numbers = np.asarray(ak.to_numpy(events["event_number"]), dtype=np.int64)
    starts = np.cumsum(counts) - counts
    index = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    return np.repeat(numbers, counts), index


def sample_decisions(events: ak.Array, efficiency: ak.Array, seed: int, stream: str) -> ak.Array:
    """True for each object that passes, with probability its efficiency (jagged bool)."""
    flat, counts = _flat_efficiency(events, efficiency)
    event_number, index = object_keys(events, counts)
    passed = uniforms(seed, stream, event_number, index) < flat
    return ak.unflatten(passed, counts)


def _check_mode(n: int, mode: str) -> None:
    if mode not in MODES:
        raise UsageError(f"truth-tagging mode {mode!r} is unknown; use one of {list(MODES)}")
    if n < 0:
        raise UsageError(f"the number of tags must be ≥ 0, got {n}")


def truth_tag_weight(efficiency: ak.Array, n: int, mode: Mode = "at_least") -> np.ndarray:
    """Per event, the exact probability that ≥ ``n`` (or exactly ``n``) objects are tagged.

    Multiply the event weight by it instead of cutting on sampled tags: tight tag
    requirements then keep their full statistics.
    """
    _check_mode(n, mode)
    if mode == "at_least":
        return probability_at_least(efficiency, n)
    return probability_exactly(efficiency, n)


def choose_tagged(
    events: ak.Array,
    efficiency: ak.Array,
    n: int,
    seed: int,
    stream: str,
    mode: Mode = "at_least",
) -> ak.Array:
    """Which objects carry the tags, drawn from the tag configurations allowed by the requirement
    with their exact conditional probabilities (jagged bool).

    Objects are visited in order; each is tagged with probability
    ε·P(rest fulfils the requirement less one | tagged) / P(requirement from here on), from suffix
    tables that only multiply and add probabilities. An event whose requirement cannot be met
    (truth-tag weight 0) gets no tags.
    """
    _check_mode(n, mode)
    flat, counts = _flat_efficiency(events, efficiency)
    event_number, index = object_keys(events, counts)
    n_events, most = len(counts), int(counts.max(initial=0))
    starts = np.cumsum(counts) - counts
    # suffix[o, r]: probability that the objects *after* object o give the r tags still needed
    # (≥ r or exactly r), for r = 0..n; stored per object, not padded, to bound the memory
    suffix = np.empty((len(flat), n + 1))
    table = np.zeros((n_events, n + 1))
    table[:, 0] = 1.0  # no object left: only "no more tags needed" is fulfilled
    for j in range(most - 1, -1, -1):
        has = counts > j
        rows = starts[has] + j
        suffix[rows] = table[has]
        table[has] = _add_object(table[has], flat[rows], mode)
    needed = np.full(n_events, n)
    tagged = np.zeros(len(flat), dtype=bool)
    possible = table[:, n] > 0.0
    for j in range(most):
        has = (counts > j) & possible
        rows = starts[has] + j
        r = needed[has]
        after = suffix[rows]
        here = _add_object(after, flat[rows], mode)
        take = np.arange(len(rows))
        with np.errstate(invalid="ignore", divide="ignore"):
            if mode == "at_least":
                numerator = flat[rows] * after[take, np.maximum(r - 1, 0)]
            else:
                numerator = np.where(r > 0, flat[rows] * after[take, np.maximum(r - 1, 0)], 0.0)
            p = np.where(here[take, r] > 0, numerator / here[take, r], 0.0)
        decision = uniforms(seed, stream, event_number[rows], index[rows]) < np.clip(p, 0, 1)
        tagged[rows] = decision
        needed[has] = np.maximum(r - decision, 0)
    return ak.unflatten(tagged, counts)


def _add_object(table: np.ndarray, e: np.ndarray, mode: str) -> np.ndarray:
    """The suffix table one object earlier: this object tagged (one fewer needed) or not."""
    shifted = np.zeros_like(table)
    shifted[:, 1:] = table[:, :-1]
    if mode == "at_least":
        shifted[:, 0] = table[:, 0]  # nothing more needed stays nothing more needed
    return table * (1.0 - e)[:, None] + shifted * e[:, None]


__all__ = ["choose_tagged", "object_keys", "sample_decisions", "truth_tag_weight"]
