"""Every choice of the ATLAS-SUSY-2019-04 bundle with its reason, as analysis.json ``choices``.

§ refers to selection.md, the synthesis of the public reimplementations CheckMATE (CM),
GAMBIT (GB), Rivet (RV), the ATLAS team's plotting scripts (JM) and a truth-level check of
the input conventions (§7); make_artefacts.py writes the list.
"""

from __future__ import annotations

#: (topic, choice, reason)
CHOICES: list[tuple[str, str, str]] = [
    (
        "jets",
        "anti-kT R = 0.4 truth jets from the visible final state without the prompt leptons "
        "(ObjectConfig jet_exclude_leptons), pT > 20 GeV, |η| < 2.5, pT-ordered; no smearing, "
        "no JVT (§1.1, §9.2)",
        "the truth-level recipe; CM and GB use |η| < 2.5 and JM's ntuples keep forward jets "
        "apart (RV's 4.5 is a deviation, §8.2). Nobody applies a JVT; its effect at truth "
        "level is left to a detector option",
    ),
    (
        "b-tagging",
        "70 % working point sampled per jet (maps/btag_70.json): b-jets with the pT dependence "
        "of the ATLAS 77 % parametrisation (ATL-PHYS-PUB-2016-012 as GB and RV use it) scaled "
        "to 70 % (0.57 below 30 GeV, 0.73 at 105–150 GeV), c- and τ-jets 0.11, light jets "
        "0.0025; 0 at |η| ≥ 2.5. Detectors 'flat70' (flat 0.70) and 'wp77' (the 77 % table "
        "itself, with RV's mistags) as alternatives",
        "CM's working point (§1.2, §8.1), pT-dependent as §8.1 recommends: no public "
        "parametrisation of the paper's DL1r 70 % point was found, so the shape of the one "
        "published ATLAS parametrisation is used. With 60 000 benchmark events the ≥ 4b rows "
        "are 0.9–1.1 of ATLAS's with it, and 1.1–1.3 flat (docs/atlas-susy-2019-04.md)",
    ),
    (
        "network b-tag bins",
        "jet_btag_bin = 5 for a b-tagged jet, 1 for an untagged one (option btag_bin_untagged; "
        "CM master's −0.5 as the alternative), 0 for a missing jet (the card's padding)",
        "what GB, RV and CM until Nov 2023 feed (§1.2, §8.18); the §7 check favours 1 and "
        "disfavours −0.5 strongly (÷ 4–19 for 6–8 jets)",
    ),
    (
        "leptons",
        "prompt dressed e (|η| < 2.47) and μ (|η| < 2.5) above 10 GeV as baseline; signal "
        "leptons above 15 GeV after overlap removal; no identification or isolation loss",
        "§1.3, §8.4–8.5: 15 GeV is the majority; the ATLAS lepton row is not reproducible at "
        "truth level anyway (§5.1) and is compared as a normalisation, not as a test",
    ),
    (
        "overlap removal",
        "(1) e within ΔR < 0.01 of a μ removed; (2) non-b jets within 0.2 of an e removed; "
        "(3) non-b jets with < 3 tracks within 0.4 of a μ removed; (4) leptons within "
        "min(0.4, 0.04 + 10 GeV/pT) of a jet removed (option lepton_jet_overlap: 'fixed' for "
        "SimpleAnalysis's 0.4); ΔR in pseudorapidity",
        "the paper as recorded by RV (§1.4, §8.6–8.8); the sliding cone moves the lepton row "
        "by 5 % at truth level",
    ),
    (
        "MET",
        "the truth invisible momentum, a massless transverse four-vector (px, py, 0, |pT|)",
        "§1.5, §8.9: CM's Delphes MET carries a pz",
    ),
    (
        "channels",
        "2LSS: exactly two signal leptons of the same charge; 1L: every other event with a "
        "signal lepton; both after the leading lepton > 27 GeV",
        "§2.1 (CM, GB, RV); CM's extra ee Z veto is not in the other sources",
    ),
    (
        "network regions",
        "exactly N jets (N = 4…8), ≥ 4 b-jets, score > 0.73/0.76/0.77/0.72/0.73; the three lower "
        "score bins (edges inferred from JM's percentile binning) as validation regions",
        "§2.2, §4.3, §8.11: GB and RV lack the ≥ 4b requirement (a bug)",
    ),
    (
        "network inputs",
        "all energies, momenta and masses in 100 GeV (lepton pT and E and MET too); missing "
        "jets: pT and E 1e-7, η and φ −5, b-tag bin 0; φ in (−π, π]; MET in both the choice and "
        "the mass of three_jet_lep_met_mass_max_pt; minDeltaRlj over all signal leptons",
        "§3, §8.16–8.22: raw-GeV leptons saturate the score (§7), η padding 1e-7 inflates the "
        "5–7-jet regions by 2.5–3, [0, 2π) halves the 7–8-jet ones; options eta_padding, "
        "lepton_met_units, phi_range, met_in_mass and min_dr_leptons give the alternatives",
    ),
    (
        "jet-counting regions",
        "CheckMATE's definitions and numbers (SR1…SR21); ≥ 11 jets above 60 GeV (1L) and ≥ 7 "
        "above 80 GeV (2LSS), where GB and RV have 12 and 6",
        "§2.3, §8.12: unresolved without the paper; the published obs/bkg are CM's, so its "
        "definitions go with them. b-jets are counted above the jets' own threshold",
    ),
    (
        "m_ℓj^minmax",
        "over the 4 leading jets: min over i ≠ k of max(m(ℓ1 j_i), m(ℓ2 j_k))",
        "§8.13: JM's variable name says 'upto4j'; GB/RV loop over all jets, CM uses ℓ1 twice",
    ),
    (
        "likelihood",
        "one counting channel per region with published numbers: the 21 jet-counting regions "
        "and the 6-jet network region (obs 126, bkg 145 ± 6); lognormal background constraint",
        "§2.3, §5: no source gives obs/bkg for the 4, 5, 7 and 8-jet network regions, which "
        "therefore have yields but no likelihood; no full likelihood was published",
    ),
    (
        "published cutflow",
        "the ATLAS column of CM's validation note as the benchmark higgsino_n1n2_250: pure-"
        "higgsino χ̃₁⁰χ̃₂⁰ at 250 GeV, χ̃ → t b s, σ = 104.252 fb (NLO+NLL); compared as ratios "
        "after the leading-lepton row (validation.normalise_after)",
        "§5.1: the model is inferred (14491 = 104.252 fb × 139 fb⁻¹); the lepton row cannot "
        "be matched with prompt truth leptons (29.5 % vs ATLAS's 37.4 %), so the rows after it "
        "are compared with that row's ratio divided out",
    ),
]


def choices() -> list[dict[str, str]]:
    return [{"topic": t, "choice": c, "reason": r} for t, c, r in CHOICES]
