"""Generate events in process with Pythia8 and yield them as chunks, with no file in between.

Example::

    from recast.events.pythia import generate, pythia_settings
    from recast.events.slha import write_gluino_slha

    write_gluino_slha("gtt.slha", m_gluino=1200, m_lsp=100)
    for chunk in generate("gtt.slha", n_events=100, seed=1):
        print(len(chunk), chunk.cross_section[-1], "pb")

The chunks follow :mod:`recast.events.chunk`. Particle *k* of an event is Pythia's
``event[k + 1]`` (entry 0, the "system" pseudo-particle, is dropped); statuses and vertices are
those Pythia's own HepMC3 interface would write (see :mod:`recast.events.pythia_record`).
The cross-section of each event is Pythia's running estimate ``sigmaGen()`` after that event,
converted from mb to pb. Pythia's console output is captured and sent to this module's logger
at DEBUG level.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import awkward as ak
import numpy as np

from ..capture import Captured
from ..errors import GenerationError, MissingDependencyError, UsageError
from .chunk import make_chunk
from .pythia_record import COLUMNS, build_vertices, hepmc_status, unpack_batch
from .seeds import MAX_SEED

log = logging.getLogger(__name__)

GLUINO_PAIR = ("SUSY:gg2gluinogluino = on", "SUSY:qqbar2gluinogluino = on")
MB_TO_PB = 1e9
# settings recast owns: the seed comes from the argument
_OWNED = ("random:seed", "random:setseed")
# no listings; unlike Print:quiet these keep Pythia's error messages, which go into ours
_QUIET = (
    "Init:showProcesses = off",
    "Init:showChangedSettings = off",
    "Init:showChangedParticleData = off",
    "Next:numberCount = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowEvent = 0",
)

Setup = str | os.PathLike[str] | Sequence[str]


def pythia_settings(
    slha: str | os.PathLike[str], *, process: Sequence[str] = GLUINO_PAIR, e_cm: float = 13000.0
) -> list[str]:
    """Pythia settings for a SUSY point: beams at ``e_cm`` GeV, ``process``, the SLHA file."""
    return [f"Beams:eCM = {e_cm:g}", *process, f"SLHA:file = {Path(slha)}"]


def _pythia() -> Any:
    try:
        import pythia8mc
    except ImportError as err:  # pragma: no cover - the [gen] extra is installed in CI
        raise MissingDependencyError("pythia8mc", "gen", "Generating events") from err
    return pythia8mc


@contextlib.contextmanager
def _console(file: IO[bytes]) -> Iterator[list[str]]:
    """What Pythia prints (C++ std::cout, file descriptor 1) while active, as non-blank lines.

    Pythia has no switch that silences everything (SLHA parsing, errors); capturing the
    descriptor keeps the user's terminal clean and lets errors go into exception messages. The
    lines are filled on leaving and logged at DEBUG; ``file`` is the generator's scratch file.
    """
    lines: list[str] = []
    captured = Captured((1,), file)
    try:
        with captured:
            yield lines
    finally:
        lines.extend(line for line in captured.leftover.splitlines() if line.strip())
        for line in lines:
            log.debug("pythia: %s", line)


def _problems(lines: list[str]) -> str:
    """Pythia's own error lines (and SLHA warnings, often the cause), for an exception."""
    bad = [
        ln.strip(" |*")
        for ln in lines
        if "Error" in ln or "Abort" in ln or ("Warning" in ln and "SLHA" in ln)
    ]
    return (" Pythia said: " + " / ".join(bad[-6:]) + ".") if bad else ""


def _check_slha(path: str) -> None:
    from .slha import check_slha, has_mass_block

    file = Path(path)
    if not file.is_file():
        raise GenerationError(f"{path}: SLHA file not found (setting SLHA:file)")
    try:
        text = file.read_text(errors="replace")
    except OSError as err:
        raise GenerationError(f"{path}: cannot read the SLHA file: {err}") from err
    if not has_mass_block(text):
        raise GenerationError(
            f"{path}: not an SLHA spectrum (no 'BLOCK MASS'); write one with "
            "recast.events.slha.write_gluino_slha"
        )
    check_slha(text, path)  # a NaN mass would be replaced by Pythia's default without a word


def _readable(line: str, stack: contextlib.ExitStack) -> str:
    """The setting as Pythia can read it: Pythia's SLHA:file stops at the first blank, so a
    path with blanks is read from a copy that lives until ``stack`` closes (after init)."""
    name, _, value = line.partition("=")
    if name.strip().lower() != "slha:file" or not any(c.isspace() for c in value.strip()):
        return line
    copy = _unnamed_copy(Path(value.strip()), stack)
    if copy is None:  # no O_TMPFILE: a named copy, which a SIGKILL would leave behind
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recast-slha-")))
        copy = str(folder / "spectrum.slha")
        shutil.copyfile(value.strip(), copy)
    return f"SLHA:file = {copy}"


