"""The verbs of the Python API, as ``recast`` exports them: load, run, validate, limits, scan.

    import recast
    run = recast.run("DEMO_MULTIB_GLUINO", benchmark="Gtt_2100_1", n_events=1000)
    print(run)                # yields per region at σ × L
    print(run.validate())     # the cutflow beside the published one
    print(run.limits)         # CLs, μ95 and the verdict

Every argument is checked before the first event is read. Nothing is written unless ``save``
or ``output`` asks for it, nothing is drawn unless ``plot`` does, logging is left as the caller
configured it, and messages name these keywords (``n_events``), not command-line flags.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Unpack

from ..analysis.bundle import Bundle
from ..arguments import arg
from ..errors import UsageError
from .benchmarks import as_bundle as _bundle
from .benchmarks import find_benchmark
from .outcome import Limits, Plane, RunResult, Scan, Validation
from .run import DEFAULT_SEED, check_likelihood, execute, results_document
from .scan import ScanOptions

log = logging.getLogger(__name__)

#: a progress callback: called with the number of events just processed
ProgressCallback = Callable[[int], None]
Events = str | Path | Sequence[str | Path]


def _whole(name: str, value: Any, *, optional: bool = False) -> Any:
    """A count or a seed as an int: ``1e3`` is 1000; ``"10"``, ``1.5`` and True are refused
    (None too, unless ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if number.is_integer():
            return int(number)
    raise UsageError(f"{name}={value!r}: give a whole number")


def _check_types(**given: Any) -> None:
    """Arguments of the wrong kind, refused before any event is read."""
    lumi = given.get("lumi")
    if lumi is not None and (isinstance(lumi, bool) or not isinstance(lumi, numbers.Real)):
        raise UsageError(f"lumi={lumi!r}: give the integrated luminosity in fb⁻¹ as a number")
    for name in ("networks", "options"):
        if given.get(name) is not None and not isinstance(given[name], Mapping):
            raise UsageError(f"{name}={given[name]!r}: give a dict, e.g. {name}={{'NAME': ...}}")


@contextlib.contextmanager
def _progress(
    progress: bool | ProgressCallback | None, description: str
) -> Iterator[ProgressCallback | None]:
    """A callback from ``progress``: True draws a bar (also in a notebook), False none."""
    if progress is None or progress is False:
        yield None
    elif progress is True:
        from ..progress import events_progress

        with events_progress(description, always=True) as bar:
            yield bar
    elif callable(progress):
        yield progress
    else:
        raise UsageError(
            f"progress={progress!r}: give True (a progress bar), False, or a function "
            "called with the number of events just processed"
        )


def run(
    analysis: str | Path | Bundle,
    events: Events = (),
    *,
    benchmark: str | None = None,
    slha: str | Path | None = None,
    process: str | None = None,
    n_events: int | None = None,
    xsec: str | float | None = None,
    lumi: float | None = None,
    seed: int = DEFAULT_SEED,
    chunk_size: int = 1000,
    workers: int = 1,
    scheduler: str | None = None,
    skip_bad: bool = False,
    networks: Mapping[str, str | Path] | None = None,
    options: Mapping[str, Any] | None = None,
    detector: str | Path | None = None,
    progress: bool | ProgressCallback = False,
    hepmc_parser: str = "columnar",
    record_histograms: str | None = None,
) -> RunResult:
    """Run a bundle on truth events: yields and cutflows of every region at σ × L, and CLs
    and μ95 when the bundle carries a likelihood.

    ``analysis``: a shipped bundle's id, a bundle folder (``./MY_BUNDLE``) or a loaded
    :class:`Bundle`. The events come from ``events`` (HepMC3 files, plain or compressed, or
    Parquet caches), or are generated in process by Pythia8 from ``slha`` (``n_events`` of
    them; ``process`` names the production, e.g. ``"higgsino-n1n2"``, gluino pairs by default),
    or from the spectrum of the bundle's published ``benchmark`` (its production, and its
    cross-section as the default ``xsec``; :meth:`RunResult.validate` compares with it by
    default).
    ``xsec`` is a string with a unit (``"12.3fb"``) or a number in pb; without it, the
    generator's. ``workers`` > 1 runs on a local Dask cluster of processes (call it under
    ``if __name__ == "__main__":`` in a script), ``scheduler`` on a running one.
    ``lumi`` is the integrated luminosity in fb⁻¹ (default: the bundle's). ``seed`` seeds
    every stochastic step (and Pythia8), ``chunk_size`` is the events per chunk, ``skip_bad``
    skips and counts unreadable events, ``networks`` maps a network name to a model file the
    bundle cannot ship, ``options`` sets the bundle's options, ``detector`` names one of its
    detector descriptions or a detector file. ``hepmc_parser``: ``columnar`` (the default:
    whole blocks at once, pyhepmc for any text it doubts) or ``pyhepmc`` (every event).
    ``progress``: True for a progress bar, or a function given the events just processed.
    ``record_histograms``: a benchmark whose published network input/output histograms the
    run records, so that :meth:`RunResult.validate` compares them too (the default with
    ``benchmark``, and what :func:`validate` asks for).
    """
    bundle = _bundle(analysis)
    n_events = _whole("n_events", n_events, optional=True)
    seed, chunk_size, workers = (
        _whole("seed", seed), _whole("chunk_size", chunk_size), _whole("workers", workers)
    )  # fmt: skip
    _check_types(lumi=lumi, networks=networks, options=options)
    point, source = None, "user"
    if benchmark is not None:
        if slha is not None or events:
            raise UsageError(
                f"benchmark={benchmark!r} generates its own events: give no events or slha"
            )
        point = find_benchmark(bundle, benchmark)
        slha = point.slha
        process = point.process if process is None else process
        record_histograms = point.name if record_histograms is None else record_histograms
        if xsec is None and point.cross_section_pb is not None:
            xsec, source = point.cross_section_pb, "benchmark"
    from .normalise import check_expected_events, check_luminosity, cross_section_pb

    cross_section = cross_section_pb(xsec)
    check_luminosity(lumi)
    if cross_section is not None:  # σ × L known before any event: an absurd one costs no run
        check_expected_events(
            cross_section, lumi or float(bundle.document["luminosity"]), arg("xsec")
        )
    check_likelihood(bundle)
    with _progress(progress, f"{bundle.id}") as callback:
        unit, settings = execute(
            bundle,
            [events] if isinstance(events, str | Path) else list(events),
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            scheduler=scheduler,
            skip_bad=skip_bad,
            hepmc_parser=hepmc_parser,
            pythia_slha=slha,
            pythia_process=process,
            record_histograms=record_histograms,
            n_events=n_events,
            networks=networks,
            options=options,
            detector=detector,
            progress=callback,
            cross_section_given=cross_section is not None,
        )
    document = results_document(
        bundle, unit, settings, cross_section, lumi, seed=seed, source=source
    )
    return RunResult(
        document, bundle, unit, settings, seed, point.name if point is not None else None
    )


def validate(
    analysis: str | Path | Bundle,
    events: Events = (),
    *,
    benchmark: str,
    n_events: int | None = None,
    xsec: str | float | None = None,
    **run_options: Any,
) -> Validation:
    """Every published cutflow of ``benchmark`` against the recast one, step by step.

    Without ``events`` the benchmark's own spectrum is generated with Pythia8 (``n_events``);
    the cross-section defaults to the benchmark's published one, then to the generator's.
    Other keywords are those of :func:`run`.
    """
    if events:
        if xsec is None:  # the benchmark's published σ, as `recast validate` takes it
            from .run import published_cutflows

            bundle = _bundle(analysis)
            xsec = published_cutflows(bundle, benchmark)[0]["benchmark"].get("cross_section_pb")
            analysis = bundle
        run_options.setdefault("record_histograms", benchmark)
        result = run(analysis, events, xsec=xsec, n_events=n_events, **run_options)
    else:
        result = run(analysis, benchmark=benchmark, xsec=xsec, n_events=n_events, **run_options)
    return result.validate(benchmark, xsec=xsec)


def limits(
    results: RunResult | Mapping[str, Any] | str | Path,
    *,
    likelihood: str | Path | Bundle | None = None,
    method: str = "auto",
    negative: str = "clip",
    mu95: bool = True,
) -> Limits:
    """CLs, μ95 and the verdict of a run (a :class:`RunResult`, its document, or a results
    file), under the bundle's likelihood or ``likelihood`` (a likelihood file, a region table
    or a bundle). ``mu95=False``: CLs at μ = 1 alone (``Limits.mu95`` is then None), which
    spares a full likelihood's limit search."""
    from .limits import limits_for_results

    if isinstance(results, RunResult):  # its own bundle, shipped or not
        document: Mapping[str, Any] | str | Path = results.document
        likelihood = results.bundle if likelihood is None else likelihood
    elif isinstance(results, Mapping | str | Path):
        document = results
    else:
        raise UsageError(
            f"results={results!r}: give what recast.run returned, its document, or a results file"
        )
    if not isinstance(mu95, bool):
        raise UsageError(f"mu95={mu95!r}: give True (μ95 besides CLs) or False (CLs alone)")
    filled = limits_for_results(
        document, likelihood=likelihood, method=method, negative=negative, with_limits=mu95
    )
    return Limits(filled["limits"])


def scan(analysis: str | Path | Bundle, grid: str | Path, **options: Unpack[ScanOptions]) -> Scan:
    """A verdict, CLs and μ95 per point of a grid file (see :mod:`recast.likelihood.scan`),
    under a bundle's likelihood, a likelihood file or a region table; ``options``
    (:class:`~recast.pipeline.scan.ScanOptions`): ``workers``, ``scheduler``, ``client``,
    ``method``, ``negative``, ``with_limits``, ``chunk_size``."""
    from .scan import scan as scan_grid

    return Scan(scan_grid(analysis, grid, **options))


def generate(
    slha: str | Path, n_events: int, output: str | Path, *, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Generate ``n_events`` of gluino pair production from ``slha`` with Pythia8 and write
    them to the HepMC3 file ``output`` (atomically); returns the events, Pythia's
    cross-section (pb) and its error, the seconds taken."""
    from ..events.pythia import generate_to_hepmc
    from ..io import check_output

    if not isinstance(n_events, int) or n_events < 1:
        raise UsageError(f"n_events={n_events!r}: give the number of events, at least 1")
    check_output(output, inputs=[slha], field=arg("output"))
    return generate_to_hepmc(str(slha), n_events, seed, output)


def cache(
    events: str | Path,
    output: str | Path,
    *,
    analysis: str | Path | None = None,
    chunk_size: int = 1000,
    skip_bad: bool = False,
) -> int:
    """Build the truth objects of the HepMC3 file ``events`` once and keep them in the Parquet
    file ``output`` (with ``analysis``'s object settings); :func:`run` reads it instead of the
    HepMC file. Returns the number of events."""
    from ..analysis.bundle import read_document
    from ..io import check_output
    from ..objects import ObjectConfig
    from ..objects.cache import write_objects_cache

    config = ObjectConfig()
    inputs: list[str | Path] = [events]
    if analysis is not None:
        folder, document = read_document(analysis)  # its objects settings: no code is run
        config = ObjectConfig(**document.get("objects", {}))
        inputs.append(folder)
    check_output(output, inputs=inputs, field=arg("output"))
    return int(write_objects_cache(events, output, config, chunk_size, skip_bad).events)


def scan_model(
    analyses: str | Path | Bundle | Sequence[str | Path | Bundle],
    points: str | Path | None = None,
    output: str | Path = "plane",
    *,
    template: str | Path | None = None,
    grid: Mapping[str, Any] | Sequence[str] = (),
    n_events: int = 2000,
    process: str | None = None,
    xsec: str | float | None = None,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    mu95: bool = True,
) -> Plane:
    """A model's plane through one or more ``analyses``: every point generated once with
    Pythia8 (``n_events``), run through every analysis, normalised to its σ, CLs at σ and
    σ ± 1σ, contours. The points are a folder written by `recast points` (or a JSON points
    list with SLHA, LHE or event files), or ``template`` filled over ``grid`` (e.g.
    ``{"m_gluino": [1800, 2000], "m_lsp": [1, 800]}``). ``xsec``: ``"table"`` (default when
    the process has one), a table's name, ``"slha"``, ``"generator"``, a CSV file or a value
    with a unit. Everything lands in the folder ``output``; called again, it runs only the
    points that are missing or changed. ``workers`` > 1: call it under
    ``if __name__ == "__main__":`` in a script. ``mu95=False``: CLs alone at every point
    (the contours and verdicts need no more), no upper-limit search."""
    from .scan_model import prepare_scan, run_scan

    if not isinstance(mu95, bool):
        raise UsageError(f"mu95={mu95!r}: give True (μ95 besides CLs) or False (CLs alone)")
    chosen = [analyses] if isinstance(analyses, str | Path | Bundle) else list(analyses)
    scan = prepare_scan(
        chosen, points, output, template=template, sets=grid, n_events=n_events,
        process=process, xsec=xsec, seed=seed,
    )  # fmt: skip
    document = run_scan(
        scan, workers=_whole("workers", workers), scheduler=scheduler, client=client,
        progress=progress, mu95=mu95,
    )  # fmt: skip
    return Plane(document)
