"""The one layout every event source yields: a chunk of truth events as an awkward array.

Readers (HepMC3 files, Pythia8 in process) collect flat numpy buffers for a chunk of events and
call :func:`make_chunk`; everything downstream (objects, detector, analyses) sees only this:

``events`` — one record per event:

========================  ========  ====================================================
field                     type      meaning
========================  ========  ====================================================
``event_number``          int64     the generator's event number
``weight``                float64   the nominal weight (the file's first weight); may be < 0
``weights``               record    every named weight, ``weights["MUR0.5_MUF0.5"]``
``cross_section``         float64   pb, as the generator reports it at this event (NaN if none)
``cross_section_error``   float64   pb (NaN if none)
``particles``             var *     ``Momentum4D`` records: ``px, py, pz, E`` (GeV),
                                    ``pid``, ``status`` (int32), ``generated_mass`` (GeV),
                                    ``production_vertex``, ``end_vertex`` (int32 index into
                                    this event's ``vertices``; -1 for none)
``vertices``              var *     ``x, y, z`` (mm) and ``t`` (mm, i.e. c·t as HepMC3 stores it)
========================  ========  ====================================================

The vertex indices encode the full history: the parents of particle *i* are the particles whose
``end_vertex`` equals *i*'s ``production_vertex``; its children are those produced at its
``end_vertex``.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np
import vector

vector.register_awkward()

PARTICLE_FIELDS = (
    "px",
    "py",
    "pz",
    "E",
    "pid",
    "status",
    "generated_mass",
    "production_vertex",
    "end_vertex",
)
VERTEX_FIELDS = ("x", "y", "z", "t")
_INTEGER = {"pid", "status", "production_vertex", "end_vertex"}


def make_chunk(
    event_number: np.ndarray,
    weights: Mapping[str, np.ndarray],
    cross_section: np.ndarray,
    cross_section_error: np.ndarray,
    particle_counts: np.ndarray,
    particles: Mapping[str, np.ndarray],
    vertex_counts: np.ndarray,
    vertices: Mapping[str, np.ndarray],
) -> ak.Array:
    """Assemble one chunk from flat buffers (one entry per particle / vertex of all events).

    ``weights`` must keep the file's order: its first entry becomes ``weight``.
    """
    n = len(event_number)
    if not weights:
        weights = {"nominal": np.ones(n)}
    particle_record = ak.zip(
        {
            f: np.asarray(particles[f], dtype=np.int32 if f in _INTEGER else np.float64)
            for f in PARTICLE_FIELDS
        },
        with_name="Momentum4D",
    )
    # contiguous buffers: strided ones (a column of a table) cannot go to Arrow/Parquet
    vertex_record = ak.zip(
        {f: np.ascontiguousarray(vertices[f], dtype=np.float64) for f in VERTEX_FIELDS}
    )
    first = next(iter(weights))
    return ak.zip(
        {
            "event_number": np.asarray(event_number, dtype=np.int64),
            "weight": np.asarray(weights[first], dtype=np.float64),
            "weights": ak.zip({k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}),
            "cross_section": np.asarray(cross_section, dtype=np.float64),
            "cross_section_error": np.asarray(cross_section_error, dtype=np.float64),
            "particles": ak.unflatten(particle_record, np.asarray(particle_counts, np.int64)),
            "vertices": ak.unflatten(vertex_record, np.asarray(vertex_counts, np.int64)),
        },
        depth_limit=1,
    )
