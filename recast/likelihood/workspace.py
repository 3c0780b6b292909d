"""Full likelihoods: a background-only pyhf workspace, a signal patch, and the map between them.

Experiments publish the background-only workspace and signal patches in pyhf's JSON (on
HEPData: a ``BkgOnly.json`` and a ``patchset.json``). A patch is a JSON Patch (RFC 6902) list of
operations, usually adding one sample per channel; a patchset holds many named patches. Here a
recast's region yields become such a patch through a region map, one region to one bin::

    {"SRhigh_0Jb": {"channel": "SRhigh_0Jb_cuts", "bin": 0}, ...}

Every mistake is reported with the file, the field and a fix: a region or channel that does
not exist, a bin beyond the channel, a sample with the wrong number of bins, a patch
operation that does not apply, a parameter of interest that no sample carries.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonpatch
import numpy as np

from .. import schema
from ..errors import InvalidDocumentError, closest
from .counting import MAX_EVENTS
from .errors import (
    BinCountError,
    DuplicateNameError,
    PatchError,
    RegionMismatchError,
    UnknownPOIError,
    WorkspaceValueError,
)
from .simplified import SignalYield

log = logging.getLogger(__name__)

SIGNAL_SAMPLE = "recast_signal"


@contextlib.contextmanager
def quiet_pyhf() -> Iterator[None]:
    """pyhf 0.7.6 validates with jsonschema's deprecated RefResolver: a warning that is
    pyhf's, not ours, and says nothing to a user; fits may also take numpy through overflows
    that are caught by checking their results; and pyhf logs a failed minimisation as an error
    with its traceback, which the retries here then handle. All are silenced here, and only
    here (``--debug`` keeps pyhf's log)."""
    pyhf_log = logging.getLogger("pyhf")
    level = pyhf_log.level
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        pyhf_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.filterwarnings("ignore", "jsonschema.RefResolver", DeprecationWarning)
            yield
    finally:
        pyhf_log.setLevel(level)


def _validate(spec: Any, source: str) -> None:
    import pyhf

    try:
        with quiet_pyhf():
            pyhf.schema.validate(spec, "workspace.json")
    except pyhf.exceptions.InvalidSpecification as exc:
        path = str(getattr(exc, "path", "")) or "(document)"
        parent = getattr(exc, "parent", None)
        reason = getattr(parent, "message", None) or str(exc).split("\n")[0]
        raise InvalidDocumentError(
            source, [(path, f"{reason} (not a pyhf workspace, schema 1.0.0)")]
        ) from None


def _twice(names: list[Any]) -> list[Any]:
    """The names given more than once, in first-seen order."""
    seen: set[Any] = set()
    again: dict[Any, None] = {}  # ordered by each name's second appearance
    for name in names:
        if name in seen:
            again[name] = None
        seen.add(name)
    return list(again)


def duplicate_problems(spec: Mapping[str, Any]) -> list[str]:
    """Names pyhf would silently collapse (keeping one entry, dropping the others): channels,
    observations, measurements, samples of one channel, modifiers of one name *and* type in
    one sample, parameters of one measurement. One name for a normsys and a histosys of a sample
    is HistFitter's shared nuisance parameter and stays allowed."""
    problems = []
    for key in ("channels", "observations", "measurements"):
        entries = [e for e in spec.get(key, []) if isinstance(e, Mapping)]
        for name in _twice([e.get("name") for e in entries]):
            where = [i for i, e in enumerate(entries) if e.get("name") == name]
            problems.append(f"{key} {where}: the name {name!r} is given {len(where)} times")
    for i, channel in enumerate(spec.get("channels", [])):
        samples = [s for s in channel.get("samples", []) if isinstance(s, Mapping)]
        label = f"channel {channel.get('name')!r} (channels[{i}])"
        for name in _twice([s.get("name") for s in samples]):
            where = [j for j, s in enumerate(samples) if s.get("name") == name]
            problems.append(f"{label}: samples {where} are all named {name!r}")
        for j, sample in enumerate(samples):
            modifiers = [m for m in sample.get("modifiers", []) if isinstance(m, Mapping)]
            for name, kind in _twice([(m.get("name"), m.get("type")) for m in modifiers]):
                where = [
                    k
                    for k, m in enumerate(modifiers)
                    if (m.get("name"), m.get("type")) == (name, kind)
                ]
                problems.append(
                    f"{label}, sample {sample.get('name')!r} (samples[{j}]): modifiers {where} "
                    f"are all the {kind} {name!r}"
                )
    for i, measurement in enumerate(spec.get("measurements", [])):
        config = measurement.get("config", {}) if isinstance(measurement, Mapping) else {}
        parameters = [p for p in config.get("parameters", []) if isinstance(p, Mapping)]
        for name in _twice([p.get("name") for p in parameters]):
            problems.append(
                f"measurement {measurement.get('name')!r} (measurements[{i}]): parameter "
                f"{name!r} is configured more than once"
            )
    return problems


def check_duplicates(spec: Mapping[str, Any], source: str) -> None:
    """Raise :class:`DuplicateNameError` with every problem of :func:`duplicate_problems`."""
    problems = duplicate_problems(spec)
    if problems:
        raise DuplicateNameError(source, problems)


def _bin_counts(spec: Mapping[str, Any], source: str) -> dict[str, int]:
    """Bins per channel, checking that every sample and the observation agree."""
    observed = {o["name"]: len(o["data"]) for o in spec.get("observations", [])}
    counts = {}
    for i, channel in enumerate(spec["channels"]):
        name = channel["name"]
        if name not in observed:
            raise RegionMismatchError(
                source, "the observation of channel", name, observed, "Add it to 'observations'."
            )
        counts[name] = observed[name]
        for j, sample in enumerate(channel["samples"]):
            if len(sample["data"]) != observed[name]:
                raise BinCountError(
                    f"{source}: channels[{i}].samples[{j}] ({sample['name']!r} in channel "
                    f"{name!r}) has {len(sample['data'])} bins but the channel has "
                    f"{observed[name]}; give one yield per bin."
                )
    return counts


def _bad_number(value: Any) -> str | None:
    """Why ``value`` cannot be a yield, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # the schema has judged the types
    if not math.isfinite(value):
        return "is not finite"
    if abs(value) > MAX_EVENTS:
        return f"exceeds {MAX_EVENTS:g} events (check the units)"
    return None


def _modifier_problems(modifier: Mapping[str, Any], bins: int, where: str) -> list[str]:
    """NaN, absurd, negative or mis-shaped data of one modifier."""
    kind, data = modifier.get("type"), modifier.get("data")
    problems = []
    lists = {"histosys": ("hi_data", "lo_data")}.get(str(kind), ())
    arrays = {key: data.get(key) for key in lists} if isinstance(data, Mapping) else {}
    if kind in ("staterror", "shapesys"):
        arrays = {"": data}
    for key, values in arrays.items():
        label = f"{where}.data{'.' + key if key else ''}"
        if not isinstance(values, list):
            continue
        if len(values) != bins:
            problems.append(f"{label} has {len(values)} values but the channel has {bins} bins")
        for k, value in enumerate(values):
            why = _bad_number(value)
            if why is None and kind in ("staterror", "shapesys") and value < 0:
                why = "is a negative uncertainty"
            if why is not None:
                problems.append(f"{label} bin {k}: {value!r} {why}")
    if kind == "normsys" and isinstance(data, Mapping):
        for key in ("hi", "lo"):
            value = data.get(key)
            why = _bad_number(value)
            if why is None and isinstance(value, int | float) and value <= 0:
                why = "must be positive (a factor on the yield)"
            if why is not None:
                problems.append(f"{where}.data.{key}: {value!r} {why}")
    return problems


def value_problems(spec: Mapping[str, Any], poi: str | None = None) -> list[str]:
    """Yields no likelihood can be computed from, by channel, sample and bin: NaN, infinite or
    absurd values anywhere, negative observations, modifier data of the wrong length, a bin
    whose total expected yield (without the signal, given the ``poi``) is negative, and a
    negative signal yield, which makes the expected yield negative for large μ."""
    problems = []
    observed = {o.get("name"): o.get("data", []) for o in spec.get("observations", [])}
    for i, channel in enumerate(spec.get("channels", [])):
        name = channel.get("name")
        bins = len(observed.get(name, []))
        total = np.zeros(bins)
        negative: dict[int, list[str]] = {}  # bin → the samples below zero there
        for k, value in enumerate(observed.get(name, [])):
            why = _bad_number(value) or (
                "is negative" if isinstance(value, int | float) and value < 0 else None
            )
            if why is not None:
                problems.append(f"observation of channel {name!r} bin {k}: {value!r} {why}")
        for sample in channel.get("samples", []):
            where = f"channel {name!r} (channels[{i}]), sample {sample.get('name')!r}"
            data = sample.get("data", [])
            signal = poi is not None and any(
                m.get("type") == "normfactor" and m.get("name") == poi
                for m in sample.get("modifiers", [])
            )
            for k, value in enumerate(data):
                why = _bad_number(value)
                if why is None and signal and value < 0:
                    why = (
                        "is a negative signal yield (the bin's expected count turns negative as "
                        "μ grows); set it to 0"
                    )
                if why is not None:
                    problems.append(f"{where}, bin {k}: {value!r} {why}")
                elif not signal and k < bins:
                    total[k] += value
                    if value < 0:
                        negative.setdefault(k, []).append(f"{sample.get('name')!r} {value:.6g}")
            for m, modifier in enumerate(sample.get("modifiers", [])):
                label = f"{where}, modifier {modifier.get('name')!r} (modifiers[{m}])"
                problems += _modifier_problems(modifier, bins, label)
        for k in np.flatnonzero(total < 0):
            problems.append(
                f"channel {name!r} bin {k}: the {'background ' if poi else ''}samples add up to "
                f"{total[k]:.6g} events (negative: {', '.join(negative.get(k, []))}); an "
                "expected yield must not be negative"
            )
    return problems


def check_values(spec: Mapping[str, Any], source: str, poi: str | None = None) -> None:
    """Raise :class:`WorkspaceValueError` with every problem of :func:`value_problems`."""
    problems = value_problems(spec, poi)
    if problems:
        raise WorkspaceValueError(source, problems)


def load_workspace(path: str | Path) -> dict[str, Any]:
    """A background-only (or full) pyhf workspace, validated."""
    spec = schema.load_json(path)
    _validate(spec, str(path))
    check_duplicates(spec, str(path))
    _bin_counts(spec, str(path))
    check_values(spec, str(path))
    return spec


def patches_from_document(document: Any, source: str) -> dict[str, list[dict[str, Any]]]:
    """Named patches: a JSON Patch list, one ``{"metadata", "patch"}`` or a HEPData patchset."""
    if isinstance(document, list):
        return {Path(source).stem: document}
    if isinstance(document, Mapping) and isinstance(document.get("patch"), list):
        name = document.get("metadata", {}).get("name", Path(source).stem)
        return {str(name): document["patch"]}
    if isinstance(document, Mapping) and isinstance(document.get("patches"), list):
        out = {}
        for i, entry in enumerate(document["patches"]):
            name = entry.get("metadata", {}).get("name") if isinstance(entry, Mapping) else None
            if not isinstance(name, str) or not isinstance(entry.get("patch"), list):
                raise InvalidDocumentError(
                    source,
                    [(f"patches[{i}]", 'expected {"metadata": {"name": ...}, "patch": [...]}')],
                )
            out[name] = entry["patch"]
        return out
    raise InvalidDocumentError(
        source,
        [
            (
                "(document)",
                "not a pyhf patch: expected a list of JSON Patch operations, "
                'a {"metadata", "patch"} object or a patchset {"patches": [...]}',
            )
        ],
    )


def load_patches(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    return patches_from_document(schema.load_json(path), str(path))


def apply_patch(
    workspace: Mapping[str, Any], patch: list[dict[str, Any]], source: str
) -> dict[str, Any]:
    """The workspace with ``patch`` applied, validated, with bin counts checked."""
    spec = copy.deepcopy(dict(workspace))
    for i, operation in enumerate(patch):
        try:
            spec = jsonpatch.apply_patch(spec, [operation])
        except (
            jsonpatch.JsonPatchException,
            jsonpatch.JsonPointerException,
            KeyError,
            TypeError,
            IndexError,
        ) as exc:
            where = operation.get("path", "?") if isinstance(operation, Mapping) else "?"
            op = operation.get("op", "?") if isinstance(operation, Mapping) else "?"
            raise PatchError(
                f"{source}: operation [{i}] ({op} {where}) does not apply to the background-only "
                f"workspace ({exc}); it has {len(workspace.get('channels', []))} channels: "
                "was the patch made for another workspace, or with channels in another order?"
            ) from None
    _validate(spec, f"{source} (applied)")
    check_duplicates(spec, f"{source} (applied)")
    _bin_counts(spec, f"{source} (applied)")
    check_values(spec, f"{source} (applied)")
    return spec


def parameter_of_interest(spec: Mapping[str, Any], source: str, poi: str | None = None) -> str:
    """The POI: ``poi`` or the first measurement's; it must be a normfactor of some sample."""
    measurements = spec.get("measurements", [])
    declared = measurements[0]["config"]["poi"] if measurements else None
    name = poi or declared
    if name is None:
        raise UnknownPOIError(f"{source}: no measurement declares a POI; pass one (--poi NAME)")
    factors = sorted(
        {
            m["name"]
            for c in spec["channels"]
            for s in c["samples"]
            for m in s["modifiers"]
            if m["type"] == "normfactor"
        }
    )
    if name not in factors:
        raise UnknownPOIError(
            f"{source}: the parameter of interest {name!r} is not a normfactor of any sample "
            f"(normfactors: {', '.join(factors) or 'none'}).{closest(name, factors)} The signal "
            f"sample must carry {{'name': {name!r}, 'type': 'normfactor', 'data': null}}."
        )
    return name


def signal_patch(
    workspace: Mapping[str, Any],
    yields: Mapping[str, SignalYield],
    region_map: Mapping[str, Mapping[str, Any]],
    *,
    poi: str,
    source: str = "region map",
    relative_uncertainty: float = 0.0,
    sample: str = SIGNAL_SAMPLE,
) -> list[dict[str, Any]]:
    """JSON Patch operations adding the signal as one sample per mapped channel.

    The sample carries the POI as a normfactor, its MC statistical uncertainty as a
    ``staterror`` named like HistFitter's (``staterror_<channel>``, so it combines with the
    background's if there is one), and ``relative_uncertainty`` as a ``normsys``.
    """
    counts = _bin_counts(workspace, source)
    position = {c["name"]: i for i, c in enumerate(workspace["channels"])}
    values: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    taken: dict[tuple[str, int], str] = {}
    for region, target in region_map.items():
        channel, index = target.get("channel"), target.get("bin", 0)
        if channel not in counts:
            raise RegionMismatchError(
                source,
                f"the channel of region {region!r},",
                str(channel),
                counts,
                "Fix the region map: it must name a channel of the background-only workspace.",
            )
        if not isinstance(index, int) or not 0 <= index < counts[channel]:
            raise BinCountError(
                f"{source}: region {region!r} maps to bin {index!r} of channel {channel!r}, "
                f"which has {counts[channel]} bin(s) (0–{counts[channel] - 1}); fix the map."
            )
        if (channel, index) in taken:
            raise BinCountError(
                f"{source}: regions {taken[channel, index]!r} and {region!r} both map to bin "
                f"{index} of channel {channel!r}; one region per bin."
            )
        taken[channel, index] = region
        if region not in yields:
            raise RegionMismatchError(
                source,
                "the signal yield of mapped region",
                region,
                yields,
                "Run the analysis with that region, or remove it from the map.",
            )
        values.setdefault(channel, np.zeros(counts[channel]))[index] = yields[region].value
        errors.setdefault(channel, np.zeros(counts[channel]))[index] = yields[region].mc_uncertainty
    operations = []
    for channel in sorted(values, key=position.__getitem__):
        modifiers: list[dict[str, Any]] = [{"name": poi, "type": "normfactor", "data": None}]
        if errors[channel].any():
            modifiers.append(
                {
                    "name": f"staterror_{channel}",
                    "type": "staterror",
                    "data": errors[channel].tolist(),
                }
            )
        if relative_uncertainty > 0:
            kappa = 1.0 + relative_uncertainty
            modifiers.append(
                {
                    "name": "recast_signal_norm",
                    "type": "normsys",
                    "data": {"hi": kappa, "lo": 1.0 / kappa},
                }
            )
        operations.append(
            {
                "op": "add",
                "path": f"/channels/{position[channel]}/samples/-",
                "value": {"name": sample, "data": values[channel].tolist(), "modifiers": modifiers},
            }
        )
    return operations
