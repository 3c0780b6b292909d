"""Asymptotic CLs and μ95 of a full likelihood from fits that are reused, not repeated.

pyhf's ``hypotest`` fits five times at every μ it is asked about (free and constrained fits to
the data, the background-only fit that makes the Asimov data, free and constrained fits to the
Asimov data); a limit scan asks about dozens of μ. The q̃_μ formulae need far less:

* the free fit to the data and the background-only fit (which makes the Asimov data) do not
  depend on μ: they are made once per model;
* the free fit to the Asimov data is known without fitting: the Asimov data are the
  expectation of (μ = 0, θ̂_b) with the auxiliary data set to θ̂_b, so every Poisson and
  constraint term is at its maximum there;
* at each μ there remain two fits, constrained to the data and to the Asimov data, started from
  the nearest μ already fitted; the five expected-band members share the Asimov one.

μ95 is then found by root finding on Φ⁻¹(CLs(μ)) − Φ⁻¹(α), nearly linear in μ, from guesses
that the Gaussian (Wald) approximation gives from one Asimov fit. The formulae are pyhf's
(``test_stat="qtilde"``, ``calc_base_dist="normal"``): the numbers agree with
``pyhf.infer.hypotest`` to the fits' precision.

The fits minimise −2 ln L of the model pyhf built with its exact gradient
(:mod:`.histfactory`, checked against pyhf's ``logpdf`` when the engine is made) by projected
Gauss–Newton steps: a handful of evaluations a fit. A model using something that module does
not compute keeps pyhf's ``logpdf`` with finite-difference derivatives.

A fit that cannot be made raises :class:`~.errors.FitFailedError`; the callers then fall back
to pyhf's own fits with their retries (:mod:`.fits`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import log_ndtr, ndtri

from .errors import FitFailedError
from .fits import PyhfModel
from .histfactory import HistFactoryLikelihood
from .workspace import quiet_pyhf

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: the expected band in pyhf's order of the b-only test statistic (CLs increases along it)
_N_SIGMA = np.array([2.0, 1.0, 0.0, -1.0, -2.0])
#: the POI's upper bound in the free fit to the data: far above any μ̂ of a sensible model
_FREE_POI_MAX = 1e4
#: μ95 beyond this many times the guess is reported as infinite (the curve never crosses α)
_FAR = 1e6
#: −2 ln L outside the model's domain (a negative yield): high enough that the line search
#: backs off, low enough that its interpolation stays sane (1e30 stalled it at the start)
_OUTSIDE = 1e10
#: up to this many moving parameters a fit ends with Newton steps (a Hessian costs n²/2 calls)
_NEWTON_MAX = 30
#: a fit with the exact gradient stops when the Newton decrement gᵀH⁻¹g (twice the predicted
#: gain in −2 ln L) falls below this: q̃_μ is a difference of two minima, CLs needs ~1e-6
_DECREMENT = 1e-10
#: Gauss–Newton steps before a fit with the exact gradient hands over to L-BFGS-B
_GAUSS_NEWTON_STEPS = 60


@dataclass(frozen=True)
class Fitted:
    """One minimum of −2 ln L: the full parameter vector and the value."""

    pars: Array
    twice_nll: float


class Asymptotics:
    """q̃_μ CLs of one pyhf model at any μ, with the μ-independent fits made once.

    ``cls(mu)`` gives CLs observed and the expected band (the order of
    :data:`.closed_form.BAND`); ``upper_limits(alpha)`` the μ where each crosses ``alpha``.
    """

    def __init__(self, fitted: PyhfModel, *, exact_gradients: bool = True) -> None:
        self.fitted = fitted
        model = fitted.model
        config = model.config
        self.poi = int(config.poi_index)
        self.init = np.asarray(config.suggested_init(), dtype=float)
        self.bounds = np.asarray(config.suggested_bounds(), dtype=float)
        fixed = np.asarray(config.suggested_fixed(), dtype=bool)
        self.free = np.flatnonzero(~fixed)  # the parameters a free fit moves
        self.nuisances = self.free[self.free != self.poi]  # ... and a constrained one
        self.data = np.asarray(fitted.data, dtype=float)
        self._data_fits: dict[float, Fitted] = {}
        self._asimov_fits: dict[float, Fitted] = {}
        self.evaluations = 0  # pyhf logpdf calls, for benchmarks and logs
        # −2 ln L with its exact gradient when every modifier is one written there (checked
        # against pyhf's logpdf); None: pyhf's logpdf with finite differences
        self.exact = HistFactoryLikelihood.from_model(model, self.data) if exact_gradients else None
        self._scale: Array | None = None
        self.free_fit = self._fit(self.data, self.init, None)
        background = self.free_fit.pars.copy()  # the nuisances rarely move far from there
        background[self.poi] = 0.0
        self.background_fit = self._fit(self.data, background, 0.0)
        with quiet_pyhf():
            self.asimov = np.asarray(model.expected_data(self.background_fit.pars), dtype=float)
        # the Asimov data's free fit: at (0, θ̂_b) by construction, one evaluation
        self.asimov_free = Fitted(
            self.background_fit.pars, self._twice_nll(self.background_fit.pars, self.asimov)
        )
        self._data_fits[0.0] = self.background_fit
        self._asimov_fits[0.0] = self.asimov_free

    @property
    def muhat(self) -> float:
        return float(self.free_fit.pars[self.poi])

    @property
    def scale(self) -> Array:
        """1/√curvature per parameter, for the fits with numerical gradients (made once)."""
        if self._scale is None:
            self._scale = self._scales()
        return self._scale

    def _twice_nll(self, pars: Array, data: Array) -> float:
        if self.exact is not None:
            return self.exact.twice_nll(pars, data)
        return self._pyhf_twice_nll(pars, data)

    def _pyhf_twice_nll(self, pars: Array, data: Array) -> float:
        self.evaluations += 1
        value = -2.0 * float(self.fitted.model.logpdf(pars, data)[0])
        return value

    def _fit(self, data: Array, start: Array, mu: float | None) -> Fitted:
        """The minimum of −2 ln L over the free parameters (the POI fixed at ``mu`` if given),
        from ``start``; retried from the model's suggested start and with nuisances kept
        within ±3σ before a :class:`FitFailedError`."""
        moving = self.free if mu is None else self.nuisances
        bounds = self.bounds.copy()
        if mu is None:
            bounds[self.poi] = (0.0, _FREE_POI_MAX)  # q̃: μ̂ ≥ 0
        base = np.asarray(start, dtype=float).copy()
        if mu is not None:
            base[self.poi] = mu
        tight = bounds.copy()
        for i in self.nuisances:  # constrained nuisances back to ±3σ, as fits.py retries
            low, high = tight[i]
            if low >= -5.5 and high <= 5.5:
                tight[i] = (max(low, -3.0), min(high, 3.0))
        suggested = self.init.copy()
        if mu is not None:
            suggested[self.poi] = mu
        problems = []
        for attempt, (x0, box) in enumerate(
            ((base, bounds), (suggested, bounds), (suggested, tight))
        ):
            try:
                result = self._minimize(data, x0, box, moving)
            except (ValueError, FloatingPointError, ArithmeticError) as exc:
                problems.append(f"attempt {attempt + 1}: {type(exc).__name__}: {exc}")
                continue
            if result is not None:
                return result
            problems.append(f"attempt {attempt + 1}: −2 ln L is not finite at the minimum")
        where = "the free fit" if mu is None else f"the fit at {self.fitted.poi} = {mu:g}"
        raise FitFailedError(f"{self.fitted.source}: {where} failed ({'; '.join(problems)})")

    def _minimize(
        self, data: Array, x0: Array, box: Array, moving: NDArray[np.intp]
    ) -> Fitted | None:
        if self.exact is not None:
            fitted = self._minimize_exact(data, x0, box, moving)
            if fitted is not None:
                return fitted
            log.debug("%s: the fit with exact gradients did not converge", self.fitted.source)
        return self._minimize_numerical(data, x0, box, moving)

    def _minimize_exact(
        self, data: Array, x0: Array, box: Array, moving: NDArray[np.intp]
    ) -> Fitted | None:
        """Projected Gauss–Newton steps with the exact gradient and a backtracking line
        search; L-BFGS-B with the exact gradient, then Newton again, when they stall. None when
        no converged minimum is found (the caller then fits with numerical gradients)."""
        assert self.exact is not None
        exact = self.exact
        full = x0.copy()
        low, high = box[moving, 0], box[moving, 1]

        def value_and_gradient(z: Array) -> tuple[float, Array]:
            full[moving] = z
            value, gradient = exact.value_and_gradient(full, data)
            return value, gradient[moving]

        def hessian(z: Array) -> Array:
            full[moving] = z
            return exact.gauss_newton(full, data)[np.ix_(moving, moving)]

        z = np.clip(x0[moving], low, high)
        z, value, converged = _projected_newton(
            value_and_gradient, hessian, z, low, high, _GAUSS_NEWTON_STEPS
        )
        if not converged and math.isfinite(value):

            def objective(z: Array) -> tuple[float, Array]:
                value, gradient = value_and_gradient(z)
                if not math.isfinite(value):  # a negative yield: steep, the search backs off
                    return _OUTSIDE, np.zeros_like(z)
                return value, gradient

            result = minimize(
                objective,
                z,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(low, high, strict=True)),
                options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 5000, "maxls": 50},
            )
            if float(result.fun) < _OUTSIDE:
                z, value, converged = _projected_newton(
                    value_and_gradient, hessian, np.asarray(result.x, dtype=float), low, high, 20
                )
        if not converged or not math.isfinite(value):
            return None
        return self._fitted(x0, moving, z, value)

    def _minimize_numerical(
        self, data: Array, x0: Array, box: Array, moving: NDArray[np.intp]
    ) -> Fitted | None:
        full = x0.copy()
        # the minimiser moves z = x / scale: every direction about equally curved, which
        # spares quasi-Newton most of its iterations (a CR's γ and a normsys differ by 10⁴)
        scale = self.scale[moving]
        low, high = box[moving, 0] / scale, box[moving, 1] / scale
        start = np.clip(x0[moving] / scale, low, high)

        def objective(z: Array) -> float:
            full[moving] = z * scale
            value = self._pyhf_twice_nll(full, data)
            # outside the model's domain (a negative yield): steep, so the line search backs off
            return value if math.isfinite(value) else _OUTSIDE

        with quiet_pyhf():
            if len(moving) <= _NEWTON_MAX:  # small models: Newton, no quasi-Newton overhead
                z, value, converged = self._newton(objective, start, low, high, 50)
                if converged and value < _OUTSIDE:
                    return self._fitted(x0, moving, z * scale, value)
            best = None
            for _ in range(2):  # a second run from the first's end polishes a stalled search
                result = minimize(
                    objective,
                    start,
                    method="L-BFGS-B",
                    bounds=list(zip(low, high, strict=True)),
                    options={"ftol": 1e-13, "gtol": 1e-6, "maxiter": 5000, "maxls": 50},
                )
                value = float(result.fun)
                if best is not None and value >= best[1] - 1e-9:
                    break
                best = (np.asarray(result.x, dtype=float), value)
                start = best[0]
                if result.success:
                    break
            if best is None or not math.isfinite(best[1]) or best[1] >= _OUTSIDE:
                return None
            z, value = best
            if len(moving) <= _NEWTON_MAX:
                z, value, _ = self._newton(objective, z, low, high, 5)
        return self._fitted(x0, moving, z * scale, value)

    @staticmethod
    def _fitted(x0: Array, moving: NDArray[np.intp], values: Array, twice_nll: float) -> Fitted:
        pars = x0.copy()
        pars[moving] = values
        return Fitted(pars, twice_nll)

    @staticmethod
    def _newton(
        objective: Callable[[Array], float], z: Array, low: Array, high: Array, steps: int
    ) -> tuple[Array, float, bool]:
        """Projected Newton steps with finite-difference derivatives and a backtracking line
        search; returns the point, its value and whether the steps converged. Exact on a
        valley along which two parameters trade (a normfactor and a control region's γ),
        where L-BFGS-B stalls 1e-7 above the minimum, which q̃_μ would carry."""
        n, h = len(z), 1e-4
        z = np.clip(z, low, high)
        value = objective(z)
        unit = np.eye(n)
        for _ in range(steps):
            # one-sided differences at a bound, central ones inside
            up = [objective(np.minimum(z + h * e, high)) for e in unit]
            down = [objective(np.maximum(z - h * e, low)) for e in unit]
            width = np.minimum(z + h, high) - np.maximum(z - h, low)
            gradient = (np.array(up) - np.array(down)) / np.where(width > 0, width, h)
            hessian = np.empty((n, n))
            for i in range(n):
                hessian[i, i] = (up[i] + down[i] - 2 * value) / h**2
                for j in range(i):
                    both = objective(np.minimum(z + h * (unit[i] + unit[j]), high))
                    hessian[i, j] = hessian[j, i] = (both - up[i] - up[j] + value) / h**2
            # parameters held at a bound by the gradient stay there
            held = ((z <= low + 1e-12) & (gradient > 0)) | ((z >= high - 1e-12) & (gradient < 0))
            free = ~held
            if not free.any():
                return z, value, True
            sub = hessian[np.ix_(free, free)]
            if not np.isfinite(sub).all() or not np.isfinite(gradient).all():
                return z, value, False
            lowest = float(np.linalg.eigvalsh(sub).min())
            if lowest <= 1e-8:  # not convex here: damp towards a gradient step
                sub = sub + (abs(lowest) + 1e-3) * np.eye(len(sub))
            step = np.zeros(n)
            step[free] = np.linalg.solve(sub, -gradient[free])
            t = 1.0
            for _ in range(30):
                trial = np.clip(z + t * step, low, high)
                trial_value = objective(trial)
                if trial_value <= value:
                    break
                t *= 0.5
            else:
                return z, value, bool(np.max(np.abs(step)) < 1e-6)
            moved = float(np.max(np.abs(trial - z)))
            gain = value - trial_value
            z, value = trial, trial_value
            if moved < 1e-7 or (gain < 1e-12 and moved < 1e-4):
                return z, value, True
        return z, value, False

    def _scales(self) -> Array:
        """1/√(∂²(−2 ln L)/∂x²) at the start, per parameter (central differences, once)."""
        x = self.init.copy()
        centre = self._pyhf_twice_nll(x, self.data)
        scale = np.ones(len(x))
        for i in self.free:
            step = 1e-3 * max(1.0, abs(x[i]))
            values = []
            for shift in (step, -step):
                moved = x.copy()
                moved[i] = np.clip(x[i] + shift, *self.bounds[i])
                values.append(self._pyhf_twice_nll(moved, self.data))
            curvature = (values[0] + values[1] - 2.0 * centre) / step**2
            if math.isfinite(curvature) and curvature > 0:
                scale[i] = min(max(1.0 / math.sqrt(curvature), 1e-6), 1e3)
        return scale

    def _nearest(self, fits: dict[float, Fitted], mu: float) -> Array:
        """The start of a fit at ``mu``: the fit at the nearest μ already made."""
        if not fits:
            return self.init
        key = min(fits, key=lambda m: abs(m - mu))
        return fits[key].pars

    def _constrained(self, fits: dict[float, Fitted], data: Array, mu: float) -> Fitted:
        if mu not in fits:
            fits[mu] = self._fit(data, self._nearest(fits, mu), mu)
        return fits[mu]

    def sqrt_qmu_asimov(self, mu: float) -> float:
        """√q̃_μ of the Asimov data (background only)."""
        fit = self._constrained(self._asimov_fits, self.asimov, mu)
        return math.sqrt(max(fit.twice_nll - self.asimov_free.twice_nll, 0.0))

    def qmu_tilde(self, mu: float) -> float:
        """q̃_μ of the data: 0 when μ̂ > μ (an excess is no evidence against μ)."""
        if self.muhat > mu:
            return 0.0
        fit = self._constrained(self._data_fits, self.data, mu)
        return max(fit.twice_nll - self.free_fit.twice_nll, 0.0)

    def log_cls(self, mu: float, observed: bool = True) -> Array:
        """ln CLs at ``mu``: observed (when asked; NaN otherwise) then the expected band."""
        sqrt_qa = self.sqrt_qmu_asimov(mu)
        expected = log_ndtr(-(_N_SIGMA + sqrt_qa)) - log_ndtr(-_N_SIGMA)
        out = np.full(1 + len(_N_SIGMA), np.nan)
        out[1:] = expected
        if observed:
            sqrt_q = math.sqrt(self.qmu_tilde(mu))
            if sqrt_q <= sqrt_qa:
                t = sqrt_q - sqrt_qa
            else:  # q̃'s second branch, as pyhf writes it
                t = (sqrt_q**2 - sqrt_qa**2) / (2.0 * sqrt_qa)
            out[0] = log_ndtr(-(t + sqrt_qa)) - log_ndtr(-t)
        return np.minimum(out, 0.0)

    def cls(self, mu: float = 1.0) -> tuple[float, tuple[float, ...]]:
        """CLs observed and the expected band at ``mu``."""
        values = np.exp(self.log_cls(mu))
        return float(values[0]), tuple(float(v) for v in values[1:])

    def upper_limits(
        self, alpha: float = 0.05, *, rtol: float = 1e-5, guess: float = 1.0
    ) -> tuple[float, tuple[float, ...]]:
        """μ95 observed and the expected band: where each CLs curve crosses ``alpha``.

        Each curve is solved by the secant method, kept inside a bracket once it has one,
        from the Wald guess; the expected members solve √q̃_A(μ) = s (the √q̃_A their CLs
        crosses α at), so every Asimov fit already made, at any μ, serves them all. A curve
        that never falls below ``alpha`` (no signal) gives ``inf``; a root that is not found
        raises :class:`FitFailedError` (the caller falls back to pyhf's fits).
        """
        start = self._start(guess)
        if start is None:
            return math.inf, (math.inf,) * len(_N_SIGMA)
        _, sigma = start
        # the Wald approximation: √q̃_A = μ/σ, and t = −μ̂/σ for the data while μ > μ̂
        s_band = -ndtri(alpha * np.exp(log_ndtr(-_N_SIGMA))) - _N_SIGMA
        muhat = max(self.muhat, 0.0)
        s_obs = -float(ndtri(alpha * math.exp(float(log_ndtr(muhat / sigma)))))
        band = [
            self._solve(
                partial(self._asimov_excess, float(s_n)),
                partial(self._asimov_points, float(s_n)),
                sigma * float(s_n),
                sigma,
                rtol,
            )
            for s_n in s_band
        ]
        target = float(ndtri(alpha))

        def excess(mu: float) -> float:  # increasing in μ, as CLs falls
            value = float(self.log_cls(mu)[0])
            return target - float(ndtri(max(math.exp(value), 1e-300)))

        def known() -> list[tuple[float, float]]:  # every μ with both fits made already
            return [
                (mu, excess(mu)) for mu in self._data_fits if mu > 0 and mu in self._asimov_fits
            ]

        limit = self._solve(excess, known, muhat + sigma * s_obs, sigma, rtol)
        return limit, tuple(band)

    def _asimov_excess(self, s: float, mu: float) -> float:
        return self.sqrt_qmu_asimov(mu) - s

    def _asimov_points(self, s: float) -> list[tuple[float, float]]:
        """(μ, √q̃_A − s) of every Asimov fit made so far."""
        free = self.asimov_free.twice_nll
        return [
            (mu, math.sqrt(max(fit.twice_nll - free, 0.0)) - s)
            for mu, fit in self._asimov_fits.items()
            if mu > 0
        ]

    def _solve(
        self,
        func: Callable[[float], float],
        known: Callable[[], list[tuple[float, float]]],
        guess: float,
        sigma: float,
        rtol: float,
        max_steps: int = 60,
    ) -> float:
        """The root of the increasing ``func`` near ``guess``, whose slope is about 1/σ (it is
        √q̃_A or Φ⁻¹ of CLs, nearly μ/σ); ``known()`` lists the (μ, value) already computed,
        which start the secant before any new fit."""
        points = dict(known())
        if not points:
            points[guess] = func(guess)
        for _ in range(max_steps):
            ordered = sorted(points.items())
            lo = max((p for p in ordered if p[1] < 0), default=None)
            hi = min((p for p in ordered if p[1] >= 0), default=None)
            nearest = sorted(ordered, key=lambda p: abs(p[1]))
            m1, v1 = nearest[0]
            step = m1 - v1 * sigma  # one point: the Wald slope
            if len(nearest) > 1 and nearest[1][1] != v1:  # the secant through the two nearest
                m2, v2 = nearest[1]
                step = m1 - v1 * (m1 - m2) / (v1 - v2)
            if lo is not None and hi is not None:
                if not lo[0] < step < hi[0]:  # regula falsi inside the bracket, else bisection
                    step = lo[0] - lo[1] * (hi[0] - lo[0]) / (hi[1] - lo[1])
                    if not lo[0] < step < hi[0]:
                        step = 0.5 * (lo[0] + hi[0])
                if hi[0] - lo[0] <= rtol * hi[0]:
                    return float(step)
            elif not math.isfinite(step) or step <= 0:
                step = m1 * (4.0 if v1 < 0 else 0.25)
            else:
                step = min(max(step, m1 / 4.0), m1 * 4.0)  # at most a factor 4 a step
            if step > abs(guess) * _FAR:
                return math.inf
            if abs(step - m1) <= rtol * abs(m1):
                return float(step)
            points[float(step)] = func(float(step))
        raise FitFailedError(
            f"{self.fitted.source}: μ95 not found in {max_steps} steps from {guess:.4g}"
        )

    def _start(self, guess: float) -> tuple[float, float] | None:
        """A μ where the Asimov data see the signal, and σ of μ̂ there (μ / √q̃_A); None when
        the signal is invisible at every μ up to 10⁶·guess."""
        mu = guess
        while mu <= guess * _FAR:
            sqrt_qa = self.sqrt_qmu_asimov(mu)
            if sqrt_qa > 1e-3:
                return mu, mu / sqrt_qa
            mu *= 100.0
        return None


def _projected_newton(
    value_and_gradient: Callable[[Array], tuple[float, Array]],
    hessian: Callable[[Array], Array],
    z: Array,
    low: Array,
    high: Array,
    steps: int,
) -> tuple[Array, float, bool]:
    """Newton steps on the parameters not held at a bound (a bound holds one whose gradient
    points out of the box), with a backtracking (Armijo) line search; returns the point, its
    value and whether the Newton decrement fell below :data:`_DECREMENT`."""
    value, gradient = value_and_gradient(z)
    if not math.isfinite(value):
        return z, value, False
    for _ in range(steps):
        held = ((z <= low) & (gradient > 0)) | ((z >= high) & (gradient < 0))
        free = ~held
        if not free.any():
            return z, value, True
        sub = hessian(z)[np.ix_(free, free)]
        if not np.isfinite(sub).all() or not np.isfinite(gradient).all():
            return z, value, False
        try:
            factor = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:  # not positive definite: damp towards a gradient step
            lowest = float(np.linalg.eigvalsh(sub).min())
            factor = np.linalg.cholesky(sub + (abs(lowest) + 1e-6) * np.eye(len(sub)))
        direction = -np.linalg.solve(factor.T, np.linalg.solve(factor, gradient[free]))
        decrement = -float(gradient[free] @ direction)
        if decrement < _DECREMENT:
            return z, value, True
        step = np.zeros_like(z)
        step[free] = direction
        t = 1.0
        for _ in range(40):
            trial = np.clip(z + t * step, low, high)
            trial_value, trial_gradient = value_and_gradient(trial)
            if math.isfinite(trial_value) and trial_value <= value + 1e-4 * float(
                gradient @ (trial - z)
            ):
                break
            t *= 0.5
        else:  # no descent along the step: converged only if it was already negligible
            return z, value, decrement < 1e3 * _DECREMENT
        z, value, gradient = trial, trial_value, trial_gradient
    return z, value, False


def describe(engine: Asymptotics) -> dict[str, Any]:
    """What the engine did, for logs and benchmarks."""
    return {
        "exact_gradients": engine.exact is not None,
        "exact_evaluations": engine.exact.evaluations if engine.exact is not None else 0,
        "logpdf_calls": engine.evaluations,
        "data_fits": len(engine._data_fits) + 1,
        "asimov_fits": len(engine._asimov_fits) - 1,
    }
