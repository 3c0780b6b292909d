"""Timing shared by the benchmark scripts: the median of repeated calls after a warm-up."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def median_seconds(
    func: Callable[[], object],
    repeats: int,
    *,
    warm_up: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median seconds of ``repeats`` calls of ``func`` by ``clock``; one untimed call first
    (first-call allocations, lazy initialisation of onnxruntime or FastJet) unless
    ``warm_up`` is False."""
    if warm_up:
        func()
    times = []
    for _ in range(repeats):
        start = clock()
        func()
        times.append(clock() - start)
    return statistics.median(times)


def fresh_process_peak_mb(code: str) -> float:
    """Peak resident memory (VmHWM, MB) of a fresh Python process running ``code``.

    Not ``ru_maxrss``: a child started from a big process inherits its high-water mark."""
    probe = "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\n{probe}"], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1]) / 1024
