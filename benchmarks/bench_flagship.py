"""The flagship recast per event: each published detector emulation and the analysis with its
network, next to the truth-object building of the same events (the floor every recast pays).

Generates (in process, seeded) Pythia8 events of one flagship point, builds their truth
objects once, then prints medians of several repeats on one core:

- the floor: :func:`recast.objects.build_objects` on the same events;
- ``detector.json`` / ``detector_learned.json`` / ``detector_surrogate.json`` of
  DEMO_MULTIB_GLUINO applied to the truth objects (smearing, lepton maps, b-tagging: a binned
  map, a learned map's ONNX ensemble, or the surrogate's sampled scores);
- the analysis on the emulated objects: derived variables, re-clustering, the network at its
  four hypotheses, every region's cuts;
- the tag resampling of the experiment's background estimate (50 draws of an event's b-tags).

    python benchmarks/bench_flagship.py [--sample Gtt_2100_800] [--events 2000] [--repeats 5]
"""

from __future__ import annotations

from functools import partial

import awkward as ak
from bench_reference import sample_setup, timed_rows

from recast.detector.description import load_detector
from recast.objects import build_objects
from reference_experiment import REFERENCE_OBJECTS, ReferenceDetector
from reference_experiment.closure_yields import BUNDLE, EMULATIONS, load_analysis


def main() -> None:
    args, events, objects, rate = sample_setup(__doc__)
    analysis, skipped = load_analysis(BUNDLE)
    assert not skipped, f"the network did not load: {skipped}"
    emulations = {name: load_detector(BUNDLE / path) for name, path in EMULATIONS.items()}
    emulated = {name: d.apply(objects, 1) for name, d in emulations.items()}
    reference = ReferenceDetector()
    reco = reference.apply(objects, 1)
    n = len(events)
    print(
        f"{args.sample}: {n} events, 1 core, median of {args.repeats} "
        f"(generation once: {rate:,.0f} events/s)"
    )

    def run_analysis(chunk: ak.Array) -> None:
        analysis.cut_values(analysis.derive(chunk))

    def resample() -> None:
        for k in range(50):
            reference.retag(reco, 100 + k)

    rows = [
        ("floor: build_objects (truth objects)", lambda: build_objects(events, REFERENCE_OBJECTS))
    ]
    for name, detector in emulations.items():
        rows.append((f"emulation {name}", partial(detector.apply, objects, 1)))
    rows.append(("analysis + network (learned objects)", lambda: run_analysis(emulated["learned"])))
    rows.append(("50 b-tag resamplings (background estimate)", resample))
    seconds = timed_rows(rows, args.repeats, n, width=44)
    floor = seconds[rows[0][0]]
    for label, _ in rows[1:]:
        print(f"  {label:<44} {seconds[label] / floor:6.3f} of the floor's time")


if __name__ == "__main__":
    main()
