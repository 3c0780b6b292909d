"""recast-nn: reuse published LHC searches that select events with neural networks.

The curated API; everything else lives in its sub-package::

    from recast import NetworkCard, NetworkSession
    net = NetworkSession(NetworkCard.load("card.json"))
    scores = net.evaluate(events, parameters=net.card.parameter_points)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("recast-nn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from .errors import RecastError
from .preserve.builder import InputBuilder
from .preserve.card import NetworkCard
from .preserve.session import NetworkSession

__all__ = ["InputBuilder", "NetworkCard", "NetworkSession", "RecastError", "__version__"]
