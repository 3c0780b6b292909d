"""Truth objects (jets, labels, leptons, photons, MET) for toy chunks, one core.

Prints events/s for: bare FastJet on the prepared visible particles (the floor: one anti-kT
R = 0.4 call on the whole chunk through fastjet's awkward interface), ``build_objects`` with
the defaults, with ghost labels, and with trimmed re-clustered large-R jets; and the split of
the default call into clustering (the floor) and the rest. Medians of several repeats.

    python benchmarks/bench_objects.py [--events 1000] [--particles 400] [--repeats 5]
"""

from __future__ import annotations

import argparse

import awkward as ak
import fastjet
import numpy as np
from _timing import median_seconds

from recast.objects import DEFAULT_INVISIBLE, ObjectConfig, build_objects, toy_truth_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--particles", type=int, default=400, help="toy size (≈1.25× final)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    events = toy_truth_chunk(args.events, n_particles=args.particles, seed=1)
    build_objects(events[:1])  # FastJet's banner, once, to stderr
    p = events.particles
    listed = ak.unflatten(np.isin(np.abs(ak.flatten(p.pid)), DEFAULT_INVISIBLE), ak.num(p))
    visible = ak.to_packed(p[(p.status == 1) & ~listed][["px", "py", "pz", "E"]])
    n_final = float(ak.mean(ak.num(visible)))
    print(
        f"{args.events} toy events, {float(ak.mean(ak.num(p))):.0f} particles and "
        f"{n_final:.0f} visible final-state particles per event"
    )
    jet_definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)

    def bare() -> object:
        return fastjet.ClusterSequence(visible, jet_definition).inclusive_jets(min_pt=20.0)

    runs = {
        "bare FastJet anti-kT 0.4 (floor)": bare,
        "build_objects, defaults": lambda: build_objects(events),
        "build_objects, ghost labels": lambda: build_objects(
            events, ObjectConfig(flavour_matching="ghost")
        ),
        "build_objects, + re-clustered trimmed R=1.0": lambda: build_objects(
            events, ObjectConfig(large_R="reclustered", trim_fcut=0.05)
        ),
        "build_objects, + anti-kT R=1.0 from particles, trimmed": lambda: build_objects(
            events, ObjectConfig(large_R="particles", trim_fcut=0.05)
        ),
    }
    seconds = {}
    for label, func in runs.items():
        seconds[label] = median_seconds(func, args.repeats)
        print(f"{label:58s} {args.events / seconds[label]:10.0f} events/s")
    floor = seconds["bare FastJet anti-kT 0.4 (floor)"]
    total = seconds["build_objects, defaults"]
    print(
        f"defaults: {1e3 * total / args.events:.3f} ms/event = clustering "
        f"{1e3 * floor / args.events:.3f} + the rest {1e3 * (total - floor) / args.events:.3f}"
    )


if __name__ == "__main__":
    main()
