"""`recast bundle check` in full: the bundle's own checks plus what a release needs.

:func:`recast.analysis.bundle.check_bundle` verifies the documents, digests, cards and code.
A bundle someone else will validate also needs benchmarks that reproduce themselves: each
published benchmark names a spectrum Pythia8 reads, a production that produces something
from it, and a cross-section. This module adds those checks (generation is a pipeline
concern, hence the layer), and the rules that depend on the bundle's status: a VALIDATED
bundle must publish a cutflow and describe every network input fully; an UNVALIDATED one is
only told what is missing.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import schema
from ..analysis.bundle import BundleCheckError, check_bundle, read_document
from ..analysis.packaging import todo_summary
from ..errors import RecastError
from ..events.slha import has_mass_block, slha_problems
from ..paths import inside
from ..preserve.check import description_gaps

log = logging.getLogger(__name__)

#: the production Pythia8 generates for a benchmark that names none (recast.model)
DEFAULT_PROCESS = "gluino-pairs"


@dataclass
class ReleaseCheck:
    """What ``recast bundle check`` found: ``passed`` lines (verified), ``notes`` (allowed
    for the bundle's status but worth the author's attention)."""

    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkSpec:
    """A published benchmark as its cutflows describe it (the first cutflow naming it)."""

    name: str
    where: str  # the cutflow file, for messages
    block: Mapping[str, Any]
    cutflow_path: Path


def check_release(id_or_path: str | Path, *, pythia: bool = True) -> ReleaseCheck:
    """Every check of :func:`~recast.analysis.bundle.check_bundle`, then the benchmarks and
    the status rules. ``pythia``: also initialise Pythia8 on every benchmark spectrum (about a
    second each), when pythia8mc is installed.

    Raises :class:`~recast.analysis.bundle.BundleCheckError` listing every problem.
    """
    folder, document = read_document(id_or_path)
    source = str(folder / "analysis.json")
    result = ReleaseCheck()
    problems: list[str] = []
    try:
        result.passed += check_bundle(id_or_path)
    except BundleCheckError as exc:
        problems += exc.problems
        pythia = False  # the benchmarks are still read (no code runs), not generated
    validated = document["status"]["state"] == "VALIDATED"
    # what a VALIDATED bundle may not leave open, an UNVALIDATED one is told
    unfinished = problems if validated else result.notes
    todo = todo_summary(document)
    if todo is not None:
        unfinished.append(f"{todo} (analysis.json): replace each with what it asks for")
    unfinished += _card_gaps(folder, document)
    specs = list(_benchmarks(folder, document, problems))
    if not document.get("cutflows"):
        what = (
            "publishes no cutflow, so nobody can validate a recast of it: add the published "
            "cutflows (cutflows in analysis.json) of at least one benchmark"
        )
        if validated:
            problems.append(f"status VALIDATED but the bundle {what}")
        else:
            result.notes.append(f"the bundle {what}")
    for spec in specs:
        found = _benchmark_problems(folder, spec, pythia=pythia)
        problems += [f"benchmark {spec.name} ({spec.where}): {p}" for p in found.problems]
        result.notes += [f"benchmark {spec.name} ({spec.where}): {n}" for n in found.notes]
        if not found.problems:
            result.passed.append(f"benchmark {spec.name}: {found.summary}")
    if problems:
        raise BundleCheckError(source, problems)
    return result


def _card_gaps(folder: Path, document: Mapping[str, Any]) -> list[str]:
    """What each network card does not state yet (check_bundle reported unreadable cards)."""
    gaps = []
    for name, artefact in document.get("networks", {}).items():
        try:  # the document is enough (check_bundle validated the card itself)
            card = schema.load_json(inside(folder, artefact["path"], folder, f"networks.{name}"))
        except RecastError:
            continue
        gaps += [f"network {name!r}: {gap}" for gap in description_gaps(card)]
    return gaps


def _benchmarks(
    folder: Path, document: Mapping[str, Any], problems: list[str]
) -> Iterator[BenchmarkSpec]:
    """One spec per benchmark name, from the first published cutflow naming it."""
    seen: set[str] = set()
    for i, artefact in enumerate(document.get("cutflows", [])):
        where = f"cutflows[{i}]"
        try:
            path = inside(folder, artefact["path"], folder / "analysis.json", f"{where}.path")
            cutflow = schema.load_json(path)
        except RecastError:
            continue  # check_bundle reported it
        block = cutflow.get("benchmark", {}) if isinstance(cutflow, Mapping) else {}
        name = block.get("name")
        if not isinstance(name, str) or name in seen:
            continue
        seen.add(name)
        yield BenchmarkSpec(name, artefact["path"], block, path)


@dataclass
class _Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""


def _benchmark_problems(folder: Path, spec: BenchmarkSpec, *, pythia: bool) -> _Findings:
    found = _Findings()
    block = spec.block
    if "cross_section_pb" not in block:
        found.notes.append(
            "no cross_section_pb: recast validate will normalise with the generator's LO "
            "estimate; write the cross-section the publication used"
        )
    if "slha" not in block:
        found.notes.append(
            "no benchmark.slha: recast validate cannot generate this benchmark itself; "
            "ship the spectrum and name it in benchmark.slha"
        )
        found.summary = "published cutflow, no spectrum to generate"
        return found
    slha = _slha_path(folder, spec, found)
    if slha is None:
        return found
    try:
        text = slha.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        found.problems.append(f"benchmark.slha {block['slha']!r}: cannot be read: {err}")
        return found
    if not has_mass_block(text):
        found.problems.append(
            f"benchmark.slha {block['slha']!r}: not an SLHA spectrum (no BLOCK MASS): give "
            "the spectrum the benchmark was generated with"
        )
        return found
    found.problems += [f"benchmark.slha {block['slha']!r}: {p}" for p in slha_problems(text)]
    process = block.get("process", DEFAULT_PROCESS)
    try:
        from ..model.processes import production_problems

        found.problems += [f"benchmark.process {process!r}: {p}" for p in
                           production_problems(process, text)]  # fmt: skip
    except RecastError as exc:  # an unknown process name
        found.problems.append(f"benchmark.process: {exc}")
    if found.problems:
        return found
    found.summary = f"spectrum {slha.name} parses, {process} produces from it"
    if not pythia:
        return found
    if importlib.util.find_spec("pythia8mc") is None:
        found.notes.append(
            "pythia8mc is not installed: the spectrum was read by recast's parser only "
            "(pip install 'recast-nn[gen]' to let Pythia8 read it too)"
        )
        return found
    if _pythia_reads(slha, process, found):
        found.summary += ", Pythia8 initialises on it"
    return found


def _slha_path(folder: Path, spec: BenchmarkSpec, found: _Findings) -> Path | None:
    """The spectrum beside the cutflow, else in the bundle (as recast validate finds it)."""
    name = spec.block["slha"]
    try:
        path = inside(spec.cutflow_path.parent, name, spec.cutflow_path, "benchmark.slha")
        if not path.is_file():
            path = inside(folder, name, spec.cutflow_path, "benchmark.slha")
    except RecastError as exc:
        found.problems.append(str(exc))
        return None
    if not path.is_file():
        found.problems.append(
            f"benchmark.slha {name!r}: no such file beside the cutflow or in the bundle; ship "
            "the spectrum or correct the name"
        )
        return None
    return path


def _pythia_reads(slha: Path, process: str, found: _Findings) -> bool:
    """Whether Pythia8 initialises with the benchmark's settings (a problem recorded if not)."""
    from ..events.pythia import PythiaGenerator
    from ..model.processes import process_settings

    try:
        with PythiaGenerator(process_settings(process, slha.resolve()), seed=1):
            return True
    except RecastError as exc:
        found.problems.append(f"Pythia8 cannot start from benchmark.slha: {exc}")
        return False


__all__ = ["ReleaseCheck", "check_release"]