def _unnamed_copy(path: Path, stack: contextlib.ExitStack) -> str | None:
    """A copy of ``path`` in an unnamed file (Linux O_TMPFILE), named ``/proc/self/fd/N``:
    it vanishes with the process, whatever signal ends it. None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = os.open(tempfile.gettempdir(), flag | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    stack.callback(os.close, fd)
    view = memoryview(path.read_bytes())
    while view:
        view = view[os.write(fd, view) :]
    return f"/proc/self/fd/{fd}"


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise UsageError(f"seed must be an integer, not {seed!r}")
    if not 1 <= seed <= MAX_SEED:
        raise UsageError(f"seed {seed} is out of Pythia's range 1..{MAX_SEED}")


def _check_counts(n_events: object, chunk_size: object) -> None:
    for name, value, least in (("n_events", n_events, 0), ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise UsageError(f"{name} must be an integer >= {least}, not {value!r}")


def _resolve(setup: Setup) -> list[str]:
    if isinstance(setup, str | os.PathLike):
        settings = pythia_settings(setup)
    elif isinstance(setup, Sequence) and all(isinstance(s, str) for s in setup):
        settings = list(setup)
    else:
        raise UsageError(f"setup must be an SLHA path or a list of Pythia settings, not {setup!r}")
    for line in settings:
        name, _, value = line.partition("=")
        if name.strip().lower() in _OWNED:
            raise UsageError(f"setting {line!r}: pass the seed as the `seed` argument instead")
        if name.strip().lower() == "slha:file":
            _check_slha(value.strip())
    return settings


class PythiaGenerator:
    """An initialised Pythia8 that yields chunks of events; one instance, one seeded run.

    ``setup`` is an SLHA path (gluino pair production at 13 TeV, see :func:`pythia_settings`)
    or a list of Pythia setting strings. ``seed`` must be in 1..900000000. After
    ``max_failures`` consecutive failed events the run stops with :class:`GenerationError`.
    """

    def __init__(self, setup: Setup, seed: int, *, max_failures: int = 10) -> None:
        _check_seed(seed)
        self.user_settings = _resolve(setup)
        self.settings = [*self.user_settings, "Random:setSeed = on", f"Random:seed = {seed}"]
        self.settings += _QUIET
        self.seed = int(seed)
        self.max_failures = max_failures
        self.n_generated = 0
        self.n_failed = 0
        self.weight_names: list[str] | None = None
        self._pythia = _pythia().Pythia("", False)
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the generator
        try:
            self._init()
        except BaseException:
            self.close()
            raise

    def _init(self) -> None:
        refused = None
        with contextlib.ExitStack() as stack, _console(self._output) as lines:
            for line in self.settings:
                if not self._pythia.readString(_readable(line, stack)):
                    refused = line
                    break
            ok = refused is None and self._pythia.init()
        if refused is not None:
            raise GenerationError(
                f"Pythia does not accept the setting {refused!r}.{_problems(lines)}"
            )
        if not ok:
            raise GenerationError(
                f"Pythia init() failed.{_problems(lines)} Settings: {self._describe()}"
            )

    @property
    def pythia(self) -> Any:
        """The underlying ``pythia8mc.Pythia``; its ``event`` is the last event generated."""
        return self._pythia

    @property
    def cross_section(self) -> float:
        """Pythia's current estimate sigmaGen() in pb."""
        return float(self._pythia.infoPython().sigmaGen()) * MB_TO_PB

    @property
    def cross_section_error(self) -> float:
        return float(self._pythia.infoPython().sigmaErr()) * MB_TO_PB

    def chunks(self, n_events: int, chunk_size: int = 1000) -> Iterator[ak.Array]:
        """Generate ``n_events`` more events, yielded ``chunk_size`` at a time."""
        _check_counts(n_events, chunk_size)
        left = n_events
        while left > 0:
            size = min(chunk_size, left)
            yield self._chunk(size)
            left -= size

    def _describe(self) -> str:
        return f"{'; '.join(self.user_settings)}; seed {self.seed}"

    def _next(self) -> Any:
        """One event as Pythia's one-event awkward batch, retrying failures."""
        failures = 0
        said: list[str] = []
        while True:
            with _console(self._output) as lines:
                batch = self._pythia.nextBatch(1, "skip")
            if len(batch) == 1:
                return batch
            said += lines
            failures += 1
            self.n_failed += 1
            log.info("Pythia failed to generate an event (%d in a row)", failures)
            if failures >= self.max_failures:
                raise GenerationError(
                    f"Pythia next() failed {failures} times in a row after {self.n_generated} "
                    f"events.{_problems(said)} Settings: {self._describe()}"
                )

    def _chunk(self, size: int) -> ak.Array:
        columns: dict[str, list[np.ndarray]] = {k: [] for k in COLUMNS}
        weights: list[np.ndarray] = []
        sigma = np.empty(size)
        error = np.empty(size)
        counts = np.empty(size, dtype=np.int64)
        for i in range(size):
            batch = self._next()
            info = self._pythia.infoPython()
            sigma[i] = info.sigmaGen() * MB_TO_PB
            error[i] = info.sigmaErr() * MB_TO_PB
            event, w = unpack_batch(batch.layout)
            for name, values in event.items():
                columns[name].append(values)
            weights.append(w)
            counts[i] = len(event["id"])
            self.n_generated += 1
            if self.weight_names is None:
                names = list(info.weightNameVector())
                self.weight_names = names if len(names) == len(w) else _generic(len(w))
            if len(w) != len(self.weight_names):
                raise GenerationError(
                    f"Pythia changed its number of weights from {len(self.weight_names)} to "
                    f"{len(w)} at event {self.n_generated}"
                )
        numbers = np.arange(self.n_generated - size, self.n_generated, dtype=np.int64)
        return _assemble(numbers, self.weight_names or [], weights, sigma, error, counts, columns)

    def close(self) -> None:
        self._output.close()

    def __enter__(self) -> PythiaGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _generic(n: int) -> list[str]:
    return ["Weight", *(f"weight_{i}" for i in range(1, n))]


