"""In-process Pythia8 generation of a gluino signal point, one core.

Prints events/s (CPU time of this process, so that other load on the machine does not count)
for: bare ``pythia.next()`` (the floor: generation alone, nothing extracted),
Pythia's own one-event awkward batches, recast's chunks (generation + extraction of every
particle, HepMC statuses and the vertex graph), writing those chunks to HepMC3, and the whole
``generate_to_hepmc``. Every measurement generates the same events (same seed).

    python benchmarks/bench_generate.py [--events 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import awkward as ak
import pythia8mc

from recast.events.hepmc_writer import write_hepmc
from recast.events.pythia import PythiaGenerator, generate_to_hepmc
from recast.events.slha import write_gluino_slha


def rate(n: int, seconds: float) -> str:  # seconds: CPU time
    return f"{n / seconds:8.1f} events/s  ({1e3 * seconds / n:6.2f} ms/event)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, seed = args.events, args.seed

    with tempfile.TemporaryDirectory() as tmp:
        slha = write_gluino_slha(Path(tmp) / "gtt.slha", 1200, 100)
        print(f"gluino pair production, m(g~) = 1200 GeV -> t t~ chi10 (100 GeV), {n} events")

        with PythiaGenerator(slha, seed) as generator:  # same settings, bare Pythia loop
            pythia: pythia8mc.Pythia = generator.pythia
            start = time.process_time()
            for _ in range(n):
                pythia.next()
            print(f"  pythia.next() alone             {rate(n, time.process_time() - start)}")

        with PythiaGenerator(slha, seed) as generator:
            start = time.process_time()
            for _ in range(n):
                generator.pythia.nextBatch(1, "skip")
            print(f"  pythia.nextBatch(1) alone       {rate(n, time.process_time() - start)}")

        start = time.process_time()
        generator = PythiaGenerator(slha, seed)
        print(f"  (Pythia init: {time.process_time() - start:.2f} s, not counted below)")
        start = time.process_time()
        chunks = list(generator.chunks(n, chunk_size=100))
        seconds = time.process_time() - start
        generator.close()
        print(f"  generator.chunks() -> chunks    {rate(n, seconds)}")
        events = ak.concatenate(chunks)
        mean = ak.mean(ak.num(events.particles, axis=1))
        print(f"    ({mean:.0f} particles per event on average)")

        start = time.process_time()
        write_hepmc(chunks, Path(tmp) / "gtt.hepmc")
        print(f"  write_hepmc() of those chunks   {rate(n, time.process_time() - start)}")

        start = time.process_time()
        summary = generate_to_hepmc(slha, n, seed, Path(tmp) / "gtt2.hepmc")
        seconds = time.process_time() - start
        print(f"  generate_to_hepmc() incl. init  {rate(n, seconds)}")
        print(
            f"  cross-section {summary['cross_section_pb']:.4f} "
            f"± {summary['cross_section_error_pb']:.4f} pb"
        )


if __name__ == "__main__":
    main()
