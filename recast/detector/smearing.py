"""Smearing: resolution models turning truth kinematics into reconstructed ones, columnar.

Every function here is pure and works on whole chunks (flat numpy arrays, one entry per object).

Conventions, which the detector document's schema repeats:

- A step smears one variable of every object of a collection: ``pt``, ``eta`` or ``phi``.
- A ``pt`` step draws a response r = reco/truth and scales the whole four-momentum at fixed
  direction, so pT, mass and E all change by r. For Gaussian models r = 1 + σ·z, where σ is the
  *relative* resolution σ_pT/pT; at fixed direction this equals σ_E/E, so a calorimeter model
  may be written in E or in pT (its ``argument``). A response histogram gives r by inverse CDF.
  r < 0 (a far Gaussian tail) is clipped to 0: the object gets pT = 0 and fails any acceptance.
- An ``eta`` or ``phi`` step adds σ·z, where σ is the *absolute* resolution. pT is kept; φ is
  wrapped back to (−π, π].
- A model is evaluated on the object as the previous steps left it: the order of steps matters.
- Randomness is counter-based (:mod:`recast.detector.random`): step ``i`` of stream ``s`` draws
  from stream ``f"{s}/{i}"`` at (event number, position of the object in its input collection),
  so the same seed gives bit-identical output whatever the chunking.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import awkward as ak
import numpy as np
import vector

from ..angles import wrap_phi
from ..errors import RecastError
from .random import normals, uniforms

log = logging.getLogger(__name__)
vector.register_awkward()

OBJECT_VARIABLES = ("pt", "eta", "phi")
MET_VARIABLES = ("components", "pt", "phi")


class SmearingDefinitionError(RecastError, ValueError):
    """A resolution model's parameters are inconsistent; ``field`` names the offending one."""

    exit_code = 1

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _edges(
    values: Sequence[float] | np.ndarray, name: str, minimum: float | None = None
) -> np.ndarray:
    edges = np.asarray(values, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2:
        raise SmearingDefinitionError(name, "needs at least two bin edges")
    if not np.all(np.isfinite(edges)):
        raise SmearingDefinitionError(name, "bin edges must be finite numbers")
    if np.any(np.diff(edges) <= 0):
        bad = int(np.argmax(np.diff(edges) <= 0))
        raise SmearingDefinitionError(
            name,
            f"bin edges must increase strictly, but edge {bad + 1} ({edges[bad + 1]:g}) follows "
            f"{edges[bad]:g}",
        )
    if minimum is not None and edges[0] < minimum:
        raise SmearingDefinitionError(name, f"edges must be ≥ {minimum:g}, got {edges[0]:g}")
    return edges


def _bin(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bin index of x, clamped to the first and last bin (out-of-range objects use edge bins)."""
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)


def _nonnegative(values: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except ValueError:  # ragged nested lists
        raise SmearingDefinitionError(name, "every row needs the same number of values") from None
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise SmearingDefinitionError(name, "resolutions and counts must be finite and ≥ 0")
    return array


@dataclass(frozen=True, eq=False)
class FlatObjects:
    """The kinematics of every object of a chunk, flat; ``index`` is the position in its event."""

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    event_number: np.ndarray
    index: np.ndarray

    @property
    def energy(self) -> np.ndarray:
        return np.sqrt((self.pt * np.cosh(self.eta)) ** 2 + self.mass**2)


class Resolution(Protocol):
    """σ as a function of an object's kinematics (relative for pT, absolute for angles)."""

    def sigma(self, objects: FlatObjects) -> np.ndarray: ...


@dataclass(frozen=True)
class ConstantResolution:
    """The same σ for every object."""

    sigma_value: float

    def __post_init__(self) -> None:
        _nonnegative(self.sigma_value, "sigma")

    def sigma(self, objects: FlatObjects) -> np.ndarray:
        return np.full(np.shape(objects.pt), float(self.sigma_value))


@dataclass(frozen=True)
class CalorimeterResolution:
    """σ/X = a/√X ⊕ b ⊕ c/X (⊕: in quadrature), X the object's pT or E in GeV.

    ``stochastic`` a in √GeV, ``constant`` b, ``noise`` c in GeV. ``argument`` is "pt",
    "energy" or, for MET components only, "sum_pt" (the scalar sum of the visible pT).
    """

    stochastic: float = 0.0
    constant: float = 0.0
    noise: float = 0.0
    argument: str = "pt"

    def __post_init__(self) -> None:
        for name in ("stochastic", "constant", "noise"):
            _nonnegative(getattr(self, name), name)
        if self.argument not in ("pt", "energy", "sum_pt"):
            raise SmearingDefinitionError(
                "argument", f"is {self.argument!r}; use 'pt', 'energy' or 'sum_pt'"
            )

    def relative(self, x: np.ndarray) -> np.ndarray:
        # a floor keeps σ finite for objects an earlier step sent to pT = 0
        x = np.maximum(np.asarray(x, dtype=np.float64), 1e-9)
        a, b, c = self.stochastic, self.constant, self.noise
        return np.sqrt(a * a / x + b * b + (c / x) ** 2)

    def sigma(self, objects: FlatObjects) -> np.ndarray:
        if self.argument == "sum_pt":
            raise SmearingDefinitionError("argument", "'sum_pt' is for MET components only")
        return self.relative(objects.energy if self.argument == "energy" else objects.pt)


@dataclass(frozen=True, eq=False)
class BinnedResolution:
    """σ read from a table in pT (and optionally |η|) bins; objects outside use the edge bins."""

    pt_edges: np.ndarray
    table: np.ndarray
    abs_eta_edges: np.ndarray | None = None

    def __post_init__(self) -> None:
        pt_edges = _edges(self.pt_edges, "pt_edges")
        eta_edges = None
        if self.abs_eta_edges is not None:
            eta_edges = _edges(self.abs_eta_edges, "abs_eta_edges", minimum=0.0)
        table = _nonnegative(self.table, "sigma")
        shape = (len(pt_edges) - 1,) + (() if eta_edges is None else (len(eta_edges) - 1,))
        if table.shape != shape:
            raise SmearingDefinitionError(
                "sigma", f"has shape {list(table.shape)} but the bins need {list(shape)}"
            )
        object.__setattr__(self, "pt_edges", pt_edges)
        object.__setattr__(self, "abs_eta_edges", eta_edges)
        object.__setattr__(self, "table", table)

    def sigma(self, objects: FlatObjects) -> np.ndarray:
        i = _bin(self.pt_edges, objects.pt)
        if self.abs_eta_edges is None:
            return self.table[i]
        return self.table[i, _bin(self.abs_eta_edges, np.abs(objects.eta))]


@dataclass(frozen=True, eq=False)
class ResponseHistogram:
    """A binned distribution of r = reco pT / truth pT, optionally one per truth-pT bin.

    Sampled by inverse CDF, uniform within each response bin.
    """

    response_edges: np.ndarray
    counts: np.ndarray
    pt_edges: np.ndarray | None = None
    cdf: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        edges = _edges(self.response_edges, "response_edges", minimum=0.0)
        pt_edges = None if self.pt_edges is None else _edges(self.pt_edges, "pt_edges")
        counts = _nonnegative(self.counts, "counts")
        shape = (len(edges) - 1,) if pt_edges is None else (len(pt_edges) - 1, len(edges) - 1)
        if counts.shape != shape:
            raise SmearingDefinitionError(
                "counts", f"has shape {list(counts.shape)} but the bins need {list(shape)}"
            )
        counts = counts.reshape(-1, len(edges) - 1)
        totals = counts.sum(axis=1)
        if np.any(totals <= 0):
            raise SmearingDefinitionError(
                "counts", f"pT bin {int(np.argmax(totals <= 0))} is empty: nothing to sample from"
            )
        cdf = np.zeros((len(counts), len(edges)))
        cdf[:, 1:] = np.cumsum(counts, axis=1) / totals[:, None]
        cdf[:, -1] = 1.0  # exactly, whatever the rounding of the cumulative sum
        for name, value in (("response_edges", edges), ("pt_edges", pt_edges)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "cdf", cdf)

    def sample(self, pt: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One response per object from uniforms u in [0, 1)."""
        row = np.zeros(len(u), dtype=np.int64) if self.pt_edges is None else _bin(self.pt_edges, pt)
        out = np.empty(len(u))
        for k in np.unique(row):  # a handful of pT bins: a loop over bins, not objects
            at = np.flatnonzero(row == k)
            cdf = self.cdf[k]
            # largest j with cdf[j] ≤ u: never an empty bin, since u < 1 = cdf[-1]
            j = np.searchsorted(cdf, u[at], side="right") - 1
            low, high = cdf[j], cdf[j + 1]
            width = self.response_edges[j + 1] - self.response_edges[j]
            out[at] = self.response_edges[j] + (u[at] - low) / (high - low) * width
        return out


@dataclass(frozen=True, eq=False)
class SmearingStep:
    """One step: a variable (pt, eta, phi; MET: components, pt, phi) and its model."""

    variable: str
    model: ConstantResolution | CalorimeterResolution | BinnedResolution | ResponseHistogram


def model_from_document(step: Mapping[str, Any], met: bool = False) -> SmearingStep:
    """A step from its JSON form (``$defs/smearing_step``, or ``met_smearing_step`` if ``met``)."""
    kind, variable = step.get("model"), step.get("variable", "pt")
    if variable not in (MET_VARIABLES if met else OBJECT_VARIABLES):
        known = ", ".join(MET_VARIABLES if met else OBJECT_VARIABLES)
        raise SmearingDefinitionError("variable", f"{variable!r} cannot be smeared; use {known}")
    if kind == "constant":
        model: Any = ConstantResolution(step["sigma"])
    elif kind == "calorimeter":
        model = CalorimeterResolution(
            stochastic=step.get("stochastic", 0.0),
            constant=step.get("constant", 0.0),
            noise=step.get("noise", 0.0),
            argument=step.get("argument", "pt"),
        )
    elif kind == "binned":
        model = BinnedResolution(step["pt_edges"], step["sigma"], step.get("abs_eta_edges"))
    elif kind == "response":
        model = ResponseHistogram(step["response_edges"], step["counts"], step.get("pt_edges"))
    else:
        known = "constant, calorimeter, binned, response"
        raise SmearingDefinitionError("model", f"unknown smearing model {kind!r}; known: {known}")
    if isinstance(model, ResponseHistogram) and variable != "pt":
        raise SmearingDefinitionError("variable", "a response histogram smears pt only")
    if variable == "components" and not isinstance(
        model, ConstantResolution | CalorimeterResolution
    ):
        raise SmearingDefinitionError("model", "MET components take 'constant' or 'calorimeter'")
    if getattr(model, "argument", None) == ("energy" if met else "sum_pt"):
        raise SmearingDefinitionError("argument", f"{model.argument!r} is not available here")
    if met and getattr(model, "abs_eta_edges", None) is not None:
        raise SmearingDefinitionError("abs_eta_edges", "MET has no η: bin it in pT only")
    return SmearingStep(variable, model)


def _sigma(model: Resolution | ResponseHistogram, objects: FlatObjects) -> np.ndarray:
    """σ of an additive step (η, φ); a response histogram only scales pT."""
    if isinstance(model, ResponseHistogram):
        raise SmearingDefinitionError("variable", "a response histogram smears pt only")
    return model.sigma(objects)


def _response(
    step: SmearingStep, objects: FlatObjects, seed: int, stream: str, index: np.ndarray
) -> np.ndarray:
    """r = reco/truth for pt-like steps, clipped at 0."""
    if isinstance(step.model, ResponseHistogram):
        u = uniforms(seed, stream, objects.event_number, index)
        return step.model.sample(objects.pt, u)
    sigma = step.model.sigma(objects)
    return np.maximum(1.0 + sigma * normals(seed, stream, objects.event_number, index), 0.0)


def smear_objects(
    objects: FlatObjects, steps: Sequence[SmearingStep], seed: int, stream: str
) -> FlatObjects:
    """Apply the steps in order; returns new arrays (the order of objects is unchanged)."""
    for i, step in enumerate(steps):
        name = f"{stream}/{i}"
        if step.variable == "pt":
            r = _response(step, objects, seed, name, objects.index)
            objects = replace(objects, pt=objects.pt * r, mass=objects.mass * r)
            continue
        if step.variable not in ("eta", "phi"):
            raise SmearingDefinitionError("variable", f"{step.variable!r} is not pt, eta or phi")
        sigma = _sigma(step.model, objects)
        shift = sigma * normals(seed, name, objects.event_number, objects.index)
        if step.variable == "eta":
            objects = replace(objects, eta=objects.eta + shift)
        else:
            objects = replace(objects, phi=wrap_phi(objects.phi + shift))
    return objects


def smear_met(
    pt: np.ndarray,
    phi: np.ndarray,
    event_number: np.ndarray,
    steps: Sequence[SmearingStep],
    seed: int,
    stream: str,
    sum_pt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Smear per-event MET (magnitude, φ); returns the new (pt, phi).

    ``components`` adds independent Gaussians to MET_x and MET_y with an *absolute* σ in GeV:
    ``constant`` gives σ directly; ``calorimeter`` gives σ = X·(a/√X ⊕ b ⊕ c/X) = a√X ⊕ bX ⊕ c
    with X the MET (argument "pt") or ``sum_pt`` (argument "sum_pt", the usual √ΣET form).
    ``pt`` scales the magnitude by a response as for objects; ``phi`` rotates by σ_φ·z.
    """
    zero = np.zeros(len(pt), dtype=np.int64)
    numbers = np.asarray(event_number, dtype=np.int64)
    met = FlatObjects(np.asarray(pt, np.float64), zero * 0.0, np.asarray(phi, np.float64),
                      zero * 0.0, numbers, zero)  # fmt: skip
    for i, step in enumerate(steps):
        name, model, pt, phi = f"{stream}/{i}", step.model, met.pt, met.phi
        if step.variable == "components":
            if isinstance(model, CalorimeterResolution):
                if model.argument == "sum_pt" and sum_pt is None:
                    raise SmearingDefinitionError("argument", "'sum_pt' needs the visible ΣpT")
                x = np.asarray(sum_pt) if model.argument == "sum_pt" else pt
                sigma = x * model.relative(x)
            elif isinstance(model, ConstantResolution):
                sigma = model.sigma(met)
            else:
                raise SmearingDefinitionError("model", "MET components take constant/calorimeter")
            mx = pt * np.cos(phi) + sigma * normals(seed, name, numbers, zero)
            my = pt * np.sin(phi) + sigma * normals(seed, name, numbers, zero + 1)
            met = replace(met, pt=np.hypot(mx, my), phi=wrap_phi(np.arctan2(my, mx)))
        elif step.variable == "pt":
            met = replace(met, pt=pt * _response(step, met, seed, name, zero))
        elif step.variable == "phi":
            met = replace(
                met, phi=wrap_phi(phi + _sigma(model, met) * normals(seed, name, numbers, zero))
            )
        else:
            raise SmearingDefinitionError("variable", f"{step.variable!r} is not a MET variable")
    return met.pt, met.phi


#: vector's coordinate names: replaced by (pt, eta, phi, mass) when a collection is rebuilt
COORDINATES = frozenset(
    {"x", "y", "z", "t", "px", "py", "pz", "E", "e", "energy", "rho", "theta", "tau", "M", "m"}
    | {"pt", "eta", "phi", "mass"}
)


def flatten_collection(
    objects: ak.Array, event_number: np.ndarray
) -> tuple[ak.Array, FlatObjects, np.ndarray]:
    """(flat records, their kinematics, objects per event) of a jagged Momentum4D collection."""
    counts = np.asarray(ak.num(objects, axis=1), dtype=np.int64)
    flat = ak.flatten(objects, axis=1)
    owner = np.repeat(np.arange(len(counts)), counts)
    index = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    kinematics = {
        name: np.asarray(ak.to_numpy(getattr(flat, name)), dtype=np.float64)
        for name in ("pt", "eta", "phi", "mass")
    }
    numbers = np.asarray(event_number, dtype=np.int64)[owner]
    return flat, FlatObjects(**kinematics, event_number=numbers, index=index), counts


def rebuild_collection(
    flat: ak.Array, objects: FlatObjects, counts: np.ndarray, keep: np.ndarray | None = None
) -> ak.Array:
    """The jagged collection with new kinematics, only the ``keep`` objects, sorted by pT.

    Other fields (flavour, charge, ...) follow their objects. The sort is stable and descending
    in pT within each event.
    """
    columns: dict[str, Any] = {"pt": objects.pt, "eta": objects.eta, "phi": objects.phi}
    columns["mass"] = objects.mass
    for name in ak.fields(flat):
        if name not in COORDINATES:
            columns[name] = flat[name]
    record_name = ak.parameters(flat).get("__record__", "Momentum4D")
    records = ak.zip(columns, depth_limit=1, with_name=record_name)
    owner = np.repeat(np.arange(len(counts)), counts)
    pt = objects.pt
    if keep is not None:
        records, owner, pt = records[keep], owner[keep], pt[keep]
    new_counts = np.bincount(owner, minlength=len(counts))
    # awkward sorts each event's short list in C++: ten times faster than two global argsorts
    local = ak.argsort(ak.unflatten(pt, new_counts), axis=1, ascending=False, stable=True)
    order = np.asarray(ak.flatten(local), dtype=np.int64) + np.repeat(
        np.cumsum(new_counts) - new_counts, new_counts
    )
    return ak.unflatten(records[order], new_counts)


def smear_collection(
    objects: ak.Array,
    event_number: np.ndarray,
    steps: Sequence[SmearingStep],
    seed: int,
    stream: str,
) -> ak.Array:
    """Smear a jagged collection (events × objects) and re-sort it by pT, descending."""
    flat, kinematics, counts = flatten_collection(objects, event_number)
    return rebuild_collection(flat, smear_objects(kinematics, steps, seed, stream), counts)
