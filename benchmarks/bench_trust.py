"""What the trust checks cost, next to a floor measured in the same run.

Prints, medians of several repeats on one core:

- reading a full-history tt̄ HepMC3 file with every event check (NaN, links, unphysical
  momenta, HepMC3's dropped links, cross-sections) against the same reader with the physics
  checks switched off, and against the floor: bare ``pyhepmc.open`` iteration;
- refusing duplicated inputs when two inputs have the same size (both are hashed, the worst
  case) against reading the same two files with pyhepmc, what any run of them does anyway;
- verifying the code digests of the flagship bundle against loading it whole.

    python benchmarks/bench_trust.py [--events 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _timing import median_seconds
from bench_events import bare_pyhepmc, recast_read, sample


def reader_without_physics_checks(path: Path) -> int:
    from recast.events import hepmc_columns

    original = hepmc_columns.Flat._physics
    hepmc_columns.Flat._physics = lambda self, found, cross_sections: None  # type: ignore[method-assign]
    try:
        return recast_read(path, objects=False)
    finally:
        hepmc_columns.Flat._physics = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = sample(args.events)
    megabytes = path.stat().st_size / 1e6
    print(f"{path.name}: {args.events} events, {megabytes:.0f} MB; medians of {args.repeats}")

    floor = median_seconds(lambda: bare_pyhepmc(path), args.repeats)
    checked = median_seconds(lambda: recast_read(path, objects=False), args.repeats)
    unchecked = median_seconds(lambda: reader_without_physics_checks(path), args.repeats)
    print(f"  floor, bare pyhepmc iteration      {floor:7.2f} s  {args.events / floor:8.0f} ev/s")
    print(
        f"  recast reader, every check         {checked:7.2f} s  {args.events / checked:8.0f} "
        f"ev/s  {checked / floor:.2f}× the floor"
    )
    print(
        f"  recast reader, no physics checks   {unchecked:7.2f} s  {args.events / unchecked:8.0f} "
        f"ev/s  {unchecked / floor:.2f}× the floor"
    )
    print(
        f"  the physics checks cost {100 * (checked - unchecked) / unchecked:+.1f} % of reading "
        "(within the noise when near 0)"
    )

    from recast.events.inputs import refuse_duplicates

    with tempfile.TemporaryDirectory() as tmp:
        twin = Path(tmp) / "twin.hepmc"
        shutil.copy(path, twin)
        with open(twin, "r+b") as handle:  # same size, other first event: both are hashed
            head = handle.read(1 << 20)
            line = head.index(b"\nP ") + 1
            digit = line + head[line:].index(b"\n") - 1  # the first particle's status
            handle.seek(digit)
            handle.write(b"9" if head[digit : digit + 1] != b"9" else b"8")
        hashing = median_seconds(lambda: refuse_duplicates([path, twin]), args.repeats)
    reading = 2 * floor
    print(
        f"  duplicate inputs, two same-size files hashed  {hashing:7.2f} s  "
        f"{2 * megabytes / hashing:6.0f} MB/s  {100 * hashing / reading:.1f} % of reading them"
    )

    from recast.analysis.bundle import load_bundle, read_document
    from recast.analysis.code import verified_code

    folder, document = read_document("DEMO_MULTIB_GLUINO")
    digests = median_seconds(lambda: verified_code(folder, document), args.repeats)
    whole = median_seconds(lambda: load_bundle("DEMO_MULTIB_GLUINO"), args.repeats)
    print(
        f"  DEMO_MULTIB_GLUINO code digests verified  {1e3 * digests:7.1f} ms  "
        f"{100 * digests / whole:.1f} % of loading the bundle ({1e3 * whole:.0f} ms)"
    )


if __name__ == "__main__":
    main()
