"""The reference experiment's detector: truth objects in, reconstructed objects out.

::

    from reference_experiment import ReferenceDetector, REFERENCE_OBJECTS
    from recast.objects import build_objects
    objects = build_objects(chunk, REFERENCE_OBJECTS)
    reco = ReferenceDetector().apply(objects, seed=1)
    reco.jets.pt, reco.jets.btag_score, reco.jets.btag_77, reco.muons.isolated, reco.met.pt

Input: one record per event as :func:`recast.objects.build_objects` makes it, with
``REFERENCE_OBJECTS`` (jets without the prompt leptons, so that jets and leptons never share
particles and MET counts nothing twice). Output, one record per event:

``event_number``, ``weight``, ``weights``
    copied from the input.
``jets``
    reconstructed jets (``Momentum4D``: pt, eta, phi, mass), pT-descending, with the truth
    labels ``flavour``, ``n_bhadrons``, ``n_chadrons``, the truth ``truth_pt``,
    ``truth_eta``, ``truth_index`` (position in the input collection), ``dr_nearest`` (the
    ΔR the tagger used: to the nearest other truth jet of pT ≥ 15 GeV), ``btag_score`` and
    one bool ``btag_<wp>`` per working point (60, 70, 77, 85). Models:
    :mod:`reference_experiment.jets`, :mod:`reference_experiment.btag`.
``electrons``, ``muons``
    identified leptons (pt, eta, phi, mass, charge, pid), pT-descending, with ``isolated``,
    ``truth_pt``, ``truth_index``, ``truth_isolation`` (:mod:`reference_experiment.leptons`).
``met``, ``met_soft``
    ``Momentum2D`` (pt, phi): MET from the reconstructed objects and the reconstructed soft
    term (:mod:`reference_experiment.met`).

Photons and hadronic τ are not reconstructed as such (a τ is a jet, flavour 15). Every random
number is counter-based (:mod:`recast.detector.random`), keyed by the seed, the event number
and the object's position in its *truth* collection: the same seed and events give
bit-identical output, however they are chunked.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import awkward as ak
import numpy as np
import vector

from recast.errors import MissingCollectionError, UsageError
from recast.objects import ObjectConfig

from . import jets as jet_model
from . import leptons as lepton_model
from .btag import DR_ALONE, PROXIMITY_MIN_PT, WORKING_POINTS, BTagModel, sample_scores
from .jets import JetModel
from .leptons import ELECTRONS, MUONS, LeptonModel
from .met import SoftTermModel, per_event_sum, soft_term

vector.register_awkward()
log = logging.getLogger(__name__)

#: the truth objects the reference experiment reconstructs (and the bundle will declare)
REFERENCE_OBJECTS = ObjectConfig(jet_min_pt=15.0, jet_exclude_leptons=True)

_NEEDED = {
    "jets": ("pt", "eta", "phi", "mass", "flavour", "n_bhadrons", "n_chadrons"),
    "electrons": ("pt", "eta", "phi", "mass", "charge", "pid", "isolation"),
    "muons": ("pt", "eta", "phi", "mass", "charge", "pid", "isolation"),
    "met_visible": ("pt", "phi"),
}
SOURCE = "the reference detector"


def _check(objects: ak.Array) -> None:
    fields = ak.fields(objects)
    for name in ("event_number", "weight", "weights", *_NEEDED):
        if name not in fields:
            raise MissingCollectionError(SOURCE, "field", name, fields)
    for collection, names in _NEEDED.items():
        have = ak.fields(objects[collection])
        for name in names:
            if name not in have:
                raise MissingCollectionError(SOURCE, f"attribute of {collection!r}", name, have)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"the reference detector's seed must be an integer >= 0, not {seed!r}")
    return int(seed)


class _Flat:
    """A jagged collection flattened: numpy columns, owner event, index within the event."""

    def __init__(self, collection: ak.Array, names: Iterable[str]) -> None:
        self.counts = np.asarray(ak.to_numpy(ak.num(collection, axis=1)), dtype=np.int64)
        self.owner = np.repeat(np.arange(len(self.counts)), self.counts)
        starts = np.cumsum(self.counts) - self.counts
        self.index = np.arange(len(self.owner), dtype=np.int64) - starts[self.owner]
        flat = ak.flatten(collection, axis=1)
        self.columns = {n: np.asarray(ak.to_numpy(flat[n])) for n in names}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def nearest_dr(
    counts: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    pt: np.ndarray,
    min_pt: float,
    batch: int = 2048,
) -> np.ndarray:
    """Per object, ΔR to the nearest *other* object of its event with pT ≥ ``min_pt``.

    Events are padded to the largest multiplicity and compared pairwise, ``batch`` events at a
    time so that memory stays bounded whatever the chunk size.
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    out = np.empty(int(counts.sum()))
    for first in range(0, len(counts), batch):
        c = counts[first : first + batch]
        lo, hi = starts[first], starts[first] + int(c.sum())
        out[lo:hi] = _nearest_padded(c, eta[lo:hi], phi[lo:hi], pt[lo:hi] >= min_pt)
    return out


