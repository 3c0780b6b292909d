"""What the Python API returns: typed views of the results, validation and limits documents.

Each object keeps the validated JSON document it was built from (``.document``), so nothing
is lost and ``to_json``/``save`` write exactly what `recast run -o` writes; the attributes are
the numbers a physicist looks at, and ``table()`` gives them as a pyarrow Table (``str()`` of
an object prints the same as text). Nothing here writes a file or draws unless asked.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis.cutflow import Cutflow
from ..errors import UsageError
from ..io import undefined_as_null, write_json

if TYPE_CHECKING:
    import pyarrow

    from ..analysis.bundle import Bundle
    from .runner import UnitResult

#: the band members of an expected CLs or limit, in the order tables print them
BAND = ("minus2", "minus1", "median", "plus1", "plus2")


def _arrow(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pyarrow.Table:
    import pyarrow as pa

    return pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])


def _render(tables: Sequence[Any]) -> str:
    """The terminal tables of :mod:`recast.report` as text (what ``print`` shows)."""
    from rich.console import Console

    console = Console(width=160, record=True, file=io.StringIO())
    for table in tables:
        console.print(table)
    return console.export_text().rstrip()


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "—"
    return str(value)


class _Document:
    """A JSON document with its typed view: ``to_json`` and ``save`` write the document,
    ``table`` gives :meth:`records` as a pyarrow Table of :meth:`columns`."""

    document: dict[str, Any]

    def records(self) -> list[dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} has no rows")

    def table(self) -> pyarrow.Table:
        """The rows of :meth:`records` as a pyarrow Table (``.to_pandas()`` for pandas)."""
        rows = self.records()  # built once: the columns are those of its first row
        return _arrow(rows, list(rows[0]) if rows else [])

    def to_json(self, indent: int | None = 2) -> str:
        """The document as JSON text (NaN written as null, as in every file recast writes)."""
        return json.dumps(undefined_as_null(self.document), indent=indent, allow_nan=False)

    def inputs(self) -> list[str]:
        """The files the document was made from, which :meth:`save` and ``plot`` never
        replace: the inputs and the bundle's folder its provenance names."""
        provenance = self.document.get("provenance", {})
        found = [str(entry["path"]) for entry in provenance.get("inputs", []) if "path" in entry]
        bundle = provenance.get("bundle", {}).get("path")
        return [*found, *([bundle] if bundle else [])]

    def save(self, path: str | Path) -> Path:
        """Write the document atomically to ``path`` (never over one of :meth:`inputs`)."""
        from ..arguments import arg
        from ..io import check_output

        check_output(path, inputs=self.inputs(), field=arg("output"))
        write_json(path, undefined_as_null(self.document))
        return Path(path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def summary(self) -> str:
        """One line: what the document is about."""
        return str(self.document.get("analysis", ""))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """A notebook cell shows the tables ``print`` shows, not the raw document."""
        printer.text(repr(self) if cycle else str(self))


@dataclass(frozen=True)
class Band:
    """An observed value and its expected band (−2σ … +2σ), as CLs or μ limits come."""

    observed: float | None
    expected: dict[str, float | None]

    @classmethod
    def from_document(cls, entry: Mapping[str, Any] | None) -> Band | None:
        if not entry:
            return None
        return cls(entry.get("observed"), dict(entry.get("expected") or {}))

    @property
    def median(self) -> float | None:
        """The median expected value."""
        return self.expected.get("median")

    def __str__(self) -> str:
        band = ", ".join(f"{k} {_cell(self.expected.get(k))}" for k in BAND)
        return f"observed {_cell(self.observed)}; expected {band}"


def _limit_columns(entry: Mapping[str, Any]) -> dict[str, Any]:
    """CLs and μ95 of a limits entry (a region, a scan point), observed and expected median."""
    cls = Band.from_document(entry.get("cls"))
    mu = Band.from_document(entry.get("mu_upper"))
    return {
        "cls_observed": cls.observed if cls else None,
        "cls_expected": cls.median if cls else None,
        "mu95_observed": mu.observed if mu else None,
        "mu95_expected": mu.median if mu else None,
        "excluded": entry.get("excluded"),
    }


@dataclass(frozen=True, repr=False)
class Limits(_Document):
    """The ``limits`` of a results document: the verdict, its CLs and μ95, per region too."""

    document: dict[str, Any]

    def summary(self) -> str:
        return self.verdict

    @property
    def excluded(self) -> bool:
        """Whether the signal (μ = 1) is excluded at 95 % CL by the most sensitive source."""
        return bool(self.document["verdict"]["excluded"])

    @property
    def source(self) -> str | None:
        """What decided: ``workspace``, ``combination A+B`` or ``region NAME``."""
        return self.document["verdict"].get("source")

    @property
    def cls(self) -> Band | None:
        """CLs of μ = 1, observed and expected, from the verdict's source."""
        return Band.from_document(self.document["verdict"].get("cls"))

    @property
    def mu95(self) -> Band | None:
        """The 95 % CL upper limit on the signal strength μ, observed and expected."""
        return Band.from_document(self.document["verdict"].get("mu_upper"))

    @property
    def verdict(self) -> str:
        """One line: excluded or not, by what, with CLs and μ95."""
        if self.source is None:
            return f"not excluded ({self.document['verdict'].get('reason', 'no source')})"
        cls, mu = self.cls, self.mu95
        words = "excluded" if self.excluded else "not excluded"
        text = f"{words} at 95 % CL by {self.source}"
        if cls is not None:
            text += f": CLs {_cell(cls.observed)} (expected {_cell(cls.median)})"
        if mu is not None:
            text += f", μ95 {_cell(mu.observed)} (expected {_cell(mu.median)})"
        return text

    def records(self) -> list[dict[str, Any]]:
        """One row per region with CLs and μ95, observed and expected median."""
        return [
            {"region": name, "status": entry.get("status"), **_limit_columns(entry)}
            for name, entry in self.document.get("regions", {}).items()
        ]

    def __str__(self) -> str:
        from ..report.limits_table import limits_tables

        return _render(limits_tables(self.document)) + "\n" + self.verdict


@dataclass(frozen=True)
class RegionYield:
    """A region's signal yield at σ × L with its MC uncertainty, and the raw events that pass."""

    region: str
    value: float
    mc_uncertainty: float
    raw: int
    efficiency: float | None = None


@dataclass(frozen=True, repr=False)
class RunResult(_Document):
    """What :func:`recast.run` returns: yields, cutflows, limits and provenance of one run.

    ``document`` is the validated results document (``recast run -o`` writes the same).
    :meth:`validate` compares this very run with a published cutflow, without running again.
    """

    document: dict[str, Any]
    bundle: Bundle = field(repr=False)
    unit: UnitResult = field(repr=False)
    settings: dict[str, Any] = field(repr=False)
    seed: int = 1
    #: the published benchmark whose spectrum was generated, if the run was one
    benchmark: str | None = None

    @property
    def analysis(self) -> str:
        return str(self.document["analysis"])

    def summary(self) -> str:
        events = self.document["normalisation"].get("events")
        text = f"{self.analysis}: {len(self.document['yields'])} regions, {events} events"
        return text + (f"; {self.limits.verdict}" if self.limits is not None else "")

    @property
    def yields(self) -> dict[str, RegionYield]:
        """Per region: the yield at σ × L, its MC uncertainty, the raw count, the efficiency."""
        return {
            name: RegionYield(
                name,
                float(y["value"]),
                float(y["mc_uncertainty"]),
                int(y["raw"]),
                y.get("efficiency"),
            )
            for name, y in self.document["yields"].items()
        }

    @property
    def cutflows(self) -> dict[str, Cutflow]:
        """Per region: the cutflow at σ × L (Σw, Σw² and raw counts after every cut)."""
        return {name: Cutflow.from_dict(c) for name, c in self.document["cutflows"].items()}

    @property
    def limits(self) -> Limits | None:
        """CLs, μ95 and the verdict, when the bundle carries a likelihood."""
        return Limits(self.document["limits"]) if "limits" in self.document else None

    @property
    def provenance(self) -> dict[str, Any]:
        """Versions, seed, the bundle's digests, inputs and settings of the run."""
        return dict(self.document["provenance"])

    @property
    def skipped(self) -> dict[str, str]:
        """Regions not run, with the reason (a network file the bundle cannot ship)."""
        return dict(self.document.get("skipped", {}))

    def records(self) -> list[dict[str, Any]]:
        """One row per region: region, yield, MC uncertainty, raw events, efficiency."""
        return [
            {
                "region": y.region,
                "yield": y.value,
                "mc_uncertainty": y.mc_uncertainty,
                "raw": y.raw,
                "efficiency": y.efficiency,
            }
            for y in self.yields.values()
        ]

    def cutflow_records(self, region: str) -> list[dict[str, Any]]:
        """The cutflow of ``region`` as rows: cut, Σw, its uncertainty, raw events."""
        from ..errors import UsageError, closest

        if region not in self.document["cutflows"]:
            known = sorted(self.document["cutflows"])
            raise UsageError(
                f"{self.analysis} has no region {region!r} (regions: {', '.join(known)})."
                + closest(region, known)
            )
        flow = Cutflow.from_dict(self.document["cutflows"][region])
        return [
            {
                "cut": cut,
                "yield": float(flow.sumw[i]),
                "mc_uncertainty": math.sqrt(max(float(flow.sumw2[i]), 0.0)),
                "raw": int(flow.raw[i]),
            }
            for i, cut in enumerate(flow.steps)
        ]

    def validate(
        self, benchmark: str | None = None, *, xsec: str | float | None = None
    ) -> Validation:
        """This run against the bundle's published cutflows of ``benchmark`` (default: the
        benchmark the run generated), step by step, without running again.

        The cross-section is ``xsec``, else the benchmark's published one, else the
        generator's (the run's own ``xsec`` is not reused: a benchmark states its own).
        """
        from ..errors import UsageError
        from .normalise import cross_section_pb
        from .run import validation_verdict

        name = benchmark or self.benchmark
        if name is None:
            raise UsageError(
                f"validate(): name the benchmark of {self.analysis} to compare with (this run "
                "generated none)"
            )
        lumi = float(self.document["normalisation"]["luminosity_fb"])  # the run's, as the CLI
        verdict = validation_verdict(
            self.bundle,
            self.unit,
            self.settings,
            name,
            cross_section_pb(xsec),
            lumi,
            seed=self.seed,
        )
        return Validation(verdict)

    def __str__(self) -> str:
        """The normalisation and the yields (``cutflow_records`` gives each cutflow)."""
        from ..report.results_table import results_tables

        return _render(results_tables(self.document, cutflows=False))


@dataclass(frozen=True, repr=False)
class Validation(_Document):
    """A run against the published cutflows of one benchmark: each step's ratio, pull, pass."""

    document: dict[str, Any]

    @property
    def passed(self) -> bool:
        """Whether every step of every compared region is within the bundle's tolerance."""
        return bool(self.document["passed"])

    @property
    def benchmark(self) -> str:
        return str(self.document["benchmark"])

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"{self.document['analysis']} against benchmark {self.benchmark}: {verdict}"

    def records(self) -> list[dict[str, Any]]:
        """One row per (region, step): recast and published values, ratio, pull, pass."""
        rows = []
        for region in self.document["regions"]:
            for step in region["steps"]:
                rows.append({"region": region["region"], **step})
        return rows

    def plot(self, path: str | Path) -> Path:
        """Draw the recast cutflow over the published one, with ratios, to ``path``."""
        from ..io import PLOT_SUFFIXES, check_output
        from ..report.validation_plot import plot_validation

        check_output(path, inputs=self.inputs(), field="plot", suffixes=(*PLOT_SUFFIXES, ""))
        plot_validation(self.document, path)
        return Path(path)

    def __str__(self) -> str:
        from ..report.validation_table import validation_tables

        verdict = "passed" if self.passed else "FAILED"
        return _render(validation_tables(self.document)) + f"\nvalidation {verdict}"


@dataclass(frozen=True, repr=False)
class Scan(_Document):
    """A scan of signal points: per point the verdict, CLs and μ95 (``recast scan`` writes
    the same document)."""

    document: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        return list(self.document["parameters"])

    def summary(self) -> str:
        points = len(self.document["points"])
        return f"{self.document['grid']}: {self.excluded} of {points} point(s) excluded"

    def inputs(self) -> list[str]:
        return [str(self.document["grid"]), str(self.document["likelihood"])]

    @property
    def excluded(self) -> int:
        """How many points are excluded at 95 % CL."""
        return int(self.document["excluded"])

    @property
    def failed(self) -> int:
        """How many points could not be fitted (their rows carry the reason, no CLs)."""
        return int(self.document["failed"])

    def records(self) -> list[dict[str, Any]]:
        """One row per point: its parameters, the verdict, CLs and μ95 (observed, expected)."""
        return [
            {
                **point["parameters"],
                "status": point.get("status"),
                "source": point.get("source"),
                **_limit_columns(point),
                # a failed point has no verdict: False would read as allowed
                **({"excluded": None} if point.get("status") == "failed" else {}),
            }
            for point in self.document["points"]
        ]

    def plot(self, path: str | Path) -> Path:
        """Draw the exclusion plane (observed and expected contours) to ``path``."""
        from ..io import PLOT_SUFFIXES, check_output
        from ..report.scan_plot import exclusion_plot

        check_output(path, inputs=self.inputs(), field="plot", suffixes=(*PLOT_SUFFIXES, ""))
        exclusion_plot(self.document, path)
        return Path(path)

    def __str__(self) -> str:
        from ..report.limits_table import scan_table

        return _render([scan_table(self.document)])


@dataclass(frozen=True, repr=False)
class Plane(_Document):
    """A model's plane (``plane.json`` of ``recast scan --points``): per point its σ, the
    CLs of every analysis at σ and σ ± 1σ, the deciding analysis; the exclusion contours."""

    document: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        return list(self.document["parameters"])

    @property
    def analyses(self) -> list[str]:
        return list(self.document["analyses"])

    @property
    def excluded(self) -> list[str]:
        """The names of the points excluded at 95 % CL (by the most sensitive analysis)."""
        return [p["name"] for p in self.document["points"] if (p.get("combined") or {}).get(
            "excluded")]  # fmt: skip

    @property
    def failed(self) -> list[str]:
        return list(self.document["summary"]["failed"])

    def contours(self, analysis: str = "combined") -> dict[str, list[list[list[float]]]]:
        """The CLs = 0.05 lines of ``analysis`` (or of the best expected one): observed,
        expected, expected_minus1/plus1, observed_theory_up/down; each a list of [x, y] lines."""
        known = self.document["contours"]
        if analysis not in known:
            raise UsageError(f"analysis={analysis!r}: the plane has {', '.join(known)}")
        return dict(known[analysis])

    def summary(self) -> str:
        points = len(self.document["points"])
        return f"{len(self.excluded)} of {points} point(s) excluded ({', '.join(self.analyses)})"

    def inputs(self) -> list[str]:
        return [str(p["source"]) for p in self.document["points"] if isinstance(p["source"], str)]

    def records(self) -> list[dict[str, Any]]:
        """One row per point: its parameters, σ, the deciding analysis, CLs and μ95, and the
        observed CLs of every analysis."""
        rows = []
        for point in self.document["points"]:
            best = point.get("combined") or {}
            sigma = point.get("cross_section") or {}
            row = {
                **point["values"],
                "status": point.get("status"),
                "xsec_pb": sigma.get("value_pb"),
                "analysis": best.get("analysis"),
                "deciding": best.get("deciding"),
                **_limit_columns(best),
            }
            for name in self.analyses:
                cls = ((point.get("analyses") or {}).get(name) or {}).get("cls") or {}
                row[f"cls_{name}"] = cls.get("observed")
            rows.append(row)
        return rows

    def plot(self, path: str | Path | None = None, analysis: str = "combined") -> Any:
        """The plane's figure (points coloured by CLs, contours with their bands); written to
        ``path`` when given (which is then returned), else the matplotlib Figure."""
        from ..report.plane_plot import draw_plane, save_plane

        if path is None:
            return draw_plane(self.document, analysis=analysis)
        from ..io import PLOT_SUFFIXES, check_output

        check_output(path, inputs=self.inputs(), field="plot", suffixes=(*PLOT_SUFFIXES, ""))
        save_plane(self.document, Path(path), analysis=analysis)
        return Path(path)

    def __str__(self) -> str:
        from rich.table import Table

        table = Table(
            title=f"{self.summary()}; σ from {self.document['cross_section']['description']}"
        )
        columns = [*self.parameters, "σ (fb)", "verdict", "by", "CLs obs", "CLs exp"]
        for column in columns:
            table.add_column(column)
        for row in self.records():
            sigma = row["xsec_pb"]
            verdict = ("failed" if row["status"] != "ok" else
                       "excluded" if row["excluded"] else "allowed")  # fmt: skip
            table.add_row(
                *(_cell(row[p]) for p in self.parameters),
                _cell(None if sigma is None else sigma * 1000.0),
                verdict,
                _cell(row["analysis"]),
                _cell(row["cls_observed"]),
                _cell(row["cls_expected"]),
            )
        return _render([table])
