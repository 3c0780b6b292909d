"""ATLAS-SUSY-2018-30 (arXiv:2211.08028): gluino pairs → ≥ 3 b-jets + E_T^miss, 139 fb⁻¹.

Cut-and-count regions (Gtt-0L, Gtt-1L, Gbb, Gtb) and the eight regions of the published
parameterised network, from truth objects through ``detector.json`` (acceptance, 77 % b-tag).
Objects and variables are in ``physics.py``; the regions (ordered cut names) and every choice
with its reason are in ``analysis.json``. § refers to ``selection.md`` (see the docs page
``docs/atlas-susy-2018-30.md``).

Every threshold is declared once, in ``cut_families``, and each cut takes its name from its
declaration (:mod:`recast.analysis.authoring`). The network is evaluated by the framework once
per chunk, for all eight published hypotheses at once, and only when it is loaded: without its
file the runner skips the network regions and the cut-and-count ones run alone. The option
``met_phi_convention`` (default in ``analysis.json``) chooses the card, i.e. the range φ(MET)
is given to the network in (§9.16).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import (
    Analysis,
    NetworkNotLoadedError,
    cut,
    network_scores,
    threshold,
    window,
)
from recast.analysis.authoring import Threshold, Window
from recast.analysis.code import import_file
from recast.analysis.variables import by_pt, leading_pt
from recast.errors import RecastError, UsageError

__all__ = ["Atlas2018Susy30", "NetworkNotLoadedError"]

log = logging.getLogger(__name__)


def _sibling(name: str) -> Any:
    """A module next to this file, importable by Dask workers under a stable name."""
    return import_file(
        f"recast_bundle_ATLAS_SUSY_2018_30_{name}",
        Path(__file__).with_name(f"{name}.py"),
        reuse=True,
    )


physics = _sibling("physics")

#: the network the regions declare in analysis.json; the option picks the card that serves it
NETWORK = "multib"
#: option met_phi_convention → the network (card) the bundle uses
MET_PHI_CARDS = {"[0, 2pi)": "multib", "(-pi, pi]": "multib_signed_met_phi"}
#: the eight published hypotheses by tag (§5.5): (isGtt, m(g̃), m(χ̃⁰₁))
NN_POINTS: dict[str, tuple[int, int, int]] = {
    "gtt_1900_1400": (1, 1900, 1400),
    "gtt_1800_1": (1, 1800, 1),
    "gtt_2100_1": (1, 2100, 1),
    "gtt_2300_1200": (1, 2300, 1200),
    "gbb_2000_1800": (0, 2000, 1800),
    "gbb_2100_1600": (0, 2100, 1600),
    "gbb_2300_1000": (0, 2300, 1000),
    "gbb_2800_1400": (0, 2800, 1400),
}
#: output columns (card labels) read: the signal class of the hypothesis, tt̄ and Z+jets (§5.1)
SCORE_LABELS = {"ttbar": "ttbar", "z": "Zjets"}
LOG10_FLOOR = 1e-30  # log10 of a probability that underflowed to 0

# -- the network regions' thresholds, by hypothesis ---------------------------------------------
#: signal regions (§5.6): P(signal class) >
SR_SCORES = {
    "gtt_2100_1": 0.9997,
    "gtt_1800_1": 0.9997,
    "gtt_2300_1200": 0.9993,
    "gtt_1900_1400": 0.9987,
    "gbb_2800_1400": 0.999,
    "gbb_2300_1000": 0.9994,
    "gbb_2100_1600": 0.9993,
    "gbb_2000_1800": 0.997,
}
#: tt̄ control regions (§5.7): (P window low, high; log10 P(tt̄) >)
CR_SCORES = {
    "gtt_2100_1": (0.68, 0.86, -1.8),
    "gtt_1800_1": (0.73, 0.89, -2.0),
    "gtt_2300_1200": (0.78, 0.83, -1.6),
    "gbb_2300_1000": (0.52, 0.77, -0.8),
    "gbb_2100_1600": (0.88, 0.91, -1.3),
    "gbb_2000_1800": (0.92, 0.93, -1.9),
}
#: Z control regions (§5.8), on the Z-CR inputs: (P >; log10 P(tt̄) <; log10 P(Z+jets) >)
CRZ_SCORES = {
    "gbb_2800_1400": (0.6, -1.3, -3.0),
    "gbb_2300_1000": (0.8, -1.3, -2.7),
    "gbb_2100_1600": (0.9, -1.7, -4.9),
    "gbb_2000_1800": (0.9, -2.2, -3.7),
}


def _signal_class(tag: str) -> str:
    return tag[:3].capitalize()


def _score_families() -> Iterator[Threshold | Window]:
    """The network regions' cuts, from the tables above: each reads a score field that
    :meth:`Atlas2018Susy30.scores` fills, and refuses to run without the network."""
    score = partial(threshold, network=NETWORK)
    for tag, low in SR_SCORES.items():
        yield score(
            f"nn_{tag}_p", ">", low, f"P({_signal_class(tag)}) at {tag} > {low}", name=f"p_{tag}"
        )
    for tag, (low, high, ttbar) in CR_SCORES.items():
        what = f"CR window of {tag}: P > {low} and < {high}"
        yield window(f"nn_{tag}_p", low, high, what, name=f"p_{tag}", network=NETWORK)
        what = f"log10 P(tt̄) at {tag} > {ttbar}"
        yield score(f"nn_{tag}_log10_ttbar", ">", ttbar, what, name=f"log10_p_ttbar_{tag}")
    for tag, (low, ttbar, z) in CRZ_SCORES.items():
        what = f"P(Gbb) at {tag}, no lepton inputs and MET-hat > {low}"
        yield score(f"crz_{tag}_p", ">", low, what, name=f"crz_p_{tag}")
        what = f"log10 P(tt̄) at {tag}, Z-CR inputs < {ttbar}"
        yield score(f"crz_{tag}_log10_ttbar", "<", ttbar, what, name=f"crz_log10_p_ttbar_{tag}")
        what = f"log10 P(Z+jets) at {tag}, Z-CR inputs > {z}"
        yield score(f"crz_{tag}_log10_z", ">", z, what, name=f"crz_log10_p_z_{tag}")


class Atlas2018Susy30(Analysis):
    """ATLAS-SUSY-2018-30 at truth level with the §8 recipe and the §9 recommendations."""

    cut_families = (
        # -- preselection and channels (§3) ----------------------------------------------------
        threshold("n_jets", ">=", 4, "≥ 4 signal jets (pT > 30 GeV, |η| < 2.8)"),
        threshold("n_b", ">=", 3, "≥ 3 b-jets (77 % WP, |η| < 2.5)"),
        threshold("met_pt", ">", 200, "E_T^miss > 200 GeV (trigger plateau)", name="met"),
        threshold("n_baseline_leptons", "==", 0, "no baseline e or μ after OR (§9.22)"),
        threshold("n_signal_leptons", ">=", 1, "≥ 1 signal (isolated) lepton"),
        threshold("dphi4j_min", ">=", (0.4, 0.6), "Δφ^4j_min ≥ {value}"),
        threshold("dphi4j_min", ">", 0.5, "Δφ^4j_min > 0.5 (NN CRs)"),
        # -- multiplicities ---------------------------------------------------------------------
        threshold("n_jets", ">=", (5, 6, 7, 10), "≥ {value} jets"),
        # the published "N_jet ≥ n && N_b ≥ 3" step (N_b ≥ 3 is preselected)
        threshold(
            "n_jets", ">=", (4, 5, 8, 9, 10), "≥ {value} jets and ≥ 3 b-jets", suffix="_n_b_ge_3"
        ),
        threshold("n_jets", "==", (4, 5, 8, 9), "{value} jets"),
        threshold("n_b", ">=", 4, "≥ 4 b-jets"),
        # -- thresholds (GeV) -------------------------------------------------------------------
        threshold(
            "met_pt",
            ">=",
            (300, 350, 400, 450, 500, 550, 600),
            "E_T^miss ≥ {value} GeV",
            name="met",
        ),
        threshold(
            "meff",
            ">=",
            (800, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 2000, 2200, 2300, 2500, 2600, 2900),
            "m_eff ≥ {value} GeV",
        ),
        threshold("meff", ">", 400, "m_eff > 400 GeV"),
        threshold("mT", ">=", (150, 200), "m_T ≥ {value} GeV"),
        threshold("mT", "<", (150, 200), "m_T < {value} GeV"),
        threshold("mT_bmin", ">=", (120, 130, 180), "m_T,min^b-jets ≥ {value} GeV"),
        threshold("MJ", ">=", (50, 100, 150, 200, 300), "M_J^Σ,4 ≥ {value} GeV"),
        threshold("MJ", "<", (400, 500, 800), "M_J^Σ,4 < {value} GeV"),
        threshold("leading_jet_pt", ">=", 65, "leading-jet pT ≥ 65 GeV (§9.15)"),
        # -- Z control regions (§5.8) ---------------------------------------------------------
        threshold("mll", ">", 60, "m_ℓℓ > 60 GeV", name="crz_mll"),
        threshold("mll", "<", 120, "m_ℓℓ < 120 GeV", name="crz_mll"),
        threshold("ptll", ">", 70, "pT(ℓℓ) > 70 GeV", name="crz_ptll"),
        threshold(
            "met_hat_pt",
            ">",
            200,
            "E_T^miss-hat = |p_T^miss + p_T(ℓ₁) + p_T(ℓ₂)| > 200 GeV",
            name="met_hat",
        ),
        # -- network scores (§5.6, §5.7, §5.8) ------------------------------------------------
        *_score_families(),
    )

    @cut("nn_gtt_channel", "0L (no baseline lepton, Δφ^4j_min ≥ 0.4) or ≥ 1 signal lepton (§5.2)")
    def nn_gtt_channel(self, events: ak.Array) -> ak.Array:
        zero = (events.n_baseline_leptons == 0) & (events.dphi4j_min >= 0.4)
        return zero | (events.n_signal_leptons >= 1)

    @cut("crz_two_signal_leptons_sfos", "exactly 2 signal leptons, same flavour, opposite charge")
    def crz_sfos(self, events: ak.Array) -> ak.Array:
        return events.sfos

    def setup(self) -> None:
        self.met_phi_convention = str(self.option("met_phi_convention"))
        self.network_name = MET_PHI_CARDS[self.met_phi_convention]
        if self.networks and self.network_name not in self.networks:
            raise UsageError(
                f"ATLAS_SUSY_2018_30: met_phi_convention = {self.met_phi_convention!r} evaluates "
                f"the network through the card {self.network_name!r}, whose file was not found; "
                f"give the same file for it too (--network {self.network_name}=PATH), or copy it "
                "to the user data folder, where every card finds it"
            )

    def network_key(self, network: str) -> str:
        return self.network_name if network == NETWORK else network

    # -- objects and variables ------------------------------------------------------------
    def variables(self, events: ak.Array) -> dict[str, Any]:
        jets, electrons, muons = (by_pt(events[name]) for name in ("jets", "electrons", "muons"))
        jets, electrons, muons = physics.overlap_removal(jets, electrons, muons)
        met = events.met
        signal = physics.leptons(physics.signal_electrons(electrons), physics.signal_muons(muons))
        b_jets = jets[physics.b_flag(jets)]
        large_r = physics.reclustered_large_r(jets)
        pair = physics.dilepton(signal)
        met_hat = physics.met_hat(met, pair)
        return {
            "signal_jets": ak.with_field(jets, physics.b_flag(jets), "btag"),
            "b_jets": b_jets,
            "large_R_jets": large_r,
            "signal_leptons": signal,
            "n_jets": ak.num(jets, axis=1),
            "n_b": ak.num(b_jets, axis=1),
            "n_baseline_leptons": ak.num(electrons, axis=1) + ak.num(muons, axis=1),
            "n_signal_leptons": ak.num(signal, axis=1),
            "met_pt": met.pt,
            "meff": physics.meff(jets, signal, met),
            "mT": physics.mt_leading_lepton(signal, met),
            "mT_bmin": physics.mt_b_min(b_jets, met),
            "dphi4j_min": physics.dphi_min_4j(jets, met),
            "MJ": physics.mj_sum4(large_r),
            "leading_jet_pt": leading_pt(jets),
            "sfos": pair["sfos"],
            "mll": pair["mll"],
            "ptll": pair["ptll"],
            "met_hat": met_hat,
            "met_hat_pt": met_hat.pt,
        }

    def _network_events(self, events: ak.Array, crz: bool) -> ak.Array:
        """The collections the card reads: the signal jets (isb = b-jet flag), the large-R
        jets, the signal leptons and MET; for the Z CRs no lepton and MET-hat (§5.8)."""
        leptons = events.signal_leptons[:, :0] if crz else events.signal_leptons
        return ak.zip(
            {
                "small_R_jets": events.signal_jets,
                "large_R_jets": events.large_R_jets,
                "leptons": leptons,
                "met": events.met_hat if crz else events.met,
                "event_number": events.event_number,
            },
            depth_limit=1,
        )

    @network_scores(NETWORK)
    def scores(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        """All eight hypotheses in one call per selection: the SR/CR inputs on events passing
        the common preselection, the Z-CR inputs on those passing the Z-CR object cuts."""
        points = list(session.card.parameter_points)
        index = {
            tag: _point_index(points, value, session.card.source)
            for tag, value in NN_POINTS.items()
        }
        n = len(events)
        common = np.asarray(
            (events.n_jets >= 4) & (events.n_b >= 3) & (events.met_pt > 200.0), dtype=bool
        )
        z_like = np.asarray(
            events.sfos & (events.n_jets >= 4) & (events.n_b >= 3) & (events.met_hat_pt > 200.0),
            dtype=bool,
        )
        values: dict[str, np.ndarray] = {}
        for prefix, selected, crz in (("nn", common, False), ("crz", z_like, True)):
            rows = np.flatnonzero(selected)
            scores = (
                session.evaluate(self._network_events(events[rows], crz), parameters=points)
                if len(rows)
                else None
            )
            for tag, k in index.items():
                for label, column in (("main", _signal_class(tag)), *SCORE_LABELS.items()):
                    full = np.full(n, np.nan)  # not evaluated: every score cut fails
                    if scores is not None:
                        full[rows] = np.asarray(scores[k][column], dtype=np.float64)
                    if label == "main":
                        values[f"{prefix}_{tag}_p"] = full
                    else:
                        values[f"{prefix}_{tag}_log10_{label}"] = np.log10(
                            np.maximum(full, LOG10_FLOOR)
                        )
        return values


def _point_index(
    points: Sequence[Mapping[str, float]], value: tuple[int, int, int], source: Any
) -> int:
    for i, point in enumerate(points):
        if (point.get("isGtt"), point.get("mGluino"), point.get("mLSP")) == value:
            return i
    raise RecastError(
        f"{source}: the card's parameter_points lack (isGtt, mGluino, mLSP) = {value}; the "
        "ATLAS-SUSY-2018-30 card lists the eight published hypotheses (§5.5)"
    )
