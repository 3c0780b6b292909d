"""Where `recast run` spends its time on a Gtt file, stage by stage, next to bare pyhepmc.

Generates once (seeded, into benchmarks/_data/, not committed) a full-history 13 TeV Pythia8
Gtt HepMC3 file (g̃ → t t̄ χ̃⁰₁, m(g̃) = 2100, m(χ̃⁰₁) = 1 GeV) and a gzip copy, then prints,
medians of several repeats on one core:

- the floor: bare ``pyhepmc.open`` iteration over the file;
- the whole run: ``recast_run`` of the analysis (default ATLAS_SUSY_2018_30) on the file,
  everything included (bundle and networks loaded afresh, input hash, results, limits), and
  the ratio floor / whole run (target of issue 17: ≥ 2.5);
- the same run cut into its stages, timed from inside the runner's own code (its methods are
  wrapped with clocks, nothing is re-implemented): read (the reader's chunks), objects
  (``Chain.objects``), detector (``Chain.reconstructed``), analysis (``analysis.process``:
  derived variables, network inputs and evaluation, cuts; the networks' ONNX calls shown
  apart), limits (``limits_for_bundle``), and the rest (bundle loading, hashing, results);
- peak memory: the peak resident memory (VmHWM) of a fresh process running the whole run at
  the default chunk size.

Every time is given as wall and as CPU seconds of this process: on shared cores (the load
average is printed) the CPU times are the ones to compare. The floor and the run alternate
within each repeat, after one untimed run (imports, FastJet's banner).

``--parser columnar|pyhepmc`` is passed to ``recast.events.hepmc.HepMCReader`` when its
signature has that keyword (ignored, with a note, before it does).

    python benchmarks/bench_stages.py [--events 1000] [--repeats 3] [--inputs plain gzip]
        [--analysis ATLAS_SUSY_2018_30] [--parser columnar] [--chunk-size 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import inspect
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fresh_process_peak_mb
from bench_events import bare_pyhepmc

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "_data"
M_GLUINO, M_LSP = 2100.0, 1.0
STAGES = ("read", "objects", "detector", "analysis", "limits")
#: the stages, the networks' part of the analysis, what is left, and the whole run
NAMES = (*STAGES, "networks", "rest", "total")


def sample(n_events: int, seed: int = 4242) -> Path:
    """The full-history Gtt file of ``n_events`` (generated once, then reused); its gzip copy
    is the same name with ``.gz``."""
    from recast.events.pythia import generate_to_hepmc, pythia_settings
    from recast.events.slha import write_gluino_slha

    name = f"gtt_{M_GLUINO:g}_{M_LSP:g}_13TeV_{n_events}_seed{seed}"
    path = DATA / f"{name}.hepmc"
    if not path.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", file=sys.stderr)
        slha = write_gluino_slha(DATA / f"{name}.slha", M_GLUINO, M_LSP, "ttbar")
        generate_to_hepmc(pythia_settings(slha, e_cm=13000.0), n_events, seed, path)
    zipped = path.with_name(path.name + ".gz")
    if not zipped.is_file():
        partial = zipped.with_name(zipped.name + ".part")  # no half-written copy is reused
        with path.open("rb") as source, gzip.open(partial, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target, 1 << 20)
        partial.replace(zipped)
    return path


def use_parser(parser: str | None) -> bool:
    """Make every HepMCReader built from now on (the runner's included) use ``parser``; False
    when the reader has no such keyword yet (then nothing changes)."""
    if parser is None:
        return True
    import recast.events.hepmc as hepmc

    reader = hepmc.HepMCReader
    if "parser" not in inspect.signature(reader).parameters:
        return False

    class WithParser(reader):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["parser"] = parser  # over the run option: the benchmark chooses
            super().__init__(*args, **kwargs)

    WithParser.__name__ = reader.__name__
    hepmc.HepMCReader = WithParser  # type: ignore[misc]
    return True


def whole_run(path: Path, analysis: str, chunk_size: int) -> dict[str, Any]:
    """``recast run ANALYSIS PATH`` as the command line does it, with a fresh chain (bundle
    and network sessions loaded again, as a new process would)."""
    from recast.pipeline import runner
    from recast.pipeline.run import recast_run

    runner._CHAINS.clear()
    return recast_run(ROOT / "analyses" / analysis, [path], chunk_size=chunk_size)


# -- the stages, clocked inside the runner's own code ------------------------------------------


class Clocks:
    """Wall and CPU seconds accumulated per stage while :meth:`installed` (CPU time moves
    little when other processes share the cores, wall time does)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, stage: str, wall: float, cpu: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + wall
        self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def clocked(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - start, time.process_time() - cpu)

        return clocked

    @contextlib.contextmanager
    def installed(self) -> Iterator[Clocks]:
        """Clocks on the reader's iteration, Chain.objects, Chain.reconstructed, each chain's
        analysis.process, the networks' ONNX runs and limits_for_bundle; undone on leaving."""
        import recast.events.hepmc as hepmc
        import recast.pipeline.limits as limits
        from recast.pipeline.runner import Chain
        from recast.preserve.session import NetworkSession

        clocks = self
        reader = hepmc.HepMCReader

        class ClockedReader(reader):  # type: ignore[misc, valid-type]
            def __iter__(self) -> Iterator[Any]:
                chunks = super().__iter__()
                while True:
                    start, cpu = time.perf_counter(), time.process_time()
                    chunk = next(chunks, None)
                    clocks.add("read", time.perf_counter() - start, time.process_time() - cpu)
                    if chunk is None:
                        return
                    yield chunk

        original_init = Chain.__init__

        def init(chain: Chain, *args: Any, **kwargs: Any) -> None:
            original_init(chain, *args, **kwargs)
            chain.analysis.process = clocks.wrap("analysis", chain.analysis.process)  # type: ignore[method-assign]

        saved = [
            (hepmc, "HepMCReader", reader),
            (Chain, "__init__", original_init),
            (Chain, "objects", Chain.objects),
            (Chain, "reconstructed", Chain.reconstructed),
            (NetworkSession, "run", NetworkSession.run),
            (limits, "limits_for_bundle", limits.limits_for_bundle),
        ]
        hepmc.HepMCReader = ClockedReader  # type: ignore[misc]
        Chain.__init__ = init  # type: ignore[method-assign, assignment]
        Chain.objects = self.wrap("objects", Chain.objects)  # type: ignore[method-assign]
        Chain.reconstructed = self.wrap("detector", Chain.reconstructed)  # type: ignore[method-assign]
        NetworkSession.run = self.wrap("networks", NetworkSession.run)  # type: ignore[method-assign]
        limits.limits_for_bundle = self.wrap("limits", limits.limits_for_bundle)
        try:
            yield self
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)


