"""Add a published cutflow to a bundle: from the table an analysis team has, not by hand.

The numbers come from the paper's auxiliary material (HEPData) as a table of cut names and
values, optionally with uncertainties. :func:`add_cutflow` turns it into a cutflow document
(schema ``cutflow``) under ``cutflows/``, with the benchmark's spectrum beside it, and records
it with its sha256 in ``analysis.json``. It checks what ``recast bundle check`` would refuse
before writing anything: the region exists, the rows are its cuts in its order, the numbers
are finite, the spectrum parses. Either every file is written or none is.

A table file is CSV: lines starting with ``#`` are comments (HEPData's CSV export writes its
header that way), the first other line names the columns, and the columns are, in order, the
cut, its value and optionally its uncertainty. A row whose cut is ``initial`` gives the yield
before any cut.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import schema
from ..errors import OutputError, RecastError, UsageError, closest
from ..events.slha import has_mass_block, slha_problems
from ..io import sha256_file, write_bytes, write_json
from .bundle import cutflow_problems, read_document

log = logging.getLogger(__name__)

#: one row of a cutflow table: the cut, its value, and its uncertainty (None: not given)
Row = tuple[str, float, float | None]
UNITS = ("events", "fraction")


@dataclass(frozen=True)
class AddedCutflow:
    """What :func:`add_cutflow` wrote."""

    path: Path  # the cutflow document
    slha: Path | None  # the spectrum, when one was given
    steps: int
    replaced: bool


def read_table(path: str | Path) -> list[Row]:
    """The rows of a cutflow table (CSV, see the module's docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read the cutflow table: {err}") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) < 2:
        raise UsageError(
            f"{path}: no rows: a cutflow table is a header line (cut,value[,uncertainty]) and "
            "one line per cut"
        )
    rows: list[Row] = []
    for number, cells in enumerate(csv.reader(io.StringIO("\n".join(lines[1:]))), start=2):
        where = f"{path}: row {number - 1} ({','.join(cells)!r})"
        if len(cells) not in (2, 3):
            raise UsageError(f"{where}: give cut,value or cut,value,uncertainty")
        value = _number(cells[1], f"{where}: the value")
        error = _number(cells[2], f"{where}: the uncertainty") if len(cells) == 3 else None
        rows.append((cells[0].strip(), value, error))
    return rows


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what} is {text.strip()!r}: give a finite number")
    return value


def add_cutflow(
    id_or_path: str | Path,
    region: str,
    benchmark: str,
    table: str | Path | Iterable[Sequence[Any]],
    *,
    unit: str = "events",
    slha: str | Path | None = None,
    process: str | None = None,
    cross_section_pb: float | None = None,
    generator: str | None = None,
    description: str | None = None,
    replace: bool = False,
) -> AddedCutflow:
    """Write ``cutflows/BENCHMARK_REGION.json`` from ``table`` (a CSV file, or rows of
    ``(cut, value[, uncertainty])``) and record it in ``analysis.json``.

    ``unit``: ``events`` (yields at the analysis luminosity) or ``fraction`` (cumulative
    efficiencies). ``slha``: the benchmark's spectrum, copied beside the cutflow unless it is
    there already; with ``process`` (a production of :mod:`recast.model`) and
    ``cross_section_pb`` it lets ``recast validate --benchmark NAME --events N`` generate the
    benchmark itself. ``replace``: overwrite this region's cutflow of this benchmark.
    """
    folder, document = read_document(id_or_path)
    source = f"{folder / 'analysis.json'}"
    rows = read_table(table) if isinstance(table, str | Path) else _rows(table)
    if unit not in UNITS:
        raise UsageError(f"unit {unit!r}: give one of {', '.join(UNITS)}")
    if region not in document["regions"]:
        raise UsageError(
            f"{source}: no region {region!r} (regions: {', '.join(document['regions'])})."
            f"{closest(region, document['regions'])}"
        )
    initial, steps = _steps(rows, unit)
    spectrum = _spectrum(folder, slha) if slha is not None else None
    block: dict[str, Any] = {"name": benchmark}
    for key, value in (
        ("description", description),
        ("slha", spectrum.name if spectrum is not None else None),
        ("generator", generator),
        ("process", process),
        ("cross_section_pb", cross_section_pb),
    ):
        if value is not None:
            block[key] = value
    cutflow: dict[str, Any] = {
        "schema_version": schema.current_version("cutflow"),
        "analysis": document["id"],
        "region": region,
        "benchmark": block,
        "unit": unit,
        **({"initial": initial} if initial is not None else {}),
        "steps": steps,
    }
    relative = f"cutflows/{_file_name(benchmark)}_{region}.json"
    schema.validate(cutflow, "cutflow", f"{folder / relative}")
    regions = {name: list(r["cuts"]) for name, r in document["regions"].items()}
    problems = cutflow_problems({**document, "cutflows": [{"path": relative}]}, regions, [cutflow])
    if problems:
        given = str(table) if isinstance(table, str | Path) else "the rows"
        said = [p.replace(f"cutflows[0] ({relative})", given) for p in problems]
        raise UsageError("; ".join(said))
    _refuse_second(folder, document, relative, region, benchmark)
    target = folder / relative
    existed = target.exists()
    if existed and not replace:
        raise OutputError(
            f"{target}: exists; give --replace (replace=True) to replace this region's cutflow "
            f"of benchmark {benchmark}"
        )
    return _write(folder, document, relative, cutflow, spectrum, slha, existed)


