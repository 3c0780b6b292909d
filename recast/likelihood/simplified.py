"""Simplified likelihoods from per-region numbers: observed, background ± uncertainty.

A region file is shaped like the published tables (``signal_regions.json`` of
ATLAS-SUSY-2018-30): ``{"signal_regions": [{"name", "observed", "background",
"background_uncertainty"}, ...]}``; a list of such objects, or ``{"regions": {name: {...}}}``
(the form a bundle's ``likelihood`` uses) are read too. Each region becomes a one-bin model
(:mod:`.counting`); regions declared independent can also be combined into one pyhf model.

    >>> from recast.likelihood.simplified import Region, s95_table
    >>> table = s95_table([Region("SR", observed=0, background=0.56, background_uncertainty=0.27)])
    >>> table[0]["s95"]["observed"], table[0]["method"]
    (2.99573, 'exact')
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..errors import InvalidDocumentError, UsageError
from .counting import MAX_EVENTS, CountingModel, implausible, upper_limits
from .document import observed_and_expected
from .errors import NegativeSignalError, RegionMismatchError

log = logging.getLogger(__name__)

NEGATIVE_POLICIES = ("clip", "error")


@dataclass(frozen=True)
class Region:
    """One signal region's published numbers."""

    name: str
    observed: int
    background: float
    background_uncertainty: float


@dataclass(frozen=True)
class SignalYield:
    """Expected signal events in a region at μ = 1, with their MC statistical uncertainty."""

    value: float
    mc_uncertainty: float = 0.0


