"""A model scan's cost per point, and 2 workers against 1.

A Gtt plane of ``--points`` points (a 2 × N grid of gluino and LSP masses) with ``--events``
events a point, through ATLAS_SUSY_2018_30 and DEMO_MULTIB_GLUINO at NNLO+NNLL σ, is scanned
twice into fresh folders: with one worker (in process) and with a local cluster of two.
Printed: seconds per point for events (generation + both analyses), for limits, and the floor
measured in the same run (bare Pythia8 generation of one point's events); the speed-up of two
workers (target ≥ 1.8×) and the load average before and after, since other load on a shared
machine eats into it.

    python benchmarks/bench_scan.py --points 4 --events 1000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from recast.events.pythia import generate
from recast.events.slha import gluino_slha, gluino_template
from recast.model import process_settings
from recast.pipeline.scan_model import prepare_scan, run_scan

ANALYSES = ["ATLAS_SUSY_2018_30", "DEMO_MULTIB_GLUINO"]


def template(folder: Path) -> Path:
    path = folder / "gtt.slha.in"
    path.write_text(gluino_template())
    return path


def grid(points: int) -> list[str]:
    gluinos = [1900 + 200 * i for i in range(max(points // 2, 1))]
    return [f"m_gluino={','.join(str(m) for m in gluinos)}", "m_lsp=1,800"]


def scan_once(folder: Path, workers: int, points: int, events: int) -> tuple[float, Any]:
    scan = prepare_scan(ANALYSES, None, folder / f"plane_{workers}", template=template(folder),
                        sets=grid(points), n_events=events)  # fmt: skip
    started = time.perf_counter()
    plane = run_scan(scan, workers=workers, progress=False)
    return time.perf_counter() - started, plane


def floor(folder: Path, events: int) -> float:
    """Bare Pythia8 generation of one point's events (the same spectrum and process)."""
    slha = folder / "floor.slha"
    slha.write_text(gluino_slha(2100, 1))
    started = time.perf_counter()
    for _ in generate(process_settings("gluino-pairs", slha), events, 1):
        pass
    return time.perf_counter() - started


def _generate_alone(slha: str, events: int, seed: int) -> float:
    started = time.perf_counter()
    for _ in generate(process_settings("gluino-pairs", slha), events, seed):
        pass
    return time.perf_counter() - started


def machine_ceiling(folder: Path, events: int) -> float:
    """The speed-up two processes get on this machine for bare generation (no recast, no
    Dask): 2 × (one process's time) / (the time of two side by side). Shared cores, memory
    bandwidth and frequency scaling keep it below 2; the scan's speed-up is read against it."""
    from concurrent.futures import ProcessPoolExecutor

    slha = folder / "ceiling.slha"
    slha.write_text(gluino_slha(2100, 1))
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_generate_alone, [str(slha)] * 2, [10, 10], [1, 2]))  # start, import
        alone = pool.submit(_generate_alone, str(slha), events, 1).result()
        started = time.perf_counter()
        list(pool.map(_generate_alone, [str(slha)] * 2, [events] * 2, [1, 2]))
        together = time.perf_counter() - started
    return 2 * alone / together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        load_before = os.getloadavg()
        bare = floor(folder, args.events)
        ceiling = machine_ceiling(folder, args.events // 2)
        one, plane = scan_once(folder, 1, args.points, args.events)
        two, _ = scan_once(folder, 2, args.points, args.events)
        load_after = os.getloadavg()
    n = len(plane["points"])
    events = statistics.median(p["seconds_events"] for p in plane["points"])
    limits = statistics.median(p["seconds_limits"] for p in plane["points"])
    print(f"{n} points × {args.events} events through {', '.join(ANALYSES)}")
    print(f"floor: bare Pythia8 generation of one point  {bare:7.1f} s")
    print(f"events per point (generation + analyses)     {events:7.1f} s  "
          f"({events / bare:.2f}× the floor)")  # fmt: skip
    print(f"limits per point (σ and σ ± 1σ, both)        {limits:7.1f} s")
    print(f"scan, 1 worker                               {one:7.1f} s  ({one / n:.1f} s a point)")
    print(f"scan, 2 workers                              {two:7.1f} s  ({two / n:.1f} s a point)")
    print(f"speed-up with 2 workers: {one / two:.2f}× (target ≥ 1.8×); the machine's own for "
          f"two bare generations side by side: {ceiling:.2f}×")  # fmt: skip
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"(1 min; {os.cpu_count()} cores)")  # fmt: skip


if __name__ == "__main__":
    main()
