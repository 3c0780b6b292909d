"""Jets through FastJet's awkward interface: one clustering call per chunk, not per event.

Small-R anti-kT jets from the visible final state, large-R jets (anti-kT from the particles or
re-clustered from the small-R jets) and trimming. Everything here works on flat numpy arrays
with an event index (see :mod:`recast.objects.kinematics`); :mod:`recast.objects.build`
turns them into awkward collections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from ..capture import redirected
from .config import ObjectConfig
from .kinematics import kinematics, offsets

log = logging.getLogger(__name__)

_banner_done = False


def _banner_to_stderr() -> None:
    """Print FastJet's banner once, to stderr: stdout may carry a JSON result (``-o -``)."""
    global _banner_done
    if _banner_done:
        return
    _banner_done = True
    with redirected(1, 2):
        fastjet._swig.ClusterSequence.print_banner()  # later calls print nothing


@dataclass
class FlatJets:
    """Jets of a chunk, flat: one entry per jet, in FastJet's order within each event."""

    event: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    #: positions of each jet's constituents in the clustering input (CSR: ``constituent_start``)
    constituents: np.ndarray | None = None
    constituent_start: np.ndarray | None = None
    #: per jet, how many of its constituents were flagged (see :func:`small_r_jets`)
    n_flagged: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.event)

    def select(self, keep: np.ndarray) -> FlatJets:
        """The jets where ``keep`` is True (constituent lists are dropped)."""
        return FlatJets(
            self.event[keep],
            self.px[keep],
            self.py[keep],
            self.pz[keep],
            self.energy[keep],
            n_flagged=None if self.n_flagged is None else self.n_flagged[keep],
        )

    def kinematics(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return kinematics(self.px, self.py, self.pz, self.energy)


def cluster(
    event: np.ndarray,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_events: int,
    radius: float,
    min_pt: float,
    algorithm: int = fastjet.antikt_algorithm,
    constituents: bool = False,
) -> FlatJets:
    """Cluster the inputs of every event (``event`` sorted) in one FastJet call.

    With ``constituents``, each jet's inputs are returned as global positions in the inputs.
    """
    counts = np.bincount(event, minlength=n_events)
    if len(event) == 0:
        empty = np.zeros(0)
        return FlatJets(
            np.zeros(0, np.int64),
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, np.int64) if constituents else None,
            np.zeros(1, np.int64) if constituents else None,
        )
    _banner_to_stderr()
    inputs = ak.unflatten(
        ak.zip(
            {
                k: np.ascontiguousarray(v, dtype=np.float64)
                for k, v in zip(["px", "py", "pz", "E"], momenta, strict=True)
            },
            with_name="Momentum4D",
        ),
        counts,
    )
    sequence = fastjet.ClusterSequence(inputs, fastjet.JetDefinition(algorithm, radius))
    jets = sequence.inclusive_jets(min_pt=min_pt)
    n_jets = ak.to_numpy(ak.num(jets, axis=1))
    flat = ak.flatten(jets, axis=1)
    result = FlatJets(
        np.repeat(np.arange(n_events), n_jets),
        *(ak.to_numpy(flat[k]).astype(np.float64) for k in ("px", "py", "pz", "E")),
    )
    if constituents:
        index = sequence.constituent_index(min_pt=min_pt)
        per_jet = ak.to_numpy(ak.flatten(ak.num(index, axis=2), axis=1))
        local = ak.to_numpy(ak.flatten(index, axis=None)).astype(np.int64)
        # local positions within the event → global positions in the inputs
        jet_event = result.event
        result.constituents = local + np.repeat(offsets(counts)[:-1][jet_event], per_jet)
        result.constituent_start = offsets(per_jet)
    return result


