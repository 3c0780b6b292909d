"""What the reference experiment publishes of its network's inputs and outputs.

::

    python -m reference_experiment.publish_histograms --samples build/demo_multib \\
        --out analyses/DEMO_MULTIB_GLUINO

For each benchmark point of :data:`~reference_experiment.publish_results.BENCHMARKS` (the
points whose cutflows :mod:`reference_experiment.publish_results` publishes, from the same
samples), the analysis runs on the reference detector's objects exactly as for the cutflows,
and every row it feeds its network ``multib_demo`` is histogrammed as the network receives it
(the built, standardised input) by the recorder ``recast validate`` uses on the recast side
(:class:`recast.analysis.network_histograms.HistogramRecorder`):

* a handful of informative inputs (:data:`INPUTS`): the leading jet's pT and φ, its b-tag, the
  eighth jet's pT (a slot padded in about a third of the events), the leading lepton's pT
  (padded in the 0-lepton half) and E_T^miss;
* the output each network region cuts on (:data:`OUTPUTS`): P(Gtt) at the Gtt hypotheses,
  P(Gbb) at the Gbb ones.

Into the bundle: ``network_histograms/<benchmark>_multib_demo.json`` (schema
``network-histograms``: Σw per bin with √Σw², under- and overflow) and their digests under
``network_histograms`` of ``analysis.json``. ``publish_results`` writes the same files when it
publishes the cutflows; this module alone refreshes only the histograms.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recast.analysis import Analysis
from recast.analysis.bundle import stamp_code
from recast.analysis.network_histograms import (
    HistogramRecorder,
    HistogramSpec,
    HistogramSums,
    published_document,
)
from recast.errors import RecastError, UsageError
from recast.io import sha256_file, write_json
from recast.schema import load_json, validate

from .closure_yields import BUNDLE, load_analysis
from .read import sample_chunks

log = logging.getLogger(__name__)

NETWORK = "multib_demo"
#: the folder of the histogram documents, inside the bundle
FOLDER = "network_histograms"


def _uniform(low: float, high: float, step: float) -> tuple[float, ...]:
    """Edges from ``low`` to ``high`` every ``step`` (rounded: the edges JSON shows)."""
    count = round((high - low) / step)
    return tuple(round(low + k * step, 6) for k in range(count + 1))


#: the inputs histogrammed: card feature → (edges in the network's standardised units, what it
#: is). The padded values (0 GeV before preprocessing) are −0.771 for the eighth jet's pT and
#: −0.420 for the leading lepton's; a φ in [0, 2π) instead of (−π, π] lands beyond 1.75.
INPUTS: dict[str, tuple[tuple[float, ...], str]] = {
    "small_R_jets_pt_0": (
        _uniform(-2.0, 4.5, 0.25),
        "leading jet pT, (pT − 656.8 GeV) / 310.4 GeV",
    ),
    "small_R_jets_phi_0": (
        _uniform(-1.75, 1.75, 0.125),
        "leading jet φ, (φ − 0.030) / 1.818",
    ),
    "small_R_jets_isb_0": (
        (-2.0, -0.5, 0.5, 2.0),
        "leading jet b-tag (77 %): −1.121 untagged, 0.892 tagged",
    ),
    "small_R_jets_pt_7": (
        _uniform(-1.0, 3.5, 0.1),
        "eighth jet pT (padded with 0 GeV: −0.771 when there are fewer than eight jets)",
    ),
    "leptons_pt_0": (
        _uniform(-1.0, 6.0, 0.25),
        "leading signal lepton pT (padded with 0 GeV: −0.420 without one)",
    ),
    "met": (
        _uniform(-1.5, 4.5, 0.25),
        "E_T^miss, (E_T^miss − 624.0 GeV) / 308.2 GeV",
    ),
}
#: softmax probabilities pile up near 1 for signal and spread over decades below: edges in
#: decades of p and of 1 − p (float32 outputs reach 1 exactly: the last bin is closed)
PROBABILITY_EDGES = (
    0.0, 1e-6, 1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999, 1.0,
)  # fmt: skip


def histogram_specs(analysis_module: Any) -> tuple[HistogramSpec, ...]:
    """The inputs of :data:`INPUTS` and, per hypothesis of the analysis's ``NN_POINTS``, the
    output its network regions cut on (``signal_class``) at its parameter point."""
    specs = [HistogramSpec(NETWORK, "input", name, edges) for name, (edges, _) in INPUTS.items()]
    for tag in analysis_module.NN_POINTS:
        point = analysis_module.point_parameters(tag)
        specs.append(
            HistogramSpec(
                NETWORK,
                "output",
                analysis_module.signal_class(tag),
                PROBABILITY_EDGES,
                tuple(sorted((k, float(v)) for k, v in point.items())),
            )
        )
    return tuple(specs)


def descriptions(analysis_module: Any) -> dict[HistogramSpec, str]:
    """What each histogram shows, in words."""
    out = {}
    for spec in histogram_specs(analysis_module):
        if spec.kind == "input":
            out[spec] = INPUTS[spec.name][1]
        else:
            tag = next(
                t
                for t in analysis_module.NN_POINTS
                if tuple(sorted(analysis_module.point_parameters(t).items())) == spec.parameters
            )
            out[spec] = (
                f"P({spec.name}) at the hypothesis {tag}, the output the region "
                f"{analysis_module.nn_field(tag)} cuts on"
            )
    return out


def official_histograms(
    samples: str | os.PathLike[str],
    name: str,
    analysis: Analysis,
    specs: Sequence[HistogramSpec],
) -> dict[HistogramSpec, HistogramSums]:
    """The histograms of every row the analysis feeds its network on the reference detector's
    objects of the sample ``name`` (as :func:`.publish_results.official_cutflows` runs it)."""
    session = analysis.session(NETWORK)
    if session is None:
        raise UsageError(f"the network {NETWORK} is not loaded: nothing to histogram")
    recorder = HistogramRecorder(specs, session.card)
    session.observer = recorder
    try:
        for chunk in sample_chunks(samples, name, "detector"):
            analysis.derive(chunk)
    finally:
        session.observer = None
    return recorder.take()


def benchmark_histograms(
    samples: str | os.PathLike[str], name: str, analysis: Analysis, bundle_id: str
) -> dict[str, Any]:
    """The published document of one benchmark (validated)."""
    from .publish_results import benchmark_record

    module = sys.modules[type(analysis).__module__]
    specs = histogram_specs(module)
    recorded = official_histograms(samples, name, analysis, specs)
    rows = int(sum(recorded[specs[0]].raw))
    document = published_document(
        bundle_id,
        NETWORK,
        benchmark_record(samples, name),
        "every event the analysis feeds the network: those passing the preselection (≥ 4 "
        "signal jets, ≥ 3 b-jets at 77 %, E_T^miss > 200 GeV), evaluated at the four "
        "hypotheses of NN_POINTS; the inputs once per event, each output at its hypothesis",
        recorded,
        provenance={
            "analysis_id": bundle_id,
            "notes": (
                "the official detector-level histograms of the recast-nn reference experiment "
                f"(reference_experiment.publish_histograms): {rows} events of the benchmark "
                "sample through the reference detector and the analysis, every value as the "
                "network receives it (standardised); counts are raw numbers of events, errors "
                "their square roots"
            ),
        },
        descriptions=descriptions(module),
    )
    validate(document, "network-histograms", f"{name} histograms")
    if np.any(np.array([sum(recorded[s].raw) for s in specs]) == 0):
        raise UsageError(f"{name}: the network evaluated no event; remake the sample")
    return document


def write_histograms(
    out: Path, documents: dict[str, dict[str, Any]], document: dict[str, Any]
) -> list[str]:
    """Write the histogram documents (by benchmark) into the bundle ``out`` and list them,
    with their digests, under ``network_histograms`` of its ``document``; the paths."""
    (out / FOLDER).mkdir(exist_ok=True)
    paths = []
    for benchmark, histograms in documents.items():
        path = out / FOLDER / f"{benchmark}_{NETWORK}.json"
        write_json(path, histograms)
        paths.append(path.relative_to(out).as_posix())
    document["network_histograms"] = [{"path": p, "sha256": sha256_file(out / p)} for p in paths]
    return paths


def publish(
    samples: str | os.PathLike[str],
    out: str | os.PathLike[str] = BUNDLE,
    benchmarks: Sequence[str] | None = None,
) -> list[str]:
    """Publish the histograms alone (the cutflows stay as they are); returns the files."""
    from .publish_results import BENCHMARKS

    out = Path(out)
    analysis, skipped = load_analysis(out)
    if skipped:
        raise UsageError(f"{out}: regions {skipped} cannot run (no network); publish needs all")
    document = load_json(out / "analysis.json")
    documents = {
        name: benchmark_histograms(samples, name, analysis, str(document["id"]))
        for name in (benchmarks or BENCHMARKS)
    }
    paths = write_histograms(out, documents, document)
    write_json(out / "analysis.json", stamp_code(out, document))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_experiment.publish_histograms",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("--samples", type=Path, default=Path("build/demo_multib"))
    parser.add_argument("--out", type=Path, default=BUNDLE, help="the bundle folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        paths = publish(args.samples, args.out)
    except RecastError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    for path in paths:
        print(f"wrote {args.out / path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
