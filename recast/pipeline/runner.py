"""The runner: truth events → objects → detector → analysis → cutflows, serial or with Dask.

Work is cut into *units* (a HepMC3 file, a Parquet cache, a block of Pythia8 events); each unit
streams its chunks through the chain and returns cutflows (and, when asked, histograms of what
its networks were fed and gave), which merge by addition. Sums are
exact (:mod:`recast.exactsum`) and randomness is keyed by event number (see
:mod:`recast.detector.random`), so the results do not depend on the chunk size, on the merge
order, or on the number of workers. Units never depend on the number of workers: Pythia8
generation is cut into fixed blocks of :data:`PYTHIA_BLOCK` events, block 0 seeded with
``seed``, block *i* with a hash of (``seed``, *i*), and numbered from ``i × PYTHIA_BLOCK``.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..analysis.base import Analysis, SelectionError
from ..analysis.bundle import Bundle, load_bundle, read_document
from ..analysis.cutflow import Cutflow
from ..analysis.network_histograms import (
    HistogramRecorder,
    HistogramSpec,
    HistogramSums,
    attach_recorders,
    merge_histograms,
)
from ..arguments import given
from ..errors import EventFileError, RecastError, UsageError
from ..events.sanity import checked_cross_sections, checked_sqrt_s
from ..events.seeds import MAX_SEED, derived_seed
from ..exactsum import exact_sum, to_float
from ..parallel import Executor

log = logging.getLogger(__name__)

#: events per Pythia8 work unit, the unit of parallelism of in-process generation; each block
#: pays Pythia's initialisation (about 0.4 s, some 7 % of generating 500 events)
PYTHIA_BLOCK = 500

Progress = Callable[[int], None]


@dataclass(frozen=True)
class WorkUnit:
    """One independent piece of input: ``kind`` is ``hepmc``, ``cache`` or ``pythia``."""

    kind: str
    path: str = ""
    seed: int = 0
    n_events: int = 0
    first_event: int = 0
    #: hepmc: only the events in bytes [start, stop) (see recast.events.partition), part
    #: ``part`` of ``parts`` of the file
    byte_range: tuple[int, int] | None = None
    part: int = 0
    parts: int = 1
    #: pythia: the Pythia settings to generate with (a process and its SLHA file, or an LHE
    #: file to shower); empty: gluino pairs from the SLHA file ``path``
    settings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "pythia":
            return (
                f"Pythia8 from {self.path} (seed {self.seed}, events "
                f"{self.first_event}–{self.first_event + self.n_events - 1})"
            )
        if self.byte_range is not None:
            return f"{self.path} (bytes {self.byte_range[0]}–{self.byte_range[1]})"
        return self.path


@dataclass
class UnitResult:
    """What one unit (or several, merged) contributes: cutflows per region and bookkeeping."""

    cutflows: dict[str, Cutflow]
    events: int = 0
    #: Σw of every event read, exactly (units of 2⁻¹¹²⁶), before any detector weight
    sum_weights_exact: int = 0
    #: the generator's (σ, δσ, events) of each input that carries a cross-section
    cross_sections: list[tuple[float, float, int]] = field(default_factory=list)
    bad_events: int = 0
    seconds: float = 0.0
    inputs: list[dict[str, Any]] = field(default_factory=list)
    generation: list[dict[str, Any]] = field(default_factory=list)
    #: events without any final-state particle (kept: they count in Σw and pass no cut)
    empty_events: int = 0
    #: the networks' input and output histograms recorded (``ChainOptions.histograms``)
    histograms: dict[HistogramSpec, HistogramSums] = field(default_factory=dict)

    @property
    def sum_weights(self) -> float:
        return to_float(self.sum_weights_exact)

    def merge(self, other: UnitResult) -> UnitResult:
        return UnitResult(
            {k: v.merge(other.cutflows[k]) for k, v in self.cutflows.items()},
            self.events + other.events,
            self.sum_weights_exact + other.sum_weights_exact,
            self.cross_sections + other.cross_sections,
            self.bad_events + other.bad_events,
            self.seconds + other.seconds,
            _merge_inputs(self.inputs, other.inputs),
            self.generation + other.generation,
            self.empty_events + other.empty_events,
            merge_histograms(self.histograms, other.histograms),
        )


def _merge_inputs(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per file: the byte ranges of a file add up their events."""
    merged = [dict(entry) for entry in first]
    for entry in second:
        same = next((m for m in merged if m["path"] == entry["path"]), None)
        if same is None:
            merged.append(dict(entry))
        else:
            same["events"] += entry["events"]
            same["sha256"] = same["sha256"] or entry["sha256"]
    return merged


