"""ATLAS-SUSY-2018-30 objects and variables: overlap removal, signal leptons, re-clustered
large-R jets, m_eff, m_T, m_T,min^b, Δφ^4j_min, M_J^Σ,4 and the Z-control-region MET.

Pure columnar functions on awkward collections (one record per event); every choice is the
recommendation of ``selection.md`` §8/§9 and is listed, with its reason, in ``analysis.json``
``choices``. Section numbers (§) refer to that document.
"""

from __future__ import annotations

import logging

import awkward as ak
import numpy as np

from recast.objects import jets as jet_tools
from recast.objects.kinematics import collection, kinematics

log = logging.getLogger(__name__)

ELECTRON_MASS = 0.000511  # GeV, PDG; the network's lepton-mass inputs (§9.18)
MUON_MASS = 0.10566  # GeV, PDG
B_TAG_MAX_ABS_ETA = 2.5  # a b-jet is a tagged signal jet with |η| < 2.5 (§1.2, §9.4)
#: overlap-removal cones (§8.4): jet–e 0.2 (non-b), e–jet 0.4, jet–μ 0.2 (≤ 2 tracks), μ–jet 0.4
OR_JET_ELECTRON = 0.2
OR_ELECTRON_JET = 0.4
OR_JET_MUON = 0.2
OR_MUON_JET = 0.4
OR_MAX_TRACKS = 2
#: signal-muon isolation: Σ pT in the cone / pT below this (FixedCutTightTrackOnly ratio, §1.5)
MUON_ISOLATION_MAX = 0.06
#: signal-electron isolation: the track part of FCLoose (§1.4, §9.7)
ELECTRON_ISOLATION_MAX = 0.15
LARGE_R_RADIUS = 0.8
LARGE_R_FCUT = 0.10
LARGE_R_MIN_PT = 100.0
LARGE_R_MAX_ABS_ETA = 2.0
MJ_LEADING = 4  # M_J^Σ,4 sums the up-to-4 leading large-R jets (§9.13)


def wrap_phi(phi: ak.Array | np.ndarray) -> ak.Array | np.ndarray:
    """Angles into (−π, π]."""
    return np.pi - (np.pi - phi) % (2 * np.pi)


def delta_phi(a: ak.Array | np.ndarray, b: ak.Array | np.ndarray) -> ak.Array | np.ndarray:
    """|Δφ| folded into [0, π]."""
    return abs(wrap_phi(a - b))


def by_pt(objects: ak.Array) -> ak.Array:
    """The objects of each event in decreasing pT (the "leading" objects come first)."""
    return objects[ak.argsort(objects.pt, axis=1, ascending=False, stable=True)]


def rapidity(objects: ak.Array) -> ak.Array:
    """y = asinh(pT sinh η / √(pT² + m²)); y = η for massless objects."""
    mt = np.sqrt(objects.pt**2 + objects.mass**2)
    return np.arcsinh(objects.pt * np.sinh(objects.eta) / mt)


def near(objects: ak.Array, others: ak.Array, cone: float) -> ak.Array:
    """Per object: is any of ``others`` within ΔR(y, φ) < ``cone``? ΔR uses rapidity (§1.7 CM)."""
    y1, y2 = ak.unzip(ak.cartesian([rapidity(objects), rapidity(others)], nested=True))
    p1, p2 = ak.unzip(ak.cartesian([objects.phi, others.phi], nested=True))
    dr = np.sqrt((y1 - y2) ** 2 + delta_phi(p1, p2) ** 2)
    return ak.any(dr < cone, axis=2)