def _count_problem(value: Any, key: str) -> str | None:
    """Why ``value`` cannot be the ``key`` of a region, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "missing or not a number" + ("; give the events seen" if key == "observed" else "")
    if not math.isfinite(value) or value < 0:
        return f"is {value!r}; it must be finite and not negative"
    if value > MAX_EVENTS:
        return (
            f"is {value!r}, more events than any signal region holds (at most {MAX_EVENTS:g}); "
            "check the units and the field"
        )
    if key == "observed" and float(value) != int(value):
        return f"is {value!r}; it counts events: 0, 1, 2, ..."
    return None


def _region_problems(item: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(item, Mapping):
        return [
            (where, "expected an object with name, observed, background, background_uncertainty")
        ]
    problems = []
    if not isinstance(item.get("name"), str) or not item.get("name"):
        problems.append((f"{where}.name", "missing or not a non-empty string"))
    keys = ("observed", "background", "background_uncertainty")
    for key in keys:
        problem = _count_problem(item.get(key), key)
        if problem is not None:
            problems.append((f"{where}.{key}", problem))
    if not problems:
        why = implausible(*(float(item[key]) for key in keys))
        if why is not None:
            problems.append((where, why))
    return problems


def regions_from_document(document: Any, source: str) -> list[Region]:
    """Regions of a document; every problem is reported at once, with its JSON path."""
    if isinstance(document, Mapping) and "signal_regions" in document:
        items, prefix = document["signal_regions"], "signal_regions"
    elif isinstance(document, Mapping) and isinstance(document.get("regions"), Mapping):
        items = [
            {"name": k, **v} if isinstance(v, Mapping) else v
            for k, v in document["regions"].items()
        ]
        prefix = "regions"
    else:
        items, prefix = document, ""
    if not isinstance(items, list) or not items:
        raise InvalidDocumentError(
            source,
            [
                (
                    prefix or "(document)",
                    'expected a non-empty list of regions, e.g. {"signal_regions": [{"name": '
                    '"SR", "observed": 3, "background": 1.2, "background_uncertainty": 0.4}]}',
                )
            ],
        )
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"{prefix}[{i}]" if prefix != "regions" else f"regions.{item.get('name', i)}"
        found = _region_problems(item, where)
        problems += found
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str) and name in seen:
            problems.append(
                (f"{where}.name", f"{name!r} repeats {prefix}[{seen[name]}]; names must be unique")
            )
        elif isinstance(name, str):
            seen[name] = i
    if problems:
        raise InvalidDocumentError(source, problems)
    return [
        Region(
            str(r["name"]),
            int(r["observed"]),
            float(r["background"]),
            float(r["background_uncertainty"]),
        )
        for r in items
    ]


def load_regions(path: str | Path) -> list[Region]:
    """Regions of a JSON file (see the module docstring for the accepted shapes)."""
    return regions_from_document(schema.load_json(path), str(path))


def unit_signal_model(regions: Sequence[Region], constraint: str = "lognormal") -> CountingModel:
    """One counting model per region with a signal of one event: its limits on μ are limits
    on the number of signal events (S95)."""
    return CountingModel.build(
        [r.observed for r in regions],
        [r.background for r in regions],
        [r.background_uncertainty for r in regions],
        signal=1.0,
        constraint=constraint,
    )


def s95_table(
    regions: Sequence[Region],
    *,
    method: str = "auto",
    constraint: str = "lognormal",
    alpha: float = 0.05,
) -> list[dict[str, Any]]:
    """Model-independent upper limits on signal events per region, observed and expected band."""
    limits = upper_limits(unit_signal_model(regions, constraint), method=method, alpha=alpha)
    report_switches([r.name for r in regions], limits.calculator)
    return [
        {
            "region": region.name,
            "observed_events": region.observed,
            "background": region.background,
            "background_uncertainty": region.background_uncertainty,
            "s95": observed_and_expected(limits.observed[i], limits.expected[i]),
            "method": str(limits.method[i]),
            "calculator": str(limits.calculator[i]),
        }
        for i, region in enumerate(regions)
    ]


def report_switches(names: Sequence[str], calculators: Sequence[str] | np.ndarray) -> None:
    """One log line per region whose count moved it from the exact calculator to asymptotics."""
    for name, calculator in zip(names, calculators, strict=True):
        if calculator.startswith("asymptotic ("):
            log.warning(
                "region %s: %s; the exact calculator's time and memory grow with the count "
                "(see docs/limits.md)",
                name,
                calculator,
            )


def signal_yields(yields: Mapping[str, Any], source: str) -> dict[str, SignalYield]:
    """Signal yields from a results document's ``yields`` or from plain numbers per region."""
    out = {}
    problems = []
    for name, entry in yields.items():
        value = entry.get("value") if isinstance(entry, Mapping) else entry
        mc = entry.get("mc_uncertainty", 0.0) if isinstance(entry, Mapping) else 0.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            problems.append((f"yields.{name}.value", f"is {value!r}; expected a finite number"))
            continue
        if abs(value) > MAX_EVENTS:
            problems.append(
                (
                    f"yields.{name}.value",
                    f"is {value!r} events, more than any search could see (at most "
                    f"{MAX_EVENTS:g}); check the cross-section and luminosity units",
                )
            )
            continue
        if (
            isinstance(mc, bool)
            or not isinstance(mc, int | float)
            or not 0 <= mc <= MAX_EVENTS  # False for NaN
        ):
            problems.append(
                (f"yields.{name}.mc_uncertainty", f"is {mc!r}; expected ≥ 0 and finite")
            )
            continue
        out[str(name)] = SignalYield(float(value), float(mc))
    if problems:
        raise InvalidDocumentError(source, problems)
    return out


