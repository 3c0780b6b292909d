"""The Analysis base class: every cut declared once, by name.

An analysis computes its variables once per chunk (:meth:`Analysis.variables`, or the whole
:meth:`Analysis.derive`) and declares each cut once: as a method decorated with :func:`cut`,
or as one of a family of thresholds listed in ``cut_families`` (:mod:`recast.analysis.authoring`),
which takes each cut's name from its declaration. Regions are ordered lists of cut names (in the
bundle's ``analysis.json``), so the cutflow of every region and its final selection come from
the same definitions and cannot drift apart. A name declared twice is an error when the class
is created.

    class MyAnalysis(Analysis):
        cut_families = (threshold("n_jets", ">=", (4, 6), "≥ {value} jets"),)

        def variables(self, events):
            return {"n_jets": ak.num(events.jets), "ht": ak.sum(events.jets.pt, axis=1)}

        @cut("ht_1000")
        def ht_1000(self, events):
            return events.ht > 1000

A cut returns a boolean per event, or a probability per event in [0, 1] (truth tagging).
Options are read with :meth:`Analysis.option`: the value given for the run, else the default
of ``analysis.json`` (the only place a default is written). A method decorated with
:func:`network_scores` adds a network's outputs once per chunk, and only when that network is
loaded; the regions that need it declare it in ``analysis.json`` and are skipped without it.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import awkward as ak
import numpy as np

from ..errors import RecastError, UsageError, closest
from ..schema import load_json
from .cutflow import INITIAL, Cutflow

log = logging.getLogger(__name__)

#: what analysis.json accepts as a cut name (the schema's identifier)
CUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class AnalysisDefinitionError(RecastError, ValueError):
    """An analysis class or its regions are defined inconsistently."""

    exit_code = 1


class SelectionError(RecastError, RuntimeError):
    """A cut or derivation raised while processing a chunk; names analysis, file and chunk."""


class NetworkNotLoadedError(RecastError, RuntimeError):
    """A cut that reads a network's outputs ran without the network (its file is missing)."""


#: a cut's code: called with the analysis and the derived events of one chunk
CutFunction = Callable[[Any, ak.Array], Any]


@dataclass(frozen=True)
class CutDefinition:
    """One declared cut: its name, description and code; ``method`` names the method of a
    :func:`cut` (empty for a cut of a family)."""

    name: str
    description: str
    function: CutFunction
    method: str = ""


class CutFamily(Protocol):
    """Something in ``cut_families`` that declares cuts (e.g. :func:`.authoring.threshold`)."""

    def definitions(self) -> Iterable[CutDefinition]: ...


def check_cut_name(name: object) -> str:
    """``name`` if analysis.json can list it as a cut, else :class:`AnalysisDefinitionError`."""
    if not isinstance(name, str) or not CUT_NAME.match(name) or name == INITIAL:
        raise AnalysisDefinitionError(
            f"cut name {name!r}: use letters, digits, '_', '.' or '-', starting with a letter "
            f"or '_' (the names analysis.json lists), and not {INITIAL!r}"
        )
    return name


