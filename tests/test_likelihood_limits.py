"""Limits of a results document, likelihood files, scans with Dask, tables and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from recast.errors import InvalidDocumentError
from recast.likelihood.demo import gluino_grid
from recast.likelihood.limits import compute_limits
from recast.likelihood.scan import load_grid
from recast.likelihood.simplified import Region
from recast.likelihood.spec import likelihood_from_document, load_likelihood
from recast.pipeline.limits import limits_for_results
from recast.pipeline.scan import scan
from recast.report.limits_table import limits_tables, s95_table, scan_table, workspace_table

from .documents import results_document
from .test_likelihood_workspace import small_workspace

REGIONS = {
    "SR-A": {"observed": 0, "background": 0.6, "background_uncertainty": 0.3},
    "SR-B": {"observed": 3, "background": 1.3, "background_uncertainty": 0.6},
    "SR-C": {"observed": 18, "background": 13.0, "background_uncertainty": 4.0},
}


def likelihood_file(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "likelihood.json"
    path.write_text(json.dumps({"likelihood": {"regions": REGIONS, **extra}}))
    return path


def test_limits_of_a_results_file(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(
        json.dumps(results_document({"SR-A": 4.0, "SR-B": 2.0, "SR-C": -0.5}))
    )
    document = limits_for_results(
        tmp_path / "results.json",
        likelihood=likelihood_file(tmp_path, combine=[["SR-A", "SR-C"]]),
        output=tmp_path / "out.json",
    )
    limits = document["limits"]
    assert json.loads((tmp_path / "out.json").read_text()) == document
    assert limits["best_expected_region"] == "SR-A"
    region = limits["regions"]["SR-A"]
    assert region["method"] == "exact" and region["excluded"] is True
    # an empty region: CLs = exp(−s) whatever the background, the limit on μ is −ln(0.05)/s
    assert region["cls"]["observed"] == pytest.approx(np.exp(-4.0), rel=0.05)
    assert limits["regions"]["SR-C"]["status"] == "no signal"
    assert limits["regions"]["SR-C"]["mu_upper"]["observed"] is None  # never a NaN
    assert any("SR-C" in w and "negative" in w for w in limits["warnings"])
    # few events: the combination is reported, but the verdict rests on the exact region
    assert limits["combined"][0]["status"] == "ok" and "note" in limits["combined"][0]
    assert limits["verdict"]["source"] == "region SR-A"
    json.dumps(document, allow_nan=False)  # raises on a NaN or an infinity
    width = Console(width=200, record=True)
    for table in limits_tables(limits):
        width.print(table)
    text = width.export_text()
    assert "SR-A ★" in text and "nan" not in text.lower()


def test_negative_signal_is_an_error_by_flag(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(
        json.dumps(results_document({"SR-A": 4.0, "SR-B": 2.0, "SR-C": -0.5}))
    )
    from recast.likelihood.errors import NegativeSignalError

    with pytest.raises(NegativeSignalError, match=r"results\.json: region SR-C"):
        limits_for_results(
            tmp_path / "results.json", likelihood=likelihood_file(tmp_path), negative="error"
        )


def _with_workspace(tmp_path: Path, regions: dict[str, Any]) -> Any:
    """A likelihood of ``regions`` and the small workspace holding SR-A and SR-B."""
    (tmp_path / "bkg.json").write_text(json.dumps(small_workspace()))
    return likelihood_from_document(
        {
            "regions": regions,
            "workspace": {
                "path": "bkg.json",
                "map": {
                    "SR-A": {"channel": "SR_A", "bin": 0},
                    "SR-B": {"channel": "SR_B", "bin": 0},
                },
            },
        },
        tmp_path,
        "analysis.json",
    )


def test_workspace_in_the_likelihood_takes_the_verdict(tmp_path: Path) -> None:
    """When it is the most sensitive (here: the signal lives in the regions it holds)."""
    spec = _with_workspace(tmp_path, {"SR-C": REGIONS["SR-C"]})
    limits = compute_limits(spec, {"SR-A": 4.0, "SR-B": 2.0, "SR-C": 1.0}, with_limits=False)
    assert limits["workspace"]["status"] == "ok" and limits["verdict"]["source"] == "workspace"
    Console(width=200).print(
        workspace_table(
            {
                "workspace": "w",
                "patch_file": "p",
                "patches": [{"patch": "x", **limits["workspace"]}],
            }
        )
    )


def test_bad_likelihood_documents(tmp_path: Path) -> None:
    from recast.errors import ArtefactNotFoundError

    with pytest.raises(ArtefactNotFoundError, match=r"likelihood\.workspace\.path 'missing\.json'"):
        likelihood_from_document(
            {"regions": REGIONS, "workspace": {"path": "missing.json"}}, tmp_path, "analysis.json"
        )
    with pytest.raises(InvalidDocumentError) as info:
        likelihood_from_document(
            {
                "regions": REGIONS,
                "combine": [["SR-A", "SR-X"]],
                "constraint": "gamma",
                "signal_uncertainty": -1,
            },
            tmp_path,
            "analysis.json",
        )
    message = str(info.value)
    for part in (
        "likelihood.combine[0]: unknown region(s) ['SR-X']",
        "likelihood.constraint",
        "likelihood.signal_uncertainty",
    ):
        assert part in message
    (tmp_path / "table.json").write_text(
        json.dumps(
            {
                "signal_regions": [
                    {"name": "A", "observed": 1, "background": 1.0, "background_uncertainty": 0.5}
                ]
            }
        )
    )
    assert load_likelihood(tmp_path / "table.json").regions == [Region("A", 1, 1.0, 0.5)]


def test_bad_grid_reports_every_problem(tmp_path: Path) -> None:
    (tmp_path / "grid.json").write_text(
        json.dumps(
            {
                "parameters": ["m"],
                "points": [{"m": 1, "yields": {"A": "x"}}, {"yields": {"A": 1}}, {"m": 3}],
            }
        )
    )
    with pytest.raises(InvalidDocumentError) as info:
        load_grid(tmp_path / "grid.json")
    message = str(info.value)
    for part in ("points[0].yields.A.value", "points[1].m: missing", "points[2]: needs"):
        assert part in message


@pytest.fixture()
def toy_scan(tmp_path: Path) -> tuple[Path, Path]:
    regions = [Region(name, **values) for name, values in REGIONS.items()]
    grid = gluino_grid(regions, [1700, 1900, 2100, 2300, 2500], [0, 600, 1200])
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    return likelihood_file(tmp_path), tmp_path / "grid.json"


def test_scan_in_process_and_on_dask_workers_agree(
    toy_scan: tuple[Path, Path], tmp_path: Path
) -> None:
    from dask.distributed import Client

    likelihood, grid = toy_scan
    serial = scan(likelihood, grid, output=tmp_path / "scan.json", plot=tmp_path / "scan.png")
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as c:
        parallel = scan(likelihood, grid, client=c, chunk_size=2)
    assert serial["points"] == parallel["points"]
    excluded = {(p["parameters"]["m_gluino"], p["excluded"]) for p in serial["points"]}
    assert (1700.0, True) in excluded and (2500.0, False) in excluded
    assert (tmp_path / "scan.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "scan.json").read_text())["excluded"] == serial["excluded"]
    console = Console(width=200, record=True)
    console.print(scan_table(serial))
    assert "nan" not in console.export_text().lower()


@pytest.mark.slow
def test_scan_on_a_local_cluster_of_processes(toy_scan: tuple[Path, Path]) -> None:
    likelihood, grid = toy_scan
    assert scan(likelihood, grid, workers=2)["points"] == scan(likelihood, grid)["points"]


def test_s95_table_prints_published_numbers_beside_ours(tmp_path: Path) -> None:
    from recast.likelihood.limits import limits_for_regions

    table = {
        "signal_regions": [
            {
                "name": "A",
                "observed": 0,
                "background": 0.5,
                "background_uncertainty": 0.2,
                "s95_observed": 3.01,
                "s95_expected": 2.9,
            }
        ]
    }
    (tmp_path / "regions.json").write_text(json.dumps(table))
    document = limits_for_regions(tmp_path / "regions.json", output=tmp_path / "s95.json")
    assert document["s95"][0]["published"] == {"observed": 3.01, "expected": 2.9}
    assert json.loads((tmp_path / "s95.json").read_text()) == document
    console = Console(width=200, record=True)
    console.print(s95_table(document))
    text = console.export_text()
    assert "3.01" in text and "2.9" in text and "nan" not in text


def test_combination_equals_pyhf_on_the_same_model() -> None:
    """Independent regions fitted together: closed-form profiles against pyhf's minimiser."""
    from recast.likelihood.combination import combined_cls, combined_upper_limits
    from recast.likelihood.counting import CountingModel
    from recast.likelihood.fits import LOGNORMAL_SETTINGS, build_model, hypotest, upper_limit
    from recast.likelihood.simplified import SignalYield, combined_workspace

    regions = [Region(name, **values) for name, values in REGIONS.items()]
    yields = {"SR-A": SignalYield(1.5), "SR-B": SignalYield(2.5), "SR-C": SignalYield(4.0)}
    fitted = build_model(
        combined_workspace(regions, yields), "combination", modifier_settings=LOGNORMAL_SETTINGS
    )
    models = [
        CountingModel.build(
            r.observed, r.background, r.background_uncertainty, yields[r.name].value
        )
        for r in regions
    ]
    for mu in (0.5, 1.0, 2.0):
        reference = hypotest(fitted, mu)
        observed, expected = combined_cls(models, mu)
        assert observed[0] == pytest.approx(reference.observed, rel=1e-3)
        np.testing.assert_allclose(expected[0], reference.expected, rtol=1e-3)
    limit, band = combined_upper_limits(models)
    reference_limit, reference_band = upper_limit(fitted)
    assert limit[0] == pytest.approx(reference_limit, rel=2e-3)
    np.testing.assert_allclose(band[0], reference_band, rtol=2e-3)


