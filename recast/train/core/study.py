"""What the efficiency and surrogate studies share: what they return, how they record the
training, read a sample of a config and write their report.

A study trains on one sample, exports the map into a staging folder (:mod:`.staging`), checks
it on held-out samples, and writes the report (and its plot) beside the map: a
:class:`MapStudy` says where everything went.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import awkward as ak

from ...errors import MissingCollectionError, UsageError
from ...io import undefined_as_null, write_json
from .config import read_parquet
from .ensemble import SetEnsembleTrainer
from .staging import Staging

log = logging.getLogger(__name__)

#: a sample of a study (tagged or scored)
S = TypeVar("S")
#: the trainer of a study
E = TypeVar("E", bound=SetEnsembleTrainer)
#: a plot of a report: (report, path) → the path written
Plot = Callable[[Mapping[str, Any], Path], Path]


@dataclass(frozen=True, eq=False, kw_only=True)
class MapStudy:
    """Where a study wrote the card, the report and the plot (None: not drawn), and the report
    it computed. A subclass names the report and plot files and adds the maps it wrote."""

    REPORT_NAME: ClassVar[str]
    PLOT_NAME: ClassVar[str]

    folder: Path
    card: Path
    report_path: Path
    plot_path: Path | None
    report: dict[str, Any] = field(repr=False)

    @classmethod
    def write_report(
        cls, stage: Staging, report: dict[str, Any], plot: Plot | None
    ) -> dict[str, Any]:
        """Write ``report`` (paths renamed to their final place) into the staging folder, and
        its figure when a ``plot`` is given; returns the report as written."""
        report = stage.relocate(report)
        write_json(stage.path / cls.REPORT_NAME, undefined_as_null(report))
        if plot is not None:
            plot(report, stage.path / cls.PLOT_NAME)
        return report

    @classmethod
    def written(cls, folder: Path, report: dict[str, Any], plot: bool) -> dict[str, Any]:
        """The constructor's arguments for the report and plot a study wrote into ``folder``."""
        plot_path = folder / cls.PLOT_NAME if plot else None
        return {"report_path": folder / cls.REPORT_NAME, "plot_path": plot_path, "report": report}

    def files(self, **maps: Path) -> dict[str, str | None]:
        """The files a command prints: ``maps`` first, then card, report and plot."""
        files = {**maps, "card": self.card, "report": self.report_path, "plot": self.plot_path}
        return {k: None if v is None else str(v) for k, v in files.items()}


def configured_trainer(trainer_class: type[E], config: Mapping[str, Any]) -> E:
    """The trainer a config's ``trainer`` block (and ``collection``) describes, its parameters
    checked before any sample is made."""
    trainer = trainer_class(
        **{"collection": config.get("collection", "jets"), **config.get("trainer", {})}
    )
    trainer.check_parameters()
    return trainer


def configured_samples(
    config: Mapping[str, Any], base: Path, load: Callable[[Mapping[str, Any], Path, str, str], S]
) -> tuple[S, list[S]]:
    """The ``train`` sample and the ``held_out`` samples of a config, each read by ``load``
    (block, folder, collection, where in the config)."""
    collection = config.get("collection", "jets")
    train = load(config["train"], base, collection, "train")
    held_out = [
        load(block, base, collection, f"held_out[{i}]")
        for i, block in enumerate(config.get("held_out", []))
    ]
    return train, held_out


def training_record(sample: str, trainer: SetEnsembleTrainer, **extra: Any) -> dict[str, Any]:
    """The report's ``training`` entry: the sample, its size, ``extra`` (e.g. the seconds it
    took), every trainer parameter and each member's history."""
    return {
        "sample": sample,
        "events": trainer.n_events_,
        "objects": trainer.n_objects_,
        **extra,
        "trainer": {k: _jsonable(v) for k, v in trainer.get_params().items()},
        "members": [h.as_dict() for h in trainer.histories_],
    }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def synthetic_sample(
    processes: Mapping[str, Callable[[int, int, int], S]], block: Mapping[str, Any], seed: str
) -> S:
    """The synthetic sample a config block names (``synthetic``, ``events``, ``seed`` and the
    second seed ``block[seed]``, of the tags or scores), named as the block says."""
    process = block["synthetic"]
    if process not in processes:
        raise UsageError(f"unknown synthetic process {process!r}; known: {sorted(processes)}")
    drawn: Any = processes[process](block["events"], block["seed"], block[seed])  # a dataclass
    return cast(S, dataclasses.replace(drawn, name=block.get("name", drawn.name)))


def parquet_events(
    block: Mapping[str, Any], base: Path, collection: str, where: str
) -> tuple[ak.Array, str]:
    """The events of a config block's Parquet file (they must hold ``collection``) and the
    sample's name (the block's ``name``, else the file's stem)."""
    path = base / block["parquet"]
    events = read_parquet(path, where)
    if collection not in ak.fields(events):
        raise MissingCollectionError(str(path), "collection", collection, ak.fields(events))
    return events, block.get("name", path.stem)


__all__ = [
    "MapStudy",
    "Plot",
    "configured_samples",
    "configured_trainer",
    "parquet_events",
    "synthetic_sample",
    "training_record",
]
