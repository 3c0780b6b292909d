"""Detector descriptions: one document per analysis that turns truth objects into reco objects.

::

    from recast.detector.description import load_detector
    detector = load_detector("analyses/ATLAS_SUSY_2018_30/detector.json")  # validated once
    for chunk in chunks:
        events = detector.apply(chunk, seed=1)
        events.jets.btag                              # sampled b-tag decisions (bool)
        events.truth_tag_weights.btag.at_least_3      # P(≥ 3 b-tags) per event, no sampling

:meth:`Detector.apply` works in this order (the schema's ``$defs/detector`` says the same):

1. every collection of ``objects``: smearing steps in order, re-sort by pT (descending), then
   the acceptance (objects with pT ≤ 0 are always dropped);
2. efficiencies, collection by collection in document order, each map evaluated on the events
   as they are now (so context variables see smeared objects): ``sample`` drops objects,
   ``weight`` keeps them, adds their ``efficiency`` field and multiplies ``weight`` (and every
   entry of ``weights``) by the product over the event's objects; the factor is kept as
   ``detector_weight``;
3. tags: ``sample`` adds a bool field named after the tag; ``truth_tag`` adds
   ``<name>_efficiency`` per object and ``truth_tag_weights[<name>]`` per event, a record with
   ``exactly_k`` (k < max_count) and ``at_least_n`` (1 ≤ n ≤ max_count) — the weight to give an
   event for "exactly k tags" or "at least n tags"; ``score`` adds a surrogate tagger's score;
4. MET: recomputed from the listed collections' smearing, then smeared.

Every random draw is counter-based on (seed, stream, event number, object index), with streams
named ``<collection>/smearing/<step>``, ``<collection>/efficiency``, ``<collection>/<tag>`` and
``met/smearing/<step>``, so the output does not depend on how a sample is chunked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .. import schema
from ..angles import wrap_phi
from ..errors import (
    ArtefactNotFoundError,
    DigestMismatchError,
    RecastError,
    UsageError,
    closest,
)
from ..io import sha256_file
from ..paths import inside
from . import smearing
from .smearing import FlatObjects, SmearingDefinitionError, SmearingStep
from .truth_tagging import tag_count_distribution

log = logging.getLogger(__name__)

KIND = "detector"
#: fields a tag may not be named after: the kinematics and what the detector itself adds
RESERVED_FIELDS = frozenset({"pt", "eta", "phi", "mass", "efficiency", "charge", "flavour"})


class DetectorDescriptionError(RecastError, ValueError):
    """A detector description follows its schema but is wrong in meaning; lists every problem."""

    exit_code = 1

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the detector description:"]
        lines += [f"  at {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class MapDigestError(DigestMismatchError):
    """One or more maps' sha256 differ from those the detector description records."""

    def __init__(self, source: str, mismatches: list[tuple[str, Path, str, str]]) -> None:
        _, path, self.expected, self.actual = mismatches[0]
        self.path = str(path)
        lines = [f"{source}: {len(mismatches)} map(s) differ from their recorded sha256:"]
        lines += [
            f"  at {w}: {p} has sha256 {a}, the document records {e}" for w, p, e, a in mismatches
        ]
        lines.append(
            "The files were modified or replaced: fetch the originals, or update 'sha256'."
        )
        RecastError.__init__(self, "\n".join(lines))


class MissingObjectError(RecastError, KeyError):
    """The detector description names a collection that the events lack."""

    def __init__(self, source: str, name: str, available: list[str]) -> None:
        self.name = name
        have = ", ".join(sorted(available)) or "no collections"
        super().__init__(
            f"{source}: the detector describes the collection {name!r}, which the events lack; "
            f"they have {have}.{closest(name, available)}"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True, eq=False)
class MapUse:
    """An efficiency or a tag: the loaded map and how to use it."""

    where: str  # JSON path in the document, for messages
    path: Path
    mode: str
    map: Any
    name: str = "efficiency"
    max_count: int = 4


@dataclass(frozen=True, eq=False)
class ObjectDetector:
    """What the detector does to one collection."""

    collection: str
    smearing: tuple[SmearingStep, ...] = ()
    min_pt: float = 0.0
    max_abs_eta: float = np.inf
    exclude_abs_eta: tuple[tuple[float, float], ...] = ()
    efficiency: MapUse | None = None
    tags: tuple[MapUse, ...] = ()

    def accept(self, objects: FlatObjects) -> np.ndarray:
        abs_eta = np.abs(objects.eta)
        keep = (objects.pt > 0) & (objects.pt >= self.min_pt) & (abs_eta < self.max_abs_eta)
        for low, high in self.exclude_abs_eta:
            keep &= (abs_eta < low) | (abs_eta >= high)
        return keep


