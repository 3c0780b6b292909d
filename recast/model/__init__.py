"""Points from a model: SLHA templates filled over a grid, production processes by name, a
check of what the spectrum's BSM particles do, and spectra made Pythia-ready.

>>> from recast.events.slha import gluino_slha
>>> from recast.model import decay_report, points, template_from_text
>>> text = gluino_slha(1800, 100).replace("1.80000000E+03", "{m_gluino}")
>>> [p.name for p in points(template_from_text(text), {"m_gluino": [1800, 2000]})]
['m_gluino_1800', 'm_gluino_2000']
>>> decay_report(gluino_slha(1800, 100)).ok
True

It imports only base modules, :mod:`recast.events.slha` and :mod:`recast.xsec`.
"""

from __future__ import annotations

from .decays import (
    DECOUPLING_GEV,
    Channel,
    DecayReport,
    ParticleDecays,
    decay_report,
    particle_name,
)
from .folder import INDEX, PointSet, StoredPoint, read_points, write_points
from .prepare import DECOUPLED_MASS_GEV, MIXINGS, Prepared, pythia_ready
from .processes import (
    PRODUCTIONS,
    Production,
    process_settings,
    production,
    production_problems,
)
from .template import (
    Point,
    Template,
    format_value,
    grid_points,
    load_template,
    parse_set,
    point_name,
    points,
    template_from_text,
)

__all__ = [
    "DECOUPLED_MASS_GEV",
    "DECOUPLING_GEV",
    "INDEX",
    "MIXINGS",
    "PRODUCTIONS",
    "Channel",
    "DecayReport",
    "ParticleDecays",
    "Point",
    "PointSet",
    "Prepared",
    "Production",
    "StoredPoint",
    "Template",
    "decay_report",
    "format_value",
    "grid_points",
    "load_template",
    "parse_set",
    "particle_name",
    "point_name",
    "points",
    "process_settings",
    "production",
    "production_problems",
    "pythia_ready",
    "read_points",
    "template_from_text",
    "write_points",
]
