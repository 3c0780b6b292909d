"""The runner: truth events → objects → detector → analysis → cutflows, serial or with Dask.

Work is cut into *units* (a HepMC3 file or a part of one, a Parquet object cache, a block of
Pythia8 events); each unit streams its chunks through the chain and returns cutflows, which
merge by addition. Randomness is keyed by event number (see :mod:`recast.detector.random`),
so the results do not depend on the chunk size, on the units, or on the number of workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..cutflow import Cutflow
from ..errors import RecastError, UsageError
from .base import Analysis, SelectionError
from .bundle import Bundle, load_bundle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkUnit:
    """One independent piece of input: ``kind`` is ``hepmc``, ``cache`` or ``pythia``."""

    kind: str
    path: str = ""
    part: int = 0
    parts: int = 1
    byte_range: tuple[int, int] | None = None
    pythia_setup: Any = None
    seed: int = 0
    n_events: int = 0
    first_event: int = 0

    @property
    def label(self) -> str:
        if self.kind == "pythia":
            return f"pythia8 (seed {self.seed}, {self.n_events} events)"
        return self.path if self.parts == 1 else f"{self.path} [part {self.part + 1}/{self.parts}]"


@dataclass
class UnitResult:
    """What one unit contributes: cutflows per region and the run's bookkeeping."""

    cutflows: dict[str, Cutflow]
    events: int = 0
    sum_weights: float = 0.0
    cross_section: float = float("nan")
    cross_section_error: float = float("nan")
    bad_events: int = 0
    seconds: float = 0.0
    inputs: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: UnitResult) -> UnitResult:
        cutflows = {k: v.merge(other.cutflows[k]) for k, v in self.cutflows.items()}
        # the generator's cross-section estimate: the last unit that carries one
        xs, err = (other.cross_section, other.cross_section_error)
        if np.isnan(xs):
            xs, err = self.cross_section, self.cross_section_error
        return UnitResult(
            cutflows,
            self.events + other.events,
            self.sum_weights + other.sum_weights,
            xs,
            err,
            self.bad_events + other.bad_events,
            self.seconds + other.seconds,
            self.inputs + other.inputs,
        )


@dataclass(frozen=True)
class ChainOptions:
    """How a chunk is processed: fixed for a run, shipped to every worker."""

    bundle: str
    seed: int = 0
    chunk_size: int = 1000
    skip_bad: bool = False


class Chain:
    """The per-chunk chain for one bundle: objects → detector → analysis (built per worker)."""

    def __init__(self, options: ChainOptions) -> None:
        from ..objects import ObjectConfig, build_objects
        from ..preserve.card import NetworkCard
        from ..preserve.session import NetworkSession

        self.options = options
        self.bundle: Bundle = load_bundle(options.bundle)
        document = self.bundle.document
        self._build_objects = build_objects
        self.object_config = ObjectConfig(**document.get("objects", {}))
        self.detector = None
        if "detector" in document:
            from ..detector.description import load_detector

            self.detector = load_detector(self.bundle.path(document["detector"]["path"]))
        networks = {
            name: NetworkSession(NetworkCard.load(path))
            for name, path in self.bundle.network_cards().items()
        }
        self.analysis: Analysis = self.bundle.analysis_class(self.bundle.regions, networks)

    def objects(self, truth: ak.Array) -> ak.Array:
        return self._build_objects(truth, self.object_config)

    def reconstructed(self, objects: ak.Array) -> ak.Array:
        if self.detector is None:
            return objects
        return self.detector.apply(objects, self.options.seed)

    def process(self, objects: ak.Array) -> dict[str, Cutflow]:
        return self.analysis.process(self.reconstructed(objects))


def _truth_chunks(unit: WorkUnit, options: ChainOptions, result: UnitResult) -> Iterator[ak.Array]:
    if unit.kind == "hepmc":
        from ..events.hepmc import HepMCReader

        reader = HepMCReader(unit.path, chunk_size=options.chunk_size, skip_bad=options.skip_bad)
        yield from reader
        result.bad_events += reader.n_bad
    elif unit.kind == "pythia":
        from ..events.pythia import generate

        yield from generate(
            unit.pythia_setup, unit.n_events, unit.seed, chunk_size=options.chunk_size
        )
    else:
        raise UsageError(f"unknown work unit kind {unit.kind!r}")