def clip_signal(
    yields: Mapping[str, SignalYield], needed: Sequence[str], source: str, negative: str = "clip"
) -> tuple[dict[str, SignalYield], list[str]]:
    """The yields of the ``needed`` regions, negative or zero ones handled by ``negative``.

    ``clip`` sets a negative yield to zero and warns, naming the region (a zero yield excludes
    nothing, which is also said); ``error`` raises :class:`NegativeSignalError` instead.
    """
    if negative not in NEGATIVE_POLICIES:
        raise UsageError(
            f"negative must be one of {', '.join(NEGATIVE_POLICIES)}, not {negative!r}"
        )
    out, warnings = {}, []
    for name in needed:
        if name not in yields:
            raise RegionMismatchError(
                source,
                "the signal yield of region",
                name,
                yields,
                "Run the analysis with that region, or remove it from the likelihood.",
            )
        signal = yields[name]
        if signal.value <= 0:
            what = "negative" if signal.value < 0 else "zero"
            message = (
                f"region {name}: expected signal is {what} ({signal.value:.4g} events at μ = 1)"
            )
            if negative == "error":
                raise NegativeSignalError(
                    f"{source}: {message}. Negative weights (NLO) can leave a region below zero: "
                    "use more events, or pass negative='clip' (--negative clip) to clip it to zero."
                )
            warnings.append(f"{message}; clipped to zero, it excludes nothing")
            # a negative yield is news; a zero one is common in scans (regions a signal misses)
            log.log(logging.WARNING if signal.value < 0 else logging.INFO, "%s", warnings[-1])
            signal = SignalYield(0.0, signal.mc_uncertainty)
        out[name] = signal
    return out, warnings


def region_model(
    regions: Sequence[Region],
    yields: Mapping[str, SignalYield],
    *,
    relative_uncertainty: float = 0.0,
    constraint: str = "lognormal",
) -> CountingModel:
    """One one-bin model per region; the signal uncertainty is MC stat ⊕ relative, absolute."""
    values = np.array([yields[r.name].value for r in regions])
    mc = np.array([yields[r.name].mc_uncertainty for r in regions])
    return CountingModel.build(
        [r.observed for r in regions],
        [r.background for r in regions],
        [r.background_uncertainty for r in regions],
        signal=values,
        signal_uncertainty=np.hypot(mc, relative_uncertainty * values),
        constraint=constraint,
    )


def combined_workspace(
    regions: Sequence[Region],
    yields: Mapping[str, SignalYield],
    *,
    relative_uncertainty: float = 0.0,
    poi: str = "mu",
) -> dict[str, Any]:
    """A pyhf workspace of independent regions fitted together (one channel each).

    Each background carries its own log-normal constraint (``normsys``, to be evaluated with
    ``interpcode: code1``, as :func:`.workspace.fit_settings` does), the signal its MC
    statistical uncertainty (``staterror``) and a common relative uncertainty (``normsys``).
    """
    channels, observations = [], []
    for region in regions:
        signal = yields[region.name]
        modifiers: list[dict[str, Any]] = [{"name": poi, "type": "normfactor", "data": None}]
        if signal.mc_uncertainty > 0 and signal.value > 0:
            modifiers.append(
                {
                    "name": f"signal_stat_{region.name}",
                    "type": "staterror",
                    "data": [signal.mc_uncertainty],
                }
            )
        if relative_uncertainty > 0:
            modifiers.append(
                {
                    "name": "signal_norm",
                    "type": "normsys",
                    "data": {"hi": 1 + relative_uncertainty, "lo": 1 / (1 + relative_uncertainty)},
                }
            )
        kappa = 1 + region.background_uncertainty / max(region.background, 1e-9)
        channels.append(
            {
                "name": region.name,
                "samples": [
                    {"name": "signal", "data": [signal.value], "modifiers": modifiers},
                    {
                        "name": "background",
                        "data": [max(region.background, 1e-9)],
                        "modifiers": [
                            {
                                "name": f"background_{region.name}",
                                "type": "normsys",
                                "data": {"hi": kappa, "lo": 1 / kappa},
                            }
                        ],
                    },
                ],
            }
        )
        observations.append({"name": region.name, "data": [float(region.observed)]})
    return {
        "channels": channels,
        "observations": observations,
        "measurements": [{"name": "combined", "config": {"poi": poi, "parameters": []}}],
        "version": "1.0.0",
    }
