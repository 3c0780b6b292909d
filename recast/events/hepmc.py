"""Stream HepMC3 ASCII files (plain, .gz, .bz2, .xz) in chunks of the :mod:`~.chunk` layout.

HepMC3 itself parses the text (through pyhepmc); this module turns each event's
``GenEventData`` arrays into flat buffers, converts units to GeV and mm, and assembles a chunk
with :func:`~recast.events.chunk.make_chunk` every ``chunk_size`` events, so memory follows
the chunk size, never the file size::

    reader = HepMCReader("events.hepmc.gz", chunk_size=1000)
    for chunk in reader:
        ...
    print(reader.n_events, reader.weight_names, reader.bad_events)

HepMC3 answers a parse failure by printing to the terminal and handing back an *empty* event
(pyhepmc's own iterator then stops as if the file had ended). Here every read is checked:
a failed read, anything the library prints while parsing an event, non-finite numbers, an
inconsistent weight count, broken links, unphysical momenta or a cross-section ≤ 0 (see
:mod:`~recast.events.sanity`) make the event *bad*; a bad event raises :class:`EventFileError`
naming the file, the event number, its position and line, or with ``skip_bad=True`` is
skipped, logged and listed in :attr:`HepMCReader.bad_events`.

One file can be read in parts, in parallel: :func:`~recast.events.partition.partition_hepmc`
cuts it into byte ranges at event lines, and ``HepMCReader(path, byte_range=(start, stop))``
reads the events whose event line starts in ``[start, stop)``, the file's header replayed
before the first of them. Across ranges that tile the file, every event is read exactly once
and the chunks, concatenated, are the whole-file read's.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyhepmc
from pyhepmc._core import ReaderAscii, pyiostream

from ..errors import EventFileError, UsageError
from . import sanity
from .hepmc_columns import Flat, Pending, assemble, history_of_links
from .hepmc_fast import Doubtful, ParsedEvents, header_weight_names, parse_events
from .hepmc_stream import Block, EventBlocks
from .hepmc_text import (
    FOOTER,
    Header,
    Locator,
    NativeOutput,
    Source,
    event_number_at,
    find_event_line,
    open_binary,
    sniff,
    weight_line,
)
from .hepmc_vertices import resolved_positions

log = logging.getLogger(__name__)

_MEV, _CM = pyhepmc.Units.MEV, pyhepmc.Units.CM  # the others (GeV, mm) need no factor
_STREAM_BUFFER = 1 << 20
#: how the text is parsed: whole blocks at once (pyhepmc for what that parser doubts), or
#: every event through pyhepmc
PARSERS = ("columnar", "pyhepmc")
_HEADER_RUN_INFO = object()  # the run information of the header, read without pyhepmc
_PARSE_AHEAD = 2  # blocks parsed ahead of the one being taken
_PARSERS = 2  # threads parsing blocks (numpy and pyarrow release the GIL)


@dataclass(frozen=True)
class _Span:
    """The bytes a reader reads: from ``begin`` (0, or an event line behind the replayed
    header) to ``end`` (an event line; None: the end of the file)."""

    begin: int
    end: int | None
    whole: bool  # the whole file: no events before begin, none after end
    empty: bool = False


@dataclass(frozen=True)
class BadEvent:
    """One event that could not be used: its 0-based ``index`` among the file's events, its
    event ``number`` and ``line`` in the file where known, and why. Also when the file is read
    in byte ranges, ``index`` and ``line`` count from the top of the file."""

    index: int
    number: int | None
    line: int | None
    reason: str

    def describe(self, path: Path | str) -> str:
        where = f"event {self.number}" if self.number is not None else "an event"
        line = f", starting at line {self.line}" if self.line is not None else ""
        return f"{path}: {where} (event #{self.index + 1} in the file{line}): {self.reason}"


class HepMCReader:
    """Iterate over a HepMC3 ASCII file in chunks; run-level metadata fills in as it reads.

    Iterating again starts again from the top. Attributes after (or during) iteration:
    ``writer_version`` (from the header), ``weight_names`` (the run's, nominal first),
    ``momentum_unit`` / ``length_unit`` (as the file declares them; chunks are always GeV and
    mm), ``n_events`` (events yielded), ``bad_events``, ``cross_section`` and
    ``cross_section_error`` (pb, the last an event carried; NaN if none), ``complete`` (the
    end-of-listing line was reached; for a byte range that ends before the end of the file,
    the range's end was reached), ``sqrt_s`` (the beams' lowest and highest √s in GeV, None
    without beams), ``events_without_beams``, ``empty_events`` (no final-state particle).

    ``expected_sqrt_s`` (GeV): refuse a file whose beams' √s differs by more than 1 % (a
    momentum unit mislabelled, or another energy). ``cross_sections=False``: the caller has
    its own cross-section, so one ≤ 0 or NaN in the file is blanked with a warning instead
    of making the event bad.

    ``byte_range=(start, stop)`` reads only the events whose event line (``E`` at the start of
    a line) starts at a byte offset in ``[start, stop)`` of an uncompressed file, with the
    file's header replayed before the first of them (run information, weight names). Any
    ranges that tile ``[0, size)`` read every event exactly once; those of
    :func:`~recast.events.partition.partition_hepmc` begin at event lines. Within a range:
    attributes describe the range (``n_events``, ``cross_section`` the last in the range...),
    bad events keep the file's event index and line, a missing end-of-listing line is only
    reported by the range that reaches the end of the file, and a range without readable
    events yields nothing instead of raising (the caller checks the total). A compressed file
    cannot be read in parts: its only accepted range is the whole file, ``(0, size)`` or
    wider.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = 1000,
        skip_bad: bool = False,
        byte_range: tuple[int, int] | None = None,
        expected_sqrt_s: float | None = None,
        cross_sections: bool = True,
        parser: str = "columnar",
    ) -> None:
        if parser not in PARSERS:
            raise UsageError(f"parser must be one of {', '.join(PARSERS)}, not {parser!r}")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise UsageError(f"chunk_size must be a positive integer, not {chunk_size!r}")
        if byte_range is not None:
            start, stop = byte_range
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, stop)):
                raise UsageError(f"byte_range must be two integers, not {byte_range!r}")
            if not 0 <= start <= stop:
                raise UsageError(f"byte_range {byte_range!r}: need 0 ≤ start ≤ stop")
            byte_range = (start, stop)
        self.path = Path(path)
        self.chunk_size = chunk_size
        self.skip_bad = skip_bad
        self.byte_range = byte_range
        self.expected_sqrt_s = expected_sqrt_s
        self.cross_sections = cross_sections
        self.parser = parser
        self._reset()

    def _reset(self) -> None:
        self.format = "HepMC3 Asciiv3"
        self.writer_version: str | None = None
        self.weight_names: tuple[str, ...] = ()
        self.momentum_unit: str | None = None
        self.length_unit: str | None = None
        self.n_events = 0
        self.bad_events: list[BadEvent] = []
        self.cross_section = math.nan
        self.cross_section_error = math.nan
        self.complete = False
        self.empty_events = 0
        self.empty_numbers: list[int] = []
        self.events_without_beams = 0
        self.sqrt_s: tuple[float, float] | None = None
        self._said: set[str] = set()
        self._n_weights: int | None = None
        self._run_info: Any = None
        self._locator: Locator | None = None
        self._unread_xsec: list[tuple[int, str]] = []  # (event number, why); logged later
        self._logged = 0  # bad events logged so far
        #: events read by each parser (a columnar read hands what it doubts to pyhepmc)
        self.events_by_parser = dict.fromkeys(PARSERS, 0)

    @property
    def n_bad(self) -> int:
        return len(self.bad_events)

    def metadata(self) -> dict[str, Any]:
        """The run-level facts as plain JSON-able values."""
        return {
            "path": str(self.path),
            "format": self.format,
            "writer_version": self.writer_version,
            "weight_names": list(self.weight_names),
            "momentum_unit": self.momentum_unit,
            "length_unit": self.length_unit,
            "events": self.n_events,
            "bad_events": [asdict(b) for b in self.bad_events],
            "cross_section_pb": None if math.isnan(self.cross_section) else self.cross_section,
            "cross_section_error_pb": None
            if math.isnan(self.cross_section)
            else self.cross_section_error,
            "complete": self.complete,
            "byte_range": list(self.byte_range) if self.byte_range is not None else None,
            "sqrt_s_gev": None if self.sqrt_s is None else list(self.sqrt_s),
            "events_without_beams": self.events_without_beams,
            "empty_events": self.empty_events,
        }

    def __iter__(self) -> Iterator[ak.Array]:
        """Read the file from the top in chunks of ``chunk_size`` events (fewer in the last
        chunk, and in chunks that lost skipped bad events)."""
        self._reset()
        header = sniff(self.path)
        self.writer_version = header.version
        span = self._span(header)
        if span.empty:
            self.complete = True
            return
        locator = self._locator = Locator(self.path, span.begin, span.end)
        try:
            if self.parser == "pyhepmc" or header.text is None:
                yield from self._read_pyhepmc(header, span, locator)
            else:
                yield from self._read_columnar(header, span, locator)
        finally:
            locator.close()

    def _read_pyhepmc(self, header: Header, span: _Span, locator: Locator) -> Iterator[ak.Array]:
        """Every event through HepMC3 (pyhepmc), one at a time."""
        session = _Session(self.path, header, span)
        position, done = 0, False
        try:
            while not done:
                pending = Pending()
                with NativeOutput() as native:
                    position, done, problem = self._fill(
                        session, locator, native, pending, position, self.chunk_size
                    )
                for line in native.leftover.splitlines():
                    log.debug("HepMC3 said: %s", line)
                self.events_by_parser["pyhepmc"] = position
                if problem is not None:
                    self._raise_after(pending, locator, problem)
                if len(pending):
                    yield from self._emit(pending, locator)
                self._log_skipped()  # also those of a chunk that lost all its events
            source = session.source
            self._finish(span, header, source.error, source.at_footer(), source.exhausted, position)
        finally:
            session.close()

    def _read_columnar(self, header: Header, span: _Span, locator: Locator) -> Iterator[ak.Array]:
        """Blocks of events parsed whole (:mod:`.hepmc_fast`) in a thread, a few blocks ahead
        of the caller; a block that parser doubts goes through pyhepmc, which reads (or
        diagnoses) it as it always did."""
        assert header.text is not None
        names, clean = header_weight_names(header.text)
        blocks = EventBlocks(self.path, span.begin or len(header.text), span.end)
        pool = ThreadPoolExecutor(max_workers=_PARSERS, thread_name_prefix="hepmc-parse")
        ahead: deque[tuple[Block, Future[ParsedEvents | Doubtful] | None]] = deque()
        pending, position = Pending(), 0
        try:
            for block, future in _parsed_ahead(blocks, ahead, pool, clean, len(names) or None):
                position = self._take_block(block, future, names, header, blocks, locator,
                                            pending, position)  # fmt: skip
                while len(pending) >= self.chunk_size:
                    head, pending = pending.split(self.chunk_size)
                    yield from self._emit(head, locator)
            if len(pending):
                yield from self._emit(pending, locator)
            self._log_skipped()  # also those after the last event read
            footer = blocks.footer or (position == 0 and header.text.rstrip().endswith(FOOTER))
            self._finish(span, header, blocks.error, footer, blocks.exhausted, position)
        finally:
            for _, future in ahead:
                if future is not None:
                    future.cancel()
            pool.shutdown(wait=True)
            blocks.close()

    def _take_block(
        self,
        block: Block,
        future: Future[ParsedEvents | Doubtful] | None,
        names: tuple[str, ...],
        header: Header,
        blocks: EventBlocks,
        locator: Locator,
        pending: Pending,
        position: int,
    ) -> int:
        """Add a block's events to ``pending`` (raise at a bad one); the next position."""
        part = Pending()
        parsed = self._adopt(block, future.result(), names) if future is not None else None
        if parsed is not None:
            part.add_parsed(parsed, position)
            position += len(parsed)
            self.events_by_parser["columnar"] += len(parsed)
        else:
            error = blocks.error if block.final else None
            before = position
            position, problem = self._fallback(header, block, locator, part, position, error)
            self.events_by_parser["pyhepmc"] += position - before
            if problem is not None:
                pending.extend(part)
                self._raise_after(pending, locator, problem)
        pending.extend(part)
        return position

    def _raise_after(self, pending: Pending, locator: Locator, problem: BadEvent) -> None:
        """Raise for ``problem``, unless an event read before it is bad: that one first."""
        if len(pending):
            self._screen(pending, locator)
        self._log_skipped()
        self._raise(problem)

    def _adopt(
        self, block: Block, parsed: ParsedEvents | Doubtful, names: tuple[str, ...]
    ) -> ParsedEvents | None:
        """The block's events as the columnar parser read them, if they agree with the file's
        so far; None (pyhepmc reads them) if it doubts them."""
        try:
            if isinstance(parsed, Doubtful):
                raise parsed
            n = parsed.weights.shape[1]
            if self._n_weights is None:
                self._n_weights = n
                self.weight_names = _names_for(names, n)
                self.momentum_unit = parsed.momentum_unit[0]
                self.length_unit = parsed.length_unit[0]
                self._run_info = _HEADER_RUN_INFO
            elif n != self._n_weights:
                raise Doubtful("another number of weights")
        except Doubtful as why:
            log.debug(
                "%s: events from byte %d go through pyhepmc: %s", self.path, block.offset, why
            )
            return None
        stated = np.flatnonzero(parsed.xsec[:, 0] > 0)  # NaN and ≤ 0: see Flat.problems
        if len(stated):
            self.cross_section, self.cross_section_error = parsed.xsec[stated[-1]].tolist()
        return parsed

    def _fallback(
        self,
        header: Header,
        block: Block,
        locator: Locator,
        pending: Pending,
        position: int,
        error: BaseException | None,
    ) -> tuple[int, BadEvent | None]:
        """Read a block with pyhepmc; (next position, the problem that stops the read)."""
        span = _Span(block.offset, block.offset + block.stop, whole=False)
        session = _MemorySession(self.path, header, span, block.data[: block.stop], error)
        try:
            with NativeOutput() as native:
                position, _, problem = self._fill(session, locator, native, pending, position)
            for line in native.leftover.splitlines():
                log.debug("HepMC3 said: %s", line)
        finally:
            session.close()
        return position, problem

    def _emit(self, pending: Pending, locator: Locator) -> Iterator[ak.Array]:
        """The chunk of ``pending``'s events, once screened (none if all were bad)."""
        flat = self._screen(pending, locator)
        self._log_skipped()
        if flat is not None:
            chunk = self._chunk(flat)
            # the chunk holds the joined columns; the parts they were joined from go now,
            # not after the caller has worked on the chunk (the peak of a run)
            del flat
            pending.release()
            yield chunk

    def _chunk(self, flat: Flat) -> ak.Array:
        chunk = assemble(flat, self.weight_names)
        self.n_events += len(chunk)
        return chunk

    def _log_skipped(self) -> None:
        self.bad_events.sort(key=lambda bad: bad.index)
        for bad in self.bad_events[self._logged :]:
            log.warning("skipped %s", bad.describe(self.path))
        self._logged = len(self.bad_events)

    def _span(self, header: Header) -> _Span:
        """Where ``byte_range`` starts and stops reading, moved to event lines."""
        if self.byte_range is None:
            return _Span(0, None, whole=True)
        start, stop = self.byte_range
        size = self.path.stat().st_size
        if header.compression is not None:
            if start == 0 and stop >= size:
                return _Span(0, None, whole=True)
            raise UsageError(
                f"{self.path}: {header.compression}-compressed, so it cannot be read by byte "
                f"range {self.byte_range}; read it whole (range (0, {size})), or decompress it "
                "to read it in parts"
            )
        with open(self.path, "rb") as handle:
            end = find_event_line(handle, stop) if stop < size else None
            if start == 0 or (header.text is not None and start <= len(header.text)):
                begin: int | None = 0  # nothing but the header before start: from the top
            elif header.text is None:
                raise EventFileError(
                    f"{self.path}: cannot read from byte {start}: the header before the first "
                    "event is too large to replay; read the file whole"
                )
            else:
                begin = find_event_line(handle, start)
        if begin is None or (end is not None and begin >= end):
            return _Span(0, None, whole=False, empty=True)
        return _Span(begin, end, whole=begin == 0 and end is None)

    def _raise(self, bad: BadEvent) -> None:
        raise EventFileError(
            f"{bad.describe(self.path)}. {_fix(bad.reason)}, or skip and count the bad events "
            "(--skip-bad)"
        )

    def _screen(self, pending: Pending, locator: Locator) -> Flat | None:
        """The chunk's flat buffers without bad events: NaN, infinities, broken links,
        unphysical momenta, a cross-section ≤ 0 (unless ``cross_sections`` is off); the
        rest measured (beams, empty events)."""
        if not self.cross_sections:
            self._ignore_cross_sections(pending)
        for number, why in self._unread_xsec:
            self._say_once(
                "xsec-text", "%s: event %d: %s; not used (one is given: --xsec)", self.path,
                number, why,
            )  # fmt: skip
        self._unread_xsec.clear()
        flat = Flat(pending)
        found = flat.problems(cross_sections=self.cross_sections)
        if found:
            bads = [
                BadEvent(locator.index(i), *locator.where(i), why)
                for i, why in sorted(found.items())
            ]
            if not self.skip_bad:
                self._raise(bads[0])
            self.bad_events += bads
            pending = pending.drop(set(found))
            if not len(pending):
                return None
            flat = Flat(pending)
        self._measure(flat, locator)
        return flat

    def _ignore_cross_sections(self, pending: Pending) -> None:
        """Blank the cross-sections that are not > 0: the caller gave its own (--xsec)."""
        for k, (xs, _) in enumerate(pending.xsec):
            if pending.has_xsec[k] and not xs > 0:
                pending.xsec[k] = (math.nan, math.nan)
                self._say_once(
                    "xsec",
                    "%s: event %d states a cross-section of %g pb; not used (one is given: --xsec)",
                    self.path,
                    pending.number[k],
                    xs,
                )

    def _say_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._said:
            self._said.add(key)
            log.warning(message, *args)

    def _measure(self, flat: Flat, locator: Locator) -> None:
        """Count empty events, find the beams' √s and check it against ``expected_sqrt_s``."""
        status, counts = flat.particles["status"], flat.n_particles
        n_final = sanity.final_state_counts(status, counts)
        empty = np.flatnonzero(n_final == 0)
        self.empty_events += len(empty)
        room = 10 - len(self.empty_numbers)  # the first ten are named
        self.empty_numbers += [flat.pending.number[k] for k in empty[:room]]
        sqrt_s, _ = flat.beams()
        beams = np.isfinite(sqrt_s)
        self.events_without_beams += int((~beams).sum())
        if beams.any():
            low, high = float(sqrt_s[beams].min()), float(sqrt_s[beams].max())
            if self.sqrt_s is not None:
                low, high = min(low, self.sqrt_s[0]), max(high, self.sqrt_s[1])
            self.sqrt_s = (low, high)
        if self.expected_sqrt_s is None:
            return
        expected = self.expected_sqrt_s
        off = np.flatnonzero(beams & sanity.sqrt_s_disagrees(sqrt_s, expected))
        if len(off):
            self._refuse_sqrt_s(flat, locator, int(off[0]), float(sqrt_s[off[0]]), "the beams' √s")
        if not beams.all():
            mass = sanity.final_state_mass(flat.momenta(), status, counts)
            for k in np.flatnonzero(~beams & (mass > expected * (1 + sanity.SQRT_S_TOLERANCE))):
                self._refuse_sqrt_s(flat, locator, int(k), float(mass[k]), "the final state's mass")
            first = int(np.flatnonzero(~beams)[0])
            self._say_once(
                "beams",
                "%s: no beam particles (status 4) in event %d (and %d more so far): the momentum "
                "unit (%s) cannot be checked against the analysis's √s = %g GeV; the event's "
                "final state has a mass of %.6g GeV",
                self.path,
                flat.pending.number[first],
                int((~beams).sum()) - 1,
                self.momentum_unit,
                expected,
                float(mass[first]),
            )

    def _refuse_sqrt_s(
        self, flat: Flat, locator: Locator, k: int, measured: float, what: str
    ) -> None:
        position = flat.pending.index[k]
        bad = BadEvent(locator.index(position), *locator.where(position), "")
        expected, unit = self.expected_sqrt_s or math.nan, self.momentum_unit
        ratio = measured / expected
        if 5e-4 < ratio < 2e-3 and unit == "MEV":
            fix = (
                "its numbers look like GeV labelled MeV: correct the unit line of every event "
                "from 'U MEV ...' to 'U GEV ...', or regenerate the file"
            )
        elif 5e2 < ratio < 2e3 and unit == "GEV":
            fix = (
                "its numbers look like MeV labelled GeV: correct the unit line of every event "
                "from 'U GEV ...' to 'U MEV ...', or regenerate the file"
            )
        else:
            fix = (
                f"the events are for another collision energy: generate them at √s = "
                f"{expected / 1000:g} TeV, or run an analysis made for their energy"
            )
        raise EventFileError(
            f"{bad.describe(self.path).removesuffix(': ')}: {what} is {measured:.6g} GeV "
            f"(momentum unit {unit} as the file declares it), but the analysis is at "
            f"√s = {expected:.6g} GeV (tolerance {sanity.SQRT_S_TOLERANCE:.0%}); {fix}"
        )

    def _finish(
        self,
        span: _Span,
        header: Header,
        error: BaseException | None,
        footer: bool,
        exhausted: bool,
        position: int,
    ) -> None:
        """End-of-file checks: a broken compressed stream, the footer, any events at all.

        A byte range that ends before the end of the file has no footer to check, and may
        hold no readable event (the other ranges may).
        """
        if span.end is not None:
            self.complete = exhausted
            return
        if error is not None:
            bad = BadEvent(position, None, None, f"the {header.data} breaks off ({error})")
            if not self.skip_bad:
                raise EventFileError(
                    f"{self.path}: the {header.data} is corrupt or truncated "
                    f"after {position} event(s) ({error}); nothing after that can be read"
                )
            self.bad_events.append(bad)
            log.warning("skipped the rest of %s", bad.describe(self.path))
        self.complete = footer
        if not self.complete and self.n_events:
            log.warning(
                "%s: no end-of-listing line: the file may be truncated after its event #%d",
                self.path,
                position,
            )
        if self.n_events == 0 and span.whole:
            first = self.bad_events[0].reason if self.bad_events else ""
            why = (
                f"; all {self.n_bad} event(s) were bad, the first because {first}. {_fix(first)}"
                if self.bad_events
                else ""
            )
            raise EventFileError(f"{self.path}: no readable events{why}")
        self._report_empty(span.whole)

    def _report_empty(self, whole: bool) -> None:
        """Say how many events have no final-state particle; refuse a file of nothing else."""
        if not self.empty_events:
            return
        numbers = ", ".join(map(str, self.empty_numbers))
        more = ", ..." if self.empty_events > len(self.empty_numbers) else ""
        if whole and self.empty_events == self.n_events:
            raise EventFileError(
                f"{self.path}: none of its {self.n_events} event(s) has a final-state particle "
                "(status 1): nothing to select. Check the generator's output settings (e.g. "
                "that the shower and hadronisation ran and final-state particles are written)"
            )
        log.warning(
            "%s: %d of %d event(s) have no final-state particle (status 1): events %s%s; they "
            "count in the sum of weights and pass no selection",
            self.path,
            self.empty_events,
            self.n_events,
            numbers,
            more,
        )

    # -- reading -------------------------------------------------------------------------------

    def _fill(
        self,
        session: _Session,
        locator: Locator,
        native: NativeOutput,
        pending: Pending,
        position: int,
        limit: int | None = None,
    ) -> tuple[int, bool, BadEvent | None]:
        """Read events into ``pending`` until it holds ``limit`` (None: to the end of the
        session's text); (next position, done, problem).

        Runs while the library's output is captured, so it must not log: problems are returned
        (or recorded in ``self.bad_events`` for the caller to log).
        """
        while limit is None or len(pending) < limit:
            if session.reader.failed():
                return position, True, None
            event = pyhepmc.GenEvent()
            try:
                ok = session.reader.read_event(event)
                exception = ""
            except RuntimeError as exc:  # e.g. weight count differs from the run's names
                ok, exception = False, str(exc)
            if session.source.interrupted is not None:  # Ctrl-C, not a broken file
                raise session.source.interrupted
            said = native.take().strip()
            dead = session.reader.failed()
            session.reads += 1
            # a V line whose text was changed so that HepMC3 would not crash
            link_problem = session.source.links.problems.pop(session.reads - 1, None)
            unweighted = session.source.links.without_weights(session.reads - 1)
            if ok and dead and not said and len(event.particles) == 0:
                if session.span.end is not None:  # run information just before the next range
                    self._check_run_info(event, position, next_at=session.span.end)
                return position, True, None  # end of file (or of the range)
            reason = link_problem or _reason(ok, exception, said)
            if reason is not None and "parse_weight_values" in reason:
                reason = self._weight_line_problem(locator, position) or reason
            if reason is None:
                reason = self._take(event, pending, position, unweighted)
                native.take()  # anything printed while converting is not the file's fault
            if reason is not None:
                where = locator.where(position)
                if session.source.error is not None:
                    reason += f"; the {session.header.data} breaks off here"
                elif (
                    not ok
                    and locator.next_event_offset(position) is None
                    and not locator.footer
                    and locator.end is None
                ):
                    reason += "; the file ends inside this event: it is truncated"
                bad = BadEvent(locator.index(position), *where, reason)
                if not self.skip_bad:
                    return position + 1, True, bad
                self.bad_events.append(bad)
                if (dead or not ok) and not session.resume(locator.next_event_offset(position)):
                    return position + 1, True, None
            position += 1
        return position, False, None

    def _weight_line_problem(self, locator: Locator, position: int) -> str | None:
        """Why the event's W line failed, from its text: HepMC3 reads 'nan' or words as no
        weight at all and reports a weight count (error path only)."""
        offset = locator.offset(position)
        if offset is None:
            return None
        line = weight_line(self.path, offset)
        if line is None:
            return None
        for field in line.split()[1:]:
            try:
                value = float(field)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                shown = line if len(line) <= 60 else line[:57] + "..."
                return f"its W line {shown!r} has {field[:20]!r} where a finite weight belongs"
        return None

    def _take(
        self, event: Any, pending: Pending, position: int, unweighted: bool = False
    ) -> str | None:
        """Append one parsed event to ``pending``; the reason it is bad, or None.

        ``unweighted``: the event's text has no ``W`` line (HepMC3 may have given it weights).

        NaN, infinities and broken links are looked for per chunk, by :meth:`Flat.problems`.
        """
        self._check_run_info(event, position)
        data = pyhepmc.GenEventData()  # its arrays are views into it: one per event, no copies
        event.write_data(data)
        weights = data.weights
        named = _header_weight_names(event)
        if named and (unweighted or len(weights) != len(named)):
            has = "no W line (0 weights)" if unweighted else f"{len(weights)} weight(s)"
            return (  # HepMC3 lets an event without W line pass, with weights 1 or none
                f"it has {has}, the header names {len(named)} ({' '.join(named)[:80]}): "
                "give the event a W line with one weight per name"
            )
        if self._n_weights is None:
            self._n_weights = len(weights)
            self.weight_names = _weight_names(event, len(weights))
            self.momentum_unit = data.momentum_unit.name
            self.length_unit = data.length_unit.name
        elif len(weights) != self._n_weights:
            return f"it has {len(weights)} weight(s) where the file's events have {self._n_weights}"
        problem = _cross_section_text_problem(data)
        if problem is not None and self.cross_sections:
            return problem
        # not parsed when malformed (a short one crashes HepMC3); unused anyway under --xsec
        xs = event.cross_section if problem is None else None
        if problem is not None:
            self._unread_xsec.append((data.event_number, problem))
        xsec = (xs.xsec(), xs.xsec_err()) if xs is not None else (math.nan, math.nan)
        if xsec[0] > 0:  # not NaN, nor ≤ 0: those make the event bad (see Flat.problems)
            self.cross_section, self.cross_section_error = xsec
        history = history_of_links(
            data.links1, data.links2, len(data.particles), len(data.vertices)
        )
        if isinstance(history, str):
            return history
        particles = {name: data.particles[name] for name in data.particles.dtype.names}
        particles["production"], particles["end"] = history
        pos = data.event_pos
        event_pos = (pos.x, pos.y, pos.z, pos.t)
        vertices = {name: data.vertices[name] for name in data.vertices.dtype.names}
        resolved = resolved_positions(
            vertices, *history, np.array([len(data.particles)]), np.array([len(data.vertices)]),
            np.array([event_pos]),
        )  # fmt: skip
        for k, name in enumerate("xyzt"):
            vertices[f"position_{name}"] = resolved[:, k]
        pending.add_event(
            position,
            data.event_number,
            particles,
            vertices,
            event_pos,
            weights,
            xsec,
            xs is not None,
            (
                1e-3 if data.momentum_unit == _MEV else 1.0,
                10.0 if data.length_unit == _CM else 1.0,
            ),
        )
        return None

    def _check_run_info(self, event: Any, position: int, next_at: int | None = None) -> None:
        """Refuse a change of weight names. ``next_at``: the byte offset of the event the
        change applies to, when ``event`` is not one (the run information that ends a range,
        seen by the range's reader where the whole-file read sees it at the next event)."""
        run_info = event.run_info
        if run_info is self._run_info or self._run_info is None:
            self._run_info = run_info
            return
        names = _weight_names(event, len(self.weight_names))
        if self.weight_names and names != self.weight_names:
            index = self._locator.index(position) if self._locator is not None else position
            number = event.event_number if next_at is None else event_number_at(self.path, next_at)
            raise EventFileError(
                f"{self.path}: the run information changes at event {number} "
                f"(event #{index + 1} in the file): "
                f"weight names {list(self.weight_names)} become {list(names)}; recast reads "
                "one run per file: split the file where its header repeats"
            )
        self._run_info = run_info


