"""ATLAS-SUSY-2019-04 objects and variables: baseline objects, the four-step overlap removal,
signal leptons, the 1L/2LSS split, jet and b-jet counts, the network inputs of §3.2 and the
2LSS shape variable m_ℓj^minmax.

Pure columnar functions on awkward collections (one list of objects per event; jets carry
``pt``, ``eta``, ``phi``, ``mass``, the bool ``btag`` and possibly ``n_charged``; leptons
``pt``, ``eta``, ``phi``, ``mass``, ``charge``; MET is a record with ``pt`` and ``phi``). Energies
and masses are in GeV: the network card divides by 100 (§3.1). Section numbers (§) refer to
``selection.md`` of this analysis; every choice is its §8/§9 recommendation.

Variables are one number per event (numpy float64 or int64) unless said otherwise; each
function states what it returns for an event without the objects it needs. "Undefined" values
are NaN, so that any cut on them fails and the network card refuses them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from functools import cache

import awkward as ak
import numpy as np

from recast.analysis import variables
from recast.errors import UsageError
from recast.objects.kinematics import delta_r, event_pairs, offsets

log = logging.getLogger(__name__)

# -- objects (§1) ---------------------------------------------------------------------------------
ELECTRON_MIN_PT = 10.0  # baseline electrons (§1.3): the overlap-removal candidates
ELECTRON_MAX_ABS_ETA = 2.47
MUON_MIN_PT = 10.0
MUON_MAX_ABS_ETA = 2.5
SIGNAL_LEPTON_MIN_PT = 15.0  # signal e and μ after overlap removal (§1.3, §8.4)
JET_MIN_PT = 20.0  # anti-kT 0.4 jets (§1.1)
JET_MAX_ABS_ETA = 2.5
B_TAG_MAX_ABS_ETA = 2.5  # a b-jet is a tagged jet with |η| < 2.5 (§1.2)
ELECTRON_FLAVOUR = 11
MUON_FLAVOUR = 13

# -- overlap removal (§1.4); ΔR in pseudorapidity ----------------------------------------------
OR_ELECTRON_MUON = 0.01  # (1) electrons this close to a muon (shared-track proxy)
OR_JET_ELECTRON = 0.2  # (2) non-b jets this close to an electron
OR_JET_MUON = 0.4  # (3) non-b jets with few tracks this close to a muon
OR_MIN_TRACKS = 3  # (3) "few" = fewer than this many charged tracks (pT > 0.5 GeV)
OR_LEPTON_JET_MAX = 0.4  # (4) leptons within min(0.4, 0.04 + 10 GeV / pT) of a jet
OR_LEPTON_JET_OFFSET = 0.04
OR_LEPTON_JET_PT = 10.0  # GeV
LEPTON_JET_CONES = ("sliding", "fixed")

# -- channels (§2.1) ------------------------------------------------------------------------------
Z_MASS = 91.2  # the optional ee Z veto of the 2LSS channel: |m_ee − 91.2| < 10 GeV
Z_WINDOW = 10.0

# -- network inputs (§3.2) and the 2LSS shape variable (§2.3) ---------------------------------
BTAG_BIN_TAGGED = 5.0  # the implementations' pseudo-continuous bin of a tagged jet (§1.2, §8.18)
BTAG_BIN_UNTAGGED = 1.0
N_BCAT_MAX = 3  # n_bcat = min(n_b − 1, 3)
MINMAX_MAX_JETS = 12  # minmax_mass is NaN above this many jets (2ⁿ splits)
MLJ_LEADING_JETS = 4  # m_ℓj^minmax pairs the leptons with the 4 leading jets (§2.3, §8.13)
#: numbers per block of the grouped computations (rows × combinations): bounds the memory
BLOCK_ELEMENTS = 1 << 18


# == objects ======================================================================================
def baseline_electrons(electrons: ak.Array) -> ak.Array:
    """Electrons with pT > 10 GeV and |η| < 2.47, pT-descending (§1.3); no crack veto (only
    GB applies one)."""
    keep = (electrons.pt > ELECTRON_MIN_PT) & (abs(electrons.eta) < ELECTRON_MAX_ABS_ETA)
    return variables.by_pt(electrons[keep])


def baseline_muons(muons: ak.Array) -> ak.Array:
    """Muons with pT > 10 GeV and |η| < 2.5, pT-descending (§1.3)."""
    keep = (muons.pt > MUON_MIN_PT) & (abs(muons.eta) < MUON_MAX_ABS_ETA)
    return variables.by_pt(muons[keep])


def baseline_jets(jets: ak.Array) -> ak.Array:
    """Jets with pT > 20 GeV and |η| < 2.5, pT-descending (§1.1): the jets of the overlap
    removal; what it leaves are the signal jets that every count and network input uses."""
    keep = (jets.pt > JET_MIN_PT) & (abs(jets.eta) < JET_MAX_ABS_ETA)
    return variables.by_pt(jets[keep])


def b_flag(jets: ak.Array) -> ak.Array:
    """Per jet: a b-jet, i.e. b-tagged (the detector's sampled decision, 70 % WP, §8.1) and
    |η| < 2.5. False for every jet of an event without b-jets."""
    return jets.btag & (abs(jets.eta) < B_TAG_MAX_ABS_ETA)


def overlap_removal(
    jets: ak.Array,
    electrons: ak.Array,
    muons: ak.Array,
    *,
    lepton_jet_cone: str = "sliding",
    tracks_field: str = "n_charged",
) -> tuple[ak.Array, ak.Array, ak.Array]:
    """The four steps of §1.4, in this order, each on what the previous ones left; returns
    (jets, electrons, muons) with the removed objects dropped and the order kept.

    1. electrons within ΔR < 0.01 of a muon are removed (SimpleAnalysis's proxy for a shared
       ID track);
    2. non-b-tagged jets within ΔR < 0.2 of an electron are removed;
    3. non-b-tagged jets with fewer than 3 charged tracks (the jets' ``tracks_field``,
       charged constituents above 0.5 GeV) within ΔR < 0.4 of a muon are removed. Jets without
       that field (truth jets built without the prompt leptons) are treated as having 3 or more
       tracks, so the step removes nothing, as in the ATLAS-SUSY-2018-30 bundle: such a jet
       near a prompt muon is hadronic activity, not the muon. SimpleAnalysis's extra condition
       pT(μ) > 0.5 pT(jet) (§8.7) is not applied;
    4. electrons and muons within ΔR < min(0.4, 0.04 + 10 GeV / pT(ℓ)) of a remaining jet
       (b-jets included) are removed: ``lepton_jet_cone="sliding"``, the paper (§8.8); or
       within ΔR < 0.4: ``"fixed"``, SimpleAnalysis.

    b-jets are :func:`b_flag` jets. ΔR is in pseudorapidity and φ (§1.4). Give baseline
    objects (:func:`baseline_jets`, :func:`baseline_electrons`, :func:`baseline_muons`).
    """
    _check_cone(lepton_jet_cone)
    electrons = electrons[~_near(electrons, muons, OR_ELECTRON_MUON)]
    not_b = ~b_flag(jets)
    jets = jets[~(not_b & _near(jets, electrons, OR_JET_ELECTRON))]
    if tracks_field in ak.fields(jets):
        few_tracks = ~b_flag(jets) & (jets[tracks_field] < OR_MIN_TRACKS)
        jets = jets[~(few_tracks & _near(jets, muons, OR_JET_MUON))]
    electrons = electrons[~_inside_lepton_cone(electrons, jets, lepton_jet_cone)]
    muons = muons[~_inside_lepton_cone(muons, jets, lepton_jet_cone)]
    return jets, electrons, muons


def lepton_jet_cone_size(pt: ak.Array, kind: str = "sliding") -> ak.Array:
    """Per lepton, the cone of OR step 4: min(0.4, 0.04 + 10 GeV / pT) (``"sliding"``) or 0.4
    (``"fixed"``). The sliding cone is 0.4 up to pT = 27.8 GeV."""
    _check_cone(kind)
    if kind == "fixed":
        return ak.ones_like(pt) * OR_LEPTON_JET_MAX
    return np.minimum(OR_LEPTON_JET_MAX, OR_LEPTON_JET_OFFSET + OR_LEPTON_JET_PT / pt)


def _check_cone(kind: str) -> None:
    if kind not in LEPTON_JET_CONES:
        raise UsageError(
            f"ATLAS_SUSY_2019_04 overlap_removal: lepton_jet_cone = {kind!r} is not one of "
            f"{LEPTON_JET_CONES}; use 'sliding' (the paper) or 'fixed' (SimpleAnalysis)"
        )


def _inside_lepton_cone(leptons: ak.Array, jets: ak.Array, kind: str) -> ak.Array:
    return min_delta_r(leptons, jets) < lepton_jet_cone_size(leptons.pt, kind)


def _near(objects: ak.Array, others: ak.Array, cone: float) -> ak.Array:
    """Per object: any of ``others`` within ΔR(η, φ) < ``cone``."""
    return variables.near(objects, others, cone, use_rapidity=False)


def min_delta_r(objects: ak.Array, others: ak.Array) -> ak.Array:
    """Per object, the smallest ΔR(η, φ) to any of ``others`` of its event; +inf when the
    event has none of ``others``. Jagged like ``objects``."""
    counts, eta, phi = _flat_angles(objects)
    other_counts, other_eta, other_phi = _flat_angles(others)
    n = len(counts)
    if len(other_counts) != n:
        raise UsageError(
            f"ATLAS_SUSY_2019_04 min_delta_r: {n} events of objects but {len(other_counts)} "
            "of others; give two collections of the same events"
        )
    i, j = event_pairs(np.repeat(np.arange(n), counts), np.repeat(np.arange(n), other_counts), n)
    smallest = np.full(len(eta), np.inf)
    np.minimum.at(smallest, i, delta_r(eta[i], phi[i], other_eta[j], other_phi[j]))
    return ak.unflatten(smallest, counts)


def signal_leptons(electrons: ak.Array, muons: ak.Array) -> ak.Array:
    """Electrons and muons left by the overlap removal with pT > 15 GeV (§1.3, §8.4), merged
    and pT-descending: fields pt, eta, phi, mass (as given), charge, flavour (11 e, 13 μ),
    as Momentum4D (vector computes ``energy``). No isolation or identification loss is applied
    here (§9.4: prompt truth leptons). An event without any gives an empty list."""

    def part(objects: ak.Array, flavour: int) -> ak.Array:
        objects = objects[objects.pt > SIGNAL_LEPTON_MIN_PT]
        return ak.zip(
            {
                "pt": objects.pt,
                "eta": objects.eta,
                "phi": objects.phi,
                "mass": objects.mass,
                "charge": objects.charge,
                "flavour": ak.values_astype(ak.ones_like(objects.pt) * flavour, np.int32),
            },
            with_name="Momentum4D",
        )

    merged = ak.concatenate([part(electrons, ELECTRON_FLAVOUR), part(muons, MUON_FLAVOUR)], axis=1)
    return variables.by_pt(merged)


def leading(objects: ak.Array) -> ak.Array:
    """The first object of each event as one record per event (same fields and record name);
    an event without objects gets NaN in every floating-point field and 0 (False) in integer
    (bool) fields, so a network fed with it refuses it and every cut on it fails."""
    first = ak.firsts(objects, axis=1)
    fields = {}
    for name in ak.fields(objects):
        dtype = ak.to_numpy(ak.flatten(objects[name], axis=1)).dtype
        fill: float | bool = (
            np.nan if np.issubdtype(dtype, np.floating) else False if dtype == np.bool_ else 0
        )
        fields[name] = ak.fill_none(first[name], fill)
    record = objects.layout.purelist_parameter("__record__")
    return ak.zip(fields, with_name=record) if record else ak.zip(fields)


def with_energy(objects: ak.Array) -> ak.Array:
    """The objects with a stored ``energy`` field, √((pT cosh η)² + m²), in place of ``mass``
    (fields pt, eta, phi, energy and every non-kinematic field, e.g. btag, charge), as
    Momentum4D: vector refuses both energy and mass stored, and computes ``mass`` back from
    the energy when asked (exact to rounding). Not needed for the card when the objects are
    Momentum4D already: vector then gives ``energy``, ``e`` and ``E`` itself, and the input
    builder reads vector's properties. Events without objects stay empty."""
    energy = np.sqrt((objects.pt * np.cosh(objects.eta)) ** 2 + objects.mass**2)
    fields = {"pt": objects.pt, "eta": objects.eta, "phi": objects.phi, "energy": energy}
    for name in ak.fields(objects):
        if name not in (*fields, "mass"):
            fields[name] = objects[name]
    return ak.zip(fields, with_name="Momentum4D")


# == channels (§2.1) ==============================================================================
def is_two_same_sign(leptons: ak.Array) -> np.ndarray:
    """The 2LSS channel: exactly 2 signal leptons, of the same charge (§2.1, §9.5). False for
    any other lepton count. The ee Z veto is separate (:func:`passes_ee_z_veto`)."""
    two = ak.num(leptons, axis=1) == 2
    padded = ak.pad_none(leptons.charge, 2, axis=1)
    same = ak.fill_none(padded[:, 0] * padded[:, 1] > 0, False)
    return np.asarray(ak.to_numpy(two & same), dtype=bool)


def is_one_lepton(leptons: ak.Array) -> np.ndarray:
    """The 1L channel: ≥ 1 signal lepton and not 2LSS (no upper limit on the lepton count,
    §2.1). False for an event without a signal lepton."""
    some = np.asarray(ak.to_numpy(ak.num(leptons, axis=1) >= 1), dtype=bool)
    return some & ~is_two_same_sign(leptons)


def passes_ee_z_veto(leptons: ak.Array) -> np.ndarray:
    """False when the two leading signal leptons are both electrons with |m_ee − 91.2| < 10 GeV
    (the charge-flip Z veto of the 2LSS channel: JM's 2LSS string, CM); True otherwise,
    including events with fewer than 2 leptons. A region cut for 2LSS, not part of the split.
    Reads the ``flavour`` field of :func:`signal_leptons` (without it, nothing is vetoed)."""
    first, second = _two_leading(leptons)
    ee = (first["flavour"] == ELECTRON_FLAVOUR) & (second["flavour"] == ELECTRON_FLAVOUR)
    mass = _pair_mass(first, second)
    with np.errstate(invalid="ignore"):
        vetoed = ee & (np.abs(mass - Z_MASS) < Z_WINDOW)
    return ~vetoed


# == counts (§2) ================================================================================
def n_b(jets: ak.Array) -> np.ndarray:
    """Number of b-jets (:func:`b_flag`); 0 without jets."""
    return _per_event_int(ak.sum(b_flag(jets), axis=1))


def count_above(jets: ak.Array, pt: float) -> np.ndarray:
    """Number of jets with pT > ``pt`` GeV (the jet-counting SRs, §2.3); 0 without jets."""
    return _per_event_int(ak.sum(jets.pt > pt, axis=1))


def count_b_above(jets: ak.Array, pt: float) -> np.ndarray:
    """Number of b-jets with pT > ``pt`` GeV: the jet-counting SRs count b-jets with the same
    threshold as the jets (§2.3); 0 without jets."""
    return _per_event_int(ak.sum(b_flag(jets) & (jets.pt > pt), axis=1))


def n_bcat(n_b: np.ndarray | ak.Array) -> np.ndarray:
    """The network's b-category min(n_b − 1, 3): 0, 1, 2, 3 for 1, 2, 3, ≥ 4 b-jets (§1.2); 0
    b-jets also give 0 (the lowest category; the networks run only with ≥ 4 b-jets)."""
    values = np.asarray(ak.to_numpy(n_b) if isinstance(n_b, ak.Array) else n_b, dtype=np.int64)
    return np.clip(values - 1, 0, N_BCAT_MAX)


# == network inputs (§3.2) =======================================================================
def ht(jets: ak.Array) -> np.ndarray:
    """``ht_jet``: Σ pT of the jets (GeV); 0 without jets."""
    return _per_event_float(ak.sum(jets.pt, axis=1))


def ht_b(jets: ak.Array) -> np.ndarray:
    """``ht_bjet``: Σ pT of the b-jets (GeV, §8.20); 0 without b-jets."""
    return _per_event_float(ak.sum(ak.where(b_flag(jets), jets.pt, 0.0), axis=1))


def btag_bin(
    jets: ak.Array, *, tagged: float = BTAG_BIN_TAGGED, untagged: float = BTAG_BIN_UNTAGGED
) -> ak.Array:
    """``jet_btag_bin`` per jet: ``tagged`` for a b-jet, ``untagged`` otherwise (§1.2, §8.18).
    Jagged like ``jets`` (float64); the padding of missing slots (0) is the card's."""
    return ak.values_astype(ak.where(b_flag(jets), tagged, untagged), np.float64)


def three_jet_maxpt_mass(jets: ak.Array) -> np.ndarray:
    """m(j_a + j_b + j_c) of the jet triplet (a < b < c) whose summed four-momentum has the
    largest pT (GeV, §3.2 idx 3); the first such triplet in lexicographic order on an exact
    tie. NaN for an event with fewer than 3 jets."""
    momenta = _FlatMomenta.of(jets)
    out = np.full(momenta.n_events, np.nan)
    for n, rows in momenta.groups(minimum=3):
        chooser = _triplets(n)
        for block in _blocks(rows, chooser.shape[1]):
            p = [c @ chooser for c in momenta.matrix(block, n)]  # (px, py, pz, E) per triplet
            best = np.argmax(p[0] ** 2 + p[1] ** 2, axis=1)[:, None]
            out[block] = _mass(*(np.take_along_axis(c, best, axis=1)[:, 0] for c in p))
    return out


def three_jet_lep_met_mass_max_pt(
    jets: ak.Array, lepton: ak.Array, met: ak.Array, *, met_in_mass: bool = True
) -> np.ndarray:
    """Over the jet triplets (a < b < c), S = j_a + j_b + j_c + ℓ + p_miss with p_miss the
    massless (px, py, 0, |pT,miss|); returns m(S) (GeV) of the S with the largest pT (§3.2
    idx 6, §8.21). With ``met_in_mass=False`` p_miss still chooses the triplet but is left out
    of the mass (RV's version, for the sensitivity study). ``lepton`` is one record per event
    (pt, eta, phi, mass; :func:`leading` of the signal leptons); ``met`` has pt and phi.
    NaN for an event with fewer than 3 jets or without a lepton (NaN lepton fields)."""
    if lepton.ndim != 1:
        raise UsageError(
            "ATLAS_SUSY_2019_04 three_jet_lep_met_mass_max_pt: lepton must be one record per "
            f"event, got type {lepton.type}; pass leading(signal_leptons)"
        )
    momenta = _FlatMomenta.of(jets)
    lep = _event_momentum(lepton)
    met_pt = _numbers(met.pt)
    met_phi = _numbers(met.phi)
    miss = (met_pt * np.cos(met_phi), met_pt * np.sin(met_phi), np.zeros_like(met_pt), met_pt)
    out = np.full(momenta.n_events, np.nan)
    for n, rows in momenta.groups(minimum=3):
        chooser = _triplets(n)
        for block in _blocks(rows, chooser.shape[1]):
            jets3 = [c @ chooser for c in momenta.matrix(block, n)]
            visible = [c + part[block, None] for c, part in zip(jets3, lep, strict=True)]
            px, py = (visible[k] + miss[k][block, None] for k in (0, 1))
            best = np.argmax(px**2 + py**2, axis=1)[:, None]
            chosen = [np.take_along_axis(c, best, axis=1)[:, 0] for c in visible]
            if met_in_mass:
                chosen = [c + part[block] for c, part in zip(chosen, miss, strict=True)]
            out[block] = _mass(*chosen)
    return out


def min_delta_r_lj(jets: ak.Array, leptons: ak.Array, *, leading_only: bool = False) -> np.ndarray:
    """``minDeltaRlj``: the smallest ΔR(η, φ) between a jet and a signal lepton, over all
    signal leptons (SA code per GB/RV, the default of §8.22) or, with ``leading_only``, the
    leading one (CM). NaN for an event without jets or without leptons."""
    chosen = leptons[:, :1] if leading_only else leptons
    smallest = ak.min(min_delta_r(chosen, jets), axis=1)
    values = _per_event_float(ak.fill_none(smallest, np.inf))
    values[np.isinf(values)] = np.nan
    return values


def minmax_mass(jets: ak.Array) -> np.ndarray:
    """``minmax_mass``: min over every split of the jets into two groups A, B (either may be
    empty; 2ⁿ splits) of max(m_A, m_B) (GeV, §3.2 idx 8). 0 for an event without jets, the jet
    mass for one jet; NaN above 12 jets (4096 splits per event; the networks need ≤ 8).

    SimpleAnalysis's loop also skips splits with |n_A − n_B| > 10 (inactive for n ≤ 10) and
    exact ties m_A = m_B (which only occur for no jets or a single massless jet); neither is
    reproduced."""
    momenta = _FlatMomenta.of(jets)
    out = np.full(momenta.n_events, np.nan)
    out[momenta.counts == 0] = 0.0
    for n, rows in momenta.groups(minimum=1, maximum=MINMAX_MAX_JETS):
        in_a = _splits(n)
        in_b = 1.0 - in_a
        for block in _blocks(rows, in_a.shape[1]):
            jets_n = momenta.matrix(block, n)
            mass_a = _mass(*(c @ in_a for c in jets_n))
            mass_b = _mass(*(c @ in_b for c in jets_n))
            out[block] = np.min(np.maximum(mass_a, mass_b), axis=1)
    return out


# == the 2LSS shape variable (§2.3) ===============================================================
def mlj_minmax(jets: ak.Array, leptons: ak.Array) -> np.ndarray:
    """m_ℓj^minmax of the 2LSS shape region SR11: with ℓ1, ℓ2 the two leading signal leptons and
    j_i, j_k (i ≠ k) among the 4 leading jets, min over (i, k) of max(m(ℓ1 j_i), m(ℓ2 j_k))
    (GeV, §2.3, §8.13). NaN for an event with fewer than 2 leptons or fewer than 2 jets."""
    lead = jets[:, :MLJ_LEADING_JETS]
    padded = ak.pad_none(lead, MLJ_LEADING_JETS, axis=1, clip=True)
    jet_p = _padded_momentum(padded)  # (events, 4) each, NaN where no jet
    first, second = _two_leading(leptons)
    masses = []
    for lepton in (first, second):
        lp = _record_momentum(lepton)
        masses.append(_mass(*(j + q[:, None] for j, q in zip(jet_p, lp, strict=True))))
    pairs = np.maximum(masses[0][:, :, None], masses[1][:, None, :])  # (events, i, k)
    off_diagonal = ~np.eye(MLJ_LEADING_JETS, dtype=bool)
    pairs = np.where(off_diagonal & ~np.isnan(pairs), pairs, np.inf)
    values = pairs.reshape(len(pairs), -1).min(axis=1)
    values[np.isinf(values)] = np.nan
    return values


# == helpers ======================================================================================
class _FlatMomenta:
    """The four-momenta of a collection as flat numpy arrays with per-event counts, for
    computations grouped by object count (one matrix per count, no per-event loop)."""

    def __init__(self, counts: np.ndarray, components: tuple[np.ndarray, ...]) -> None:
        self.counts = counts
        self.starts = offsets(counts)[:-1]
        self.components = components
        self.n_events = len(counts)

    @classmethod
    def of(cls, objects: ak.Array) -> _FlatMomenta:
        counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
        pt, eta, phi = (_flat(objects, name) for name in ("pt", "eta", "phi"))
        if "energy" in ak.fields(objects):  # with_energy's layout: the stored energy
            energy = _flat(objects, "energy")
        else:
            energy = np.sqrt((pt * np.cosh(eta)) ** 2 + _flat(objects, "mass") ** 2)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        return cls(counts, (px, py, pz, energy))

    def groups(
        self, minimum: int = 0, maximum: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(n, events with exactly n objects) for each n present within [minimum, maximum]."""
        for n in np.unique(self.counts):
            if n >= minimum and (maximum is None or n <= maximum):
                yield int(n), np.flatnonzero(self.counts == n)

    def matrix(self, rows: np.ndarray, n: int) -> list[np.ndarray]:
        """(px, py, pz, E) of the events ``rows`` (each with exactly n objects), (rows, n) each."""
        index = self.starts[rows, None] + np.arange(n)
        return [c[index] for c in self.components]


def _blocks(rows: np.ndarray, width: int) -> Iterator[np.ndarray]:
    """``rows`` in blocks of at most BLOCK_ELEMENTS / ``width`` events."""
    size = max(1, BLOCK_ELEMENTS // max(width, 1))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


@cache
def _triplets(n: int) -> np.ndarray:
    """(n, C(n, 3)) 0/1 matrix: column t selects the t-th triplet of itertools.combinations."""
    chooser = np.zeros((n, len(list(itertools.combinations(range(n), 3)))))
    for t, triplet in enumerate(itertools.combinations(range(n), 3)):
        chooser[list(triplet), t] = 1.0
    chooser.flags.writeable = False
    return chooser


@cache
def _splits(n: int) -> np.ndarray:
    """(n, 2ⁿ⁻¹) 0/1 matrix of group A: every unordered split once (jet 0 always in B, since
    max(m_A, m_B) is symmetric), A = {} included."""
    bits = (np.arange(1 << (n - 1))[None, :] >> np.arange(n - 1)[:, None]) & 1
    in_a = np.vstack([np.zeros((1, bits.shape[1])), bits]).astype(np.float64)
    in_a.flags.writeable = False
    return in_a


def _mass(px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """√(E² − p²), 0 where rounding makes it negative (massless objects); NaN stays NaN."""
    m2 = energy**2 - px**2 - py**2 - pz**2
    return np.sqrt(np.where(m2 > 0.0, m2, np.where(np.isnan(m2), np.nan, 0.0)))


def _flat(objects: ak.Array, name: str) -> np.ndarray:
    return np.asarray(ak.to_numpy(ak.flatten(objects[name], axis=1)), dtype=np.float64)


def _flat_angles(objects: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    return counts, _flat(objects, "eta"), _flat(objects, "phi")


def _numbers(values: ak.Array) -> np.ndarray:
    """One float64 per event; a missing value becomes NaN."""
    return np.asarray(ak.to_numpy(ak.fill_none(values, np.nan)), dtype=np.float64)


def _per_event_float(values: ak.Array) -> np.ndarray:
    return np.asarray(ak.to_numpy(values), dtype=np.float64)


def _per_event_int(values: ak.Array) -> np.ndarray:
    return np.asarray(ak.to_numpy(values), dtype=np.int64)


def _four_momentum(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    energy = np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
    return pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy


def _record_momentum(record: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return _four_momentum(record["pt"], record["eta"], record["phi"], record["mass"])


def _event_momentum(objects: ak.Array) -> tuple[np.ndarray, ...]:
    """(px, py, pz, E) of one object per event (a record array, possibly with missing
    records or NaN fields); NaN for a missing object. Reads ``energy`` when stored."""
    pt, eta, phi = (_numbers(objects[name]) for name in ("pt", "eta", "phi"))
    if "energy" in ak.fields(objects):  # with_energy's layout: the stored energy
        energy = _numbers(objects["energy"])
        return pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy
    return _four_momentum(pt, eta, phi, _numbers(objects["mass"]))


def _padded_momentum(padded: ak.Array) -> tuple[np.ndarray, ...]:
    """(px, py, pz, E) of a regular-width padded collection, (events, width) each; NaN where
    the slot is empty."""
    values = {
        name: np.asarray(ak.to_numpy(ak.fill_none(padded[name], np.nan)), dtype=np.float64)
        for name in ("pt", "eta", "phi", "mass")
    }
    return _four_momentum(values["pt"], values["eta"], values["phi"], values["mass"])


def _two_leading(leptons: ak.Array) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The two leading leptons as dicts of per-event arrays (pt, eta, phi, mass, flavour); NaN
    (flavour 0) where the event has fewer."""
    padded = ak.pad_none(leptons[:, :2], 2, axis=1)
    pair = []
    for k in (0, 1):
        obj = padded[:, k]
        record = {name: _numbers(obj[name]) for name in ("pt", "eta", "phi", "mass")}
        if "flavour" in ak.fields(leptons):
            record["flavour"] = np.asarray(ak.to_numpy(ak.fill_none(obj.flavour, 0)), np.int64)
        else:
            record["flavour"] = np.zeros(len(leptons), dtype=np.int64)
        pair.append(record)
    return pair[0], pair[1]


def _pair_mass(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> np.ndarray:
    a, b = _record_momentum(first), _record_momentum(second)
    return _mass(*(x + y for x, y in zip(a, b, strict=True)))
