"""Truth-level event sources yielding chunks in the layout of :mod:`recast.events.chunk`."""

from .pyhepmc_guard import import_pyhepmc

import_pyhepmc()  # before any module below imports it: no `dot` run (see pyhepmc_guard)

from .chunk import make_chunk  # noqa: E402
from .hepmc import HepMCReader, read_hepmc  # noqa: E402

__all__ = ["HepMCReader", "make_chunk", "read_hepmc"]
