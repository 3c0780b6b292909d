"""Truth events in, objects out: throughput next to bare pyhepmc, and peak memory.

Generates (once, seeded, into benchmarks/_data/, not committed) full-history 13 TeV Pythia8 tt̄
HepMC3 files, then prints, medians of several repeats on one core:

- the floor: bare ``pyhepmc.open`` iteration over the file;
- recast's reader (chunks of the columnar layout) and reader + objects (FastJet jets, labels,
  leptons, MET), as events/s and as a ratio to the floor;
- Pythia8 in process → objects, with no file in between;
- peak memory (VmHWM of a fresh process) reading 1k and 10k events.

    python benchmarks/bench_events.py [--events 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

from _timing import fresh_process_peak_mb, median_seconds

DATA = Path(__file__).resolve().parent / "_data"
TTBAR = ["Beams:eCM = 13000", "Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]


def sample(n_events: int, seed: int = 4242) -> Path:
    """A full-history tt̄ file of ``n_events`` (generated once, then reused)."""
    from recast.events.pythia import generate_to_hepmc

    path = DATA / f"ttbar_13TeV_{n_events}_seed{seed}.hepmc"
    if not path.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", file=sys.stderr)
        generate_to_hepmc(TTBAR, n_events, seed, path)
    return path


def bare_pyhepmc(path: Path) -> int:
    import pyhepmc

    n = 0
    with pyhepmc.open(path) as reader:
        for _ in reader:
            n += 1
    return n


def recast_read(path: Path, objects: bool) -> int:
    from recast.events.hepmc import HepMCReader
    from recast.objects import build_objects

    n = 0
    for chunk in HepMCReader(path, chunk_size=1000):
        if objects:
            build_objects(chunk)
        n += len(chunk)
    return n


def pythia_objects(n_events: int) -> int:
    from recast.events.pythia import generate
    from recast.objects import build_objects

    n = 0
    for chunk in generate(TTBAR, n_events, seed=99, chunk_size=500):
        build_objects(chunk)
        n += len(chunk)
    return n


def peak_memory_mb(path: Path) -> float:
    """Peak memory of a fresh process reading ``path`` in chunks of 1000 and building objects."""
    return fresh_process_peak_mb(
        f"import sys, pathlib; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"from bench_events import recast_read; recast_read(pathlib.Path({str(path)!r}), True)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--memory",
        type=int,
        nargs="*",
        default=[1000, 10000],
        help="file sizes (events) for the peak-memory measurement",
    )
    args = parser.parse_args()
    path = sample(args.events)
    size_mb = path.stat().st_size / 1e6
    n = args.events
    t_floor = median_seconds(lambda: bare_pyhepmc(path), args.repeats, warm_up=False)
    t_read = median_seconds(lambda: recast_read(path, objects=False), args.repeats, warm_up=False)
    t_objects = median_seconds(lambda: recast_read(path, objects=True), args.repeats, warm_up=False)
    n_gen = min(n, 500)
    t_pythia = median_seconds(lambda: pythia_objects(n_gen), 1, warm_up=False)
    print(
        f"Pythia8 tt̄ at 13 TeV, full history, {n} events, {size_mb:.0f} MB "
        f"({size_mb * 1e3 / n:.0f} kB/event); one core; median of {args.repeats}"
    )
    rows = [
        ("floor: bare pyhepmc.open iteration", t_floor, n),
        ("recast HepMCReader → columnar chunks", t_read, n),
        ("recast reader + objects (jets, labels, leptons, MET)", t_objects, n),
        ("Pythia8 in process → objects (no file)", t_pythia, n_gen),
    ]
    for label, seconds, count in rows:
        print(
            f"  {label:<56} {count / seconds:9.1f} events/s  {seconds / count * 1e3:6.2f} ms/event"
        )
    print(
        f"  reader / floor: {t_read / t_floor:.2f}   reader + objects / floor: "
        f"{t_objects / t_floor:.2f} (target ≤ 1.25)"
    )
    for size in args.memory:
        print(f"  peak memory, {size} events read + objects: {peak_memory_mb(sample(size)):.0f} MB")
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (this process, all of the above: {self_rss:.0f} MB)")


if __name__ == "__main__":
    main()
