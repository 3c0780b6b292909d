"""Full likelihoods: signal patches, patchsets, region maps, pyhf fits that retry, clear errors."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recast.errors import InvalidDocumentError
from recast.likelihood import fits
from recast.likelihood.errors import (
    BinCountError,
    FitFailedError,
    PatchError,
    RegionMismatchError,
    UnknownPOIError,
)
from recast.likelihood.fits import build_model, hypotest, upper_limit
from recast.likelihood.limits import limits_for_workspace
from recast.likelihood.simplified import SignalYield
from recast.likelihood.workspace import (
    apply_patch,
    load_workspace,
    patches_from_document,
    signal_patch,
)


def _pyhf() -> Any:
    import pyhf

    return pyhf


def small_workspace() -> dict[str, Any]:
    """Two signal regions and a control region, one correlated background uncertainty."""
    channels, observations = [], []
    for name, bkg, observed in (
        ("SR_A", [2.0, 1.0], [3, 1]),
        ("SR_B", [5.0], [4]),
        ("CR", [100.0], [104]),
    ):
        channels.append(
            {
                "name": name,
                "samples": [
                    {
                        "name": "bkg",
                        "data": bkg,
                        "modifiers": [
                            {"name": "bkg_norm", "type": "normfactor", "data": None},
                            {
                                "name": "syst",
                                "type": "histosys",
                                "data": {
                                    "hi_data": [1.2 * b for b in bkg],
                                    "lo_data": [0.8 * b for b in bkg],
                                },
                            },
                        ],
                    }
                ],
            }
        )
        observations.append({"name": name, "data": observed})
    return {
        "channels": channels,
        "observations": observations,
        "measurements": [{"name": "meas", "config": {"poi": "mu_SIG", "parameters": []}}],
        "version": "1.0.0",
    }


YIELDS = {"A1": SignalYield(3.0, 0.5), "A2": SignalYield(1.5, 0.3), "B": SignalYield(2.0, 0.4)}
MAP = {
    "A1": {"channel": "SR_A", "bin": 0},
    "A2": {"channel": "SR_A", "bin": 1},
    "B": {"channel": "SR_B", "bin": 0},
}


def test_signal_patch_follows_pyhf_conventions() -> None:
    operations = signal_patch(small_workspace(), YIELDS, MAP, poi="mu_SIG")
    assert [op["path"] for op in operations] == ["/channels/0/samples/-", "/channels/1/samples/-"]
    sample = operations[0]["value"]
    assert sample["data"] == [3.0, 1.5]
    assert {"name": "mu_SIG", "type": "normfactor", "data": None} in sample["modifiers"]
    assert {"name": "staterror_SR_A", "type": "staterror", "data": [0.5, 0.3]} in sample[
        "modifiers"
    ]


def _signal_sample(
    name: str, data: list[float], channel: str, uncertainty: list[float]
) -> dict[str, Any]:
    """A signal sample written by hand the way a patch writes it: μ and its MC staterror."""
    return {
        "name": name,
        "data": data,
        "modifiers": [
            {"name": "mu_SIG", "type": "normfactor", "data": None},
            {"name": f"staterror_{channel}", "type": "staterror", "data": uncertainty},
        ],
    }


def _assert_cls_of_pyhf(ours: Any, pyhf: Any, spec: dict[str, Any]) -> None:
    """Our CLs at μ = 1 (observed and expected band) equal pyhf's on ``spec``, μ in [0, 20]."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "jsonschema.RefResolver", DeprecationWarning)
        workspace = pyhf.Workspace(spec)
        model = workspace.model()
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0, 20)
    observed, expected = pyhf.infer.hypotest(
        1.0, workspace.data(model), model, par_bounds=bounds, return_expected_set=True
    )
    assert ours.observed == pytest.approx(float(observed), rel=1e-6)
    np.testing.assert_allclose(ours.expected, np.ravel(expected), rtol=1e-6)