@dataclass(frozen=True, eq=False)
class MetDetector:
    smearing: tuple[SmearingStep, ...] = ()
    recompute_from: tuple[str, ...] = ()
    sum_pt_of: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Detector:
    """A validated detector description whose maps are loaded and verified."""

    name: str
    source: Path
    objects: dict[str, ObjectDetector]
    met: MetDetector | None = None
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def apply(self, events: ak.Array, seed: int) -> ak.Array:
        """The events with every described collection reconstructed (see the module docstring)."""
        self._check(events)
        numbers = np.asarray(events["event_number"], dtype=np.int64)
        if len(np.unique(numbers)) != len(numbers):
            log.warning("%s: repeated event numbers in a chunk get identical draws", self.source)
        n = len(numbers)
        met_shift = np.zeros((2, n))
        for name, spec in self.objects.items():
            flat, truth, counts = smearing.flatten_collection(events[name], numbers)
            reco = smearing.smear_objects(truth, spec.smearing, seed, f"{name}/smearing")
            if self.met is not None and name in self.met.recompute_from:
                owner = np.repeat(np.arange(n), counts)
                for axis, trig in enumerate((np.cos, np.sin)):
                    change = reco.pt * trig(reco.phi) - truth.pt * trig(truth.phi)
                    met_shift[axis] += np.bincount(owner, change, minlength=n)
            collection = smearing.rebuild_collection(flat, reco, counts, spec.accept(reco))
            events = ak.with_field(events, collection, name)
        factor, weighted = np.ones(n), False
        for name, spec in self.objects.items():
            if spec.efficiency is None:
                continue
            efficiency = self._evaluate(spec.efficiency, events, name)
            if spec.efficiency.mode == "sample":
                keep = _sample(events, efficiency, seed, f"{name}/efficiency")
                collection = events[name][keep]
            else:
                factor = factor * np.asarray(ak.prod(efficiency, axis=1), dtype=np.float64)
                weighted = True
                collection = ak.with_field(events[name], efficiency, "efficiency")
            events = ak.with_field(events, collection, name)
        truth_tags: dict[str, ak.Array] = {}
        for name, spec in self.objects.items():
            for tag in spec.tags:
                events = ak.with_field(events, self._tag(tag, events, name, seed, truth_tags), name)
        if truth_tags:
            events = ak.with_field(events, ak.zip(truth_tags, depth_limit=1), "truth_tag_weights")
        if weighted:
            events = _reweight(events, factor)
        if self.met is not None:
            events = self._apply_met(events, numbers, met_shift, seed)
        return events

    def _check(self, events: ak.Array) -> None:
        fields = ak.fields(events)
        # collections are the fields holding momenta: jagged objects, or a record such as MET
        available = [f for f in fields if {"pt", "px", "rho"} & set(ak.fields(events[f]))]
        if "event_number" not in fields:
            raise UsageError(
                f"{self.source}: the events have no 'event_number', which keys the detector's "
                "random numbers; give each event its generator event number"
            )
        for name, spec in self.objects.items():
            if name not in available or events[name].ndim != 2:
                raise MissingObjectError(str(self.source), name, available)
            taken = sorted(set(ak.fields(events[name])) & {tag.name for tag in spec.tags})
            if taken:
                raise UsageError(
                    f"{self.source}: objects.{name}.tags: the events' {name} already have "
                    f"{taken}; apply the detector to truth-level events, once"
                )
        wanted = set() if self.met is None else {"met", *self.met.sum_pt_of}
        for name in sorted(wanted - set(available)):
            raise MissingObjectError(str(self.source), name, available)

    def _evaluate(self, use: MapUse, events: ak.Array, name: str) -> ak.Array:
        efficiency = ak.values_astype(use.map.efficiency(events), np.float64)
        if not np.array_equal(ak.num(efficiency, axis=1), ak.num(events[name], axis=1)):
            raise DetectorDescriptionError(
                str(self.source),
                [(use.where, f"{use.path} gave efficiencies that do not match the {name}")],
            )
        return efficiency

    def _tag(
        self, tag: MapUse, events: ak.Array, name: str, seed: int, out: dict[str, ak.Array]
    ) -> ak.Array:
        stream = f"{name}/{tag.name}"
        if tag.mode == "score":
            scores = tag.map.sample_scores(events, seed, stream)
            return ak.with_field(events[name], scores, tag.name)
        efficiency = self._evaluate(tag, events, name)
        if tag.mode == "sample":
            decisions = _sample(events, efficiency, seed, stream)
            return ak.with_field(events[name], ak.values_astype(decisions, bool), tag.name)
        out[tag.name] = truth_tag_weights(efficiency, tag.max_count)
        return ak.with_field(events[name], efficiency, f"{tag.name}_efficiency")

    def _apply_met(
        self, events: ak.Array, numbers: np.ndarray, shift: np.ndarray, seed: int
    ) -> ak.Array:
        assert self.met is not None
        met = events["met"]
        pt = np.asarray(met.pt, dtype=np.float64)
        phi = np.asarray(met.phi, dtype=np.float64)
        if self.met.recompute_from:
            # MET balances the visible objects: what they gained, MET loses
            mx, my = pt * np.cos(phi) - shift[0], pt * np.sin(phi) - shift[1]
            pt, phi = np.hypot(mx, my), wrap_phi(np.arctan2(my, mx))
        sum_pt: np.ndarray | None = None
        if self.met.sum_pt_of:
            pts = (np.asarray(ak.sum(events[c].pt, axis=1)) for c in self.met.sum_pt_of)
            sum_pt = np.asarray(sum(pts))
        pt, phi = smearing.smear_met(
            pt, phi, numbers, self.met.smearing, seed, "met/smearing", sum_pt
        )
        columns: dict[str, Any] = {"pt": pt, "phi": phi}
        columns.update({f: met[f] for f in ak.fields(met) if f not in smearing.COORDINATES})
        name = ak.parameters(met).get("__record__", "Momentum2D")
        return ak.with_field(events, ak.zip(columns, depth_limit=1, with_name=name), "met")


