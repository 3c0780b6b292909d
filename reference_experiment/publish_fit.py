"""What the reference experiment measures on its own samples to publish a detector emulation.

Everything here is numpy on paired chunks (truth objects, reference-detector objects of the same
events, :mod:`reference_experiment.read`): the b-tagging efficiency at one working point per truth
flavour in pT–|η| bins, the jet response histograms and η/φ resolutions, the lepton
resolutions, identification and isolation efficiencies. Reconstructed objects are matched to
their truth objects through ``truth_index`` (their position in the truth collection).

>>> data = collect(paired_chunks("build/demo_multib", "Gtt_1800_1"))     # doctest: +SKIP
>>> steps = jet_smearing(data)                                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from recast.errors import UsageError
from recast.schema import CURRENT_VERSION
from recast.train import binned_map_document

log = logging.getLogger(__name__)

#: truth flavours of the published b-tagging map; τ jets (15) are measured together with c
FLAVOURS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (5, (5,)),
    (4, (4, 15)),
    (15, (4, 15)),
    (0, (0,)),
)
BTAG_PT_EDGES = [20.0, 30.0, 40.0, 60.0, 85.0, 120.0, 170.0, 250.0, 400.0, 3000.0]
BTAG_ABS_ETA_EDGES = [0.0, 0.6, 1.2, 1.8, 2.5]
#: truth pT bins of the jet response histograms, and the response bins
RESPONSE_PT_EDGES = [
    15.0,
    20.0,
    25.0,
    30.0,
    40.0,
    50.0,
    65.0,
    80.0,
    100.0,
    130.0,
    170.0,
    220.0,
    300.0,
    400.0,
    600.0,
    1000.0,
    5000.0,
]
RESPONSE_EDGES = (
    [0.0, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6]
    + [round(0.62 + 0.02 * k, 2) for k in range(40)]
    + [1.42, 1.5, 1.6, 1.8, 2.0, 3.0]
)
DIRECTION_PT_EDGES = [20.0, 30.0, 45.0, 70.0, 100.0, 150.0, 250.0, 500.0, 5000.0]
#: leptons: (collection, max |η| of the acceptance, |η| edges of the identification map)
LEPTONS: dict[str, tuple[float, list[float]]] = {
    "electrons": (2.47, [0.0, 1.37, 1.52, 2.0, 2.47]),
    "muons": (2.7, [0.0, 0.1, 1.05, 2.0, 2.7]),
}
LEPTON_MIN_PT = 7.0
LEPTON_PT_EDGES = [7.0, 15.0, 30.0, 60.0, 5000.0]
ISOLATION_PT_EDGES = [7.0, 20.0, 50.0, 5000.0]
ISOLATION_EDGES = [0.0, 0.02, 0.05, 0.08, 0.11, 0.15, 0.2, 0.3, 1.0e6]
LEPTON_RESOLUTION_PT_EDGES = [7.0, 15.0, 30.0, 60.0, 120.0, 250.0, 500.0, 5000.0]


def _flat(collection: ak.Array, name: str) -> np.ndarray:
    return np.asarray(ak.to_numpy(ak.flatten(collection[name], axis=1)), dtype=np.float64)


def _offsets(collection: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(ak.to_numpy(ak.num(collection, axis=1)), dtype=np.int64)
    return counts, np.repeat(np.cumsum(counts) - counts, counts)


@dataclass
class Measurements:
    """Flat per-object columns gathered from paired chunks, and the reconstructed jets."""

    jet_events: list[ak.Array] = field(default_factory=list)
    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)
    n_events: int = 0

    def add(self, name: str, values: np.ndarray) -> None:
        self.columns.setdefault(name, []).append(values)

    def get(self, name: str) -> np.ndarray:
        if name not in self.columns:
            return np.zeros(0)
        return np.concatenate(self.columns[name])

    def jets(self) -> ak.Array:
        """One record per event: ``event_number`` and the reference detector's ``jets``."""
        if not self.jet_events:
            raise UsageError("no events were read; give at least one training sample")
        return ak.concatenate(self.jet_events)


