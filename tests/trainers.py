"""What the tests of the map trainers (efficiency, surrogate) share: the estimator conventions
both keep, and a training config run from a Parquet sample."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import awkward as ak
import pytest

from recast.errors import UsageError

T = TypeVar("T")


def check_estimator_conventions(
    trainer_class: type[Any], settings: Mapping[str, Any], predict: Callable[[Any], Any]
) -> Any:
    """A trainer made from ``settings`` only stores them (no learned ``_`` attribute yet),
    ``set_params`` returns it and refuses unknown names, its repr shows the parameters that
    differ from the defaults, and ``predict`` refuses it before ``fit``. Returns the trainer,
    with ``hidden=9``."""
    trainer = trainer_class(**settings)
    assert not [name for name in vars(trainer) if name.endswith("_")]
    assert trainer.set_params(hidden=9) is trainer and trainer.hidden == 9
    name = trainer_class.__name__
    assert repr(trainer_class(n_models=3)) == f"{name}(n_models=3)"
    with pytest.raises(UsageError, match="not fitted yet"):
        predict(trainer)
    with pytest.raises(UsageError, match="no parameter 'hiden'"):
        trainer.set_params(hiden=3)
    return trainer


def write_parquet_sample(events: ak.Array, values: ak.Array, field: str, path: Path) -> None:
    """The events (number, weight, jets) with ``values`` as the jets' ``field``, as Parquet."""
    jets = ak.with_field(events.jets, values, field)
    ak.to_parquet(ak.with_field(events, jets, "jets")[["event_number", "weight", "jets"]], path)


def run_config(
    train: Callable[[Mapping[str, Any], Path], T], config: Mapping[str, Any], folder: Path
) -> T:
    """The study of ``config``, written as ``train.json`` in ``folder`` and trained from there."""
    (folder / "train.json").write_text(json.dumps(config))
    return train(config, folder / "train.json")