def _nearest_padded(
    counts: np.ndarray, eta: np.ndarray, phi: np.ndarray, neighbour_ok: np.ndarray
) -> np.ndarray:
    n, most = len(counts), int(counts.max(initial=0))
    owner = np.repeat(np.arange(n), counts)
    position = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    grid_eta, grid_phi = np.zeros((n, most)), np.zeros((n, most))
    neighbour = np.zeros((n, most), dtype=bool)
    grid_eta[owner, position], grid_phi[owner, position] = eta, phi
    neighbour[owner, position] = neighbour_ok
    deta = grid_eta[:, :, None] - grid_eta[:, None, :]
    dphi = grid_phi[:, :, None] - grid_phi[:, None, :]
    dphi -= 2.0 * np.pi * np.round(dphi / (2.0 * np.pi))
    dr2 = deta * deta + dphi * dphi
    usable = neighbour[:, None, :] & ~np.eye(most, dtype=bool)[None]
    dr2 = np.where(usable, dr2, np.inf)
    nearest = np.sqrt(dr2.min(axis=2, initial=np.inf))
    nearest = np.where(np.isfinite(nearest), nearest, DR_ALONE)
    return nearest[owner, position]


def _collection(
    columns: dict[str, np.ndarray],
    owner: np.ndarray,
    keep: np.ndarray,
    n_events: int,
    with_name: str | None = "Momentum4D",
) -> ak.Array:
    """Kept objects grouped by event, pT-descending (stable)."""
    owner = owner[keep]
    order = np.lexsort((-columns["pt"][keep], owner))
    records = ak.zip({k: v[keep][order] for k, v in columns.items()}, with_name=with_name)
    return ak.unflatten(records, np.bincount(owner, minlength=n_events))


def _momentum_2d(x: np.ndarray, y: np.ndarray) -> ak.Array:
    return ak.zip({"pt": np.hypot(x, y), "phi": np.arctan2(y, x)}, with_name="Momentum2D")


