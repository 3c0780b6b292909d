"""ATLAS-SUSY-2019-04 (arXiv:2106.09609): R-parity-violating SUSY in final states with
leptons and many jets, 139 fb⁻¹ — the 1-lepton neural-network regions and the jet-counting
regions, from truth objects through ``detector.json`` (acceptance, 70 % b-tag).

Five networks, one per exact jet multiplicity N = 4…8, each fed 65 inputs that its card
builds from the objects: the card states the units (energies in 100 GeV), the padding of
missing jets (η and φ −5, pT and E 1e-7, b-tag bin 0), the φ range and the order. This module
computes the event-level variables (in GeV) and hands the card the collections; it does no
unit, padding or ordering of its own.

The conventions the public sources disagree on (selection.md §8) are options, each defaulting
to the choice that reproduces ATLAS in the truth-level check of §7, so that their effect can be
measured (docs/atlas-susy-2019-04.md). The options that change what a network is fed change
its card (:meth:`recast.preserve.card.NetworkCard.edited`), never this code's numbers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import Analysis, cut, network_scores, threshold, window
from recast.analysis.code import import_file
from recast.preserve.session import NetworkSession

__all__ = ["Atlas2019Susy04"]

log = logging.getLogger(__name__)


def _sibling(name: str) -> Any:
    """A module next to this file, importable by Dask workers under a stable name."""
    return import_file(
        f"recast_bundle_ATLAS_SUSY_2019_04_{name}",
        Path(__file__).with_name(f"{name}.py"),
        reuse=True,
    )


physics = _sibling("physics")
regions = _sibling("regions")

NN_JETS = tuple(regions.NN_BINS)
#: the thresholds of the jet-counting regions (§2.3): jet pT (GeV) → jet counts asked for
JET_COUNTS = {20: (6, 10, 15), 40: (8, 12), 60: (7, 11), 80: (7, 10), 100: (6, 8)}
LEAD_LEPTON_PT = 27
MLJ_MINMAX_MAX = 155

#: option → {choice: (card changes, why)}: the conventions that change what the network reads
CARD_CONVENTIONS: dict[str, dict[Any, tuple[dict[str, dict[str, Any]], str]]] = {
    "eta_padding": {
        1e-7: (
            {"jet_eta_*": {"padding": {"value": 1e-7, "stage": "after_preprocessing"}}},
            "missing jets' η padded with 1e-7 (GAMBIT, Rivet) instead of −5",
        ),
    },
    "lepton_met_units": {
        "GeV lepton": (
            {n: {"unit": "GeV"} for n in ("lepton_pt", "lepton_e")},
            "lepton pT and E fed in GeV (Rivet) instead of 100 GeV",
        ),
        "GeV lepton and MET": (
            {n: {"unit": "GeV"} for n in ("lepton_pt", "lepton_e", "met")},
            "lepton pT, E and MET fed in GeV (GAMBIT) instead of 100 GeV",
        ),
    },
    "phi_range": {
        "[0, 2pi)": (
            {p: {"angle_range": "[0, 2pi)"} for p in ("jet_phi_*", "lepton_phi", "met_phi")},
            "every φ in [0, 2π) (Rivet) instead of (−π, π]",
        ),
    },
}


def _families() -> tuple[Any, ...]:
    families: list[Any] = [
        threshold("lead_lepton_pt", ">", LEAD_LEPTON_PT, "leading signal lepton pT > 27 GeV"),
        threshold("n_b_20", ">=", 4, "≥ 4 b-jets (pT > 20 GeV)"),
        threshold("mlj_minmax", "<", MLJ_MINMAX_MAX, "m_ℓj^minmax < 155 GeV (4 leading jets)"),
        # exactly N jets: the network regions (4…8) and SR11 (6)
        threshold("n_jets_20", "==", NN_JETS, "exactly {value} jets (pT > 20 GeV)"),
    ]
    for pt, counts in JET_COUNTS.items():
        families.append(
            threshold(f"n_jets_{pt}", ">=", counts, f"≥ {{value}} jets with pT > {pt} GeV")
        )
        families.append(threshold(f"n_b_{pt}", "==", 0, f"no b-jet with pT > {pt} GeV"))
        families.append(threshold(f"n_b_{pt}", ">=", 3, f"≥ 3 b-jets with pT > {pt} GeV"))
    for n, (high, e1, e2) in regions.NN_BINS.items():
        net = f"nn_{n}j"  # the network, and the score field its method fills
        families.append(
            threshold(net, ">", high, f"{n}-jet network score > {{value}}", network=net)
        )
        for low, top in ((0.0, e1), (e1, e2), (e2, high)):
            families.append(
                window(net, low, top, f"{n}-jet network score in ({low}, {top})", network=net)
            )
    return tuple(families)


class Atlas2019Susy04(Analysis):
    """ATLAS-SUSY-2019-04 at truth level with the recipe of selection.md §9."""

    cut_families = _families()

    @cut("one_lepton_channel", "1L channel: ≥ 1 signal lepton and not exactly two of one sign")
    def one_lepton_channel(self, events: ak.Array) -> ak.Array:
        return (events.n_signal_leptons >= 1) & ~events.two_same_sign

    @cut("two_same_sign_channel", "2LSS channel: exactly two signal leptons of the same charge")
    def two_same_sign_channel(self, events: ak.Array) -> ak.Array:
        return events.two_same_sign

    def setup(self) -> None:
        self.untagged_bin = float(self.option("btag_bin_untagged"))
        self.met_in_mass = bool(self.option("met_in_mass"))
        self.leading_lepton_only = self.option("min_dr_leptons") == "leading"
        self.lepton_jet_cone = str(self.option("lepton_jet_overlap"))
        edits: dict[str, dict[str, Any]] = {}
        why: list[str] = []
        for option, table in CARD_CONVENTIONS.items():
            chosen = self.option(option)
            if chosen in table:
                changes, reason = table[chosen]
                edits.update(changes)
                why.append(f"{option} = {chosen!r}: {reason}")
        if edits:
            for key, session in list(self.networks.items()):
                card = session.card.edited(edits, "; ".join(why))
                self.networks[key] = NetworkSession(card, verify=False)  # verified when loaded
            log.info("ATLAS_SUSY_2019_04: the networks read %s", "; ".join(why))

    # -- objects and variables ------------------------------------------------------------
    def variables(self, events: ak.Array) -> dict[str, Any]:
        jets = physics.baseline_jets(events.jets)
        electrons = physics.baseline_electrons(events.electrons)
        muons = physics.baseline_muons(events.muons)
        jets, electrons, muons = physics.overlap_removal(
            jets, electrons, muons, lepton_jet_cone=self.lepton_jet_cone
        )
        leptons = physics.signal_leptons(electrons, muons)
        values: dict[str, Any] = {
            "signal_jets": jets,
            "signal_leptons": leptons,
            "n_signal_leptons": ak.num(leptons, axis=1),
            "two_same_sign": physics.is_two_same_sign(leptons),
            "lead_lepton_pt": ak.fill_none(ak.firsts(leptons.pt), 0.0),
            "mlj_minmax": physics.mlj_minmax(jets, leptons),
        }
        for pt in JET_COUNTS:
            values[f"n_jets_{pt}"] = physics.count_above(jets, pt)
            values[f"n_b_{pt}"] = physics.count_b_above(jets, pt)
        return values

    def _network_events(self, events: ak.Array) -> ak.Array:
        """What the cards read: the jets with their energy and b-tag bin, the leading lepton,
        MET and the event-level variables of selection.md §3.2 (GeV; the card scales)."""
        jets = events.signal_jets
        jets = ak.with_field(jets, physics.btag_bin(jets, untagged=self.untagged_bin), "btag_bin")
        leptons = events.signal_leptons
        n_b = physics.n_b(jets)
        return ak.zip(
            {
                "jets": jets,
                "leptons": leptons,
                "met": events.met,
                "n_jets": ak.num(jets, axis=1),
                "n_b": n_b,
                "n_bcat": physics.n_bcat(n_b),
                "three_jet_maxpt_mass": physics.three_jet_maxpt_mass(jets),
                "ht_jet": physics.ht(jets),
                "ht_bjet": physics.ht_b(jets),
                "three_jet_lep_met_mass_max_pt": physics.three_jet_lep_met_mass_max_pt(
                    jets, physics.leading(leptons), events.met, met_in_mass=self.met_in_mass
                ),
                "min_dr_lj": physics.min_delta_r_lj(
                    jets, leptons, leading_only=self.leading_lepton_only
                ),
                "minmax_mass": physics.minmax_mass(jets),
                "event_number": events.event_number,
            },
            depth_limit=1,
        )

    def _scores(self, events: ak.Array, session: Any, n_jets: int) -> dict[str, np.ndarray]:
        """The N-jet network on the events it serves (≥ 1 signal lepton, exactly N jets,
        ≥ 4 b-jets); NaN elsewhere, which every score cut fails."""
        rows = np.flatnonzero(
            np.asarray(
                (events.n_signal_leptons >= 1) & (events.n_jets_20 == n_jets) & (events.n_b_20 >= 4)
            )
        )
        full = np.full(len(events), np.nan)
        if len(rows):
            scores = session.evaluate(self._network_events(events[rows]))
            full[rows] = np.asarray(scores["score"], dtype=np.float64)
        return {f"nn_{n_jets}j": full}

    @network_scores("nn_4j")
    def scores_4j(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        return self._scores(events, session, 4)

    @network_scores("nn_5j")
    def scores_5j(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        return self._scores(events, session, 5)

    @network_scores("nn_6j")
    def scores_6j(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        return self._scores(events, session, 6)

    @network_scores("nn_7j")
    def scores_7j(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        return self._scores(events, session, 7)

    @network_scores("nn_8j")
    def scores_8j(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        return self._scores(events, session, 8)
