"""What compiled libraries print (HepMC3, Pythia8, FastJet), captured or sent elsewhere.

C++ code writes to file descriptors 1 and 2 directly (``std::cout``, ``printf``), past Python's
``sys.stdout``; only redirecting the descriptors themselves catches it. :class:`Captured` keeps
such output in a temporary file for the caller to read (parse errors to attach to an event,
messages to log); :func:`redirected` points one descriptor at another (a banner to stderr, so
that stdout can carry a JSON result). Both flush Python's and C's buffers on the way in, so
nothing written before lands after, and C's on the way out; both leave the descriptors alone
when they cannot be duplicated (a daemon without them): the output then goes where it would.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO, Any

log = logging.getLogger(__name__)


def _libc_fflush() -> Any:
    try:
        return ctypes.CDLL(None).fflush
    except (OSError, AttributeError, TypeError):  # not a POSIX libc (e.g. Windows)
        return None


_FFLUSH = _libc_fflush()


def flush_native() -> None:
    """Empty Python's and C stdio's output buffers (``std::cout`` writes through stdio)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # None, or closed
            stream.flush()
    _flush_c()


def _flush_c() -> None:
    """C stdio's buffers only: what Python buffered meanwhile is not the library's output."""
    if _FFLUSH is not None:
        _FFLUSH(None)


def _duplicates(descriptors: tuple[int, ...]) -> tuple[int, ...] | None:
    """Copies of ``descriptors`` to restore them from, or None when one cannot be copied."""
    saved: list[int] = []
    try:
        for fd in descriptors:
            saved.append(os.dup(fd))
    except OSError:
        for fd in saved:
            os.close(fd)
        return None
    return tuple(saved)


def _restore(descriptors: tuple[int, ...], saved: tuple[int, ...]) -> None:
    for target, copy in zip(descriptors, saved, strict=True):
        os.dup2(copy, target)
        os.close(copy)


@contextlib.contextmanager
def redirected(source: int, target: int) -> Iterator[None]:
    """While active, what is written to descriptor ``source`` goes where ``target`` goes."""
    flush_native()
    saved = _duplicates((source,))
    if saved is None:
        yield
        return
    try:
        os.dup2(target, source)
        yield
    finally:
        _flush_c()
        _restore((source,), saved)


class Captured:
    """Capture what is written to ``descriptors`` (default 1 and 2) while active.

    Python's own output in the meantime is captured too, so nothing may log while a capture is
    active. :meth:`take` returns the text written since its last call; on leaving, the rest is in
    :attr:`leftover` and the temporary file is gone (or emptied, when the caller gave it).
    :attr:`active` says whether anything is being captured at all.
    """

    def __init__(
        self, descriptors: tuple[int, ...] = (1, 2), file: IO[bytes] | None = None
    ) -> None:
        self.descriptors = descriptors
        self.leftover = ""
        #: a caller's temporary file, emptied (not closed) on leaving: captures once per event
        #: then cost no file creation
        self._given = file
        self._file: IO[bytes] | None = None
        self._saved: tuple[int, ...] | None = None
        self._position = 0

    @property
    def active(self) -> bool:
        return self._file is not None

    def __enter__(self) -> Captured:
        flush_native()
        saved = _duplicates(self.descriptors)
        if saved is None:
            return self
        self._file = self._given or tempfile.TemporaryFile()
        self._saved = saved
        self._position = 0
        for fd in self.descriptors:
            os.dup2(self._file.fileno(), fd)
        return self

    def take(self) -> str:
        """The text written since the last call (empty when nothing is captured)."""
        if self._file is None:
            return ""
        fd = self._file.fileno()
        if os.fstat(fd).st_size == self._position:
            return ""  # the cheap answer first: this may run once per event
        _flush_c()
        size = os.fstat(fd).st_size
        text = _read(fd, self._position, size - self._position)
        self._position = size
        return text.decode(errors="replace")

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is None or self._saved is None:
            return
        _flush_c()
        _restore(self.descriptors, self._saved)
        self._saved = None
        with contextlib.suppress(OSError):
            self.leftover = self.take()
        if self._given is None:
            self._file.close()
        else:
            self._file.seek(0)
            self._file.truncate()
        self._file = None


def _read(fd: int, position: int, size: int) -> bytes:
    if hasattr(os, "pread"):  # leaves the offset the captured descriptors share alone
        return os.pread(fd, size, position)
    os.lseek(fd, position, os.SEEK_SET)  # reading to the end puts the offset back there
    return os.read(fd, size)


__all__ = ["Captured", "flush_native", "redirected"]