def test_patched_workspace_gives_the_cls_of_pyhf_directly() -> None:
    pyhf = _pyhf()
    spec = apply_patch(
        small_workspace(), signal_patch(small_workspace(), YIELDS, MAP, poi="mu_SIG"), "patch"
    )
    ours = hypotest(build_model(spec, "ws"), 1.0)
    by_hand = small_workspace()
    by_hand["channels"][0]["samples"].append(_signal_sample("s", [3.0, 1.5], "SR_A", [0.5, 0.3]))
    by_hand["channels"][1]["samples"].append(_signal_sample("s", [2.0], "SR_B", [0.4]))
    _assert_cls_of_pyhf(ours, pyhf, by_hand)


@pytest.mark.shared_data
def test_atlas_susy_2019_09_patched_equals_pyhf_directly(shared_data: Path) -> None:
    pyhf = _pyhf()
    path = shared_data / "pyhf" / "atlas_susy_2019_09" / "bkg_offshell_simplified.json"
    background = load_workspace(path)
    yields = {
        "SRhigh_0Jb": SignalYield(3.0, 0.4),
        "SRhigh_0Jc": SignalYield(2.0, 0.3),
        "SRlow_0Jb": SignalYield(1.0, 0.2),
    }
    region_map = {name: {"channel": f"{name}_cuts", "bin": 0} for name in yields}
    patch = signal_patch(background, yields, region_map, poi="mu_SIG")
    fitted = build_model(apply_patch(background, patch, "patch"), str(path))
    ours = hypotest(fitted, 1.0)
    by_hand = json.loads(path.read_text())
    for name, signal in yields.items():
        channel = next(c for c in by_hand["channels"] if c["name"] == f"{name}_cuts")
        sample = _signal_sample("sig", [signal.value], f"{name}_cuts", [signal.mc_uncertainty])
        channel["samples"].append(sample)
    _assert_cls_of_pyhf(ours, pyhf, by_hand)
    assert ours.observed < 0.05 < ours.expected[2]  # excluded, though not expected to be
    observed_limit, expected_limits = upper_limit(fitted)
    assert hypotest(fitted, observed_limit).observed == pytest.approx(0.05, rel=5e-3)
    assert expected_limits[0] < expected_limits[2] < expected_limits[4]


def test_limit_above_pyhfs_default_bound_of_10_is_found() -> None:
    """A small signal: the limit on μ is near 40, far above pyhf's default bound (0, 10)."""
    tiny = {"A1": SignalYield(0.1), "A2": SignalYield(0.05), "B": SignalYield(0.08)}
    spec = apply_patch(
        small_workspace(), signal_patch(small_workspace(), tiny, MAP, poi="mu_SIG"), "patch"
    )
    fitted = build_model(spec, "ws")
    observed, expected = upper_limit(fitted)
    assert observed > 20 and all(np.isfinite(expected))
    assert hypotest(fitted, observed).observed == pytest.approx(0.05, rel=5e-3)


def test_patchset_of_two_patches(tmp_path: Path) -> None:
    background = small_workspace()
    patchset = {
        "metadata": {"description": "test"},
        "version": "1.0.0",
        "patches": [
            {
                "metadata": {"name": "big", "values": [1]},
                "patch": signal_patch(
                    background,
                    {k: SignalYield(3 * v.value) for k, v in YIELDS.items()},
                    MAP,
                    poi="mu_SIG",
                ),
            },
            {
                "metadata": {"name": "small", "values": [2]},
                "patch": signal_patch(background, YIELDS, MAP, poi="mu_SIG"),
            },
        ],
    }
    (tmp_path / "bkg.json").write_text(json.dumps(background))
    (tmp_path / "patchset.json").write_text(json.dumps(patchset))
    document = limits_for_workspace(
        tmp_path / "bkg.json",
        tmp_path / "patchset.json",
        with_limits=False,
        output=tmp_path / "out.json",
    )
    big, small = document["patches"]
    assert (big["patch"], small["patch"]) == ("big", "small")
    assert big["cls"]["observed"] < small["cls"]["observed"]
    assert "note" in big  # few events in the signal bins: asymptotics flagged
    assert json.loads((tmp_path / "out.json").read_text()) == document
    only = limits_for_workspace(
        tmp_path / "bkg.json", tmp_path / "patchset.json", patch_names=["small"], with_limits=False
    )
    assert [p["patch"] for p in only["patches"]] == ["small"]
    with pytest.raises(RegionMismatchError, match="Did you mean 'small'"):
        limits_for_workspace(
            tmp_path / "bkg.json", tmp_path / "patchset.json", patch_names=["smal"]
        )


