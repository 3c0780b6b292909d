"""What a user may set for one run of a bundle: its options and where its network files are.

A bundle declares *options* (``analysis.json`` → ``options``: a default, allowed choices and
a description), for conventions a publication leaves open; ``recast run --option NAME=VALUE``
sets them and the analysis reads ``self.options``. A bundle's network whose file is not
distributed (see :mod:`recast.preserve.locate`) may be missing: the regions that declare it
(``regions.<name>.networks``) are then skipped with the reason, and the others still run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..arguments import entry, given
from ..errors import UsageError, closest
from .bundle import Bundle

log = logging.getLogger(__name__)


def parse_assignments(values: Iterable[str], flag: str) -> dict[str, str]:
    """``["A=1", "B=x"]`` → ``{"A": "1", "B": "x"}``; ``flag`` names the option in messages."""
    parsed: dict[str, str] = {}
    for value in values:
        name, sep, right = value.partition("=")
        if not sep or not name.strip() or not right.strip():
            raise UsageError(f"{flag} {value!r}: write it as {flag} NAME=VALUE")
        if name.strip() in parsed:
            raise UsageError(f"{flag} {name.strip()!r} is given twice")
        parsed[name.strip()] = right.strip()
    return parsed


def _convert(text: str, default: Any) -> Any:
    """A command-line value in the type of the option's default."""
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise UsageError(f"expected true or false, not {text!r}")
    if isinstance(default, int | float):
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"expected a number, not {text!r}") from None
        return int(number) if isinstance(default, int) and number.is_integer() else number
    return text