def test_scan_with_a_combination_and_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "bkg.json").write_text(json.dumps(small_workspace()))
    likelihood = tmp_path / "likelihood.json"
    likelihood.write_text(
        json.dumps(
            {
                "likelihood": {
                    "regions": REGIONS,
                    "combine": [["SR-A", "SR-C"]],
                    "workspace": {
                        "path": "bkg.json",
                        "map": {"SR-A": {"channel": "SR_A", "bin": 0}},
                    },
                }
            }
        )
    )
    regions = [Region(name, **values) for name, values in REGIONS.items()]
    (tmp_path / "grid.json").write_text(json.dumps(gluino_grid(regions, [1700, 2600], [0])))
    document = scan(likelihood, tmp_path / "grid.json", with_limits=False)
    # each point's verdict is the one `recast limits` gives for its yields
    spec, points = load_likelihood(likelihood), load_grid(tmp_path / "grid.json")[1]
    for point, row in zip(points, document["points"], strict=True):
        yields = {n: {"value": y.value, "mc_uncertainty": y.mc_uncertainty}
                  for n, y in point.yields.items()}  # fmt: skip
        verdict = compute_limits(spec, yields, with_limits=False)["verdict"]
        assert (row["source"], row["excluded"]) == (verdict["source"], verdict["excluded"])
    assert [p["excluded"] for p in document["points"]] == [True, False]
    # a combination of regions with many events takes the verdict; with few it would not
    many = {
        "SR-D": {"observed": 120, "background": 110.0, "background_uncertainty": 15.0},
        "SR-E": {"observed": 95, "background": 100.0, "background_uncertainty": 12.0},
    }
    likelihood.write_text(
        json.dumps({"likelihood": {"regions": many, "combine": [["SR-D", "SR-E"]]}})
    )
    grid = {
        "parameters": ["m"],
        "points": [
            {"m": 1.0, "yields": {"SR-D": 60.0, "SR-E": 50.0}},
            {"m": 2.0, "yields": {"SR-D": 1.0, "SR-E": 1.0}},
        ],
    }
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    document = scan(likelihood, tmp_path / "grid.json")
    assert document["points"][0]["source"] == "combination SR-D+SR-E"
    assert document["points"][0]["excluded"] and not document["points"][1]["excluded"]
    assert document["points"][0]["mu_upper"]["observed"] < 1
    likelihood.write_text(
        json.dumps({"likelihood": {"regions": REGIONS, "combine": [["SR-A", "SR-C"]]}})
    )
    regions = [Region(name, **values) for name, values in REGIONS.items()]
    (tmp_path / "grid.json").write_text(json.dumps(gluino_grid(regions, [1700], [0])))
    document = scan(likelihood, tmp_path / "grid.json", with_limits=False)
    assert document["points"][0]["source"].startswith("region ")