def _parsed_ahead(
    blocks: EventBlocks,
    ahead: deque[tuple[Block, Future[ParsedEvents | Doubtful] | None]],
    pool: ThreadPoolExecutor,
    clean: bool,
    n_weights: int | None,
) -> Iterator[tuple[Block, Future[ParsedEvents | Doubtful] | None]]:
    """The blocks in order, each with its parse started a few blocks earlier (None: the first
    block of a file whose header HepMC3 would speak about goes to pyhepmc)."""
    for index, block in enumerate(blocks):
        parse = clean or index > 0
        ahead.append((block, pool.submit(_parse_block, block, n_weights) if parse else None))
        if len(ahead) > _PARSE_AHEAD:
            yield ahead.popleft()
    while ahead:
        yield ahead.popleft()


def _parse_block(block: Block, n_weights: int | None) -> ParsedEvents | Doubtful:
    """The columnar parser on one block, in a parsing thread, and the block's checks (those
    that need no state of the reader); doubts are returned."""
    try:
        parsed = parse_events(block.data, block.stop, n_weights)
    except Doubtful as why:
        return why
    alone = Pending()
    alone.add_parsed(parsed, 0)
    parsed.checked = not Flat(alone).problems(cross_sections=False)  # the main thread is spared
    return parsed


def read_hepmc(
    path: str | os.PathLike[str],
    chunk_size: int = 1000,
    skip_bad: bool = False,
    byte_range: tuple[int, int] | None = None,
    parser: str = "columnar",
) -> Iterator[ak.Array]:
    """Chunks of ``chunk_size`` events from a HepMC3 ASCII file (or from the ``byte_range`` of
    it); see :class:`HepMCReader`.

    A missing file or one in another format raises here, not at the first chunk.
    """
    reader = HepMCReader(
        path, chunk_size=chunk_size, skip_bad=skip_bad, byte_range=byte_range, parser=parser
    )
    sniff(reader.path)
    return iter(reader)


