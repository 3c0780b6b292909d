"""Truth-level event sources yielding chunks in the layout of :mod:`recast.events.chunk`."""

from .chunk import make_chunk

__all__ = ["make_chunk"]