def collect(
    pairs: Iterable[tuple[ak.Array, ak.Array]],
    into: Measurements | None = None,
    max_events: int | None = None,
) -> Measurements:
    """Read (truth, reco) chunks into :class:`Measurements` (at most ``max_events``)."""
    data = into or Measurements()
    taken = 0
    for truth, reco in pairs:
        if max_events is not None:
            if taken >= max_events:
                break
            truth, reco = truth[: max_events - taken], reco[: max_events - taken]
        taken += len(reco)
        data.n_events += len(reco)
        jet_fields = [
            "pt",
            "eta",
            "phi",
            "mass",
            "flavour",
            "n_bhadrons",
            "n_chadrons",
            "truth_pt",
            "truth_eta",
            "dr_nearest",
            "btag_score",
            "btag_77",
        ]
        jets = ak.zip({f: reco.jets[f] for f in jet_fields}, with_name="Momentum4D")
        data.jet_events.append(
            ak.zip({"event_number": reco.event_number, "jets": jets}, depth_limit=1)
        )
        _collect_jets(data, truth.jets, reco.jets)
        shift = _shift(truth.jets, reco.jets)
        for name in LEPTONS:
            _collect_leptons(data, name, truth[name], reco[name])
            shift = shift + _shift(truth[name], reco[name])
        # what the objects' smearing does not explain: the residual the runtime's MET sees
        met_pt, met_phi = (np.asarray(truth.met[k], dtype=np.float64) for k in ("pt", "phi"))
        reco_pt, reco_phi = (np.asarray(reco.met[k], dtype=np.float64) for k in ("pt", "phi"))
        for axis, trig in enumerate((np.cos, np.sin)):
            expected = met_pt * trig(met_phi) - shift[axis]
            data.add("met_residual", reco_pt * trig(reco_phi) - expected)
    return data