@dataclass(frozen=True)
class ChainOptions:
    """How a chunk is processed: fixed for a run, shipped to every worker."""

    bundle: str
    seed: int = 0
    chunk_size: int = 1000
    skip_bad: bool = False
    #: how HepMC3 files are parsed: "columnar" or "pyhepmc" (recast.events.hepmc.PARSERS)
    hepmc_parser: str = "columnar"
    #: (network name, user-given model file or folder) pairs: ``--network NAME=PATH``
    networks: tuple[tuple[str, str], ...] = ()
    #: (option name, value) pairs, already checked against the bundle (``--option``)
    options: tuple[tuple[str, Any], ...] = ()
    #: the detector description to load instead of the bundle's ``detector`` (``--detector``,
    #: resolved to a file by recast.analysis.settings.choose_detector); "" for the default
    detector: str = ""
    #: the bundle's √s in GeV: event files whose beams disagree are refused (None: no check)
    sqrt_s_gev: float | None = None
    #: the inputs' own cross-sections are used, so one that is ≤ 0 or NaN is refused (False:
    #: the user gave one, and the files' are only warned about)
    file_cross_sections: bool = True
    #: histograms of the networks' inputs and outputs to record (a benchmark's published ones,
    #: for ``recast validate``); none by default, and then nothing observes the networks
    histograms: tuple[HistogramSpec, ...] = ()


class Chain:
    """The per-chunk chain for one bundle: objects → detector → analysis (built per worker)."""

    def __init__(self, options: ChainOptions, bundle: Bundle | None = None) -> None:
        from ..analysis.settings import network_cards, runnable_regions
        from ..objects import ObjectConfig, build_objects
        from ..preserve.session import NetworkSession

        self.options = options
        self.bundle: Bundle = bundle or load_bundle(options.bundle)
        document = self.bundle.document
        self._build_objects = build_objects
        self.object_config = ObjectConfig(**document.get("objects", {}))
        self.detector = None
        if options.detector or "detector" in document:
            from ..detector.description import load_detector

            path = options.detector or self.bundle.path(document["detector"]["path"])
            self.detector = load_detector(path)
        cards, unavailable = network_cards(self.bundle, dict(options.networks))
        networks = {name: NetworkSession(card, verify=False) for name, card in cards.items()}
        regions, self.skipped = runnable_regions(self.bundle, unavailable)
        self.analysis: Analysis = self.bundle.analysis_class(
            regions, networks, dict(options.options)
        )
        self.recorders: list[HistogramRecorder] = []
        if options.histograms:  # on the sessions the analysis kept (setup() may replace some)
            self.recorders = attach_recorders(self.analysis.networks, options.histograms)

    def take_histograms(self) -> dict[HistogramSpec, HistogramSums]:
        """The histograms recorded since the last call (the recorders start again)."""
        taken: dict[HistogramSpec, HistogramSums] = {}
        for recorder in self.recorders:
            taken.update(recorder.take())
        return taken

    def objects(self, chunk: ak.Array) -> ak.Array:
        """Truth objects of a chunk; a cache of objects (no ``particles``) passes through."""
        if "particles" not in ak.fields(chunk):
            return chunk
        return self._build_objects(chunk, self.object_config)

    def reconstructed(self, objects: ak.Array) -> ak.Array:
        if self.detector is None:
            return objects
        return self.detector.apply(objects, self.options.seed)


def chain_config(options: ChainOptions) -> Any:
    """The object options of the run's bundle."""
    from ..objects import ObjectConfig

    _, document = read_document(options.bundle)  # the settings only: no code is imported
    return ObjectConfig(**document.get("objects", {}))


def _source(unit: WorkUnit, options: ChainOptions, result: UnitResult) -> Iterator[ak.Array]:
    """The unit's chunks as its reader gives them (truth events, or cached objects)."""
    if unit.kind == "hepmc":
        from ..events.hepmc import HepMCReader

        reader = HepMCReader(
            unit.path,
            chunk_size=options.chunk_size,
            skip_bad=options.skip_bad,
            parser=options.hepmc_parser,
            expected_sqrt_s=options.sqrt_s_gev,
            cross_sections=options.file_cross_sections,
            **({} if unit.byte_range is None else {"byte_range": unit.byte_range}),
        )
        yield from reader
        result.bad_events += reader.n_bad
        result.empty_events += reader.empty_events
    elif unit.kind == "cache":
        from ..events.cache import read_cache, read_cache_header
        from ..objects.cache import check_config

        check_config(unit.path, read_cache_header(unit.path).extra, chain_config(options))
        for chunk in read_cache(unit.path):
            chunk = checked_sqrt_s(chunk, unit.path, options.sqrt_s_gev)
            yield checked_cross_sections(chunk, unit.path, options.file_cross_sections)
    elif unit.kind == "pythia":
        from ..events.pythia import generate

        setup = list(unit.settings) if unit.settings else unit.path
        for chunk in generate(setup, unit.n_events, unit.seed, options.chunk_size):
            numbers = chunk["event_number"] + unit.first_event  # distinct across blocks
            chunk = checked_sqrt_s(ak.with_field(chunk, numbers, "event_number"), unit.label,
                                   options.sqrt_s_gev)  # fmt: skip
            yield checked_cross_sections(chunk, unit.label, options.file_cross_sections)
    else:
        raise UsageError(f"unknown work unit kind {unit.kind!r}")


