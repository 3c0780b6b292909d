# ruff: noqa: E501  (region tables: one region per line reads best)
"""The regions of ATLAS-SUSY-2018-30 as ordered cut names, written into analysis.json by
make_artefacts.py. Each signal region's cuts after the common preselection follow the
published cutflow steps in order (selection.md §6.2/§6.3); § refers to selection.md.
"""

from __future__ import annotations

from typing import Any

#: the common preselection (§3): ≥ 4 jets, ≥ 3 b-jets, E_T^miss > 200 GeV (the "ETmissTrigger")
PRESELECTION = ["n_jets_ge_4", "n_b_ge_3", "met_gt_200"]
ZERO_LEPTON = ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4"]
ONE_LEPTON = ["n_signal_leptons_ge_1"]
NETWORK = "multib"
GTB_REASON = (
    "UNVALIDATED: no public reimplementation reproduces the published Gtb cutflows (yields "
    "1.6-2x too high, selection.md §4.4, §9.24); kept for yields, left out of the limits"
)

#: name → (kind, description, cuts after the preselection, uses the network)
_SIGNAL: dict[str, tuple[str, list[str], bool]] = {
    "SR-Gtt-0L-B": ("Gtt 0L boosted", ["n_jets_ge_5", "met_ge_600", "meff_ge_2900", "mT_bmin_ge_120", "MJ_ge_300"], False),
    "SR-Gtt-0L-M1": ("Gtt 0L moderate 1", ["n_jets_ge_9_n_b_ge_3", "met_ge_600", "meff_ge_1700", "mT_bmin_ge_120", "MJ_ge_300"], False),
    "SR-Gtt-0L-M2": ("Gtt 0L moderate 2", ["n_jets_ge_10_n_b_ge_3", "met_ge_500", "meff_ge_1100", "mT_bmin_ge_120", "MJ_ge_200"], False),
    "SR-Gtt-0L-C": ("Gtt 0L compressed", ["n_jets_ge_10", "n_b_ge_4", "met_ge_400", "meff_ge_800", "mT_bmin_ge_180", "MJ_ge_100"], False),
    "SR-Gtt-1L-B": ("Gtt 1L boosted", ["n_jets_ge_4_n_b_ge_3", "met_ge_600", "meff_ge_2300", "mT_ge_150", "mT_bmin_ge_120", "MJ_ge_200"], False),
    "SR-Gtt-1L-M1": ("Gtt 1L moderate 1", ["n_jets_ge_5_n_b_ge_3", "met_ge_600", "meff_ge_2000", "mT_ge_200", "mT_bmin_ge_120", "MJ_ge_200"], False),
    "SR-Gtt-1L-M2": ("Gtt 1L moderate 2", ["n_jets_ge_8_n_b_ge_3", "met_ge_500", "meff_ge_1100", "mT_ge_200", "mT_bmin_ge_120", "MJ_ge_100"], False),
    "SR-Gtt-1L-C": ("Gtt 1L compressed", ["n_jets_ge_9_n_b_ge_3", "met_ge_300", "meff_ge_800", "mT_ge_150", "mT_bmin_ge_120"], False),
    "SR-Gbb-B": ("Gbb boosted", ["mT_bmin_ge_130", "met_ge_550", "leading_jet_pt_ge_65", "meff_ge_2600"], False),
    "SR-Gbb-M": ("Gbb moderate", ["mT_bmin_ge_130", "met_ge_550", "meff_ge_2000"], False),
    "SR-Gbb-C": ("Gbb compressed", ["mT_bmin_ge_130", "met_ge_550", "meff_ge_1600"], False),
    "SR-Gtb-B": ("Gtb boosted", ["mT_bmin_ge_130", "meff_ge_2500", "met_ge_550", "MJ_ge_200"], False),
    "SR-Gtb-M": ("Gtb moderate", ["mT_bmin_ge_130", "n_jets_ge_6", "n_b_ge_4", "meff_ge_2000", "met_ge_550", "MJ_ge_200"], False),
    "SR-Gtb-C": ("Gtb compressed", ["mT_bmin_ge_130", "n_jets_ge_7", "n_b_ge_4", "meff_ge_1300", "met_ge_500", "MJ_ge_50"], False),
    "SR-Gtt-2100-1": ("network, Gtt (2100, 1)", ["nn_gtt_channel", "p_gtt_2100_1_gt_0.9997"], True),
    "SR-Gtt-1800-1": ("network, Gtt (1800, 1)", ["nn_gtt_channel", "p_gtt_1800_1_gt_0.9997"], True),
    "SR-Gtt-2300-1200": ("network, Gtt (2300, 1200)", ["nn_gtt_channel", "p_gtt_2300_1200_gt_0.9993"], True),
    "SR-Gtt-1900-1400": ("network, Gtt (1900, 1400)", ["nn_gtt_channel", "p_gtt_1900_1400_gt_0.9987"], True),
    "SR-Gbb-2800-1400": ("network, Gbb (2800, 1400)", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.6", "p_gbb_2800_1400_gt_0.999"], True),
    "SR-Gbb-2300-1000": ("network, Gbb (2300, 1000)", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.6", "p_gbb_2300_1000_gt_0.9994"], True),
    "SR-Gbb-2100-1600": ("network, Gbb (2100, 1600)", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4", "p_gbb_2100_1600_gt_0.9993"], True),
    "SR-Gbb-2000-1800": ("network, Gbb (2000, 1800)", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4", "p_gbb_2000_1800_gt_0.997"], True),
}  # fmt: skip

#: the cut-and-count CRs (§5b): ≥ 1 signal lepton, m_T below the bound; Gtt-1L rows their own
_CONTROL: dict[str, tuple[str, list[str], bool]] = {
    "CR-Gtt-1L-B": ("tt̄ CR of Gtt-1L-B", ["n_signal_leptons_ge_1", "n_jets_eq_4", "meff_ge_1500", "mT_lt_150"], False),
    "CR-Gtt-1L-M1": ("tt̄ CR of Gtt-1L-M1", ["n_signal_leptons_ge_1", "n_jets_eq_5", "meff_ge_1200", "mT_lt_200"], False),
    "CR-Gtt-1L-M2": ("tt̄ CR of Gtt-1L-M2", ["n_signal_leptons_ge_1", "n_jets_eq_8", "meff_ge_800", "mT_lt_200"], False),
    "CR-Gtt-1L-C": ("tt̄ CR of Gtt-1L-C", ["n_signal_leptons_ge_1", "n_jets_eq_9", "meff_ge_800", "mT_lt_150"], False),
    "CR-Gtt-0L-B": ("tt̄ CR of Gtt-0L-B", ["n_signal_leptons_ge_1", "mT_lt_150", "meff_ge_2000", "MJ_ge_150"], False),
    "CR-Gtt-0L-M1": ("tt̄ CR of Gtt-0L-M1", ["n_signal_leptons_ge_1", "mT_lt_150", "n_jets_ge_8_n_b_ge_3", "meff_ge_1100", "MJ_ge_150"], False),
    "CR-Gtt-0L-M2": ("tt̄ CR of Gtt-0L-M2", ["n_signal_leptons_ge_1", "mT_lt_150", "n_jets_ge_9_n_b_ge_3", "meff_ge_800", "MJ_ge_100"], False),
    "CR-Gtt-0L-C": ("tt̄ CR of Gtt-0L-C", ["n_signal_leptons_ge_1", "mT_lt_150", "n_jets_ge_9_n_b_ge_3", "n_b_ge_4", "meff_ge_800", "MJ_ge_100"], False),
    "CR-Gbb-B": ("tt̄ CR of Gbb-B", ["n_signal_leptons_ge_1", "mT_lt_150", "met_ge_450", "leading_jet_pt_ge_65", "meff_ge_2600"], False),
    "CR-Gbb-M": ("tt̄ CR of Gbb-M", ["n_signal_leptons_ge_1", "mT_lt_150", "met_ge_550", "meff_ge_2000"], False),
    "CR-Gbb-C": ("tt̄ CR of Gbb-C", ["n_signal_leptons_ge_1", "mT_lt_150", "met_ge_550", "meff_ge_1600"], False),
    "CR-Gtb-B": ("tt̄ CR of Gtb-B (UNVALIDATED like the SR)", ["n_signal_leptons_ge_1", "mT_lt_150", "meff_ge_2200", "met_ge_400", "MJ_ge_200"], False),
    "CR-Gtb-M": ("tt̄ CR of Gtb-M (UNVALIDATED like the SR)", ["n_signal_leptons_ge_1", "mT_lt_150", "n_jets_ge_6", "n_b_ge_4", "meff_ge_1700", "met_ge_300", "MJ_ge_200"], False),
    "CR-Gtb-C": ("tt̄ CR of Gtb-C (UNVALIDATED like the SR)", ["n_signal_leptons_ge_1", "mT_lt_150", "n_jets_ge_7", "n_b_ge_4", "meff_ge_1300", "met_ge_350", "MJ_ge_50"], False),
    "CR-Gtt-2100-1": ("network tt̄ CR", ["nn_gtt_channel", "p_gtt_2100_1_in_0.68_0.86", "log10_p_ttbar_gtt_2100_1_gt_-1.8", "meff_ge_2000"], True),
    "CR-Gtt-1800-1": ("network tt̄ CR", ["nn_gtt_channel", "p_gtt_1800_1_in_0.73_0.89", "log10_p_ttbar_gtt_1800_1_gt_-2.0", "meff_ge_2000"], True),
    "CR-Gtt-2300-1200": ("network tt̄ CR", ["nn_gtt_channel", "p_gtt_2300_1200_in_0.78_0.83", "log10_p_ttbar_gtt_2300_1200_gt_-1.6", "meff_ge_1400"], True),
    "CR-Gbb-2300-1000": ("network tt̄ CR", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4", "p_gbb_2300_1000_in_0.52_0.77", "log10_p_ttbar_gbb_2300_1000_gt_-0.8", "dphi4j_min_gt_0.5", "meff_ge_1400", "MJ_lt_800"], True),
    "CR-Gbb-2100-1600": ("network tt̄ CR", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4", "p_gbb_2100_1600_in_0.88_0.91", "log10_p_ttbar_gbb_2100_1600_gt_-1.3", "meff_ge_800", "MJ_lt_500"], True),
    "CR-Gbb-2000-1800": ("network tt̄ CR", ["n_baseline_leptons_eq_0", "dphi4j_min_ge_0.4", "p_gbb_2000_1800_in_0.92_0.93", "log10_p_ttbar_gbb_2000_1800_gt_-1.9", "meff_gt_400", "MJ_lt_400"], True),
}  # fmt: skip

#: the Z CRs (§5.8): no common preselection (MET is replaced by MET-hat)
CRZ_OBJECTS = [
    "crz_two_signal_leptons_sfos",
    "crz_mll_gt_60",
    "crz_mll_lt_120",
    "crz_ptll_gt_70",
    "n_jets_ge_4",
    "n_b_ge_3",
    "met_hat_gt_200",
]
_CRZ = {
    "CRZ-Gbb-2800-1400": ("gbb_2800_1400", 0.6, -1.3, -3.0),
    "CRZ-Gbb-2300-1000": ("gbb_2300_1000", 0.8, -1.3, -2.7),
    "CRZ-Gbb-2100-1600": ("gbb_2100_1600", 0.9, -1.7, -4.9),
    "CRZ-Gbb-2000-1800": ("gbb_2000_1800", 0.9, -2.2, -3.7),
}


def channel(name: str, network: bool) -> list[str]:
    """The channel requirement that precedes a CC signal region's own steps (the network
    regions name theirs among their own steps, as their published cutflows do)."""
    if network:
        return []
    return ONE_LEPTON if name.startswith("SR-Gtt-1L") else ZERO_LEPTON


def regions() -> dict[str, dict[str, Any]]:
    """The ``regions`` object of analysis.json."""
    out: dict[str, dict[str, Any]] = {}
    for kind, table in (("signal", _SIGNAL), ("control", _CONTROL)):
        for name, (description, cuts, network) in table.items():
            entry: dict[str, Any] = {
                "kind": kind,
                "description": description + (f"; {GTB_REASON}" if "Gtb" in name else ""),
                "cuts": PRESELECTION + (channel(name, network) if kind == "signal" else []) + cuts,
            }
            if network:
                entry["networks"] = [NETWORK]
            if "Gtb" in name:
                entry["status"] = {"state": "UNVALIDATED", "reason": GTB_REASON}
            out[name] = entry
    for name, (tag, p, ttbar, z) in _CRZ.items():
        out[name] = {
            "kind": "control",
            "description": "network Z+jets CR: 2 SFOS signal leptons, the network without "
            "lepton inputs and with MET-hat",
            "cuts": [
                *CRZ_OBJECTS,
                f"crz_p_{tag}_gt_{p}",
                f"crz_log10_p_ttbar_{tag}_lt_{ttbar}",
                f"crz_log10_p_z_{tag}_gt_{z}",
            ],
            "networks": [NETWORK],
        }
    return out