def staged_run(path: Path, analysis: str, chunk_size: int) -> Clocks:
    """The wall and CPU seconds of each stage of one whole run, and of the run (``total``)."""
    with Clocks().installed() as clocks:
        start, cpu = time.perf_counter(), time.process_time()
        whole_run(path, analysis, chunk_size)
        clocks.add("total", time.perf_counter() - start, time.process_time() - cpu)
    clocks.add("rest", *(t["total"] - sum(t.get(s, 0.0) for s in STAGES)
                         for t in (clocks.seconds, clocks.cpu)))  # fmt: skip
    return clocks


def timed_floor(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of bare pyhepmc reading ``path``, and its number of events."""
    start, cpu = time.perf_counter(), time.process_time()
    n = bare_pyhepmc(path)
    return time.perf_counter() - start, time.process_time() - cpu, n


def peak_memory_mb(path: Path, analysis: str, parser: str | None) -> float:
    """Peak memory of a fresh process running the whole run at the default chunk size."""
    return fresh_process_peak_mb(
        f"import sys, pathlib; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"import bench_stages as b; b.use_parser({parser!r})\n"
        f"b.whole_run(pathlib.Path({str(path)!r}), {analysis!r}, 1000)"
    )


def measure(path: Path, args: argparse.Namespace) -> None:
    bare_pyhepmc(path)  # the file into the page cache, for both alike
    staged_run(path, args.analysis, args.chunk_size)  # warm-up: imports, FastJet's banner
    floors, runs = [], []
    for _ in range(args.repeats):  # alternating, so that other load hits both alike
        floors.append(timed_floor(path))
        runs.append(staged_run(path, args.analysis, args.chunk_size))
    n = floors[0][2]
    floor, floor_cpu = (statistics.median(f[k] for f in floors) for k in (0, 1))
    wall = {k: statistics.median(r.seconds.get(k, 0.0) for r in runs) for k in NAMES}
    cpu = {k: statistics.median(r.cpu.get(k, 0.0) for r in runs) for k in NAMES}
    size_mb = path.stat().st_size / 1e6
    print(
        f"{path.name}: {n} events, {size_mb:.0f} MB ({size_mb * 1e3 / n:.0f} kB/event); "
        f"{args.analysis}, chunks of {args.chunk_size}; median of {args.repeats}; "
        f"load average {os.getloadavg()[0]:.1f} (2 idle cores: < 1)"
    )
    print(f"  {'':<38} {'wall s':>8} {'CPU s':>8} {'events/s':>9}")
    for label, seconds, cpu_seconds in (
        ("floor: bare pyhepmc.open iteration", floor, floor_cpu),
        ("whole run (recast_run)", wall["total"], cpu["total"]),
    ):
        print(f"  {label:<38} {seconds:8.2f} {cpu_seconds:8.2f} {n / seconds:9.1f}")
    print(
        f"  floor / whole run: {floor / wall['total']:.2f} in wall time, "
        f"{floor_cpu / cpu['total']:.2f} in CPU time (target ≥ 2.5)"
    )
    print(f"  stages of the run:  {'wall s':>8} {'CPU s':>8} {'% of run (CPU)':>15}")
    for stage in (*STAGES, "rest"):
        print(
            f"    {stage:<16} {wall[stage]:8.2f} {cpu[stage]:8.2f} "
            f"{100 * cpu[stage] / cpu['total']:14.1f}%"
        )
        if stage == "analysis":
            print(f"      {'networks (ONNX)':<14} {wall['networks']:8.2f} {cpu['networks']:8.2f}")
    if args.memory:
        peak = peak_memory_mb(path, args.analysis, args.parser)
        print(f"  peak memory (VmHWM, fresh process, whole run, chunks of 1000): {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--analysis", default="ATLAS_SUSY_2018_30")
    parser.add_argument("--parser", choices=("columnar", "pyhepmc"), default=None)
    parser.add_argument("--inputs", nargs="+", choices=("plain", "gzip"), default=["plain", "gzip"])
    parser.add_argument("--no-memory", dest="memory", action="store_false")
    args = parser.parse_args()
    if not use_parser(args.parser):
        print(
            f"note: HepMCReader has no keyword 'parser' yet; --parser {args.parser} ignored",
            file=sys.stderr,
        )
        args.parser = None
    path = sample(args.events, args.seed)
    for kind in args.inputs:
        measure(path if kind == "plain" else path.with_name(path.name + ".gz"), args)
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process, all of the above: {self_rss:.0f} MB)")


if __name__ == "__main__":
    main()
