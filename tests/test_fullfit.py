"""Full likelihoods: CLs from reused fits, μ95 by root finding, both against pyhf's own calls.

The references are pyhf's ``hypotest`` and ``upper_limit`` (its toms748 root finding,
``scan=None``) on the same model, with pyhf's optimizer at tolerance 1e-10: at its default
tolerance pyhf's own CLs moves by up to 2e-4 relative where CLs is below 1e-10, which is the
reference's imprecision, not ours. Tolerances: CLs 1e-4 relative, μ95 1e-3 relative.
"""

from __future__ import annotations

import copy
import json
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.likelihood.asymptotics import Asymptotics
from recast.likelihood.fits import PyhfModel, build_model
from recast.likelihood.limits import (
    compute_limits,
    limits_for_workspace,
    patched_workspace_model,
)
from recast.likelihood.simplified import SignalYield
from recast.likelihood.spec import needed_regions
from recast.likelihood.synthetic import signal_patch_2019_09
from recast.likelihood.workspace import apply_patch

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_2019_09 = (
    ROOT.parent / "shared" / "data" / "pyhf" / "atlas_susy_2019_09" / "bkg_offshell_simplified.json"
)


@pytest.fixture(scope="module")
def background_2019_09() -> dict[str, Any]:
    if not WORKSPACE_2019_09.is_file():
        pytest.skip(
            f"the published ATLAS-SUSY-2019-09 workspace is not at {WORKSPACE_2019_09} "
            "(../shared/data, see DESIGN.md)"
        )
    return dict(json.loads(WORKSPACE_2019_09.read_text()))


@pytest.fixture
def precise_pyhf() -> Iterator[Any]:
    """pyhf with its optimizer at tolerance 1e-10; the default backend restored after."""
    import pyhf

    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-10))
    try:
        yield pyhf
    finally:
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())


def pyhf_reference(pyhf: Any, fitted: PyhfModel) -> tuple[np.ndarray, np.ndarray]:
    """CLs at μ = 1 and μ95 (observed then the band) from pyhf's own calls."""
    model, data = fitted.model, fitted.data
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 100.0)  # pyhf's default (0, 10) cuts limit scans
    observed, expected = pyhf.infer.hypotest(
        1.0, data, model, par_bounds=bounds, test_stat="qtilde", return_expected_set=True
    )
    cls = np.array([float(observed), *(float(e) for e in expected)])
    limit, band = pyhf.infer.intervals.upper_limits.upper_limit(
        data, model, scan=None, level=0.05, par_bounds=bounds, rtol=1e-8
    )
    return cls, np.array([float(limit), *(float(b) for b in band)])


def ours(fitted: PyhfModel) -> tuple[np.ndarray, np.ndarray]:
    engine = Asymptotics(fitted)
    observed, expected = engine.cls(1.0)
    limit, band = engine.upper_limits(0.05)
    return np.array([observed, *expected]), np.array([limit, *band])


@pytest.mark.parametrize("scale", [4.0, 1.0, 0.06])
def test_2019_09_agrees_with_pyhf(
    background_2019_09: dict[str, Any], precise_pyhf: Any, scale: float
) -> None:
    spec = apply_patch(background_2019_09, signal_patch_2019_09(background_2019_09, scale), "patch")
    fitted = build_model(spec, "ATLAS-SUSY-2019-09")
    cls, limits = ours(fitted)
    cls_ref, limits_ref = pyhf_reference(precise_pyhf, fitted)
    np.testing.assert_allclose(cls, cls_ref, rtol=1e-4)
    np.testing.assert_allclose(limits, limits_ref, rtol=1e-3)
    assert 0.1 < limits[0] < 40.0  # the three strengths span μ95 ≈ 0.3 … 20


def flagship_spec() -> Any:
    from recast.analysis.bundle import load_bundle
    from recast.pipeline.limits import bundle_likelihood

    spec = bundle_likelihood(load_bundle("DEMO_MULTIB_GLUINO"))
    assert spec is not None and spec.workspace is not None
    return spec


