"""Cut one HepMC3 file into byte ranges that can be read in parallel.

A range begins at an event line (``E`` at the start of a line), so a reader given it starts at
that event (behind the file's replayed header, see :class:`~recast.events.hepmc.HepMCReader`)
and stops where the next range begins::

    for start, stop in partition_hepmc("events.hepmc", 4):
        for chunk in HepMCReader("events.hepmc", byte_range=(start, stop)):
            ...

Finding the cuts costs a few small reads, not a parse: each cut is the first event line at or
after ``size × k / parts``. Events vary in size, so the ranges hold about, not exactly, the
same number of events. A compressed file cannot be entered in the middle without decompressing
everything before: it is not split, its single range covers the whole file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError
from .hepmc_text import find_event_line, sniff


def partition_hepmc(path: str | os.PathLike[str], parts: int) -> list[tuple[int, int]]:
    """At most ``parts`` byte ranges ``[start, stop)`` of a HepMC3 file, in file order, that
    each begin at an event line and together hold every event exactly once.

    The first range begins at the first event, the last ends at the end of the file (with the
    end-of-listing line); each range ends where the next begins. Fewer than ``parts`` ranges
    come back when the file has fewer events than that (no range is empty). A compressed file
    (gzip, bzip2, xz, zstd), or one whose header is too large to replay, gives one range:
    ``(0, size)``. A missing file or one that is not HepMC3 raises
    :class:`~recast.errors.EventFileError`.
    """
    if not isinstance(parts, int) or isinstance(parts, bool) or parts < 1:
        raise UsageError(f"parts must be a positive integer, not {parts!r}")
    path = Path(path)
    header = sniff(path)
    size = path.stat().st_size
    if header.compression is not None or header.text is None:
        return [(0, size)]
    starts = [len(header.text)]  # the first event line (or the end, if there is none)
    with open(path, "rb") as handle:
        for k in range(1, parts):
            target = max(size * k // parts, starts[-1] + 1)
            found = find_event_line(handle, target) if target < size else None
            if found is None:
                break
            starts.append(found)
    return list(zip(starts, [*starts[1:], size], strict=True))


__all__ = ["partition_hepmc"]
