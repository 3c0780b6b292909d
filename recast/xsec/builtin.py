"""The built-in 13 TeV SUSY production cross-sections, interpolated in log σ.

The tables in ``tables/`` are derived from the published grids (NNLL-fast 1.1 for gluino,
squark and stop/sbottom pairs; the LHC SUSY cross-section working group's NLO+NLL tables for
electroweakinos and sleptons) by the development script ``xsec_tables.py`` (beside the
reference experiment, outside the wheel); each names its source, the original files and their
sha256. Between two grid masses log σ is linear in the
mass and each relative uncertainty is linear in the mass; at a grid mass the value is the
table's own; outside the grid nothing is extrapolated.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from ..errors import RecastError, UsageError, among
from ..schema import loads_json
from .result import CrossSection, CrossSections

log = logging.getLogger(__name__)

#: the shipped tables, by name (one file ``tables/<name>.json`` each)
NAMES = (
    "gluino-pairs",
    "squark-pairs",
    "stop-pairs",
    "higgsino-n1n2",
    "higgsino-n2c1",
    "higgsino-c1c1",
    "wino-n2c1",
    "wino-n2c1-plus",
    "wino-n2c1-minus",
    "wino-c1c1",
    "slepton-pairs-ll",
    "slepton-pairs-rr",
    "slepton-pairs-llrr",
)
#: other names of a table: sbottom pairs are produced as stop pairs are (QCD)
ALIASES = {"sbottom-pairs": "stop-pairs"}

Arrays = dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Process:
    """One built-in table: what it is, its mass range and orders, and its source."""

    name: str
    title: str
    mass_min_gev: float
    mass_max_gev: float
    orders: tuple[str, ...]
    default_order: str
    source: Mapping[str, Any]
    note: str = ""

    def citation(self, order: str) -> str:
        """One line naming the calculation, the published file and its digest."""
        s = self.source
        first = s["files"][0]
        authors = s["authors"].split(",")[0] + (" et al." if "," in s["authors"] else "")
        return (
            f"{s['calculator']} {s['version']} ({authors}): {s['title']}, {order}; "
            f"derived from {first['name']} (sha256 {first['sha256'][:16]}…, {s['via']}, "
            f"{s['license'].split(',')[0]}); {s['url']}"
        )


@dataclass(frozen=True)
class _Table:
    process: Process
    masses: npt.NDArray[np.float64]
    #: per order: "value" and the up/down magnitudes of each component, in pb at the grid masses
    orders: Mapping[str, Arrays]


def _signed(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    """Up and down magnitudes of two signed variations (either may go either way)."""
    zero = np.zeros_like(a)
    return np.maximum.reduce([zero, a, b]), -np.minimum.reduce([zero, a, b])


def _components(entry: Mapping[str, Any]) -> Arrays:
    """The published uncertainties of one order as up/down magnitudes in pb."""
    value = np.asarray(entry["cross_section"], dtype=float)
    out: Arrays = {"value": value}
    if "scale_half" in entry:  # NNLL-fast: μ/2 and 2μ variations, PDF+αs and parameters in %
        out["scale_up"], out["scale_down"] = _signed(
            np.asarray(entry["scale_half"], float), np.asarray(entry["scale_double"], float)
        )
        pdf = value * np.asarray(entry["pdf_alphas_percent"], float) / 100
        out["pdf_up"], out["pdf_down"] = pdf, pdf
        param_up, param_down = np.zeros_like(value), np.zeros_like(value)
        if "param_up_percent" in entry:
            param_up, param_down = _signed(
                value * np.asarray(entry["param_up_percent"], float) / 100,
                value * np.asarray(entry["param_down_percent"], float) / 100,
            )
        # the components are independent: added in quadrature, as the .info files list them
        out["total_up"] = np.sqrt(out["scale_up"] ** 2 + pdf**2 + param_up**2)
        out["total_down"] = np.sqrt(out["scale_down"] ** 2 + pdf**2 + param_down**2)
    elif "total" in entry:  # the working group's symmetric envelope
        out["total_up"] = out["total_down"] = np.asarray(entry["total"], float)
    else:  # the working group's relative up and down (signed, %)
        out["total_up"], out["total_down"] = _signed(
            value * np.asarray(entry["total_up_percent"], float) / 100,
            value * np.asarray(entry["total_down_percent"], float) / 100,
        )
    return out


@functools.cache
def _table(name: str) -> _Table:
    resource = importlib.resources.files(__package__) / "tables" / f"{name}.json"
    document = loads_json(resource.read_bytes(), f"recast/xsec/tables/{name}.json")
    masses = np.asarray(document["masses"], dtype=float)
    orders = {order: _components(entry) for order, entry in document["orders"].items()}
    for order, arrays in orders.items():
        if any(len(a) != len(masses) for a in arrays.values()) or not np.all(arrays["value"] > 0):
            raise RecastError(f"recast/xsec/tables/{name}.json: order {order} is malformed")
    process = Process(
        name=name,
        title=document["title"],
        mass_min_gev=float(masses[0]),
        mass_max_gev=float(masses[-1]),
        orders=tuple(orders),
        default_order=document["default_order"],
        source=document["source"],
        note=document.get("note", ""),
    )
    return _Table(process, masses, orders)


def processes() -> list[Process]:
    """Every built-in table, with its mass range, orders and source."""
    return [_table(name).process for name in NAMES]


def _resolve(process: str) -> str:
    key = process.strip().lower().replace("_", "-").replace(" ", "-")
    key = ALIASES.get(key, key)
    if key not in NAMES:
        raise UsageError(
            f"no built-in cross-section table for process {process!r}; the known ones: "
            f"{among(process, (*NAMES, *ALIASES))} (`recast xsec --list` shows their ranges)"
        )
    return key


def _order(table: _Table, order: str | None) -> str:
    if order is None:
        return table.process.default_order
    wanted = order.strip().lower()
    for known in table.orders:
        # "NNLL" and "NLL" name the resummed columns (NNLO+NNLL, NLO+NLL) too
        if wanted in (known.lower(), known.lower().rpartition("+")[2]):
            return known
    raise UsageError(
        f"the cross-section table {table.process.name!r} has no order {order!r}; its orders: "
        f"{among(order, table.orders)}"
    )


def _inside(table: _Table, masses: npt.NDArray[np.float64]) -> None:
    """Refuse any mass outside the grid (or not a number): nothing is extrapolated."""
    low, high = table.process.mass_min_gev, table.process.mass_max_gev
    bad = ~((masses >= low) & (masses <= high))
    if bad.any():
        first = float(masses[bad][0])
        which = (
            f"{int(bad.sum())} of the {masses.size} masses are outside the table's range "
            f"{low:g}–{high:g} GeV (the first: {first:g} GeV)"
            if masses.size > 1
            else f"mass {first:g} GeV is outside the table's range {low:g}–{high:g} GeV"
        )
        raise UsageError(
            f"cross-section of {table.process.name!r}: {which}; tables are not extrapolated: "
            "give the cross-section yourself (e.g. --xsec) or a mass inside the range"
        )


def _evaluate(table: _Table, order: str, masses: npt.NDArray[np.float64]) -> Arrays:
    """σ and its uncertainty magnitudes at ``masses`` (inside the grid), in pb."""
    grid, arrays = table.masses, table.orders[order]
    last = len(grid) - 2
    below = np.clip(np.searchsorted(grid, masses, side="right") - 1, 0, last)
    t = (masses - grid[below]) / (grid[below + 1] - grid[below])
    at_low, at_high = t == 0, t == 1

    def exact(values: npt.NDArray[np.float64], inner: npt.NDArray[np.float64]) -> Any:
        # at a grid mass the table's own number, not exp(log(x)) one ulp away
        return np.where(at_low, values[below], np.where(at_high, values[below + 1], inner))

    value = arrays["value"]
    logs = np.log(value)
    out: Arrays = {
        "value": exact(value, np.exp((1 - t) * logs[below] + t * logs[below + 1])),
    }
    for key, values in arrays.items():
        if key != "value":
            relative = values / value
            inner = ((1 - t) * relative[below] + t * relative[below + 1]) * out["value"]
            out[key] = exact(values, inner)
    return out


@overload
def cross_section(process: str, mass: float, *, order: str | None = None) -> CrossSection: ...
@overload
def cross_section(
    process: str, mass: npt.NDArray[Any] | Sequence[float], *, order: str | None = None
) -> CrossSections: ...
def cross_section(
    process: str,
    mass: float | npt.NDArray[Any] | Sequence[float],
    *,
    order: str | None = None,
) -> CrossSection | CrossSections:
    """The 13 TeV production cross-section of ``process`` at ``mass`` GeV.

    A number gives a :class:`CrossSection`; an array or list of masses a
    :class:`CrossSections` (one vectorised evaluation, for scans). ``order`` picks a column
    of the table (default: its highest, NNLO+NNLL or NLO+NLL); :func:`processes` lists
    names, ranges and orders.

    >>> round(cross_section("gluino-pairs", 1800).value_pb, 6)
    0.00294
    """
    table = _table(_resolve(process))
    chosen = _order(table, order)
    masses = np.asarray(mass, dtype=float)
    if masses.ndim > 1:
        raise UsageError(
            f"cross-section masses must be a number or a 1-d array, not {masses.shape}"
        )
    _inside(table, masses.reshape(-1))
    arrays = _evaluate(table, chosen, masses.reshape(-1))

    many = CrossSections(
        process=table.process.name,
        order=chosen,
        source=table.process.citation(chosen),
        mass_gev=masses.reshape(-1),
        value_pb=arrays["value"],
        scale_up_pb=arrays.get("scale_up"),
        scale_down_pb=arrays.get("scale_down"),
        pdf_up_pb=arrays.get("pdf_up"),
        pdf_down_pb=arrays.get("pdf_down"),
        total_up_pb=arrays.get("total_up"),
        total_down_pb=arrays.get("total_down"),
    )
    return many[0] if masses.ndim == 0 else many


def table_masses(process: str) -> tuple[float, ...]:
    """The grid masses of a built-in table, in GeV (where σ is exactly the published number)."""
    return tuple(float(m) for m in _table(_resolve(process)).masses)


def describe(process: Process) -> str:
    """One line: name, range, orders."""
    orders = ", ".join(process.orders)
    span = f"{process.mass_min_gev:g}–{process.mass_max_gev:g} GeV"
    return f"{process.name}: {process.title}; {span}; {orders} (default {process.default_order})"
