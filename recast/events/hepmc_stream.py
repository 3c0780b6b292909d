"""The decompressed text of a HepMC3 file in blocks of whole events, read ahead in a thread.

A block starts at an event line (``E`` at the start of a line) and ends just before the next
block's, so each can be parsed alone; an event longer than the block size makes its block
longer. The thread reads, decompresses (zlib, bz2, lzma and zstd release the GIL) and cuts the
blocks while the caller parses the previous one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .hepmc_text import FOOTER, open_binary

log = logging.getLogger(__name__)

BLOCK_SIZE = 4 << 20
_AHEAD = 1  # blocks read ahead (more wait in the parsing threads): bounded memory
_STEP = 1 << 20  # a broken compressed stream loses only the step it breaks in


@dataclass(frozen=True)
class Block:
    """Whole events: ``data[:stop]``, which starts at byte ``offset`` of the decompressed
    text (``data`` may go on: the start of the next block, not copied apart)."""

    offset: int
    data: bytes
    stop: int
    final: bool  # the last block of the span

    @property
    def text(self) -> memoryview:
        return memoryview(self.data)[: self.stop]


class EventBlocks:
    """Iterate over the blocks of events in bytes ``[begin, end)`` of the decompressed text of
    ``path`` (``end`` None: to the end). ``begin`` must be an event line.

    After iteration: ``error`` (the exception that broke the stream, e.g. a corrupt gzip
    member; the blocks before it are served), ``footer`` (the text ended with the
    end-of-listing line, which no block holds) and ``exhausted`` (every byte was served).
    """

    def __init__(
        self, path: Path, begin: int, end: int | None, block_size: int | None = None
    ) -> None:
        self.path = path
        self.begin = begin
        self.end = end
        self.block_size = block_size or BLOCK_SIZE
        self.error: BaseException | None = None
        self.footer = False
        self.exhausted = False
        self._queue: queue.Queue[Block | None] = queue.Queue(maxsize=_AHEAD)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Block]:
        self._thread = threading.Thread(target=self._read, name="hepmc-blocks", daemon=True)
        self._thread.start()
        while (block := self._queue.get()) is not None:
            yield block

    def _read(self) -> None:
        """The reading thread: blocks into the queue, then None."""
        offset, carry = self.begin, b""
        try:
            for piece in self._pieces():
                data = carry + piece if carry else piece
                cut = data.rfind(b"\nE") + 1  # the last event line: it may go on
                if cut <= 0:
                    carry = data
                    continue
                self._put(Block(offset, data, cut, final=False))
                offset, carry = offset + cut, data[cut:]
            tail = carry.rstrip()
            if tail.endswith(FOOTER) and self.error is None:
                at = tail.rfind(b"\n" + FOOTER)
                self.footer = True
                carry = carry[: at + 1] if at >= 0 else b""
            if carry.strip():
                data = carry if carry.endswith(b"\n") else carry + b"\n"
                self._put(Block(offset, data, len(data), final=True))
        except Exception as exc:  # e.g. out of memory: the read ends there, and says so
            self.error = self.error or exc
        finally:
            self._put(None)

    def _pieces(self) -> Iterator[bytes]:
        """About a block of bytes at a time, until the end (or a broken stream)."""
        gathered: list[bytes] = []
        size = 0
        try:
            with open_binary(self.path) as handle:
                if self.begin:
                    handle.seek(self.begin)
                left = None if self.end is None else self.end - self.begin
                while not self._stop.is_set():
                    step = _STEP if left is None else min(_STEP, left)
                    piece = handle.read(step) if step else b""
                    if not piece:
                        self.exhausted = True
                        break
                    if left is not None:
                        left -= len(piece)
                    gathered.append(piece)
                    size += len(piece)
                    if size >= self.block_size:
                        yield b"".join(gathered)
                        gathered, size = [], 0
        except Exception as exc:  # a broken compressed stream: served up to here, reported
            self.error = exc
        if gathered:
            yield b"".join(gathered)

    def _put(self, item: Block | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
