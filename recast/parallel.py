"""The local Dask cluster every parallel part of recast-nn starts (runs, scans)."""

from __future__ import annotations

from typing import Any


def local_cluster(workers: int) -> Any:
    """A LocalCluster of single-threaded worker processes.

    Processes, because FastJet, awkward and many short numpy calls hold the GIL. Without
    dask's MALLOC_TRIM_THRESHOLD_=65536: it fixes glibc's mmap threshold at 128 KiB, so large
    temporary arrays are mmapped and unmapped again, which makes a worker about 40 % slower
    than the same code in-process. The scheduler always serves HTTP: on a free local port, so
    that no warning says 8787 is taken. Start it under ``if __name__ == "__main__":``.
    """
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