def _fix(reason: str) -> str:
    """What to do about a bad event."""
    if "cross-section" in reason:
        return (
            "Repair or regenerate the file, or give the cross-section with --xsec (the file's "
            "is then ignored)"
        )
    return "Repair or regenerate the file"


def _reason(ok: bool, exception: str, said: str) -> str | None:
    if ok and not said and not exception:
        return None
    what = "HepMC3 could not parse it" if not ok else "HepMC3 complained while parsing it"
    detail = "; ".join(x for x in (exception, _summarise(said)) if x)
    return f"{what}: {detail}" if detail else what


_PREFIX = re.compile(r"^(ERROR|WARNING|DEBUG\(\d+\))::\s*")
_COUNT = re.compile(r"^(\d+)\s+vs\s+(\d+) expected$")


def _summarise(said: str) -> str:
    """HepMC3's printed lines as one readable clause: prefixes off, noise out, counts merged."""
    parts: list[str] = []
    lines = [" ".join(line.split()) for line in said.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        text = _PREFIX.sub("", line)
        count = _COUNT.match(text)
        if count and parts:
            parts[-1] += f" (read {count[1]}, the event line says {count[2]})"
        elif text.startswith("Parsing failed at line"):
            if i + 1 < len(lines):
                parts.append(f"the failing line is {lines[i + 1][:80]!r}")
        elif "Returning empty event" in text or (i and lines[i - 1].endswith("at line:")):
            continue
        else:
            parts.append(text.removeprefix("ReaderAscii: "))
    return "; ".join(parts)[:600]


def _cross_section_text_problem(data: Any) -> str | None:
    """Why the event's GenCrossSection attribute, as written, is unusable; None if it is fine.

    HepMC3 parses it with ``strchr`` from one space to the next: fewer than four fields (the
    cross-section, its error, accepted and attempted events) make it read past the text and
    crash the process, and text where a number belongs reads as 0 without a word.
    """
    text = next(
        (
            value
            for owner, name, value in zip(
                data.attribute_id, data.attribute_name, data.attribute_string, strict=True
            )
            if owner == 0 and name == "GenCrossSection"
        ),
        None,
    )
    if text is None:
        return None
    shown = repr(text if len(text) <= 60 else text[:57] + "...")
    fields = [field for field in text.split(" ") if field]  # HepMC3 splits at spaces only
    if len(fields) < 4:
        return (
            f"its cross-section attribute (A 0 GenCrossSection {shown}) has {len(fields)} "
            "field(s) where HepMC3 needs 4, separated by spaces: cross-section and error in pb, "
            "accepted and attempted events (e.g. '1.5 0.01 -1 -1')"
        )
    for field, what in zip(fields[:2], ("cross-section", "error"), strict=True):
        try:
            float(field)
        except ValueError:
            return (
                f"its cross-section attribute (A 0 GenCrossSection {shown}) has {field[:20]!r} "
                f"where the {what} in pb belongs: not a number"
            )
    return None


def _header_weight_names(event: Any) -> tuple[str, ...]:
    run_info = event.run_info
    return tuple(run_info.weight_names) if run_info is not None else ()


def _weight_names(event: Any, n: int) -> tuple[str, ...]:
    return _names_for(_header_weight_names(event), n)


def _names_for(names: tuple[str, ...], n: int) -> tuple[str, ...]:
    """The header's weight names if there is one for each of the ``n`` weights, else
    ``nominal`` (one weight) or ``w0, w1, ...``."""
    if len(names) == n:
        return names
    return ("nominal",) if n <= 1 else tuple(f"w{i}" for i in range(n))


class _Session:
    """The open file, its pyhepmc stream and the HepMC3 reader; can resume after a failure.

    Reads the bytes of ``span``: from its start (behind the replayed header if that is not the
    top of the file) up to its end.
    """

    def __init__(self, path: Path, header: Header, span: _Span) -> None:
        self.path = path
        self.header = header
        self.span = span
        self._start(span.begin, "cannot read from byte {offset}")

    def _start(self, offset: int, failure: str) -> None:
        prefix = b""
        if offset:
            if self.header.text is None:
                raise EventFileError(
                    f"{self.path}: {failure.format(offset=offset)}: the header before the "
                    "first event is too large to replay"
                )
            prefix = self.header.text
        handle = open_binary(self.path)
        if offset:
            handle.seek(offset)
        limit = None if self.span.end is None else self.span.end - offset
        self.source = Source(handle, prefix, limit)
        self.reads = 0  # events HepMC3 read from this source: the ordinal of the next
        self._stream = pyiostream(self.source, _STREAM_BUFFER)
        self.reader = ReaderAscii(self._stream)

    def resume(self, offset: int | None) -> bool:
        """Start a fresh reader at byte ``offset`` (an event line), behind the file's header;
        False if there is no event left."""
        self.close()
        if offset is None:
            return False
        self._start(offset, "cannot read on after a bad event")
        return True

    def close(self) -> None:
        self.reader.close()
        self.source.close()


class _MemorySession(_Session):
    """pyhepmc over a block of the file already in memory, the file's header replayed before
    it; ``error``: the stream broke after this block (messages say so)."""

    def __init__(
        self, path: Path, header: Header, span: _Span, data: bytes, error: BaseException | None
    ) -> None:
        self._data = data
        self._error = error
        super().__init__(path, header, span)

    def _start(self, offset: int, failure: str) -> None:
        self.source = Source(
            io.BytesIO(self._data[offset - self.span.begin :]), self.header.text or b""
        )
        self.source.error = self._error
        self.reads = 0
        self._stream = pyiostream(self.source, _STREAM_BUFFER)
        self.reader = ReaderAscii(self._stream)

    def resume(self, offset: int | None) -> bool:
        if offset is not None and self.span.end is not None and offset >= self.span.end:
            offset = None  # the next event is in the next block
        return super().resume(offset)
