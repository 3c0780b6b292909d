"""The experimentalist's toolkit: train efficiency maps, surrogate taggers and event filters, ship
them as cards.

One subpackage per trainer over a shared core: ``efficiency/`` (learned and binned efficiency
maps), ``surrogate/`` (surrogate taggers), ``filter/`` (the selective-simulation event filter),
``core/`` (the trainer base, the fitting loop, networks, losses, training rows, configs and
staging they share); each subpackage's docstring lists its modules.

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
:class:`SurrogateTrainer`       a tagger score's distribution over bins from truth inputs (set
                                network ensemble), export to ONNX + card + ``surrogate`` map
:func:`surrogate_closure`       sampled against observed scores on held-out samples: χ² and KS
                                per pT (× flavour) bin, with :func:`plot_surrogate_closure`;
                                :func:`surrogate_uncertainty` flags inputs outside the support
:func:`run_surrogate_study`,    the whole surrogate study, in memory or from a config
:func:`train_surrogate`         (``recast train surrogate CONFIG``)
:class:`BetaDetector`           a synthetic detector with a known score law, for tests and docs
``recast.train.core.losses``    weighted (B)CE with negative weights (complementary labels), dCorr,
                                gradient reversal
:class:`FilterTrainer`,         the event filter of selective simulation (a graph network with a
:func:`train_filter`            dCorr penalty) and its study (``recast train filter CONFIG``)
==============================  =================================================================

>>> from recast.train import EfficiencyMapTrainer                   # doctest: +SKIP
>>> trainer = EfficiencyMapTrainer(n_models=5).fit(events, "btag")  # doctest: +SKIP
>>> trainer.export("maps/", name="btag_learned")                    # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → module (relative to this package) that defines it; imported on first use
_EXPORTS = {
    "EfficiencyMapTrainer": "efficiency.trainer",
    "EfficiencyStudy": "efficiency.study",
    "run_study": "efficiency.study",
    "train_efficiency": "efficiency.study",
    "binned_map_document": "efficiency.binned",
    "save_map": "efficiency.binned",
    "closure_report": "efficiency.closure",
    "calibration": "efficiency.closure",
    "plot_closure": "efficiency.plot",
    "TaggedSample": "efficiency.samples",
    "SurrogateTrainer": "surrogate.trainer",
    "SurrogateStudy": "surrogate.study",
    "run_surrogate_study": "surrogate.study",
    "train_surrogate": "surrogate.study",
    "surrogate_closure": "surrogate.closure",
    "surrogate_uncertainty": "surrogate.closure",
    "plot_surrogate_closure": "surrogate.plot",
    "ScoredSample": "surrogate.samples",
    "BetaDetector": "surrogate.samples",
    "config_problems": "core.config",
    "FilterTrainer": "filter.trainer",
    "FilterStudy": "filter.study",
    "train_filter": "filter.study",
    "run_filter_study": "filter.study",
    "decay_tree_events": "filter.toy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'recast.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__() -> list[str]:
    return __all__