def overlap_removal(
    jets: ak.Array, electrons: ak.Array, muons: ak.Array, tracks_field: str = "n_charged"
) -> tuple[ak.Array, ak.Array, ak.Array]:
    """The four steps of §8.4, in this order, each on what the previous ones left:

    1. non-b-tagged jets within ΔR < 0.2 of a baseline electron are removed;
    2. electrons within ΔR < 0.4 of a remaining jet are removed;
    3. jets with ≤ 2 charged tracks within ΔR < 0.2 of a muon are removed;
    4. muons within ΔR < 0.4 of a remaining jet are removed.

    The b-tag exemption of step 1 uses the b-jet flag (tagged and |η| < 2.5, §9.4). Step 3
    reads the jets' ``tracks_field`` (charged constituents above 0.5 GeV) when the jets carry
    it; truth jets built without the prompt leptons do not, and are then treated as having
    more than 2 tracks (see the bundle's choices: a jet near a prompt muon is then hadronic).
    """
    is_b = b_flag(jets)
    jets = jets[is_b | ~near(jets, electrons, OR_JET_ELECTRON)]
    electrons = electrons[~near(electrons, jets, OR_ELECTRON_JET)]
    if tracks_field in ak.fields(jets):
        few_tracks = jets[tracks_field] <= OR_MAX_TRACKS
        jets = jets[~(few_tracks & near(jets, muons, OR_JET_MUON))]
    muons = muons[~near(muons, jets, OR_MUON_JET)]
    return jets, electrons, muons


def b_flag(jets: ak.Array) -> ak.Array:
    """A b-jet: b-tagged (the detector's sampled 77 % WP decision) and |η| < 2.5."""
    return jets.btag & (abs(jets.eta) < B_TAG_MAX_ABS_ETA)


def _isolation(leptons: ak.Array) -> ak.Array:
    """Track isolation (ptvarcone) when the objects carry it, else the fixed-cone one."""
    return leptons.isolation_track if "isolation_track" in leptons.fields else leptons.isolation


def signal_electrons(electrons: ak.Array) -> ak.Array:
    """Isolated baseline electrons: tracks in ΔR < min(0.2, 10 GeV/pT) below 0.15 pT (FCLoose
    track part, §9.7)."""
    return electrons[_isolation(electrons) < ELECTRON_ISOLATION_MAX]


def signal_muons(muons: ak.Array) -> ak.Array:
    """Isolated baseline muons: tracks in ΔR < min(0.3, 10 GeV/pT) below 0.06 pT (§9.8)."""
    return muons[_isolation(muons) < MUON_ISOLATION_MAX]


def leptons(electrons: ak.Array, muons: ak.Array) -> ak.Array:
    """Electrons and muons in one pT-descending collection: pt, eta, phi, mass (PDG), charge,
    flavour (11 or 13)."""

    def part(objects: ak.Array, mass: float, flavour: int) -> ak.Array:
        return ak.zip(
            {
                "pt": objects.pt,
                "eta": objects.eta,
                "phi": objects.phi,
                "mass": ak.ones_like(objects.pt) * mass,
                "charge": objects.charge,
                "flavour": ak.values_astype(ak.ones_like(objects.pt) * flavour, np.int32),
            },
            with_name="Momentum4D",
        )

    merged = ak.concatenate(
        [part(electrons, ELECTRON_MASS, 11), part(muons, MUON_MASS, 13)], axis=1
    )
    return by_pt(merged)


def reclustered_large_r(jets: ak.Array) -> ak.Array:
    """Anti-kT R = 0.8 jets from the signal small-R jets, trimmed (inputs below 10 % of the
    untrimmed pT dropped), then pT > 100 GeV and |η| < 2.0, sorted by pT after trimming (§1.3,
    §9.11). Fields pt, eta, phi (in (−π, π]), mass."""
    n = len(jets)
    counts = np.asarray(ak.num(jets, axis=1), dtype=np.int64)
    event = np.repeat(np.arange(n), counts)
    pt, eta, phi, mass = (
        np.asarray(ak.flatten(jets[k]), dtype=np.float64) for k in ("pt", "eta", "phi", "mass")
    )
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    momenta = (px, py, pz, energy)
    large = jet_tools.cluster(event, momenta, n, LARGE_R_RADIUS, 0.0, constituents=True)
    if len(large):
        assert large.constituents is not None and large.constituent_start is not None
        owner = np.repeat(np.arange(len(large)), np.diff(large.constituent_start))
        subjets = jet_tools.FlatJets(owner, *(m[large.constituents] for m in momenta))
        large = jet_tools.trim(large, subjets, owner, LARGE_R_FCUT)
    l_pt, l_eta, l_phi, l_mass = kinematics(large.px, large.py, large.pz, large.energy)
    keep = (l_pt > LARGE_R_MIN_PT) & (np.abs(l_eta) < LARGE_R_MAX_ABS_ETA)
    fields = {"pt": l_pt[keep], "eta": l_eta[keep], "phi": l_phi[keep], "mass": l_mass[keep]}
    return collection(large.event[keep], n, fields)


