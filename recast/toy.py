"""Seeded toy events and the multi-b 87-input layout, for the demo, tests and benchmarks.

The toy events are *not* physics: they have the shapes of real object collections (a variable
number of jets with a falling pT spectrum, some events with no lepton, MET) so that input
building, padding and ordering are exercised exactly as on real events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np
import vector

vector.register_awkward()

MULTIB_PARAMETERS = ("isGtt", "mGluino", "mLSP")
#: the eight hypotheses published with ATLAS-SUSY-2018-30's network (isGtt, m(g̃), m(χ̃⁰₁))
MULTIB_PUBLISHED_POINTS: tuple[dict[str, int], ...] = (
    {"isGtt": 1, "mGluino": 1900, "mLSP": 1400},
    {"isGtt": 1, "mGluino": 1800, "mLSP": 1},
    {"isGtt": 1, "mGluino": 2100, "mLSP": 1},
    {"isGtt": 1, "mGluino": 2300, "mLSP": 1200},
    {"isGtt": 0, "mGluino": 2000, "mLSP": 1800},
    {"isGtt": 0, "mGluino": 2100, "mLSP": 1600},
    {"isGtt": 0, "mGluino": 2300, "mLSP": 1000},
    {"isGtt": 0, "mGluino": 2800, "mLSP": 1400},
)
#: (collection, attributes, slots) of the ATLAS-SUSY-2018-30-style 87-input layout, in order
MULTIB_BLOCKS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("small_R_jets", ("pt", "eta", "phi", "m", "isb"), 10),
    ("large_R_jets", ("pt", "eta", "phi", "m"), 4),
    ("leptons", ("pt", "eta", "phi", "m"), 4),
)
#: the published names' attributes → the fields recast-nn objects carry
_FIELDS = {"pt": "pt", "eta": "eta", "phi": "phi", "m": "mass", "isb": "btag"}
_WORDS = {
    "pt": "transverse momentum",
    "eta": "pseudorapidity",
    "phi": "azimuthal angle",
    "m": "mass",
    "isb": "b-tag flag (1 if b-tagged)",
}
_UNITS = {"pt": "GeV", "m": "GeV", "eta": "1", "isb": "1", "phi": "rad"}


def _objects(
    rng: np.random.Generator,
    counts: np.ndarray,
    pt_scale: float,
    eta_max: float,
    mass: tuple[float, float],
) -> ak.Array:
    total = int(counts.sum())
    pt = 20.0 + rng.exponential(pt_scale, total)
    fields = {
        "pt": pt,
        "eta": rng.uniform(-eta_max, eta_max, total),
        "phi": rng.uniform(-np.pi, np.pi, total),
        "mass": rng.uniform(mass[0], mass[1], total),
    }
    return ak.unflatten(ak.zip(fields, with_name="Momentum4D"), counts)


def toy_events(n: int, seed: int = 0, ordered: bool = False) -> ak.Array:
    """``n`` seeded toy events: small_R_jets (with ``btag``), large_R_jets, leptons, met.

    By default objects are stored in random order (not pT-sorted), so that a builder that
    forgets to sort is caught; ``ordered=True`` sorts them by pT as FastJet's output is.
    """
    rng = np.random.default_rng(seed)
    n_jets = rng.poisson(6.0, n)
    jets = _objects(rng, n_jets, 80.0, 2.8, (2.0, 30.0))
    jets = ak.with_field(jets, ak.unflatten(rng.random(int(n_jets.sum())) < 0.3, n_jets), "btag")
    n_large = np.minimum(rng.poisson(2.0, n), n_jets)
    large = _objects(rng, n_large, 250.0, 2.0, (20.0, 200.0))
    n_leptons = rng.choice([0, 0, 1, 1, 2, 3], n)
    leptons = _objects(rng, n_leptons, 40.0, 2.5, (0.000511, 0.10566))
    met = ak.zip(
        {"pt": 50.0 + rng.exponential(150.0, n), "phi": rng.uniform(-np.pi, np.pi, n)},
        with_name="Momentum2D",
    )
    if ordered:
        jets, large, leptons = (
            ak.to_packed(c[ak.argsort(c.pt, axis=1, ascending=False, stable=True)])
            for c in (jets, large, leptons)
        )
    return ak.zip(
        {
            "small_R_jets": jets,
            "large_R_jets": large,
            "leptons": leptons,
            "met": met,
            "event_number": np.arange(n, dtype=np.int64) + 1000 * seed,
        },
        depth_limit=1,
    )


def multib_template(
    means: Sequence[float] | None = None,
    stds: Sequence[float] | None = None,
    parameter_points: Sequence[Mapping[str, float]] = (),
    met_phi_range: str = "[0, 2pi)",
) -> dict[str, Any]:
    """A card template for the 87-input multi-b layout (input ``input_1`` → ``dense_4``).

    Objects are pT-ordered and zero-padded in raw units before ``(x - mean) / std``; MET φ is
    given in ``met_phi_range`` (ATLAS-SUSY-2018-30 trained with [0, 2π)), object φ in (-π, π].
    """
    features: list[dict[str, Any]] = []

    def add(name: str, definition: str, source: dict[str, Any], unit: str, **extra: Any) -> None:
        i = len(features)
        features.append(
            {
                "index": i,
                "name": name,
                "definition": definition,
                "role": "parameter" if "parameter" in source else "feature",
                "source": source,
                "unit": unit,
                "preprocessing": {
                    "formula": "(x - mean) / std",
                    "mean": float(means[i]) if means is not None else 0.0,
                    "std": float(stds[i]) if stds is not None else 1.0,
                },
                **extra,
            }
        )

    ordering = {"by": "pt", "descending": True}
    for collection, attributes, slots in MULTIB_BLOCKS:
        for k in range(slots):
            for attribute in attributes:
                extra: dict[str, Any] = {"padding": {"value": 0.0, "stage": "before_preprocessing"}}
                if attribute == "phi":
                    extra["angle_range"] = "(-pi, pi]"
                add(
                    f"{collection}_{attribute}_{k}",
                    f"{_WORDS[attribute]} of the {k + 1}. {collection} object by pT (0 if absent)",
                    {
                        "collection": collection,
                        "attribute": _FIELDS[attribute],
                        "position": k,
                        "ordering": ordering,
                        "max_count": slots,
                    },
                    _UNITS[attribute],
                    **extra,
                )
    add(
        "met",
        "missing transverse momentum magnitude",
        {"collection": "met", "attribute": "pt"},
        "GeV",
    )
    add(
        "met_phi",
        "azimuthal angle of the missing transverse momentum",
        {"collection": "met", "attribute": "phi"},
        "rad",
        angle_range=met_phi_range,
    )
    add("isGtt", "1 for the Gtt hypothesis, 0 for Gbb", {"parameter": "isGtt"}, "1")
    add("mGluino", "gluino mass hypothesis", {"parameter": "mGluino"}, "GeV")
    add("mLSP", "neutralino mass hypothesis", {"parameter": "mLSP"}, "GeV")
    template: dict[str, Any] = {
        "name": "multib_87",
        "description": "parameterised multi-class network on 87 inputs (multi-b gluino search)",
        "evaluate_per": "event",
        "inputs": [
            {
                "name": "input_1",
                "dtype": "float32",
                "shape": [None, 87],
                "dynamic_axes": {"0": "batch"},
                "layout": "flat",
                "features": features,
            }
        ],
        "outputs": [
            {
                "name": "dense_4",
                "dtype": "float32",
                "shape": [None, 5],
                "columns": [
                    {"index": i, "label": label, "activation": "softmax"}
                    for i, label in enumerate(("Gtt", "Gbb", "ttbar", "Z", "other"))
                ],
            }
        ],
        "provenance": {"notes": "layout of ATLAS-SUSY-2018-30 (arXiv:2211.08028)"},
    }
    if parameter_points:
        template["parameter_points"] = [dict(p) for p in parameter_points]
    return template