def truth_tag_weights(efficiency: ak.Array, max_count: int = 4) -> ak.Array:
    """Per event: ``exactly_k`` (k < max_count) and ``at_least_n`` (1 ≤ n ≤ max_count).

    P(≥ n) is summed from the exact tail terms (never 1 − P(< n)), so it stays exact when tiny.
    """
    distribution = tag_count_distribution(efficiency, max_count)
    columns = {f"exactly_{k}": distribution[:, k] for k in range(max_count)}
    tails = np.cumsum(distribution[:, ::-1], axis=1)[:, ::-1]
    columns.update({f"at_least_{n}": tails[:, n] for n in range(1, max_count + 1)})
    return ak.zip(columns)


def _sample(events: ak.Array, efficiency: ak.Array, seed: int, stream: str) -> ak.Array:
    from .tagging import sample_decisions  # written alongside; imported when first needed

    return sample_decisions(events, efficiency, seed, stream)


def _reweight(events: ak.Array, factor: np.ndarray) -> ak.Array:
    events = ak.with_field(events, events["weight"] * factor, "weight")
    if "weights" in ak.fields(events) and ak.fields(events["weights"]):
        named = events["weights"]
        scaled = ak.zip({f: named[f] * factor for f in ak.fields(named)}, depth_limit=1)
        events = ak.with_field(events, scaled, "weights")
    return ak.with_field(events, factor, "detector_weight")


def load_detector(path: str | Path) -> Detector:
    """Read, validate and build a detector description; its maps are verified and loaded once.

    Raises :class:`~recast.errors.InvalidDocumentError` (schema, every problem with its JSON
    path), :class:`DetectorDescriptionError` (meaning), :class:`ArtefactNotFoundError` (a map
    file is missing) or :class:`MapDigestError` (a map's sha256 differs).
    """
    path = Path(path)
    document = schema.load_json(path)
    schema.validate(document, KIND, str(path))
    return _Builder(document, path).build()


