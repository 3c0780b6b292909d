"""Selective-simulation filter: inference throughput next to its floor and the generation time.

Generates tt̄ events with Pythia8 (or toy decay trees with ``--toy``), labels them with the
selection of :mod:`recast.train.filter.samples` (≥ 4 jets pT > 30 GeV, ≥ 1 isolated lepton
pT > 25 GeV), trains a small filter (a few epochs: the throughput does not depend on how well it
is trained) with the default 100 particle slots, exports it, and times on the same events:

* the filter as used after generation: graphs built from the truth record, preprocessed, the
  exported network on onnxruntime (one thread);
* its parts: building the padded graphs alone; the torch network on the prepared tensors;
* the floor: bare onnxruntime on the same ONNX with the same padded tensors already built;
* and, for scale, the CPU time per event of generating the events and of building objects +
  the selection (the downstream chain the filter would save, here without detector simulation).

Medians of several repeats of this process's CPU time (the machine is shared: wall-clock
time would measure the neighbours; everything here runs on one thread).

    python benchmarks/bench_train_filter.py [--events 600] [--repeats 5] [--toy]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import awkward as ak
import numpy as np
from _timing import median_seconds

from recast.events.graphs import graph_arrays, preprocess
from recast.preserve.session import make_session
from recast.train.filter.card import ADJACENCY, MASK, NODES
from recast.train.filter.samples import SELECTION_DEFAULTS, select_events
from recast.train.filter.toy import decay_tree_events
from recast.train.filter.trainer import FilterTrainer

TTBAR = ["Beams:eCM = 13000", "Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]


def sample(n: int, toy: bool) -> tuple[ak.Array, np.ndarray, float, float | None]:
    """Events, labels, generation and downstream CPU seconds per event."""
    start = time.process_time()
    if toy:
        events, truth = decay_tree_events(n, seed=1)
        return events, truth["passed"], (time.process_time() - start) / n, None
    from recast.events.pythia import generate
    from recast.objects import build_objects

    events = ak.concatenate(list(generate(TTBAR, n, seed=1, chunk_size=200)))
    generated = time.process_time()
    passed, _ = select_events(build_objects(events), SELECTION_DEFAULTS)
    return events, passed, (generated - start) / n, (time.process_time() - generated) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--toy", action="store_true", help="toy decay trees instead of Pythia8")
    args = parser.parse_args()

    events, passed, generation, downstream = sample(args.events, args.toy)
    trainer = FilterTrainer(max_epochs=3, seed=0, threads=1)
    start = time.perf_counter()
    trainer.fit(events, passed)
    training = time.perf_counter() - start
    card = trainer.export(tempfile.mkdtemp(), "bench_filter")
    session = make_session(str(card.with_name("bench_filter.onnx")), threads=1)
    graphs = trainer.graphs(events)
    prepared = {
        NODES: preprocess(graphs, trainer.scaling_),
        ADJACENCY: graphs.adjacency.astype(np.float32),
        MASK: graphs.mask,
    }
    n, batch = len(events), args.batch

    def batches(feeds: dict[str, np.ndarray]) -> None:
        for first in range(0, n, batch):
            session.run(None, {k: v[first : first + batch] for k, v in feeds.items()})

    def end_to_end() -> None:
        built = graph_arrays(events, trainer.max_particles, trainer.ordering)
        batches(
            {
                NODES: preprocess(built, trainer.scaling_),
                ADJACENCY: built.adjacency.astype(np.float32),
                MASK: built.mask,
            }
        )

    rows = [
        ("filter: graphs from the truth record + onnxruntime", end_to_end),
        (
            "graphs alone (crop/pad to 100, links)",
            lambda: graph_arrays(events, trainer.max_particles, trainer.ordering),
        ),
        ("torch network on the prepared graphs", lambda: trainer.predict(graphs)),
        ("floor: bare onnxruntime, same ONNX, same padded tensors", lambda: batches(prepared)),
    ]
    particles = float(ak.mean(ak.num(events.particles)))
    results: dict[str, object] = {
        "source": "toy decay trees" if args.toy else "Pythia8 ttbar 13 TeV",
        "events": n,
        "mean_particles_per_event": round(particles, 1),
        "cropped_fraction": round(graphs.cropped_fraction(), 3),
        "training_seconds": round(training, 2),
        "generation_cpu_seconds_per_event": generation,
        "downstream_cpu_seconds_per_event": downstream,
        "events_per_second": {},
    }
    print(
        f"{results['source']}: {n} events, {particles:.0f} particles each on average; "
        f"generation {1e3 * generation:.2f} ms/event"
        + (f", objects + selection {1e3 * downstream:.2f} ms/event" if downstream else "")
    )
    for label, func in rows:
        seconds = median_seconds(func, args.repeats, clock=time.process_time)
        results["events_per_second"][label] = round(n / seconds)  # type: ignore[index]
        print(f"{label:58} {n / seconds:10.4g} events/s")
    print(f"{'generation (for scale)':58} {1 / generation:10.4g} events/s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
