"""Small file utilities shared by every writer: digests, output checks and atomic writes.

Every output goes through :func:`check_output` before the work that produces it starts, and
is written by :class:`AtomicFile` (or :func:`atomic_open` over it): the file appears whole
under its name at the end, or not at all. On Linux the file being written has no name until
then (``O_TMPFILE``), so even SIGKILL leaves nothing behind; elsewhere a hidden temporary file
beside the target is removed on any exception, SIGINT, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import secrets
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import IO, Any

from .errors import OutputError

log = logging.getLogger(__name__)

#: the suffixes a plot may have (matplotlib's Agg formats); no suffix means PNG
PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg")

#: errors of a write itself (not of the data being written): reported as an OutputError
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}

PathLike = str | os.PathLike[str]


def sha256_file(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    current = os.umask(0o022)  # the only portable way to read it is to set it
    os.umask(current)
    return current


# -- checks before the work ------------------------------------------------------------------
def check_output(
    path: PathLike | None,
    *,
    inputs: Iterable[PathLike | None] = (),
    field: str = "-o/--output",
    suffixes: Iterable[str] | None = None,
    folder: bool = False,
) -> None:
    """Refuse an output that cannot or must not be written, before any work is done.

    ``path`` None (no output) and ``-`` (stdout) pass. Refused: a suffix not in ``suffixes``;
    a folder where a file is wanted (or a file where ``folder`` is wanted); a device, pipe or
    socket (an atomic write would replace it); the same file as any of ``inputs`` (through
    symbolic or hard links), or a file inside an input folder; a place that is not writable or
    whose disk is full. Missing parent folders are fine when they can be created: they are
    made at write time, as ``-o out/results.json`` is the common case.
    """
    if path is None:
        return
    if str(path) == "-":
        if suffixes is not None:  # a typed file (a plot) has no stdout form
            raise OutputError(
                f"{field} -: this output is a file (a plot), which is not written to stdout; "
                "give a file name, e.g. plot.png"
            )
        return
    target = Path(path)
    if suffixes is not None:
        allowed = [s.lower() for s in suffixes]
        if target.suffix.lower() not in allowed:
            raise OutputError(
                f"{field} {target}: cannot write a file of type {target.suffix or '(none)'!r}; "
                f"give a name ending in one of {', '.join(s for s in allowed if s) or 'nothing'}"
            )
    if folder:
        if target.exists() and not target.is_dir():
            raise OutputError(
                f"{field} {target}: is a file, and a folder is wanted here; give a folder name"
            )
    elif target.is_dir():
        raise OutputError(
            f"{field} {target}: is a folder; give a file name, e.g. {target / 'out.json'}"
        )
    elif target.exists() and not target.is_file():
        raise OutputError(
            f"{field} {target}: is not a regular file (a device, pipe or socket), which an "
            "atomic write would replace; give a file name, or - for stdout where allowed"
        )
    for source in inputs:
        _refuse_input(target, source, field)
    _check_writable(target if folder and target.is_dir() else target.parent, target, field)


def check_outputs(
    outputs: Mapping[str, PathLike | None],
    *,
    inputs: Iterable[PathLike | None] = (),
    suffixes: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """:func:`check_output` of each output by its option name, and no file named twice."""
    inputs = list(inputs)
    seen: dict[Path, str] = {}
    for field, path in outputs.items():
        check_output(path, inputs=inputs, field=field, suffixes=(suffixes or {}).get(field))
        if path is None or str(path) == "-":
            continue
        where = _identity(Path(path))
        if where in seen:
            raise OutputError(
                f"{field} {path}: is the same file as {seen[where]}; give each output its own name"
            )
        seen[where] = f"{field} {path}"


def _identity(path: Path) -> Path:
    """The path with its folder's links resolved: equal for two names of one place."""
    return path.parent.resolve() / path.name if not path.is_symlink() else path.resolve()


def _refuse_input(target: Path, source: PathLike | None, field: str) -> None:
    if source is None or str(source) == "-":
        return
    source = Path(source)
    if not source.exists():
        return
    if source.is_dir():
        # a new file counts too: it would change the input (a bundle with an unlisted file)
        where = target.resolve() if target.exists() else _identity(target)
        if where.is_relative_to(source.resolve()):
            raise OutputError(
                f"{field} {target}: lies inside the input folder {source}, which writing it "
                "would change; give a file name outside that folder"
            )
        return
    if target.exists() and os.path.samefile(target, source):
        raise OutputError(
            f"{field} {target}: is the same file as the input {source}; writing it would "
            "destroy the input. Give another file name"
        )


