"""Every choice of the ATLAS-SUSY-2018-30 bundle with its reason, as analysis.json ``choices``.

§ refers to selection.md (the synthesis of the three public reimplementations CheckMATE (CM),
GAMBIT (GB) and Rivet (RV) this bundle was written from); make_artefacts.py writes the list.
"""

from __future__ import annotations

#: (topic, choice, reason)
CHOICES: list[tuple[str, str, str]] = [
    (
        "jets",
        "anti-kT R = 0.4 truth jets from the visible final state without the prompt leptons and "
        "their dressing photons (ObjectConfig jet_exclude_leptons), above 20 GeV; the detector "
        "keeps pT > 30 GeV and |η| < 2.8, before overlap removal; no smearing (§1.1, §8.1)",
        "the truth-level recipe; RV clusters without muons and invisibles, and with the prompt "
        "leptons out of the jets no jet is a lepton in disguise. Forward jets 2.5 < |η| < 2.8 "
        "stay signal (non-b) jets, as in CM and RV (GB's drop of them is a bug, §9.1)",
    ),
    (
        "JVT",
        "no JVT efficiency",
        "a pure truth study (§9.2 allows none); the only tabulated JVT (GB's) is said to be "
        "'almost certainly too conservative', and the effect is small at these thresholds",
    ),
    (
        "b-tagging",
        "77 % working point sampled per jet from maps/btag_mv2c10_77.json: true b-jets (ghost-"
        "matched B hadron) with the pT table of ATL-PHYS-PUB-2016-012 as parametrised by GB/RV "
        "(0.63 … 0.75, 0.68 above 500 GeV), c-jets 1/5, τ-jets 1/16, light jets 1/110; "
        "efficiency 0 at |η| ≥ 2.5 (§1.2)",
        "decisions, not truth-tagging weights, because the network reads each jet's flag (isb) "
        "and the OR and m_T,min^b use which jets are tagged. Of the two published variants the "
        "RV numbers (overflow 0.68, c 1/5, τ 1/16, light 1/110) are taken: RV is the "
        "implementation whose Gbb/Gtt cutflows were compared with HEPData; the > 500 GeV value "
        "is an extrapolation that moves results by ~10 % (§9.3)",
    ),
    (
        "b-jet flag",
        "a b-jet is a tagged signal jet with |η| < 2.5; the same flag is the network's isb and "
        "the OR's b-jet exemption",
        "CM and GB; RV's untruncated flag lets a jet at 2.5 < |η| < 2.8 be isb = 1 without "
        "counting as a b-jet (§9.4)",
    ),
    (
        "electrons",
        "baseline: truth prompt dressed (ΔR < 0.1) electrons, pT > 20 GeV, |η| < 2.47 with the "
        "crack 1.37 ≤ |η| < 1.52 removed; signal: baseline after OR with track isolation "
        "(charged particles above 1 GeV in ΔR < min(0.2, 10 GeV/pT), ObjectConfig "
        "track_isolation_*) below 0.15 pT",
        "§8.3 and §9.5/§9.7 (the track part of FCLoose with ratio 0.15; GB/RV's 1.15 almost "
        "never rejects). The calorimeter part of FCLoose (ΔR < 0.2, 0.20 pT) is not applied, "
        "as in GB and RV",
    ),
    (
        "muons",
        "baseline: truth prompt dressed muons, pT > 20 GeV, |η| < 2.5; signal: baseline after "
        "OR with track isolation (charged particles above 1 GeV in ΔR < min(0.3, 10 GeV/pT)) "
        "below 0.06 pT",
        "§8.3, §9.8 (FixedCutTightTrackOnly, as CM writes it; GB/RV's 1.06 with the muon in "
        "the sum is the same cut)",
    ),
    (
        "overlap removal",
        "in this order (physics.overlap_removal): (1) non-b jets within ΔR < 0.2 of a baseline "
        "electron removed; (2) electrons within ΔR < 0.4 of a remaining jet removed; (3) jets "
        "with ≤ 2 charged tracks within ΔR < 0.2 of a muon removed; (4) muons within ΔR < 0.4 "
        "of a remaining jet removed; ΔR with rapidity",
        "§8.4 and §9.9 (CM's order and cones; fixed 0.4 cones, which the recipe calls a close "
        "approximation of the sliding ones). Step 3 reads the jets' n_charged: charged "
        "constituents above 0.5 GeV (ObjectConfig jet_track_min_pt)",
    ),
    (
        "MET",
        "the truth invisible transverse momentum (neutrinos and χ̃⁰₁), unsmeared",
        "§1.8 and §9.10: the truth-level recommendation (RV's choice)",
    ),
    (
        "large-R jets",
        "the signal jets after OR re-clustered with anti-kT R = 0.8, trimmed by dropping inputs "
        "below 10 % of the untrimmed pT, kept with pT > 100 GeV and |η| < 2.0, sorted by pT "
        "after trimming (physics.reclustered_large_r)",
        "§1.3, §9.11 (sort after trimming, as GB/RV), §9.12 (signal jets, as all three)",
    ),
    (
        "M_J^Σ,4",
        "the summed mass of the up-to-4 leading large-R jets",
        "§9.13: the name and the predecessor say the four leading; all three implementations sum "
        "all, which differs only with ≥ 5 large-R jets above 100 GeV",
    ),
    (
        "m_eff",
        "E_T^miss + Σ pT(signal jets) + Σ pT(signal leptons)",
        "§2 and §9.14 (signal leptons only, as CM, GB and SA-2016; not RV's baseline muons)",
    ),
    (
        "m_T, m_T,min^b, Δφ^4j_min",
        "m_T from the leading signal lepton (0 without one); m_T,min^b the smallest m_T of the "
        "three leading b-jets; Δφ^4j_min over the four leading signal jets, folded into [0, π]",
        "§2: all three implementations agree",
    ),
    (
        "0-lepton veto",
        "no baseline electron or muon after OR",
        "§9.22: the paper text and all three implementations (SimpleAnalysis and aux Table 2 "
        "use signal leptons, so expect small differences to SimpleAnalysis cutflows)",
    ),
    (
        "1-lepton channel",
        "≥ 1 signal lepton, also in the control regions",
        "§3: every implementation accepts ≥ 1 in the '1L' regions; for the CRs CM asks exactly "
        "1 and RV ≥ 1, and RV's reading is kept consistent with the SRs",
    ),
    (
        "cut order",
        "each region lists the common preselection (≥ 4 jets, ≥ 3 b-jets, E_T^miss > 200 GeV), "
        "then the published cutflow steps in their order (§6.2/§6.3); a step such as "
        "'N_jet ≥ 9 && N_b ≥ 3' is one cut (n_jets_ge_9_n_b_ge_3), N_b ≥ 3 being preselected",
        "the cutflows then compare step by step with the HEPData ones",
    ),
    (
        "Gbb-B leading jet, Gbb-C",
        "Gbb-B requires leading-jet pT ≥ 65 GeV; Gbb-C uses E_T^miss ≥ 550 and m_eff ≥ 1600",
        "§9.15 (all three apply it to the leading jet) and §9.23 (the aux-table swap is a typo)",
    ),
    (
        "Gtb",
        "the Gtb regions are implemented as published but marked UNVALIDATED and left out of "
        "the likelihood",
        "§4.4/§9.24: GB and RV get 1.6-2x the published Gtb yields with the same selection; a "
        "cut is missing or mis-specified and it is unknown which",
    ),
    (
        "network",
        "one card (networks/multib.card.json) imported from ANA-SUSY-2018-30_config.json: 87 "
        "inputs (10 jets × pT, η, φ, m, isb; 4 large-R jets × pT, η, φ, m; 4 signal leptons × "
        "pT, η, φ, m; MET, φ(MET); isGtt, m(g̃), m(χ̃⁰₁)), zero-padded in raw units, then "
        "(x - mean)/std for all 87; evaluated once per chunk for the eight hypotheses",
        "§5.3-§5.5: the published order, padding and normalisation",
    ),
    (
        "network outputs",
        "8 output columns of dense_4: 0 = P(Gtt), 1 = P(Gbb), 2 = tt̄, 6 = Z+jets; 3, 4, 5, 7 "
        "unnamed",
        "§5.1/§9.20: CM copies 8 values and uses 0, 1, 2, 6; the meaning of 2 and 6 is inferred "
        "from how the regions use them, and the count is not verified (the model is missing)",
    ),
    (
        "φ(MET) given to the network",
        "[0, 2π) by default (card multib); the option met_phi_convention = '(-pi, pi]' selects "
        "the card multib_signed_met_phi, identical except for that angle range",
        "§9.16: the published normalisation (mean 3.158, std 1.809) means [0, 2π) in training, "
        "while all three implementations feed (−π, π] and RV still matched the NN cutflows; "
        "unresolved, so both are shipped and the training convention is the default",
    ),
    (
        "other network φ and masses",
        "jet, large-R and lepton φ in (−π, π]; lepton masses are the PDG ones (0.000511 and "
        "0.10566 GeV), not the dressed four-vector's",
        "§9.17 (training means ≈ 0; CM's [0, 2π) large-R φ is FastJet's range) and §9.18 (the "
        "normalisation statistics match physical masses; CM feeds 0, RV the dressed mass)",
    ),
    (
        "network regions",
        "Gtt: (0 baseline leptons and Δφ^4j_min ≥ 0.4) or ≥ 1 signal lepton, then P(Gtt) above "
        "the threshold; Gbb: 0 baseline leptons, Δφ^4j_min ≥ 0.6 (2800-1400, 2300-1000) or ≥ "
        "0.4, then P(Gbb); the Δφ cut before the score",
        "§5.2/§5.6 (all three agree on the numbers); the step order is RV's and GB's (§6.2, "
        "§6.3); CM fills its score step before the 0.6 cut, which changes no final yield",
    ),
    (
        "network control regions",
        "the tt̄ CRs of Gtt 2100-1, 1800-1, 2300-1200 (CM's log10 P(tt̄) cut) and Gbb 2300-1000, "
        "2100-1600, 2000-1800; the four Z CRs with exactly 2 signal SFOS leptons, "
        "60 < m_ℓℓ < 120 GeV, pT(ℓℓ) > 70 GeV, the network run with zeroed lepton inputs and "
        "E_T^miss-hat in place of MET; no sub-leading lepton pT cut",
        "§5.7/§5.8: RV's log10 P(Gtt) is a bug (always true); the CR of Gtt 1900-1400 (M_J < 800 "
        "or 700) and of Gbb 2800-1400 (window 0.68-0.86 or 0.43-0.76) are not defined "
        "unambiguously and are left out; CM alone asks sub-leading pT > 30 GeV, and CM's "
        "removal of CRZ-like events from every region is a side effect of its code flow (§9.21)",
    ),
    (
        "likelihood",
        "simplified: one counting model per region from the published observed, background and "
        "uncertainty (likelihood/published_signal_regions.json, 22 regions); the bundle's "
        "likelihood uses the 19 regions without Gtb; full: likelihood/hepdata_channels.json "
        "maps each region to its HEPData likelihood and channel",
        "§7.1 (CM's reference table; GB's non-integer observed counts are transcription errors, "
        "§9.28); Gtb is excluded from limits (§9.24); the published likelihoods have no Gtb",
    ),
]


def choices() -> list[dict[str, str]]:
    """The ``choices`` list of analysis.json."""
    return [{"topic": t, "choice": c, "reason": r} for t, c, r in CHOICES]