def _last_cross_section(chunk: ak.Array) -> tuple[float, float] | None:
    if "cross_section" not in ak.fields(chunk) or not len(chunk):
        return None
    xs = np.asarray(ak.to_numpy(chunk["cross_section"]), dtype=np.float64)
    known = np.flatnonzero(np.isfinite(xs))
    if not len(known):
        return None
    error = np.asarray(ak.to_numpy(chunk["cross_section_error"]), dtype=np.float64)
    return float(xs[known[-1]]), float(error[known[-1]])


def run_unit(
    unit: WorkUnit,
    options: ChainOptions,
    chain: Chain | None = None,
    on_chunk: Progress | None = None,
) -> UnitResult:
    """Process one unit from start to end (the function Dask ships to workers)."""
    return run_unit_chains(unit, [options], None if chain is None else [chain], on_chunk)[0]


def run_unit_chains(
    unit: WorkUnit,
    options: Sequence[ChainOptions],
    chains: Sequence[Chain] | None = None,
    on_chunk: Progress | None = None,
) -> list[UnitResult]:
    """One unit through the chains of several bundles: its events are read or generated once
    and each chunk goes through every chain (a model scan runs all its analyses on one
    generation). The reader's settings (chunk size, √s, cross-section checks) are those of
    ``options[0]``; truth objects are built once per distinct object configuration."""
    chains = list(chains) if chains is not None else [_chain_for(o) for o in options]
    results = [UnitResult(chain.analysis.empty_cutflows()) for chain in chains]
    for chain in chains:  # a chain reused after a failed unit starts from zero
        chain.take_histograms()
    reading = results[0]  # the reader counts bad and empty events into this one
    start = time.perf_counter()
    last_xs = None
    events_read = 0
    for index, chunk in enumerate(_source(unit, options[0], reading)):
        first, events_read = events_read, events_read + len(chunk)
        weight = exact_sum(ak.to_numpy(chunk["weight"]))
        last_xs = _last_cross_section(chunk) or last_xs
        objects: dict[str, ak.Array] = {}
        for chain, result in zip(chains, results, strict=True):
            result.events += len(chunk)
            result.sum_weights_exact += weight
            config = repr(chain.object_config)
            if config not in objects:
                objects[config] = chain.objects(chunk)
            events = chain.reconstructed(objects[config])
            try:
                flows = chain.analysis.process(events)
            except Exception as exc:  # the bundle's selection code: say where it failed
                numbers = np.asarray(ak.to_numpy(events["event_number"]))
                span = f", event numbers {numbers.min()}–{numbers.max()}" if len(numbers) else ""
                raise SelectionError(
                    f"analysis {chain.bundle.id} failed on {unit.label}, chunk {index} "
                    f"(events {first}–{events_read - 1} of the input{span}): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            result.cutflows = {k: v.merge(flows[k]) for k, v in result.cutflows.items()}
        if on_chunk is not None:
            on_chunk(len(chunk))
    seconds = time.perf_counter() - start
    # of a file read in byte ranges, only the last range holds the generator's final estimate
    final_part = unit.part == unit.parts - 1
    from ..io import sha256_file

    if unit.kind == "pythia":
        record = {"slha": unit.path, "slha_sha256": sha256_file(unit.path), "seed": unit.seed,
                  "first_event": unit.first_event, "events": events_read}  # fmt: skip
        if unit.settings:
            record["settings"] = list(unit.settings)
    else:
        # a file split in ranges is hashed once, by its last range
        digest = sha256_file(unit.path) if final_part else ""
        record = {"path": unit.path, "sha256": digest, "events": events_read}
    for chain, result in zip(chains, results, strict=True):
        result.histograms = chain.take_histograms()
    for result in results:
        result.seconds = seconds
        result.bad_events, result.empty_events = reading.bad_events, reading.empty_events
        if last_xs is not None and final_part:
            result.cross_sections.append((*last_xs, events_read))
        (result.generation if unit.kind == "pythia" else result.inputs).append(dict(record))
    return results


_CHAINS: dict[tuple[ChainOptions, str], Chain] = {}


def _fingerprint(bundle: str) -> str:
    """The bundle's analysis.json and code: a worker rebuilds its chain when they change."""
    digest = hashlib.sha256()
    folder = Path(bundle)
    for path in (folder / "analysis.json", *sorted(folder.glob("*.py"))):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _chain_for(options: ChainOptions) -> Chain:
    """One chain per worker process and bundle (loading a bundle opens ONNX sessions)."""
    key = (options, _fingerprint(options.bundle))
    if key not in _CHAINS:
        _CHAINS[key] = Chain(options)
    return _CHAINS[key]


class RemoteError(RecastError):
    """A worker's error whose own type cannot travel back to the client; same message."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _run_remote(unit: WorkUnit, options: ChainOptions) -> UnitResult:
    try:
        return run_unit(unit, options)
    except RecastError as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # a custom __init__ that pickle cannot call again
            raise RemoteError(str(exc), exc.exit_code) from None
        raise


def run_units(
    units: Sequence[WorkUnit],
    options: ChainOptions,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    bundle: Bundle | None = None,
) -> UnitResult:
    """All units, serially, on a local Dask cluster (``workers`` > 1) or on ``scheduler``.

    The parts merge in input order, so every way of running gives the same result.
    """
    if not units:
        raise UsageError("no input: give event files, a cache, or a Pythia8 setup")
    executor = Executor(workers, scheduler)
    if not executor.remote:
        chain = Chain(options, bundle)  # fresh: a bundle edited since the last run is seen
        parts = [run_unit(unit, options, chain, progress) for unit in units]
    else:
        if scheduler is None and workers > len(units):
            log.info("%d worker(s) for %d input(s): the others stay idle", workers, len(units))
            executor = Executor(len(units), scheduler)
        counted = None if progress is None else (lambda part: progress(part.events))
        with executor:
            parts = executor.map(_run_remote, [(unit, options) for unit in units], counted)
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    empty = [entry["path"] for entry in total.inputs if entry["events"] == 0]
    if empty:
        raise EventFileError(f"{', '.join(empty)}: no readable events")
    if total.events and total.empty_events == total.events:  # a file read in byte ranges
        raise EventFileError(
            f"{', '.join(e['path'] for e in total.inputs)}: none of the {total.events} "
            "event(s) has a final-state particle (status 1): nothing to select"
        )
    return total


def _partition(path: str | Path, parts: int) -> list[tuple[int, int]]:
    from ..events.partition import partition_hepmc

    return partition_hepmc(path, parts)


def units_for(paths: Sequence[str | Path], workers: int = 1) -> list[WorkUnit]:
    """Units for input files: Parquet caches whole; HepMC3 files whole, or, with more workers
    than files, cut into byte ranges of whole events so that one file feeds every worker."""
    hepmc = [p for p in paths if not str(p).endswith(".parquet")]
    parts = -(-workers // len(hepmc)) if hepmc and workers > len(hepmc) else 1
    units = []
    for path in paths:
        if str(path).endswith(".parquet"):
            units.append(WorkUnit("cache", str(path)))
            continue
        ranges = [None] if parts == 1 else _partition(path, parts)
        units += [
            WorkUnit("hepmc", str(path), part=i, parts=len(ranges), byte_range=r)
            for i, r in enumerate(ranges)
        ]
    return units


def pythia_units(
    slha: str | Path, n_events: int, seed: int, settings: Sequence[str] = ()
) -> list[WorkUnit]:
    """Blocks of :data:`PYTHIA_BLOCK` events generated with ``settings`` (none: gluino pairs
    from the SLHA file ``slha``); block 0 has ``seed``, block *i* > 0 a seed hashed
    from (``seed``, *i*): runs with seeds 1 and 2 share no block (with ``seed + i`` they shared
    all but one)."""
    if not 1 <= seed <= MAX_SEED:
        raise UsageError(f"{given('seed', seed)}: Pythia8 seeds run from 1 to {MAX_SEED}")
    units = []
    for i, first in enumerate(range(0, n_events, PYTHIA_BLOCK)):
        size = min(PYTHIA_BLOCK, n_events - first)
        # block 0 keeps the seed itself: a one-block run is `recast generate --seed SEED`
        block_seed = seed if i == 0 else derived_seed(seed, "pythia block", i)
        units.append(
            WorkUnit("pythia", str(slha), block_seed, size, first, settings=tuple(settings))
        )
    return units


__all__ = [
    "PYTHIA_BLOCK",
    "Chain",
    "ChainOptions",
    "RemoteError",
    "UnitResult",
    "WorkUnit",
    "pythia_units",
    "run_unit",
    "run_unit_chains",
    "run_units",
    "units_for",
]
