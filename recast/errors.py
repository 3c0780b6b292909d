"""Typed exceptions. Every message names the file, the field and, where one exists, the fix.

The CLI turns any :class:`RecastError` into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class RecastError(Exception):
    """Base class of every error recast-nn raises on purpose."""

    exit_code = 2


class UsageError(RecastError, ValueError):
    """A command-line argument or API argument is malformed."""


class InvalidDocumentError(RecastError, ValueError):
    """A JSON document does not follow its schema; carries every problem with its JSON path."""

    exit_code = 1

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {len(self.problems)} problem(s) against the schema:"]
        lines += [f"  at {path}: {message}" for path, message in self.problems]
        super().__init__("\n".join(lines))


class UnknownSchemaVersionError(RecastError, ValueError):
    """A document declares a schema version this package does not know."""

    exit_code = 1

    def __init__(self, source: str, version: object, known: Iterable[str]) -> None:
        self.version = version
        self.known = sorted(known)
        super().__init__(
            f"{source}: field 'schema_version' is {version!r}, which this recast-nn does not know; "
            f"known versions: {', '.join(self.known)}. Upgrade recast-nn or convert the document."
        )


class CardError(RecastError, ValueError):
    """A network card is valid JSON against its schema but wrong in meaning."""

    exit_code = 1


class ProblemsError(RecastError, ValueError):
    """Base of the errors that report every problem found in one document at once."""

    exit_code = 1

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {len(self.problems)} problem(s):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CardCheckError(ProblemsError, CardError):
    """`recast card check` found problems; carries all of them."""


class DigestMismatchError(RecastError, ValueError):
    """An artefact's digest (sha256, or git blob id) differs from the one its document records."""

    exit_code = 1

    def __init__(
        self,
        path: str,
        expected: str,
        actual: str,
        field: str,
        fix: str = "Fetch the original file, or re-export and update the card.",
        kind: str = "sha256",
    ) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{path}: {kind} is {actual} but {field} records {expected}; the file was modified "
            f"or replaced. {fix}"
        )


class ArtefactNotFoundError(RecastError, FileNotFoundError):
    """A file a document refers to does not exist."""


class NetworkUnavailableError(ArtefactNotFoundError):
    """A network file that is not distributed with its card was not found where looked for."""


class SidecarMismatchError(RecastError, ValueError):
    """Two published sources of the same preprocessing disagree."""

    exit_code = 1


class ImportFormatError(RecastError, ValueError):
    """A published network or its side-car is in a form the importer cannot read."""


class InputBuildError(RecastError, ValueError):
    """Model inputs cannot be built from the events as the card says."""


class MessageKeyError(KeyError):
    """A KeyError whose ``str()`` is its message as written (KeyError's own quotes it).

    ``name`` is the missing key, where there is one. Put it first among a class's bases: the
    ValueError of a :class:`RecastError` subclass would otherwise take the arguments.
    """

    def __init__(self, message: str, name: str | None = None) -> None:
        self.name = name
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class MissingCollectionError(MessageKeyError, InputBuildError):
    """The events lack a collection or attribute the card needs."""

    def __init__(self, source: str, what: str, name: str, available: Iterable[str]) -> None:
        lacking = f"{source} needs {what} {name!r}, which the events lack"
        super().__init__(f"{lacking}; they have {among(name, available, none='nothing')}", name)


class NaNInputError(InputBuildError):
    """A built input is NaN and the card's policy for that feature is 'error'."""


class EventFileError(RecastError, ValueError):
    """An event file cannot be read: missing, empty, truncated, corrupt, or another format.

    The message names the file and, where one is concerned, the event (its number in the file
    and its position); ``--skip-bad`` skips and counts bad events instead where possible.
    """


class GenerationError(RecastError, RuntimeError):
    """The event generator refused its settings or failed to produce events."""


class MissingDependencyError(RecastError, ImportError):
    """An optional dependency is needed for this call."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs {package}, which is not installed; install it with "
            f"`pip install 'recast-nn[{extra}]'`"
            + (" and `pip install torch==2.13.0` for the CPU build" if package == "torch" else "")
        )


def closest(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' hint listing the choices closest to a typo, or ''."""
    close = difflib.get_close_matches(name, sorted(choices), n=3, cutoff=0.4)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def among(name: str, available: Iterable[str], shown: int | None = None, none: str = "none") -> str:
    """The ``available`` names sorted (the first ``shown``, then " ..."; ``none`` if there are
    none), a full stop and the :func:`closest` hint for ``name``: "a, b. Did you mean 'a'?"."""
    ordered = sorted(available)
    cut = ordered if shown is None else ordered[:shown]
    listed = ", ".join(cut) + (" ..." if len(cut) < len(ordered) else "") or none
    return f"{listed}.{closest(name, ordered)}"


class PathEscapeError(RecastError, ValueError):
    """A path named inside a document leads outside the document's folder (links resolved)."""

    exit_code = 1

    def __init__(self, source: str, field: str, relative: str, folder: str) -> None:
        self.source, self.field, self.relative = source, field, relative
        super().__init__(
            f"{source}: {field} {relative!r} leads outside {folder} (after resolving links); a "
            "path in a document must name a file inside the document's folder. Move the file "
            f"into {folder} and name it relative to it, or give it on the command line"
        )


class BundleNameError(RecastError, ValueError):
    """A bundle name that is not a shipped id but a folder of the working directory, or both."""


class BundleCodeError(RecastError, ValueError):
    """A bundle's code is not covered by its digests: changed, added, or not recorded."""

    exit_code = 1


class OutputError(RecastError, ValueError):
    """An output cannot be written where asked: a folder, an input, an unwritable place.

    Raised before any work starts where it can be foreseen, and for a write that fails at the
    end (disk full, read-only): then nothing was written and any previous file is unchanged.
    """


class DuplicateInputError(UsageError):
    """The same events were given twice: one file under two names, or identical contents."""


class SLHAError(ProblemsError):
    """An SLHA spectrum holds a number Pythia would silently replace or ignore (a mass or width
    that is not a finite number, branching ratios that are negative or do not sum to 1)."""


class InvalidSidecarError(ImportFormatError):
    """A side-car (or an ONNX file's lwtnn metadata) is readable but wrong: an invalid
    document, exit 1 like every other."""

    exit_code = 1


class InvalidLwtnnError(ImportFormatError):
    """An lwtnn network file is readable JSON but cannot be converted: a layer, activation or
    node recast-nn does not convert, sizes that disagree, a dangling index or a cycle."""

    exit_code = 1


class SchedulerUnreachableError(RecastError, ConnectionError):
    """``--scheduler`` names no Dask scheduler that answers (or is not an address at all)."""

    exit_code = 2


class UnconvertibleModelError(CardError):
    """A trained model cannot be exported to ONNX: not fitted, not a classifier or regressor,
    or a class (or a step of a pipeline) that no ONNX converter knows. The message names the
    model's class, the reason and the fix."""
