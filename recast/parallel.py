"""Where recast-nn's work runs: in process, on a local Dask cluster, or on a scheduler.

Runs and scans share :class:`Executor`; nothing else in the package starts a cluster.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .arguments import arg, given
from .errors import SchedulerUnreachableError, UsageError

log = logging.getLogger(__name__)

T = TypeVar("T")


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_workers(workers: int) -> None:
    """Refuse a local cluster larger than the machine: its processes would only compete
    for the cores, and hundreds of them exhaust memory and semaphores before any work."""
    if workers < 1:
        raise UsageError(f"{arg('workers')} must be at least 1, not {workers}")
    cores = available_cores()
    if workers > cores:
        raise UsageError(
            f"{given('workers', workers)}: this machine lets recast use {cores} core(s); "
            f"give at most {cores} (more local worker processes only compete for them), or "
            f"{arg('scheduler')} ADDRESS to use a Dask cluster that spans machines"
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

    # Ctrl-C reaches every process of the terminal's group: the workers would die with their
    # own tracebacks while ours closes the cluster. They start with SIGINT ignored (inherited),
    # and the main process alone handles it.
    ignore = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignore else None
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            return LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            )
    finally:
        if ignore:
            signal.signal(signal.SIGINT, previous)


#: seconds to wait for a scheduler to answer (dask's default is 30)
CONNECT_TIMEOUT = 10


def connect(address: str) -> Any:
    """A dask ``Client`` of the scheduler at ``address``, or :class:`SchedulerUnreachableError`."""
    from dask.distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except ValueError as exc:  # dask's parser: no port, unknown scheme
        raise SchedulerUnreachableError(
            f"--scheduler {address}: not a scheduler address ({exc}); give one like "
            "tcp://HOST:8786, as printed by `dask scheduler`"
        ) from None
    except (OSError, TimeoutError):
        raise SchedulerUnreachableError(
            f"--scheduler {address}: no Dask scheduler answered within {CONNECT_TIMEOUT} s; "
            "start one (`dask scheduler`) and give the address it prints, check host, port "
            "and firewall, or leave out --scheduler to run here (--workers N for a local "
            "cluster)"
        ) from None


class Executor:
    """Runs tasks in-process, on a new local cluster of processes (``workers`` > 1), on the
    scheduler at ``scheduler``, or on an existing dask ``client``; a context manager that
    closes what it started.

    Results come back in task order whatever order the workers finish in, so every way of
    running gives the same result.
    """

    def __init__(self, workers: int = 1, scheduler: str | None = None, client: Any = None) -> None:
        if scheduler is None and client is None:
            check_workers(workers)  # a local cluster larger than the machine: before any work
        elif workers < 1:
            raise UsageError(f"{arg('workers')} must be at least 1, not {workers}")
        self.workers, self.scheduler, self.client = workers, scheduler, client
        self._cluster: Any = None
        self._own = False
        self._dask_level: int | None = None

    @property
    def remote(self) -> bool:
        """Whether tasks run on dask workers (else in this process)."""
        return self.client is not None or self.scheduler is not None or self.workers > 1

    def __enter__(self) -> Executor:
        if self.client is None and self.remote:
            # distributed logs every worker's start and stop at INFO: only with -v (or more).
            # Its import sets its loggers' levels, so it is imported before ours is set.
            import distributed  # noqa: F401

            dask_log = logging.getLogger("distributed")
            self._dask_level = dask_log.level
            if log.getEffectiveLevel() > logging.INFO:
                dask_log.setLevel(logging.WARNING)
            if self.scheduler is None:
                self._cluster = local_cluster(self.workers)
                from dask.distributed import Client

                self.client = Client(self._cluster)
            else:
                self.client = connect(self.scheduler)
            self._own = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()
            self.client, self._cluster, self._own = None, None, False
        if self._dask_level is not None:
            logging.getLogger("distributed").setLevel(self._dask_level)
            self._dask_level = None

    def map(
        self,
        function: Callable[..., T],
        tasks: Sequence[tuple[Any, ...]],
        done: Callable[[T], None] | None = None,
    ) -> list[T]:
        """``function(*task)`` for every task, in task order; ``done`` sees each result as
        it arrives (for progress)."""
        if self.client is None:
            results = []
            for task in tasks:
                results.append(function(*task))
                if done is not None:
                    done(results[-1])
            return results
        from dask.distributed import as_completed

        futures = [self.client.submit(function, *task, pure=False) for task in tasks]
        position = {future.key: i for i, future in enumerate(futures)}
        parts: dict[int, T] = {}
        for future in as_completed(futures):
            parts[position[future.key]] = future.result()
            if done is not None:
                done(parts[position[future.key]])
        return [parts[i] for i in range(len(tasks))]

    def flow(
        self,
        tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
        done: Callable[[Any], Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]],
    ) -> None:
        """Run ``function(*args)`` for every ``(function, args)`` of ``tasks``; ``done`` sees
        each result as it arrives and returns follow-up tasks, which run before the tasks
        still waiting (a model scan's limits start as soon as a point's events are in)."""
        if self.client is None:
            waiting = collections.deque(tasks)
            while waiting:
                function, args = waiting.popleft()
                waiting.extendleft(reversed(list(done(function(*args)))))
            return
        from dask.distributed import as_completed

        def submit(task: tuple[Callable[..., Any], tuple[Any, ...]], priority: int) -> Any:
            return self.client.submit(task[0], *task[1], pure=False, priority=priority)

        running = as_completed([submit(task, 0) for task in tasks])
        for future in running:
            for follow_up in done(future.result()):
                running.add(submit(follow_up, 1))  # dask runs higher priorities first
