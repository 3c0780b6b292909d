"""Which cross-section a model point is normalised to: a built-in table, the SLHA file's
``XSECTION`` block, a user table, one fixed value, or the generator's own (LO).

>>> choice = xsec_choice("table", "gluino-pairs")
>>> choice.describe()
'the built-in table of gluino-pairs (NNLO+NNLL)'

A scan records the choice and, per point, the :class:`~recast.xsec.CrossSection` with its
source; its ±1σ (:meth:`~recast.xsec.CrossSection.shifted`) re-evaluates the plane without
running events again.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..errors import UsageError, among
from ..xsec import NAMES, CrossSection, cross_section, from_slha_xsection
from ..xsec.builtin import processes as builtin_processes
from ..xsec.units import parse_cross_section
from .decays import particle_name, read_spectrum
from .processes import production

log = logging.getLogger(__name__)

#: what ``--xsec`` may say besides a table name, a file or a value with a unit
KINDS = ("table", "slha", "generator")
#: produced masses further apart than this share no table entry: σ tables assume degeneracy
DEGENERACY = 0.02


@dataclass(frozen=True)
class UserTable:
    """A user's table of σ(mass) in pb, read from a CSV file with the columns ``mass_gev``,
    ``xsec_pb`` and optionally ``uncertainty_pb`` (symmetric) or ``up_pb`` and ``down_pb``."""

    path: str
    mass_gev: np.ndarray
    value_pb: np.ndarray
    up_pb: np.ndarray | None = None
    down_pb: np.ndarray | None = None

    def at(self, mass: float, process: str) -> CrossSection:
        """σ at ``mass``, interpolated linearly in log σ; refused outside the table."""
        low, high = float(self.mass_gev[0]), float(self.mass_gev[-1])
        if not low <= mass <= high:
            raise UsageError(
                f"{self.path}: mass {mass:g} GeV is outside the table ({low:g}–{high:g} GeV); "
                "extend the table: σ is not extrapolated"
            )

        def interpolated(values: np.ndarray) -> float:
            return float(np.exp(np.interp(mass, self.mass_gev, np.log(values))))

        value = interpolated(self.value_pb)
        # relative uncertainties interpolate smoothly where absolute ones span decades
        up = None if self.up_pb is None else value * interpolated(self.up_pb / self.value_pb)
        down = None if self.down_pb is None else value * interpolated(self.down_pb / self.value_pb)
        return CrossSection(process, "user", value, f"user table {self.path}", mass_gev=mass,
                            total_up_pb=up, total_down_pb=down)  # fmt: skip


def read_user_table(path: str | os.PathLike[str]) -> UserTable:
    """The CSV table at ``path`` (see :class:`UserTable`), checked: ascending masses, σ > 0."""
    where = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(line for line in stream if not line.startswith("#")))
    except FileNotFoundError:
        raise UsageError(f"{where}: no such cross-section table") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{where}: cannot read it as a CSV table ({exc})") from None
    if not rows or "mass_gev" not in rows[0] or "xsec_pb" not in rows[0]:
        raise UsageError(
            f"{where}: a cross-section table is a CSV file with the header "
            "'mass_gev,xsec_pb[,uncertainty_pb]' (or up_pb,down_pb) and one row per mass"
        )
    columns: dict[str, list[float]] = {}
    for number, row in enumerate(rows, start=2):
        for name, text in row.items():
            try:
                value = float(text)
            except (TypeError, ValueError):
                raise UsageError(
                    f"{where}, line {number}: column {name!r} holds {text!r}, not a number"
                ) from None
            if not math.isfinite(value) or value < 0 or (name == "xsec_pb" and value == 0):
                raise UsageError(
                    f"{where}, line {number}: column {name!r} must be a finite positive "
                    f"number, not {text}"
                )
            columns.setdefault(str(name), []).append(value)
    masses = np.asarray(columns["mass_gev"])
    if len(masses) < 2 or not (np.diff(masses) > 0).all():
        raise UsageError(f"{where}: give at least two rows with strictly increasing mass_gev")
    values = np.asarray(columns["xsec_pb"])
    up = down = None
    if "uncertainty_pb" in columns:
        up = down = np.asarray(columns["uncertainty_pb"])
    elif "up_pb" in columns or "down_pb" in columns:
        if not ("up_pb" in columns and "down_pb" in columns):
            raise UsageError(f"{where}: give both up_pb and down_pb (or uncertainty_pb)")
        up, down = np.asarray(columns["up_pb"]), np.asarray(columns["down_pb"])
    if up is not None and not (np.asarray(up) > 0).all():
        raise UsageError(f"{where}: uncertainties must be positive where given")
    return UserTable(where, masses, values, up, down)


@dataclass(frozen=True)
class XsecChoice:
    """How every point of a scan gets its σ (see :func:`xsec_choice`)."""

    kind: str  # "table", "user-table", "slha", "generator" or "fixed"
    process: str | None = None
    table: str | None = None
    value_pb: float | None = None
    user: UserTable | None = field(default=None, compare=False)
    text: str = ""

    def describe(self) -> str:
        if self.kind == "table":
            order = next(p.orders[-1] for p in builtin_processes() if p.name == self.table)
            return f"the built-in table of {self.table} ({order})"
        if self.kind == "user-table":
            return f"the user table {self.text}"
        if self.kind == "slha":
            return "each SLHA file's XSECTION block"
        if self.kind == "fixed":
            return f"{self.value_pb:g} pb at every point"
        return "the generator's (Pythia8, leading order)"

    def record(self) -> dict[str, object]:
        """What the scan's documents say of the choice (and what resuming compares)."""
        return {"kind": self.kind, "given": self.text, "description": self.describe()}


