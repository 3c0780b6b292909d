"""The decompressed text of a HepMC3 file in blocks of whole events, read ahead in a thread.

A block starts at an event line (``E`` at the start of a line) and ends just before the next
block's, so each can be parsed alone; an event longer than the block size makes its block
longer. Decompression (zlib, bz2, lzma and zstd release the GIL) and the disk overlap with the
parsing of the previous block.
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

BLOCK_SIZE = 8 << 20
_AHEAD = 2  # blocks read ahead: bounded memory
_STEP = 1 << 20


@dataclass(frozen=True)
class Block:
    """Whole events: ``data`` starts at byte ``offset`` of the decompressed file."""

    offset: int
    data: bytes
    final: bool  # the last block of the span


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
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_AHEAD)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> None:
        """The reading thread: pieces of about a block into the queue, None at the end.

        Read in steps of 1 MB: a broken compressed stream loses only the step it breaks in.
        """
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
                        self._put(b"".join(gathered))
                        gathered, size = [], 0
        except Exception as exc:  # a broken compressed stream: served up to here, reported
            self.error = exc
        finally:
            if gathered:
                self._put(b"".join(gathered))
            self._put(None)

    def _put(self, item: bytes | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Block]:
        self._thread = threading.Thread(target=self._read, name="hepmc-blocks", daemon=True)
        self._thread.start()
        offset, carry = self.begin, b""
        while True:
            piece = self._queue.get()
            if piece is None:
                break
            data = carry + piece if carry else piece
            cut = data.rfind(b"\nE") + 1  # the last event line: it may go on in the next piece
            if cut <= 0:
                carry = data
                continue
            yield Block(offset, data[:cut], final=False)
            offset, carry = offset + cut, data[cut:]
        tail = carry.rstrip()
        if tail.endswith(FOOTER) and self.error is None:
            at = tail.rfind(b"\n" + FOOTER)
            if at >= 0 or tail == FOOTER:
                self.footer = True
                carry = carry[: at + 1] if at >= 0 else b""
        if carry.strip():
            yield Block(offset, carry if carry.endswith(b"\n") else carry + b"\n", final=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