@dataclass(frozen=True)
class ReferenceDetector:
    """The reference experiment's detector; the default parameters are the documented truth."""

    jets: JetModel = field(default_factory=JetModel)
    btag: BTagModel = field(default_factory=BTagModel)
    electrons: LeptonModel = ELECTRONS
    muons: LeptonModel = MUONS
    soft: SoftTermModel = field(default_factory=SoftTermModel)
    working_points: dict[int, float] = field(default_factory=lambda: dict(WORKING_POINTS))

    def apply(self, objects: ak.Array, seed: int) -> ak.Array:
        """Reconstructed objects of every event of ``objects`` (see the module docstring)."""
        seed = _check_seed(seed)
        _check(objects)
        n = len(objects)
        numbers = np.asarray(ak.to_numpy(objects["event_number"]), dtype=np.int64)
        out: dict[str, Any] = {
            "event_number": objects["event_number"],
            "weight": objects["weight"],
            "weights": objects["weights"],
        }
        jets = _Flat(objects["jets"], _NEEDED["jets"])
        jet_columns, jet_keep = self._jets(jets, numbers[jets.owner], seed)
        out["jets"] = _collection(jet_columns, jets.owner, jet_keep, n)
        hard_reco = [
            per_event_sum(jets.owner[jet_keep], c[jet_keep], n)
            for c in _xy(jet_columns["pt"], jet_columns["phi"])
        ]
        hard_true = [
            per_event_sum(jets.owner[jet_keep], c[jet_keep], n)
            for c in _xy(jets["pt"], jets["phi"])
        ]
        for model in (self.electrons, self.muons):
            leptons = _Flat(objects[model.name], _NEEDED[model.name])
            columns, keep = self._leptons(model, leptons, numbers[leptons.owner], seed)
            out[model.name] = _collection(columns, leptons.owner, keep, n)
            for total, (x, y) in (
                (hard_reco, _xy(columns["pt"], columns["phi"])),
                (hard_true, _xy(leptons["pt"], leptons["phi"])),
            ):
                total[0] += per_event_sum(leptons.owner[keep], x[keep], n)
                total[1] += per_event_sum(leptons.owner[keep], y[keep], n)
        visible = objects["met_visible"]
        v_pt = np.asarray(ak.to_numpy(visible["pt"]), np.float64)
        v_phi = np.asarray(ak.to_numpy(visible["phi"]), np.float64)
        # met_visible is minus the visible sum
        true_soft = (-v_pt * np.cos(v_phi) - hard_true[0], -v_pt * np.sin(v_phi) - hard_true[1])
        sx, sy = soft_term(self.soft, seed, numbers, *true_soft)
        out["met"] = _momentum_2d(-(hard_reco[0] + sx), -(hard_reco[1] + sy))
        out["met_soft"] = _momentum_2d(sx, sy)
        return ak.zip(out, depth_limit=1)

    def _jets(
        self, jets: _Flat, numbers: np.ndarray, seed: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        pt, eta, phi, mass = jets["pt"], jets["eta"], jets["phi"], jets["mass"]
        has_b = jets["n_bhadrons"] > 0
        reco_pt, reco_eta, reco_phi, reco_mass, keep = jet_model.reconstruct(
            self.jets, seed, numbers, jets.index, pt, eta, phi, mass, has_b
        )
        dr = nearest_dr(jets.counts, eta, phi, pt, PROXIMITY_MIN_PT)
        score = sample_scores(
            seed, numbers, jets.index, jets["flavour"], jets["n_bhadrons"], pt, eta, dr, self.btag
        )
        columns = {
            "pt": reco_pt,
            "eta": reco_eta,
            "phi": reco_phi,
            "mass": reco_mass,
            "flavour": jets["flavour"],
            "n_bhadrons": jets["n_bhadrons"],
            "n_chadrons": jets["n_chadrons"],
            "truth_pt": pt,
            "truth_eta": eta,
            "truth_index": jets.index,
            "dr_nearest": dr,
            "btag_score": score,
        }
        for wp, cut in sorted(self.working_points.items()):
            columns[f"btag_{wp}"] = score > cut
        return columns, keep

    def _leptons(
        self, model: LeptonModel, leptons: _Flat, numbers: np.ndarray, seed: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        pt, eta = leptons["pt"], leptons["eta"]
        reco_pt, keep, isolated = lepton_model.reconstruct(
            model, seed, numbers, leptons.index, pt, eta, leptons["isolation"]
        )
        scale = np.divide(reco_pt, pt, out=np.zeros_like(pt), where=pt > 0)
        columns = {
            "pt": reco_pt,
            "eta": eta,
            "phi": leptons["phi"],
            "mass": leptons["mass"] * scale,
            "charge": leptons["charge"],
            "pid": leptons["pid"],
            "isolated": isolated,
            "truth_pt": pt,
            "truth_index": leptons.index,
            "truth_isolation": leptons["isolation"],
        }
        return columns, keep

    def retag(self, reco: ak.Array, seed: int) -> ak.Array:
        """The reconstructed events ``reco`` with their jets' b-tag scores (and working-point
        decisions) drawn again with ``seed``: exactly the tags :meth:`apply` gives with that
        seed, the kinematics unchanged. Averaging over many seeds is tag resampling, how the
        experiment estimates a background that only rare mistags bring into a region."""
        seed = _check_seed(seed)
        jets = _Flat(
            reco["jets"],
            ("truth_index", "flavour", "n_bhadrons", "truth_pt", "truth_eta", "dr_nearest"),
        )
        numbers = np.asarray(ak.to_numpy(reco["event_number"]), dtype=np.int64)[jets.owner]
        score = sample_scores(
            seed,
            numbers,
            jets["truth_index"],
            jets["flavour"],
            jets["n_bhadrons"],
            jets["truth_pt"],
            jets["truth_eta"],
            jets["dr_nearest"],
            self.btag,
        )
        tags = {"btag_score": score}
        tags.update({f"btag_{wp}": score > cut for wp, cut in self.working_points.items()})
        flat = ak.flatten(reco["jets"], axis=1)
        for name, values in tags.items():
            flat = ak.with_field(flat, values, name)
        jets_out = ak.unflatten(flat, jets.counts)
        return ak.with_field(reco, jets_out, "jets")

    def apply_chunks(self, chunks: Iterable[ak.Array], seed: int) -> Iterator[ak.Array]:
        """:meth:`apply` on each chunk of truth objects in turn."""
        for chunk in chunks:
            yield self.apply(chunk, seed)


def _xy(pt: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pt * np.cos(phi), pt * np.sin(phi)


def perfect_detector() -> ReferenceDetector:
    """Responses 1, no resolution, every object kept, a full noiseless soft term: for tests."""
    inf = math.inf
    jets = JetModel(
        plateau=1.0,
        low_pt_loss=0.0,
        eta_rise=0.0,
        b_shift=0.0,
        noise=0.0,
        stochastic=0.0,
        constant=0.0,
        tail_probability=0.0,
        tail_probability_b=0.0,
        angle_constant=0.0,
        angle_noise=0.0,
        min_pt=0.0,
        max_abs_eta=inf,
    )

    def ideal(model: LeptonModel) -> LeptonModel:
        return replace(
            model,
            max_abs_eta=inf,
            id_plateau=1.0,
            id_turn_on=0.0,
            crack_factor=1.0,
            forward_factor=1.0,
            stochastic=0.0,
            constant=0.0,
            linear=0.0,
            min_pt=0.0,
        )

    return ReferenceDetector(
        jets=jets,
        electrons=ideal(ELECTRONS),
        muons=ideal(MUONS),
        soft=SoftTermModel(response=1.0, noise=0.0),
    )


__all__ = ["REFERENCE_OBJECTS", "ReferenceDetector", "nearest_dr", "perfect_detector"]
