"""The `recast` command line: a thin layer that parses, calls one API function, and prints.

Exit codes: 0 success, 1 an invalid document or a failed check, 2 any other user error.
``--debug`` shows the traceback of an error instead of one clear message.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .errors import RecastError

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a RecastError into its message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RecastError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recast")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(verbose: int, debug: bool) -> None:
    """recast-nn: reuse published LHC searches that select events with neural networks."""
    level = logging.WARNING - 10 * verbose if not debug else logging.DEBUG
    from rich.logging import RichHandler

    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(message)s",
        handlers=[RichHandler(show_time=False, show_path=False, console=stderr_console())],
    )


@functools.cache
def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def stdout_console() -> Any:
    """The terminal's width on a terminal; piped or captured, wide enough to keep cells whole."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


# the sub-commands register themselves on `cli` when imported
from .commands import analysis, card, events, limits, train, train_filter  # noqa: E402, F401


def main() -> None:
    cli(prog_name="recast")


if __name__ == "__main__":
    main()