def _matched(truth: ak.Array, reco: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per truth object its flat reco position (-1 if lost); per reco object its flat truth one."""
    t_counts, _ = _offsets(truth)
    t_start = np.cumsum(t_counts) - t_counts
    r_counts, _ = _offsets(reco)
    owner = np.repeat(np.arange(len(r_counts)), r_counts)
    truth_pos = t_start[owner] + _flat(reco, "truth_index").astype(np.int64)
    reco_of = np.full(int(t_counts.sum()), -1, dtype=np.int64)
    reco_of[truth_pos] = np.arange(len(truth_pos))
    return reco_of, truth_pos


def _shift(truth: ak.Array, reco: ak.Array) -> np.ndarray:
    """Per event, Σ (reco − truth) (px, py) over the reconstructed objects: shape (2, events)."""
    _, truth_pos = _matched(truth, reco)
    counts, _ = _offsets(reco)
    owner = np.repeat(np.arange(len(counts)), counts)
    t_pt, t_phi = _flat(truth, "pt")[truth_pos], _flat(truth, "phi")[truth_pos]
    r_pt, r_phi = _flat(reco, "pt"), _flat(reco, "phi")
    return np.stack(
        [
            np.bincount(owner, r_pt * trig(r_phi) - t_pt * trig(t_phi), minlength=len(counts))
            for trig in (np.cos, np.sin)
        ]
    )


def met_smearing(data: Measurements) -> dict[str, Any]:
    """The MET block: the objects' smearing propagated, then Gaussian components with the RMS
    of what it leaves unexplained (the soft term, lost objects) in the reference detector."""
    residual = data.get("met_residual")
    if len(residual) < 20:
        raise UsageError("too few events to measure the MET resolution; give more events")
    sigma = round(float(np.sqrt(np.mean(residual**2))), 3)
    return {
        "description": "MET recomputed from the smeared jets and leptons, then a Gaussian on "
        "each component with the RMS of the reference MET around that recomputation",
        "recompute_from": ["jets", *LEPTONS],
        "smearing": [{"variable": "components", "model": "constant", "sigma": sigma}],
    }


def _collect_jets(data: Measurements, truth: ak.Array, reco: ak.Array) -> None:
    reco_of, truth_pos = _matched(truth, reco)
    t_pt, t_eta, t_phi = (_flat(truth, n) for n in ("pt", "eta", "phi"))
    r_pt, r_eta, r_phi = (_flat(reco, n) for n in ("pt", "eta", "phi"))
    found = reco_of >= 0
    response = np.where(found, np.append(r_pt, 0.0)[np.maximum(reco_of, 0)] / t_pt, 0.0)
    data.add("jet_truth_pt", t_pt)
    data.add("jet_truth_abs_eta", np.abs(t_eta))
    data.add("jet_response", response)
    data.add("jet_found", found.astype(np.float64))
    data.add("jet_truth_nb", _flat(truth, "n_bhadrons"))
    data.add("jet_reco_pt", r_pt)
    data.add("jet_deta", r_eta - t_eta[truth_pos])
    dphi = r_phi - t_phi[truth_pos]
    data.add("jet_dphi", np.mod(dphi + np.pi, 2 * np.pi) - np.pi)


def _collect_leptons(data: Measurements, name: str, truth: ak.Array, reco: ak.Array) -> None:
    reco_of, _ = _matched(truth, reco)
    found = reco_of >= 0
    where = np.maximum(reco_of, 0)
    r_pt = np.append(_flat(reco, "pt"), 0.0)  # a lost lepton's index 0 may point past the end
    isolated = np.append(_flat(reco, "isolated"), 0.0)
    data.add(f"{name}_pt", _flat(truth, "pt"))
    data.add(f"{name}_abs_eta", np.abs(_flat(truth, "eta")))
    data.add(f"{name}_isolation", _flat(truth, "isolation"))
    data.add(f"{name}_found", found.astype(np.float64))
    data.add(f"{name}_response", np.where(found, r_pt[where] / _flat(truth, "pt"), 0.0))
    data.add(f"{name}_isolated", np.where(found, isolated[where], 0.0))


# -- fits ----------------------------------------------------------------------------------------
def jet_smearing(data: Measurements) -> list[dict[str, Any]]:
    """The jets' smearing steps: a response histogram per truth-pT bin, then η and φ.

    Truth jets inside the calorimeter (\\|η\\| < 4.4) that the reference detector lost (reco pT
    below 20 GeV or a clipped response) enter the lowest response bin, so that the emulation
    loses them at the same rate after its 20 GeV acceptance.
    """
    pt, abs_eta = data.get("jet_truth_pt"), data.get("jet_truth_abs_eta")
    inside = abs_eta < 4.4
    response = np.clip(data.get("jet_response")[inside], 0.0, RESPONSE_EDGES[-1] - 1e-9)
    counts, _, _ = np.histogram2d(
        np.clip(pt[inside], RESPONSE_PT_EDGES[0], RESPONSE_PT_EDGES[-1] - 1e-9),
        response,
        bins=[RESPONSE_PT_EDGES, RESPONSE_EDGES],
    )
    empty = np.flatnonzero(counts.sum(axis=1) == 0)
    if len(empty):
        raise UsageError(
            f"the jet response has no truth jets in pT bin(s) "
            f"{[RESPONSE_PT_EDGES[k] for k in empty]} GeV; give more events"
        )
    steps: list[dict[str, Any]] = [
        {
            "variable": "pt",
            "model": "response",
            "description": "r = reco pT / truth pT of the reference detector per truth-pT bin; "
            "lost jets (reco pT < 20 GeV) counted in the lowest bin",
            "pt_edges": RESPONSE_PT_EDGES,
            "response_edges": RESPONSE_EDGES,
            "counts": counts.astype(int).tolist(),
        }
    ]
    reco_pt = data.get("jet_reco_pt")
    for variable in ("eta", "phi"):
        shift = data.get(f"jet_d{variable}")
        sigma = _binned_sigma(reco_pt, shift, DIRECTION_PT_EDGES)
        steps.append(
            {
                "variable": variable,
                "model": "binned",
                "description": f"absolute {variable} resolution: RMS of reco - truth per reco-pT bin",  # noqa: E501
                "pt_edges": DIRECTION_PT_EDGES,
                "sigma": sigma,
            }
        )
    return steps


def _binned_sigma(pt: np.ndarray, shift: np.ndarray, edges: Sequence[float]) -> list[float]:
    index = np.clip(np.searchsorted(edges, pt, side="right") - 1, 0, len(edges) - 2)
    sigma = []
    for k in range(len(edges) - 1):
        values = shift[index == k]
        if len(values) < 10:
            raise UsageError(
                f"only {len(values)} objects in the resolution bin [{edges[k]:g}, "
                f"{edges[k + 1]:g}) GeV; give more events"
            )
        sigma.append(round(float(np.sqrt(np.mean(values**2))), 6))
    return sigma


def lepton_smearing(data: Measurements, name: str) -> list[dict[str, Any]]:
    """A relative pT resolution per truth-pT bin: the RMS of r − 1 of the found leptons."""
    found = data.get(f"{name}_found") > 0
    pt = data.get(f"{name}_pt")[found]
    sigma = _binned_sigma(pt, data.get(f"{name}_response")[found] - 1.0, LEPTON_RESOLUTION_PT_EDGES)
    return [
        {
            "variable": "pt",
            "model": "binned",
            "description": "relative pT resolution of the reference detector per truth-pT bin",
            "pt_edges": LEPTON_RESOLUTION_PT_EDGES,
            "sigma": sigma,
        }
    ]


def _table_document(
    columns: Mapping[str, np.ndarray],
    passed: np.ndarray,
    axes: Sequence[Mapping[str, Any]],
    collection: str,
    name: str,
    working_point: str,
    notes: str,
) -> dict[str, Any]:
    """A binned map measured on flat columns (one pseudo-event per object)."""
    objects = ak.zip({k: v for k, v in columns.items()})
    events = ak.zip(
        {collection: ak.unflatten(objects, np.ones(len(passed), dtype=np.int64))}, depth_limit=1
    )
    tagged = ak.unflatten(passed.astype(bool), np.ones(len(passed), dtype=np.int64))
    return binned_map_document(
        events,
        tagged,
        collection=collection,
        axes=axes,
        name=name,
        working_point=working_point,
        provenance={"source": "reference_experiment.publish_detector", "notes": notes},
    )


def lepton_maps(data: Measurements, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(identification map, isolation map) of one lepton collection.

    Identification: the fraction of truth leptons inside the acceptance (pT > 7 GeV) that the
    reference detector reconstructs, per truth pT × \\|η\\|. Isolation: the fraction of those
    found that it calls isolated, per truth pT × truth relative isolation.
    """
    max_eta, eta_edges = LEPTONS[name]
    pt, abs_eta = data.get(f"{name}_pt"), data.get(f"{name}_abs_eta")
    inside = (pt > LEPTON_MIN_PT) & (abs_eta < max_eta)
    found = data.get(f"{name}_found") > 0
    pt_axis = {"variable": "pt", "unit": "GeV", "edges": LEPTON_PT_EDGES}
    identification = _table_document(
        {"pt": pt[inside], "abs_eta": abs_eta[inside]},
        found[inside],
        [pt_axis, {"variable": "abs_eta", "unit": "1", "edges": eta_edges}],
        name,
        f"{name}_id",
        "identification",
        f"fraction of truth {name} (pT > 7 GeV, |eta| < {max_eta}) the reference detector "
        "reconstructs, from the training samples",
    )
    chosen = inside & found
    isolation = _table_document(
        {"pt": pt[chosen], "isolation": data.get(f"{name}_isolation")[chosen]},
        data.get(f"{name}_isolated")[chosen] > 0,
        [
            {"variable": "pt", "unit": "GeV", "edges": ISOLATION_PT_EDGES},
            {"variable": "isolation", "unit": "1", "edges": ISOLATION_EDGES},
        ],
        name,
        f"{name}_isolation",
        "isolation",
        f"fraction of reconstructed {name} the reference detector calls isolated, against the "
        "truth relative isolation (sum pT in dR < 0.2 over the lepton pT)",
    )
    return identification, isolation


def btag_binned_document(jets: ak.Array, working_point: str = "btag_77") -> dict[str, Any]:
    """The b-tagging map per truth flavour × reco pT × \\|η\\| (zero beyond \\|η\\| = 2.5)."""
    values, sigmas = [], []
    inside = np.abs(jets.jets.eta) < BTAG_ABS_ETA_EDGES[-1]
    flavour = jets.jets.flavour
    for label, measured_as in FLAVOURS:
        chosen = inside & (flavour == measured_as[0])
        for other in measured_as[1:]:
            chosen = chosen | (inside & (flavour == other))
        selected = ak.zip(
            {"event_number": jets.event_number, "jets": jets.jets[chosen]}, depth_limit=1
        )
        part = binned_map_document(
            selected,
            working_point,
            axes=[
                {"variable": "pt", "unit": "GeV", "edges": BTAG_PT_EDGES},
                {"variable": "abs_eta", "unit": "1", "edges": BTAG_ABS_ETA_EDGES},
            ],
        )
        values.append(part["values"])
        sigmas.append(part["uncertainties"])
        log.info("b-tag map, flavour %d: measured on %s", label, part["description"])
    n_jets = int(ak.sum(inside))
    return {
        "schema_version": CURRENT_VERSION,
        "name": f"{working_point}_binned",
        "description": "b-tagging efficiency at the 77 % working point of the reference tagger "
        f"per truth flavour (5 b, 4 c, 15 tau measured with c, 0 light) x reconstructed jet pT x "
        f"|eta|, from {n_jets} reconstructed jets inside the tracker of the training samples",
        "object": "jets",
        "working_point": "77%",
        "kind": "binned",
        "axes": [
            {"variable": "flavour", "categories": [f for f, _ in FLAVOURS], "out_of_range": "zero"},
            {"variable": "pt", "unit": "GeV", "edges": BTAG_PT_EDGES},
            {
                "variable": "abs_eta",
                "unit": "1",
                "edges": BTAG_ABS_ETA_EDGES,
                "out_of_range": "zero",
            },
        ],
        "values": values,
        "uncertainties": sigmas,
        "out_of_range": "clamp",
        "validity": {"pt": [BTAG_PT_EDGES[0], BTAG_PT_EDGES[-1]], "abs_eta": [0.0, 2.5]},
        "provenance": {
            "source": "reference_experiment.publish_detector",
            "notes": "Sum(tagged)/N per bin, truth jets matched to reconstructed ones via "
            "truth_index; training samples only",
        },
    }


__all__ = [
    "FLAVOURS",
    "Measurements",
    "btag_binned_document",
    "collect",
    "jet_smearing",
    "lepton_maps",
    "lepton_smearing",
    "met_smearing",
]