def cut(name: str, description: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a method as the cut ``name``."""
    check_cut_name(name)

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__recast_cut__ = (name, description or (method.__doc__ or "").strip())  # type: ignore[attr-defined]
        return method

    return decorate


def network_scores(network: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a method ``(self, events, session) -> {field: values}`` that evaluates the
    network ``network`` (its name under ``networks`` in analysis.json) on a chunk. The
    framework calls it once per chunk after :meth:`Analysis.variables`, and only when the
    network is loaded."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__recast_network__ = network  # type: ignore[attr-defined]
        return method

    return decorate


def with_fields(events: ak.Array, fields: Mapping[str, Any]) -> ak.Array:
    """``events`` with one more field per entry of ``fields``, in that order."""
    for name, values in fields.items():
        events = ak.with_field(events, values, name)
    return events


def bundle_document(cls: type) -> dict[str, Any] | None:
    """The ``analysis.json`` of the bundle that defines ``cls``: the first one found in the
    folder of its module or above; None for a class defined outside a bundle."""
    try:
        module = Path(inspect.getfile(cls)).resolve()
    except (TypeError, OSError):
        return None
    for folder in module.parents:
        if (folder / "analysis.json").is_file():
            document: dict[str, Any] = load_json(folder / "analysis.json")
            return document
    return None


class Analysis:
    """Base class of a preserved analysis; subclasses declare cuts with :func:`cut` or in
    ``cut_families``, and compute their variables in :meth:`variables` (or :meth:`derive`)."""

    #: every declared cut by name, in declaration order (filled when a subclass is created)
    cuts: ClassVar[dict[str, CutDefinition]] = {}
    #: families of cuts a subclass declares as data (:mod:`recast.analysis.authoring`)
    cut_families: ClassVar[Sequence[CutFamily]] = ()
    #: network name → the method that evaluates it (:func:`network_scores`)
    scorers: ClassVar[dict[str, str]] = {}
    _document: ClassVar[dict[str, Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, CutDefinition] = {}
        scorers: dict[str, str] = {}

        def add(definition: CutDefinition, where: str) -> None:
            previous = found.get(definition.name)
            if previous is not None and not (
                definition.method and previous.method == definition.method
            ):
                first = f"method {previous.method!r}" if previous.method else "a cut family"
                raise AnalysisDefinitionError(
                    f"{cls.__name__}: cut {definition.name!r} is declared twice ({first} and "
                    f"{where}); declare each cut once"
                )
            found[definition.name] = definition

        for klass in reversed(cls.__mro__):
            for family in vars(klass).get("cut_families", ()):
                if not callable(getattr(family, "definitions", None)):
                    raise AnalysisDefinitionError(
                        f"{cls.__name__}.cut_families holds {family!r}, which declares no cuts; "
                        "list threshold(...) and window(...) families there"
                    )
                for definition in family.definitions():
                    add(definition, f"a cut family of {klass.__name__}")
            for attribute, value in vars(klass).items():
                if hasattr(value, "__recast_network__"):
                    scorers[value.__recast_network__] = attribute
                if not hasattr(value, "__recast_cut__"):
                    continue
                name, description = value.__recast_cut__
                add(
                    CutDefinition(name, description, _method_caller(attribute), attribute),
                    f"method {attribute!r}",
                )
        cls.cuts = found
        cls.scorers = scorers
        cls._document = None

    def _undeclared(self, name: str, regions: Sequence[str]) -> str:
        shown = ", ".join(repr(r) for r in regions[:3])
        if len(regions) > 3:
            shown += f" and {len(regions) - 3} more"
        uses = f"region {shown} uses" if len(regions) == 1 else f"regions {shown} use"
        return (
            f"{uses} cut {name!r}, which {type(self).__name__} does not declare."
            f"{closest(name, self.cuts)}"
        )

    def __init__(
        self,
        regions: Mapping[str, Sequence[str]],
        networks: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.networks = dict(networks or {})
        self.options = dict(options or {})
        self.regions = {name: list(cuts) for name, cuts in regions.items()}
        users: dict[str, list[str]] = {}  # an undeclared cut: the regions using it
        twice = []
        for region, names in self.regions.items():
            for name in names:
                if name not in self.cuts:
                    users.setdefault(name, []).append(region)
            if len(set(names)) != len(names):
                twice.append(f"region {region!r} lists a cut twice: {names}")
        # one problem per undeclared cut, however many regions use it (a renamed cut: dozens)
        problems = [self._undeclared(name, regions_using) for name, regions_using in users.items()]
        problems += twice
        if problems:
            raise AnalysisDefinitionError("; ".join(problems))
        self.setup()

    # -- what subclasses override ----------------------------------------------------------
    def setup(self) -> None:
        """Called at the end of ``__init__``: read options, check the networks given."""

    def variables(self, events: ak.Array) -> Mapping[str, Any]:
        """New per-event fields for the cuts, by name (once per chunk); the default adds none."""
        return {}

    def network_key(self, network: str) -> str:
        """The entry of ``self.networks`` that serves ``network`` (a subclass may choose the
        card by an option); the default is the network's own name."""
        return network

    # -- options and networks ----------------------------------------------------------------
    @classmethod
    def document(cls) -> dict[str, Any] | None:
        """The class's bundle document (``analysis.json``), read once; None outside a bundle."""
        if cls._document is None:
            cls._document = bundle_document(cls)
        return cls._document

    def option(self, name: str) -> Any:
        """The option ``name``: the value given for the run, else the default that
        ``analysis.json`` declares (checked against its choices)."""
        declared = (self.document() or {}).get("options", {})
        if name not in self.options and name not in declared:
            raise AnalysisDefinitionError(
                f"{type(self).__name__}: option {name!r} is neither given nor declared under "
                f"'options' of analysis.json.{closest(name, declared)}"
            )
        value = self.options[name] if name in self.options else declared[name]["default"]
        choices = declared.get(name, {}).get("choices")
        if choices is not None and value not in choices:
            raise UsageError(
                f"{type(self).__name__}: option {name} = {value!r}; choose one of "
                f"{', '.join(repr(c) for c in choices)} (options.{name}.choices of analysis.json)"
            )
        return value

    def session(self, network: str) -> Any | None:
        """The loaded session of ``network`` (see :meth:`network_key`), or None."""
        return self.networks.get(self.network_key(network))

    def require_network(self, network: str, cut_name: str) -> Any:
        """The session of ``network``; :class:`NetworkNotLoadedError` if it is not loaded."""
        session = self.session(network)
        if session is None:
            key = self.network_key(network)
            raise NetworkNotLoadedError(
                f"{type(self).__name__}: cut {cut_name!r} needs the network {key!r}, which is "
                f"not loaded (its file is not distributed with the bundle); give it with "
                f"--network {key}=PATH, or run without the regions that need it"
            )
        return session

    # -- running ---------------------------------------------------------------------------
    def derive(self, events: ak.Array) -> ak.Array:
        """The events with :meth:`variables`, then the outputs of every loaded network
        (each :func:`network_scores` method once per chunk)."""
        events = with_fields(events, self.variables(events))
        for network, method in self.scorers.items():
            session = self.session(network)
            if session is not None:
                events = with_fields(events, getattr(self, method)(events, session))
        return events

    def cut_value(self, name: str, events: ak.Array) -> Any:
        """What the cut ``name`` returns for derived ``events`` (unchecked)."""
        return self.cuts[name].function(self, events)

    def cut_values(self, events: ak.Array) -> dict[str, np.ndarray]:
        """Every cut the regions use, evaluated once: a float array of pass factors in [0, 1]."""
        needed = {name for names in self.regions.values() for name in names}
        values: dict[str, np.ndarray] = {}
        for name in sorted(needed, key=list(self.cuts).index):
            result = np.asarray(ak.to_numpy(self.cut_value(name, events)), dtype=np.float64)
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


def _method_caller(attribute: str) -> CutFunction:
    """Calls the method ``attribute`` of the analysis (so that a subclass may override it)."""

    def call(analysis: Any, events: ak.Array) -> Any:
        return getattr(analysis, attribute)(events)

    return call
