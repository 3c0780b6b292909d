"""The local Dask cluster every parallel part of recast-nn starts (runs, scans)."""

from __future__ import annotations

import os
from typing import Any

from .errors import UsageError


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_workers(workers: int) -> None:
    """Refuse a local cluster larger than the machine: its processes would only compete
    for the cores, and hundreds of them exhaust memory and semaphores before any work."""
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    cores = available_cores()
    if workers > cores:
        raise UsageError(
            f"--workers {workers}: this machine lets recast use {cores} core(s); give at most "
            f"{cores} (more local worker processes only compete for them), or --scheduler "
            "ADDRESS to use a Dask cluster that spans machines"
        )


def local_cluster(workers: int) -> Any:
    """A LocalCluster of single-threaded worker processes.

    Processes, because FastJet, awkward and many short numpy calls hold the GIL. Without
    dask's MALLOC_TRIM_THRESHOLD_=65536: it fixes glibc's mmap threshold at 128 KiB, so large
    temporary arrays are mmapped and unmapped again, which makes a worker about 40 % slower
    than the same code in-process. The scheduler always serves HTTP: on a free local port, so
    that no warning says 8787 is taken. Start it under ``if __name__ == "__main__":``.
    """
    check_workers(workers)
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )
