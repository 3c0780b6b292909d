"""recast.likelihood.histfactory: expected rates, −2 ln L and its gradient against pyhf.

The rates and logpdf must equal pyhf's (1e-10 relative) on a small workspace with every
modifier type, on the flagship bundle's workspace with a signal (staterror included) and on the
published ATLAS-SUSY-2019-09 workspace; the gradient must equal finite differences, and the
Gauss–Newton matrix the Hessian where the data are the model's expectation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pytest

from recast.likelihood.asymptotics import Asymptotics, describe
from recast.likelihood.fits import PyhfModel, build_model
from recast.likelihood.histfactory import HistFactoryLikelihood
from recast.likelihood.limits import patched_workspace_model
from recast.likelihood.workspace import apply_patch
from tests.test_fullfit import (
    WORKSPACE_2019_09,
    flagship_spec,
    flagship_yields,
    signal_patch_2019_09,
)


def every_modifier_workspace() -> dict[str, Any]:
    """Two channels; normfactor, lumi, normsys, histosys, staterror, shapesys (one bin without
    uncertainty: a fixed γ) and shapefactor; modifiers shared by both channels, and a
    parameter shared by a histosys and a normsys."""
    signal = {
        "name": "signal",
        "data": [1.0, 4.0, 2.0],
        "modifiers": [
            {"name": "mu", "type": "normfactor", "data": None},
            {"name": "sig_norm", "type": "normsys", "data": {"hi": 1.08, "lo": 0.95}},
            {"name": "staterror_SR", "type": "staterror", "data": [0.2, 0.4, 0.3]},
            {"name": "lumi", "type": "lumi", "data": None},
        ],
    }
    background = {
        "name": "background",
        "data": [20.0, 12.0, 5.0],
        "modifiers": [
            {"name": "lumi", "type": "lumi", "data": None},
            {"name": "jes", "type": "normsys", "data": {"hi": 1.12, "lo": 0.85}},
            {
                "name": "shape",
                "type": "histosys",
                "data": {"hi_data": [22.0, 12.5, 4.0], "lo_data": [19.0, 11.0, 5.5]},
            },
            {"name": "staterror_SR", "type": "staterror", "data": [1.0, 0.8, 0.6]},
            {"name": "bkg_shape", "type": "shapesys", "data": [2.0, 0.0, 1.0]},
        ],
    }
    control = {
        "name": "background",
        "data": [300.0, 150.0],
        "modifiers": [
            {"name": "lumi", "type": "lumi", "data": None},
            {"name": "mu_bkg", "type": "normfactor", "data": None},
            {"name": "jes", "type": "normsys", "data": {"hi": 1.04, "lo": 0.97}},
            {
                "name": "shape",
                "type": "histosys",
                "data": {"hi_data": [310.0, 148.0], "lo_data": [292.0, 151.0]},
            },
            {"name": "staterror_CR", "type": "staterror", "data": [5.0, 4.0]},
            {"name": "tf", "type": "shapefactor", "data": None},
        ],
    }
    fakes = {
        "name": "fakes",
        "data": [30.0, 10.0],
        "modifiers": [
            {"name": "fake_norm", "type": "normsys", "data": {"hi": 1.3, "lo": 0.6}},
            # the histosys's parameter, as HistFitter splits a systematic into both
            {"name": "shape", "type": "normsys", "data": {"hi": 1.1, "lo": 0.95}},
        ],
    }
    lumi = {"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.8, 1.2]],
            "inits": [1.0]}  # fmt: skip
    return {
        "channels": [
            {"name": "SR", "samples": [signal, background]},
            {"name": "CR", "samples": [control, fakes]},
        ],
        "observations": [{"name": "SR", "data": [25, 18, 6]}, {"name": "CR", "data": [340, 160]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [lumi]}}],
        "version": "1.0.0",
    }


def points(fitted: PyhfModel, count: int, seed: int = 4) -> list[np.ndarray]:
    """Parameter points across the box: interpolated nuisances on both sides of ±1 (both
    branches of codes 4 and 4p), factors around 1, μ = 0 among them."""
    config = fitted.model.config
    init = np.asarray(config.suggested_init(), dtype=float)
    bounds = np.asarray(config.suggested_bounds(), dtype=float)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        pars = np.where(
            init == 0.0, rng.uniform(-2.5, 2.5, len(init)), init * rng.uniform(0.7, 1.3, len(init))
        )
        pars[config.poi_index] = 0.0 if k == 0 else rng.uniform(0.0, 3.0)
        out.append(np.clip(pars, bounds[:, 0], bounds[:, 1]))
    return out


def assert_equals_pyhf(fitted: PyhfModel, count: int = 5) -> HistFactoryLikelihood:
    model = fitted.model
    data = np.asarray(fitted.data, dtype=float)
    exact = HistFactoryLikelihood.from_model(model, data)
    assert exact is not None
    for pars in points(fitted, count):
        np.testing.assert_allclose(
            exact.expected_data(pars), model.expected_data(pars), rtol=1e-12, atol=0.0
        )
        reference = -2.0 * float(model.logpdf(pars, data)[0])
        assert exact.twice_nll(pars, data) == pytest.approx(reference, rel=1e-10, abs=0.0)
    return exact


@pytest.fixture(scope="module")
def every_modifier() -> PyhfModel:
    return build_model(every_modifier_workspace(), "every modifier")


def test_every_modifier_type_equals_pyhf(every_modifier: PyhfModel) -> None:
    exact = assert_equals_pyhf(every_modifier, 12)
    config = every_modifier.model.config
    assert {kind for _, kind in config.modifiers} == {
        "normfactor", "lumi", "normsys", "histosys", "staterror", "shapesys", "shapefactor"
    }  # fmt: skip
    assert exact.pois_par.size and exact.gauss_par.size  # both kinds of constraint


def test_gradient_equals_finite_differences(every_modifier: PyhfModel) -> None:
    data = np.asarray(every_modifier.data, dtype=float)
    exact = HistFactoryLikelihood.from_model(every_modifier.model, data)
    assert exact is not None
    for pars in points(every_modifier, 6, seed=8):  # the first has μ = 0: a zero factor
        value, gradient = exact.value_and_gradient(pars, data)
        assert value == exact.twice_nll(pars, data)
        for i in range(len(pars)):
            h = 1e-6 * max(1.0, abs(pars[i]))
            up, down = pars.copy(), pars.copy()
            up[i] += h
            down[i] -= h
            numeric = (exact.twice_nll(up, data) - exact.twice_nll(down, data)) / (2 * h)
            assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-5), i
        _, jacobian = exact.jacobian(pars)
        for i in range(len(pars)):
            h = 1e-6 * max(1.0, abs(pars[i]))
            up, down = pars.copy(), pars.copy()
            up[i] += h
            down[i] -= h
            numeric = (exact.expected_main(up) - exact.expected_main(down)) / (2 * h)
            np.testing.assert_allclose(jacobian[:, i], numeric, rtol=1e-5, atol=1e-6)


def test_gauss_newton_is_the_hessian_on_the_expected_data(every_modifier: PyhfModel) -> None:
    """Where the data are the expectation, the rates' curvature drops out of the Hessian:
    the Gauss–Newton matrix is exact (within finite differences of the exact gradient)."""
    data = np.asarray(every_modifier.data, dtype=float)
    exact = HistFactoryLikelihood.from_model(every_modifier.model, data)
    assert exact is not None
    pars = points(every_modifier, 2, seed=3)[1]
    asimov = exact.expected_data(pars)
    matrix = exact.gauss_newton(pars, asimov)
    numeric = np.empty_like(matrix)
    for i in range(len(pars)):
        h = 1e-5 * max(1.0, abs(pars[i]))
        up, down = pars.copy(), pars.copy()
        up[i] += h
        down[i] -= h
        numeric[:, i] = (
            exact.value_and_gradient(up, asimov)[1] - exact.value_and_gradient(down, asimov)[1]
        ) / (2 * h)
    np.testing.assert_allclose(matrix, matrix.T, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(matrix, numeric, rtol=1e-4, atol=1e-4 * np.abs(matrix).max())


def test_flagship_workspace_equals_pyhf() -> None:
    for scale in (1.0, 0.2):
        assert_equals_pyhf(patched_workspace_model(flagship_spec(), flagship_yields(scale)))


def test_2019_09_workspace_equals_pyhf() -> None:
    if not WORKSPACE_2019_09.is_file():
        pytest.skip(f"the published ATLAS-SUSY-2019-09 workspace is not at {WORKSPACE_2019_09}")
    background = json.loads(WORKSPACE_2019_09.read_text())
    spec = apply_patch(background, signal_patch_2019_09(background, 1.0), "patch")
    assert_equals_pyhf(build_model(spec, "ATLAS-SUSY-2019-09"))


def test_swapped_signal_rates_are_read_from_the_model() -> None:
    """A ModelCache swap changes pyhf's nominal rates, not the spec: the rates follow."""
    from recast.likelihood.reuse import ModelCache
    from recast.likelihood.synthetic import synthetic_patch, synthetic_workspace

    background = synthetic_workspace(bins=4)
    cache = ModelCache()
    for scale in (1.0, 3.0):
        spec = apply_patch(background, synthetic_patch(scale, bins=4), "patch")
        assert_equals_pyhf(cache.model(spec, "patch"), 2)
    assert cache.swapped == 1


