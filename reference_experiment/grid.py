"""The flagship's sample grid: which samples exist, their settings and their sizes.

The grid lives in ``grid.json`` beside this module: gluino models (Gtt, Gbb), the mass points
used for training, the HELD-OUT points that no training may use (kept for the closure), the
SCAN points that complete the mass plane for the exclusion contours (never trained on either),
the backgrounds (used for training and for the background estimate) and the ESTIMATE samples
(more background, for the estimate only), with their Pythia settings, the number of events
per sample and the measured generation rates. :func:`load_grid` validates it and reports
every problem at once.

>>> grid = load_grid()
>>> [s.name for s in grid.samples("held_out")][:2]
['Gtt_1900_400', 'Gtt_2100_1']
>>> grid.sample("Gbb_2000_1").decay
'bbbar'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from recast.errors import ProblemsError, UsageError, closest
from recast.events.slha import DECAYS, gluino_slha

log = logging.getLogger(__name__)

#: roles of signal points; only ``training`` points may ever be trained on
SIGNAL_ROLES = ("training", "held_out", "scan")
ROLES = (*SIGNAL_ROLES, "background", "estimate")
#: what ``--what`` may name besides single samples
SELECTIONS = ("all", "signal", *ROLES, "ttbar", "ttbar_boosted")


class GridError(ProblemsError):
    """The sample grid document is malformed or inconsistent; lists every problem."""


@dataclass(frozen=True)
class Sample:
    """One sample: a gluino mass point of a model, or a background."""

    name: str
    role: str  # one of ROLES
    events: int
    model: str | None = None
    decay: str | None = None
    m_gluino: float | None = None
    m_lsp: float | None = None
    settings: tuple[str, ...] = ()

    @property
    def is_signal(self) -> bool:
        return self.model is not None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "model": self.model,
            "decay": self.decay,
            "m_gluino": self.m_gluino,
            "m_lsp": self.m_lsp,
            "settings": list(self.settings),
        }


def signal_name(model: str, m_gluino: float, m_lsp: float) -> str:
    return f"{model}_{m_gluino:g}_{m_lsp:g}"


@dataclass(frozen=True)
class Grid:
    """The validated grid; ``source`` is the file it came from."""

    source: str
    document: dict[str, Any]
    all_samples: tuple[Sample, ...]
    block_size: int
    e_cm: float

    @property
    def sha256(self) -> str:
        """A digest of the grid's content (canonical JSON), whatever file it was read from."""
        text = json.dumps(self.document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def samples(self, what: str = "all") -> list[Sample]:
        """The samples a ``--what`` value names: a selection, or sample names joined by ','."""
        chosen: list[Sample] = []
        for item in (w.strip() for w in what.split(",")):
            if item in ("all",):
                chosen += self.all_samples
            elif item == "signal":
                chosen += [s for s in self.all_samples if s.is_signal]
            elif item in ROLES:
                chosen += [s for s in self.all_samples if s.role == item]
            else:
                chosen.append(self.sample(item))
        return list(dict.fromkeys(chosen))

    def sample(self, name: str) -> Sample:
        for s in self.all_samples:
            if s.name == name:
                return s
        names = [s.name for s in self.all_samples]
        hint = ""
        if name.startswith(("Gtt_", "Gbb_")):
            hint = " Only the mass points of the grid can be generated (see grid.json)."
        raise UsageError(
            f"{self.source}: no sample {name!r}; choose one of {', '.join(SELECTIONS)} or a "
            f"sample name ({', '.join(names[:4])}, ...).{hint}{closest(name, names)}"
        )


def _points(value: Any, path: str, problems: list[str]) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        problems.append(f"{path}: must be a list of [m_gluino, m_lsp] pairs")
        return []
    points = []
    for i, pair in enumerate(value):
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
        if not ok:
            problems.append(f"{path}[{i}]: {pair!r} is not a pair [m_gluino, m_lsp] in GeV")
            continue
        points.append((float(pair[0]), float(pair[1])))
    return points


def _check_point(
    model: str, decay: str, point: tuple[float, float], path: str, problems: list[str]
) -> None:
    try:
        gluino_slha(point[0], point[1], decay)
    except UsageError as err:
        problems.append(f"{path}: {model} point {list(point)}: {err}")


def _positive_int(value: Any, path: str, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{path}: {value!r} must be an integer >= 1")
        return 1
    return value


def parse_grid(document: Any, source: str) -> Grid:
    """The grid from its JSON form; raises :class:`GridError` listing every problem."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise GridError(source, ["the document must be a JSON object"])
    for key in ("models", "training", "held_out", "backgrounds", "events", "block_size"):
        if key not in document:
            problems.append(f"{key}: missing")
    for key in ("models", "training", "held_out", "backgrounds", "events"):
        if key in document and not isinstance(document[key], dict):
            problems.append(f"{key}: must be a JSON object")
    if problems:
        raise GridError(source, problems)
    events = document["events"]
    # scan points and estimate samples are optional (a grid for a quick study may omit them)
    signal_roles = [r for r in SIGNAL_ROLES if r in ("training", "held_out") or r in document]
    for role in signal_roles:
        if not isinstance(document[role], dict):
            problems.append(f"{role}: must be a JSON object")
    if problems:
        raise GridError(source, problems)
    sizes = {
        role: _positive_int(events.get(role), f"events.{role}", problems) for role in signal_roles
    }
    models = document["models"]
    samples: list[Sample] = []
    seen: dict[tuple[str, float, float], str] = {}
    for role in signal_roles:
        for model, value in document[role].items():
            if model not in models:
                problems.append(f"{role}.{model}: unknown model; known: {', '.join(models)}")
                continue
            decay = models[model].get("decay")
            if decay not in DECAYS:
                problems.append(f"models.{model}.decay: {decay!r}; use one of {list(DECAYS)}")
                continue
            for i, point in enumerate(_points(value, f"{role}.{model}", problems)):
                path = f"{role}.{model}[{i}]"
                _check_point(model, decay, point, path, problems)
                identity = (model, *point)
                if identity in seen:
                    problems.append(
                        f"{path}: {model} {list(point)} is also in {seen[identity]}: a held-out or "
                        "scan point must never be a training point, and no point may appear twice"
                    )
                seen[identity] = path
                samples.append(
                    Sample(
                        signal_name(model, *point),
                        role,
                        sizes[role],
                        model,
                        decay,
                        point[0],
                        point[1],
                    )
                )
    if not isinstance(document.get("estimate", {}), dict):
        problems.append("estimate: must be a JSON object")
    for role, key in (("background", "backgrounds"), ("estimate", "estimate")):
        entries = document.get(key, {})
        for name, background in entries.items() if isinstance(entries, dict) else ():
            settings = background.get("settings") if isinstance(background, dict) else None
            if not isinstance(settings, list) or not all(isinstance(s, str) for s in settings):
                problems.append(f"{key}.{name}.settings: must be a list of Pythia settings")
                continue
            size = _positive_int(events.get(name), f"events.{name}", problems)
            samples.append(Sample(name, role, size, settings=tuple(settings)))
    block = _positive_int(document["block_size"], "block_size", problems)
    if problems:
        raise GridError(source, problems)
    return Grid(source, document, tuple(samples), block, float(document.get("e_cm_gev", 13000)))


def load_grid(path: str | os.PathLike[str] | None = None) -> Grid:
    """The grid of ``path``, by default the ``grid.json`` shipped beside this module."""
    if path is None:
        text = resources.files(__package__).joinpath("grid.json").read_text()
        source = "reference_experiment/grid.json"
    else:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise UsageError(f"{path}: cannot read the sample grid ({err})") from None
    from recast.errors import InvalidDocumentError
    from recast.schema import loads_json

    try:
        document = loads_json(text, source)
    except InvalidDocumentError as err:
        raise GridError(source, [f"{w}: {m}" for w, m in err.problems]) from None
    return parse_grid(document, source)


__all__ = ["SELECTIONS", "Grid", "GridError", "Sample", "load_grid", "parse_grid", "signal_name"]
