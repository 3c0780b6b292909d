"""EXAMPLE_JETS_MET: a 0-lepton multijet + MET search for gluino pairs, g̃ → t t̄ χ̃⁰₁.

An example for the documentation, not a published analysis. Every cut is declared once, by
name, with ``@cut``; ``analysis.json`` lists the regions as ordered lists of these names, so
each region's cutflow and its final selection come from the same code.

The events reaching :meth:`ExampleJetsMet.variables` are detector-level (``detector.json``):
jets are smeared and kept above 30 GeV within |η| < 2.8, carry the truth-tagging weights
``truth_tag_weights.btag``, and MET is recomputed from the smeared jets. Electrons and muons
are the truth objects (``recast.objects``).
"""

from __future__ import annotations

from typing import Any

import awkward as ak

from recast.analysis import Analysis, cut, network_scores
from recast.analysis.variables import by_pt, leading_transverse_mass, min_delta_phi

LEPTON_MIN_PT = 20.0  # GeV
LEPTON_MAX_ABS_ETA = 2.5


def _signal_leptons(leptons: ak.Array) -> ak.Array:
    keep = leptons.isolated & (leptons.pt > LEPTON_MIN_PT) & (abs(leptons.eta) < LEPTON_MAX_ABS_ETA)
    return leptons[keep]


class ExampleJetsMet(Analysis):
    """≥ 4 jets, MET > 200 GeV, no lepton; loose, b-tagged and network signal regions."""

    def variables(self, events: ak.Array) -> dict[str, Any]:
        jets, met = events.jets, events.met
        leptons = by_pt(
            ak.concatenate(
                [_signal_leptons(events.electrons), _signal_leptons(events.muons)], axis=1
            )
        )
        ht = ak.sum(jets.pt, axis=1)
        return {
            "n_jets": ak.num(jets, axis=1),
            "n_leptons": ak.num(leptons, axis=1),
            "ht": ht,
            "meff": ht + met.pt,
            # the four leading jets only: softer jets are often mismeasured in multijet events
            "dphi_min": min_delta_phi(jets, met, leading=4),
            "mt": leading_transverse_mass(leptons, met),
        }

    @network_scores("signal_mlp")  # called only when its file is available (else SR_nn is skipped)
    def scores(self, events: ak.Array, session: Any) -> dict[str, Any]:
        # the network reads meff, MET and the four leading jets' pT, as its card says
        return {"nn_score": session.evaluate(events).signal}

    # -- preselection ------------------------------------------------------------------------
    @cut("four_jets", "at least 4 jets with pT > 30 GeV and |η| < 2.8")
    def four_jets(self, events: ak.Array) -> ak.Array:
        return events.n_jets >= 4

    @cut("met_200", "MET > 200 GeV")
    def met_200(self, events: ak.Array) -> ak.Array:
        return events.met.pt > 200.0

    @cut("lepton_veto", "no isolated electron or muon with pT > 20 GeV and |η| < 2.5")
    def lepton_veto(self, events: ak.Array) -> ak.Array:
        return events.n_leptons == 0

    @cut("dphi_jets_met", "Δφ(jet, MET) > 0.4 for each of the four leading jets")
    def dphi_jets_met(self, events: ak.Array) -> ak.Array:
        return events.dphi_min > 0.4

    # -- signal regions ----------------------------------------------------------------------
    @cut("met_350", "MET > 350 GeV")
    def met_350(self, events: ak.Array) -> ak.Array:
        return events.met.pt > 350.0

    @cut("meff_1800", "meff = HT + MET > 1800 GeV")
    def meff_1800(self, events: ak.Array) -> ak.Array:
        return events.meff > 1800.0

    @cut("two_btags", "at least 2 b-tagged jets: the truth-tagging probability P(≥ 2)")
    def two_btags(self, events: ak.Array) -> ak.Array:
        return events.truth_tag_weights.btag.at_least_2

    @cut("meff_1400", "meff = HT + MET > 1400 GeV")
    def meff_1400(self, events: ak.Array) -> ak.Array:
        return events.meff > 1400.0

    @cut("nn_score", "signal_mlp score > nn_threshold (an option of analysis.json)")
    def nn_score(self, events: ak.Array) -> ak.Array:
        self.require_network("signal_mlp", "nn_score")
        return events.nn_score > self.option("nn_threshold")

    # -- control region ----------------------------------------------------------------------
    @cut("one_lepton", "exactly one isolated electron or muon with pT > 20 GeV, |η| < 2.5")
    def one_lepton(self, events: ak.Array) -> ak.Array:
        return events.n_leptons == 1

    @cut("mt_below_150", "mT(lepton, MET) < 150 GeV")
    def mt_below_150(self, events: ak.Array) -> ak.Array:
        return events.mt < 150.0
