"""Limits of a recast: CLs and upper limits per region, combined, and from the full likelihood.

No event code and no bundle here: a likelihood and yields in, a limits document out::

    from recast.likelihood import compute_limits, load_likelihood
    limits = compute_limits(load_likelihood("likelihood.json"), {"SR-A": 4.2})
    limits["verdict"]    # {"source": ..., "cls": {...}, "excluded": ...}

Per region, CLs at μ = 1 and the upper limit on μ come from the one-bin calculator
(:mod:`.counting`); where regions overlap only the best expected one is used for the verdict
(the smallest median expected limit); regions declared independent (``combine``) are fitted
together with pyhf; a workspace in the likelihood is patched with the signal and fitted. The
verdict takes the most complete of these: workspace, then combination, then best region.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from .. import schema
from ..io import write_json
from .asymptotics import Asymptotics, describe
from .combination import asymptotics_hold, combined_cls, combined_upper_limits
from .counting import cls, upper_limits
from .document import BAND_KEYS, number, observed_and_expected
from .errors import FitFailedError
from .fits import PyhfModel, build_model, hypotest, upper_limit
from .reuse import ModelCache
from .simplified import (
    SignalYield,
    clip_signal,
    region_model,
    regions_from_document,
    report_switches,
    s95_table,
    signal_yields,
)
from .spec import LikelihoodSpec, needed_regions
from .workspace import (
    apply_patch,
    check_values,
    load_patches,
    load_workspace,
    parameter_of_interest,
    signal_patch,
)

log = logging.getLogger(__name__)


def _region_limits(
    spec: LikelihoodSpec, yields: Mapping[str, Any], method: str, alpha: float, with_limits: bool
) -> dict[str, Any]:
    model = region_model(
        spec.regions,
        yields,
        relative_uncertainty=spec.signal_uncertainty,
        constraint=spec.constraint,
    )
    values = cls(model, 1.0, method=method)
    report_switches([r.name for r in spec.regions], values.calculator)
    limits = upper_limits(model, method=method, alpha=alpha) if with_limits else None
    out = {}
    for i, region in enumerate(spec.regions):
        entry: dict[str, Any] = {
            "signal": number(model.signal[i]),
            "signal_uncertainty": number(model.signal_uncertainty[i]),
            "observed_events": region.observed,
            "background": region.background,
            "background_uncertainty": region.background_uncertainty,
            "cls": observed_and_expected(values.observed[i], values.expected[i]),
            "excluded": bool(values.observed[i] < alpha),
            "method": str(values.method[i]),
            "calculator": str(values.calculator[i]),
            "status": "ok" if model.signal[i] > 0 else "no signal",
        }
        if limits is not None:
            entry["mu_upper"] = observed_and_expected(limits.observed[i], limits.expected[i])
        out[region.name] = entry
    return out


def fitted_entry(fitted: PyhfModel, method: str, alpha: float, with_limits: bool) -> dict:
    """CLs and limits of a pyhf model; the one-bin ``exact`` calculator does not apply, so a
    request for it falls back to ``auto``. A fit that fails raises :class:`FitFailedError`:
    a likelihood that cannot be computed gives no number.

    Asymptotic results come from :class:`.asymptotics.Asymptotics` (the μ-independent fits
    made once, two fits per μ, μ95 by root finding); should one of its fits fail, pyhf's own
    ``hypotest`` with its retries takes over (:mod:`.fits`)."""
    method = "auto" if method == "exact" else method
    entry: dict[str, Any] = {"poi": fitted.poi}
    fast = _reused_fits(fitted, alpha, with_limits) if method != "toys" else None
    if fast is not None:
        observed, expected, limits = fast
        entry.update(
            cls=observed_and_expected(observed, expected),
            excluded=bool(observed < alpha),
            method="asymptotic",
            status="ok",
        )
        if limits is not None:
            entry["mu_upper"] = observed_and_expected(limits[0], limits[1])
    else:
        result = hypotest(fitted, 1.0, method=method)
        entry.update(
            cls=observed_and_expected(result.observed, result.expected),
            excluded=bool(result.observed < alpha),
            method=result.method,
            status="ok",
        )
    if with_limits and "mu_upper" not in entry:
        failures: list[str] = []
        limit, expected = upper_limit(fitted, method=method, alpha=alpha, failures=failures)
        entry["mu_upper"] = observed_and_expected(limit, expected)
        if failures:  # the limits bracketed before the failure stand; the others are null
            members = zip(("observed", *BAND_KEYS), (limit, *expected), strict=True)
            missing = [name for name, value in members if math.isnan(value)]
            entry["limit_note"] = f"μ95 not found for {', '.join(missing)}: {failures[-1]}"
            log.warning(
                "%s: μ95 not found for %s (a fit failed)", fitted.source, ", ".join(missing)
            )
    if fitted.low_count_bins and entry.get("method") == "asymptotic":
        entry["note"] = (
            f"asymptotic formulae with few events in {', '.join(fitted.low_count_bins[:6])}"
            f"{' ...' if len(fitted.low_count_bins) > 6 else ''}: CLs is approximate; "
            "method='toys' is exact but slow"
        )
    return entry


def _reused_fits(
    fitted: PyhfModel, alpha: float, with_limits: bool
) -> tuple[float, tuple[float, ...], tuple[float, tuple[float, ...]] | None] | None:
    """CLs at μ = 1 (and μ95 when asked) from reused fits; None when a fit failed, so that
    pyhf's fits with their retries decide. μ95 failing alone keeps the CLs (``limits`` None
    is then filled by the caller from pyhf's scan)."""
    try:
        engine = Asymptotics(fitted)
        observed, expected = engine.cls(1.0)
    except FitFailedError as exc:
        log.info("%s; pyhf's hypotest takes over", exc)
        return None
    limits = None
    if with_limits:
        try:
            limits = engine.upper_limits(alpha)
        except FitFailedError as exc:
            log.info("%s; pyhf's fits scan for μ95 instead", exc)
    log.debug("%s: %s", fitted.source, describe(engine))
    return observed, expected, limits


