"""CLs and upper limits of full pyhf models, with fits that are retried before they fail.

pyhf's default bounds of the parameter of interest, (0, 10), break limit scans as soon as the
limit lies above 10 (a small signal): the free fit sticks to the bound and q̃_μ is wrong. The
bound here is widened to well above every tested μ, and a fit that fails or returns a
non-finite value is retried from other starting points and with other bounds; only when all
attempts fail is :class:`.errors.FitFailedError` raised. Nothing here returns a NaN.

Asymptotic formulae are the default (ATLAS and CMS set their model-dependent limits with them);
pyhf's toys are available with ``method="toys"``, but take minutes per point on a laptop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from .closed_form import BAND
from .errors import FitFailedError, LikelihoodError
from .roots import bracketed_root
from .workspace import check_values, parameter_of_interest, quiet_pyhf

log = logging.getLogger(__name__)

WORKSPACE_METHODS = ("auto", "asymptotic", "toys")
#: a bin that carries signal and saw fewer events than this makes asymptotics approximate
LOW_COUNT = 10
#: the interpolation codes of the simplified combination: exactly log-normal and linear
LOGNORMAL_SETTINGS = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}


@dataclass
class PyhfModel:
    """A pyhf model with its observed data and the POI."""

    model: Any
    data: Any
    poi: str
    low_count_bins: list[str] = field(default_factory=list)
    #: where the model came from, for messages (a file, a patch of it)
    source: str = "workspace"


def build_model(
    spec: Mapping[str, Any],
    source: str,
    *,
    poi: str | None = None,
    modifier_settings: Mapping[str, Any] | None = None,
) -> PyhfModel:
    """The pyhf model of a (patched) workspace; interpolation codes default to pyhf's."""
    import pyhf

    name = parameter_of_interest(spec, source, poi)
    check_values(spec, source, poi=name)  # before pyhf: its failures name no bin
    try:
        with quiet_pyhf():
            workspace = pyhf.Workspace(dict(spec))
            kwargs: dict[str, Any] = {"poi_name": name}
            if modifier_settings is not None:
                kwargs["modifier_settings"] = dict(modifier_settings)
            model = workspace.model(**kwargs)
            data = workspace.data(model)
    except Exception as exc:  # pyhf's own checks (modifiers, measurements): no traceback
        raise LikelihoodError(
            f"{source}: pyhf cannot build the model ({type(exc).__name__}: {exc}); check the "
            "workspace, e.g. with `pyhf inspect`"
        ) from exc
    low = []
    signal_channels = {
        c["name"]
        for c in spec["channels"]
        for s in c["samples"]
        if any(m["type"] == "normfactor" and m["name"] == name for m in s["modifiers"])
    }
    for observation in spec["observations"]:
        if observation["name"] in signal_channels:
            low += [
                f"{observation['name']}[{i}]"
                for i, n in enumerate(observation["data"])
                if n < LOW_COUNT
            ]
    return PyhfModel(model, data, name, low, source)


@dataclass(frozen=True)
class PyhfCLs:
    """CLs at one μ: observed, expected band (order of :data:`.closed_form.BAND`)."""

    observed: float
    expected: tuple[float, ...]
    method: str
    attempt: int


def _attempts(fitted: PyhfModel, mu: float) -> list[tuple[list[float], list[tuple[float, float]]]]:
    """(init, bounds) tried in turn: wide POI bounds; the POI started at μ; tighter nuisances."""
    config = fitted.model.config
    index = config.poi_index
    init = list(config.suggested_init())
    bounds = [tuple(b) for b in config.suggested_bounds()]
    wide = max(10.0, 20.0 * mu)
    tries = []
    first = list(bounds)
    first[index] = (0.0, wide)
    tries.append((init, first))
    started = list(init)
    started[index] = mu
    wider = list(first)
    wider[index] = (0.0, 100.0 * max(mu, 0.1))
    tries.append((started, wider))
    # pull constrained nuisances back to ±3σ: stops fits wandering into negative yields
    tight = [
        b if i == index or b[0] < -5.5 or b[1] > 5.5 else (max(b[0], -3.0), min(b[1], 3.0))
        for i, b in enumerate(wider)
    ]
    tries.append((started, tight))
    return tries


def hypotest(
    fitted: PyhfModel,
    mu: float = 1.0,
    *,
    method: str = "auto",
    n_toys: int = 2000,
    seed: int = 1,
) -> PyhfCLs:
    """CLs observed and expected at ``mu`` with q̃_μ; retried before failing."""
    import pyhf

    if method not in WORKSPACE_METHODS:
        raise UsageError(f"method {method!r} is not one of {', '.join(WORKSPACE_METHODS)}")
    chosen = "toys" if method == "toys" else "asymptotic"
    if chosen == "toys":
        _check_toys_supported()
    kwargs: dict[str, Any] = {"test_stat": "qtilde", "return_expected_set": True}
    if chosen == "toys":
        kwargs.update(calctype="toybased", ntoys=n_toys, track_progress=False)
    problems = []
    for attempt, (init, bounds) in enumerate(_attempts(fitted, mu)):
        try:
            if chosen == "toys":
                np.random.seed(seed)  # pyhf's toys draw from numpy's global generator
            with quiet_pyhf():
                observed, expected = pyhf.infer.hypotest(
                    mu, fitted.data, fitted.model, init_pars=init, par_bounds=bounds, **kwargs
                )
        except Exception as exc:  # pyhf, scipy or the backend: every failure is retried
            problems.append(f"attempt {attempt + 1}: {type(exc).__name__}: {exc}")
            continue
        values = np.concatenate([np.ravel(observed), np.ravel(expected)]).astype(float)
        if not np.isfinite(values).all():
            problems.append(f"attempt {attempt + 1}: CLs is not finite")
            continue
        if attempt:
            log.info("fit at %s = %g converged on attempt %d", fitted.poi, mu, attempt + 1)
        return PyhfCLs(float(values[0]), tuple(float(v) for v in values[1:]), chosen, attempt + 1)
    raise FitFailedError(
        f"{fitted.source}: the fit at {fitted.poi} = {mu:g} failed with every starting point "
        "and bound tried ("
        + "; ".join(problems)
        + "); check the workspace, e.g. with `pyhf inspect`, or give the signal more events."
    )