def run_unit(unit: WorkUnit, options: ChainOptions, chain: Chain | None = None) -> UnitResult:
    """Process one unit from start to end (the function Dask ships to workers)."""
    chain = chain or _chain_for(options)
    result = UnitResult(chain.analysis.empty_cutflows())
    start = time.perf_counter()
    for index, chunk in enumerate(_chunks_of(unit, options, result, chain)):
        try:
            flows = chain.process(chunk)
        except RecastError:
            raise
        except Exception as exc:  # the user's selection code: say where it failed
            raise SelectionError(
                f"analysis {chain.bundle.id} failed on {unit.label}, chunk {index} "
                f"(events {result.events - len(chunk)}–{result.events - 1}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        result.cutflows = {k: v.merge(flows[k]) for k, v in result.cutflows.items()}
    result.seconds = time.perf_counter() - start
    if unit.kind != "pythia":
        from ..io import sha256_file

        result.inputs.append(
            {"path": unit.path, "sha256": sha256_file(unit.path), "events": result.events}
        )
    return result


def _chunks_of(
    unit: WorkUnit, options: ChainOptions, result: UnitResult, chain: Chain
) -> Iterator[ak.Array]:
    """Objects chunks of a unit, with the bookkeeping (Σw, counts, cross-section) done here."""
    if unit.kind == "cache":
        from ..events.cache import read_cache

        sources: Iterator[ak.Array] = iter(read_cache(unit.path))
        to_objects: Callable[[ak.Array], ak.Array] = lambda chunk: chunk  # noqa: E731
    else:
        sources = _truth_chunks(unit, options, result)
        to_objects = chain.objects
    for chunk in sources:
        result.events += len(chunk)
        result.sum_weights += float(np.sum(ak.to_numpy(chunk["weight"])))
        if "cross_section" in ak.fields(chunk) and len(chunk):
            xs = ak.to_numpy(chunk["cross_section"])
            known = np.flatnonzero(~np.isnan(xs))
            if len(known):
                result.cross_section = float(xs[known[-1]])
                result.cross_section_error = float(
                    ak.to_numpy(chunk["cross_section_error"])[known[-1]]
                )
        yield to_objects(chunk)


_CHAINS: dict[ChainOptions, Chain] = {}


def _chain_for(options: ChainOptions) -> Chain:
    """One chain per worker process and options (loading a bundle opens ONNX sessions)."""
    if options not in _CHAINS:
        _CHAINS[options] = Chain(options)
    return _CHAINS[options]


def run_units(
    units: Sequence[WorkUnit],
    options: ChainOptions,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[UnitResult], None] | None = None,
) -> UnitResult:
    """All units, serially, on a local Dask cluster (``workers`` > 1) or on ``scheduler``."""
    if not units:
        raise UsageError("no input: give event files, a cache, or a Pythia8 setup")
    if workers <= 1 and scheduler is None:
        total: UnitResult | None = None
        for unit in units:
            part = run_unit(unit, options)
            total = part if total is None else total.merge(part)
            if progress:
                progress(part)
        assert total is not None
        return total
    return _run_dask(units, options, workers, scheduler, progress)


def _run_dask(
    units: Sequence[WorkUnit],
    options: ChainOptions,
    workers: int,
    scheduler: str | None,
    progress: Callable[[UnitResult], None] | None,
) -> UnitResult:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # processes, one thread each: onnxruntime, FastJet and numpy do not share a GIL-free
        # core well in threads
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(scheduler or cluster)
    try:
        futures = [client.submit(run_unit, unit, options, pure=False) for unit in units]
        results: dict[int, UnitResult] = {}
        for future in as_completed(futures):
            part = future.result()
            results[futures.index(future)] = part
            if progress:
                progress(part)
        ordered = [results[i] for i in range(len(units))]  # merge in input order
        total = ordered[0]
        for part in ordered[1:]:
            total = total.merge(part)
        return total
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def normalisation(
    result: UnitResult, cross_section_pb: float | None, luminosity_fb: float
) -> dict[str, Any]:
    """σ × L / Σw, from the given cross-section or the generator's own."""
    source = "user"
    if cross_section_pb is None:
        if np.isnan(result.cross_section):
            raise UsageError(
                "the events carry no cross-section: give one with --xsec (e.g. --xsec 12.3fb)"
            )
        cross_section_pb, source = result.cross_section, "generator"
    if result.sum_weights == 0:
        raise UsageError("the sum of event weights is 0: cannot normalise to σ × L")
    factor = cross_section_pb * 1000.0 * luminosity_fb / result.sum_weights
    return {
        "cross_section_pb": cross_section_pb,
        "cross_section_source": source,
        "luminosity_fb": luminosity_fb,
        "sum_weights": result.sum_weights,
        "factor": factor,
        "events": result.events,
    }


def parse_cross_section(text: str) -> float:
    """``12.3fb``, ``0.046pb``, ``1.2e-3 nb`` → pb."""
    units = {"ab": 1e-6, "fb": 1e-3, "pb": 1.0, "nb": 1e3, "ub": 1e6, "mb": 1e9}
    stripped = text.strip().lower().replace(" ", "")
    for unit, factor in units.items():
        if stripped.endswith(unit):
            try:
                value = float(stripped[: -len(unit)])
            except ValueError:
                break
            if value <= 0:
                break
            return value * factor
    raise UsageError(
        f"--xsec {text!r}: expected a positive number with a unit, e.g. 12.3fb "
        f"(units: {', '.join(units)})"
    )


def units_for(paths: Sequence[str | Path], workers: int) -> list[WorkUnit]:
    """Work units for event files: Parquet caches whole, HepMC3 files whole (one per file)."""
    units = []
    for path in paths:
        kind = "cache" if str(path).endswith(".parquet") else "hepmc"
        units.append(WorkUnit(kind, str(path)))
    return units


__all__ = [
    "Chain",
    "ChainOptions",
    "UnitResult",
    "WorkUnit",
    "normalisation",
    "parse_cross_section",
    "run_unit",
    "run_units",
    "units_for",
]
