"""A synthetic HistFactory workspace of the size of a published analysis, for benchmarks and
tests of the full-likelihood fits (issue #17: three channels of twelve bins, ~94 parameters).

Deterministic for a given seed and numpy version (numpy's ``default_rng``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def synthetic_workspace(channels: int = 3, bins: int = 12, seed: int = 3) -> dict[str, Any]:
    """Two signal regions and a control region of ``bins`` bins (for ``channels`` = 3): a
    background with a staterror per bin, ~30 normsys and ~8 histosys, another with a free
    normalisation; pseudo-data drawn from it. The POI ``mu_SIG`` comes with
    :func:`synthetic_patch`."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"channels": [], "observations": [], "version": "1.0.0"}
    for c in range(channels):
        name = f"SR{c}" if c < channels - 1 else "CR"
        main = (2000.0 if name == "CR" else 20.0) * np.exp(-np.arange(bins) / 4.0) + 1.0
        other = 0.3 * main[::-1] + 0.5
        modifiers: list[dict[str, Any]] = [
            {"name": "lumi", "type": "lumi", "data": None},
            {"name": f"staterror_{name}", "type": "staterror", "data": list(0.05 * main + 0.2)},
        ]
        for k in range(50):
            if rng.random() < 0.6:
                d = rng.uniform(0.005, 0.08)
                modifiers.append(
                    {"name": f"norm_{k}", "type": "normsys", "data": {"hi": 1 + d, "lo": 1 - d}}
                )
        for k in range(12):
            if rng.random() < 0.7:
                slope = rng.uniform(-0.05, 0.05) * np.linspace(-1, 1, bins)
                modifiers.append(
                    {
                        "name": f"shape_{k}",
                        "type": "histosys",
                        "data": {
                            "hi_data": list(main * (1 + slope)),
                            "lo_data": list(main * (1 - slope)),
                        },
                    }
                )
        free = [
            {"name": "mu_other", "type": "normfactor", "data": None},
            {"name": "lumi", "type": "lumi", "data": None},
        ]
        out["channels"].append(
            {
                "name": name,
                "samples": [
                    {"name": "main", "data": list(main), "modifiers": modifiers},
                    {"name": "other", "data": list(other), "modifiers": free},
                ],
            }
        )
        observed = [float(x) for x in rng.poisson(main + other)]
        out["observations"].append({"name": name, "data": observed})
    lumi = {"name": "lumi", "auxdata": [1.0], "sigmas": [0.017], "bounds": [[0.9, 1.1]],
            "inits": [1.0]}  # fmt: skip
    out["measurements"] = [{"name": "meas", "config": {"poi": "mu_SIG", "parameters": [lumi]}}]
    return out


def synthetic_patch(scale: float, bins: int = 12) -> list[dict[str, Any]]:
    """A signal peaked at bin 8 of the two signal regions (half as much in the second), as a
    JSON Patch adding a sample scaled by ``mu_SIG``."""
    peak = scale * 2.0 * np.exp(-(((np.arange(bins) - 8) / 2.0) ** 2))
    return [
        {
            "op": "add",
            "path": f"/channels/{c}/samples/-",
            "value": {
                "name": "signal",
                "data": list(peak * (1.0 if c == 0 else 0.5)),
                "modifiers": [{"name": "mu_SIG", "type": "normfactor", "data": None}],
            },
        }
        for c in range(2)
    ]


#: illustrative signal yields at μ = 1 in five signal regions of ATLAS-SUSY-2019-09's
#: published (simplified) background-only workspace
SIGNAL_2019_09 = {
    "SRhigh_0Jb_cuts": 2.0,
    "SRhigh_0Jc_cuts": 3.0,
    "SRhigh_nJa_cuts": 2.5,
    "SRlow_0Jd_cuts": 6.0,
    "SRlow_nJc_cuts": 4.0,
}


def signal_patch_2019_09(background: dict[str, Any], scale: float) -> list[dict[str, Any]]:
    """A JSON patch adding :data:`SIGNAL_2019_09` × ``scale`` (POI ``mu_SIG``) to that
    workspace."""
    position = {c["name"]: i for i, c in enumerate(background["channels"])}
    return [
        {
            "op": "add",
            "path": f"/channels/{position[channel]}/samples/-",
            "value": {
                "name": "signal",
                "data": [value * scale],
                "modifiers": [{"name": "mu_SIG", "type": "normfactor", "data": None}],
            },
        }
        for channel, value in SIGNAL_2019_09.items()
    ]