def test_the_verdict_is_the_most_sensitive_expected_result(tmp_path: Path) -> None:
    """A workspace holding only SR-A and SR-B must not judge a signal that lives in SR-C."""
    spec = _with_workspace(tmp_path, REGIONS)
    limits = compute_limits(spec, {"SR-A": 0.1, "SR-B": 0.1, "SR-C": 60.0}, with_limits=False)
    assert limits["workspace"]["status"] == "ok"
    assert limits["verdict"]["source"] == "region SR-C"
    assert limits["verdict"]["excluded"] is True
    assert limits["workspace"]["excluded"] is False


def test_a_scan_point_and_a_run_give_one_verdict_for_the_same_yields() -> None:
    """The scan once took the workspace whenever it was fitted, while `recast run` takes the
    most sensitive source by its expected result: on the flagship's likelihood at 0.27 fb the
    run said excluded (SR-NN-Gtt-2100-1, CLs 0.002) and the scan not (workspace, CLs 0.08)."""
    from recast.likelihood.scan import grid_from_document, scan_points
    from recast.parallel import Executor
    from recast.pipeline.limits import resolve_likelihood

    spec = resolve_likelihood("DEMO_MULTIB_GLUINO")
    # yields of a Gtt (2100, 1) run of 1000 events at 0.27 fb, then scaled by 0.6 and 1.5
    yields = {
        "SR-Gtt-0L": 2.54, "SR-Gtt-1L": 2.80, "SR-Gbb-0L": 2.11, "SR-4b-0L": 1.03,
        "CR-ttbar-1L": 0.03, "SR-NN-Gtt-2100-1": 5.62, "SR-NN-Gtt-2100-800": 6.19,
        "SR-NN-Gbb-2100-1": 0.77, "SR-NN-Gbb-2100-800": 0.73,
    }  # fmt: skip
    points = [
        {"k": k, "yields": {r: {"value": v * k, "mc_uncertainty": 0.05 * v * k}
                            for r, v in yields.items()}}
        for k in (0.6, 1.0, 1.5)
    ]  # fmt: skip
    names, grid = grid_from_document({"schema_version": "1.0.0", "parameters": ["k"],
                                      "points": points}, "grid")  # fmt: skip
    with Executor() as executor:
        rows = scan_points(spec, names, grid, executor)["points"]
    for point, row in zip(points, rows, strict=True):
        run = compute_limits(spec, point["yields"])["verdict"]
        assert row["source"] == run["source"]
        assert row["excluded"] == run["excluded"]
        assert row["cls"]["observed"] == pytest.approx(run["cls"]["observed"], rel=1e-6)
    assert [r["excluded"] for r in rows] == [False, True, True]
