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

from recast.analysis import variables

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
    jets = jets[is_b | ~variables.near(jets, electrons, OR_JET_ELECTRON)]
    electrons = electrons[~variables.near(electrons, jets, OR_ELECTRON_JET)]
    if tracks_field in ak.fields(jets):
        few_tracks = jets[tracks_field] <= OR_MAX_TRACKS
        jets = jets[~(few_tracks & variables.near(jets, muons, OR_JET_MUON))]
    muons = muons[~variables.near(muons, jets, OR_MUON_JET)]
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
    return variables.by_pt(merged)


def reclustered_large_r(jets: ak.Array) -> ak.Array:
    """Anti-kT R = 0.8 jets from the signal small-R jets, trimmed (inputs below 10 % of the
    untrimmed pT dropped), then pT > 100 GeV and |η| < 2.0, sorted by pT after trimming (§1.3,
    §9.11). Fields pt, eta, phi (in (−π, π]), mass."""
    return variables.recluster(
        jets,
        LARGE_R_RADIUS,
        trim_fcut=LARGE_R_FCUT,
        min_pt=LARGE_R_MIN_PT,
        max_abs_eta=LARGE_R_MAX_ABS_ETA,
    )


def meff(jets: ak.Array, signal_leptons: ak.Array, met: ak.Array) -> ak.Array:
    """E_T^miss + Σ pT(signal jets) + Σ pT(signal leptons) (§2, §9.14)."""
    return met.pt + ak.sum(jets.pt, axis=1) + ak.sum(signal_leptons.pt, axis=1)


def mt_leading_lepton(signal_leptons: ak.Array, met: ak.Array) -> ak.Array:
    """m_T of the leading signal lepton and MET; 0 without a signal lepton (1L variable)."""
    return variables.leading_transverse_mass(signal_leptons, met)


def mt_b_min(b_jets: ak.Array, met: ak.Array) -> ak.Array:
    """The smallest m_T(b, MET) of the three leading b-jets; 0 without a b-jet."""
    return variables.min_transverse_mass(b_jets, met, leading=3)


def dphi_min_4j(jets: ak.Array, met: ak.Array) -> ak.Array:
    """min |Δφ(jet, MET)| over the four leading signal jets (b and non-b); π without a jet."""
    return variables.min_delta_phi(jets, met, leading=4)


def mj_sum4(large_r: ak.Array) -> ak.Array:
    """M_J^Σ,4: the summed mass of the up-to-4 leading large-R jets (§9.13)."""
    return variables.sum_of_masses(large_r, leading=MJ_LEADING)


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
