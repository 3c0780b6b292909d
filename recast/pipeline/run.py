"""`recast run` and `recast validate` as API functions: check arguments, run, write atomically.

    from recast.pipeline.run import recast_run
    results = recast_run("EXAMPLE_JETS_MET", ["events.hepmc"], xsec="46fb", output="out.json")
    results["yields"]["SR_loose"]["value"]

Every argument is checked before the first event is read, so a typo does not cost a run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..analysis.bundle import Bundle, load_bundle
from ..analysis.cutflow import compare
from ..analysis.network_histograms import (
    DEFAULT_P_VALUE,
    HistogramSpec,
    compare_documents,
    histogram_specs,
)
from ..analysis.settings import choose_detector, network_cards, option_values, runnable_regions
from ..arguments import arg, given
from ..errors import GenerationError, UsageError, closest
from ..events.hepmc_text import not_an_event_file
from ..events.inputs import refuse_duplicates
from ..io import PLOT_SUFFIXES, check_outputs, write_json
from ..parallel import check_workers
from ..version import __version__
from .benchmarks import find_benchmark
from .normalise import (
    check_expected_events,
    check_luminosity,
    cross_section_pb,
    normalisation,
)
from .runner import ChainOptions, Progress, UnitResult, WorkUnit, pythia_units, run_units, units_for

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

#: the seed of a run when none is given
DEFAULT_SEED = 1


class RunOptions(TypedDict, total=False):
    """How events are run: the keywords :func:`recast_run`, :func:`recast_validate` and
    :func:`execute` share (defaults: those of :func:`execute`)."""

    seed: int
    chunk_size: int
    workers: int
    scheduler: str | None
    skip_bad: bool
    hepmc_parser: str
    pythia_slha: str | Path | None
    pythia_process: str | None
    n_events: int | None
    networks: Mapping[str, str | Path] | None
    options: Mapping[str, Any] | None
    detector: str | Path | None
    progress: Progress | None


def _units(
    events: Sequence[str | Path],
    pythia_slha: str | Path | None,
    n_events: int | None,
    seed: int,
    workers: int = 1,
    pythia_process: str | None = None,
) -> list[WorkUnit]:
    if pythia_slha is not None:
        if events:
            raise UsageError(f"give event files or {arg('pythia_slha')}, not both")
        if not n_events or n_events < 1:
            raise UsageError(
                f"{arg('pythia_slha')} needs {arg('n_events')} (a positive number of events)"
            )
        if not Path(pythia_slha).is_file():
            raise UsageError(f"{given('pythia_slha', pythia_slha)}: no such file")
        if pythia_process is None:
            return pythia_units(pythia_slha, n_events, seed)
        from ..model import process_settings

        settings = process_settings(pythia_process, Path(pythia_slha).resolve())
        return pythia_units(pythia_slha, n_events, seed, settings)
    if pythia_process is not None:
        raise UsageError(f"{arg('pythia_process')} is the production to generate with "
                         f"{arg('pythia_slha')}; give that too, or drop it")  # fmt: skip
    if n_events is not None:
        raise UsageError(
            f"{arg('n_events')} is the number of events to generate with {arg('pythia_slha')}"
        )
    if isinstance(events, str | Path):  # one path, not a list of its characters
        events = [events]
    if not events:
        raise UsageError(
            "no input: give HepMC3 files, Parquet caches, or "
            f"{arg('pythia_slha')} with {arg('n_events')}"
        )
    for path in events:
        problem = not_an_event_file(Path(path))  # nothing read: a pipe must never block
        if problem is not None:
            raise UsageError(f"{path}: {problem.replace('no such file', 'no such event file')}")
    refuse_duplicates(events)  # before any event is read: no sample counted twice
    return units_for(events, workers)


def execute(
    bundle: Bundle,
    events: Sequence[str | Path],
    *,
    seed: int = DEFAULT_SEED,
    chunk_size: int = 1000,
    workers: int = 1,
    scheduler: str | None = None,
    skip_bad: bool = False,
    hepmc_parser: str = "columnar",
    pythia_slha: str | Path | None = None,
    pythia_process: str | None = None,
    n_events: int | None = None,
    networks: Mapping[str, str | Path] | None = None,
    options: Mapping[str, Any] | None = None,
    detector: str | Path | None = None,
    progress: Progress | None = None,
    cross_section_given: bool = False,
    record_histograms: str | None = None,
) -> tuple[UnitResult, dict[str, Any]]:
    """Run the chain of ``bundle`` over all inputs: the merged, unnormalised result and the
    run's settings (option values, regions skipped for want of a network, network files used,
    the detector description used).

    ``hepmc_parser``: how HepMC3 files are parsed (:data:`recast.events.hepmc.PARSERS`):
    ``columnar`` (whole blocks at once; pyhepmc for what it doubts) or ``pyhepmc``.

    ``detector`` is a name from the bundle's ``detectors`` (or ``default``), or the path of a
    detector description file; None uses the bundle's ``detector``.
    ``cross_section_given``: the caller normalises with its own cross-section, so the one
    the event files state is not used, and one that is ≤ 0 or NaN is only warned about.
    ``record_histograms``: a benchmark whose published network histograms the run records
    (what its networks are fed and give; :func:`validation_verdict` compares them); None
    records nothing.
    """
    if chunk_size < 1:
        raise UsageError(f"{arg('chunk_size')} must be positive, not {chunk_size}")
    if scheduler is None:
        check_workers(workers)  # a local cluster larger than the machine: before any work
    elif workers < 1:
        raise UsageError(f"{arg('workers')} must be at least 1, not {workers}")
    from ..events.hepmc import PARSERS

    if hepmc_parser not in PARSERS:
        raise UsageError(
            f"{arg('hepmc_parser')} must be one of {', '.join(PARSERS)}, not {hepmc_parser!r}"
        )
    chain_options, settings = prepare_chain(
        bundle,
        seed=seed,
        chunk_size=chunk_size,
        skip_bad=skip_bad,
        hepmc_parser=hepmc_parser,
        networks=networks,
        options=options,
        detector=detector,
        cross_section_given=cross_section_given,
        record_histograms=record_histograms,
    )
    units = _units(events, pythia_slha, n_events, seed, workers, pythia_process)
    result = run_units(units, chain_options, workers, scheduler, progress, bundle)
    return result, settings


def prepare_chain(
    bundle: Bundle,
    *,
    seed: int = DEFAULT_SEED,
    chunk_size: int = 1000,
    skip_bad: bool = False,
    hepmc_parser: str = "columnar",
    networks: Mapping[str, str | Path] | None = None,
    options: Mapping[str, Any] | None = None,
    detector: str | Path | None = None,
    cross_section_given: bool = False,
    record_histograms: str | None = None,
) -> tuple[ChainOptions, dict[str, Any]]:
    """What every worker's chain of ``bundle`` needs, checked before any event: the options,
    the detector and the network files; and the run's settings as :func:`execute` returns
    them (a region without its network file is skipped, and said so here, once).
    ``record_histograms``: the benchmark whose published network histograms to record."""
    values = option_values(bundle, options or {})
    chosen = choose_detector(bundle, detector)  # an unknown name or a bad file: before any event
    files = {name: str(path) for name, path in (networks or {}).items()}
    cards, unavailable = network_cards(bundle, files)  # a wrong --network fails before any event
    _, skipped = runnable_regions(bundle, unavailable)
    if skipped:  # said once here; every worker's chain skips the same regions silently
        log.warning(
            "%s: %d region(s) skipped for want of a network file: %s",
            bundle.id,
            len(skipped),
            ", ".join(skipped),
        )
    chain_options = ChainOptions(
        str(bundle.folder.resolve()),  # workers load it by path, wherever they run
        seed=seed,
        chunk_size=chunk_size,
        skip_bad=skip_bad,
        hepmc_parser=hepmc_parser,
        networks=tuple(sorted(files.items())),
        options=tuple(sorted(values.items())),
        detector="" if chosen is None else str(chosen.path),
        sqrt_s_gev=float(bundle.document["sqrt_s"]) * 1000.0,
        file_cross_sections=not cross_section_given,
        histograms=_histograms_to_record(bundle, record_histograms, unavailable),
    )
    settings: dict[str, Any] = {
        "options": values,
        "skipped": skipped,
        "networks": {
            name: [f"{m.path} ({m.digest})" for m in card.model_files()]
            for name, card in cards.items()
        },
    }
    if chosen is not None:
        settings["detector"] = chosen.provenance()
    return chain_options, settings


def _histograms_to_record(
    bundle: Bundle, benchmark: str | None, unavailable: Mapping[str, str]
) -> tuple[HistogramSpec, ...]:
    """The published network histograms of ``benchmark`` whose network the run loads."""
    if benchmark is None:
        return ()
    documents = bundle.published_histograms(benchmark)
    missing = sorted({d["network"] for d in documents if d["network"] in unavailable})
    if missing:  # the network's regions are skipped already, and said so
        log.warning(
            "%s: the published histograms of network(s) %s are not compared (not loaded)",
            bundle.id,
            ", ".join(missing),
        )
    return histogram_specs(d for d in documents if d["network"] not in unavailable)


def recast_run(
    analysis: str | Path,
    events: Sequence[str | Path],
    *,
    xsec: str | float | None = None,
    lumi: float | None = None,
    output: str | Path | None = None,
    **run: Unpack[RunOptions],
) -> dict[str, Any]:
    """Yields and cutflows of every region at σ × L, as a validated results document.

    ``run`` says how the events are run (:class:`RunOptions`): ``seed``, ``chunk_size``,
    ``workers``, ``scheduler``, ``skip_bad``, ``hepmc_parser``, ``pythia_slha`` with ``n_events``
    (and ``pythia_process``, the production: gluino pairs by default),
    ``networks`` (model files by network name, for networks a bundle cannot ship),
    ``options`` (the bundle's options, see :mod:`recast.analysis.settings`), ``detector``
    (a name from the bundle's ``detectors``, ``default``, or a detector description file),
    ``progress``.
    ``xsec`` is a string with a unit (``"12.3fb"``) or a number in pb; without it, the
    generator's own cross-section from the events. ``output`` (``-`` for stdout) is checked
    before any event is read (:func:`recast.io.check_output`: not an input, not a folder,
    writable) and written only once the whole run succeeded.
    """
    cross_section = cross_section_pb(xsec)
    check_luminosity(lumi)
    bundle = load_bundle(analysis)
    if cross_section is not None:  # σ × L known before any event: an absurd one costs no run
        check_expected_events(
            cross_section, lumi or float(bundle.document["luminosity"]), arg("xsec")
        )
    check_outputs({arg("output"): output}, inputs=_inputs(bundle, events, run))
    check_likelihood(bundle)
    result, settings = execute(bundle, events, cross_section_given=cross_section is not None, **run)
    document = results_document(
        bundle, result, settings, cross_section, lumi, seed=run.get("seed", DEFAULT_SEED)
    )
    if output is not None:
        write_json(output, document)
    return document


def check_likelihood(bundle: Bundle) -> None:
    """Read the bundle's likelihood (regions, workspace values) before any event: a likelihood
    that cannot be used would otherwise fail only after the whole run."""
    if "likelihood" in bundle.document:
        from ..likelihood.spec import likelihood_from_document

        likelihood_from_document(
            bundle.document["likelihood"], bundle.folder, str(bundle.folder / "analysis.json")
        )


def _inputs(bundle: Bundle, events: Sequence[str | Path], run: RunOptions) -> list[str | Path]:
    """Every file a run reads, which no output may replace: the bundle's folder included."""
    detector, slha = run.get("detector"), run.get("pythia_slha")
    return [
        bundle.folder,
        *events,
        *(run.get("networks") or {}).values(),
        *([slha] if slha else []),
        *([detector] if detector is not None and Path(detector).exists() else []),
    ]


def results_document(
    bundle: Bundle,
    result: UnitResult,
    settings: Mapping[str, Any],
    cross_section: float | None = None,
    lumi: float | None = None,
    *,
    seed: int = DEFAULT_SEED,
    source: str = "user",
    with_limits: bool = True,
) -> dict[str, Any]:
    """The results document of an :func:`execute` run (what :func:`recast_run` returns):
    normalised at ``cross_section`` (pb; None: the generator's) and ``lumi`` (None: the
    bundle's), with CLs and limits when the bundle carries a likelihood (and
    ``with_limits``)."""
    from .results import build_results

    luminosity = lumi if lumi is not None else float(bundle.document["luminosity"])
    norm = normalisation(
        result.sum_weights, result.events, result.cross_sections, cross_section, luminosity, source
    )
    document = build_results(bundle, result, norm, seed, settings)
    if with_limits and "likelihood" in bundle.document:  # when the bundle carries one
        from .limits import limits_for_bundle

        limits = limits_for_bundle(bundle, document["yields"], skipped=settings["skipped"])
        if limits is not None:
            document["limits"] = limits
    return document


def recast_validate(
    analysis: str | Path,
    events: Sequence[str | Path],
    *,
    benchmark: str,
    xsec: str | float | None = None,
    lumi: float | None = None,
    output: str | Path | None = None,
    plot: str | Path | None = None,
    **run: Unpack[RunOptions],
) -> dict[str, Any]:
    """Every published cutflow of ``benchmark`` against the recast one, step by step, and
    every published network histogram of ``benchmark`` against the recast one.

    ``run`` says how the events are run, as for :func:`recast_run`.

    The cross-section defaults to the benchmark's published one, then to the generator's.
    Each step passes when |ratio − 1| or |pull| is within the bundle's ``validation``
    tolerance (0.2 and 2 when it states none); each histogram when the p-value of its χ²
    is at least ``validation.histogram_p_value`` (see :mod:`recast.analysis.network_histograms`).
    """
    cross_section = cross_section_pb(xsec)
    check_luminosity(lumi)
    bundle = load_bundle(analysis)
    published = published_cutflows(bundle, benchmark)  # an unknown one fails before any event
    own_spectrum: Path | None = None  # the benchmark's spectrum, when generated from it
    if not events and run.get("pythia_slha") is None and run.get("n_events"):
        own_spectrum, process = _benchmark_generation(bundle, benchmark, run.get("pythia_process"))
        run = {**run, "pythia_slha": own_spectrum, "pythia_process": process}
    known = cross_section or published[0]["benchmark"].get("cross_section_pb")
    if known is not None:  # σ × L known before any event: an absurd one costs no run
        where = (
            arg("xsec") if cross_section is not None else f"benchmark {benchmark}'s cross-section"
        )
        check_expected_events(known, lumi or float(bundle.document["luminosity"]), where)
    check_outputs(
        {arg("output"): output, arg("plot"): plot},
        inputs=_inputs(bundle, events, run),
        suffixes={arg("plot"): (*PLOT_SUFFIXES, "")},
    )
    given = cross_section is not None or "cross_section_pb" in published[0]["benchmark"]
    try:
        result, settings = execute(
            bundle, events, cross_section_given=given, record_histograms=benchmark, **run
        )
    except GenerationError as exc:
        if own_spectrum is None:
            raise
        # the spectrum is the bundle's, not the user's: say whose file to correct
        raise GenerationError(
            f"benchmark {benchmark} of {bundle.id}: its spectrum {own_spectrum} cannot be "
            f"generated: {str(exc).rstrip('.')}. The bundle must be corrected (recast bundle check "
            f"{bundle.folder} checks every benchmark); or give events of the benchmark"
        ) from None
    verdict = validation_verdict(
        bundle, result, settings, benchmark, cross_section, lumi, seed=run.get("seed", DEFAULT_SEED)
    )
    if output is not None:
        write_json(output, _finite(verdict))
    if plot is not None:
        from ..report.validation_plot import plot_validation

        plot_validation(verdict, plot)
    return verdict


def published_cutflows(bundle: Bundle, benchmark: str) -> list[dict[str, Any]]:
    """The bundle's published cutflows of ``benchmark``; a UsageError naming the benchmarks
    it has when there are none."""
    published = list(bundle.published(benchmark=benchmark))
    if not published:
        names = sorted({c["benchmark"]["name"] for c in bundle.cutflows})
        raise UsageError(
            f"{bundle.id} has no published cutflow for benchmark {benchmark!r}; "
            f"it has {', '.join(names) or 'none'}.{closest(benchmark, names)}"
        )
    return published


def _benchmark_generation(
    bundle: Bundle, benchmark: str, process: str | None
) -> tuple[Path, str | None]:
    """No events and no spectrum given, only a number of events: generate the benchmark's own
    spectrum with its own production (or ``process``)."""
    point = find_benchmark(bundle, benchmark)  # says so when the benchmark names no SLHA file
    log.info("generating benchmark %s from %s in process", point.name, point.slha)
    return point.slha, process or point.process


def validation_verdict(
    bundle: Bundle,
    result: UnitResult,
    settings: Mapping[str, Any],
    benchmark: str,
    cross_section: float | None = None,
    lumi: float | None = None,
    *,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """The comparison of an :func:`execute` run with the published cutflows of ``benchmark``
    (what :func:`recast_validate` returns). ``cross_section`` (pb) defaults to the
    benchmark's, then to the generator's; ``lumi`` to the bundle's.

    When the run recorded the benchmark's published network histograms
    (``execute(..., record_histograms=benchmark)``), the verdict also holds
    ``network_histograms``: one entry per histogram, worst first (``network``, ``feature``,
    ``edges``, ``published`` and ``recast`` shapes at unit area with ``counts`` and
    ``errors``, ``chi2``, ``ndf``, ``p_value``, ``ks``, ``passed``), and ``passed`` requires
    every one of them to pass."""
    published = published_cutflows(bundle, benchmark)
    source = "user"
    if cross_section is None and "cross_section_pb" in published[0]["benchmark"]:
        cross_section, source = published[0]["benchmark"]["cross_section_pb"], "benchmark"
    luminosity = lumi if lumi is not None else float(bundle.document["luminosity"])
    norm = normalisation(
        result.sum_weights, result.events, result.cross_sections, cross_section, luminosity, source
    )
    tolerance = {"relative": 0.2, "max_pull": 2.0}
    stated = bundle.document.get("validation", {})
    tolerance["relative"] = stated.get("relative_tolerance", tolerance["relative"])
    tolerance["max_pull"] = stated.get("max_pull", tolerance["max_pull"])
    normalise_after = stated.get("normalise_after")
    skipped = settings["skipped"]
    regions = [
        _region(result, cutflow, norm["factor"], tolerance, normalise_after)
        for cutflow in published
        if cutflow["region"] not in skipped
    ]
    if not regions:
        raise UsageError(
            f"every published cutflow of {benchmark!r} is in a skipped region: "
            + next(iter(skipped.values()))
        )
    histograms = _network_histograms(bundle, result, benchmark, stated, tolerance)
    verdict = {
        "analysis": bundle.id,
        "benchmark": benchmark,
        "normalisation": norm,
        "tolerance": tolerance,
        "regions": regions,
        **({"network_histograms": histograms} if histograms is not None else {}),
        "skipped": {c["region"]: skipped[c["region"]] for c in published if c["region"] in skipped},
        "passed": all(r["passed"] for r in regions) and all(h["passed"] for h in histograms or []),
        "provenance": {
            "recast_version": __version__,
            "seed": seed,
            "bundle": bundle.provenance(),  # where it was and the digests of all its files
            "options": settings["options"],
            **({"detector": settings["detector"]} if "detector" in settings else {}),
            "inputs": result.inputs,
            "generation": result.generation,
        },
    }
    return verdict


def _network_histograms(
    bundle: Bundle,
    result: UnitResult,
    benchmark: str,
    stated: Mapping[str, Any],
    tolerance: dict[str, float],
) -> list[dict[str, Any]] | None:
    """The benchmark's published network histograms against those the run recorded, worst
    first; None when the bundle publishes none or the run recorded none."""
    documents = bundle.published_histograms(benchmark)
    if not documents:
        return None
    if not result.histograms:
        log.info(
            "%s publishes network histograms for %s, but this run did not record them "
            "(execute(..., record_histograms=%r)): they are not compared",
            bundle.id,
            benchmark,
            benchmark,
        )
        return None
    recorded = {spec.network for spec in result.histograms}
    threshold = float(stated.get("histogram_p_value", DEFAULT_P_VALUE))
    tolerance["histogram_p_value"] = threshold
    return compare_documents(
        [d for d in documents if d["network"] in recorded], result.histograms, threshold
    )


def _region(
    result: UnitResult,
    cutflow: dict[str, Any],
    factor: float,
    tolerance: dict[str, float],
    normalise_after: str | None = None,
) -> dict[str, Any]:
    flow = result.cutflows[cutflow["region"]]
    if cutflow["unit"] == "events":
        flow = flow.scaled(factor)
        initial = cutflow.get("initial", float(flow.sumw[0]))
    else:
        total = float(flow.sumw[0])
        flow, initial = flow.scaled(1.0 / total if total else 0.0), cutflow.get("initial", 1.0)
    options = {"relative_tolerance": tolerance["relative"], "max_pull": tolerance["max_pull"]}
    rows = [vars(r) for r in compare(flow, cutflow["steps"], initial, **options)]
    region: dict[str, Any] = {
        "region": cutflow["region"],
        "unit": cutflow["unit"],
        "initial": {"recast": float(flow.sumw[0]), "published": initial},
    }
    cuts = [step["cut"] for step in cutflow["steps"]]
    if normalise_after in cuts:
        # a row truth level cannot reproduce: divide its ratio out of the rows after it
        k = cuts.index(normalise_after)
        at = rows[k]
        scale = at["published"] / at["recast"] if at["recast"] > 0 else math.nan
        later = compare(flow.scaled(scale), cutflow["steps"][k + 1 :], initial, **options)
        rows = rows[: k + 1] + [vars(r) for r in later]
        for row in rows[: k + 1]:
            row["passed"] = None  # not tested
        region["normalised_after"] = {"cut": normalise_after, "factor": scale}
    region["steps"] = rows
    region["passed"] = all(r["passed"] for r in rows if r["passed"] is not None)
    return region


def _finite(value: Any) -> Any:
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
