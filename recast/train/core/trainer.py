"""The base of the three trainers: scikit-learn's conventions, the checks and the export they share.

A trainer is a dataclass of keyword-only parameters: its constructor only stores them,
:meth:`fit` returns the trainer, and what it learns is set by ``fit`` in attributes ending in
``_``. The parameters, their defaults, ``get_params``, ``set_params`` and a ``repr`` listing
what differs from the defaults all come from the dataclass fields, so they cannot drift from
the constructor. :class:`Trainer` declares the parameters of the fitting loop (Adam, early
stopping, seed, threads, device) that every trainer has; a subclass adds its own and may give
another default by declaring a field again.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from ...errors import UsageError
from ...preserve.export import export_torch
from ._torch import select_device, threads, torch
from .fitting import FitSettings

log = logging.getLogger(__name__)

T = TypeVar("T", bound="Trainer")


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class Trainer:
    """Parameters of the fitting loop, and what every trainer does with them."""

    validation_fraction: float = 0.2
    max_epochs: int = 25
    patience: int = 15
    batch_size: int = 512
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    seed: int = 0
    threads: int | None = 1
    device: str | None = "auto"

    #: parameters that count something: each must be at least 1
    COUNTS: ClassVar[tuple[str, ...]] = ("max_epochs", "batch_size")
    #: the learned attribute whose presence says the trainer is fitted
    FITTED: ClassVar[str] = "members_"

    # -- scikit-learn's parameter protocol -----------------------------------------------------
    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every parameter with its default value, in the constructor's order."""
        return {f.name: f.default for f in dataclasses.fields(cls)}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.defaults()}

    def set_params(self: T, **params: Any) -> T:
        known = self.defaults()
        for name, value in params.items():
            if name not in known:
                raise UsageError(f"{type(self).__name__} has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = self.defaults()
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- checks ---------------------------------------------------------------------------------
    def check_parameters(self) -> None:
        """Refuse parameters that cannot train (also called by ``fit``); a subclass checks its
        own first, then calls this."""
        if not 0.0 < self.validation_fraction < 1.0:
            raise UsageError("validation_fraction must lie strictly between 0 and 1")
        if not 0.0 < self.learning_rate < float("inf"):  # NaN fails too
            raise UsageError(
                f"learning_rate must be a finite number > 0, not {self.learning_rate!r}"
            )
        if not 0.0 <= self.weight_decay < float("inf"):
            raise UsageError(f"weight_decay must be a finite number ≥ 0, not {self.weight_decay!r}")
        for name in self.COUNTS:
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        select_device(self.device)  # refuses an unknown device, or CUDA where there is none

    def _fit_settings(self, seed: int, device: torch.device | str | None) -> FitSettings:
        """The fitting loop's settings from these parameters, with a batch-order ``seed``."""
        return FitSettings(
            seed,
            self.max_epochs,
            self.patience,
            self.batch_size,
            self.learning_rate,
            self.weight_decay,
            device,
        )

    def _fitted(self) -> None:
        if not hasattr(self, self.FITTED):
            raise UsageError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    # -- export ---------------------------------------------------------------------------------
    def _export_card(
        self,
        model: torch.nn.Module,
        template: dict[str, Any],
        folder: str | Path,
        name: str,
        reference_inputs: dict[str, np.ndarray],
    ) -> Path:
        """Write ``<name>.onnx`` and ``<name>.card.json`` (checked against onnxruntime with
        ``reference_inputs``); returns the card's path."""
        with threads(self.threads):
            card = export_torch(
                model, template, folder, stem=name, reference_inputs=reference_inputs
            )
        return Path(card.source)


__all__ = ["Trainer"]
