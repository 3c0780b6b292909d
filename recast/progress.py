"""A progress line for long runs: events done and events/s, on a terminal only."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from .text import printable


@contextlib.contextmanager
def events_progress(
    description: str, *, always: bool = False
) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback taking the number of events just processed, or None off a terminal
    (logs, pipes and CI stay quiet) unless ``always`` (a notebook asked for a bar)."""
    if not always and not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),  # holds a path: not markup
        TextColumn("{task.completed:,.0f} events"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(printable(description), total=None, rate="")

        def advance(events: int) -> None:
            bar.advance(task, events)
            elapsed = bar.tasks[0].elapsed or 0.0
            if elapsed > 0:
                bar.update(task, rate=f"{bar.tasks[0].completed / elapsed:,.0f} events/s")

        yield advance


class ScanProgress:
    """Callbacks of a model scan's progress bar: events as blocks end, points as they end."""

    def __init__(self, bar: Any, task: Any, points: int) -> None:
        self._bar, self._task, self._points, self._done = bar, task, points, 0

    def events(self, count: int) -> None:
        if self._bar is None:
            return
        self._bar.advance(self._task, count)
        elapsed = self._bar.tasks[0].elapsed or 0.0
        if elapsed > 0:
            rate = self._bar.tasks[0].completed / elapsed
            self._bar.update(self._task, rate=f"{rate:,.0f} events/s")

    def point(self) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update(self._task, points=f"{self._done}/{self._points} points")


@contextlib.contextmanager
def scan_progress(points: int, events: int, *, always: bool = False) -> Iterator[ScanProgress]:
    """A bar of a scan of ``points`` points and ``events`` events to generate: points done,
    events/s and time left; silent off a terminal unless ``always``."""
    if not always and not sys.stderr.isatty():
        yield ScanProgress(None, None, points)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("scan"),
        BarColumn(),
        TextColumn("{task.fields[points]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scan", total=max(events, 1), rate="", points=f"0/{points} points")
        yield ScanProgress(bar, task, points)