def flagship_yields(scale: float) -> dict[str, SignalYield]:
    """Gtt-like yields with their MC uncertainty (a staterror in the patch)."""
    return {
        "SR-Gtt-0L": SignalYield(3.1 * scale, 0.3 * scale),
        "SR-Gtt-1L": SignalYield(2.2 * scale, 0.25 * scale),
        "CR-ttbar-1L": SignalYield(0.4 * scale, 0.1 * scale),
    }


@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_flagship_workspace_agrees_with_pyhf(precise_pyhf: Any, scale: float) -> None:
    spec = flagship_spec()
    fitted = patched_workspace_model(spec, flagship_yields(scale))
    cls, limits = ours(fitted)
    cls_ref, limits_ref = pyhf_reference(precise_pyhf, fitted)
    np.testing.assert_allclose(cls, cls_ref, rtol=1e-4)
    np.testing.assert_allclose(limits, limits_ref, rtol=1e-3)


def test_no_signal_gives_infinite_limits() -> None:
    spec = flagship_spec()
    fitted = patched_workspace_model(spec, flagship_yields(0.0))
    engine = Asymptotics(fitted)
    observed, expected = engine.cls(1.0)
    assert observed == pytest.approx(1.0) and all(e == pytest.approx(1.0) for e in expected)
    limit, band = engine.upper_limits()
    assert limit == np.inf and all(b == np.inf for b in band)


# -- CLs without μ95 ----------------------------------------------------------------------------
def test_cls_only_document_has_no_mu95_and_a_verdict() -> None:
    from recast.pipeline.outcome import Limits
    from recast.report.limits_table import limits_tables

    spec = flagship_spec()
    yields = {name: 0.5 for name in needed_regions(spec)}
    yields.update({"SR-Gtt-0L": 6.0, "SR-Gtt-1L": 4.0})
    document = compute_limits(spec, yields, with_limits=False)
    assert "mu_upper" not in document["workspace"]
    assert "mu_upper" not in document["verdict"]
    assert document["verdict"]["source"] == "workspace"
    assert isinstance(document["verdict"]["excluded"], bool)
    with_mu95 = compute_limits(spec, yields)
    assert document["verdict"]["cls"] == with_mu95["verdict"]["cls"]  # the same CLs
    assert "mu_upper" in with_mu95["verdict"]
    limits = Limits(document)
    assert limits.mu95 is None and "μ95" not in limits.verdict
    assert limits.verdict.startswith(("excluded", "not excluded"))
    assert limits_tables(document)  # the tables render with μ95 absent


def write_2019_09_patch(background: dict[str, Any], folder: Path, scale: float) -> Path:
    patch = folder / "patch.json"
    patch.write_text(json.dumps(signal_patch_2019_09(background, scale)))
    return patch


