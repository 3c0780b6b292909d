"""`recast run` throughput next to bare pyhepmc (the floor), and 2 workers against 1.

On a full-history 13 TeV Pythia8 tt̄ HepMC3 file (``sample()`` of bench_events.py: generated
once, seeded, into benchmarks/_data/, not committed), prints side by side, in the same run:

- the floor: bare ``pyhepmc.open`` iteration over the file;
- ``recast run`` of the example bundle (analyses/EXAMPLE_JETS_MET) on 1 worker: the public API
  ``recast_run``, everything included (bundle loading, input hash, results document);
- the same chain on 2 workers: the file cut in two byte ranges by ``partition_hepmc``, run by
  ``run_units`` on a warm 2-process Dask cluster (startup not counted), with the CPU time of
  the busiest worker (what idle cores would give); and, once WorkUnit takes byte ranges,
  ``recast_run(..., workers=2)`` end to end with the units the runner makes itself (cluster
  startup included);
- where one worker's time goes: reader, objects, detector, analysis, input hash.

Configurations alternate within each round (floor, 1 worker, 2 workers, ...) so that other load
on the machine hits them alike; the numbers are medians over the rounds. Targets (issue 5):
the whole chain within 1.3× the floor on one core, 2 workers at least 1.7× faster than 1 (which
needs two idle cores: the load average is printed).

    python benchmarks/bench_run.py [--events 2000] [--repeats 3] [--chunk-size 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_events import bare_pyhepmc, sample

ROOT = Path(__file__).resolve().parents[1]
ANALYSIS = ROOT / "analyses" / "EXAMPLE_JETS_MET"
XSEC = "500pb"


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def cpu_timed(func: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, value): CPU time hardly moves when other
    processes share the cores, wall time does."""
    cpu = time.process_time()
    wall, value = timed(func)
    return wall, time.process_time() - cpu, value


def run_one_worker(path: Path, chunk_size: int) -> int:
    from recast.pipeline.run import recast_run

    document = recast_run(ANALYSIS, [path], xsec=XSEC, workers=1, chunk_size=chunk_size)
    return _events_of(document)


def run_two_workers_cold(path: Path, chunk_size: int) -> int:
    from recast.pipeline.run import recast_run

    document = recast_run(ANALYSIS, [path], xsec=XSEC, workers=2, chunk_size=chunk_size)
    return _events_of(document)


def _events_of(document: dict[str, Any]) -> int:
    return sum(int(i["events"]) for i in document["provenance"]["inputs"])


def runner_splits_files() -> bool:
    """Does the runner take byte-range units (a ``byte_range`` field on WorkUnit)?"""
    from recast.pipeline.runner import WorkUnit

    return "byte_range" in {f.name for f in dataclasses.fields(WorkUnit)}


# -- 2 workers on a warm cluster ----------------------------------------------------------------


def range_units(path: Path, parts: int) -> list[Any]:
    from recast.events.partition import partition_hepmc
    from recast.pipeline.runner import WorkUnit

    ranges = partition_hepmc(path, parts)
    if runner_splits_files():
        return [WorkUnit("hepmc", str(path), byte_range=r) for r in ranges]  # type: ignore[call-arg]
    return [(str(path), r) for r in ranges]  # run by run_range below


def run_range(path: str, byte_range: tuple[int, int], options: Any) -> int:
    """Stand-in for the runner's unit while it does not take byte ranges: the same chain
    (objects → detector → analysis, cutflows merged, the input hashed) over one range."""
    from recast.events.hepmc import HepMCReader
    from recast.io import sha256_file
    from recast.pipeline import runner

    chain = runner._chain_for(options)  # cached per worker process, as the runner does
    flows = chain.analysis.empty_cutflows()
    n = 0
    for chunk in HepMCReader(path, chunk_size=options.chunk_size, byte_range=byte_range):
        events = chain.reconstructed(chain.objects(chunk))
        part = chain.analysis.process(events)
        flows = {k: v.merge(part[k]) for k, v in flows.items()}
        n += len(chunk)
    sha256_file(path)
    return n


def run_two_workers_warm(client: Any, units: list[Any], options: Any) -> int:
    if runner_splits_files():
        from recast.pipeline.runner import run_units

        return int(run_units(units, options, workers=2, scheduler=client.scheduler.address).events)
    futures = [client.submit(run_range, p, r, options, pure=False) for p, r in units]
    return sum(f.result() for f in futures)


def worker_cpu(client: Any) -> list[float]:
    """CPU seconds used so far by each worker process."""
    return sorted(client.run(time.process_time).items())  # type: ignore[no-any-return]


# -- where the time goes ------------------------------------------------------------------------


