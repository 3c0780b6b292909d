"""recast-nn: reuse published LHC searches that select events with neural networks.

The curated API (everything else lives in its sub-package)::

    import recast
    run = recast.run("DEMO_MULTIB_GLUINO", benchmark="Gtt_2100_1", n_events=1000)
    print(run)                 # yields per region at σ × L
    print(run.validate())      # the cutflow beside the published one
    print(run.limits)          # CLs, μ95 and the verdict

Names are imported on first use, so ``import recast`` stays light (the command line starts
fast) and no optional dependency is needed before a function that uses it is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import RecastError
from .version import __version__

if TYPE_CHECKING:
    from .analysis.bundle import Bundle, load_bundle
    from .analysis.cutflow import Cutflow
    from .events.hepmc import read_hepmc
    from .pipeline.api import (
        cache,
        generate,
        limits,
        run,
        scan,
        scan_model,
        validate,
    )
    from .pipeline.benchmarks import Benchmark, benchmarks, find_benchmark
    from .pipeline.outcome import Band, Limits, Plane, RegionYield, RunResult, Scan, Validation
    from .preserve.builder import InputBuilder
    from .preserve.card import NetworkCard
    from .preserve.session import NetworkSession
    from .xsec import cross_section

#: public name -> the module that defines it
_HOMES = {
    "load_bundle": "analysis.bundle",
    "Bundle": "analysis.bundle",
    "Cutflow": "analysis.cutflow",
    "read_hepmc": "events.hepmc",
    "run": "pipeline.api",
    "validate": "pipeline.api",
    "limits": "pipeline.api",
    "scan": "pipeline.api",
    "scan_model": "pipeline.api",
    "generate": "pipeline.api",
    "cache": "pipeline.api",
    "benchmarks": "pipeline.benchmarks",
    "find_benchmark": "pipeline.benchmarks",
    "Benchmark": "pipeline.benchmarks",
    "RunResult": "pipeline.outcome",
    "RegionYield": "pipeline.outcome",
    "Validation": "pipeline.outcome",
    "Limits": "pipeline.outcome",
    "Band": "pipeline.outcome",
    "Scan": "pipeline.outcome",
    "Plane": "pipeline.outcome",
    "NetworkCard": "preserve.card",
    "NetworkSession": "preserve.session",
    "InputBuilder": "preserve.builder",
    "cross_section": "xsec",
}

__all__ = [
    "Band",
    "Benchmark",
    "Bundle",
    "Cutflow",
    "InputBuilder",
    "Limits",
    "NetworkCard",
    "NetworkSession",
    "Plane",
    "RecastError",
    "RegionYield",
    "RunResult",
    "Scan",
    "Validation",
    "__version__",
    "benchmarks",
    "cache",
    "cross_section",
    "find_benchmark",
    "generate",
    "limits",
    "load_bundle",
    "read_hepmc",
    "run",
    "scan",
    "scan_model",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value  # looked up once
        return value
    raise AttributeError(f"module 'recast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