class _Builder:
    """Checks meaning, collecting every problem before raising, then loads the maps."""

    def __init__(self, document: Mapping[str, Any], source: Path) -> None:
        self.document = document
        self.source = source
        self.problems: list[tuple[str, str]] = []
        self.maps: dict[Path, Any] = {}

    def build(self) -> Detector:
        objects = self.document["objects"]
        if "met" in objects:
            self.problems.append(("objects.met", "MET is described under the top-level 'met'"))
        specs = {name: self._object(name, spec) for name, spec in objects.items()}
        met = self._met(self.document["met"], set(objects)) if "met" in self.document else None
        truth_tags = [t.name for s in specs.values() for t in s.tags if t.mode == "truth_tag"]
        for name in sorted({n for n in truth_tags if truth_tags.count(n) > 1}):
            self.problems.append(("objects", f"two truth-tag taggers are named {name!r}"))
        self._raise()
        self._verify_files(specs)
        self._load_maps(specs)
        self._raise()
        detector = Detector(self.document["name"], self.source, specs, met, self.document)
        log.info("detector %s from %s: %s", detector.name, self.source, ", ".join(specs))
        return detector

    def _raise(self) -> None:
        if self.problems:
            raise DetectorDescriptionError(str(self.source), self.problems)

    def _steps(
        self, steps: list[dict[str, Any]], where: str, met: bool = False
    ) -> tuple[SmearingStep, ...]:
        out = []
        for i, step in enumerate(steps):
            try:
                out.append(smearing.model_from_document(step, met))
            except SmearingDefinitionError as exc:
                self.problems.append((f"{where}[{i}].{exc.field}", exc.message))
        return tuple(out)

    def _map(self, spec: Mapping[str, Any], where: str, **extra: Any) -> MapUse:
        path = inside(self.source.parent, spec["map"], self.source, f"{where}.map")
        return MapUse(where, path, spec["mode"], None, **extra)

    def _object(self, name: str, spec: Mapping[str, Any]) -> ObjectDetector:
        where = f"objects.{name}"
        acceptance = spec.get("acceptance", {})
        excluded = tuple((float(lo), float(hi)) for lo, hi in acceptance.get("exclude_abs_eta", []))
        for i, (low, high) in enumerate(excluded):
            if high <= low:
                at = f"{where}.acceptance.exclude_abs_eta[{i}]"
                self.problems.append((at, f"[{low:g}, {high:g}] is empty: write [low, high]"))
        tags: list[MapUse] = []
        for i, tag in enumerate(spec.get("tags", [])):
            at = f"{where}.tags[{i}]"
            if tag["name"] in RESERVED_FIELDS or tag["name"] in [t.name for t in tags]:
                self.problems.append((f"{at}.name", f"{tag['name']!r} is taken; choose another"))
            tags.append(self._map(tag, at, name=tag["name"], max_count=tag.get("max_count", 4)))
        efficiency = spec.get("efficiency")
        return ObjectDetector(
            name,
            self._steps(spec.get("smearing", []), f"{where}.smearing"),
            float(acceptance.get("min_pt", 0.0)),
            float(acceptance.get("max_abs_eta", np.inf)),
            excluded,
            None if efficiency is None else self._map(efficiency, f"{where}.efficiency"),
            tuple(tags),
        )

    def _met(self, spec: Mapping[str, Any], objects: set[str]) -> MetDetector:
        for i, name in enumerate(spec.get("recompute_from", [])):
            if name not in objects:
                known = ", ".join(sorted(objects)) or "none"
                message = f"{name!r} is not among the document's objects ({known})"
                self.problems.append((f"met.recompute_from[{i}]", message))
        steps = self._steps(spec.get("smearing", []), "met.smearing", met=True)
        uses_sum = any(getattr(s.model, "argument", None) == "sum_pt" for s in steps)
        if uses_sum and not spec.get("sum_pt_of"):
            message = "a step uses argument 'sum_pt': list the collections to sum"
            self.problems.append(("met.sum_pt_of", message))
        recompute, sum_pt = tuple(spec.get("recompute_from", [])), tuple(spec.get("sum_pt_of", []))
        return MetDetector(steps, recompute, sum_pt)

    def _uses(self, specs: dict[str, ObjectDetector]) -> list[tuple[str, MapUse, str]]:
        out = []
        for name, spec in specs.items():
            raw = self.document["objects"][name]
            if spec.efficiency is not None:
                out.append((name, spec.efficiency, raw["efficiency"]["sha256"]))
            out += [(name, t, raw["tags"][i]["sha256"]) for i, t in enumerate(spec.tags)]
        return out

    def _verify_files(self, specs: dict[str, ObjectDetector]) -> None:
        missing, mismatched = [], []
        digests: dict[Path, str] = {}
        for _, use, expected in self._uses(specs):
            if not use.path.is_file():
                missing.append(f"{use.where}.map names {use.path}, which does not exist")
                continue
            if use.path not in digests:
                digests[use.path] = sha256_file(use.path)
            if digests[use.path] != expected:
                mismatched.append((f"{use.where}.sha256", use.path, expected, digests[use.path]))
        if missing:
            lines = "\n  ".join(missing)
            raise ArtefactNotFoundError(f"{self.source}: {len(missing)} map(s) missing:\n  {lines}")
        if mismatched:
            raise MapDigestError(str(self.source), mismatched)

    def _load_maps(self, specs: dict[str, ObjectDetector]) -> None:
        from .maps import load_map  # written alongside; imported when first needed

        for name, use, _ in self._uses(specs):
            key = use.path.resolve()
            if key not in self.maps:
                self.maps[key] = load_map(use.path)
            loaded = self.maps[key]
            object.__setattr__(use, "map", loaded)
            target = getattr(loaded, "object", None)
            if isinstance(target, str) and target != name:
                message = f"{use.path.name} is a map for {target!r}, not for {name!r}"
                self.problems.append((f"{use.where}.map", message))
            needed = "sample_scores" if use.mode == "score" else "efficiency"
            if not hasattr(loaded, needed):
                message = f"mode {use.mode!r} needs a map with {needed}; {use.path.name} has none"
                self.problems.append((f"{use.where}.mode", message))
