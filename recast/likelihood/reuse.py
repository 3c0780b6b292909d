"""pyhf models built once per patch structure: a new signal only swaps its nominal rates.

A scan fits one background-only workspace with hundreds of signal patches that differ only in
the signal's yields. Building a pyhf model (schema validation, modifier bookkeeping) then costs
more than a CLs from :mod:`.asymptotics`. Where the signal's yields enter the model through its
nominal rates alone, the model of the first patch of a structure serves every later one with
those rates replaced: a sample whose modifiers are all multiplicative and blind to the nominal
(``normfactor``, ``normsys``, ``lumi``, ``shapefactor``). A signal with a ``staterror``,
``shapesys`` or ``histosys`` (their constraints or deltas are computed from the nominal) is
built in full. ``tests/test_fullfit.py`` checks that swapped and rebuilt models give the same
expected data and CLs.
"""

from __future__ import annotations

import copy
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from .fits import PyhfModel, build_model
from .workspace import check_values, parameter_of_interest

log = logging.getLogger(__name__)

#: modifiers whose effect on a sample does not depend on its nominal yields
SWAPPABLE = frozenset({"normfactor", "normsys", "lumi", "shapefactor"})


def _swappable(sample: Mapping[str, Any], poi: str) -> bool:
    modifiers = sample.get("modifiers", [])
    carries_poi = any(m.get("type") == "normfactor" and m.get("name") == poi for m in modifiers)
    return carries_poi and all(m.get("type") in SWAPPABLE for m in modifiers)


def structure_key(spec: Mapping[str, Any], poi: str) -> tuple[str, dict[tuple[str, str], list]]:
    """The spec with the nominal yields of the signal samples (those scaled by ``poi`` and
    swappable) blanked, as text; and those yields by (channel, sample)."""
    blank = copy.deepcopy(dict(spec))
    rates: dict[tuple[str, str], list] = {}
    for channel in blank["channels"]:
        for sample in channel["samples"]:
            if _swappable(sample, poi):
                rates[channel["name"], sample["name"]] = list(sample["data"])
                sample["data"] = None
    return json.dumps(blank, sort_keys=True), rates


class ModelCache:
    """Built pyhf models by patch structure (the ``size`` most recent)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._models: OrderedDict[str, PyhfModel] = OrderedDict()
        self.built = 0
        self.swapped = 0

    def model(self, spec: Mapping[str, Any], source: str, *, poi: str | None = None) -> PyhfModel:
        """The model of ``spec``: swapped from a built one of its structure, else built."""
        name = parameter_of_interest(spec, source, poi)
        key, rates = structure_key(spec, name)
        base = self._models.get(key) if rates else None
        if base is None:
            fitted = build_model(spec, source, poi=name)
            self.built += 1
            if rates:
                self._models[key] = fitted
                while len(self._models) > self.size:
                    self._models.popitem(last=False)
            return fitted
        self._models.move_to_end(key)
        check_values(spec, source, poi=name)  # what build_model checks, before any fit
        self.swapped += 1
        return _with_rates(base, rates, source, spec)


def _with_rates(
    base: PyhfModel,
    rates: Mapping[tuple[str, str], list],
    source: str,
    spec: Mapping[str, Any],
) -> PyhfModel:
    """A copy of ``base`` whose signal samples have the nominal ``rates``."""
    model = copy.copy(base.model)
    main = copy.copy(model.main_model)
    nominal = np.array(main._nominal_rates, dtype=float, copy=True)
    config = model.config
    for (channel, sample), values in rates.items():
        nominal[0, config.samples.index(sample), :, config.channel_slices[channel]] = values
    main._nominal_rates = nominal
    main._precompute()
    model.main_model = main
    low = _low_count(spec, base.poi)
    return PyhfModel(model, base.data, base.poi, low, source)


def _low_count(spec: Mapping[str, Any], poi: str) -> list[str]:
    from .fits import LOW_COUNT

    signal_channels = {
        c["name"]
        for c in spec["channels"]
        for s in c["samples"]
        if any(m["type"] == "normfactor" and m["name"] == poi for m in s["modifiers"])
    }
    return [
        f"{observation['name']}[{i}]"
        for observation in spec["observations"]
        if observation["name"] in signal_channels
        for i, n in enumerate(observation["data"])
        if n < LOW_COUNT
    ]