def option_values(bundle: Bundle, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of the bundle: its default, or the value given (checked against choices)."""
    declared: dict[str, Any] = bundle.document.get("options", {})
    source = bundle.folder / "analysis.json"
    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise UsageError(
                f"{entry('options', name)}: {bundle.id} has no such option (options: {known}; see "
                f"'options' in {source}).{closest(name, declared)}"
            )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec["default"])
        if isinstance(value, str) and not isinstance(spec["default"], str):
            try:
                value = _convert(value, spec["default"])
            except UsageError as exc:
                raise UsageError(f"{entry('options', name)}: {exc}") from None
        if isinstance(value, float) and not math.isfinite(value):  # NaN passes no cut at all
            raise UsageError(
                f"{entry('options', name, value)}: not a finite number; give a value like the "
                f"default {spec['default']!r} (options.{name} in {source})"
            )
        choices = spec.get("choices")
        if choices is not None and value not in choices:
            raise UsageError(
                f"{entry('options', name, value)}: not one of {', '.join(map(str, choices))} "
                f"(options.{name}.choices in {source}).{closest(str(value), map(str, choices))}"
            )
        values[name] = value
    return values


def network_cards(
    bundle: Bundle, files: Mapping[str, str | Path]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The bundle's network cards whose files are all available, and why the others are not.

    ``files`` maps a network name to a user-given model file or folder (``--network``). A
    missing file of a *distributed* network, or any digest mismatch, is an error: only a file
    the bundle could not ship may be absent.
    """
    from ..errors import NetworkUnavailableError
    from ..preserve.card import NetworkCard

    cards = bundle.network_cards()
    for name in files:
        if name not in cards:
            raise UsageError(
                f"{entry('networks', name)}: {bundle.id} has no network {name!r} (networks: "
                f"{', '.join(cards) or 'none'}).{closest(name, cards)}"
            )
    usable: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    given = [Path(p).expanduser() for p in files.values()]
    for name, path in cards.items():
        card = NetworkCard.load(path)
        card.network_key = name
        if name in files:
            card.use_files_from(files[name])
        else:  # a file given for another network serves every card that names it
            shared = _shared_file(card.file_names(), given)
            if shared is not None:
                card.use_files_from(shared)
        try:
            card.verify_digests()
        except NetworkUnavailableError as exc:
            if name in files:  # the user named the file: a wrong path is their mistake
                raise
            unavailable[name] = str(exc)
            continue
        usable[name] = card
    return usable, unavailable


def _shared_file(names: list[str], given: list[Path]) -> Path | None:
    for path in given:
        if path.is_file() and path.name in names:
            return path
        if path.is_dir() and all((path / n).is_file() for n in names):
            return path
    return None


def runnable_regions(
    bundle: Bundle, unavailable: Mapping[str, str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The regions that can run, and the skipped ones with the reason (a missing network)."""
    regions: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for region, spec in bundle.document["regions"].items():
        missing = [n for n in spec.get("networks", []) if n in unavailable]
        if missing:
            skipped[region] = f"network {missing[0]!r} is not available: {unavailable[missing[0]]}"
        else:
            regions[region] = list(spec["cuts"])
    if not regions:
        raise UsageError(
            f"{bundle.id}: every region needs a network that is not available; "
            + next(iter(skipped.values()))
        )
    return regions, skipped


#: the name of a bundle's own ``detector`` for ``--detector``
DEFAULT_DETECTOR = "default"


@dataclass(frozen=True)
class DetectorChoice:
    """The detector description a run uses: ``name`` is ``default`` (the bundle's
    ``detector``), a name from its ``detectors``, or ``file`` for one given by path."""

    name: str
    #: absolute, so that every worker loads the same file
    path: Path
    sha256: str
    #: as recorded in the provenance: relative to the bundle for its own, else as given
    label: str

    def provenance(self) -> dict[str, str]:
        return {"name": self.name, "path": self.label, "sha256": self.sha256}


def detector_names(bundle: Bundle) -> list[str]:
    """What ``--detector`` accepts by name: ``default`` (when the bundle has a detector) and
    the bundle's alternatives."""
    names = [DEFAULT_DETECTOR] if "detector" in bundle.document else []
    return names + list(bundle.document.get("detectors", {}))


def choose_detector(bundle: Bundle, choice: str | Path | None) -> DetectorChoice | None:
    """The detector of a run from ``--detector NAME|PATH`` (None: the bundle's default).

    A name must be one of :func:`detector_names`; anything else is taken as the path of a
    detector description, which is validated and loaded here, before any event is read.
    Returns None when the bundle has no detector and none is chosen.
    """
    document = bundle.document
    alternatives: dict[str, Any] = document.get("detectors", {})
    if choice is None or str(choice) == DEFAULT_DETECTOR:
        if "detector" not in document:
            if choice is not None:
                raise UsageError(
                    f"{given('detector', 'default')}: {bundle.id} has no detector (analysis.json "
                    "has no 'detector'); give the path of a detector description instead"
                )
            return None
        artefact = document["detector"]
        return DetectorChoice(
            DEFAULT_DETECTOR,
            bundle.path(artefact["path"], "detector.path").resolve(),
            artefact["sha256"],
            artefact["path"],
        )
    if isinstance(choice, str) and choice in alternatives:
        # its digest was verified when the bundle was loaded
        artefact = alternatives[choice]
        path = bundle.path(artefact["path"], f"detectors.{choice}.path")
        return DetectorChoice(choice, path.resolve(), artefact["sha256"], artefact["path"])
    path = Path(choice).expanduser()
    if path.is_dir():
        raise UsageError(
            f"{given('detector', choice)}: is a folder; give a detector description file (JSON), "
            f"or a detector name of {bundle.id} ({', '.join(detector_names(bundle))})"
        )
    if not path.is_file():
        names = detector_names(bundle)
        if _looks_like_path(str(choice)):
            raise UsageError(
                f"{given('detector', choice)}: no such file, and not a detector of {bundle.id} "
                f"({', '.join(names) or 'none'})"
            )
        raise UsageError(
            f"{given('detector', choice)}: {bundle.id} has no detector {str(choice)!r} (names: "
            f"{', '.join(names) or 'none'}; see 'detectors' in {bundle.folder / 'analysis.json'}"
            f"), nor is it a file.{closest(str(choice), names)}"
        )
    return _detector_file(path)


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.endswith(".json")


def _detector_file(path: Path) -> DetectorChoice:
    """A detector description given by path: it must load (schema, meaning, maps)."""
    from ..detector.description import load_detector
    from ..errors import RecastError
    from ..io import sha256_file

    try:
        load_detector(path)
    except RecastError as exc:
        raise UsageError(
            f"{given('detector', path)}: not a usable detector description: {exc}"
        ) from None
    return DetectorChoice("file", path.resolve(), sha256_file(path), str(path))