def sum_constituents(
    jets: FlatJets,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Each jet's four-momentum re-summed from its constituents (those with ``keep`` True)."""
    assert jets.constituents is not None and jets.constituent_start is not None
    per_jet = np.diff(jets.constituent_start)
    owner = np.repeat(np.arange(len(jets)), per_jet)
    use = np.ones(len(owner), bool) if keep is None else keep
    return tuple(
        np.bincount(owner[use], weights=m[jets.constituents][use], minlength=len(jets))
        for m in momenta
    )


def trim(
    jets: FlatJets,
    subjets: FlatJets,
    subjet_owner: np.ndarray,
    fcut: float,
) -> FlatJets:
    """Jets re-summed from their subjets above ``fcut`` × the untrimmed jet pT."""
    jet_pt = np.hypot(jets.px, jets.py)
    keep = np.hypot(subjets.px, subjets.py) >= fcut * jet_pt[subjet_owner]
    summed = (
        np.bincount(subjet_owner[keep], weights=m[keep], minlength=len(jets))
        for m in (subjets.px, subjets.py, subjets.pz, subjets.energy)
    )
    return FlatJets(jets.event, *summed)


def kt_subjets(
    jets: FlatJets,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    radius: float,
) -> tuple[FlatJets, np.ndarray]:
    """kT subjets of ``radius`` of every jet (one clustering call, jets as events) and, per
    subjet, the position of the jet it belongs to."""
    assert jets.constituents is not None and jets.constituent_start is not None
    owner = np.repeat(np.arange(len(jets)), np.diff(jets.constituent_start))
    sub = cluster(
        owner,
        tuple(m[jets.constituents] for m in momenta),  # type: ignore[arg-type]
        len(jets),
        radius,
        0.0,
        fastjet.kt_algorithm,
    )
    return sub, sub.event


def _eta_cut(jets: FlatJets, max_abs_eta: float | None, min_pt: float = 0.0) -> np.ndarray:
    pt, eta, _, _ = jets.kinematics()
    keep = pt >= min_pt
    if max_abs_eta is not None:
        keep &= np.abs(eta) < max_abs_eta
    return keep


def small_r_jets(
    event: np.ndarray,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_events: int,
    config: ObjectConfig,
    ghosts: tuple[np.ndarray, tuple[np.ndarray, ...]] | None = None,
    flagged: np.ndarray | None = None,
) -> tuple[FlatJets, np.ndarray | None]:
    """Anti-kT jets of ``config.jet_radius`` above ``jet_min_pt`` (and inside |η| if set).

    ``ghosts`` (event, momenta), sorted by event, are clustered along; the second result then
    gives, per ghost, the position of the jet that absorbed it (-1 for none). Jets made only of
    ghosts are dropped. ``flagged`` (one bool per input, e.g. charged above a pT) makes each
    jet count its flagged constituents in ``n_flagged``.
    """
    radius, min_pt = config.jet_radius, config.jet_min_pt
    if ghosts is None:
        jets = cluster(event, momenta, n_events, radius, min_pt, constituents=flagged is not None)
        if flagged is not None:
            jets.n_flagged = _count_flagged(jets, jets.constituents, flagged)
        return jets.select(_eta_cut(jets, config.jet_max_abs_eta)), None
    ghost_event, ghost_momenta = ghosts
    n_real, n_ghosts = len(event), len(ghost_event)
    # in each event the real particles come first, then the ghosts (a stable sort keeps that)
    order = np.argsort(np.concatenate([event, ghost_event]), kind="stable")
    inputs = tuple(
        np.concatenate([m, g])[order] for m, g in zip(momenta, ghost_momenta, strict=True)
    )
    jets = cluster(
        np.concatenate([event, ghost_event])[order],
        inputs,
        n_events,
        radius,
        min_pt,
        constituents=True,  # type: ignore[arg-type]
    )
    assert jets.constituents is not None and jets.constituent_start is not None
    original = order[jets.constituents]
    owner = np.repeat(np.arange(len(jets)), np.diff(jets.constituent_start))
    is_ghost = original >= n_real
    ghost_jet = np.full(n_ghosts, -1, np.int64)
    ghost_jet[original[is_ghost] - n_real] = owner[is_ghost]
    if flagged is not None:
        real = np.where(is_ghost, 0, original)
        jets.n_flagged = _count_flagged(jets, real, flagged, is_ghost)
    keep = _eta_cut(jets, config.jet_max_abs_eta)
    keep &= np.bincount(owner[~is_ghost], minlength=len(jets)) > 0
    new_position = np.where(keep, np.cumsum(keep) - 1, -1)
    ghost_jet = np.where(ghost_jet >= 0, new_position[ghost_jet], -1)
    return jets.select(keep), ghost_jet


def _count_flagged(
    jets: FlatJets,
    positions: np.ndarray | None,
    flagged: np.ndarray,
    ignore: np.ndarray | None = None,
) -> np.ndarray:
    """Per jet, how many of its constituents (at ``positions`` in the inputs) are flagged."""
    assert positions is not None and jets.constituent_start is not None
    owner = np.repeat(np.arange(len(jets)), np.diff(jets.constituent_start))
    hit = flagged[positions] if len(positions) else np.zeros(0, bool)
    if ignore is not None:
        hit &= ~ignore
    return np.bincount(owner[hit], minlength=len(jets)).astype(np.int32)


def large_r_jets(
    event: np.ndarray,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_events: int,
    small: FlatJets,
    config: ObjectConfig,
) -> FlatJets:
    """Large-R jets as ``config.large_R`` says: from the particles or from the small-R jets."""
    radius, min_pt, fcut = config.large_R_radius, config.large_R_min_pt, config.trim_fcut
    trimming = fcut is not None
    if config.large_R == "reclustered":
        event = small.event
        momenta = (small.px, small.py, small.pz, small.energy)
    # trimming only lowers a jet's pT, so the cut can come first and again after trimming
    jets = cluster(event, momenta, n_events, radius, min_pt, constituents=trimming)
    if trimming:
        assert fcut is not None and jets.constituents is not None
        assert jets.constituent_start is not None
        if config.large_R == "reclustered":
            owner = np.repeat(np.arange(len(jets)), np.diff(jets.constituent_start))
            subjets = FlatJets(owner, *(m[jets.constituents] for m in momenta))
        else:
            subjets, owner = kt_subjets(jets, momenta, config.trim_radius)
        jets = trim(jets, subjets, owner, fcut)
    return jets.select(_eta_cut(jets, config.large_R_max_abs_eta, min_pt))
