"""ATLAS-SUSY-2018-30 (arXiv:2211.08028): gluino pairs → ≥ 3 b-jets + E_T^miss, 139 fb⁻¹.

Cut-and-count regions (Gtt-0L, Gtt-1L, Gbb, Gtb) and the eight regions of the published
parameterised network, from truth objects through ``detector.json`` (acceptance, 77 % b-tag).
Objects and variables are in ``physics.py``; the regions (ordered cut names) and every choice
with its reason are in ``analysis.json``. § refers to ``selection.md`` (see the docs page
``docs/atlas-susy-2018-30.md``).

The network is evaluated once per chunk, for all eight published hypotheses at once, and only
when the bundle's network is loaded (``self.networks``): without its file the runner skips the
network regions and the cut-and-count ones run alone. The option ``met_phi_convention``
chooses the card, i.e. the range φ(MET) is given to the network in (§9.16).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import Analysis, cut
from recast.analysis.bundle import import_file
from recast.errors import RecastError, UsageError

log = logging.getLogger(__name__)


def _sibling(name: str) -> Any:
    """A module next to this file, importable by Dask workers under a stable name."""
    return import_file(
        f"recast_bundle_ATLAS_SUSY_2018_30_{name}",
        Path(__file__).with_name(f"{name}.py"),
        reuse=True,
    )


physics = _sibling("physics")

#: option met_phi_convention → the network (card) the bundle uses
MET_PHI_CARDS = {"[0, 2pi)": "multib", "(-pi, pi]": "multib_signed_met_phi"}
DEFAULT_MET_PHI = "[0, 2pi)"
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


class NetworkNotLoadedError(RecastError, RuntimeError):
    """A network region was evaluated without the network (its file is not available)."""


# -- cut factories: one declared cut per name ----------------------------------------------
def _compare(name: str, field: str, op: str, value: float, description: str) -> Callable[..., Any]:
    ops: dict[str, Callable[[Any, float], Any]] = {
        ">=": lambda x, v: x >= v,
        ">": lambda x, v: x > v,
        "<": lambda x, v: x < v,
        "<=": lambda x, v: x <= v,
        "==": lambda x, v: x == v,
    }
    test = ops[op]

    @cut(name, description)
    def method(self: Atlas2018Susy30, events: ak.Array) -> ak.Array:
        return test(events[field], value)

    return method


def _score(name: str, field: str, low: float | None, high: float | None, what: str) -> Callable:
    description = (
        what
        + (f" > {low}" if low is not None else "")
        + (f" and < {high}" if high is not None else "")
    )

    @cut(name, description)
    def method(self: Atlas2018Susy30, events: ak.Array) -> ak.Array:
        if field not in ak.fields(events):
            raise NetworkNotLoadedError(
                f"ATLAS_SUSY_2018_30: cut {name!r} needs the network scores, but the network "
                "is not loaded (its file is not distributed with the bundle). Give it with "
                f"--network {self.network_name}=PATH, or run without the network regions."
            )
        x = events[field]
        keep = ak.ones_like(x, dtype=bool)
        if low is not None:
            keep = keep & (x > low)
        if high is not None:
            keep = keep & (x < high)
        return keep

    return method


class Atlas2018Susy30(Analysis):
    """ATLAS-SUSY-2018-30 at truth level with the §8 recipe and the §9 recommendations."""

    def __init__(
        self,
        regions: Mapping[str, Sequence[str]],
        networks: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(regions, networks, options)
        convention = self.options.get("met_phi_convention", DEFAULT_MET_PHI)
        if convention not in MET_PHI_CARDS:
            raise UsageError(
                f"ATLAS_SUSY_2018_30: option met_phi_convention = {convention!r}; choose one "
                f"of {', '.join(repr(c) for c in MET_PHI_CARDS)} (e.g. --option "
                f"'met_phi_convention=(-pi, pi]')"
            )
        self.met_phi_convention = str(convention)
        self.network_name = MET_PHI_CARDS[self.met_phi_convention]
        if self.networks and self.network_name not in self.networks:
            raise UsageError(
                f"ATLAS_SUSY_2018_30: met_phi_convention = {convention!r} evaluates the network "
                f"through the card {self.network_name!r}, whose file was not found; give the "
                f"same file for it too (--network {self.network_name}=PATH), or copy it to the "
                "user data folder, where every card finds it"
            )

    # -- objects and variables ------------------------------------------------------------
    def derive(self, events: ak.Array) -> ak.Array:
        jets, electrons, muons = (
            physics.by_pt(events[name]) for name in ("jets", "electrons", "muons")
        )
        jets, electrons, muons = physics.overlap_removal(jets, electrons, muons)
        met = events.met
        signal = physics.leptons(physics.signal_electrons(electrons), physics.signal_muons(muons))
        b_jets = jets[physics.b_flag(jets)]
        large_r = physics.reclustered_large_r(jets)
        pair = physics.dilepton(signal)
        met_hat = physics.met_hat(met, pair)
        fields = {
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
            "leading_jet_pt": physics.leading_pt(jets),
            "sfos": pair["sfos"],
            "mll": pair["mll"],
            "ptll": pair["ptll"],
            "met_hat": met_hat,
            "met_hat_pt": met_hat.pt,
        }
        for name, values in fields.items():
            events = ak.with_field(events, values, name)
        if self.network_name in self.networks:
            events = self._scores(events)
        return events

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

    def _scores(self, events: ak.Array) -> ak.Array:
        """All eight hypotheses in one call per selection: the SR/CR inputs on events passing
        the common preselection, the Z-CR inputs on those passing the Z-CR object cuts."""
        session = self.networks[self.network_name]
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
        for prefix, selected, crz in (("nn", common, False), ("crz", z_like, True)):
            rows = np.flatnonzero(selected)
            values: dict[str, np.ndarray] = {}
            scores = (
                session.evaluate(self._network_events(events[rows], crz), parameters=points)
                if len(rows)
                else None
            )
            for tag, k in index.items():
                main = "Gtt" if tag.startswith("gtt") else "Gbb"
                for label, column in (("main", main), *SCORE_LABELS.items()):
                    full = np.full(n, np.nan)  # not evaluated: every score cut fails
                    if scores is not None:
                        full[rows] = np.asarray(scores[k][column], dtype=np.float64)
                    if label == "main":
                        values[f"{prefix}_{tag}_p"] = full
                    else:
                        values[f"{prefix}_{tag}_log10_{label}"] = np.log10(
                            np.maximum(full, LOG10_FLOOR)
                        )
            for name, value in values.items():
                events = ak.with_field(events, value, name)
        return events

    # -- preselection and channels (§3) ---------------------------------------------------
    n_jets_ge_4 = _compare(
        "n_jets_ge_4", "n_jets", ">=", 4, "≥ 4 signal jets (pT > 30 GeV, |η| < 2.8)"
    )
    n_b_ge_3 = _compare("n_b_ge_3", "n_b", ">=", 3, "≥ 3 b-jets (77 % WP, |η| < 2.5)")
    met_gt_200 = _compare(
        "met_gt_200", "met_pt", ">", 200.0, "E_T^miss > 200 GeV (trigger plateau)"
    )
    n_baseline_leptons_eq_0 = _compare(
        "n_baseline_leptons_eq_0",
        "n_baseline_leptons",
        "==",
        0,
        "no baseline e or μ after OR (§9.22)",
    )
    n_signal_leptons_ge_1 = _compare(
        "n_signal_leptons_ge_1", "n_signal_leptons", ">=", 1, "≥ 1 signal (isolated) lepton"
    )
    dphi_04 = _compare("dphi4j_min_ge_0.4", "dphi4j_min", ">=", 0.4, "Δφ^4j_min ≥ 0.4")
    dphi_06 = _compare("dphi4j_min_ge_0.6", "dphi4j_min", ">=", 0.6, "Δφ^4j_min ≥ 0.6")
    dphi_05 = _compare("dphi4j_min_gt_0.5", "dphi4j_min", ">", 0.5, "Δφ^4j_min > 0.5 (NN CRs)")

    @cut("nn_gtt_channel", "0L (no baseline lepton, Δφ^4j_min ≥ 0.4) or ≥ 1 signal lepton (§5.2)")
    def nn_gtt_channel(self, events: ak.Array) -> ak.Array:
        zero = (events.n_baseline_leptons == 0) & (events.dphi4j_min >= 0.4)
        return zero | (events.n_signal_leptons >= 1)

    # -- multiplicities ----------------------------------------------------------------------
    for _n in (5, 6, 7, 10):
        locals()[f"n_jets_ge_{_n}"] = _compare(
            f"n_jets_ge_{_n}", "n_jets", ">=", _n, f"≥ {_n} jets"
        )
    for _n in (
        4,
        5,
        8,
        9,
        10,
    ):  # the published "N_jet ≥ n && N_b ≥ 3" step (N_b ≥ 3 is preselected)
        locals()[f"n_jets_ge_{_n}_n_b_ge_3"] = _compare(
            f"n_jets_ge_{_n}_n_b_ge_3", "n_jets", ">=", _n, f"≥ {_n} jets and ≥ 3 b-jets"
        )
    for _n in (4, 5, 8, 9):
        locals()[f"n_jets_eq_{_n}"] = _compare(f"n_jets_eq_{_n}", "n_jets", "==", _n, f"{_n} jets")
    n_b_ge_4 = _compare("n_b_ge_4", "n_b", ">=", 4, "≥ 4 b-jets")

    # -- thresholds (GeV) ----------------------------------------------------------------------
    for _v in (300, 350, 400, 450, 500, 550, 600):
        locals()[f"met_ge_{_v}"] = _compare(
            f"met_ge_{_v}", "met_pt", ">=", _v, f"E_T^miss ≥ {_v} GeV"
        )
    for _v in (800, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 2000, 2200, 2300, 2500, 2600, 2900):
        locals()[f"meff_ge_{_v}"] = _compare(f"meff_ge_{_v}", "meff", ">=", _v, f"m_eff ≥ {_v} GeV")
    meff_gt_400 = _compare("meff_gt_400", "meff", ">", 400, "m_eff > 400 GeV")
    for _v in (150, 200):
        locals()[f"mT_ge_{_v}"] = _compare(f"mT_ge_{_v}", "mT", ">=", _v, f"m_T ≥ {_v} GeV")
        locals()[f"mT_lt_{_v}"] = _compare(f"mT_lt_{_v}", "mT", "<", _v, f"m_T < {_v} GeV")
    for _v in (120, 130, 180):
        locals()[f"mT_bmin_ge_{_v}"] = _compare(
            f"mT_bmin_ge_{_v}", "mT_bmin", ">=", _v, f"m_T,min^b-jets ≥ {_v} GeV"
        )
    for _v in (50, 100, 150, 200, 300):
        locals()[f"MJ_ge_{_v}"] = _compare(f"MJ_ge_{_v}", "MJ", ">=", _v, f"M_J^Σ,4 ≥ {_v} GeV")
    for _v in (400, 500, 800):
        locals()[f"MJ_lt_{_v}"] = _compare(f"MJ_lt_{_v}", "MJ", "<", _v, f"M_J^Σ,4 < {_v} GeV")
    leading_jet_pt_ge_65 = _compare(
        "leading_jet_pt_ge_65", "leading_jet_pt", ">=", 65.0, "leading-jet pT ≥ 65 GeV (§9.15)"
    )

    # -- Z control regions (§5.8) --------------------------------------------------------------
    crz_sfos = _compare(
        "crz_two_signal_leptons_sfos",
        "sfos",
        "==",
        True,
        "exactly 2 signal leptons, same flavour, opposite charge",
    )
    crz_mll = _compare("crz_mll_gt_60", "mll", ">", 60.0, "m_ℓℓ > 60 GeV")
    crz_mll_hi = _compare("crz_mll_lt_120", "mll", "<", 120.0, "m_ℓℓ < 120 GeV")
    crz_ptll = _compare("crz_ptll_gt_70", "ptll", ">", 70.0, "pT(ℓℓ) > 70 GeV")
    crz_met = _compare(
        "met_hat_gt_200",
        "met_hat_pt",
        ">",
        200.0,
        "E_T^miss-hat = |p_T^miss + p_T(ℓ₁) + p_T(ℓ₂)| > 200 GeV",
    )

    # -- network scores (§5.6, §5.7, §5.8) ---------------------------------------------------
    for _tag, _low in (
        ("gtt_2100_1", 0.9997),
        ("gtt_1800_1", 0.9997),
        ("gtt_2300_1200", 0.9993),
        ("gtt_1900_1400", 0.9987),
        ("gbb_2800_1400", 0.999),
        ("gbb_2300_1000", 0.9994),
        ("gbb_2100_1600", 0.9993),
        ("gbb_2000_1800", 0.997),
    ):
        locals()[f"p_{_tag}_gt_{_low}"] = _score(
            f"p_{_tag}_gt_{_low}",
            f"nn_{_tag}_p",
            _low,
            None,
            f"P({_tag[:3].capitalize()}) at {_tag}",
        )
    for _tag, _low, _high, _ttbar in (
        ("gtt_2100_1", 0.68, 0.86, -1.8),
        ("gtt_1800_1", 0.73, 0.89, -2.0),
        ("gtt_2300_1200", 0.78, 0.83, -1.6),
        ("gbb_2300_1000", 0.52, 0.77, -0.8),
        ("gbb_2100_1600", 0.88, 0.91, -1.3),
        ("gbb_2000_1800", 0.92, 0.93, -1.9),
    ):
        locals()[f"p_{_tag}_in_{_low}_{_high}"] = _score(
            f"p_{_tag}_in_{_low}_{_high}", f"nn_{_tag}_p", _low, _high, f"CR window of {_tag}: P"
        )
        locals()[f"log10_p_ttbar_{_tag}_gt_{_ttbar}"] = _score(
            f"log10_p_ttbar_{_tag}_gt_{_ttbar}",
            f"nn_{_tag}_log10_ttbar",
            _ttbar,
            None,
            f"log10 P(tt̄) at {_tag}",
        )
    for _tag, _low, _ttbar, _z in (
        ("gbb_2800_1400", 0.6, -1.3, -3.0),
        ("gbb_2300_1000", 0.8, -1.3, -2.7),
        ("gbb_2100_1600", 0.9, -1.7, -4.9),
        ("gbb_2000_1800", 0.9, -2.2, -3.7),
    ):
        locals()[f"crz_p_{_tag}_gt_{_low}"] = _score(
            f"crz_p_{_tag}_gt_{_low}",
            f"crz_{_tag}_p",
            _low,
            None,
            f"P(Gbb) at {_tag}, no lepton inputs and MET-hat",
        )
        locals()[f"crz_log10_p_ttbar_{_tag}_lt_{_ttbar}"] = _score(
            f"crz_log10_p_ttbar_{_tag}_lt_{_ttbar}",
            f"crz_{_tag}_log10_ttbar",
            None,
            _ttbar,
            f"log10 P(tt̄) at {_tag}, Z-CR inputs",
        )
        locals()[f"crz_log10_p_z_{_tag}_gt_{_z}"] = _score(
            f"crz_log10_p_z_{_tag}_gt_{_z}",
            f"crz_{_tag}_log10_z",
            _z,
            None,
            f"log10 P(Z+jets) at {_tag}, Z-CR inputs",
        )
    del _n, _v, _tag, _low, _high, _ttbar, _z


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