def _combined_entry(
    spec: LikelihoodSpec,
    group: list[str],
    signal: Mapping[str, SignalYield],
    alpha: float,
    with_limits: bool,
) -> dict[str, Any]:
    """Regions that share no events, fitted together (asymptotic, :mod:`.combination`)."""
    chosen = [r for r in spec.regions if r.name in group]
    models = [
        region_model(
            [r], signal, relative_uncertainty=spec.signal_uncertainty, constraint=spec.constraint
        )
        for r in chosen
    ]
    observed, expected = combined_cls(models)
    entry: dict[str, Any] = {
        "regions": list(group),
        "cls": observed_and_expected(observed[0], expected[0]),
        "excluded": bool(observed[0] < alpha),
        "method": "asymptotic",
        "status": "ok" if any(m.signal[0] > 0 for m in models) else "no signal",
    }
    if not asymptotics_hold(models)[0]:
        entry["note"] = (
            "asymptotic formulae with few events: approximate (they exclude too much), so the "
            "verdict rests on the best region's exact result"
        )
    if with_limits:
        limit, band = combined_upper_limits(models, alpha=alpha)
        entry["mu_upper"] = observed_and_expected(limit[0], band[0])
    return entry


def patched_workspace_model(spec: LikelihoodSpec, signal: Mapping[str, Any]) -> PyhfModel:
    """The bundle's workspace with ``signal`` patched in (through its region map), fittable."""
    ws = spec.workspace
    assert ws is not None
    poi = ws.poi or ws.spec["measurements"][0]["config"]["poi"]
    operations = signal_patch(
        ws.spec,
        signal,
        ws.region_map,
        poi=poi,
        source=ws.source,
        relative_uncertainty=spec.signal_uncertainty,
    )
    patched = apply_patch(ws.spec, operations, f"signal patch of {ws.source}")
    return build_model(patched, ws.source, poi=poi)


