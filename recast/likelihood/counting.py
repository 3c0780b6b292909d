"""CLs and upper limits of one-bin counting experiments, vectorised over regions and points.

The model of one region, the one the experiments use for model-independent limits::

    n ~ Poisson(μ·s + b)              the observed count
    a ~ Normal(b, σ_b²), b ≥ 0        the auxiliary measurement of the background (a_obs = b₀)

written above for the ``normal`` constraint (a Gaussian truncated at b ≥ 0, pyhf's symmetric
``histosys``). The default is ``lognormal``: b = b₀·κ^α, κ = 1 + σ_b/b₀, α ~ Normal(0, 1)
(pyhf's ``normsys`` with ``code1``), which keeps b positive and reproduces the published
ATLAS limits better where σ_b/b₀ is large. A signal uncertainty σ_s (absolute, at μ = 1)
is added in quadrature, σ² = σ_b² + (μ·σ_s)² at the tested μ: for two Gaussian nuisances that
act additively on the expected count this is exact. Fits and q̃_μ need no minimiser
(:mod:`.closed_form`).

CLs comes from one of three calculators, chosen per model by :func:`choose_method` and
reported with the result: ``asymptotic`` (pyhf's formulae), ``exact`` (the sampling
distribution of q̃_μ computed numerically, :mod:`.sampling`) or ``toys``. The exact
calculator tabulates every count its hypotheses can produce, so its time and memory grow with
the counts; above :data:`EXACT_MAX_COUNT` events asymptotics are used instead and the switch is
reported (``calculator``: ``"asymptotic (n = 2000000 > 1000)"``).

    >>> from recast.likelihood.counting import s95
    >>> limits = s95(observed=[0, 32], background=[0.56, 33.0], background_uncertainty=[0.27, 9])
    >>> limits.observed.round(1).tolist(), limits.method.tolist()
    ([3.0, 18.2], ['exact', 'exact'])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from ..errors import UsageError
from .closed_form import BAND, CONSTRAINTS, asymptotic_cls
from .roots import bracket, bracketed_root
from .sampling import Entries, exact_cls, toy_cls

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

METHODS = ("auto", "asymptotic", "exact", "toys")
#: asymptotics are used (by ``auto``) only when both the observed count and the background are
#: at least this large; below, their CLs is off by more than ~2% (see docs/limits.md)
ASYMPTOTIC_MIN_COUNT = 50.0
#: above this many events (observed, background, or signal + background at the tested μ) the
#: exact calculator gives way to asymptotics. Measured (docs/limits.md): with n ≫ b one exact
#: S95 takes ~5 s and 250 MB at n = 1000, 18 s and 750 MB at 30 000, and grows linearly (2·10⁶
#: events grew to 24 GB until the kernel killed it); at n = b = 1000 asymptotic and exact S95
#: differ by ≤ 0.25%
EXACT_MAX_COUNT = 1000.0
#: a safety net while solving for limits: an exact entry whose tested signal + background
#: exceeds this is evaluated asymptotically (CLs is ~0 there; the crossings of models within
#: EXACT_MAX_COUNT lie well below it)
_EXACT_CAP = 4.0 * EXACT_MAX_COUNT
#: counts, yields and uncertainties above this are refused: no signal region holds so many
#: events, and beyond it float64 loses the digits a limit needs (limits of n = b = 10¹¹ are
#: still right, of 10¹² observed events over a background of 1 no longer found)
MAX_EVENTS = 1e10
#: a background uncertainty above this many times max(b, 1) is refused: it carries no
#: information, and above ~10⁸ the log-normal constraint overflows
MAX_RELATIVE_UNCERTAINTY = 1e3
#: an observed count more standard deviations than this below the background is refused: no
#: fluctuation gives it (a typo does), and the asymptotic formulae break beyond ~10⁴
MAX_DEFICIT = 1e3

#: a zero background uncertainty is floored to this fraction of max(b, 1): keeps 1/σ² finite
_SIGMA_FLOOR = 1e-9
_FIELDS = ("observed", "background", "background_uncertainty", "signal", "signal_uncertainty")


def _implausible_mask(observed: Array, background: Array, uncertainty: Array) -> NDArray[np.bool_]:
    deficit = (background - observed) / np.sqrt(background + uncertainty**2 + 1.0)
    wide = uncertainty > MAX_RELATIVE_UNCERTAINTY * np.maximum(background, 1.0)
    return wide | (deficit > MAX_DEFICIT)


def implausible(observed: float, background: float, uncertainty: float) -> str | None:
    """Why these numbers of one region cannot describe a measurement, or None."""
    if uncertainty > MAX_RELATIVE_UNCERTAINTY * max(background, 1.0):
        return (
            f"a background uncertainty of {uncertainty:g} is more than "
            f"{MAX_RELATIVE_UNCERTAINTY:g} times the background {background:g} (or 1): check "
            "that it is absolute, in events, and not swapped with another field"
        )
    deficit = (background - observed) / np.sqrt(background + uncertainty**2 + 1.0)
    if deficit > MAX_DEFICIT:
        return (
            f"{observed:g} observed events lie {deficit:.3g} standard deviations below the "
            f"background {background:g} ± {uncertainty:g}, which no fluctuation gives: check "
            "the units and that the fields are not swapped"
        )
    return None


@dataclass(frozen=True)
class CountingModel:
    """One-bin models, one per element of equal-shaped 1-D arrays (regions or signal points).

    ``signal`` is the expected signal count at μ = 1 and ``signal_uncertainty`` its absolute
    uncertainty; both are 0 or positive. ``constraint`` is ``lognormal`` or ``normal``.
    """

    observed: Array
    background: Array
    background_uncertainty: Array
    signal: Array
    signal_uncertainty: Array
    constraint: str = "lognormal"

    @classmethod
    def build(
        cls,
        observed: ArrayLike,
        background: ArrayLike,
        background_uncertainty: ArrayLike,
        signal: ArrayLike = 1.0,
        signal_uncertainty: ArrayLike = 0.0,
        *,
        constraint: str = "lognormal",
    ) -> CountingModel:
        """Broadcast the inputs to one shape and check them (:class:`UsageError` if wrong)."""
        if constraint not in CONSTRAINTS:
            raise UsageError(f"constraint {constraint!r} is not one of {', '.join(CONSTRAINTS)}")
        values = (observed, background, background_uncertainty, signal, signal_uncertainty)
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, float)) for x in values))
        for name, array in zip(_FIELDS, arrays, strict=True):
            if array.ndim != 1:
                raise UsageError(f"{name} must be a number or a 1-D array, not shape {array.shape}")
            bad = ~np.isfinite(array) | (array < 0) | (array > MAX_EVENTS)
            if bad.any():
                raise UsageError(
                    f"{name}[{int(np.argmax(bad))}] is {array[bad][0]!r}; counts, yields and "
                    f"uncertainties must be finite, not negative and at most {MAX_EVENTS:g}"
                )
        wrong = _implausible_mask(arrays[0], arrays[1], arrays[2])
        if wrong.any():  # vectorised: a scan builds one model per point
            i = int(np.argmax(wrong))
            raise UsageError(
                f"model [{i}]: {implausible(arrays[0][i], arrays[1][i], arrays[2][i])}"
            )
        return cls._of([np.array(a) for a in arrays], constraint)

    @classmethod
    def _of(cls, parts: Sequence[Array], constraint: str) -> CountingModel:
        """The model of the five arrays in :data:`_FIELDS` order (checked by the caller)."""
        observed, background, background_uncertainty, signal, signal_uncertainty = parts
        return cls(
            observed, background, background_uncertainty, signal, signal_uncertainty, constraint
        )

    def __len__(self) -> int:
        return int(self.observed.shape[0])

    def take(self, index: np.ndarray | slice | int) -> CountingModel:
        return self._of(
            [np.asarray(getattr(self, name))[index] for name in _FIELDS], self.constraint
        )

    def entries(self, mu: Array) -> Entries:
        """The per-entry inputs of the calculators when testing signal strength ``mu``."""
        sigma = np.hypot(self.background_uncertainty, mu * self.signal_uncertainty)
        if self.constraint == "normal":
            b0 = self.background
            width, a_obs = np.maximum(sigma, _SIGMA_FLOOR * np.maximum(b0, 1.0)), b0
        else:  # a background of zero is floored: its logarithm must exist
            b0 = np.maximum(self.background, _SIGMA_FLOOR)
            width, a_obs = np.log1p(sigma / b0), np.zeros_like(b0)
        return Entries(self.observed, a_obs, mu * self.signal, b0, width, self.constraint)


# -- choosing the calculator -------------------------------------------------------------------
def _largest_count(model: CountingModel, mu: Array | None) -> tuple[Array, NDArray[np.str_]]:
    """The largest count an exact table of each model must span, and its name for messages."""
    named = [("n", model.observed), ("b", model.background)]
    if mu is not None:
        named.append(("s + b", mu * model.signal + model.background))
    values = np.stack([v for _, v in named])
    which = np.argmax(values, axis=0)
    return values.max(axis=0), np.array([n for n, _ in named])[which]


def choose_method(
    model: CountingModel, method: str = "auto", mu: ArrayLike | None = None
) -> NDArray[np.str_]:
    """The calculator for each model: ``auto`` takes asymptotics only where counts are high,
    and ``exact`` gives way to asymptotics above :data:`EXACT_MAX_COUNT` events (at ``mu``
    when given)."""
    return _choose(model, method, mu)[0]


def _choose(
    model: CountingModel, method: str, mu: ArrayLike | None
) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    if method not in METHODS:
        raise UsageError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if method != "auto":
        chosen = np.full(len(model), method)
    else:
        high = (model.observed >= ASYMPTOTIC_MIN_COUNT) & (model.background >= ASYMPTOTIC_MIN_COUNT)
        chosen = np.where(high, "asymptotic", "exact")
    tested = None if mu is None else np.broadcast_to(np.asarray(mu, float), (len(model),))
    largest, name = _largest_count(model, tested)
    switch = (chosen == "exact") & (largest > EXACT_MAX_COUNT)
    notes = chosen.astype(object)
    for i in np.flatnonzero(switch):
        notes[i] = f"asymptotic ({name[i]} = {largest[i]:.10g} > {EXACT_MAX_COUNT:g})"
    if switch.any():
        log.info(
            "%d model(s) above %g events: asymptotic formulae instead of the exact calculator",
            int(switch.sum()),
            EXACT_MAX_COUNT,
        )
    return np.where(switch, "asymptotic", chosen), notes.astype(str)


# -- CLs at one signal strength ----------------------------------------------------------------
@dataclass(frozen=True)
class CLsValues:
    """CLs of each model at one signal strength; ``expected`` has the band in :data:`BAND`."""

    observed: Array
    expected: Array
    clsb: Array
    clb: Array
    method: NDArray[np.str_]
    #: the method and, where the count switched it from exact, why:
    #: ``"exact"``, or ``"asymptotic (n = 2000000 > 1000)"``
    calculator: NDArray[np.str_]


_OBSERVED_AND_BAND = np.array([-1, 0, 1, 2, 3, 4])
_BAND_CLB = ndtr(np.asarray(BAND, dtype=np.float64))  # CLb of each band member, asymptotically


def _evaluate(
    model: CountingModel,
    methods: NDArray[np.str_],
    mu: Array,
    targets: NDArray[np.intp],
    n_toys: int,
    seed: int,
) -> tuple[Array, Array, Array]:
    """CLs, CLs+b and CLb, shape (P, K): ``targets`` −1 observed, 0–4 expected band members."""
    out = [np.ones(targets.shape) for _ in range(3)]
    entries = model.entries(mu)
    # bounded memory: an exact table spans every count up to the tested signal + background
    methods = np.where(
        (methods == "exact") & (mu * model.signal + model.background > _EXACT_CAP),
        "asymptotic",
        methods,
    )
    for method in np.unique(methods):
        rows = np.flatnonzero(methods == method)
        part, chosen = entries.take(rows), targets[rows]
        if method == "asymptotic":
            e = part
            cls, clsb, clb, expected = asymptotic_cls(
                e.n_obs, e.a_obs, e.signal, e.b0, e.width, e.constraint
            )
            band = np.take_along_axis(expected, np.clip(chosen, 0, len(BAND) - 1), axis=1)
            band_clb = _BAND_CLB[np.clip(chosen, 0, len(BAND) - 1)]
            observed = chosen < 0
            values = (
                np.where(observed, cls[:, None], band),
                np.where(observed, clsb[:, None], band * band_clb),
                np.where(observed, clb[:, None], band_clb),
            )
        elif method == "exact":
            values = exact_cls(part, chosen)
        else:
            values = toy_cls(part, chosen, n_toys=n_toys, seed=seed)
        for i in range(3):
            out[i][rows] = values[i]
    return out[0], out[1], out[2]


def cls(
    model: CountingModel,
    mu: ArrayLike = 1.0,
    *,
    method: str = "auto",
    n_toys: int = 20_000,
    seed: int = 1,
) -> CLsValues:
    """Observed and expected CLs of every model at signal strength ``mu`` (a number or per model).

    ``method`` is ``auto`` (exact where counts are low, asymptotic otherwise), ``asymptotic``,
    ``exact`` or ``toys`` (``n_toys`` pseudo-experiments per hypothesis, seeded).
    """
    mu_values = np.broadcast_to(np.asarray(mu, dtype=np.float64), (len(model),)).copy()
    if (mu_values < 0).any() or not np.isfinite(mu_values).all():
        raise UsageError("the tested signal strength must be finite and not negative")
    methods, notes = _choose(model, method, mu_values)
    targets = np.broadcast_to(_OBSERVED_AND_BAND, (len(model), 6))
    values, clsb, clb = _evaluate(model, methods, mu_values, targets, n_toys, seed)
    return CLsValues(values[:, 0], values[:, 1:], clsb[:, 0], clb[:, 0], methods, notes)


# -- upper limits ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpperLimits:
    """Upper limits on μ, observed and expected band; ``inf`` where there is no signal."""

    observed: Array
    expected: Array
    method: NDArray[np.str_]
    #: the method and, where the count switched it from exact, why:
    #: ``"exact"``, or ``"asymptotic (n = 2000000 > 1000)"``
    calculator: NDArray[np.str_]


def upper_limits(
    model: CountingModel,
    *,
    method: str = "auto",
    alpha: float = 0.05,
    rtol: float = 1e-4,
    n_toys: int = 20_000,
    seed: int = 1,
) -> UpperLimits:
    """The μ where CLs crosses ``alpha``, observed and for each expected band member.

    All curves of all models are solved together by a bracketed root finder on log CLs; the
    bracket starts from the asymptotic limit, which is cheap and never far off.
    """
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must lie in (0, 1), not {alpha}")
    methods, notes = _choose(model, method, None)
    size, curves = len(model), len(_OBSERVED_AND_BAND)
    rows = np.repeat(np.arange(size), curves)  # one entry per (model, curve)
    keep = model.signal[rows] > 0  # without signal, nothing is ever excluded
    rows = rows[keep]
    entries, entry_methods = model.take(rows), methods[rows]
    targets = np.tile(_OBSERVED_AND_BAND, size)[keep][:, None]
    limits = np.full(size * curves, np.inf)
    if rows.size:
        limits[keep] = _solve_all(entries, entry_methods, targets, alpha, rtol, n_toys, seed)
    table = limits.reshape(size, curves)
    return UpperLimits(table[:, 0], table[:, 1:], methods, notes)


def _solve_all(
    entries: CountingModel,
    methods: NDArray[np.str_],
    targets: NDArray[np.intp],
    alpha: float,
    rtol: float,
    n_toys: int,
    seed: int,
) -> Array:
    """Every entry's limit: asymptotic first (cheap, never far off), then the entries of other
    methods solved again from there (toys need their count: 0 toys once left a sample empty)."""
    asymptotic = np.full(len(entries), "asymptotic")
    found = _solve(entries, asymptotic, targets, alpha, rtol, None, n_toys, seed)
    slow = methods != "asymptotic"
    if slow.any():
        again = entries.take(slow)
        found[slow] = _solve(
            again, methods[slow], targets[slow], alpha, rtol, found[slow], n_toys, seed
        )
    return found


def _solve(
    entries: CountingModel,
    methods: NDArray[np.str_],
    targets: NDArray[np.intp],
    alpha: float,
    rtol: float,
    guess: Array | None,
    n_toys: int,
    seed: int,
) -> Array:
    log_alpha = np.log(alpha)

    def excess(mu: Array, active: NDArray[np.bool_]) -> Array:
        values = np.zeros(mu.shape)
        rows = np.flatnonzero(active)
        if rows.size:
            part = entries.take(rows)
            cls_values, _, _ = _evaluate(part, methods[rows], mu[rows], targets[rows], n_toys, seed)
            values[rows] = np.log(np.maximum(cls_values[:, 0], 1e-300)) - log_alpha
        return values

    if guess is None:  # a rough start: a few standard deviations of the count above n
        count = entries.observed + entries.background
        guess = (2.0 + 2.0 * np.sqrt(count + 1.0) + entries.background_uncertainty) / (
            entries.signal
        )
    lo, hi, f_lo, f_hi, found = bracket(excess, guess)
    if not found.all():
        log.warning("%d upper limit(s) not found below μ = %g", (~found).sum(), hi.max())
    root = bracketed_root(excess, lo, hi, f_lo, f_hi, rtol=rtol)
    return np.where(found, root, np.inf)


def s95(
    observed: ArrayLike,
    background: ArrayLike,
    background_uncertainty: ArrayLike,
    *,
    method: str = "auto",
    alpha: float = 0.05,
) -> UpperLimits:
    """Model-independent upper limits on the number of signal events (S95 at ``alpha=0.05``)."""
    model = CountingModel.build(observed, background, background_uncertainty, signal=1.0)
    return upper_limits(model, method=method, alpha=alpha)


def median_expected_limits(
    model: CountingModel,
    *,
    method: str = "auto",
    alpha: float = 0.05,
    rtol: float = 1e-4,
    n_toys: int = 20_000,
    seed: int = 1,
) -> Array:
    """The median expected upper limit on μ alone: a sixth of the work of :func:`upper_limits`.

    Scans use it to rank regions by expected sensitivity (``inf`` without signal).
    """
    methods = choose_method(model, method)
    limits = np.full(len(model), np.inf)
    keep = model.signal > 0
    if keep.any():
        median = np.full((int(keep.sum()), 1), BAND.index(0))
        part = model.take(keep)
        limits[keep] = _solve_all(part, methods[keep], median, alpha, rtol, n_toys, seed)
    return limits
