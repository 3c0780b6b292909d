"""Physics objects from truth events: jets (FastJet), flavour labels, leptons, photons, MET.

::

    from recast.objects import ObjectConfig, build_objects
    objects = build_objects(chunk, ObjectConfig(jet_min_pt=25.0, large_R="reclustered"))
    objects.jets.pt, objects.jets.flavour, objects.muons.isolated, objects.met.pt

See ``docs/objects.md`` for the definitions and their defaults.
"""

from __future__ import annotations

from .build import build_objects
from .config import DEFAULT_INVISIBLE, NEUTRINOS, ObjectConfig
from .pdg import charge, is_b_hadron, is_baryon, is_c_hadron, is_hadron, is_meson
from .toy import toy_truth_chunk

__all__ = [
    "DEFAULT_INVISIBLE",
    "NEUTRINOS",
    "ObjectConfig",
    "build_objects",
    "charge",
    "is_b_hadron",
    "is_baryon",
    "is_c_hadron",
    "is_hadron",
    "is_meson",
    "toy_truth_chunk",
]