def _assemble(
    numbers: np.ndarray,
    names: list[str],
    weights: list[np.ndarray],
    sigma: np.ndarray,
    error: np.ndarray,
    counts: np.ndarray,
    columns: dict[str, list[np.ndarray]],
) -> ak.Array:
    flat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in columns.items()}
    status = hepmc_status(counts, flat["id"], flat["status"], flat["daughter1"])
    position = np.stack([flat["x"], flat["y"], flat["z"], flat["t"]], axis=1)
    vertices = build_vertices(counts, flat["status"], flat["mother1"], flat["mother2"], position)
    if vertices.n_fallback:
        log.debug(
            "%d events needed the particle-by-particle vertex construction", vertices.n_fallback
        )
    keep = np.ones(len(status), dtype=bool)
    keep[np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)] = False
    particles = {
        "px": flat["px"][keep],
        "py": flat["py"][keep],
        "pz": flat["pz"][keep],
        "E": flat["e"][keep],
        "pid": flat["id"][keep],
        "status": status[keep],
        "generated_mass": flat["m"][keep],
        "production_vertex": vertices.production_vertex,
        "end_vertex": vertices.end_vertex,
    }
    table = np.array(weights).reshape(len(numbers), len(names))
    return make_chunk(
        event_number=numbers,
        weights={name: table[:, i] for i, name in enumerate(names)},
        cross_section=sigma,
        cross_section_error=error,
        particle_counts=counts - 1,
        particles=particles,
        vertex_counts=vertices.counts,
        vertices={"x": vertices.x, "y": vertices.y, "z": vertices.z, "t": vertices.t},
    )


def generate(
    setup: Setup, n_events: int, seed: int, chunk_size: int = 1000, *, max_failures: int = 10
) -> Iterator[ak.Array]:
    """Generate ``n_events`` with Pythia8 and yield them in chunks of ``chunk_size``.

    ``setup`` is an SLHA path (gluino pair production at 13 TeV) or a list of Pythia
    settings. The same ``seed`` gives identical events whatever the ``chunk_size``. The
    arguments and the SLHA file are checked at once; Pythia starts at the first iteration.
    """
    _check_seed(seed)
    _check_counts(n_events, chunk_size)
    _resolve(setup)
    return _generate(setup, n_events, seed, chunk_size, max_failures)


def _generate(
    setup: Setup, n_events: int, seed: int, chunk_size: int, max_failures: int
) -> Iterator[ak.Array]:
    generator = PythiaGenerator(setup, seed, max_failures=max_failures)
    try:
        yield from generator.chunks(n_events, chunk_size)
    finally:
        generator.close()


def generate_to_hepmc(
    setup: Setup,
    n_events: int,
    seed: int,
    output_path: str | os.PathLike[str],
    chunk_size: int = 1000,
) -> dict[str, Any]:
    """Generate ``n_events`` and write them to a HepMC3 ASCII file, atomically; compressed
    when its name ends in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` (see
    :func:`~.hepmc_writer.output_compression`, which refuses other compressions' suffixes
    before any event is generated).

    Returns a summary: ``events``, ``cross_section_pb``, ``cross_section_error_pb`` (Pythia's
    final estimate), ``seconds``, ``output`` and ``seed``.
    """
    from .hepmc_writer import output_compression, write_hepmc

    started = time.perf_counter()
    _check_counts(n_events, chunk_size)
    output_compression(output_path)
    generator = PythiaGenerator(setup, seed)
    try:
        written = write_hepmc(generator.chunks(n_events, chunk_size), output_path)
        sigma, error = generator.cross_section, generator.cross_section_error
    finally:
        generator.close()
    seconds = time.perf_counter() - started
    log.info("wrote %d events to %s in %.1f s", written, output_path, seconds)
    return {
        "events": written,
        "cross_section_pb": sigma,
        "cross_section_error_pb": error,
        "seconds": seconds,
        "output": str(output_path),
        "seed": int(seed),
    }
