"""A progress line for long runs: events done and events/s, on a terminal only."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

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