def _check_toys_supported() -> None:
    """pyhf 0.7.6's toy calculator calls ``numpy.percentile(interpolation=)``, which numpy 2.4
    removed: every toy fit would fail with a TypeError. Refused before any fit instead."""
    import pyhf

    numpy_version = tuple(int(p) for p in np.__version__.split(".")[:2] if p.isdigit())
    if pyhf.__version__ == "0.7.6" and numpy_version >= (2, 4):
        raise UsageError(
            f"pyhf {pyhf.__version__}'s toys do not run with numpy {np.__version__} (they use "
            "numpy.percentile(interpolation=), removed in numpy 2.4): use --method asymptotic, "
            "or install numpy<2.4 (pip install 'numpy<2.4')"
        )


def upper_limit(
    fitted: PyhfModel,
    *,
    method: str = "auto",
    alpha: float = 0.05,
    rtol: float = 1e-3,
    guess: float = 1.0,
    failures: list[str] | None = None,
) -> tuple[float, tuple[float, ...]]:
    """Upper limits on the POI, observed and expected band, where each CLs crosses ``alpha``.

    A walk by factors of 4 out of ``guess`` brackets every curve, then a bracketed root finder
    refines all six together; a curve that never falls below ``alpha`` gives ``inf``. When a
    fit fails while a curve is still being bracketed or refined (a weak signal's +2σ member
    probed at μ in the hundreds, where the model turns infeasible), that curve gives NaN and
    the failure is appended to ``failures``: the other limits stand.
    """
    curves = 1 + len(BAND)
    cache: dict[float, np.ndarray] = {}

    def values(mu: float) -> np.ndarray:
        if mu not in cache:
            result = hypotest(fitted, mu, method=method)
            cache[mu] = np.log(np.maximum([result.observed, *result.expected], 1e-300))
        return cache[mu] - np.log(alpha)

    # walk out of the guess by factors of 4: down while a curve is still below α at the lowest
    # μ tried, up while one is above α at the highest. A fixed bracket around the guess probed
    # a strongly excluded point at μ = 16, where its fit is infeasible.
    tried, mu = [guess], guess

    def step(mu: float) -> np.ndarray | None:
        try:
            return values(mu)
        except FitFailedError as exc:
            if failures is not None:
                failures.append(str(exc))
            return None

    if (values(guess) < 0).any():
        while mu > guess * 1e-6:
            f = step(mu / 4.0)
            if f is None:
                break
            mu /= 4.0
            tried.append(mu)
            if not (f < 0).any():
                break
    mu = guess
    failed_above = False
    while (values(mu) >= 0).any() and mu < guess * 1e6:  # the limit lies above
        if step(mu * 4.0) is None:
            failed_above = True
            break
        mu *= 4.0
        tried.append(mu)
    grid = np.array(sorted(tried))
    table = np.array([values(float(m)) for m in grid])  # μ × curve, all cached
    below = table < 0
    # per curve: the first μ tried where CLs < α, and the μ tried just below it (or 0, CLs 1)
    first = np.where(below.any(axis=0), below.argmax(axis=0), -1)
    hi = np.where(first >= 0, grid[np.maximum(first, 0)], np.inf)
    f_hi = np.where(first >= 0, table[np.maximum(first, 0), np.arange(curves)], 0.0)
    has_lo = first > 0
    lo = np.where(has_lo, grid[np.maximum(first - 1, 0)], 0.0)
    f_lo = np.where(has_lo, table[np.maximum(first - 1, 0), np.arange(curves)], -np.log(alpha))
    found = np.isfinite(hi)
    column = np.arange(curves)

    lost = np.zeros(curves, dtype=bool)  # curves whose refinement met a failing fit

    def excess(x: np.ndarray, active: np.ndarray) -> np.ndarray:
        out = np.zeros(curves)
        for i in np.flatnonzero(active & ~lost):
            f = step(float(x[i]))
            if f is None:  # 0 stops the root finder on this curve; its limit is then NaN
                lost[i] = True
            else:
                out[i] = f[column[i]]
        return out

    safe_hi = np.where(found, hi, lo + 1.0)
    roots = bracketed_root(excess, lo, safe_hi, f_lo, np.where(found, f_hi, -1.0), rtol=rtol)
    roots = np.where(found, roots, np.nan if failed_above else np.inf)
    roots = np.where(lost, np.nan, roots)
    return float(roots[0]), tuple(float(r) for r in roots[1:])