class LimitOptions(TypedDict, total=False):
    """How limits are computed: ``source`` (what messages call the yields; "results"),
    ``method`` ("auto", "asymptotic", "exact", "toys"), ``negative`` ("clip" or "error"),
    ``alpha`` (0.05), ``with_limits`` (True: μ95 besides CLs)."""

    source: str
    method: str
    negative: str
    alpha: float
    with_limits: bool


def compute_limits(
    spec: LikelihoodSpec,
    yields: Mapping[str, Any],
    *,
    source: str = "results",
    method: str = "auto",
    negative: str = "clip",
    alpha: float = 0.05,
    with_limits: bool = True,
) -> dict[str, Any]:
    """The ``limits`` object of a results document for signal ``yields`` (at μ = 1).

    ``yields`` maps regions to ``{"value", "mc_uncertainty"}`` (a results document's
    ``yields``) or to numbers. ``negative`` is ``clip`` (warn, naming the region) or ``error``.
    """
    signal, warnings = clip_signal(
        signal_yields(yields, source), needed_regions(spec), source, negative
    )
    document: dict[str, Any] = {
        "alpha": alpha,
        "constraint": spec.constraint,
        "signal_uncertainty": spec.signal_uncertainty,
        "likelihood": spec.source,
    }
    candidates = []
    if spec.regions:
        regions = _region_limits(spec, signal, method, alpha, with_limits)
        document["regions"] = regions
        sensitive = [n for n, r in regions.items() if r["status"] == "ok"]
        if sensitive:  # the smallest median expected limit, or expected CLs without limits
            key = "mu_upper" if with_limits else "cls"
            best = min(sensitive, key=lambda n: regions[n][key]["expected"]["median"] or np.inf)
            document["best_expected_region"] = best
            candidates.append(("region " + best, regions[best]))
    combined = []
    for group in spec.combine:
        combined.append(_combined_entry(spec, group, signal, alpha, with_limits))
    if combined:
        document["combined"] = combined
        ok = [c for c in combined if c["status"] == "ok" and "note" not in c]
        if ok:
            key = "mu_upper" if with_limits else "cls"
            best_fit = min(ok, key=lambda c: c[key]["expected"]["median"] or np.inf)
            candidates.insert(0, ("combination " + "+".join(best_fit["regions"]), best_fit))
    if spec.workspace is not None:  # a failed fit raises: no verdict from a lesser likelihood
        ws = spec.workspace
        entry = fitted_entry(patched_workspace_model(spec, signal), method, alpha, with_limits)
        document["workspace"] = {"path": ws.source, **entry}
        candidates.insert(0, ("workspace", entry))
    if candidates:
        # the most sensitive by its EXPECTED result (never the observed one), the full
        # likelihood first among equals: a workspace of some regions must not judge a signal
        # that lives in regions it does not hold
        key = "mu_upper" if with_limits else "cls"
        name, entry = min(candidates, key=lambda c: _expected_median(c[1], key))
        document["verdict"] = {
            "source": name,
            "cls": entry["cls"],
            **({"mu_upper": entry["mu_upper"]} if "mu_upper" in entry else {}),
            "excluded": entry["excluded"],
        }
    else:
        document["verdict"] = {
            "source": None,
            "excluded": False,
            "reason": "no region with signal and no successful fit",
        }
    document["warnings"] = warnings
    return document


def _expected_median(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key, {}).get("expected", {}).get("median")
    return float(value) if value is not None and math.isfinite(value) else math.inf


