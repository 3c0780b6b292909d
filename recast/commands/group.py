"""The root of the `recast` command line: its group, its error handling, its consoles.

Exit codes: 0 success, 1 an invalid document or a failed check, 2 any other user error,
3 an unexpected failure (a bug, or an input nothing foresaw), 130 interrupted.
``--debug`` shows the traceback of an error instead of one clear message; without it no
traceback, ours or a third party's, reaches the user.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..arguments import command_line
from ..errors import RecastError
from ..io import forget_interrupts, interrupt_seen, note_interrupt
from ..version import __version__


def _printable(message: object) -> str:
    """The message with control characters escaped: a name from a document may hold ESC."""
    from ..text import printable

    return printable(message, keep="\n\t")


log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a RecastError into its message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RecastError as exc:
            if _debugging():
                raise
            click.echo(f"error: {_printable(exc)}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


#: the exit code of an error nothing foresaw: a bug in recast-nn or in a library it calls
UNEXPECTED_EXIT_CODE = 3


def _debugging() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("debug"))


class Interruptions:
    """Whether Ctrl-C reached the process: C extensions that call back into Python (pyarrow
    converting awkward's extension types, for one) catch the KeyboardInterrupt raised in the
    callback and report their own error instead, which must still end as an interruption."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._seen_before_exit = False

    @property
    def seen(self) -> bool:
        return self._seen_before_exit or interrupt_seen()

    def __enter__(self) -> Interruptions:
        forget_interrupts()
        installed = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if installed and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._record)
        return self

    def _record(self, number: int, frame: Any) -> None:
        note_interrupt()
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        # the record lives on here, not in the process: later library calls write normally
        self._seen_before_exit = interrupt_seen()
        forget_interrupts()
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _interrupted(ctx: click.Context) -> NoReturn:
    if ctx.params.get("debug"):
        raise
    # a command that keeps what it finished says so (a model scan keeps its points)
    hint = getattr(sys.exc_info()[1], "recast_hint", None)
    click.echo(hint or "interrupted; nothing was written", err=True)
    sys.exit(130)


class RecastGroup(click.Group):
    """The root group: every error below it ends as one line on stderr, never a traceback.

    A :class:`RecastError` is the user's mistake and says so; anything else escaped every
    check and is reported as unexpected, with the hint to rerun with ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        interruptions = Interruptions()
        try:
            # messages name flags (--chunk-size), not keywords
            with command_line(), interruptions:
                result = super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except RecastError as exc:
            if interruptions.seen:  # an interrupt a library turned into an error of its own
                _interrupted(ctx)
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {_printable(exc)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _interrupted(ctx)
        except BrokenPipeError:
            # `recast ... | head`: the reader stopped reading, nothing failed; exit as a
            # process killed by SIGPIPE would, and keep Python from complaining at shutdown
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)
        except Exception as exc:
            if interruptions.seen:  # the interrupt was swallowed and turned into this error
                _interrupted(ctx)
            if ctx.params.get("debug"):
                raise
            log.debug("unexpected error", exc_info=True)
            where = f" ({exc.__class__.__module__}.{exc.__class__.__qualname__})"
            click.echo(
                f"error: unexpected failure{where}: {exc}. This input was not foreseen by "
                "recast-nn: rerun with --debug for the traceback and report it.",
                err=True,
            )
            sys.exit(UNEXPECTED_EXIT_CODE)
        if interruptions.seen:  # swallowed, and the command ran on to its end
            click.echo("interrupted; files begun after Ctrl-C were not written", err=True)
            sys.exit(130)
        return result


@click.group(cls=RecastGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    for handler in logging.getLogger().handlers:
        handler.addFilter(_printable_record)


def _printable_record(record: logging.LogRecord) -> bool:
    """Warnings name regions and files from documents: escape their control characters."""
    record.msg, record.args = _printable(record.getMessage()), None
    return True


@functools.cache
def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def path_option(*declarations: str, help: str, **options: Any) -> Callable[[F], F]:
    """An option naming a file or folder, None when not given."""
    return click.option(
        *declarations, type=click.Path(path_type=Path), default=None, help=help, **options
    )


def plot_option(help: str) -> Callable[[F], F]:
    """``--plot FILE``: a figure to write (its suffix names the format)."""
    return path_option("--plot", help=help)


def hepmc_parser_option(what: str = "HepMC3 files are") -> Callable[[F], F]:
    """``--hepmc-parser columnar|pyhepmc`` (recast.events.hepmc.PARSERS)."""
    return click.option(
        "--hepmc-parser",
        type=click.Choice(["columnar", "pyhepmc"]),
        default="columnar",
        metavar="PARSER",
        help=f"How {what} parsed: columnar (the default: whole blocks at once, pyhepmc for "
        "any text it doubts) or pyhepmc (every event through it).",
    )


def output_option(help: str) -> Callable[[F], F]:
    """``-o/--output FILE``: the JSON document to write (``-`` for stdout)."""
    return click.option("-o", "--output", default=None, help=help)


def required_output_option(help: str) -> Callable[[F], F]:
    """``-o/--output PATH``, required: the file or folder the command exists to write."""
    return click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help=help)


def negative_option(help: str) -> Callable[[F], F]:
    """``--negative clip|error``: what a negative signal yield gets."""
    return click.option(
        "--negative", type=click.Choice(["clip", "error"]), default="clip", show_default=True,
        help=help,
    )  # fmt: skip


def stdout_console() -> Any:
    """The terminal's width on a terminal; piped or captured, wide enough to keep cells whole."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)
