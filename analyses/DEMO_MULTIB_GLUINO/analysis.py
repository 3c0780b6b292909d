"""DEMO_MULTIB_GLUINO: the flagship's multi-b gluino search (a demonstration, not a publication).

Modelled on ATLAS-SUSY-2018-30 (gluino pairs → ≥ 3 b-jets + E_T^miss) but NOT that analysis:
its regions, thresholds and network are the reference experiment's own (``recast.reference``,
``docs/flagship.md``). Every cut is declared once, by name, with ``@cut``; ``analysis.json``
lists the regions as ordered lists of these names.

The same class runs on

* the reference experiment's detector objects (the "official" result): jets carry one bool
  per b-tag working point, ``btag_77`` among them, leptons an ``isolated`` flag;
* the recast side, after the bundle's ``detector.json``: its jet tag is named ``btag_77`` too,
  so that both read the 77 % decision through one field. The option ``btag_field`` names
  another field (a bool, or a per-jet 0/1 value) if an emulation calls it differently.

Lepton isolation: the option ``isolation_field`` (default ``auto``) reads ``isolated_reco``
when the leptons carry it — the reconstructed-isolation tag ``detector.json`` samples, while the
truth objects' own ``isolated`` is the truth decision — and ``isolated`` otherwise (the
reference detector's objects, whose ``isolated`` is the reconstructed decision).

Objects (no overlap removal: the reference experiment's jets are clustered without the prompt
leptons, so a jet and a lepton never share particles):

* signal jets: pT > 30 GeV, |η| < 2.8; a b-jet is a signal jet with the 77 % tag and
  |η| < 2.5 (the field ``btag`` of ``small_R_jets``, the network's b-tag input);
* baseline leptons: electrons pT > 20 GeV, |η| < 2.47; muons pT > 20 GeV, |η| < 2.5;
  signal leptons: baseline and ``isolated``;
* large-R jets: the signal jets re-clustered with anti-kT R = 0.8, trimmed at f_cut = 0.1,
  pT > 100 GeV, |η| < 2.0 (:func:`recast.analysis.variables.recluster`).

The network (``networks/multib_demo.card.json``) reads the derived collections
``small_R_jets``, ``large_R_jets``, ``leptons`` and ``met`` directly. It is evaluated once per
chunk for all its parameter points, on the events passing the preselection, and only when the
bundle's network is loaded: without it the runner skips the network regions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import Analysis, cut
from recast.analysis.variables import (
    by_pt,
    leading_pt,
    leading_transverse_mass,
    min_delta_phi,
    min_transverse_mass,
    recluster,
    sum_of_masses,
)
from recast.errors import RecastError, UsageError

log = logging.getLogger(__name__)

JET_MIN_PT = 30.0  # GeV
JET_MAX_ABS_ETA = 2.8
B_MAX_ABS_ETA = 2.5
ELECTRON_MIN_PT, ELECTRON_MAX_ABS_ETA = 20.0, 2.47
MUON_MIN_PT, MUON_MAX_ABS_ETA = 20.0, 2.5
LARGE_R = {"radius": 0.8, "trim_fcut": 0.1, "min_pt": 100.0, "max_abs_eta": 2.0}
DEFAULT_BTAG_FIELD = "btag_77"
#: isolation_field "auto": the first of these the leptons carry
ISOLATION_FIELDS = ("isolated_reco", "isolated")
NETWORK = "multib_demo"
#: network hypotheses by tag: (isGtt, m(g̃), m(χ̃⁰₁)) in GeV, and the class each region reads
NN_POINTS: dict[str, tuple[int, int, int]] = {
    "gtt_2100_1": (1, 2100, 1),
    "gtt_2100_800": (1, 2100, 800),
    "gbb_2100_1": (0, 2100, 1),
    "gbb_2100_800": (0, 2100, 800),
}
#: the card's output labels (column order of the network's softmax)
OUTPUT_LABELS = ("background", "Gtt", "Gbb")


class NetworkNotLoadedError(RecastError, RuntimeError):
    """A network region was evaluated without the network (its file is not available)."""


def nn_field(tag: str) -> str:
    """The derived field holding P(signal class of the hypothesis) at the point ``tag``."""
    return f"nn_{tag}_p"


def point_parameters(tag: str) -> dict[str, float]:
    """The card's parameter values of the hypothesis ``tag``."""
    is_gtt, m_gluino, m_lsp = NN_POINTS[tag]
    return {"isGtt": float(is_gtt), "mGluino": float(m_gluino), "mLSP": float(m_lsp)}


# -- cut factories: each call declares one cut, under its own name ---------------------------
_OPS: dict[str, Callable[[Any, float], Any]] = {
    ">=": lambda x, v: x >= v,
    ">": lambda x, v: x > v,
    "<": lambda x, v: x < v,
    "==": lambda x, v: x == v,
}


def _threshold(name: str, field: str, op: str, value: float, description: str) -> Callable:
    test = _OPS[op]

    @cut(name, description)
    def method(self: DemoMultibGluino, events: ak.Array) -> ak.Array:
        return test(events[field], value)

    return method


