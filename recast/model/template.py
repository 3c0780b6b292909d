"""SLHA templates with named parameters, filled over a grid of points.

A template is an SLHA file whose varied numbers are written as placeholders, e.g.
``1000021   {m_gluino}   # ~g``; or a plain SLHA file with a mapping from each parameter to
the number it replaces (``{"m_gluino": "MASS 1000021"}``). Both become the same
:class:`Template`. Values are written so that reading them back gives the same float.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError, among
from ..events.slha import check_slha

log = logging.getLogger(__name__)

#: ``{name}``: a parameter; any other brace (none in SLHA) is left alone
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Value = int | float
Grid = Mapping[str, Value | Sequence[Value]] | Sequence[Mapping[str, Value]]


@dataclass(frozen=True)
class Template:
    """An SLHA text with ``{name}`` placeholders.

    ``source`` names the file in messages; ``sha256`` is the digest of the file as given
    (before any mapping turned numbers into placeholders); ``locations`` records, for a
    template made from a plain SLHA file, where each parameter sits.
    """

    text: str
    source: str
    sha256: str
    locations: Mapping[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameter names, in the order they first appear."""
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    def fill(self, values: Mapping[str, Value]) -> str:
        """The SLHA text with every placeholder replaced by its value (see :func:`format_value`)."""
        missing = [name for name in self.parameters if name not in values]
        if missing:
            raise UsageError(
                f"{self.source}: parameter {missing[0]!r} of the template has no value; "
                f"give it in the grid (e.g. --set {missing[0]}=...)"
            )
        return PLACEHOLDER.sub(lambda m: format_value(values[m.group(1)]), self.text)


@dataclass(frozen=True)
class Point:
    """One point of a grid: its name, its parameter values and its filled SLHA text."""

    name: str
    values: Mapping[str, Value]
    slha: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.slha"


def format_value(value: Value) -> str:
    """``value`` as SLHA text that reads back as the same number: an integral value without a
    fraction (``1800``, also usable as an id or a count), any other by its shortest exact
    decimal form (``1800.5``, ``1e-05``)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- building templates -------------------------------------------------------------------
def template_from_text(
    text: str, source: str = "<template>", locations: Mapping[str, str] | None = None
) -> Template:
    """A template from SLHA text: with placeholders, or plain with ``locations``.

    A location names one number of the file: ``"MASS 1000021"`` (a value of any ``BLOCK``
    by its keys, e.g. ``"NMIX 1 1"``), ``"DECAY 1000021"`` (the width),
    ``"DECAY 1000021 1000022 -6 6"`` (the branching ratio of the channel with these
    daughters, in any order) or ``"DECAY 1000021 line 2"`` (of its second channel).
    """
    digest = _sha256(text.encode())
    if locations:
        text = _mark(text, source, locations)
    template = Template(text, source, digest, dict(locations or {}))
    if not template.parameters:
        raise UsageError(
            f"{source}: the template has no parameter: write values as {{m_gluino}}-style "
            "placeholders, or name where each parameter sits (--param 'm_gluino=MASS 1000021')"
        )
    return template


def load_template(
    path: str | os.PathLike[str], locations: Mapping[str, str] | None = None
) -> Template:
    """The template in the file ``path`` (see :func:`template_from_text`)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{file}: no such template file") from None
    except OSError as err:
        raise UsageError(f"{file}: cannot read the template: {err.strerror}") from None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise UsageError(f"{file}: not a text file (an SLHA template is text)") from None
    template = template_from_text(text, str(file), locations)
    return Template(template.text, template.source, _sha256(data), template.locations)


def _location(source: str, name: str, where: str) -> tuple[str, list[str]]:
    tokens = where.split()
    if not _NAME.match(name):
        raise UsageError(
            f"{source}: parameter name {name!r} is not a name (letters, digits and _, not "
            "starting with a digit)"
        )
    if len(tokens) < 2 or any(_int(t) is None for t in tokens[1:] if t.lower() != "line"):
        raise UsageError(
            f"{source}: parameter {name!r}: location {where!r} is not 'BLOCK KEY...' "
            "(e.g. 'MASS 1000021', 'DECAY 1000021', 'DECAY 1000021 1000022 -6 6', "
            "'DECAY 1000021 line 1')"
        )
    return tokens[0].upper(), tokens[1:]


