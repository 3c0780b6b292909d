"""Full likelihoods: CLs and μ95 from reused fits, next to pyhf's own calls in the same run.

On the published ATLAS-SUSY-2019-09 workspace (../shared/data) with a signal patch in five
signal regions, prints medians and ratios to the floor, pyhf's own call on the same model:

* CLs observed + expected band at μ = 1 (target ≤ 5 s) against ``pyhf.infer.hypotest``;
* μ95 observed + expected band (target ≤ 15 s) against ``pyhf.infer.intervals.upper_limit``
  in its root-finding form (``scan=None``, toms748), and recast's former pyhf-based search;
* a 100-point scan (100 patches of varying signal strength, one model built and its signal
  rates swapped): CLs alone and CLs + μ95, against pyhf building each model and calling
  hypotest; pyhf's upper_limit is timed on the first ``--pyhf-limit-points`` points and
  extrapolated to 100 (it says so);
* ``--large``: a synthetic likelihood of the issue's size (three channels of twelve bins,
  94 parameters; :mod:`recast.likelihood.synthetic`), CLs and CLs + μ95 (targets 5 s and
  15 s), against one pyhf hypotest and the former fits with numerical gradients;
  ``--pyhf-large-limit`` adds pyhf's upper_limit there (minutes).

    python benchmarks/bench_fullfit.py [--repeats 5] [--pyhf-limit-points 10] [--large]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _timing import median_seconds

from recast.likelihood.asymptotics import Asymptotics, describe
from recast.likelihood.fits import build_model, upper_limit
from recast.likelihood.reuse import ModelCache
from recast.likelihood.synthetic import signal_patch_2019_09, synthetic_patch, synthetic_workspace
from recast.likelihood.workspace import apply_patch, quiet_pyhf

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WORKSPACE = SHARED / "pyhf" / "atlas_susy_2019_09" / "bkg_offshell_simplified.json"


def pyhf_bounds(model: Any) -> list[tuple[float, float]]:
    bounds = [tuple(b) for b in model.config.suggested_bounds()]
    bounds[model.config.poi_index] = (0.0, 100.0)  # pyhf's (0, 10) cuts limit searches short
    return bounds


def pyhf_hypotest(fitted: Any) -> Any:
    import pyhf

    with quiet_pyhf():
        return pyhf.infer.hypotest(
            1.0,
            fitted.data,
            fitted.model,
            par_bounds=pyhf_bounds(fitted.model),
            test_stat="qtilde",
            return_expected_set=True,
        )


def pyhf_upper_limit(fitted: Any) -> Any:
    import pyhf

    with quiet_pyhf():
        return pyhf.infer.intervals.upper_limits.upper_limit(
            fitted.data, fitted.model, scan=None, level=0.05, par_bounds=pyhf_bounds(fitted.model)
        )


def line(what: str, ours: float, floor: float, floor_name: str) -> None:
    print(f"  {what:34s} {ours:8.3f} s   {floor_name} {floor:8.3f} s   ratio {ours / floor:6.2f}")


def single(background: dict[str, Any], repeats: int) -> None:
    spec = apply_patch(background, signal_patch_2019_09(background, 1.0), "patch")
    fitted = build_model(spec, "ATLAS-SUSY-2019-09 + patch")
    print(
        f"ATLAS-SUSY-2019-09 + a 5-region signal patch ({fitted.model.config.npars} "
        f"parameters), median of {repeats}:"
    )
    t_cls = median_seconds(lambda: Asymptotics(fitted).cls(1.0), repeats)
    t_floor = median_seconds(lambda: pyhf_hypotest(fitted), repeats)
    line("CLs obs + exp at μ = 1", t_cls, t_floor, "pyhf hypotest")

    def ours_limit() -> Any:
        engine = Asymptotics(fitted)
        engine.cls(1.0)
        return engine.upper_limits(0.05)

    t_limit = median_seconds(ours_limit, repeats)
    t_floor = median_seconds(lambda: pyhf_upper_limit(fitted), repeats)
    line("CLs + μ95 obs + exp band", t_limit, t_floor, "pyhf upper_limit")
    t_before = median_seconds(lambda: upper_limit(fitted), 1, warm_up=False)
    print(f"  before (recast's pyhf-based μ95 search, once)  {t_before:8.3f} s")
    engine = Asymptotics(fitted)
    engine.cls(1.0)
    engine.upper_limits(0.05)
    print(
        f"  fits of one CLs + μ95: {len(engine._data_fits) + 1} to the data, "
        f"{len(engine._asimov_fits) - 1} to the Asimov data; {engine.evaluations} logpdf calls"
    )


def scan(background: dict[str, Any], points: int, pyhf_limit_points: int) -> None:
    scales = np.geomspace(0.05, 5.0, points)  # μ95 from about 20 down to 0.2
    print(f"{points}-point scan (signal ×0.05 … ×5, one patch a point):")
    cache = ModelCache()
    started = time.perf_counter()
    for scale in scales:
        spec = apply_patch(background, signal_patch_2019_09(background, float(scale)), "patch")
        Asymptotics(cache.model(spec, "patch")).cls(1.0)
    t_cls = time.perf_counter() - started
    print(f"  (models: {cache.built} built, {cache.swapped} swapped rates)")
    cache = ModelCache()
    started = time.perf_counter()
    limits = []
    for scale in scales:
        spec = apply_patch(background, signal_patch_2019_09(background, float(scale)), "patch")
        engine = Asymptotics(cache.model(spec, "patch"))
        engine.cls(1.0)
        limits.append(engine.upper_limits(0.05)[0])
    t_limit = time.perf_counter() - started
    started = time.perf_counter()
    for scale in scales:
        spec = apply_patch(background, signal_patch_2019_09(background, float(scale)), "patch")
        pyhf_hypotest(build_model(spec, "patch"))
    t_floor = time.perf_counter() - started
    line(f"CLs, {len(scales)} points", t_cls, t_floor, "pyhf hypotest")
    started = time.perf_counter()
    for scale in scales[:: max(1, points // pyhf_limit_points)][:pyhf_limit_points]:
        spec = apply_patch(background, signal_patch_2019_09(background, float(scale)), "patch")
        pyhf_upper_limit(build_model(spec, "patch"))
    t_few = time.perf_counter() - started
    t_pyhf = t_few * points / pyhf_limit_points
    line(f"CLs + μ95, {len(scales)} points", t_limit, t_pyhf, "pyhf upper_limit*")
    print(
        f"  * pyhf's upper_limit timed on {pyhf_limit_points} of the points ({t_few:.2f} s) "
        f"and extrapolated to {points}; observed μ95 {min(limits):.2f} … {max(limits):.2f}"
    )


def large(repeats: int, pyhf_limit: bool) -> None:
    spec = apply_patch(synthetic_workspace(), synthetic_patch(1.0), "synthetic patch")
    fitted = build_model(spec, "synthetic")
    print(
        f"synthetic likelihood, 3 channels × 12 bins, {fitted.model.config.npars} parameters "
        f"(median of {repeats}, a new engine each time):"
    )

    def ours_cls() -> Asymptotics:
        engine = Asymptotics(fitted)
        engine.cls(1.0)
        return engine

    def ours_limit() -> Asymptotics:
        engine = ours_cls()
        engine.upper_limits(0.05)
        return engine

    t_cls = median_seconds(ours_cls, repeats)
    t_limit = median_seconds(ours_limit, repeats)
    started = time.perf_counter()
    observed, expected = pyhf_hypotest(fitted)
    t_floor = time.perf_counter() - started
    line("CLs obs + exp at μ = 1", t_cls, t_floor, "pyhf hypotest")
    engine = ours_limit()
    cls = np.array([*engine.cls(1.0)[:1], *engine.cls(1.0)[1]])
    reference = np.array([float(observed), *(float(e) for e in expected)])
    print(f"  CLs + μ95 obs + exp band           {t_limit:8.3f} s")
    print(
        f"  CLs relative to pyhf's (default tolerance): {np.max(np.abs(cls / reference - 1)):.1e};"
        f" {describe(engine)}"
    )
    started = time.perf_counter()
    before = Asymptotics(fitted, exact_gradients=False)
    before.cls(1.0)
    t_before_cls = time.perf_counter() - started
    before.upper_limits(0.05)
    t_before = time.perf_counter() - started
    print(
        f"  before (numerical gradients of pyhf's logpdf, once): CLs {t_before_cls:.1f} s, "
        f"CLs + μ95 {t_before:.1f} s"
    )
    if pyhf_limit:
        started = time.perf_counter()
        limit, band = pyhf_upper_limit(fitted)
        t_pyhf = time.perf_counter() - started
        ours = np.array([*engine.upper_limits(0.05)[:1], *engine.upper_limits(0.05)[1]])
        theirs = np.array([float(limit), *(float(b) for b in band)])
        line("μ95 obs + exp band", t_limit, t_pyhf, "pyhf upper_limit")
        print(f"  μ95 relative to pyhf's: {np.max(np.abs(ours / theirs - 1)):.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--pyhf-limit-points", type=int, default=10)
    parser.add_argument("--large", action="store_true")
    parser.add_argument(
        "--pyhf-large-limit", action="store_true", help="with --large: pyhf's upper_limit too"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)  # pyhf's jsonschema use, not ours
    if not WORKSPACE.is_file():
        print(f"skipped: the ATLAS-SUSY-2019-09 workspace is not at {WORKSPACE}")
    else:
        background = json.loads(WORKSPACE.read_text())
        single(copy.deepcopy(background), args.repeats)
        scan(background, args.points, args.pyhf_limit_points)
    if args.large:
        large(args.repeats, args.pyhf_large_limit)


if __name__ == "__main__":
    main()
