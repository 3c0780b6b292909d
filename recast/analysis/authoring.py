"""Cuts declared as data: families of thresholds whose names come from their declaration.

A large analysis has dozens of cuts of one shape, ``variable OP value``. Rather than a method
each, list them in the class's ``cut_families``; every cut is named from what it tests, so a
name is never written twice and cannot drift from its threshold::

    class MySearch(Analysis):
        cut_families = (
            threshold("n_jets", ">=", (4, 6, 8), "≥ {value} jets"),     # n_jets_ge_4, ...
            threshold("met_pt", ">", 200, "E_T^miss > 200 GeV", name="met"),  # met_gt_200
            window("score", 0.5, 0.8, "CR window", name="p"),         # p_in_0.5_0.8
        )

A name is ``{name}_{op}_{value}{suffix}``: ``name`` defaults to the variable, ``op`` is
``ge``, ``gt``, ``le``, ``lt``, ``eq`` or ``ne``, and ``value`` is written as Python writes the
number (``4``, ``0.9997``, ``-2.0``). The description may use ``{value}``. A family that reads
a network's outputs names the network (``network="multib"``): its cuts then refuse to run
without it, saying how to give it. Every name is checked like a :func:`~.base.cut` name, and
a name declared twice (by two families, or a family and a method) fails when the class is
created.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import awkward as ak

from .base import AnalysisDefinitionError, CutDefinition, CutFunction, check_cut_name

log = logging.getLogger(__name__)

#: comparison → (how a cut name spells it, the test)
OPERATORS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    ">=": ("ge", operator.ge),
    ">": ("gt", operator.gt),
    "<=": ("le", operator.le),
    "<": ("lt", operator.lt),
    "==": ("eq", operator.eq),
    "!=": ("ne", operator.ne),
}

Number = int | float


def _compare(
    variable: str, test: Callable[[Any, Any], Any], value: Number, network: str | None, name: str
) -> CutFunction:
    def function(analysis: Any, events: ak.Array) -> Any:
        if network is not None:
            analysis.require_network(network, name)
        return test(events[variable], value)

    return function


def _window(
    variable: str, low: Number, high: Number, network: str | None, name: str
) -> CutFunction:
    def function(analysis: Any, events: ak.Array) -> Any:
        if network is not None:
            analysis.require_network(network, name)
        x = events[variable]
        return (x > low) & (x < high)

    return function


@dataclass(frozen=True)
class Threshold:
    """Cuts ``variable OP value``, one per value (see :func:`threshold`)."""

    variable: str
    op: str
    values: tuple[Number, ...]
    description: str = ""
    name: str | None = None
    suffix: str = ""
    network: str | None = None

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise AnalysisDefinitionError(
                f"threshold on {self.variable!r}: comparison {self.op!r} is not one of "
                f"{', '.join(OPERATORS)}"
            )
        if not self.values:
            raise AnalysisDefinitionError(f"threshold on {self.variable!r}: no value given")

    def definitions(self) -> Iterator[CutDefinition]:
        spelled, test = OPERATORS[self.op]
        for value in self.values:
            name = check_cut_name(f"{self.name or self.variable}_{spelled}_{value}{self.suffix}")
            yield CutDefinition(
                name,
                self.description.format(value=value),
                _compare(self.variable, test, value, self.network, name),
            )


@dataclass(frozen=True)
class Window:
    """The cut ``low < variable < high`` (see :func:`window`)."""

    variable: str
    low: Number
    high: Number
    description: str = ""
    name: str | None = None
    network: str | None = None

    def definitions(self) -> Iterator[CutDefinition]:
        name = check_cut_name(f"{self.name or self.variable}_in_{self.low}_{self.high}")
        description = self.description.format(low=self.low, high=self.high)
        yield CutDefinition(
            name, description, _window(self.variable, self.low, self.high, self.network, name)
        )


def threshold(
    variable: str,
    op: str,
    values: Number | tuple[Number, ...] | list[Number],
    description: str = "",
    *,
    name: str | None = None,
    suffix: str = "",
    network: str | None = None,
) -> Threshold:
    """The cuts ``variable OP value`` for one value or several, named
    ``{name}_{op}_{value}{suffix}`` (``name`` defaults to ``variable``)."""
    chosen = tuple(values) if isinstance(values, tuple | list) else (values,)
    return Threshold(variable, op, chosen, description, name, suffix, network)


def window(
    variable: str,
    low: Number,
    high: Number,
    description: str = "",
    *,
    name: str | None = None,
    network: str | None = None,
) -> Window:
    """The cut ``low < variable < high``, named ``{name}_in_{low}_{high}``."""
    return Window(variable, low, high, description, name, network)
