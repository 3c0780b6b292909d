"""The raw-text side of reading HepMC3 files: opening (compressed or not), recognising the
format, locating an event's line for error messages, and keeping HepMC3's printing off the
user's terminal.

HepMC3 parses; this module only looks at bytes where HepMC3 cannot help: before the first
event (which format is this?) and after a failure (which event and line was it, and where does
the next event start?), and for reading a file in parts, where the event line at or after a
byte offset is. The error path re-reads the file with a forward-only scan, so reading a good file
costs nothing here.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import logging
import lzma
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

import pyhepmc

from ..capture import Captured
from ..errors import EventFileError

log = logging.getLogger(__name__)

_MAGIC: dict[bytes, tuple[str, Callable[..., Any]]] = {
    b"\x1f\x8b": ("gzip", gzip.open),
    b"BZh": ("bzip2", bz2.open),
    b"\xfd7zXZ\x00": ("xz", lzma.open),
}
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_HEADER_LIMIT = 16 << 20  # bytes before the first event; a header this large is not HepMC3
FOOTER = b"HepMC::Asciiv3-END_EVENT_LISTING"


def compression(path: Path) -> str | None:
    """``gzip``, ``bzip2``, ``xz``, ``zstd`` by the file's first bytes (not its name), or None."""
    with open(path, "rb") as handle:
        start = handle.read(6)
    if start.startswith(_ZSTD_MAGIC):
        return "zstd"
    return next((name for magic, (name, _) in _MAGIC.items() if start.startswith(magic)), None)


def zstd_module() -> ModuleType | None:
    """Python's zstd (3.14's ``compression.zstd``, or the ``backports.zstd`` package), or None."""
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        except ImportError:
            return None
    return zstd  # type: ignore[no-any-return]


def open_binary(path: Path) -> IO[bytes]:
    """The file's decompressed bytes, whatever its name says."""
    kind = compression(path)
    if kind is None:
        return open(path, "rb", buffering=1 << 20)  # the caller closes it
    if kind == "zstd":
        zstd = zstd_module()
        if zstd is None:
            raise EventFileError(
                f"{path}: zstd-compressed; decompress it first (`zstd -d`) or "
                "`pip install backports.zstd`"
            )
        return zstd.open(path, "rb")  # type: ignore[no-any-return]
    opener = next(op for name, op in _MAGIC.values() if name == kind)
    return opener(path, "rb")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Header:
    """What precedes the first event: the writer's HepMC3 version and the header's bytes."""

    version: str | None
    text: bytes | None  # None when too large to keep; then a failed read cannot resume
    compression: str | None

    @property
    def data(self) -> str:
        """How messages name the byte stream: ``gzip data``, ``file data``."""
        return f"{self.compression or 'file'} data"


def sniff(path: Path) -> Header:
    """Check that ``path`` is a HepMC3 ASCII file; raise a clear EventFileError otherwise."""
    problem = not_an_event_file(path)
    if problem is not None:
        raise EventFileError(f"{path}: {problem}")
    kind = compression(path)
    lines: list[bytes] = []
    size, saw_event = 0, False
    try:
        with open_binary(path) as handle:
            while size <= _HEADER_LIMIT:
                raw = handle.readline(1 << 16)  # bounded: a binary file may have no newline
                saw_event = raw[:1] == b"E"
                if not raw or saw_event:
                    break
                lines.append(raw)
                size += len(raw)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise EventFileError(f"{path}: cannot read it ({kind or 'uncompressed'}): {exc}") from None
    text = b"".join(lines)
    if not text.strip() and not saw_event:
        after = f" after {kind} decompression" if kind else ""
        raise EventFileError(f"{path}: the file is empty (nothing but blank space{after})")
    if text.startswith(_BOM):
        raise EventFileError(
            f"{path}: starts with a UTF-8 byte-order mark (bytes EF BB BF, line 1), which "
            "HepMC3 cannot read: remove those 3 bytes (e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' "
            "FILE`) or save the file without BOM"
        )
    start = text.lstrip()[:4096]
    if b"HepMC::Asciiv3" in start:
        version = next(
            (ln.split()[1].decode() for ln in lines if ln.startswith(b"HepMC::Version ")), None
        )
        return Header(version, text if size <= _HEADER_LIMIT else None, kind)
    raise EventFileError(f"{path}: {_what_else(start)}")


