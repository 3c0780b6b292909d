"""The experimentalist's toolkit: train efficiency maps and ship them as cards.

Needs the ``train`` extra (torch, scikit-learn): ``pip install 'recast-nn[train]'``. The
runtime core never imports this package; here torch is imported on first use of a name that
needs it, and its absence is a :class:`~recast.errors.MissingDependencyError` naming the extra.

==============================  =================================================================
:class:`EfficiencyMapTrainer`   per-object efficiency with event context (a set network), ensemble
                                with bootstrap, export to ONNX + card + ``network`` map
:func:`binned_map_document`     the binned pT–|η| map from the same tagged objects
:func:`closure_report`          binned vs learned maps on held-out samples (JSON), with
                                :func:`plot_closure`
:func:`run_study`,              the whole study from samples in memory, or from a training config
:func:`train_efficiency`        (``recast train efficiency CONFIG``)
``recast.train.losses``         weighted (B)CE with negative weights (complementary labels), dCorr,
                                gradient reversal
==============================  =================================================================

>>> from recast.train import EfficiencyMapTrainer                   # doctest: +SKIP
>>> trainer = EfficiencyMapTrainer(n_models=5).fit(events, "btag")  # doctest: +SKIP
>>> trainer.export("maps/", name="btag_learned")                    # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → module (relative to this package) that defines it
_EXPORTS = {
    "EfficiencyMapTrainer": "efficiency",
    "EfficiencyStudy": "study",
    "run_study": "study",
    "train_efficiency": "study",
    "binned_map_document": "binned",
    "save_map": "binned",
    "closure_report": "report",
    "calibration": "report",
    "plot_closure": "plot",
    "TaggedSample": "samples",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'recast.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__() -> list[str]:
    return __all__