def _score(tag: str, low: float) -> Callable:
    label = "Gtt" if NN_POINTS[tag][0] else "Gbb"
    name = f"nn_{tag}_p_gt_{low}"

    @cut(name, f"network P({label}) at {tag} > {low}")
    def method(self: DemoMultibGluino, events: ak.Array) -> ak.Array:
        if nn_field(tag) not in ak.fields(events):
            raise NetworkNotLoadedError(
                f"DEMO_MULTIB_GLUINO: cut {name!r} needs the network {NETWORK!r}, which is not "
                f"loaded; give it with --network {NETWORK}=PATH or run without network regions"
            )
        return events[nn_field(tag)] > low

    return method


class DemoMultibGluino(Analysis):
    """≥ 4 jets, ≥ 3 b-jets, MET > 200 GeV; 0L and 1L cut-and-count and network regions."""

    def __init__(
        self,
        regions: Mapping[str, Sequence[str]],
        networks: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(regions, networks, options)
        field = self.options.get("btag_field", DEFAULT_BTAG_FIELD)
        if not isinstance(field, str) or not field:
            raise UsageError(
                f"DEMO_MULTIB_GLUINO: option btag_field = {field!r}; give the name of the jets' "
                "77 % b-tag field (e.g. --option btag_field=btag_77)"
            )
        self.btag_field = field
        isolation = self.options.get("isolation_field", "auto")
        if not isinstance(isolation, str) or not isolation:
            raise UsageError(
                f"DEMO_MULTIB_GLUINO: option isolation_field = {isolation!r}; give 'auto' or the "
                "name of the leptons' isolation decision (e.g. --option isolation_field=isolated)"
            )
        self.isolation_field = isolation

    # -- objects and variables ---------------------------------------------------------------
    def jets(self, events: ak.Array) -> ak.Array:
        """Signal jets, pT-descending, with ``btag``: the b-jet flag (tagged, |η| < 2.5)."""
        jets = events.jets
        if self.btag_field not in ak.fields(jets):
            raise UsageError(
                f"DEMO_MULTIB_GLUINO: the jets have no field {self.btag_field!r} (they have "
                f"{', '.join(ak.fields(jets))}); name the 77 % b-tag with the option btag_field, "
                "or give the detector emulation's tag that name"
            )
        jets = by_pt(jets[(jets.pt > JET_MIN_PT) & (abs(jets.eta) < JET_MAX_ABS_ETA)])
        tagged = ak.values_astype(jets[self.btag_field], bool)
        return ak.with_field(jets, tagged & (abs(jets.eta) < B_MAX_ABS_ETA), "btag")

    def isolation(self, leptons: ak.Array) -> str:
        """The leptons' isolation field: the option, or for ``auto`` the first of
        ISOLATION_FIELDS they carry."""
        have = ak.fields(leptons)
        wanted = ISOLATION_FIELDS if self.isolation_field == "auto" else (self.isolation_field,)
        for name in wanted:
            if name in have:
                return name
        raise UsageError(
            f"DEMO_MULTIB_GLUINO: the leptons have none of {', '.join(wanted)} (they have "
            f"{', '.join(have)}); name their isolation decision with the option isolation_field"
        )

    def baseline_leptons(self, events: ak.Array) -> ak.Array:
        """Electrons and muons above threshold inside the acceptance, pT-descending, with
        ``isolated``: the isolation decision (see :meth:`isolation`)."""
        e, m = events.electrons, events.muons
        e = e[(e.pt > ELECTRON_MIN_PT) & (abs(e.eta) < ELECTRON_MAX_ABS_ETA)]
        m = m[(m.pt > MUON_MIN_PT) & (abs(m.eta) < MUON_MAX_ABS_ETA)]
        both = [
            ak.zip(
                {
                    **{k: c[k] for k in ("pt", "eta", "phi", "mass")},
                    "isolated": ak.values_astype(c[self.isolation(c)], bool),
                },
                with_name="Momentum4D",
            )
            for c in (e, m)
        ]
        return by_pt(ak.concatenate(both, axis=1))

    def derive(self, events: ak.Array) -> ak.Array:
        jets = self.jets(events)
        baseline = self.baseline_leptons(events)
        signal = baseline[baseline.isolated]
        b_jets = jets[jets.btag]
        large_r = recluster(jets, **LARGE_R)
        met = events.met
        fields = {
            "small_R_jets": jets,
            "large_R_jets": large_r,
            "leptons": signal,
            "n_jets": ak.num(jets, axis=1),
            "n_b": ak.num(b_jets, axis=1),
            "n_baseline_leptons": ak.num(baseline, axis=1),
            "n_signal_leptons": ak.num(signal, axis=1),
            "met_pt": met.pt,
            "meff": met.pt + ak.sum(jets.pt, axis=1) + ak.sum(signal.pt, axis=1),
            "mT": leading_transverse_mass(signal, met),
            "mT_bmin": min_transverse_mass(b_jets, met, leading=3),
            "dphi4j_min": min_delta_phi(jets, met, leading=4),
            "MJ": sum_of_masses(large_r, leading=4),
            "leading_jet_pt": leading_pt(jets),
        }
        for name, values in fields.items():
            events = ak.with_field(events, values, name)
        if NETWORK in self.networks:
            events = self.scores(events)
        return events

    def preselected(self, events: ak.Array) -> np.ndarray:
        """The preselection as one bool per event (derived events)."""
        keep = (events.n_jets >= 4) & (events.n_b >= 3) & (events.met_pt > 200.0)
        return np.asarray(ak.to_numpy(keep), dtype=bool)

    def scores(self, events: ak.Array) -> ak.Array:
        """P(signal class) at every hypothesis of NN_POINTS; NaN (fails) off the preselection."""
        session = self.networks[NETWORK]
        rows = np.flatnonzero(self.preselected(events))
        tags = list(NN_POINTS)
        results = (
            session.evaluate(events[rows], parameters=[point_parameters(t) for t in tags])
            if len(rows)
            else None
        )
        for k, tag in enumerate(tags):
            full = np.full(len(events), np.nan)
            if results is not None:
                label = "Gtt" if NN_POINTS[tag][0] else "Gbb"
                full[rows] = np.asarray(results[k][label], dtype=np.float64)
            events = ak.with_field(events, full, nn_field(tag))
        return events

    # -- preselection and channels --------------------------------------------------------
    n_jets_ge_4 = _threshold("n_jets_ge_4", "n_jets", ">=", 4, "≥ 4 jets (pT > 30 GeV, |η| < 2.8)")
    n_b_ge_3 = _threshold("n_b_ge_3", "n_b", ">=", 3, "≥ 3 b-jets (77 % WP, |η| < 2.5)")
    met_gt_200 = _threshold("met_gt_200", "met_pt", ">", 200.0, "E_T^miss > 200 GeV")
    zero_lepton = _threshold(
        "n_baseline_leptons_eq_0", "n_baseline_leptons", "==", 0, "no baseline e or μ"
    )
    one_lepton = _threshold(
        "n_signal_leptons_ge_1", "n_signal_leptons", ">=", 1, "≥ 1 signal (isolated) e or μ"
    )
    dphi_04 = _threshold("dphi4j_min_ge_0.4", "dphi4j_min", ">=", 0.4, "Δφ^4j_min ≥ 0.4")

    @cut("nn_gtt_channel", "0L (no baseline lepton, Δφ^4j_min ≥ 0.4) or ≥ 1 signal lepton")
    def nn_gtt_channel(self, events: ak.Array) -> ak.Array:
        zero = (events.n_baseline_leptons == 0) & (events.dphi4j_min >= 0.4)
        return zero | (events.n_signal_leptons >= 1)

    # -- signal-region cuts ---------------------------------------------------------------
    n_b_ge_4 = _threshold("n_b_ge_4", "n_b", ">=", 4, "≥ 4 b-jets")
    for _n in (5, 6, 7, 8):
        locals()[f"n_jets_ge_{_n}"] = _threshold(
            f"n_jets_ge_{_n}", "n_jets", ">=", _n, f"≥ {_n} jets"
        )
    for _v in (300, 350, 400, 450, 500, 550, 600):
        locals()[f"met_ge_{_v}"] = _threshold(
            f"met_ge_{_v}", "met_pt", ">=", _v, f"E_T^miss ≥ {_v} GeV"
        )
    for _v in (1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400):
        locals()[f"meff_ge_{_v}"] = _threshold(
            f"meff_ge_{_v}", "meff", ">=", _v, f"m_eff ≥ {_v} GeV"
        )
    meff_lt_1400 = _threshold("meff_lt_1400", "meff", "<", 1400, "m_eff < 1400 GeV")
    mT_ge_150 = _threshold("mT_ge_150", "mT", ">=", 150.0, "m_T ≥ 150 GeV")
    mT_lt_150 = _threshold("mT_lt_150", "mT", "<", 150.0, "m_T < 150 GeV")
    for _v in (100, 120, 140, 160):
        locals()[f"mT_bmin_ge_{_v}"] = _threshold(
            f"mT_bmin_ge_{_v}", "mT_bmin", ">=", _v, f"m_T,min^b-jets ≥ {_v} GeV"
        )
    for _v in (100, 200, 300, 400):
        locals()[f"MJ_ge_{_v}"] = _threshold(f"MJ_ge_{_v}", "MJ", ">=", _v, f"M_J^Σ,4 ≥ {_v} GeV")

    # -- network regions: with m_eff and m_T,min^b (Gtt) they leave 0.5–2 tt̄ events ----------
    for _tag, _low in (
        ("gtt_2100_1", 0.99999),
        ("gtt_2100_800", 0.99999),
        ("gbb_2100_1", 0.99999),
        ("gbb_2100_800", 0.99999),
    ):
        locals()[f"nn_{_tag}_p_gt_{_low}"] = _score(_tag, _low)
    del _n, _v, _tag, _low