_BOM = b"\xef\xbb\xbf"
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_an_event_file(path: Path) -> str | None:
    """Why ``path`` cannot be an event file, found without reading from anything but a
    regular file (a pipe or device could block or never end); None if it may be one."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:  # a loop of links, a path through a file...
        return f"cannot reach it ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not an event file"
    if not stat.S_ISREG(info.st_mode):
        what = next((name for test, name in _SPECIAL if test(info.st_mode)), "a special file")
        return f"is not a regular file but {what}: give an event file (save the stream first)"
    if info.st_size == 0:
        try:
            with open(path, "rb") as handle:
                has_bytes = bool(handle.read(1))  # a regular file: cannot block
        except OSError:
            has_bytes = False
        if has_bytes:
            return (
                "reports a size of 0 bytes yet has contents: a special file (e.g. under /proc), "
                "not an event file"
            )
        return "the file is empty (0 bytes)"
    return None


def _what_else(start: bytes) -> str:
    """Name the format a non-HepMC3 file seems to be in, and what to do about it."""
    if b"<LesHouchesEvents" in start or b"<LesHouches" in start:
        return (
            "a Les Houches Event (LHE) file, not HepMC3: recast needs showered, hadronised "
            "events; give it a parton shower: Pythia8 in process (recast.events.lhe, or an "
            "'lhe' point of `recast scan --points`; see docs/generating.md)"
        )
    if b"HepMC::IO_GenEvent" in start or b"HepMC::Version 2" in start:
        return (
            "a HepMC2 (IO_GenEvent) file; recast reads HepMC3 ASCII. Convert it, e.g. read it "
            "with pyhepmc.open(path) and write each event with pyhepmc.open(out, 'w')"
        )
    if start.startswith(b"root"):
        return "a ROOT file; recast reads HepMC3 ASCII files (header 'HepMC::Asciiv3')"
    first = start.split(b"\n", 1)[0][:60]
    return (
        f"not a HepMC3 ASCII file: it starts with {first!r} where HepMC3 writes "
        "'HepMC::Version 3...' and 'HepMC::Asciiv3-START_EVENT_LISTING'"
    )


class Source(io.RawIOBase):
    """The byte stream HepMC3 reads through pyhepmc: ``prefix`` then ``handle``.

    With ``limit``, at most that many bytes of ``handle`` are served (a byte range of the file
    ends there). Remembers the last bytes served (did the file end with the end-of-listing
    line?) and turns a decompression error into end-of-data plus :attr:`error`, since an
    exception cannot travel back through the C++ reader.
    """

    def __init__(self, handle: IO[bytes], prefix: bytes = b"", limit: int | None = None) -> None:
        super().__init__()
        self._parts: list[Any] = [io.BytesIO(prefix), handle] if prefix else [handle]
        self._handle = handle
        self._left = limit  # bytes of handle still to serve; None: up to its end
        self._tail = b""
        self._held = b""  # read, not yet served: the start of a line
        self.links = LinkGuard()
        self.error: BaseException | None = None
        self.interrupted: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Serve the next bytes, whole lines only (but for a line longer than ``buffer``),
        each block checked by :attr:`links` before HepMC3 sees it.

        Ctrl-C while HepMC3 waits here would reach HepMC3 as a broken stream and read as a
        corrupt event: it is kept in :attr:`interrupted` (the reader raises it again) and the
        stream ends."""
        try:
            return self._serve(buffer)
        except (KeyboardInterrupt, SystemExit) as exc:
            self.interrupted = exc
            self._parts.clear()
            return 0

    def _serve(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        held = len(self._held)
        if held >= len(view):  # a line longer than the buffer: served unchecked
            view[:] = self._held[: len(view)]
            self._held = self._held[len(view) :]
            return len(view)
        view[:held] = self._held
        got = self._read(view[held:])
        n = held + got
        end = n
        if got:  # not the end of the data: hold back the last, maybe incomplete, line
            cut = bytes(view[:n]).rfind(b"\n") + 1
            end = cut or n
        self._held = bytes(view[end:n])
        if end:
            self.links.scan(view[:end])
        return end

    def _read(self, buffer: Any) -> int:
        while self._parts:
            part = self._parts[0]
            view = memoryview(buffer).cast("B")
            left = self._left if part is self._handle else None  # None: no limit
            if left is not None:
                view = view[:left]
            try:
                n = part.readinto(view) if len(view) else 0
            except Exception as exc:  # reported after the loop
                self.error = exc
                self._parts.clear()
                return 0
            if n:
                self._tail = (self._tail + bytes(view[max(0, n - 128) : n]))[-128:]
                if left is not None:
                    self._left = left - n
                return int(n)
            self._parts.pop(0)
        return 0

    @property
    def exhausted(self) -> bool:
        """Every byte this source was to serve has been served."""
        return not self._held and (not self._parts or self._left == 0)

    def at_footer(self) -> bool:
        return self._tail.rstrip().endswith(FOOTER)

    def close(self) -> None:
        self._handle.close()
        super().close()


# a newline first, not ^ with re.M: six times faster (a literal the engine searches for)
_EVENT_OR_VERTEX = re.compile(rb"\n(?:E \S+ \S+ (\d+)|V [^\[\n]*\[([^\]\n]*)\]|(W)[ \r\n])")


class LinkGuard:
    """Refuse, before HepMC3 parses them, ``V`` lines naming a particle beyond the event's.

    HepMC3 keeps an incoming particle that is not read yet for the end of the event, then
    takes it by its id from the event's particles without a bounds check: an id beyond the
    event's count crashes the process (segmentation fault). The guard sees every block of
    whole lines before HepMC3 does, keeps the particle count of the current ``E`` line, and
    overwrites such an id with zeros (an id HepMC3 ignores), noting the event in
    :attr:`problems` by its ordinal among the events served, for the reader to report as bad.

    It also notes the events without ``W`` line: HepMC3 gives such an event weight 1 for each
    name in the header (but none to the first event), so a missing line cannot be told from
    the parsed event. A regular-expression pass over the text: about 1 ms per MB.
    """

    def __init__(self) -> None:
        self.events = -1  # ordinal of the current event
        self._count: int | None = None
        self._limit, self._digits = b"", 10**9  # no event yet: nothing to check
        self._weighted = False  # the current event has a W line
        self._unweighted: set[int] = set()
        self.problems: dict[int, str] = {}

    def without_weights(self, event: int) -> bool:
        """Event ``event`` (its ordinal; one read in full) has no ``W`` line; asked once."""
        if event == self.events:
            return not self._weighted
        if event in self._unweighted:
            self._unweighted.discard(event)
            return True
        return False

    def scan(self, block: memoryview) -> None:
        """Check a block of whole lines (it starts at a line start), fixing it in place."""
        for match in _EVENT_OR_VERTEX.finditer(b"\n" + bytes(block)):
            count, ids, weight = match.groups()
            if ids is not None:
                if len(ids) >= self._digits and self._beyond(ids):  # else: no id that long
                    self._blank(block, match)
            elif weight is not None:
                self._weighted = True
            else:
                if self.events >= 0 and not self._weighted:
                    self._unweighted.add(self.events)
                self.events += 1
                self._count, self._weighted = int(count), False
                self._limit, self._digits = str(self._count).encode(), len(str(self._count))

    def _beyond(self, ids: bytes) -> bool:
        """Does the list name a particle beyond the count? Compares digits as text: cheap."""
        digits, limit = self._digits, self._limit
        for field in ids.split(b","):
            if len(field) >= digits:
                value = field.strip().lstrip(b"0")
                if value.isdigit() and (
                    len(value) > digits or (len(value) == digits and value > limit)
                ):
                    return True
        return False

    def _blank(self, block: memoryview, match: re.Match[bytes]) -> None:
        """Overwrite the ids beyond the count with zeros; note the event's problem."""
        start = match.start(2) - 1  # in block: the newline put before the text
        for field in match.group(2).split(b","):
            stripped = field.strip()
            if stripped.isdigit() and int(stripped) > (self._count or 0):
                at = start + field.index(stripped)
                block[at : at + len(stripped)] = b"0" * len(stripped)
                line = match.group(0)[1:].decode(errors="replace")
                self.problems.setdefault(
                    self.events,
                    f"its vertex line {line[:60]!r} names particle {int(stripped)}, but the "
                    f"event line declares {self._count} particles",
                )
            start += len(field) + 1


class Locator:
    """Find the n-th event's ``E`` line in the raw text: its event number, line and offset.

    Forward-only, so the bad events of one pass cost one extra read of the file in total.
    HepMC3 starts an event at every line beginning with ``E``; so does this count. For a byte
    range of a file, indices count from the range's first event (at byte ``begin``, an event
    line or 0) and no event at or after byte ``end`` is found; :meth:`index` and the line
    numbers of :meth:`where` are the file's own, found by counting the bytes before ``begin``
    on the first call (the error path only).
    """

    def __init__(self, path: Path, begin: int = 0, end: int | None = None) -> None:
        self.path = path
        self.begin = begin
        self.end = end  # None: the end of the file
        self._handle: IO[bytes] | None = None
        self._before: tuple[int, int] | None = None  # events, lines before begin
        self._index = -1
        self._line = 0
        self._offset = 0
        self._last: tuple[int, int | None, int, int] | None = None  # index, number, line, offset
        self.footer = False  # the end-of-listing line was passed

    def _counts_before(self) -> tuple[int, int]:
        """(events, lines) of the file before byte ``begin``."""
        if self._before is None:
            self._before = (0, 0)
            if self.begin:
                with open(self.path, "rb") as handle:
                    self._before = count_before(handle, self.begin)
        return self._before

    def index(self, position: int) -> int:
        """The file's 0-based index of the range's ``position``-th event."""
        return position + self._counts_before()[0] if self.begin else position

    def _find(self, index: int) -> tuple[int, int | None, int, int] | None:
        if self._last is not None and self._last[0] == index:
            return self._last
        if index < self._index:
            self.close()
        if self._handle is None:
            self._handle = open_binary(self.path)
            if self.begin:
                self._handle.seek(self.begin)
            self._index, self._line, self._last = -1, self._counts_before()[1], None
            self._offset = self.begin
            self.footer = False
        while self._index < index:
            if self.end is not None and self._offset >= self.end:
                return None
            try:
                raw = self._handle.readline()
            except (OSError, EOFError, lzma.LZMAError):
                return None
            if not raw:
                return None
            self._line += 1
            self.footer = self.footer or raw.startswith(FOOTER)
            if raw[:1] == b"E":
                self._index += 1
                self._last = (self._index, _event_number(raw), self._line, self._offset)
            self._offset += len(raw)
        return self._last

    def where(self, index: int) -> tuple[int | None, int | None]:
        """(event number, line number) of the index-th event, or Nones if not found."""
        found = self._find(index)
        return (found[1], found[2]) if found else (None, None)

    def offset(self, index: int) -> int | None:
        """Byte offset (in the decompressed text) of the index-th event's line, or None."""
        found = self._find(index)
        return found[3] if found else None

    def next_event_offset(self, index: int) -> int | None:
        """Byte offset of the event after the index-th, or None if there is none."""
        found = self._find(index + 1)
        return found[3] if found else None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


_EVENT_LINE = b"\nE "
_SCAN_BLOCK = 1 << 16


def find_event_line(handle: IO[bytes], offset: int) -> int | None:
    """Byte offset of the first event line (``E `` at the start of a line) at or after
    ``offset`` in a seekable, uncompressed file; None if there is none.

    Reads forward from ``offset - 1`` in small blocks, so it costs about one event's text: an
    ``offset`` that is itself the start of an event line is returned as it is.
    """
    if offset <= 0:
        handle.seek(0)
        if handle.read(2) == b"E ":
            return 0
        offset = 1
    handle.seek(offset - 1)
    base, carry = offset - 1, b""  # base: the file offset of data[0]
    while True:
        block = handle.read(_SCAN_BLOCK)
        if not block:
            return None
        data = carry + block
        found = data.find(_EVENT_LINE)
        if found >= 0:
            return base + found + 1
        keep = len(_EVENT_LINE) - 1
        base += len(data) - keep
        carry = data[-keep:]


def count_before(handle: IO[bytes], offset: int) -> tuple[int, int]:
    """(event lines, lines) that start before byte ``offset`` (a line start) of a plain file.

    Counts lines beginning with ``E`` as :class:`Locator` does; a byte scan, no parsing.
    """
    handle.seek(0)
    events = lines = 0
    left, previous = offset, b"\n"
    while left > 0:
        block = handle.read(min(left, 1 << 20))
        if not block:
            break
        left -= len(block)
        lines += block.count(b"\n")
        events += block.count(b"\nE") + (previous == b"\n" and block[:1] == b"E")
        previous = block[-1:]
    return events, lines


def weight_line(path: Path, offset: int) -> str | None:
    """The ``W`` line of the event whose line starts at byte ``offset`` of the decompressed
    text, or None (error path: a compressed file is decompressed up to there)."""
    with open_binary(path) as handle:
        handle.seek(offset)
        handle.readline(1 << 16)  # the event line itself
        for _ in range(64):  # W follows E and U in what HepMC3 writes
            raw = handle.readline(1 << 16)
            if not raw or raw[:1] in (b"E", b"P", b"V"):
                return None
            if raw[:1] == b"W":
                return raw.decode(errors="replace").strip()
    return None


def first_event_fingerprint(path: Path) -> str | None:
    """``NUMBER:SHA256`` of the first event: its event number and the hash of its particle
    (``P``) lines, whitespace normalised, in the decompressed text; None if none is found.

    Reads the header and one event, so it costs next to nothing; the same events compressed,
    cached or cut to fewer events begin with the same fingerprint.
    """
    digest, number, inside, particles = hashlib.sha256(), None, False, 0
    try:
        with open_binary(path) as handle:
            size = 0
            while size <= _HEADER_LIMIT or inside:
                raw = handle.readline(1 << 20)
                size += len(raw)
                if not raw or (inside and raw.startswith(b"HepMC::")):
                    break
                if raw[:1] == b"E":
                    if inside:
                        break
                    inside, number = True, _event_number(raw)
                elif inside and raw[:1] == b"P":
                    digest.update(b" ".join(raw.split()) + b"\n")
                    particles += 1
    except (OSError, EOFError, lzma.LZMAError, EventFileError):
        return None  # reading it says what is wrong, with its own message
    return f"{number}:{digest.hexdigest()}" if particles else None


def event_number_at(path: Path, offset: int) -> int | None:
    """The event number on the event line starting at byte ``offset`` of a plain file."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return _event_number(handle.readline(1 << 16))


def _event_number(line: bytes) -> int | None:
    fields = line.split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


class NativeOutput(Captured):
    """Capture what HepMC3 prints to file descriptors 1 and 2 while active.

    HepMC3 reports parse problems by printing (``ERROR::...``, ``WARNING::...``) and returning
    an empty event; this collects the text so the reader can attach it to the event concerned
    and log it, instead of letting it reach the terminal unexplained (see
    :class:`recast.capture.Captured`). :meth:`take` returns the text printed since its last call.
    """

    def __init__(self) -> None:
        super().__init__((1, 2))
        self._setup: tuple[bool, bool, int] = (True, True, 5)

    def __enter__(self) -> NativeOutput:
        super().__enter__()
        if self.active:
            # a user may have silenced HepMC3, or made it chatty: while captured, its complaints
            # are evidence against the event being read, and only its complaints
            setup = pyhepmc.Setup
            self._setup = (setup.print_errors, setup.print_warnings, setup.debug_level)
            setup.print_errors = setup.print_warnings = True
            setup.debug_level = 1  # keeps "Parsing failed at line: ..." (a level-1 message)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.active:
            errors, warnings, debug = self._setup
            pyhepmc.Setup.print_errors = errors
            pyhepmc.Setup.print_warnings = warnings
            pyhepmc.Setup.debug_level = debug
        super().__exit__(kind, err, tb)
