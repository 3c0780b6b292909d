"""How a message names an argument: ``--chunk-size`` on the command line, ``chunk_size=`` in
Python.

Checks deep in the pipeline refuse a value by naming the argument the user typed. The library
names Python keywords; the command line (:mod:`recast.commands.group`) enters
:func:`command_line` around every command, so the same check names the flag instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import PurePath

_ON_COMMAND_LINE: ContextVar[bool] = ContextVar("recast_on_command_line", default=False)

#: flags whose spelling is not the keyword's with dashes
_FLAGS = {
    "pythia_slha": "--pythia-slha",
    "pythia_process": "--process",
    "n_events": "--events",
    "output": "-o/--output",
    # repeatable NAME=VALUE flags: one entry of the keyword's mapping each
    "options": "--option",
    "networks": "--network",
}
#: keywords of the Python API whose name differs from the pipeline's
_KEYWORDS = {"pythia_slha": "slha", "pythia_process": "process"}


def arg(name: str) -> str:
    """The argument ``name`` (a pipeline keyword) as the caller spells it."""
    if _ON_COMMAND_LINE.get():
        return _FLAGS.get(name, "--" + name.replace("_", "-"))
    return _KEYWORDS.get(name, name)


def given(name: str, value: object, *, quoted: bool = False) -> str:
    """The argument with its value as the caller wrote it: ``--seed 0`` or ``seed=0``
    (``quoted``: ``--xsec '12 furlongs'``, where the value's own spelling matters)."""
    if _ON_COMMAND_LINE.get():
        return f"{arg(name)} {value!r}" if quoted else f"{arg(name)} {value}"
    return f"{arg(name)}={str(value) if isinstance(value, PurePath) else value!r}"


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Within this block messages name command-line flags."""
    token = _ON_COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _ON_COMMAND_LINE.reset(token)


def entry(name: str, key: str, value: object = None) -> str:
    """One entry of a mapping argument: ``--option NAME=VALUE`` or ``options['NAME']=VALUE``
    (without ``value``: ``--option NAME``, ``options['NAME']``)."""
    if _ON_COMMAND_LINE.get():
        return f"{arg(name)} {key}" + ("" if value is None else f"={value}")
    return f"{arg(name)}[{key!r}]" + ("" if value is None else f"={value!r}")
