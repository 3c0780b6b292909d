"""`recast inspect FILE`: what an event file holds, read once in chunks.

:func:`inspect_file` returns plain JSON-able values; :func:`inspect_table` renders them::

    from rich.console import Console
    Console().print(inspect_table(inspect_file("events.hepmc")))
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..text import Table
from .hepmc import HepMCReader
from .hepmc_text import compression


def inspect_file(
    path: str | os.PathLike[str],
    skip_bad: bool = False,
    chunk_size: int = 10_000,
    parser: str = "columnar",
) -> dict[str, Any]:
    """Summarise a HepMC3 file: format, units, events, particles, weights, cross-section,
    the beams' √s (GeV, lowest and highest over the events; None without beam particles) and
    the number of events without final-state particles.

    Weight sums are Σw, Σw² and the number of negative weights, per named weight, over the
    events read. With ``skip_bad`` bad events are skipped and listed; otherwise the first one
    raises :class:`~recast.errors.EventFileError`. ``parser``: see
    :class:`~recast.events.hepmc.HepMCReader`.
    """
    reader = HepMCReader(path, chunk_size=chunk_size, skip_bad=skip_bad, parser=parser)
    n_particles: list[np.ndarray] = []
    sums: dict[str, list[float]] = {}
    first = last = None
    for chunk in reader:
        n_particles.append(ak.to_numpy(ak.num(chunk.particles)))
        for name in chunk.weights.fields:
            w = ak.to_numpy(chunk.weights[name])
            total = sums.setdefault(name, [0.0, 0.0, 0])
            total[0] += float(w.sum())
            total[1] += float((w * w).sum())
            total[2] += int((w < 0).sum())
        if first is None:
            first = int(chunk.event_number[0])
        last = int(chunk.event_number[-1])
    counts = np.concatenate(n_particles)  # one int per event: small next to the events
    file = Path(path)
    return {
        "path": str(file),
        "size_bytes": file.stat().st_size,
        "compression": compression(file),
        "format": reader.format,
        "writer_version": reader.writer_version,
        "momentum_unit": reader.momentum_unit,
        "length_unit": reader.length_unit,
        "events": reader.n_events,
        "event_numbers": {"first": first, "last": last},
        "particles_per_event": {
            "min": int(counts.min()),
            "mean": float(counts.mean()),
            "max": int(counts.max()),
        },
        "weights_in_file": bool(reader.weight_names),
        "weights": [
            {"name": name, "sum": s, "sum2": s2, "negative": neg}
            for name, (s, s2, neg) in sums.items()
        ],
        "cross_section_pb": None
        if math.isnan(reader.cross_section)
        else {"value": reader.cross_section, "error": reader.cross_section_error},
        "complete": reader.complete,
        "bad_events": [asdict(bad) for bad in reader.bad_events],
        "sqrt_s_gev": None if reader.sqrt_s is None else list(reader.sqrt_s),
        "events_without_beams": reader.events_without_beams,
        "empty_events": reader.empty_events,
    }


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def _sqrt_s(summary: dict[str, Any]) -> str:
    """The beams' √s in TeV, as measured: the check of the file's momentum unit."""
    found = summary["sqrt_s_gev"]
    missing = summary["events_without_beams"]
    if found is None:
        return "unknown: no beam particles (status 4)"
    low, high = (x / 1000 for x in found)
    text = f"{low:.6g} TeV" if high - low <= 1e-6 * high else f"{low:.6g}…{high:.6g} TeV"
    unit = summary["momentum_unit"]
    text += f" (from the beams, in the file's unit {unit})"
    if high < 200.0 and unit == "MEV":  # LHC beams are TeV: 6.5 GeV beams are GeV as MeV
        text += ": far too low for the LHC; are the numbers GeV labelled MeV?"
    elif low > 2e5 and unit == "GEV":
        text += ": far too high for any collider; are the numbers MeV labelled GeV?"
    return text + (f"; {missing} event(s) without beams" if missing else "")


def inspect_table(summary: dict[str, Any]) -> Table:
    """A two-column rich table of :func:`inspect_file`'s summary."""
    table = Table(title=summary["path"], show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    packed = f", {summary['compression']}" if summary["compression"] else ""
    table.add_row("file", f"{_size(summary['size_bytes'])}{packed}")
    writer = (
        f" (written by HepMC3 {summary['writer_version']})" if summary["writer_version"] else ""
    )
    table.add_row("format", f"{summary['format']}{writer}")
    table.add_row(
        "units in file",
        f"{summary['momentum_unit']}, {summary['length_unit']} (read as GeV, mm)",
    )
    numbers = summary["event_numbers"]
    table.add_row("events", f"{summary['events']} (numbers {numbers['first']}…{numbers['last']})")
    ppe = summary["particles_per_event"]
    table.add_row(
        "particles / event", f"min {ppe['min']}, mean {ppe['mean']:.1f}, max {ppe['max']}"
    )
    if not summary["weights_in_file"]:
        table.add_row("weights", "none in the file: every event counts 1 ('nominal')")
    for i, w in enumerate(summary["weights"]):
        label = "weight (nominal)" if i == 0 else "weight"
        table.add_row(
            label,
            f"{w['name']}: Σw = {w['sum']:.6g}, Σw² = {w['sum2']:.6g}, negative: {w['negative']}",
        )
    table.add_row("beams' √s", _sqrt_s(summary))
    if summary["empty_events"]:
        table.add_row(
            "empty events",
            f"{summary['empty_events']} without a final-state particle (kept; they pass no cut)",
        )
    xs = summary["cross_section_pb"]
    table.add_row(
        "cross-section",
        "none" if xs is None else f"{xs['value']:.6g} ± {xs['error']:.3g} pb (last event)",
    )
    table.add_row(
        "end-of-listing line", "yes" if summary["complete"] else "MISSING: file may be truncated"
    )
    bad = summary["bad_events"]
    if bad:
        shown = ", ".join(
            str(b["number"]) if b["number"] is not None else f"#{b['index'] + 1}" for b in bad[:10]
        )
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        table.add_row("bad events skipped", f"{len(bad)}: {shown}{more}")
    return table