def _int(token: str) -> int | None:
    try:
        return int(token)
    except ValueError:
        return None


def _mark(text: str, source: str, locations: Mapping[str, str]) -> str:
    """``text`` with the number at each location replaced by its ``{name}``."""
    lines = text.splitlines(keepends=True)
    for name, where in locations.items():
        block, keys = _location(source, name, where)
        found = _find(lines, block, keys)
        if not found:
            raise UsageError(
                f"{source}: parameter {name!r}: no number at {where!r} in the file; check the "
                "block name and keys (a DECAY channel is named by its daughters' PDG ids)"
            )
        if len(found) > 1:
            raise UsageError(
                f"{source}: parameter {name!r}: {where!r} names {len(found)} numbers (lines "
                f"{', '.join(str(n + 1) for n, _ in found)}); give a location naming one"
            )
        number, (start, end) = found[0]
        line = lines[number]
        lines[number] = f"{line[:start]}{{{name}}}{line[end:]}"
    return "".join(lines)


def _spans(line: str) -> list[tuple[str, int, int]]:
    """The tokens of ``line`` before its comment, each with its start and end."""
    data = line.split("#", 1)[0]
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", data)]


def _find(lines: Sequence[str], block: str, keys: list[str]) -> list[tuple[int, tuple[int, int]]]:
    """Where the number at ``block keys`` is: (line index, token span), every match."""
    found: list[tuple[int, tuple[int, int]]] = []
    current, parent, channel = "", 0, 0
    for number, line in enumerate(lines):
        spans = _spans(line)
        if not spans:
            continue
        head = spans[0][0].upper()
        if head in ("BLOCK", "DECAY", "XSECTION"):
            current = spans[1][0].upper() if head == "BLOCK" and len(spans) > 1 else head
            parent = (_int(spans[1][0]) or 0) if head == "DECAY" and len(spans) > 1 else 0
            channel = 0
            width = len(spans) > 2 and len(keys) == 1 and parent == _int(keys[0])
            if head == "DECAY" == block and width:
                found.append((number, spans[2][1:]))
            continue
        if current != block:
            continue
        if block == "DECAY":
            channel += 1
            if len(keys) < 2 or parent != _int(keys[0]):
                continue
            if keys[1].lower() == "line":
                if len(keys) == 3 and channel == _int(keys[2]):
                    found.append((number, spans[0][1:]))
                continue
            daughters = sorted(_int(t) for t, _, _ in spans[2:])  # type: ignore[type-var]
            if daughters == sorted(int(k) for k in keys[1:]):
                found.append((number, spans[0][1:]))
            continue
        values = [_int(t) for t, _, _ in spans[:-1]]
        if values == [int(k) for k in keys]:
            found.append((number, spans[-1][1:]))
    return found


# -- grids --------------------------------------------------------------------------------
def grid_points(grid: Grid, source: str = "the grid") -> list[dict[str, Value]]:
    """The points of ``grid``: a mapping parameter → values (or one value) gives their
    Cartesian product, the first parameter varying slowest; a list of mappings gives its
    points as they are. Every value must be a finite number."""
    if isinstance(grid, Mapping):
        axes: list[list[Any]] = []
        for name, given in grid.items():
            values = given.tolist() if hasattr(given, "tolist") else given  # numpy arrays
            several = isinstance(values, Sequence) and not isinstance(values, str)
            listed: list[Any] = list(values) if several else [values]  # type: ignore[arg-type]
            if not listed:
                raise UsageError(f"{source}: parameter {name!r} has no values")
            axes.append(listed)
        chosen = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*axes)]
    elif isinstance(grid, Sequence) and not isinstance(grid, str):
        chosen = []
        for index, point in enumerate(grid):
            if not isinstance(point, Mapping):
                raise UsageError(
                    f"{source}: point {index + 1} is {point!r}, not a mapping of parameter to value"
                )
            chosen.append(dict(point))
    else:
        raise UsageError(
            f"{source}: a grid is a mapping of parameter to values, or a list of points; "
            f"not {type(grid).__name__}"
        )
    if not chosen:
        raise UsageError(f"{source}: the grid has no points")
    for index, point in enumerate(chosen):
        for name, value in point.items():
            _check_value(source, index, name, value)
    return chosen


