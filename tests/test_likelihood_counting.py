"""One-bin CLs and limits against independent computations: scipy fits, analytic formulae,
brute-force integration, pyhf, and pseudo-experiments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from recast.errors import UsageError
from recast.likelihood.closed_form import profile, qtilde
from recast.likelihood.counting import CountingModel, cls, s95, upper_limits
from recast.likelihood.sampling import _BAND_P

CONSTRAINTS = ("lognormal", "normal")


def _inputs(constraint: str, b0: float, sigma: float) -> tuple[float, float]:
    """(a_obs, width) of the nuisance parametrisation (see recast.likelihood.closed_form)."""
    return (0.0, np.log1p(sigma / b0)) if constraint == "lognormal" else (b0, sigma)


def _nll(constraint: str, n: float, a: float, s: float, nu: float, b0: float, w: float) -> float:
    """−log L written out again, independently of the package."""
    b = b0 * np.exp(nu * w) if constraint == "lognormal" else max(nu, 0.0)
    pull = (nu - a) if constraint == "lognormal" else (nu - a) / w
    lam = s + b
    return lam - (n * np.log(lam) if n > 0 else 0.0) + 0.5 * pull * pull


def _brute_qtilde(constraint: str, n: float, a: float, s: float, b0: float, w: float) -> float:
    """q̃_μ by numerical minimisation (scipy), with μ̂ ≥ 0 and ν̂ free."""
    box = (
        a - 12 * (w if constraint == "normal" else 1),
        a + 12 * (w if constraint == "normal" else 1),
    )
    if constraint == "normal":
        box = (max(box[0], 0.0), max(box[1], 1.0))

    def conditional(signal: float) -> float:
        fit = optimize.minimize_scalar(
            lambda nu: _nll(constraint, n, a, signal, nu, b0, w),
            bounds=box,
            method="bounded",
            options={"xatol": 1e-11},
        )
        return float(fit.fun)

    grid = np.linspace(0, 4 * n + 10, 400)
    start = grid[np.argmin([conditional(x) for x in grid])]
    free = optimize.minimize_scalar(
        conditional, bounds=(max(0.0, start - 0.1), start + 0.1), method="bounded"
    )
    if free.x > s:
        return 0.0
    return max(0.0, 2 * (conditional(s) - min(free.fun, conditional(0.0))))


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_closed_form_fits_match_a_numerical_minimiser(constraint: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(12):
        n = float(rng.poisson(rng.uniform(0, 15)))
        b0, sigma = rng.uniform(0.3, 10), rng.uniform(0.05, 0.8)
        sigma *= b0
        a, w = _inputs(constraint, b0, sigma)
        a += rng.normal(0, 0.7) * (w if constraint == "normal" else 1)
        s = rng.uniform(0, 12)
        nu = profile(n, a, s, b0, w, constraint)
        ours = _nll(constraint, n, a, s, float(nu), b0, w)
        best = optimize.minimize_scalar(
            lambda x: _nll(constraint, n, a, s, x, b0, w),  # noqa: B023
            bounds=(a - 15, a + 15) if constraint == "lognormal" else (0, a + 15 * w),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert ours <= best.fun + 1e-9
        q = float(qtilde(n, a, s, b0, w, constraint))
        assert q == pytest.approx(_brute_qtilde(constraint, n, a, s, b0, w), abs=2e-6)


def test_known_background_gives_the_mid_p_poisson_formula() -> None:
    """σ_b → 0: q̃_μ falls with n, and for n = n_obs it rises with the auxiliary datum a.

    Toys that fluctuate a around the fitted background therefore count the observed count
    with weight ½ (a ≥ a_obs half the time): CLs = [P(n < n_obs) + ½P(n_obs)]_{s+b} / [...]_b.
    An empty region is the exception: q̃_μ(0, a) = 2μs for every a, so n = 0 counts fully.
    """
    n_obs, b, s = np.array([0, 2, 5, 9]), np.array([1.5, 3.0, 2.2, 6.0]), np.array([3, 4, 7, 5.0])
    model = CountingModel.build(n_obs, b, 1e-4 * b, s, constraint="normal")
    ours = cls(model, method="exact").observed
    half = np.where(n_obs > 0, 0.5, 1.0)

    def mid_p(mean: np.ndarray) -> np.ndarray:
        return stats.poisson.cdf(n_obs - 1, mean) + half * stats.poisson.pmf(n_obs, mean)

    np.testing.assert_allclose(ours, mid_p(s + b) / mid_p(b), rtol=1e-3)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_empty_region_has_cls_exp_minus_s(constraint: str) -> None:
    """n_obs = 0: q̃_μ = 2μs for n = 0 and less for n > 0, so CLs = e^{−μs}, S95 = −ln 0.05."""
    model = CountingModel.build(0, [0.3, 0.56, 1.8], [0.1, 0.27, 1.3], [1.0, 2.0, 0.5])
    model = CountingModel.build(
        model.observed,
        model.background,
        model.background_uncertainty,
        model.signal,
        constraint=constraint,
    )
    values = cls(model, mu=1.3, method="exact")
    np.testing.assert_allclose(values.observed, np.exp(-1.3 * model.signal), rtol=1e-7)
    limits = upper_limits(model, method="exact")
    np.testing.assert_allclose(limits.observed * model.signal, -np.log(0.05), rtol=2e-4)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_exact_distribution_matches_brute_force_integration(constraint: str) -> None:
    """P(q̃ ≥ x) summed over n and integrated over a dense grid of the auxiliary datum."""
    n_obs, b0, sigma, s = 3.0, 1.7, 0.8, 4.5
    model = CountingModel.build(n_obs, b0, sigma, s, constraint=constraint)
    values = cls(model, method="exact")
    a_obs, w = _inputs(constraint, b0, sigma)
    aux_width = w if constraint == "normal" else 1.0
    q_obs = float(qtilde(n_obs, a_obs, s, b0, w, constraint))
    z = np.linspace(-9, 9, 36_001)
    counts = np.arange(30.0)

    def survival(h: float) -> tuple[np.ndarray, np.ndarray]:
        nu = float(profile(n_obs, a_obs, h * s, b0, w, constraint))
        b = b0 * np.exp(nu * w) if constraint == "lognormal" else max(nu, 0.0)
        q = qtilde(counts[:, None], nu + aux_width * z[None, :], s, b0, w, constraint)
        weights = stats.poisson.pmf(counts, h * s + b)[:, None] * stats.norm.pdf(z) * (z[1] - z[0])
        return q.ravel(), weights.ravel()

    (q_sb, w_sb), (q_b, w_b) = survival(1.0), survival(0.0)
    clsb = w_sb[q_sb >= q_obs * (1 - 1e-9)].sum()
    clb = w_b[q_b >= q_obs * (1 - 1e-9)].sum()
    assert values.clsb[0] == pytest.approx(clsb, rel=1e-3)
    assert values.clb[0] == pytest.approx(clb, rel=1e-3)
    assert values.observed[0] == pytest.approx(clsb / clb, rel=1e-3)
    # expected band: CLs at the b-only quantiles of q̃_μ
    order = np.argsort(-q_b)
    tail = np.cumsum(w_b[order])
    for k, p in enumerate(_BAND_P):
        x = q_b[order][np.searchsorted(tail, p)]
        expected = w_sb[q_sb >= x * (1 - 1e-9)].sum() / w_b[q_b >= x * (1 - 1e-9)].sum()
        assert values.expected[0, k] == pytest.approx(expected, rel=5e-3)


def test_toys_agree_with_the_exact_distribution() -> None:
    model = CountingModel.build([1, 4, 9], [1.2, 6.0, 4.0], [0.6, 2.2, 1.5], [3.0, 5.0, 8.0])
    exact = cls(model, method="exact")
    toys = cls(model, method="toys", n_toys=40_000, seed=3)
    np.testing.assert_allclose(toys.observed, exact.observed, atol=0.02)
    np.testing.assert_allclose(toys.expected, exact.expected, atol=0.03)
    again = cls(model, method="toys", n_toys=40_000, seed=3)
    np.testing.assert_array_equal(again.observed, toys.observed)  # seeded: reproducible


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_asymptotic_cls_equals_pyhf(constraint: str) -> None:
    import pyhf

    n_obs, b0, sigma, s = 17, 12.0, 3.0, 6.0
    if constraint == "normal":
        modifier = {"type": "histosys", "data": {"hi_data": [b0 + sigma], "lo_data": [b0 - sigma]}}
    else:
        kappa = 1 + sigma / b0
        modifier = {"type": "normsys", "data": {"hi": kappa, "lo": 1 / kappa}}
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": [s],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "bkg", "data": [b0], "modifiers": [{"name": "unc", **modifier}]},
                ],
            }
        ]
    }
    with warnings.catch_warnings():  # pyhf's schema validation uses a deprecated jsonschema API
        warnings.filterwarnings("ignore", "jsonschema.RefResolver", DeprecationWarning)
        model = pyhf.Model(
            spec,
            poi_name="mu",
            modifier_settings={
                "normsys": {"interpcode": "code1"},
                "histosys": {"interpcode": "code0"},
            },
        )
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 50.0)
    data = [n_obs, *model.config.auxdata]
    ours = cls(
        CountingModel.build(n_obs, b0, sigma, s, constraint=constraint), mu=1.4, method="asymptotic"
    )
    observed, expected = pyhf.infer.hypotest(
        1.4, data, model, par_bounds=bounds, test_stat="qtilde", return_expected_set=True
    )
    assert ours.observed[0] == pytest.approx(float(observed), rel=1e-4)
    np.testing.assert_allclose(ours.expected[0], np.ravel(expected), rtol=1e-4)


LIMIT_MODEL = {
    "observed": [0, 3, 12, 30],
    "background": [0.8, 1.3, 9.0, 33.0],
    "background_uncertainty": [0.3, 0.6, 3.0, 9.0],
    "signal": [1.0, 2.5, 4.0, 10.0],
    "signal_uncertainty": [0, 0.2, 0.5, 1.0],
}


@pytest.mark.parametrize("method", ["asymptotic", "exact"])
def test_upper_limit_sits_where_cls_crosses_alpha(method: str) -> None:
    model = CountingModel.build(**LIMIT_MODEL)
    limits = upper_limits(model, method=method)
    at_limit = cls(model, mu=limits.observed, method=method)
    np.testing.assert_allclose(at_limit.observed, 0.05, rtol=1e-3)
    for k in range(5):
        band = cls(model, mu=limits.expected[:, k], method=method)
        np.testing.assert_allclose(band.expected[:, k], 0.05, rtol=1e-3)
        below = cls(model, mu=limits.expected[:, k] * 0.98, method=method)
        assert (below.expected[:, k] > 0.05).all()
    assert (np.diff(limits.expected, axis=1) >= -1e-6 * limits.expected[:, 1:]).all()


@pytest.mark.slow
def test_toy_limits_agree_with_exact_limits() -> None:
    model = CountingModel.build(**LIMIT_MODEL)
    exact = upper_limits(model, method="exact")
    toys = upper_limits(model, method="toys", n_toys=20_000, seed=5)
    np.testing.assert_allclose(toys.observed, exact.observed, rtol=0.03)
    np.testing.assert_allclose(toys.expected[:, 1:4], exact.expected[:, 1:4], rtol=0.04)


def test_no_signal_is_never_excluded_and_never_nan() -> None:
    model = CountingModel.build([2, 0], [1.0, 0.5], [0.5, 0.2], [0.0, 0.0])
    values = cls(model)
    assert (values.observed == 1).all() and (values.expected == 1).all()
    limits = upper_limits(model)
    assert np.isinf(limits.observed).all() and not np.isnan(limits.expected).any()


def test_auto_uses_asymptotics_only_for_large_counts() -> None:
    limits = s95([0, 3, 400], [0.5, 1.0, 390.0], [0.2, 0.4, 20.0])
    assert limits.method.tolist() == ["exact", "exact", "asymptotic"]
    assert limits.observed[0] == pytest.approx(2.996, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observed": -1}, "observed"),
        ({"background": float("nan")}, "background"),
        ({"background_uncertainty": -0.1}, "background_uncertainty"),
    ],
)
def test_bad_numbers_are_refused(kwargs: dict[str, float], message: str) -> None:
    values = {"observed": 3, "background": 1.0, "background_uncertainty": 0.5, **kwargs}
    with pytest.raises(UsageError, match=message):
        CountingModel.build(**values)


def test_unknown_method_and_constraint_are_refused() -> None:
    model = CountingModel.build(1, 1.0, 0.5)
    with pytest.raises(UsageError, match="method 'bayes'"):
        cls(model, method="bayes")
    with pytest.raises(UsageError, match="constraint 'gamma'"):
        CountingModel.build(1, 1.0, 0.5, constraint="gamma")


@pytest.mark.parametrize("background", [100.0, 500.0, 990.0])
def test_an_empty_region_excludes_three_events_even_far_below_its_background(
    background: float,
) -> None:
    """CLs = e^{−s} for n = 0 whatever the background (see docs/limits.md). The p-values of
    such a deficit (e^{−990} at b = 990) underflow under both hypotheses, and the count 0
    lay outside the tabulated window: the exact S95 came out infinite (b = 100, σ = 0) or
    5e-7 (b = 1000, σ = 1). Both tails are now summed in logarithms."""
    for sigma in (0.0, 1.0):
        model = CountingModel.build(0, background, sigma)
        limits = upper_limits(model, method="exact")
        assert limits.calculator[0] == "exact"
        assert limits.observed[0] == pytest.approx(-np.log(0.05), rel=1e-3)
        assert cls(model, 3.0, method="exact").observed[0] == pytest.approx(np.exp(-3.0), rel=2e-3)
