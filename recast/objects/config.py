"""The settings of :func:`recast.objects.build_objects`, with their defaults and why."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import UsageError

#: Neutrinos: always invisible, whatever ``ObjectConfig.invisible`` says.
NEUTRINOS: tuple[int, ...] = (12, 14, 16)

#: |PDG id| of final-state particles that leave no trace: neutrinos, the lightest neutralino,
#: sneutrinos, the gravitino, and the second neutralino (it only counts when a sample leaves it
#: stable, i.e. status 1: compressed spectra whose χ̃⁰₂ decay is not simulated).
DEFAULT_INVISIBLE: tuple[int, ...] = (
    *NEUTRINOS,
    1000022,
    1000012,
    1000014,
    1000016,
    1000039,
    1000023,
)

LARGE_R_KINDS = ("particles", "reclustered")
FLAVOUR_MATCHING = ("cone", "ghost")


@dataclass(frozen=True, kw_only=True)
class ObjectConfig:
    """How truth objects are built; momenta in GeV, distances ΔR in (η, φ).

    The defaults follow the usual ATLAS/CMS truth definitions: anti-kT R = 0.4 jets above
    20 GeV, HadronConeExclTruthLabelID flavour labels (ΔR < 0.3, hadrons above 5 GeV), leptons
    dressed with the prompt photons within ΔR < 0.1, relative isolation in ΔR < 0.2.
    """

    #: |PDG id| excluded from jets and isolation and summed into ``met`` (neutrinos always are)
    invisible: tuple[int, ...] = DEFAULT_INVISIBLE

    jet_radius: float = 0.4
    jet_min_pt: float = 20.0
    #: None keeps jets at every |η|
    jet_max_abs_eta: float | None = None
    #: True clusters jets without the prompt electrons and muons and their dressing photons
    #: (ATLAS "WZ" truth jets); by default a prompt lepton is also a jet, as in "AntiKt4Truth"
    jet_exclude_leptons: bool = False
    #: count each jet's charged constituents above this pT as ``n_charged`` (its tracks; ATLAS
    #: overlap removal asks for them); None leaves the field out
    jet_track_min_pt: float | None = None

    #: None (no ``large_R_jets``), "particles" (anti-kT from the particles) or "reclustered"
    #: (anti-kT from the small-R jets above ``jet_min_pt``)
    large_R: str | None = None
    large_R_radius: float = 1.0
    large_R_min_pt: float = 100.0
    large_R_max_abs_eta: float | None = None
    #: trimming: drop subjets below this fraction of the large-R jet pT (None: no trimming);
    #: subjets are the small-R jets for "reclustered", kT subjets of ``trim_radius`` otherwise
    trim_fcut: float | None = None
    trim_radius: float = 0.2

    #: "cone": each hadron to its closest jet within ``flavour_dr`` of the axis (exclusive);
    #: "ghost": hadrons clustered as ghosts, each belongs to the jet that absorbs it
    flavour_matching: str = "cone"
    flavour_dr: float = 0.3
    #: weakly-decaying b/c-hadrons below this pT do not label jets
    flavour_hadron_min_pt: float = 5.0
    #: hadronic τ (visible momentum) below this pT do not label jets
    flavour_tau_min_pt: float = 10.0

    lepton_min_pt: float = 5.0
    lepton_max_abs_eta: float | None = None
    #: keep electrons and muons from τ decays (flagged ``from_tau``); False drops them
    leptons_from_tau: bool = True
    #: add prompt photons within this ΔR of a lepton to it (None: bare leptons)
    dressing_dr: float | None = 0.1
    isolation_dr: float = 0.2
    #: ``isolated`` is ``isolation < isolation_max`` (Σ pT in the cone / object pT)
    isolation_max: float = 0.15
    #: track isolation ``isolation_track`` of electrons and muons: Σ pT of charged particles
    #: above ``track_min_pt`` within ΔR < min(radius, track_isolation_k / pT), over the pT
    #: (ATLAS ptvarcone20 for electrons, ptvarcone30 for muons); None leaves it out
    track_isolation_k: float | None = None
    track_isolation_radius_electron: float = 0.2
    track_isolation_radius_muon: float = 0.3
    track_min_pt: float = 1.0

    photon_min_pt: float = 10.0
    photon_max_abs_eta: float | None = None
    #: hadronic τ leptons, by visible pT
    tau_min_pt: float = 10.0
    tau_max_abs_eta: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool):
                positive = f.name.endswith(("_radius", "_dr")) or f.name == "isolation_max"
                if not math.isfinite(value) or value < 0 or (positive and value == 0):
                    need = "> 0" if positive else ">= 0"
                    problems.append(f"{f.name} = {value!r} must be a finite number {need}")
        if self.large_R is not None and self.large_R not in LARGE_R_KINDS:
            problems.append(f"large_R = {self.large_R!r} must be None or one of {LARGE_R_KINDS}")
        if self.flavour_matching not in FLAVOUR_MATCHING:
            problems.append(
                f"flavour_matching = {self.flavour_matching!r} must be one of {FLAVOUR_MATCHING}"
            )
        if self.trim_fcut is not None and not 0 <= self.trim_fcut < 1:
            problems.append(f"trim_fcut = {self.trim_fcut!r} must be in [0, 1)")
        try:
            invisible = tuple(sorted({abs(int(p)) for p in self.invisible}))
        except (TypeError, ValueError):
            problems.append(f"invisible = {self.invisible!r} must be a list of PDG ids")
        if problems:
            raise UsageError("ObjectConfig: " + "; ".join(problems))
        object.__setattr__(self, "invisible", invisible)

    @property
    def invisible_ids(self) -> tuple[int, ...]:
        """|PDG id| treated as invisible: ``invisible`` plus the neutrinos."""
        return tuple(sorted(set(self.invisible) | set(NEUTRINOS)))