def test_cli_no_mu95_on_a_workspace(background_2019_09: dict[str, Any], tmp_path: Path) -> None:
    patch = write_2019_09_patch(background_2019_09, tmp_path, 1.0)
    out = tmp_path / "cls.json"
    args = ["limits", "--workspace", str(WORKSPACE_2019_09), "--patch", str(patch)]
    result = CliRunner().invoke(cli, [*args, "--no-mu95", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(out.read_text())["patches"]
    assert "mu_upper" not in entry and 0.0 < entry["cls"]["observed"] < 1.0
    assert entry["cls"]["observed"] == pytest.approx(0.0813, rel=1e-3)  # pyhf: 0.081301
    full = limits_for_workspace(WORKSPACE_2019_09, patch)["patches"][0]
    assert full["cls"] == entry["cls"]
    assert full["mu_upper"]["observed"] == pytest.approx(1.12185, rel=1e-3)  # pyhf: 1.121853


def test_mu95_option_where_it_means_nothing_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "regions.json"
    table.write_text(
        json.dumps([{"name": "SR", "observed": 3, "background": 2.0, "background_uncertainty": 1}])
    )
    for flag in ("--no-mu95", "--mu95"):
        result = CliRunner().invoke(cli, ["limits", "--regions", str(table), flag])
        assert result.exit_code == 2, result.output
        assert f"{flag} applies to RESULTS and --workspace" in result.output
        assert "Traceback" not in result.output
        assert result.output.count(flag) == 1  # one message, once


def test_python_api_refuses_a_non_boolean_mu95() -> None:
    import recast
    from recast.errors import UsageError

    with pytest.raises(UsageError, match=r"mu95='no'"):
        recast.limits({"analysis": "DEMO_MULTIB_GLUINO"}, mu95="no")  # type: ignore[arg-type]


# -- the worked example of docs/limits.md ---------------------------------------------------------
def test_full_likelihood_example_of_the_docs_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "docs" / "limits.md").read_text()
    section = text.split("## Full likelihoods: CLs in seconds, μ95 when asked", 1)[1]
    example = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    printed = re.findall(r"\nIt prints\n\n```\n(.*?)```", section, re.S)[0]
    script = tmp_path / "example.py"
    script.write_text(example)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out == printed


def test_patched_spec_keeps_the_background(background_2019_09: dict[str, Any]) -> None:
    before = copy.deepcopy(background_2019_09)
    apply_patch(background_2019_09, signal_patch_2019_09(background_2019_09, 1.0), "p")
    assert background_2019_09 == before


# -- one model per patch structure ---------------------------------------------------------------
def test_swapped_rates_equal_a_full_rebuild(background_2019_09: dict[str, Any]) -> None:
    from recast.likelihood.reuse import ModelCache

    cache = ModelCache()
    rng = np.random.default_rng(5)
    for scale in (1.0, 0.3, 7.0):
        spec = apply_patch(
            background_2019_09, signal_patch_2019_09(background_2019_09, scale), "patch"
        )
        swapped = cache.model(spec, "patch")
        rebuilt = build_model(spec, "patch")
        config = rebuilt.model.config
        for _ in range(3):
            pars = np.array(config.suggested_init()) + rng.normal(0, 0.3, config.npars)
            pars[config.poi_index] = abs(pars[config.poi_index])
            assert np.array_equal(
                swapped.model.expected_data(pars), rebuilt.model.expected_data(pars)
            )
            assert swapped.model.logpdf(pars, swapped.data) == rebuilt.model.logpdf(
                pars, rebuilt.data
            )
        assert swapped.low_count_bins == rebuilt.low_count_bins
        assert Asymptotics(swapped).cls(1.0) == Asymptotics(rebuilt).cls(1.0)
    assert (cache.built, cache.swapped) == (1, 2)


def test_a_signal_with_staterror_is_built_in_full() -> None:
    from recast.likelihood.reuse import ModelCache
    from recast.likelihood.workspace import signal_patch

    ws = flagship_spec().workspace
    cache = ModelCache()
    for scale in (1.0, 2.0):
        operations = signal_patch(ws.spec, flagship_yields(scale), ws.region_map, poi="mu_SIG")
        cache.model(apply_patch(ws.spec, operations, "p"), "p", poi="mu_SIG")
    assert (cache.built, cache.swapped) == (2, 0)


# -- recast scan --no-mu95 ------------------------------------------------------------------------
def test_grid_scan_without_mu95(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recast.likelihood.demo import gluino_grid
    from recast.likelihood.simplified import Region

    regions = {
        "SR-A": {"observed": 3, "background": 2.5, "background_uncertainty": 0.8},
        "SR-B": {"observed": 12, "background": 10.0, "background_uncertainty": 2.0},
    }
    grid = gluino_grid([Region(n, **v) for n, v in regions.items()], [1900, 2300], [0])
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    (tmp_path / "regions.json").write_text(json.dumps({"likelihood": {"regions": regions}}))
    monkeypatch.chdir(tmp_path)
    args = ["scan", "regions.json", "--grid", "grid.json", "-o"]
    for flag, out in (("--no-mu95", "cls.json"), ("--mu95", "full.json")):
        result = CliRunner().invoke(cli, [*args, out, flag])
        assert result.exit_code == 0, result.output
    quick, full = (
        json.loads((tmp_path / f).read_text())["points"] for f in ("cls.json", "full.json")
    )
    assert all("mu_upper" not in json.dumps(p) for p in quick)
    assert any("mu_upper" in json.dumps(p) for p in full)
    assert [p["excluded"] for p in quick] == [p["excluded"] for p in full]


def test_model_scan_limits_without_mu95() -> None:
    """The limits of a model scan's point (recast scan --points --no-mu95): CLs and the
    verdict, no μ95; with μ95 the same CLs."""
    from recast.pipeline.plane import _analysis_summary, _limits_task

    bundle = ROOT / "analyses" / "DEMO_MULTIB_GLUINO"
    yields = {
        name: {"value": 0.4, "mc_uncertainty": 0.05} for name in needed_regions(flagship_spec())
    }
    yields["SR-Gtt-0L"] = {"value": 6.0, "mc_uncertainty": 0.5}
    document = {"analysis": "DEMO_MULTIB_GLUINO", "yields": yields}
    quick, _ = _limits_task(str(bundle), document, [], mu95=False)
    full, _ = _limits_task(str(bundle), document, [], mu95=True)
    assert "mu_upper" not in quick["limits"]["verdict"] and "mu_upper" in full["limits"]["verdict"]
    assert quick["limits"]["verdict"]["cls"] == full["limits"]["verdict"]["cls"]
    summary = _analysis_summary(quick, [])
    assert summary["mu_upper"] is None and summary["cls"] == quick["limits"]["verdict"]["cls"]


# -- a likelihood of the size (94 parameters) ---------------------------------------------
#: pyhf's own numbers on recast.likelihood.synthetic's workspace with synthetic_patch(1.0),
#: computed once (pyhf 0.7.6, numpy backend, scipy optimizer at tolerance 1e-10, POI bounds
#: (0, 100)): CLs from pyhf.infer.hypotest at μ = 1; μ95 from hypotest at two μ 0.2 % apart
#: around each crossing, interpolated to CLs = 0.05 (pyhf's upper_limit takes half an hour
#: there). Observed, then the expected band from −2σ to +2σ.
SYNTHETIC_PYHF_CLS = [0.10163233597, 0.03818807671, 0.10408061562, 0.25773172615, 0.53198603572,
                      0.82616144404]  # fmt: skip
SYNTHETIC_PYHF_MU95 = [1.2524674, 0.9263228, 1.2617004, 1.7899402, 2.5666765, 3.5658260]
#: the pseudo-data those numbers belong to (numpy's default_rng streams may change)
SYNTHETIC_OBSERVED_SUMS = [136.0, 129.0, 11256.0]


def test_94_parameter_likelihood_agrees_with_pyhf() -> None:
    from recast.likelihood.synthetic import synthetic_patch, synthetic_workspace

    background = synthetic_workspace()
    sums = [sum(o["data"]) for o in background["observations"]]
    if sums != SYNTHETIC_OBSERVED_SUMS:
        pytest.skip(f"this numpy draws other pseudo-data ({sums}) than the pinned pyhf numbers")
    fitted = build_model(apply_patch(background, synthetic_patch(1.0), "patch"), "synthetic")
    assert fitted.model.config.npars == 94
    cls, limits = ours(fitted)
    np.testing.assert_allclose(cls, SYNTHETIC_PYHF_CLS, rtol=1e-4)
    np.testing.assert_allclose(limits, SYNTHETIC_PYHF_MU95, rtol=1e-3)