def _check_writable(folder: Path, target: Path, field: str) -> None:
    """The nearest existing folder of ``folder`` must be a writable folder on a disk with room."""
    existing = Path(os.path.abspath(folder))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"{field} {target}: {existing} is a file, not a folder; give a path in a folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"{field} {target}: the folder {existing} is not writable (read-only or not yours); "
            "give a path in a folder you can write to"
        )
    with contextlib.suppress(OSError):  # no statvfs here: the write itself will tell
        disk = os.statvfs(existing)
        root = getattr(os, "geteuid", lambda: -1)() == 0  # root may use the reserved blocks
        full = disk.f_bfree == 0 or (disk.f_bavail == 0 and not root)
        if disk.f_blocks and full:
            raise OutputError(
                f"{field} {target}: the disk holding {existing} is full; free some space or "
                "give a path on another disk"
            )


# -- interrupts a library swallowed ---------------------------------------------------------
#: set by the command line's SIGINT handler; a library that catches the KeyboardInterrupt
#: (pyarrow calling back into awkward) may let the writer run on, so no file is committed
_interrupt_seen = threading.Event()


def note_interrupt() -> None:
    """Record that Ctrl-C reached the process: no atomic file is committed after it."""
    _interrupt_seen.set()


def forget_interrupts() -> None:
    """Start afresh (each command invocation)."""
    _interrupt_seen.clear()


def interrupt_seen() -> bool:
    return _interrupt_seen.is_set()


# -- atomic writes ---------------------------------------------------------------------------
class AtomicFile:
    """A file written beside ``path`` that replaces ``path`` only on :meth:`commit`.

    ``name`` is where to write (for libraries that want a file name): on Linux
    ``/proc/self/fd/N`` of an unnamed ``O_TMPFILE`` file, which vanishes with the process
    whatever ends it; elsewhere a hidden ``.NAME.XXXX.tmp`` removed by :meth:`discard`, by any
    exception, and by SIGTERM/SIGHUP through :func:`_remove_on_signal`. The file gets the
    permissions ``open()`` would give (0666 less the umask).
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._tmp: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_unnamed(self.path.parent)
            if fd is None:
                fd, name = tempfile.mkstemp(
                    prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
                )
                self._tmp = Path(name)
                _remove_on_signal(self._tmp)
                os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it private (0600)
        except OSError as err:
            raise _write_error(self.path, err) from None
        self.fd: int | None = fd

    @property
    def name(self) -> str:
        return str(self._tmp) if self._tmp is not None else f"/proc/self/fd/{self.fd}"

    def commit(self) -> None:
        """Flush to disk and put the file in place under its name."""
        if self.fd is None:
            raise OutputError(f"{self.path}: the file was already committed or discarded")
        if interrupt_seen():  # the writer ran on after a Ctrl-C someone swallowed
            self.discard()
            raise KeyboardInterrupt
        try:
            os.fsync(self.fd)
            if self._tmp is not None:
                os.replace(self._tmp, self.path)
            else:
                try:
                    _link_in_place(self.fd, self.path)
                except OSError as err:
                    if err.errno in _WRITE_ERRNOS:
                        raise
                    # /proc hidden or linkat refused: the work is done, so copy it out
                    log.debug(
                        "%s: linking the unnamed file failed (%s); copying it", self.path, err
                    )
                    _copy_in_place(self.fd, self.path)
        except OSError as err:
            self.discard()
            raise _write_error(self.path, err) from None
        os.close(self.fd)
        self.fd = None
        _forget(self._tmp)

    def discard(self) -> None:
        """Drop what was written; ``path`` stays as it was."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            _forget(self._tmp)


