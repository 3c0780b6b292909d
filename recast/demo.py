"""`make demo`: the chain end to end on a built-in default.

Until the flagship analysis exists this runs what the package can do today, for real: it
publishes a network the way an experiment would (ONNX + card with reference vectors and
digest), checks the card as a validator would, then evaluates it as a theorist would on a
chunk of events at the eight published parameter points of the ATLAS-SUSY-2018-30 network.
The network is a seeded stand-in with that network's signature and the events are toys:
the scores mean nothing physically, every step around them is the real code path. Then it
recasts the shipped example bundle on a gluino point generated in process with Pythia8.

    python -m recast.demo [--events 20000] [--out out/demo]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import awkward as ak
import numpy as np
from rich.console import Console
from rich.table import Table

from .preserve.builder import InputBuilder
from .preserve.card import NetworkCard
from .preserve.check import check_card
from .preserve.export import export_onnx_file, template_card
from .preserve.session import NetworkSession
from .preserve.standin import make_standin_mlp
from .toy import MULTIB_PUBLISHED_POINTS, multib_template, toy_events

log = logging.getLogger(__name__)

PUBLISHED_POINTS = list(MULTIB_PUBLISHED_POINTS)


def publish(folder: Path) -> NetworkCard:
    """The experimentalist's side: a network and its card, normalised on a training sample."""
    training = toy_events(20_000, seed=11, ordered=True)
    # normalisation from the training sample, as an experiment derives it
    raw = _raw_inputs(training)
    means, stds = raw.mean(axis=0), raw.std(axis=0)
    stds[stds == 0] = 1.0
    template = multib_template(means, stds, parameter_points=PUBLISHED_POINTS)
    make_standin_mlp(folder / "standin.onnx", seed=2018)
    return export_onnx_file(folder / "standin.onnx", template, folder, stem="demo_multib_87")


def _raw_inputs(events: ak.Array) -> np.ndarray:
    """The 87 inputs before normalisation (mean 0, std 1), parameters at the published points."""
    built = InputBuilder(template_card(multib_template())).build(events)
    return np.concatenate([built.at(p)["input_1"] for p in PUBLISHED_POINTS]).astype(np.float64)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="recast-nn demo on a built-in default")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument(
        "--signal-events",
        type=int,
        default=500,
        help="Pythia8 events for the recast of the example bundle (0: skip)",
    )
    args = parser.parse_args(argv)
    console = Console()
    args.out.mkdir(parents=True, exist_ok=True)

    console.rule("1. publish: stand-in network with the ATLAS-SUSY-2018-30 signature + card")
    card = publish(args.out)
    console.print(f"wrote {card.source} and {card.model_files()[0].path}")

    console.rule("2. validate: recast card check")
    for line in check_card(card.source).checked:
        console.print(f"[green]ok[/green]  {line}")

    console.rule(f"3. recast: {args.events} events through the card at 8 parameter points")
    events = toy_events(args.events, seed=2024)
    net = NetworkSession(NetworkCard.load(card.source))
    start = time.perf_counter()
    scores = net.evaluate(events, parameters=PUBLISHED_POINTS)
    seconds = time.perf_counter() - start
    table = Table(title="network scores per hypothesis (stand-in network, toy events)")
    for column in ("hypothesis", "mean P(Gtt)", "mean P(Gbb)", "events with P(signal) > 0.5"):
        table.add_column(column, justify="right")
    for point, score in zip(PUBLISHED_POINTS, scores, strict=True):
        label = "Gtt" if point["isGtt"] else "Gbb"
        signal = ak.to_numpy(score[label])
        table.add_row(
            f"{label} ({point['mGluino']}, {point['mLSP']})",
            f"{float(ak.mean(score.Gtt)):.4f}",
            f"{float(ak.mean(score.Gbb)):.4f}",
            f"{int((signal > 0.5).sum())}",
        )
    console.print(table)
    console.print(
        f"{args.events * len(PUBLISHED_POINTS) / seconds:,.0f} network evaluations/s "
        f"(inputs built once per chunk, {len(PUBLISHED_POINTS)} points in one call)"
    )
    if args.signal_events:
        recast_signal_point(console, args.out, args.signal_events)


def recast_signal_point(console: Console, folder: Path, n_events: int) -> None:
    """The theorist's path on the shipped example bundle: a gluino point generated in
    process with Pythia8 → objects → detector → selection → yields at σ·L."""
    from .analysis.run import recast_run
    from .events.slha import write_gluino_slha
    from .report.results_table import results_tables

    console.rule(
        f"4. recast EXAMPLE_JETS_MET on {n_events} Pythia8 events, "
        "g̃g̃ → (tt̄χ̃⁰₁)(tt̄χ̃⁰₁), m(g̃) = 1200 GeV, m(χ̃⁰₁) = 100 GeV"
    )
    slha = write_gluino_slha(folder / "gtt_1200_100.slha", 1200.0, 100.0, "ttbar")
    start = time.perf_counter()
    document = recast_run(
        "EXAMPLE_JETS_MET",
        [],
        pythia_slha=slha,
        n_events=n_events,
        seed=7,
        output=folder / "results.json",
    )
    seconds = time.perf_counter() - start
    for table in results_tables(document):
        console.print(table)
    console.print(
        f"wrote {folder / 'results.json'}: {n_events} events generated and recast "
        f"in {seconds:.1f} s (cross-section: Pythia8's LO estimate)"
    )


if __name__ == "__main__":
    main()