# -- every bad input gives its clear error -----------------------------------------------------
@pytest.mark.parametrize(
    ("place", "error", "match"),
    [
        (
            {"channel": "SR_b", "bin": 0},
            RegionMismatchError,
            r"map.json: the channel of region 'B'.*'SR_b'.*Did you mean 'SR_B'",
        ),
        (
            {"channel": "SR_B", "bin": 1},
            BinCountError,
            r"map.json: region 'B' maps to bin 1 of channel 'SR_B', which has 1 bin\(s\)",
        ),
    ],
    ids=["channel-missing", "beyond-the-bins"],
)
def test_a_region_mapped_where_the_workspace_has_nothing(
    place: dict[str, Any], error: type[Exception], match: str
) -> None:
    bad = {**MAP, "B": place}
    with pytest.raises(error, match=match):
        signal_patch(small_workspace(), YIELDS, bad, poi="mu_SIG", source="map.json")


def test_patch_with_the_wrong_bin_count() -> None:
    patch = signal_patch(small_workspace(), YIELDS, MAP, poi="mu_SIG")
    patch[0]["value"]["data"] = [3.0]
    with pytest.raises(
        BinCountError,
        match=r"patch.json \(applied\): channels\[0\].samples\[1\] "
        r"\('recast_signal' in channel 'SR_A'\) has 1 bins "
        r"but the channel has 2",
    ):
        apply_patch(small_workspace(), patch, "patch.json")


def test_patch_made_for_another_workspace() -> None:
    patch = [
        {
            "op": "add",
            "path": "/channels/7/samples/0",
            "value": {"name": "s", "data": [1.0], "modifiers": []},
        }
    ]
    with pytest.raises(
        PatchError,
        match=r"patch.json: operation \[0\] \(add /channels/7/samples/0"
        r"\).*3 channels",
    ):
        apply_patch(small_workspace(), patch, "patch.json")


def test_unknown_poi() -> None:
    patch = signal_patch(small_workspace(), YIELDS, MAP, poi="mu_Sig")
    spec = apply_patch(small_workspace(), patch, "patch.json")
    with pytest.raises(
        UnknownPOIError,
        match=r"'mu_SIG' is not a normfactor.*Did you mean "
        r"'mu_Sig'",
    ):
        build_model(spec, "patch.json")
    with pytest.raises(UnknownPOIError, match="'mu'"):
        build_model(spec, "patch.json", poi="mu")


def test_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "w.json").write_text(json.dumps({"channels": [{"name": "x"}]}))
    with pytest.raises(
        InvalidDocumentError,
        match=r"(?s)w\.json: .*at channels\[0\]: 'samples' is a required property",
    ):
        load_workspace(tmp_path / "w.json")
    with pytest.raises(InvalidDocumentError, match="not a pyhf patch"):
        patches_from_document({"foo": 1}, "p.json")


