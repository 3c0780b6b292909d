"""Published benchmarks of a bundle: the points whose cutflows name a spectrum, with the
production and cross-section to generate and normalise them (shared by the Python API and
`recast validate`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..analysis.bundle import Bundle, load_bundle
from ..errors import UsageError, closest
from ..paths import inside


@dataclass(frozen=True)
class Benchmark:
    """A published benchmark point: its name, spectrum (SLHA), cross-section and regions."""

    name: str
    slha: Path
    cross_section_pb: float | None
    description: str
    regions: tuple[str, ...]
    #: the production Pythia8 generates (a recast.model name); None: gluino pairs
    process: str | None = None


def benchmarks(analysis: str | Path | Bundle) -> dict[str, Benchmark]:
    """The bundle's benchmark points whose published cutflows name an SLHA file, in the order
    of ``analysis.json`` (the SLHA path is relative to the cutflow's file, else the bundle)."""
    bundle = as_bundle(analysis)
    found: dict[str, Benchmark] = {}
    artefacts = bundle.document.get("cutflows", [])
    for artefact, cutflow in zip(artefacts, bundle.cutflows, strict=True):
        block = cutflow["benchmark"]
        if "slha" not in block:
            continue
        name = block["name"]
        if name in found:
            known = found[name]
            found[name] = Benchmark(
                name,
                known.slha,
                known.cross_section_pb,
                known.description,
                (*known.regions, cutflow["region"]),
                known.process,
            )
            continue
        cutflow_path = bundle.path(artefact["path"])
        slha = inside(cutflow_path.parent, block["slha"], cutflow_path, "benchmark.slha")
        if not slha.is_file():  # relative to the bundle instead
            slha = bundle.path(block["slha"], f"benchmark.slha of {artefact['path']}")
        found[name] = Benchmark(
            name,
            slha,
            block.get("cross_section_pb"),
            block.get("description", ""),
            (cutflow["region"],),
            block.get("process"),
        )
    return found


def find_benchmark(analysis: str | Path | Bundle, name: str | None = None) -> Benchmark:
    """The benchmark ``name`` with an SLHA file, or the bundle's first one."""
    bundle = as_bundle(analysis)
    points = benchmarks(bundle)
    if not points:
        raise UsageError(
            f"{bundle.id} publishes no cutflow whose benchmark names an SLHA file "
            f"(benchmark.slha in {bundle.folder / 'cutflows'}): no point to generate"
        )
    if name is None:
        return next(iter(points.values()))
    if name not in points:
        raise UsageError(
            f"{bundle.id} has no benchmark {name!r} with an SLHA file "
            f"(benchmarks: {', '.join(points)}).{closest(name, points)}"
        )
    point = points[name]
    if not point.slha.is_file():
        raise UsageError(f"benchmark {point.name}: its SLHA file {point.slha} does not exist")
    return point


def as_bundle(analysis: str | Path | Bundle) -> Bundle:
    """A loaded bundle from a shipped id, a folder or a bundle."""
    if isinstance(analysis, Bundle):
        return analysis
    if not isinstance(analysis, str | Path):
        raise UsageError(
            f"analysis={analysis!r}: give a shipped bundle's id (recast list), a bundle "
            "folder, or a bundle from recast.load_bundle"
        )
    return load_bundle(analysis)