def transverse_mass(pt: ak.Array, phi: ak.Array, met_pt: ak.Array, met_phi: ak.Array) -> ak.Array:
    """√(2 pT E_T^miss (1 − cos Δφ))."""
    return np.sqrt(2.0 * pt * met_pt * (1.0 - np.cos(phi - met_phi)))


def meff(jets: ak.Array, signal_leptons: ak.Array, met: ak.Array) -> ak.Array:
    """E_T^miss + Σ pT(signal jets) + Σ pT(signal leptons) (§2, §9.14)."""
    return met.pt + ak.sum(jets.pt, axis=1) + ak.sum(signal_leptons.pt, axis=1)


def mt_leading_lepton(signal_leptons: ak.Array, met: ak.Array) -> ak.Array:
    """m_T of the leading signal lepton and MET; 0 without a signal lepton (1L variable)."""
    lead = ak.firsts(signal_leptons)
    value = transverse_mass(lead.pt, lead.phi, met.pt, met.phi)
    return ak.fill_none(value, 0.0)


def mt_b_min(b_jets: ak.Array, met: ak.Array) -> ak.Array:
    """The smallest m_T(b, MET) of the three leading b-jets; 0 without a b-jet."""
    lead = b_jets[:, :3]
    value = ak.min(transverse_mass(lead.pt, lead.phi, met.pt, met.phi), axis=1)
    return ak.fill_none(value, 0.0)


def dphi_min_4j(jets: ak.Array, met: ak.Array) -> ak.Array:
    """min |Δφ(jet, MET)| over the four leading signal jets (b and non-b); π without a jet."""
    value = ak.min(delta_phi(jets.phi[:, :4], met.phi), axis=1)
    return ak.fill_none(value, np.pi)


def mj_sum4(large_r: ak.Array) -> ak.Array:
    """M_J^Σ,4: the summed mass of the up-to-4 leading large-R jets (§9.13)."""
    return ak.sum(large_r.mass[:, :MJ_LEADING], axis=1)


def leading_pt(objects: ak.Array) -> ak.Array:
    return ak.fill_none(ak.firsts(objects.pt), 0.0)


def dilepton(signal_leptons: ak.Array) -> dict[str, ak.Array]:
    """For the Z control regions: exactly 2 signal leptons of the same flavour and opposite
    charge (``sfos``), their invariant mass and pT (0 when there are not exactly two)."""
    two = ak.num(signal_leptons, axis=1) == 2
    padded = ak.pad_none(signal_leptons, 2, axis=1)
    a, b = padded[:, 0], padded[:, 1]
    sfos = ak.fill_none(two & (a.flavour == b.flavour) & (a.charge * b.charge < 0), False)
    px = a.pt * np.cos(a.phi) + b.pt * np.cos(b.phi)
    py = a.pt * np.sin(a.phi) + b.pt * np.sin(b.phi)
    pz = a.pt * np.sinh(a.eta) + b.pt * np.sinh(b.eta)
    e = sum(np.sqrt((o.pt * np.cosh(o.eta)) ** 2 + o.mass**2) for o in (a, b))
    m2 = e**2 - px**2 - py**2 - pz**2
    return {
        "sfos": sfos,
        "mll": ak.fill_none(np.sqrt(np.maximum(m2, 0.0)), 0.0),
        "ptll": ak.fill_none(np.hypot(px, py), 0.0),
        "px": ak.fill_none(px, 0.0),
        "py": ak.fill_none(py, 0.0),
    }


def met_hat(met: ak.Array, pair: dict[str, ak.Array]) -> ak.Array:
    """|p_T^miss + p_T(ℓ₁) + p_T(ℓ₂)| as a Momentum2D (pt, phi): the leptons made invisible.
    Events without a same-flavour opposite-charge pair keep their MET."""
    px = met.pt * np.cos(met.phi) + ak.where(pair["sfos"], pair["px"], 0.0)
    py = met.pt * np.sin(met.phi) + ak.where(pair["sfos"], pair["py"], 0.0)
    return ak.zip({"pt": np.hypot(px, py), "phi": np.arctan2(py, px)}, with_name="Momentum2D")
