"""Truth-level event sources yielding chunks in the layout of :mod:`recast.events.chunk`."""

from .chunk import make_chunk
from .hepmc import HepMCReader, read_hepmc

__all__ = ["HepMCReader", "make_chunk", "read_hepmc"]