def _check_value(source: str, index: int, name: object, value: object) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"{source}: {name!r} is not a parameter name")
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):  # type: ignore[arg-type]
        raise UsageError(
            f"{source}: parameter {name!r} at point {index + 1} is {value!r}, not a finite "
            "number; give a number"
        )


def point_name(values: Mapping[str, Value]) -> str:
    """``m_gluino_1800__m_lsp_100``: each parameter and its value, in the given order."""
    return "__".join(f"{name}_{format_value(value)}" for name, value in values.items())


def points(template: Template, grid: Grid, *, grid_source: str = "the grid") -> list[Point]:
    """Every point of ``grid`` filled into ``template``, each checked as Pythia would read it.

    Refused (:class:`UsageError`) before anything is filled: a template parameter without
    values, a grid parameter the template does not have, a value that is not a finite number,
    two points with the same name; then (:class:`SLHAError`) a filled point with a number
    Pythia would misread (see :func:`recast.events.slha.slha_problems`)."""
    chosen = grid_points(grid, grid_source)
    wanted = template.parameters
    for index, values in enumerate(chosen):
        missing = [name for name in wanted if name not in values]
        if missing:
            at = "" if isinstance(grid, Mapping) else f" at point {index + 1}"
            raise UsageError(
                f"{template.source}: template parameter {missing[0]!r} is not given in "
                f"{grid_source}{at}; give its values (e.g. --set {missing[0]}=...)"
            )
        extra = [name for name in values if name not in wanted]
        if extra:
            raise UsageError(
                f"{grid_source}: parameter {extra[0]!r} is not in the template "
                f"{template.source}, whose parameters are {among(extra[0], wanted)}"
            )
    order = list(chosen[0])  # names follow the grid's order (--set order), not the file's
    named: dict[str, int] = {}
    for index, values in enumerate(chosen):
        ordered = {name: values[name] for name in order}
        name = point_name(ordered)
        if name in named:
            raise UsageError(
                f"{grid_source}: points {named[name] + 1} and {index + 1} are the same point "
                f"{name}; give each point once"
            )
        named[name] = index
    result = []
    for values in chosen:
        ordered = {name: values[name] for name in order}
        name = point_name(ordered)
        text = template.fill(ordered)
        check_slha(text, f"{template.source} at point {name}")
        result.append(Point(name, ordered, text))
    return result


def parse_set(options: Iterable[str]) -> dict[str, list[Value]]:
    """``["m_gluino=1800,2000", "m_lsp=1"]`` (the ``--set`` options) as a grid mapping."""
    grid: dict[str, list[Value]] = {}
    for option in options:
        name, equals, listed = option.partition("=")
        name = name.strip()
        if not equals or not _NAME.match(name):
            raise UsageError(
                f"--set {option!r}: write NAME=VALUE,VALUE,... (e.g. --set m_gluino=1800,2000)"
            )
        if name in grid:
            raise UsageError(f"--set {option!r}: parameter {name!r} is set twice; set it once")
        values: list[Value] = []
        for token in listed.split(","):
            number = _number(token.strip())
            if number is None:
                raise UsageError(
                    f"--set {option!r}: {token.strip()!r} is not a number for parameter {name!r}"
                )
            values.append(number)
        grid[name] = values
    return grid


def _number(token: str) -> Value | None:
    integer = _int(token)
    if integer is not None:
        return integer
    try:
        return float(token)
    except ValueError:
        return None


def as_grid(document: Any, source: str) -> Grid:
    """A grid read from JSON: ``{"m_gluino": [..], ...}``, ``{"points": [{..}, ..]}`` or a
    list of points."""
    if isinstance(document, dict) and set(document) == {"points"}:
        document = document["points"]
    if isinstance(document, dict | list):
        return document
    raise UsageError(
        f"{source}: a grid file holds a mapping of parameter to values, or a list of points "
        '(e.g. {"m_gluino": [1800, 2000], "m_lsp": [1, 400]})'
    )