def _open_unnamed(folder: Path) -> int | None:
    """An unnamed file in ``folder`` (Linux ``O_TMPFILE``), or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_RDWR | os.O_CLOEXEC, 0o666)
    except OSError as err:
        # EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a file system without it
        if err.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None
        raise


def _link_in_place(fd: int, path: Path) -> None:
    """Give the unnamed file ``fd`` the name ``path``, replacing any file there."""
    # os.link without a dir fd calls link(2), which does not follow the /proc magic link
    # (EXDEV); with one it calls linkat(2) with AT_SYMLINK_FOLLOW, which needs no privilege
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            # nothing there yet: the whole file appears at once
            os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
            return
        except FileExistsError:
            pass
        # a name beside it, then rename over the old file (rename is atomic, link is not)
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        os.link(str(fd), tmp, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _copy_in_place(fd: int, path: Path) -> None:
    """Copy the unnamed file ``fd`` to a hidden file beside ``path``, then rename it over."""
    tmp_fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    _remove_on_signal(tmp)
    try:
        os.fchmod(tmp_fd, stat.S_IMODE(os.fstat(fd).st_mode))
        offset = 0
        while block := os.pread(fd, 1 << 20, offset):
            view = memoryview(block)
            while view:
                view = view[os.write(tmp_fd, view) :]
            offset += len(block)
        os.fsync(tmp_fd)
        os.close(tmp_fd)
        tmp_fd = -1
        os.replace(tmp, path)
    except BaseException:
        if tmp_fd >= 0:
            os.close(tmp_fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    finally:
        _forget(tmp)


def _write_error(path: Path, err: OSError) -> OutputError:
    code = errno.errorcode.get(err.errno or 0, "")
    return OutputError(
        f"{path}: cannot write: {err.strerror or err}{f' [{code}]' if code else ''}; nothing "
        "was written and any previous file is unchanged. Free some space, or give a path in "
        "a folder you can write to"
    )


#: the hidden temporary files alive in this process (only where O_TMPFILE is missing)
_LIVE: set[Path] = set()
_LIVE_LOCK = threading.Lock()
_HANDLED: set[int] = set()


def _remove_on_signal(tmp: Path) -> None:
    """Remove ``tmp`` if SIGTERM or SIGHUP ends the process (SIGINT raises, which cleans)."""
    with _LIVE_LOCK:
        _LIVE.add(tmp)
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach the main thread only, which installs the handler
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is None or number in _HANDLED:
            continue
        if signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, _clean_and_die)
            _HANDLED.add(number)


def _forget(tmp: Path | None) -> None:
    if tmp is not None:
        with _LIVE_LOCK:
            _LIVE.discard(tmp)


def _clean_and_die(number: int, frame: FrameType | None) -> None:
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            tmp.unlink()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)  # die of the signal, as without the handler


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a file that replaces ``path`` only if the block succeeds (see :class:`AtomicFile`).

    An interrupted or failing writer never leaves a half-written or hidden file behind; a
    failing write (disk full, read-only) raises :class:`~recast.errors.OutputError`.
    """
    target = AtomicFile(path)
    assert target.fd is not None
    try:
        with os.fdopen(target.fd, mode, closefd=False) as handle:
            yield handle
            handle.flush()
        target.commit()
    except OSError as err:
        target.discard()
        if err.errno not in _WRITE_ERRNOS:
            raise
        raise _write_error(target.path, err) from None
    except BaseException:
        target.discard()
        raise


def write_json(path: PathLike, document: Any) -> None:
    """Write JSON atomically, or to stdout when ``path`` is ``-``.

    A NaN or an infinity is refused (JSON has none: such a file is read by nothing but
    Python): the last guard behind the checks that should have stopped it earlier."""
    try:
        text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"
    except ValueError:
        raise OutputError(
            f"{path}: the document to write holds {_non_finite(document)}; JSON has no NaN or "
            "infinity, so nothing was written. An input let a meaningless number through: "
            "please report it with the command"
        ) from None
    if str(path) == "-":
        sys.stdout.write(text)
        return
    write_text(path, text)


def undefined_as_null(document: Any) -> Any:
    """The document with every NaN or infinity replaced by None (JSON null).

    For study reports, where NaN means "undefined here" (a pull in an empty bin, a p-value
    with no degrees of freedom); never for results, where it would hide a wrong number."""
    if isinstance(document, float):
        return document if math.isfinite(document) else None
    if isinstance(document, dict):
        return {key: undefined_as_null(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [undefined_as_null(value) for value in document]
    return document


def _non_finite(document: Any) -> str:
    """``nan at yields.SR.value``: the first non-finite number of a document, with its path."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return f"{node} at {where or '(document)'}"
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
    return "a non-finite number"


def write_text(path: PathLike, text: str) -> None:
    """Write ``text`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as handle:
        handle.write(text)


def write_bytes(path: PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)
