"""Objects of a sample kept in Parquet, so that another analysis need not read the HepMC again.

The cache keeps every event's cross-section as the HepMC3 file states it (the generator's
running estimate), so a run over it normalises without ``--xsec`` as over the file. It
records the object options it was built with (``extra["object_config"]``) and the
source file's sha256: a run refuses a cache built with other object options than its bundle's,
and :func:`recast.events.cache.read_cache` refuses one whose source file changed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

import awkward as ak

from ..errors import UsageError
from .build import build_objects
from .config import ObjectConfig

log = logging.getLogger(__name__)

#: the per-event fields of the generator's cross-section a cache of objects keeps (caches
#: written before recast-nn kept them have none: a run over them needs --xsec)
CROSS_SECTION_FIELDS = ("cross_section", "cross_section_error")


def config_document(config: ObjectConfig) -> dict[str, Any]:
    """The object options as plain JSON (tuples as lists), for comparison across files."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def write_objects_cache(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    config: ObjectConfig | None = None,
    chunk_size: int = 1000,
    skip_bad: bool = False,
) -> Any:
    """Read a HepMC3 file once, build its objects, write them to ``output`` (atomically)."""
    from ..events.cache import write_cache
    from ..events.hepmc import HepMCReader

    config = config or ObjectConfig()
    # a cross-section that is not > 0 is blanked (NaN: none), not refused: a run over the
    # cache may give its own (--xsec), as over the file
    reader = HepMCReader(source, chunk_size=chunk_size, skip_bad=skip_bad, cross_sections=False)
    chunks = (with_cross_sections(build_objects(chunk, config), chunk) for chunk in reader)
    header = write_cache(
        output,
        chunks,
        source=source,
        extra={"object_config": config_document(config), "bad_events_skipped": 0},
    )
    log.info("cached the objects of %d events of %s in %s", header.events, source, output)
    return header


def with_cross_sections(objects: ak.Array, events: ak.Array) -> ak.Array:
    """The objects with their events' ``cross_section`` and ``cross_section_error`` (pb; NaN
    where an event states none): a run over the cache normalises to the generator's
    cross-section as over the HepMC3 file (the last event's estimate, on the events read)."""
    for name in CROSS_SECTION_FIELDS:
        objects = ak.with_field(objects, events[name], name)
    return objects


def check_config(
    path: str | os.PathLike[str], extra: Mapping[str, Any], config: ObjectConfig
) -> None:
    """Refuse a cache of objects built with other options than ``config``."""
    cached = extra.get("object_config")
    if cached is None:
        return  # a cache of truth events: objects are built by the run
    wanted = config_document(config)
    differing = sorted(k for k in set(cached) | set(wanted) if cached.get(k) != wanted.get(k))
    if differing:
        details = ", ".join(
            f"{k}: cache {cached.get(k)!r}, analysis {wanted.get(k)!r}" for k in differing
        )
        raise UsageError(
            f"{path}: its objects were built with other options than this analysis uses "
            f"({details}); rebuild it with `recast cache FILE -o {path} --analysis ID`, or run "
            "on the HepMC file"
        )
