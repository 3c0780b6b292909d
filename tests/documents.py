"""Minimal valid documents that tests of several areas build on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def results_document(
    yields: Mapping[str, float | Mapping[str, Any]], mc_uncertainty: float | None = None
) -> dict[str, Any]:
    """A results document with these region yields: a number becomes {value, mc_uncertainty,
    raw 100}, its uncertainty ``mc_uncertainty`` or else 10% of it; a mapping is kept as given."""

    def entry(value: float | Mapping[str, Any]) -> Any:
        if isinstance(value, Mapping):
            return dict(value)
        mc = 0.1 * abs(value) if mc_uncertainty is None else mc_uncertainty
        return {"value": value, "mc_uncertainty": mc, "raw": 100}

    return {
        "schema_version": "1.0.0",
        "analysis": "TEST",
        "normalisation": {
            "cross_section_pb": 1.0,
            "luminosity_fb": 139.0,
            "sum_weights": 1.0,
            "factor": 1.0,
        },
        "yields": {name: entry(value) for name, value in yields.items()},
        "cutflows": {},
        "provenance": {"recast_version": "test", "inputs": []},
    }