# -- fits that retry, and never a NaN ----------------------------------------------------------
def test_failed_fit_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    pyhf = _pyhf()
    spec = apply_patch(
        small_workspace(), signal_patch(small_workspace(), YIELDS, MAP, poi="mu_SIG"), "patch"
    )
    fitted = build_model(spec, "ws")
    real = pyhf.infer.hypotest
    calls: list[Any] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["par_bounds"])
        if len(calls) == 1:
            raise pyhf.exceptions.FailedMinimization(type("R", (), {"message": "no"})())
        return real(*args, **kwargs)

    monkeypatch.setattr(pyhf.infer, "hypotest", flaky)
    result = hypotest(fitted, 1.0)
    assert result.attempt == 2 and np.isfinite(result.observed)
    poi = fitted.model.config.poi_index
    assert calls[0][poi][1] >= 10 and calls[1][poi][1] > calls[0][poi][1]

    def nan(*args: Any, **kwargs: Any) -> Any:
        return np.array(np.nan), [np.array(np.nan)] * 5

    monkeypatch.setattr(pyhf.infer, "hypotest", nan)
    with pytest.raises(FitFailedError, match=r"ws: the fit at mu_SIG = 1 failed.*not finite"):
        hypotest(fitted, 1.0)
    # a likelihood that cannot be computed gives no entry at all, never one with a status:
    # the reused fits (recast.likelihood.asymptotics) fail first, then pyhf's retries
    monkeypatch.setattr(fitted.model, "logpdf", lambda *args, **kwargs: np.array([np.nan]))
    with pytest.raises(FitFailedError, match="every starting point"):
        fits_entry(fitted)


def fits_entry(fitted: fits.PyhfModel) -> dict[str, Any]:
    from recast.likelihood.limits import fitted_entry

    return fitted_entry(fitted, "auto", 0.05, True)


def test_patched_spec_is_not_modified_in_place() -> None:
    background = small_workspace()
    before = copy.deepcopy(background)
    apply_patch(background, signal_patch(background, YIELDS, MAP, poi="mu_SIG"), "p")
    assert background == before


# yields of 1000 Gtt (2100, 1) events of the flagship at σ = 1 fb, L = 139 fb⁻¹
FLAGSHIP_YIELDS_1FB = {
    "SR-Gtt-0L": (12.093, 1.2965),
    "SR-Gtt-1L": (14.873, 1.4378),
    "SR-Gbb-0L": (9.73, 1.1630),
    "SR-4b-0L": (4.865, 0.8223),
    "CR-ttbar-1L": (0.139, 0.139),
    "SR-NN-Gtt-2100-1": (23.213, 1.7963),
    "SR-NN-Gtt-2100-800": (25.854, 1.8957),
    "SR-NN-Gbb-2100-1": (3.614, 0.7088),
    "SR-NN-Gbb-2100-800": (3.336, 0.6810),
}


def _flagship_limits(scale: float) -> dict[str, Any]:
    from recast.likelihood.limits import compute_limits
    from recast.pipeline.limits import resolve_likelihood

    spec = resolve_likelihood("DEMO_MULTIB_GLUINO")
    yields = {
        name: {"value": value * scale, "mc_uncertainty": error * scale}
        for name, (value, error) in FLAGSHIP_YIELDS_1FB.items()
    }
    return compute_limits(spec, yields)


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_a_strongly_excluded_point_gets_its_workspace_limit(scale: float) -> None:
    """The limit search starts at μ = 1 and walks down: a fixed bracket up to μ = 16 met an
    infeasible fit at σ ≥ 1 fb and lost the whole run."""
    workspace = _flagship_limits(scale)["workspace"]
    mu = workspace["mu_upper"]
    assert workspace["cls"]["observed"] < 1e-3
    assert 0.0 < mu["observed"] < 1.0 / scale
    assert all(0.0 < value < 1.0 / scale for value in mu["expected"].values())
    assert "limit_note" not in workspace


def test_a_weak_point_keeps_the_limits_found_when_a_high_mu_fit_fails() -> None:
    """At σ = 0.05 fb the +2σ expected CLs falls so slowly that the walk reaches μ = 1024,
    where the fit is infeasible: that member is null with a note, the others stand."""
    workspace = _flagship_limits(0.05)["workspace"]
    mu = workspace["mu_upper"]
    assert workspace["cls"]["observed"] > 0.05
    assert mu["observed"] is not None and 1.0 < mu["observed"] < 100.0
    assert mu["expected"]["median"] is not None
    if mu["expected"]["plus2"] is None:  # the fit's feasibility may differ between CPUs
        assert "plus2" in workspace["limit_note"]
        assert "failed" in workspace["limit_note"]
