"""The `recast` command line: a thin layer that parses, calls one API function, and prints.

Exit codes: 0 success, 1 an invalid document or a failed check, 2 any other user error,
3 an unexpected failure (a bug, or an input nothing foresaw), 130 interrupted.
``--debug`` shows the traceback of an error instead of one clear message; without it no
traceback, ours or a third party's, reaches the user. The group and its error handling are in
:mod:`recast.commands.group`; each sub-command module registers itself on it when imported.
"""

from __future__ import annotations

from .commands import (  # noqa: F401
    analysis,
    card,
    events,
    limits,
    model,
    report,
    train,
    train_filter,
    xsec,
)
from .commands.group import UNEXPECTED_EXIT_CODE, RecastGroup, cli

__all__ = ["UNEXPECTED_EXIT_CODE", "RecastGroup", "cli", "main"]


def main() -> None:
    cli(prog_name="recast")


if __name__ == "__main__":
    main()