def test_other_interpolation_codes_fall_back_to_pyhf(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Codes 1 and 0 are not written here: the engine keeps pyhf's logpdf (and the same CLs)."""
    spec = every_modifier_workspace()
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    fitted = build_model(spec, "codes 1 and 0", modifier_settings=settings)
    with caplog.at_level(logging.INFO, logger="recast.likelihood.histfactory"):
        assert HistFactoryLikelihood.from_model(fitted.model, fitted.data) is None
    assert "interpolation code1" in caplog.text
    engine = Asymptotics(fitted)
    observed, _ = engine.cls(1.0)
    assert not describe(engine)["exact_gradients"] and 0.0 < observed < 1.0


def test_exact_and_numerical_fits_give_the_same_cls(
    every_modifier: PyhfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = Asymptotics(every_modifier)
    assert fast.exact is not None
    # pyhf's logpdf with finite differences, as before
    monkeypatch.setattr(HistFactoryLikelihood, "from_model", classmethod(lambda *_: None))
    slow = Asymptotics(every_modifier)
    assert slow.exact is None
    np.testing.assert_allclose(
        np.concatenate([[fast.cls(1.0)[0]], fast.cls(1.0)[1]]),
        np.concatenate([[slow.cls(1.0)[0]], slow.cls(1.0)[1]]),
        rtol=1e-5,
    )
    assert describe(fast)["logpdf_calls"] == 0
