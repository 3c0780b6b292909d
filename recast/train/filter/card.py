"""The network card template of an exported event filter (see :mod:`recast.preserve.export`).

Three input nodes over the particle slots: ``nodes`` (the features of
:data:`recast.events.graphs.FEATURES`, with their preprocessing), ``adjacency`` (one 0/1
column per slot: the mother–daughter links) and ``mask``; one output, the pass probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...events.graphs import ADJACENCY, FEATURES, MASK, NODES, OUTPUT
from ...schema import CURRENT_VERSION


def card_template(
    name: str,
    *,
    max_particles: int,
    ordering: str,
    scaling: Mapping[str, tuple[float, float]],
    vocabulary: Sequence[int],
    decorrelation: float,
    description: str | None = None,
) -> dict[str, Any]:
    """The card template of a filter with these slots, ordering, standardisation and PDG-id
    vocabulary (λ only enters the description)."""
    order: Any = "as_given" if ordering == "record" else {"by": "pt", "descending": True}
    common = {"collection": "particles", "ordering": order, "max_count": max_particles}
    padding = {"value": 0.0, "stage": "after_preprocessing"}
    features = []
    for j, (feature, (unit, definition)) in enumerate(FEATURES.items()):
        preprocessing: dict[str, Any] = {"formula": "x"}
        if feature in scaling:
            mean, std = scaling[feature]
            preprocessing = {"formula": "(x - mean) / std", "mean": mean, "std": std}
        features.append(
            {
                "index": j,
                "name": feature,
                "definition": definition,
                "role": "feature",
                "source": {"attribute": feature},
                "unit": unit,
                "padding": padding,
                "preprocessing": preprocessing,
            }
        )
    links = [
        {
            "index": k,
            "name": f"link_{k}",
            "definition": (
                f"1 if the particle in slot {k} is a mother or a daughter of this particle "
                "(mother.end_vertex == daughter.production_vertex), else 0; no self loop"
            ),
            "role": "feature",
            "source": {"attribute": f"link_{k}"},
            "unit": "1",
            "padding": padding,
            "preprocessing": {"formula": "x"},
        }
        for k in range(max_particles)
    ]
    kept = "the first" if ordering == "record" else "the highest-pT"
    return {
        "schema_version": CURRENT_VERSION,
        "name": name,
        "description": description
        or (
            "selective-simulation filter: probability that a generated event passes the "
            f"skim, from a graph network over {kept} {max_particles} particles of the "
            f"truth record (λ_dCorr = {decorrelation:g}); the PDG id is embedded over "
            f"the vocabulary {vocabulary} (any other id shares one embedding)"
        ),
        "evaluate_per": "event",
        "inputs": [
            {"name": NODES, "layout": "sequence", **common, "features": features},
            {"name": ADJACENCY, "layout": "sequence", **common, "features": links},
            {"name": MASK, "layout": "mask", **common},
        ],
        "outputs": [
            {
                "name": OUTPUT,
                "columns": [
                    {
                        "index": 0,
                        "label": OUTPUT,
                        "activation": "sigmoid",
                        "use": (
                            "simulate the event with probability q = max(p, p_min) and "
                            "weight it 1/q (recast.events.importance)"
                        ),
                    }
                ],
            }
        ],
        "provenance": {"notes": "recast.train.filter"},
    }


__all__ = ["ADJACENCY", "MASK", "NODES", "OUTPUT", "card_template"]
