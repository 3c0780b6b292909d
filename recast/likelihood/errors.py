"""Errors of likelihood inputs and fits; each message names the file, the field and the fix."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import MessageKeyError, ProblemsError, RecastError, among
from ..errors import SchedulerUnreachableError as SchedulerUnreachableError  # its old home


class LikelihoodError(RecastError, ValueError):
    """A likelihood input (regions, workspace, patch, map, yields) is wrong in meaning."""

    exit_code = 1


class RegionMismatchError(MessageKeyError, LikelihoodError):
    """A region is missing: from the signal yields, the region list or the workspace."""

    def __init__(self, source: str, what: str, name: str, available: Iterable[str], fix: str):
        missing = f"{source}: {what} {name!r} is missing"
        super().__init__(f"{missing}; there are {among(name, available, 12)} {fix}", name)


class BinCountError(LikelihoodError):
    """Signal yields or a map address a channel with another number of bins."""


class UnknownPOIError(MessageKeyError, LikelihoodError):
    """The parameter of interest is not a parameter of the model."""


class PatchError(LikelihoodError):
    """A signal patch cannot be applied to the background-only workspace."""


class NegativeSignalError(LikelihoodError):
    """A region's expected signal is negative or zero and negative="error" was asked for."""


class FitFailedError(RecastError, RuntimeError):
    """A fit did not converge with any of the starting points and bounds tried."""

    exit_code = 1


class WorkspaceValueError(ProblemsError, LikelihoodError):
    """A workspace or patch holds yields no likelihood can be computed from (NaN, infinite,
    absurd, negative); each problem names the channel, sample, bin and value."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems)
        self.args = (
            f"{self.args[0]}\nNo fit was attempted. Correct these values in the file (a yield "
            "is finite, at most 1e10, and a bin's expected total is not negative), or ask its "
            "authors for a corrected version.",
        )


class DuplicateNameError(ProblemsError, LikelihoodError):
    """A workspace (or a patched one) gives one name twice where pyhf keeps only one of them:
    two channels, observations or measurements, two samples of a channel, two modifiers of a
    sample with the same name and type. pyhf would silently drop all but one."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems)
        self.args = (
            f"{self.args[0]}\nNo fit was attempted: pyhf would silently keep only one of each. "
            "Rename or merge the duplicates (a patch should add each sample once).",
        )


class ScanIncompleteError(LikelihoodError):
    """Some points of a scan could not be computed; the others were written."""


class UndrawablePlotError(RecastError, ValueError):
    """``--plot`` asked for an exclusion plot the grid cannot give: one parameter, fewer than
    three points, all on one line, values beyond float range. Checked before any point is
    computed, so nothing is written."""

    exit_code = 2