def without_regions(spec: LikelihoodSpec, skipped: set[str]) -> LikelihoodSpec:
    """The likelihood without the ``skipped`` regions, their combinations and, if it needs
    them, the workspace."""
    workspace = spec.workspace
    if workspace is not None and skipped & set(workspace.region_map):
        log.warning("the full likelihood needs skipped region(s): only per-region limits")
        workspace = None
    return replace(
        spec,
        regions=[r for r in spec.regions if r.name not in skipped],
        combine=[group for group in spec.combine if not skipped & set(group)],
        workspace=workspace,
    )


def limits_for_regions(
    path: str | Path,
    *,
    method: str = "auto",
    constraint: str = "lognormal",
    output: str | Path | None = None,
) -> dict[str, Any]:
    """`recast limits --regions FILE.json`: model-independent S95 of every region."""
    raw = schema.load_json(path)
    table = s95_table(regions_from_document(raw, str(path)), method=method, constraint=constraint)
    published = {  # published S95 beside ours, when the table carries them
        str(r.get("name")): r
        for r in (raw.get("signal_regions", []) if isinstance(raw, Mapping) else raw)
        if isinstance(r, Mapping) and "s95_observed" in r
    }
    for row in table:
        if row["region"] in published:
            ref = published[row["region"]]
            row["published"] = {
                "observed": ref.get("s95_observed"),
                "expected": ref.get("s95_expected"),
            }
    document = {
        "schema_version": schema.CURRENT_VERSION,
        "regions_file": str(path),
        "constraint": constraint,
        "alpha": 0.05,
        "s95": table,
    }
    if output is not None:
        write_json(output, document)
    return document


def limits_for_workspace(
    workspace: str | Path,
    patch: str | Path,
    *,
    patch_names: list[str] | None = None,
    poi: str | None = None,
    method: str = "auto",
    with_limits: bool = True,
    output: str | Path | None = None,
) -> dict[str, Any]:
    """`recast limits --workspace BKG.json --patch PATCH.json`: CLs (and limits) per patch.

    ``patch_names`` selects patches of a patchset (all when None).
    """
    background = load_workspace(workspace)
    patches = load_patches(patch)
    if patch_names:
        from .errors import RegionMismatchError

        for name in patch_names:
            if name not in patches:
                raise RegionMismatchError(
                    str(patch),
                    "the patch named",
                    name,
                    patches,
                    "Give --patch-name one of those (without it, every patch is fitted).",
                )
        patches = {name: patches[name] for name in patch_names}
    # every patch is checked before any is fitted: a bad value stops the work before it starts
    # (one patched spec at a time: a HEPData patchset holds hundreds)
    for name, operations in patches.items():
        source = f"{patch} (patch {name!r})"
        spec = apply_patch(background, operations, source)
        check_values(spec, source, poi=parameter_of_interest(spec, source, poi))
    results, failed = [], []
    models = ModelCache()  # a patchset's patches share a structure: one build, swapped rates
    for name, operations in patches.items():
        source = f"{patch} (patch {name!r})"
        fitted = models.model(apply_patch(background, operations, source), source, poi=poi)
        try:
            results.append({"patch": name, **fitted_entry(fitted, method, 0.05, with_limits)})
        except FitFailedError as exc:
            log.warning("%s; the other patches go on, but nothing will be written", exc)
            failed.append((name, str(exc)))
    if failed:  # no document: a file of CLs beside failures is read as complete
        others = [n for n in patches if n not in dict(failed)]
        raise FitFailedError(
            f"{len(failed)} of {len(patches)} patch(es) of {patch} could not be fitted, so "
            f"nothing was written: {'; '.join(f'{n!r}: {why}' for n, why in failed)}"
            + (
                f". The others can be run alone with --patch-name ({', '.join(others[:5])}"
                f"{' ...' if len(others) > 5 else ''})."
                if others
                else ""
            )
        )
    document = {
        "schema_version": schema.CURRENT_VERSION,
        "workspace": str(workspace),
        "patch_file": str(patch),
        "alpha": 0.05,
        "patches": results,
    }
    if output is not None:
        write_json(output, document)
    return document
