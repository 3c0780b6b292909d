"""The HepMC3 reader alone: the columnar parser next to bare pyhepmc and to recast's pyhepmc path.

On the full-history Pythia8 Gtt file of ``bench_stages.py`` (generated once, seeded, into
benchmarks/_data/, not committed), plain and gzip-compressed, prints medians of several
repeats:

- the floor: bare ``pyhepmc.open`` iteration over the file (it builds each event, nothing more);
- recast's ``HepMCReader`` with ``parser="columnar"`` (the default) and ``parser="pyhepmc"``,
  both yielding the same chunks (particles, vertices, links, weights, checks), as events/s and
  as the speed-up over the floor (target of issue 17: ≥ 8 for the columnar reader, plain file);
- how many events each parser read (the columnar reader hands what it doubts to pyhepmc);
- peak memory: the peak resident memory (VmHWM) of a fresh process reading the file at the
  default chunk size.

    python benchmarks/bench_reader.py [--events 1000] [--repeats 3] [--inputs plain gzip]
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import fresh_process_peak_mb, median_seconds
from bench_events import bare_pyhepmc
from bench_stages import sample


def read(path: Path, parser: str) -> dict[str, int]:
    from recast.events.hepmc import HepMCReader

    reader = HepMCReader(path, chunk_size=1000, parser=parser)
    for _ in reader:
        pass
    return reader.events_by_parser


def peak_memory_mb(path: Path, parser: str) -> float:
    """Peak memory of a fresh process reading ``path`` in chunks of 1000."""
    return fresh_process_peak_mb(
        f"import sys, pathlib; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"from bench_reader import read; read(pathlib.Path({str(path)!r}), {parser!r})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inputs", nargs="+", default=["plain", "gzip"], choices=["plain", "gzip"])
    args = parser.parse_args()
    plain = sample(args.events)
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[0]
    print(
        f"HepMC3 reading: Pythia8 Gtt (m(g̃) = 2100 GeV) at 13 TeV, full history, {args.events} "
        f"events; median of {args.repeats} (load average {load} before the run)"
    )
    for kind in args.inputs:
        path = plain if kind == "plain" else plain.with_name(plain.name + ".gz")
        size_mb = path.stat().st_size / 1e6
        floor = median_seconds(lambda p=path: bare_pyhepmc(p), args.repeats, warm_up=False)
        times: dict[str, float] = {}
        counts: dict[str, dict[str, int]] = {}
        for name in ("columnar", "pyhepmc"):
            times[name] = median_seconds(
                lambda p=path, n=name, into=counts: into.__setitem__(n, read(p, n)),
                args.repeats,
                warm_up=False,
            )
        print(f"\n{kind} ({size_mb:.0f} MB)")
        rows = [
            ("floor: bare pyhepmc.open iteration", floor),
            ("HepMCReader(parser='columnar') → chunks", times["columnar"]),
            ("HepMCReader(parser='pyhepmc') → chunks", times["pyhepmc"]),
        ]
        for label, seconds in rows:
            print(
                f"  {label:<44} {seconds:7.2f} s  {args.events / seconds:8.1f} events/s  "
                f"floor / this = {floor / seconds:5.2f}×"
            )
        print(f"  events read by each parser (columnar read): {counts['columnar']}")
        for name in ("columnar", "pyhepmc"):
            print(f"  peak memory, {name}: {peak_memory_mb(path, name):.0f} MB")
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