def xsec_choice(text: str | float | None, process: str | None) -> XsecChoice:
    """``text`` as ``--xsec`` gives it: ``table`` (the process's built-in table, the default
    when it has one), a built-in table's name, ``slha``, ``generator``, a CSV file, or a
    value with a unit (``12fb``) for every point."""
    given_text = "" if text is None else str(text).strip()
    chosen = None if process is None else production(process)
    if isinstance(text, int | float) and not isinstance(text, bool):
        given_text = f"{float(text)!r}pb"
    if given_text in ("", "table"):
        if chosen is not None and chosen.xsec:
            return XsecChoice("table", chosen.name, chosen.xsec, text="table")
        if given_text == "table":
            raise UsageError(
                "--xsec table needs a production process with a built-in table (--process "
                f"NAME; known: {', '.join(NAMES)})"
            )
        return XsecChoice("generator", text="generator")
    if given_text in ("slha", "generator"):
        return XsecChoice(given_text, chosen.name if chosen else None, text=given_text)
    if given_text.lower().replace("_", "-") in NAMES:
        if chosen is None:
            raise UsageError(f"--xsec {given_text}: give the production process with --process")
        return XsecChoice("table", chosen.name, given_text.lower().replace("_", "-"),
                          text=given_text)  # fmt: skip
    if given_text.lower().endswith((".csv", ".txt")) or Path(given_text).is_file():
        if chosen is None:
            raise UsageError(
                f"--xsec {given_text}: a table is read at the produced particles' mass; give "
                "the production process with --process"
            )
        user = read_user_table(given_text)
        return XsecChoice("user-table", chosen.name, user=user, text=given_text)
    try:
        value = parse_cross_section(given_text)
    except UsageError:
        raise UsageError(
            f"--xsec {given_text!r}: give table, slha, generator, a built-in table's name "
            f"({among(given_text, NAMES)}), a CSV file, or a value with a unit (12fb)"
        ) from None
    return XsecChoice("fixed", chosen.name if chosen else None, value_pb=value, text=given_text)


def _produced_mass(process: str, masses: Mapping[int, float], source: str) -> float:
    """The mass a σ table is read at: the mean of the produced particles' masses, which the
    tables take as degenerate (a spread above :data:`DEGENERACY` is refused)."""
    chosen = production(process)
    ids = sorted({*chosen.id_a, *chosen.id_b} or {1000021})
    found = {pdg: abs(masses[pdg]) for pdg in ids if pdg in masses}
    if not found:
        names = ", ".join(f"{particle_name(p)} ({p})" for p in ids)
        raise UsageError(f"{source}: BLOCK MASS has none of {names}, which {process} produces")
    values = np.asarray(list(found.values()))
    mean = float(values.mean())
    if values.max() - values.min() > DEGENERACY * mean:
        raise UsageError(
            f"{source}: {process} produces particles of masses {values.min():g}–"
            f"{values.max():g} GeV; its cross-section table assumes them degenerate (within "
            f"{DEGENERACY:.0%}). Give --xsec generator, slha, a table file or a value"
        )
    return mean


def point_cross_section(
    choice: XsecChoice, slha: str | os.PathLike[str] | None
) -> CrossSection | None:
    """The σ of one point whose spectrum is the SLHA file ``slha``; None for the generator's
    (known only after generation)."""
    if choice.kind == "generator":
        return None
    if choice.kind == "fixed":
        assert choice.value_pb is not None
        return CrossSection(choice.process or "fixed", "user", choice.value_pb, "--xsec value")
    if slha is None:
        raise UsageError(f"--xsec {choice.text}: this point has no SLHA file to read masses from")
    path = Path(slha)
    if choice.kind == "slha":
        found = from_slha_xsection(path)
        central = [x for x in found if all(f in (0.0, 1.0) for f in x.slha_flags[3:5])]
        if not central:
            raise UsageError(
                f"{path}: no XSECTION block (or none at the central scale): add one, or give "
                "--xsec table, generator, a table file or a value"
            )
        # per final state the line of the highest QCD order; several final states add up
        best: dict[tuple[int, ...], CrossSection] = {}
        for line in central:
            order = line.slha_flags[1] if len(line.slha_flags) > 1 else 0.0
            known = best.get(line.final_state)
            if known is None or order > (known.slha_flags[1] if len(known.slha_flags) > 1 else 0):
                best[line.final_state] = line
        if len(best) == 1:
            return next(iter(best.values()))
        total = sum(x.value_pb for x in best.values())
        log.info("%s: %d final states in XSECTION blocks; their σ are added", path, len(best))
        return CrossSection("SLHA XSECTION", "mixed", total, f"{path} XSECTION blocks "
                            f"({len(best)} final states, added)")  # fmt: skip
    masses, _, _ = read_spectrum(path.read_text(encoding="utf-8", errors="replace"))
    assert choice.process is not None
    mass = _produced_mass(choice.process, masses, str(path))
    if choice.kind == "user-table":
        assert choice.user is not None
        return choice.user.at(mass, choice.process)
    assert choice.table is not None
    sigma = cross_section(choice.table, mass)
    factor = production(choice.process).xsec_factor
    if factor == 1.0:
        return sigma
    # a selection of several copies of the table's process (two slepton flavours): every
    # number in pb scales, the band with it
    scaled = {f.name: getattr(sigma, f.name) * factor for f in fields(sigma)
              if f.name.endswith("_pb") and getattr(sigma, f.name) is not None}  # fmt: skip
    return replace(sigma, **scaled)


__all__ = [
    "KINDS",
    "UserTable",
    "XsecChoice",
    "point_cross_section",
    "read_user_table",
    "xsec_choice",
]
