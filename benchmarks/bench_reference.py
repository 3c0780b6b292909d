"""The reference experiment's detector: throughput next to the truth objects it starts from.

Generates (in process, seeded) Pythia8 events of one flagship sample, builds their truth
objects once, then prints, medians of several repeats on one core:

- the floor: :func:`recast.objects.build_objects` on the same events (FastJet clustering,
  labels, leptons, MET), which every sample pays anyway;
- the reference detector (:class:`reference_experiment.ReferenceDetector`): jet response, the
  proximity ΔR, b-tag scores, leptons, MET, as events/s and as a fraction of the floor's time.

    python benchmarks/bench_reference.py [--sample Gtt_2100_800] [--events 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import awkward as ak
from _timing import median_seconds

from recast.events.pythia import generate, pythia_settings
from recast.events.slha import write_gluino_slha
from recast.objects import build_objects
from reference_experiment import REFERENCE_OBJECTS, ReferenceDetector
from reference_experiment.grid import load_grid


def events_of(name: str, n: int, seed: int, folder: Path) -> ak.Array:
    grid = load_grid()
    sample = grid.sample(name)
    if sample.is_signal:
        slha = folder / f"{name}.slha"
        assert sample.m_gluino is not None and sample.m_lsp is not None and sample.decay
        write_gluino_slha(slha, sample.m_gluino, sample.m_lsp, sample.decay)
        setup = pythia_settings(slha, e_cm=grid.e_cm)
    else:
        setup = [f"Beams:eCM = {grid.e_cm:g}", *sample.settings]
    return ak.concatenate(list(generate(setup, n, seed, chunk_size=n)))


def sample_setup(description: str) -> tuple[argparse.Namespace, ak.Array, ak.Array, float]:
    """The options of the reference benchmarks, then one sample's events generated once (in
    process, seeded), their truth objects, and the generation rate in events/s."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--sample", default="Gtt_2100_800")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        events = events_of(args.sample, args.events, args.seed, Path(tmp))
        rate = len(events) / (time.perf_counter() - start)
    return args, events, build_objects(events, REFERENCE_OBJECTS), rate


def timed_rows(
    rows: Sequence[tuple[str, Callable[[], object]]], repeats: int, n: int, width: int
) -> dict[str, float]:
    """Each row's median seconds over ``repeats``, printed as ms and events/s as it comes."""
    seconds = {}
    for label, func in rows:
        seconds[label] = median = median_seconds(func, repeats)
        print(f"  {label:<{width}} {median * 1e3:9.1f} ms {n / median:12,.0f} events/s")
    return seconds


def main() -> None:
    args, events, objects, rate = sample_setup(__doc__)
    detector = ReferenceDetector()
    n = len(events)
    n_jets = int(ak.sum(ak.num(objects.jets)))
    print(
        f"{args.sample}: {n} events, {n_jets / n:.1f} truth jets per event, 1 core, "
        f"median of {args.repeats} (generation once: {rate:,.0f} events/s)"
    )
    rows = [
        ("floor: build_objects (truth objects)", lambda: build_objects(events, REFERENCE_OBJECTS)),
        ("reference detector (from the objects)", lambda: detector.apply(objects, seed=1)),
    ]
    seconds = timed_rows(rows, args.repeats, n, width=42)
    floor, ours = (seconds[label] for label, _ in rows)
    print(f"  reference detector / floor: {ours / floor:.3f} of the time")


if __name__ == "__main__":
    main()
