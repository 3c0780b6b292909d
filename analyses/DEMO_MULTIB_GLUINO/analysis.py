"""DEMO_MULTIB_GLUINO: the flagship's multi-b gluino search (a demonstration, not a publication).

Modelled on ATLAS-SUSY-2018-30 (gluino pairs → ≥ 3 b-jets + E_T^miss) but NOT that analysis:
its regions, thresholds and network are the reference experiment's own (the reference experiment,
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
bundle's network is loaded (the framework calls :meth:`DemoMultibGluino.scores` then): without
it the runner skips the network regions. Thresholds are declared once, as data, in
``cut_families`` (:mod:`recast.analysis.authoring`), and the options' defaults are those of
``analysis.json``.
"""

from __future__ import annotations

import logging
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis import (
    Analysis,
    NetworkNotLoadedError,
    cut,
    network_scores,
    threshold,
)
from recast.analysis.variables import (
    by_pt,
    leading_pt,
    leading_transverse_mass,
    min_delta_phi,
    min_transverse_mass,
    recluster,
    sum_of_masses,
)
from recast.errors import UsageError

__all__ = ["DemoMultibGluino", "NetworkNotLoadedError"]

log = logging.getLogger(__name__)

JET_MIN_PT = 30.0  # GeV
JET_MAX_ABS_ETA = 2.8
B_MAX_ABS_ETA = 2.5
ELECTRON_MIN_PT, ELECTRON_MAX_ABS_ETA = 20.0, 2.47
MUON_MIN_PT, MUON_MAX_ABS_ETA = 20.0, 2.5
LARGE_R = {"radius": 0.8, "trim_fcut": 0.1, "min_pt": 100.0, "max_abs_eta": 2.0}
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
#: the network regions' cut on P(signal class) at each hypothesis: with m_eff and m_T,min^b
#: (Gtt) they leave 0.5–2 tt̄ events
NN_THRESHOLDS = {tag: 0.99999 for tag in NN_POINTS}
#: the card's output labels (column order of the network's softmax)
OUTPUT_LABELS = ("background", "Gtt", "Gbb")


def signal_class(tag: str) -> str:
    """The output label a hypothesis's regions read: Gtt or Gbb."""
    return "Gtt" if NN_POINTS[tag][0] else "Gbb"


def nn_field(tag: str) -> str:
    """The derived field holding P(signal class of the hypothesis) at the point ``tag``."""
    return f"nn_{tag}_p"


def point_parameters(tag: str) -> dict[str, float]:
    """The card's parameter values of the hypothesis ``tag``."""
    is_gtt, m_gluino, m_lsp = NN_POINTS[tag]
    return {"isGtt": float(is_gtt), "mGluino": float(m_gluino), "mLSP": float(m_lsp)}


class DemoMultibGluino(Analysis):
    """≥ 4 jets, ≥ 3 b-jets, MET > 200 GeV; 0L and 1L cut-and-count and network regions."""

    cut_families = (
        # -- preselection and channels --------------------------------------------------------
        threshold("n_jets", ">=", 4, "≥ 4 jets (pT > 30 GeV, |η| < 2.8)"),
        threshold("n_b", ">=", 3, "≥ 3 b-jets (77 % WP, |η| < 2.5)"),
        threshold("met_pt", ">", 200, "E_T^miss > 200 GeV", name="met"),
        threshold("n_baseline_leptons", "==", 0, "no baseline e or μ"),
        threshold("n_signal_leptons", ">=", 1, "≥ 1 signal (isolated) e or μ"),
        threshold("dphi4j_min", ">=", 0.4, "Δφ^4j_min ≥ 0.4"),
        # -- signal-region cuts ---------------------------------------------------------------
        threshold("n_b", ">=", 4, "≥ 4 b-jets"),
        threshold("n_jets", ">=", (5, 6, 7, 8), "≥ {value} jets"),
        threshold(
            "met_pt",
            ">=",
            (300, 350, 400, 450, 500, 550, 600),
            "E_T^miss ≥ {value} GeV",
            name="met",
        ),
        threshold(
            "meff", ">=", (1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400), "m_eff ≥ {value} GeV"
        ),
        threshold("meff", "<", 1400, "m_eff < 1400 GeV"),
        threshold("mT", ">=", 150, "m_T ≥ 150 GeV"),
        threshold("mT", "<", 150, "m_T < 150 GeV"),
        threshold("mT_bmin", ">=", (100, 120, 140, 160), "m_T,min^b-jets ≥ {value} GeV"),
        threshold("MJ", ">=", (100, 200, 300, 400), "M_J^Σ,4 ≥ {value} GeV"),
        # -- network regions ------------------------------------------------------------------
        *(
            threshold(
                nn_field(tag),
                ">",
                low,
                f"network P({signal_class(tag)}) at {tag} > {low}",
                name=f"nn_{tag}_p",
                network=NETWORK,
            )
            for tag, low in NN_THRESHOLDS.items()
        ),
    )

    @cut("nn_gtt_channel", "0L (no baseline lepton, Δφ^4j_min ≥ 0.4) or ≥ 1 signal lepton")
    def nn_gtt_channel(self, events: ak.Array) -> ak.Array:
        zero = (events.n_baseline_leptons == 0) & (events.dphi4j_min >= 0.4)
        return zero | (events.n_signal_leptons >= 1)

    def setup(self) -> None:
        self.btag_field = self._field_option(
            "btag_field", "the name of the jets' 77 % b-tag field", "btag_field=btag_77"
        )
        self.isolation_field = self._field_option(
            "isolation_field",
            "'auto' or the name of the leptons' isolation decision",
            "isolation_field=isolated",
        )

    def _field_option(self, name: str, what: str, example: str) -> str:
        """The option ``name``, which names a field: a non-empty string."""
        value = self.option(name)
        if not isinstance(value, str) or not value:
            raise UsageError(
                f"DEMO_MULTIB_GLUINO: option {name} = {value!r}; give {what} "
                f"(e.g. --option {example})"
            )
        return value

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

    def variables(self, events: ak.Array) -> dict[str, Any]:
        jets = self.jets(events)
        baseline = self.baseline_leptons(events)
        signal = baseline[baseline.isolated]
        b_jets = jets[jets.btag]
        large_r = recluster(jets, **LARGE_R)
        met = events.met
        return {
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

    def preselected(self, events: ak.Array) -> np.ndarray:
        """The preselection as one bool per event (derived events)."""
        keep = (events.n_jets >= 4) & (events.n_b >= 3) & (events.met_pt > 200.0)
        return np.asarray(ak.to_numpy(keep), dtype=bool)

    @network_scores(NETWORK)
    def scores(self, events: ak.Array, session: Any) -> dict[str, np.ndarray]:
        """P(signal class) at every hypothesis of NN_POINTS; NaN (fails) off the preselection."""
        rows = np.flatnonzero(self.preselected(events))
        tags = list(NN_POINTS)
        results = (
            session.evaluate(events[rows], parameters=[point_parameters(t) for t in tags])
            if len(rows)
            else None
        )
        values = {}
        for k, tag in enumerate(tags):
            full = np.full(len(events), np.nan)
            if results is not None:
                full[rows] = np.asarray(results[k][signal_class(tag)], dtype=np.float64)
            values[nn_field(tag)] = full
        return values
