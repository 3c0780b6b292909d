"""The Analysis base class: every cut declared once, by name.

An analysis derives its variables once per chunk (:meth:`Analysis.derive`) and declares each
cut as a method decorated with :func:`cut`. Regions are ordered lists of cut names (in the
bundle's ``analysis.json``), so the cutflow of every region and its final selection come from
the same definitions and cannot drift apart. A name declared twice is an error when the class
is created.

    class MyAnalysis(Analysis):
        def derive(self, events):
            return ak.with_field(events, ak.sum(events.jets.pt, axis=1), "ht")

        @cut("four_jets", "at least four jets")
        def four_jets(self, events):
            return ak.num(events.jets) >= 4

        @cut("ht_1000")
        def ht_1000(self, events):
            return events.ht > 1000

A cut returns a boolean per event, or a probability per event in [0, 1] (truth tagging).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import awkward as ak
import numpy as np

from ..errors import RecastError, closest
from .cutflow import INITIAL, Cutflow

log = logging.getLogger(__name__)

#: what analysis.json accepts as a cut name (the schema's identifier)
CUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class AnalysisDefinitionError(RecastError, ValueError):
    """An analysis class or its regions are defined inconsistently."""

    exit_code = 1


class SelectionError(RecastError, RuntimeError):
    """A cut or derivation raised while processing a chunk; names analysis, file and chunk."""


@dataclass(frozen=True)
class CutDefinition:
    name: str
    description: str
    method: str


def cut(name: str, description: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a method as the cut ``name``."""

    if not isinstance(name, str) or not CUT_NAME.match(name) or name == INITIAL:
        raise AnalysisDefinitionError(
            f"cut name {name!r}: use letters, digits, '_', '.' or '-', starting with a letter "
            f"or '_' (the names analysis.json lists), and not {INITIAL!r}"
        )

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__recast_cut__ = (name, description or (method.__doc__ or "").strip())  # type: ignore[attr-defined]
        return method

    return decorate


class Analysis:
    """Base class of a preserved analysis; subclasses declare cuts with :func:`cut`."""

    cuts: ClassVar[dict[str, CutDefinition]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, CutDefinition] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                if not hasattr(value, "__recast_cut__"):
                    continue
                name, description = value.__recast_cut__
                previous = found.get(name)
                if previous is not None and previous.method != attribute:
                    raise AnalysisDefinitionError(
                        f"{cls.__name__}: cut {name!r} is declared twice (methods "
                        f"{previous.method!r} and {attribute!r}); declare each cut once"
                    )
                found[name] = CutDefinition(name, description, attribute)
        cls.cuts = found

    def __init__(
        self,
        regions: Mapping[str, Sequence[str]],
        networks: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.networks = dict(networks or {})
        self.options = dict(options or {})
        self.regions = {name: list(cuts) for name, cuts in regions.items()}
        problems = []
        for region, names in self.regions.items():
            for name in names:
                if name not in self.cuts:
                    problems.append(
                        f"region {region!r} uses cut {name!r}, which {type(self).__name__} does "
                        f"not declare.{closest(name, self.cuts)}"
                    )
            if len(set(names)) != len(names):
                problems.append(f"region {region!r} lists a cut twice: {names}")
        if problems:
            raise AnalysisDefinitionError("; ".join(problems))

    # -- what subclasses override ----------------------------------------------------------
    def derive(self, events: ak.Array) -> ak.Array:
        """Derived variables for the cuts (once per chunk); the default adds nothing."""
        return events

    # -- running ---------------------------------------------------------------------------
    def cut_values(self, events: ak.Array) -> dict[str, np.ndarray]:
        """Every cut the regions use, evaluated once: a float array of pass factors in [0, 1]."""
        needed = {name for names in self.regions.values() for name in names}
        values: dict[str, np.ndarray] = {}
        for name in sorted(needed, key=list(self.cuts).index):
            method = getattr(self, self.cuts[name].method)
            result = np.asarray(ak.to_numpy(method(events)), dtype=np.float64)
            if result.shape != (len(events),):
                raise AnalysisDefinitionError(
                    f"cut {name!r} returned shape {result.shape}; it must give one value per "
                    f"event ({len(events)})"
                )
            bad = ~((result >= 0.0) & (result <= 1.0))  # NaN fails both comparisons
            if bad.any():
                first = float(result[bad][0])
                raise AnalysisDefinitionError(
                    f"cut {name!r} returned {first!r} for {int(bad.sum())} event(s); a cut gives "
                    "a bool or a probability in [0, 1] per event"
                )
            values[name] = result
        return values

    def empty_cutflows(self) -> dict[str, Cutflow]:
        return {region: Cutflow(list(names)) for region, names in self.regions.items()}

    def process(self, events: ak.Array, weight: np.ndarray | None = None) -> dict[str, Cutflow]:
        """Cutflows of every region for one chunk of (detector-level) events."""
        derived = self.derive(events)
        values = self.cut_values(derived)
        w = np.asarray(
            ak.to_numpy(derived["weight"]) if weight is None else weight, dtype=np.float64
        )
        cutflows = self.empty_cutflows()
        for region, names in self.regions.items():
            cutflows[region].fill(w, [values[n] for n in names])
        return cutflows
