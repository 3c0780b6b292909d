"""Surrogate tagger: training time, and sampling throughput next to its floor.

Trains a surrogate on the synthetic ``flavoured`` process (seeded), then times on held-out
events the runtime's ``sample_scores`` (inputs built from the events by the card, the ensemble
on onnxruntime, checks, inverse-CDF sampling) against the floor measured in the same run:
bare onnxruntime on the same network with the inputs already built. Medians of several
repeats, one thread.

    python benchmarks/bench_train_surrogate.py [--train-events 6000] [--events 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import awkward as ak
from _timing import median_seconds

from recast.detector.learned import SurrogateTagger
from recast.detector.maps import load_map
from recast.preserve.builder import InputBuilder
from recast.preserve.session import make_session
from recast.train import SurrogateTrainer
from recast.train.surrogate.samples import flavoured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-events", type=int, default=6000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    sample = flavoured(args.train_events, seed=1, score_seed=2)
    trainer = SurrogateTrainer(n_models=args.models, seed=0, threads=1)
    start = time.perf_counter()
    trainer.fit(sample.events, sample.score)
    training = time.perf_counter() - start
    epochs = sum(len(h.train_loss) for h in trainer.histories_)

    folder = tempfile.mkdtemp()
    tagger = load_map(trainer.export(folder, "surrogate", threshold=0.7))
    assert isinstance(tagger, SurrogateTagger)
    held_out = flavoured(args.events, seed=5, score_seed=6).events
    jets = int(ak.sum(ak.num(held_out.jets, axis=1)))
    card = tagger.card
    onnx_path = card.model_files()[0].path
    session = make_session(str(onnx_path), threads=1)
    prepared = {name: values for name, values in InputBuilder(card).build(held_out).at().items()}

    rows = [
        (
            "sample_scores (inputs built, ensemble, sampling)",
            lambda: tagger.sample_scores(held_out, 1),
        ),
        ("efficiency above the threshold", lambda: tagger.efficiency(held_out)),
        ("floor: bare onnxruntime on the prepared jets", lambda: session.run(None, prepared)),
    ]
    results = {
        "training": {
            "objects": trainer.n_objects_,
            "members": args.models,
            "epochs": epochs,
            "seconds": round(training, 2),
            "objects_x_epochs_per_second": round(trainer.n_objects_ * 0.8 * epochs / training),
        },
        "sampling_jets_per_second": {},
    }
    print(
        f"training: {trainer.n_objects_} jets, {args.models} members, {epochs} epochs in "
        f"{training:.1f} s ({results['training']['objects_x_epochs_per_second']:.3g} "
        "jet-epochs/s)"
    )
    for label, func in rows:
        seconds = median_seconds(func, args.repeats)
        results["sampling_jets_per_second"][label] = round(jets / seconds)
        print(f"{label:55} {jets / seconds:12.4g} jets/s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