def _refuse_second(
    folder: Path, document: dict[str, Any], relative: str, region: str, benchmark: str
) -> None:
    """A cutflow of this region and benchmark under another file name would be a second one."""
    for entry in document.get("cutflows", []):
        if entry["path"] == relative:
            continue
        try:
            other = schema.load_json(folder / entry["path"])
        except RecastError:
            continue  # recast bundle check reports it
        named = other.get("benchmark", {}).get("name") if isinstance(other, dict) else None
        if isinstance(other, dict) and other.get("region") == region and named == benchmark:
            raise OutputError(
                f"{folder / entry['path']}: already the cutflow of region {region!r} for "
                f"benchmark {benchmark!r}; remove it from analysis.json's cutflows first, or "
                "correct the region or benchmark"
            )


def _rows(table: Iterable[Sequence[Any]]) -> list[Row]:
    rows: list[Row] = []
    for i, row in enumerate(table):
        if len(row) not in (2, 3):
            raise UsageError(f"row {i}: {row!r}: give (cut, value) or (cut, value, uncertainty)")
        value = _number(str(row[1]), f"row {i} ({row[0]}): the value")
        error = (
            _number(str(row[2]), f"row {i} ({row[0]}): the uncertainty") if len(row) == 3 else None
        )
        rows.append((str(row[0]), value, error))
    return rows


def _steps(rows: list[Row], unit: str) -> tuple[float | None, list[dict[str, Any]]]:
    """The initial yield (a first row named ``initial``) and the steps."""
    initial = None
    if rows and rows[0][0].lower() == "initial":
        initial = rows[0][1]
        rows = rows[1:]
    steps = []
    for cut, value, error in rows:
        if error is not None and error < 0:
            raise UsageError(f"cut {cut!r}: the uncertainty {error:g} is negative")
        if unit == "fraction" and not 0.0 <= value <= 1.0:
            raise UsageError(
                f"cut {cut!r}: {value:g} is not a fraction in [0, 1]; give --unit events for yields"
            )
        steps.append(
            {"cut": cut, "value": value} | ({} if error is None else {"uncertainty": error})
        )
    if not steps:
        raise UsageError("the table has no cut: give one row per cut of the region")
    return initial, steps


def _file_name(benchmark: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in benchmark).strip("._")
    if not safe:
        raise UsageError(f"benchmark {benchmark!r}: give a name with letters or digits")
    return safe


def _spectrum(folder: Path, slha: str | Path) -> Path:
    """The spectrum as it will be named beside the cutflows; refused when it does not parse."""
    slha = Path(slha)
    try:
        text = slha.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise UsageError(f"{slha}: cannot read the spectrum: {err.strerror or err}") from None
    if not has_mass_block(text):
        raise UsageError(f"{slha}: not an SLHA spectrum (no BLOCK MASS)")
    problems = slha_problems(text)
    if problems:
        raise UsageError(f"{slha}: " + "; ".join(problems))
    return folder / "cutflows" / slha.name


def _write(
    folder: Path,
    document: dict[str, Any],
    relative: str,
    cutflow: dict[str, Any],
    spectrum: Path | None,
    slha: str | Path | None,
    existed: bool,
) -> AddedCutflow:
    """The spectrum, the cutflow, then analysis.json; on a failure, the new files go again
    and a replaced cutflow comes back."""
    written: list[Path] = []
    target = folder / relative
    before = target.read_bytes() if existed else None  # put back if analysis.json fails
    try:
        if spectrum is not None and slha is not None and Path(slha).resolve() != spectrum.resolve():
            if spectrum.exists() and sha256_file(spectrum) != sha256_file(slha):
                raise OutputError(
                    f"{spectrum}: another spectrum of that name is in the bundle; rename "
                    f"{slha} or remove it"
                )
            if not spectrum.exists():
                spectrum.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(slha, spectrum)
                written.append(spectrum)
        if not existed:
            written.append(target)
        write_json(target, cutflow)
        entry = {"path": relative, "sha256": sha256_file(target)}
        entries = [entry if c["path"] == relative else c for c in document.get("cutflows", [])]
        if entry not in entries:  # a new one goes last; a replaced one keeps its place
            entries.append(entry)
        write_json(folder / "analysis.json", {**document, "cutflows": entries})
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if before is not None:
            write_bytes(target, before)
        raise
    log.info("%s: cutflow of %s recorded in analysis.json", relative, cutflow["region"])
    return AddedCutflow(folder / relative, spectrum, len(cutflow["steps"]), existed)


__all__ = ["AddedCutflow", "add_cutflow", "read_table"]
