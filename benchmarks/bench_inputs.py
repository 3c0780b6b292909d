"""Input building + inference for 1e5 events on the 87-input layout, one core.

Prints events/s for: bare onnxruntime on a prepared array (the floor), input building alone,
the whole chain (events → card → tensor → onnxruntime → labelled columns), and the chain at
the 8 parameter points of a parameterised network (kinematic block built once). Medians of
several repeats; the ratios are what to compare between machines.

    python benchmarks/bench_inputs.py [--events 100000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _timing import median_seconds

from recast.preserve.builder import InputBuilder
from recast.preserve.export import export_onnx_file
from recast.preserve.session import NetworkSession
from recast.preserve.standin import make_standin_mlp
from recast.toy import MULTIB_PUBLISHED_POINTS, multib_template, toy_events

POINTS = list(MULTIB_PUBLISHED_POINTS)


#: (label, hidden layers): a small MLP, and one with about the 4 MB of the published network
NETWORKS = (
    ("stand-in MLP 87→64→64→5", (64, 64)),
    ("stand-in MLP 87→1024→768→256→5 (4.3 MB, the published file's size)", (1024, 768, 256)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n = args.events
    samples = {
        "pT-ordered objects (as FastJet gives them)": toy_events(n, seed=1, ordered=True),
        "unordered objects (sorted by the builder)": toy_events(n, seed=1),
    }
    folder = Path(tempfile.mkdtemp(prefix="recast-bench-"))
    template = multib_template(np.zeros(87), np.ones(87), parameter_points=POINTS)
    point = POINTS[2]
    print(f"87-input layout, {n} toy events, 1 thread, median of {args.repeats}")
    for label, hidden in NETWORKS:
        stem = f"standin_{'_'.join(map(str, hidden))}"
        make_standin_mlp(folder / f"{stem}.onnx", hidden=hidden)
        card = export_onnx_file(folder / f"{stem}.onnx", template, folder, stem=stem)
        net = NetworkSession(card, threads=1)
        builder = InputBuilder(card)
        prepared = builder.build(samples[next(iter(samples))]).at(point)
        session, model = net.sessions[0], net.files[0]
        feeds = {model.node_name(k): v for k, v in prepared.items()}
        t_floor = median_seconds(lambda s=session, f=feeds: s.run(None, f), args.repeats)
        print(f"\n{label}")
        print(
            f"  {'floor: bare onnxruntime on a prepared array':<58} {t_floor * 1e3:8.1f} ms "
            f"{n / t_floor:12,.0f} events/s"
        )
        for sample_label, events in samples.items():
            t_build = median_seconds(lambda b=builder, e=events: b.build(e).at(point), args.repeats)
            t_chain = median_seconds(
                lambda s=net, e=events: s.evaluate(e, parameters=point), args.repeats
            )
            t_points = median_seconds(
                lambda s=net, e=events: s.evaluate(e, parameters=POINTS), args.repeats
            )
            print(f"  {sample_label}")
            rows = [
                ("input building (card → tensor)", t_build, n),
                ("end to end (events → labelled scores)", t_chain, n),
                (f"end to end, {len(POINTS)} parameter points", t_points, n * len(POINTS)),
            ]
            for what, seconds, count in rows:
                print(
                    f"    {what:<56} {seconds * 1e3:8.1f} ms {count / seconds:12,.0f} evaluations/s"
                )
            print(
                f"    building / inference {t_build / t_floor:.2f}, end to end / floor "
                f"{t_chain / t_floor:.2f}, end to end {n / t_chain:,.0f} events/s "
                "(target ≥ 100,000)"
            )


if __name__ == "__main__":
    main()
