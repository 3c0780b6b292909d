"""Production cross-sections: built-in 13 TeV SUSY tables and SLHA ``XSECTION`` blocks.

>>> from recast.xsec import cross_section
>>> sigma = cross_section("gluino-pairs", 1800)
>>> f"{sigma.value_pb:.3g} pb, {sigma.order}"
'0.00294 pb, NNLO+NNLL'

A base-layer package: it imports only :mod:`recast.errors` and :mod:`recast.schema`.
"""

from __future__ import annotations

from .builtin import ALIASES, NAMES, Process, cross_section, describe, processes, table_masses
from .result import CrossSection, CrossSections
from .slha import from_slha_xsection, parse_xsections

__all__ = [
    "ALIASES",
    "NAMES",
    "CrossSection",
    "CrossSections",
    "Process",
    "cross_section",
    "describe",
    "from_slha_xsection",
    "parse_xsections",
    "processes",
    "table_masses",
]