def breakdown(path: Path, chunk_size: int) -> dict[str, float]:
    """Seconds per stage of one serial pass of the chain over the file."""
    from recast.events.hepmc import HepMCReader
    from recast.io import sha256_file
    from recast.pipeline.runner import Chain, ChainOptions

    times = dict.fromkeys(("bundle", "reader", "objects", "detector", "analysis", "hash"), 0.0)
    times["bundle"], chain = timed(lambda: Chain(ChainOptions(str(ANALYSIS), seed=1)))
    chunks = iter(HepMCReader(path, chunk_size=chunk_size))
    while True:
        start = time.perf_counter()
        chunk = next(chunks, None)
        times["reader"] += time.perf_counter() - start
        if chunk is None:
            break
        seconds, objects = timed(lambda c=chunk: chain.objects(c))
        times["objects"] += seconds
        seconds, events = timed(lambda o=objects: chain.reconstructed(o))
        times["detector"] += seconds
        times["analysis"] += timed(lambda e=events: chain.analysis.process(e))[0]
    times["hash"] = timed(lambda: sha256_file(path))[0]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--no-breakdown", action="store_true")
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    from recast.pipeline.runner import ChainOptions

    path = sample(args.events)
    size_mb = path.stat().st_size / 1e6
    bare_pyhepmc(path)  # the file into the page cache, for every configuration alike
    load_before = os.getloadavg()

    options = ChainOptions(str(ANALYSIS), seed=1, chunk_size=args.chunk_size)
    units = range_units(path, 2)
    splits = runner_splits_files()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)  # fmt: skip
    client = Client(cluster)
    try:
        run_two_workers_warm(client, units, options)  # warm-up: each worker builds its chain
        rounds: dict[str, list[float]] = {"floor": [], "1 worker": [], "2 workers": []}
        cpu: dict[str, list[float]] = {"floor": [], "1 worker": []}
        counts: dict[str, int] = {}
        if splits:
            rounds["2 workers, cold"] = []
        for _ in range(args.repeats):
            seconds, cpu_seconds, counts["floor"] = cpu_timed(lambda: bare_pyhepmc(path))
            rounds["floor"].append(seconds)
            cpu["floor"].append(cpu_seconds)
            seconds, cpu_seconds, counts["1 worker"] = cpu_timed(
                lambda: run_one_worker(path, args.chunk_size)
            )
            rounds["1 worker"].append(seconds)
            cpu["1 worker"].append(cpu_seconds)
            before = worker_cpu(client)
            seconds, counts["2 workers"] = timed(
                lambda: run_two_workers_warm(client, units, options)
            )
            rounds["2 workers"].append(seconds)
            after = worker_cpu(client)
            busiest = max(b[1] - a[1] for a, b in zip(before, after, strict=True))
            cpu.setdefault("busiest worker", []).append(busiest)
            if splits:
                seconds, counts["2 workers, cold"] = timed(
                    lambda: run_two_workers_cold(path, args.chunk_size)
                )
                rounds["2 workers, cold"].append(seconds)
    finally:
        client.close()
        cluster.close()
    load_after = os.getloadavg()
    n = counts["floor"]
    for name, count in counts.items():
        if count != n:
            raise SystemExit(f"{name} read {count} events where the file has {n}")
    t = {name: statistics.median(values) for name, values in rounds.items()}

    print(
        f"Pythia8 tt̄ at 13 TeV, full history: {n} events, {size_mb:.0f} MB "
        f"({size_mb * 1e3 / n:.0f} kB/event); analysis {ANALYSIS.name}, chunks of "
        f"{args.chunk_size}; median of {args.repeats} alternating rounds"
    )
    print(
        f"  machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (1-min)"
    )
    labels = {
        "floor": "floor: bare pyhepmc.open iteration",
        "1 worker": "recast run, 1 worker (recast_run, all included)",
        "2 workers": "recast run, 2 workers (byte ranges, warm cluster)",
        "2 workers, cold": "recast_run(workers=2): its own units, cluster startup",
    }
    for name, seconds in t.items():
        print(
            f"  {labels[name]:<52} {n / seconds:8.1f} events/s  {seconds:7.1f} s  "
            f"{seconds / t['floor']:5.2f}× floor"
        )

    def per_round(a: list[float], b: list[float]) -> float:
        return statistics.median(x / y for x, y in zip(a, b, strict=True))

    print(
        f"  1 worker / floor: {t['1 worker'] / t['floor']:.2f} (target ≤ 1.3); per round "
        f"{per_round(rounds['1 worker'], rounds['floor']):.2f}; in CPU time "
        f"{per_round(cpu['1 worker'], cpu['floor']):.2f}"
    )
    print(
        f"  2 workers vs 1: {t['1 worker'] / t['2 workers']:.2f}× faster (target ≥ 1.7); "
        f"per round {per_round(rounds['1 worker'], rounds['2 workers']):.2f}×"
    )
    print(
        f"  2 workers vs 1 in CPU time (1 worker's CPU / the busiest worker's CPU, what idle "
        f"cores would give): {per_round(cpu['1 worker'], cpu['busiest worker']):.2f}×"
    )
    fastest = {name: min(values) for name, values in rounds.items()}  # the least disturbed
    print(
        f"  fastest rounds: 1 worker / floor {fastest['1 worker'] / fastest['floor']:.2f}, "
        f"2 workers vs 1 {fastest['1 worker'] / fastest['2 workers']:.2f}×"
    )
    if splits:
        print(
            f"  2 workers vs 1, cluster startup included: "
            f"{t['1 worker'] / t['2 workers, cold']:.2f}×"
        )
    else:
        print(
            "  (the runner does not split one file into byte ranges yet: the 2-worker row "
            "runs this script's stand-in for a unit over each range of partition_hepmc)"
        )
    print("  every round: " + "; ".join(
        f"{name} " + ", ".join(f"{s:.1f}" for s in values) + " s"
        for name, values in rounds.items()))  # fmt: skip

    if not args.no_breakdown:
        times = breakdown(path, args.chunk_size)
        total = sum(times.values())
        print(
            f"  where one worker's time goes (one serial pass, {total:.1f} s; "
            f"floor {t['floor']:.1f} s):"
        )
        for stage, seconds in times.items():
            print(
                f"    {stage:<9} {seconds:7.2f} s  {100 * seconds / total:5.1f} %  "
                f"{seconds / t['floor']:5.2f}× floor"
            )


if __name__ == "__main__":
    main()
