"""Shower Les Houches Event (LHE) files from MadGraph and other matrix-element generators with
Pythia8, in process.

Example::

    from recast.events.lhe import lhe_settings, read_lhe_info
    from recast.events.pythia import generate

    info = read_lhe_info("unweighted_events.lhe.gz")
    print(info.n_events, "events,", info.cross_section_pb, "pb at", info.sqrt_s_gev, "GeV")
    for chunk in generate(lhe_settings(info.path), n_events=info.n_events, seed=1):
        ...

:func:`read_lhe_info` streams the file (plain or gzip) once: the ``<init>`` block gives the
beams, the weighting strategy and the processes' cross-sections; the events are counted and
their weights summed without keeping any. :func:`lhe_settings` gives the Pythia settings that
read the file (``Beams:frameType = 4``, ``Beams:LHEF``); :func:`shower` runs them.

What Pythia reports as the cross-section (``sigmaGen``, the chunks' ``cross_section``) depends
on the weighting strategy IDWTUP of the ``<init>`` block: for ±2 and ±3 it is the sum of the
processes' XSECUP; for ±4 (MadGraph's usual -4) and ±1 it is the mean event weight XWGTUP (in
pb), whatever XSECUP says. A file whose weights sum to σ instead of averaging to it (weights
σ/N) is reported N times too small; :func:`read_lhe_info` warns when the two disagree.

An SLHA spectrum in the header (MadGraph writes the param_card as ``<slha>`` in ``<header>``)
is read by Pythia itself with ``SLHA:readFrom = 1``, its default: Pythia's manual says 1 reads
"the <slha>...</slha> block of a LHEF, if such a file is read during initialization, and else
from the SLHA:file", and 2 reads SLHA:file only, ignoring the header. So the header's masses and
decay tables are used, and an ``SLHA:file`` setting is ignored unless ``SLHA:readFrom = 2`` is
set too (:func:`lhe_settings` refuses the ambiguous combination).
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from ..errors import EventFileError, UsageError
from .hepmc_text import compression, not_an_event_file

log = logging.getLogger(__name__)

#: how far into the (decompressed) file the ``<LesHouchesEvents`` tag is looked for
_START = 64 << 10
#: the longest ``<slha>`` block kept for checking (a param_card is a few tens of kB)
_SLHA_LIMIT = 4 << 20
#: |mean weight / σ - 1| beyond which a strategy ±1/±4 file is reported as inconsistent
_WEIGHT_TOLERANCE = 1e-2
#: settings lhe_settings owns (lower case); the seed belongs to generate()
_OWNED = {
    "beams:frametype": "it is 4 (events from an LHE file)",
    "beams:lhef": "it is the file given",
    "random:seed": "pass the seed to generate() instead",
    "random:setseed": "pass the seed to generate() instead",
}
_EVENT = re.compile(rb"\s*<event[\s>]")
_HEPMC = (b"HepMC::Version", b"HepMC::Asciiv3", b"HepMC::IO_GenEvent")


class LHEProcess(NamedTuple):
    """One process line of the ``<init>`` block (LHA's XSECUP, XERRUP, XMAXUP, LPRUP)."""

    xsec_pb: float
    error_pb: float
    max_weight: float
    id: int


@dataclass(frozen=True)
class LHEInfo:
    """What an LHE file holds, from its ``<init>`` block and a count of its events."""

    path: Path
    beam_ids: tuple[int, int]
    beam_energies_gev: tuple[float, float]
    weighting_strategy: int
    processes: tuple[LHEProcess, ...]
    n_events: int
    has_slha: bool
    compression: str | None
    mean_weight_pb: float
    """The mean XWGTUP of the events (for strategy ±4, what Pythia reports as σ)."""

    @property
    def sqrt_s_gev(self) -> float:
        """Centre-of-mass energy of head-on beams, their masses neglected: 2 √(E_A E_B)."""
        return 2.0 * math.sqrt(self.beam_energies_gev[0] * self.beam_energies_gev[1])

    @property
    def cross_section_pb(self) -> float:
        """Sum of the processes' XSECUP."""
        return math.fsum(p.xsec_pb for p in self.processes)

    @property
    def cross_section_error_pb(self) -> float:
        """The processes' XERRUP added in quadrature."""
        return math.sqrt(math.fsum(p.error_pb**2 for p in self.processes))

    @property
    def pythia_cross_section_pb(self) -> float:
        """What Pythia's sigmaGen() will report for these events (see the module's notes)."""
        if abs(self.weighting_strategy) in (1, 4):
            return self.mean_weight_pb
        return self.cross_section_pb


class _Header(NamedTuple):
    beam_ids: tuple[int, int]
    energies: tuple[float, float]
    strategy: int
    processes: tuple[LHEProcess, ...]
    slha: str | None


def read_lhe_info(path: str | os.PathLike[str]) -> LHEInfo:
    """Read the ``<init>`` block of an LHE file (plain or gzip) and count its events, streaming.

    Raises :class:`~recast.errors.EventFileError` naming the file (and line) for a missing or
    unreadable file, a file that is not LHE (a HepMC file, another compression), no or a
    malformed ``<init>`` block, a cross-section that is missing, zero, negative or not finite,
    and a file without events.
    """
    file = Path(path)
    with _open(file) as handle:
        header, line = _read_header(file, handle)
        n, weights, truncated = _count_events(file, handle, line)
    if n == 0:
        raise EventFileError(
            f"{file}: no events after the <init> block (no complete <event> tag): the generator "
            "wrote the header only, or the file was cut short; regenerate it"
        )
    if truncated:
        log.warning(
            "%s: the file ends inside an event or without </LesHouchesEvents>: it may be cut "
            "short; %d complete events were counted",
            file,
            n,
        )
    info = LHEInfo(
        path=file.absolute(),
        beam_ids=header.beam_ids,
        beam_energies_gev=header.energies,
        weighting_strategy=header.strategy,
        processes=header.processes,
        n_events=n,
        has_slha=header.slha is not None,
        compression=compression(file),
        mean_weight_pb=weights / n,
    )
    _check_weights(info)
    return info


def _check_weights(info: LHEInfo) -> None:
    """Warn when Pythia will report another σ than the ``<init>`` block's (strategy ±1, ±4)."""
    sigma, mean = info.cross_section_pb, info.mean_weight_pb
    if abs(info.weighting_strategy) not in (1, 4) or abs(mean / sigma - 1) <= _WEIGHT_TOLERANCE:
        return
    cause = (
        "the weights sum to σ instead of averaging to it (MadGraph's event_norm = sum)"
        if abs(mean * info.n_events / sigma - 1) <= _WEIGHT_TOLERANCE
        else "the weights and XSECUP disagree"
    )
    log.warning(
        "%s: weighting strategy %d: Pythia will report the mean event weight, %.6g pb, as the "
        "cross-section, not the <init> block's %.6g pb: %s. Give the cross-section with --xsec",
        info.path,
        info.weighting_strategy,
        mean,
        sigma,
        cause,
    )


def lhe_settings(path: str | os.PathLike[str], *, extra: Sequence[str] = ()) -> list[str]:
    """The Pythia settings that shower the events of the LHE file ``path``, then ``extra``.

    ``Beams:frameType = 4`` and ``Beams:LHEF = <absolute path>``; when the header holds an
    ``<slha>`` block, ``SLHA:readFrom = 1`` (Pythia's default, made explicit: it reads that
    block, which is first checked like an SLHA file). The file's ``<init>`` block and first
    event are checked (not all events: see :func:`read_lhe_info`). ``extra`` may not set the
    frame type, the file or the seed (:class:`~recast.errors.UsageError`).
    """
    file = Path(path)
    extra = _check_extra(extra)
    absolute = file.absolute()
    if any(c.isspace() for c in str(absolute)):
        # Pythia's words end at the first blank: it would open another file
        raise UsageError(
            f"{absolute}: Pythia cannot read a file whose path contains a blank (Beams:LHEF "
            "stops at the first one); rename it or link it from a path without blanks "
            "(`ln -s`)"
        )
    with _open(file) as handle:
        header, line = _read_header(file, handle)
        _first_event(file, handle, line)
    settings = ["Beams:frameType = 4", f"Beams:LHEF = {absolute}"]
    if header.slha is not None:
        from .slha import check_slha

        check_slha(header.slha, f"{file} (the <slha> block of its header)")
        names = {_name(s) for s in extra}
        if "slha:file" in names and "slha:readfrom" not in names:
            raise UsageError(
                f"{file}: the header has its own SLHA spectrum (<slha>), which Pythia reads "
                "instead of SLHA:file; add 'SLHA:readFrom = 2' to use your file, or drop "
                "SLHA:file to use the header's"
            )
        settings.append("SLHA:readFrom = 1")
    return [*settings, *extra]


def shower(
    path: str | os.PathLike[str],
    seed: int,
    n_events: int | None = None,
    *,
    extra: Sequence[str] = (),
    chunk_size: int = 1000,
    max_failures: int = 10,
) -> Iterator[Any]:
    """Shower the events of an LHE file with Pythia8; chunks as from
    :func:`recast.events.pythia.generate`. ``n_events`` None means every event of the file;
    more than it holds is refused (:class:`~recast.errors.UsageError`)."""
    from .pythia import generate

    info = read_lhe_info(path)
    if n_events is None:
        n_events = info.n_events
    elif not isinstance(n_events, bool) and isinstance(n_events, int) and n_events > info.n_events:
        raise UsageError(
            f"{path}: n_events={n_events}, but the file holds {info.n_events} events; ask for "
            "at most that many (or n_events=None for all)"
        )
    settings = lhe_settings(path, extra=extra)
    return generate(settings, n_events, seed, chunk_size, max_failures=max_failures)


# --- reading ---------------------------------------------------------------------------------


def _name(setting: str) -> str:
    return setting.partition("=")[0].strip().lower()


def _check_extra(extra: Sequence[str]) -> list[str]:
    if isinstance(extra, str) or not all(isinstance(s, str) for s in extra):
        raise UsageError(f"extra must be a list of Pythia setting strings, not {extra!r}")
    for setting in extra:
        why = _OWNED.get(_name(setting))
        if why is not None:
            raise UsageError(f"extra setting {setting!r}: lhe_settings sets it ({why})")
    return list(extra)


def _open(file: Path) -> IO[bytes]:
    problem = not_an_event_file(file)
    if problem is not None:
        fix = "; give the path of the .lhe or .lhe.gz file" if problem == "no such file" else ""
        raise EventFileError(f"{file}: {problem}{fix}")
    kind = compression(file)
    if kind not in (None, "gzip"):
        raise EventFileError(
            f"{file}: {kind}-compressed; Pythia reads LHE files plain or gzipped only: "
            f"recompress it with gzip (decompress, then `gzip FILE`)"
        )
    if kind == "gzip":
        return cast(IO[bytes], gzip.open(file, "rb"))
    return open(file, "rb", buffering=1 << 20)


def _lines(file: Path, handle: IO[bytes], start: int) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of the decompressed text, from line ``start`` on; read errors named."""
    number = start
    try:
        for raw in handle:
            number += 1
            yield number, raw
    except (OSError, EOFError, zlib.error) as exc:
        where = f"after line {number}" if number else "at its start"
        raise EventFileError(
            f"{file}: cannot read it {where} ({compression(file) or 'plain'}): {exc}; the file "
            "is corrupt or was cut short: copy or regenerate it"
        ) from None


def _check_start(file: Path, handle: IO[bytes]) -> None:
    """Refuse, from the first bytes, a file that is no LHE file. Rewinds ``handle``."""
    try:
        start = handle.read(_START)
        handle.seek(0)
    except (OSError, EOFError, zlib.error) as exc:
        raise EventFileError(f"{file}: cannot read it ({compression(file)}): {exc}") from None
    if any(marker in start for marker in _HEPMC):
        raise EventFileError(
            f"{file}: a HepMC file, not LHE: its events are already showered; give it to "
            "recast directly (e.g. `recast run ANALYSIS FILE`) instead of showering it"
        )
    if b"<LesHouchesEvents" not in start:
        first = start.lstrip().split(b"\n", 1)[0][:60].decode(errors="replace")
        raise EventFileError(
            f"{file}: not an LHE file: no <LesHouchesEvents> tag in its first "
            f"{_START >> 10} kB (it starts with {first!r}); give the .lhe or .lhe.gz file the "
            "matrix-element generator wrote"
        )


def _read_header(file: Path, handle: IO[bytes]) -> tuple[_Header, int]:
    """The ``<init>`` block (and any ``<slha>`` block before it); the line ``</init>`` ends."""
    _check_start(file, handle)
    slha: list[bytes] | None = None
    in_slha = False
    size = 0
    init: list[tuple[int, bytes]] | None = None
    for number, raw in _lines(file, handle, 0):
        text = raw.strip()
        if init is not None:
            if text.startswith(b"</init"):
                return _parse_init(file, init, slha), number
            if text and not text.startswith(b"<") and not text.startswith(b"#"):
                init.append((number, text))  # LHEF 3 tags (<generator>, ...) are skipped
            continue
        if in_slha:
            if text.startswith(b"</slha"):
                in_slha = False
            elif slha is not None and (size := size + len(raw)) <= _SLHA_LIMIT:
                slha.append(raw)
            continue
        if text.startswith(b"<slha"):
            in_slha, slha = True, []
        elif text.startswith(b"<init"):
            init = []
            rest = text.partition(b">")[2].strip()
            if rest:
                init.append((number, rest))
        elif _EVENT.match(raw):
            break
    raise EventFileError(
        f"{file}: no <init> block (with the beams and the cross-section) before the first "
        "event: the file is not a complete LHE file; regenerate it"
    )


def _parse_init(file: Path, lines: list[tuple[int, bytes]], slha: list[bytes] | None) -> _Header:
    if not lines:
        raise EventFileError(f"{file}: the <init> block is empty; regenerate the file")
    number, first = lines[0]

    def bad(line: int, text: bytes, why: str) -> EventFileError:
        return EventFileError(
            f"{file}: line {line} (in the <init> block) does not parse: "
            f"{text.decode(errors='replace')!r}: {why}"
        )

    fields = first.split()
    expect = "IDBMUP(2) EBMUP(2) PDFGUP(2) PDFSUP(2) IDWTUP NPRUP"
    if len(fields) < 10:
        raise bad(number, first, f"expected 10 numbers, {expect}; found {len(fields)}")
    try:
        ids = (int(fields[0]), int(fields[1]))
        energies = (float(fields[2]), float(fields[3]))
        strategy, n_processes = int(fields[8]), int(fields[9])
        [int(f) for f in fields[4:8]]
    except ValueError:
        raise bad(number, first, f"expected the numbers {expect}") from None
    if not all(math.isfinite(e) and e > 0 for e in energies):
        raise bad(number, first, "the beam energies EBMUP must be positive numbers (GeV)")
    if abs(strategy) not in (1, 2, 3, 4):
        raise bad(number, first, f"the weighting strategy IDWTUP is {strategy}, not ±1..±4")
    if n_processes < 1:
        raise bad(number, first, f"the number of processes NPRUP is {n_processes}, not ≥ 1")
    processes = []
    for i in range(n_processes):
        if i + 1 >= len(lines):
            raise _no_cross_section(
                file,
                f"the <init> block declares {n_processes} process(es) (NPRUP) but gives the "
                f"line 'XSECUP XERRUP XMAXUP LPRUP' for only {i}",
                strategy,
            )
        number, text = lines[i + 1]
        fields = text.split()
        if len(fields) < 4:
            raise _no_cross_section(
                file,
                f"line {number} (in the <init> block), {text.decode(errors='replace')!r}, is not "
                "'XSECUP XERRUP XMAXUP LPRUP'",
                strategy,
            )
        try:
            xsec, error, xmax = (float(f) for f in fields[:3])
            lprup = int(fields[3])
        except ValueError:
            raise bad(number, text, "expected the numbers XSECUP XERRUP XMAXUP LPRUP") from None
        if not math.isfinite(xsec) or (xsec < 0 and strategy > 0):
            raise _no_cross_section(
                file,
                f"line {number} (in the <init> block) gives XSECUP = {fields[0].decode()} pb",
                strategy,
            )
        if not (math.isfinite(error) and error >= 0):
            raise bad(number, text, "the error XERRUP must be a finite number ≥ 0 (pb)")
        if not math.isfinite(xmax):
            raise bad(number, text, "the maximum weight XMAXUP must be a finite number")
        processes.append(LHEProcess(xsec, error, xmax, lprup))
    total = math.fsum(p.xsec_pb for p in processes)
    if not total > 0:
        raise _no_cross_section(
            file, f"the <init> block's cross-sections sum to {total:g} pb", strategy
        )
    spectrum = b"".join(slha).decode(errors="replace") if slha is not None else None
    return _Header(ids, energies, strategy, tuple(processes), spectrum)


def _no_cross_section(file: Path, what: str, strategy: int) -> EventFileError:
    pythia = (
        "Pythia would take σ from the event weights alone, with nothing to check them against"
        if abs(strategy) in (1, 4)
        else "Pythia would normalise the showered events to nothing (it takes σ from this block)"
    )
    return EventFileError(
        f"{file}: an LHE without a cross-section: {what}. {pythia}. Give σ yourself with --xsec "
        "(e.g. --xsec 12.3fb; xsec= in Python), or regenerate the file with the cross-section "
        "written in its <init> block"
    )


def _first_event(file: Path, handle: IO[bytes], start: int) -> None:
    for _, raw in _lines(file, handle, start):
        if _EVENT.match(raw):
            return
    raise EventFileError(
        f"{file}: no events after the <init> block (no <event> tag): the generator wrote the "
        "header only, or the file was cut short; regenerate it"
    )


def _count_events(file: Path, handle: IO[bytes], start: int) -> tuple[int, float, bool]:
    """Complete events, the sum of their weights XWGTUP, and whether the file looks cut short."""
    n = 0
    weights = 0.0
    weight: float | None = None  # of the open event, once its first line was read
    inside = False  # between <event> and </event>
    closed = False  # </LesHouchesEvents> seen
    for number, raw in _lines(file, handle, start):
        if inside and weight is None:
            if raw.strip():  # the event's first line: NUP IDPRUP XWGTUP SCALUP AQEDUP AQCDUP
                weight = _event_weight(file, n + 1, number, raw)
            continue
        text = raw.lstrip()
        if not text.startswith(b"<"):
            continue
        if _EVENT.match(text):
            inside, weight = True, None
            rest = text.partition(b">")[2]
            if rest.strip():  # the first line follows the tag on the same line
                weight = _event_weight(file, n + 1, number, rest)
        elif text.startswith(b"</event"):
            if inside and weight is not None:
                n += 1
                weights += weight
            inside = False
        elif text.startswith(b"</LesHouchesEvents"):
            closed = True
    return n, weights, inside or not closed


def _event_weight(file: Path, event: int, number: int, line: bytes) -> float:
    fields = line.split()
    try:
        weight = float(fields[2])
    except (IndexError, ValueError):
        raise EventFileError(
            f"{file}: event {event} (line {number}): its first line, "
            f"{line.strip().decode(errors='replace')!r}, is not 'NUP IDPRUP XWGTUP SCALUP AQEDUP "
            "AQCDUP'; the file is corrupt: regenerate it"
        ) from None
    if not math.isfinite(weight):
        raise EventFileError(
            f"{file}: event {event} (line {number}): the weight XWGTUP is {fields[2]!r}, not a "
            "finite number; the file is corrupt: regenerate it"
        )
    return weight
