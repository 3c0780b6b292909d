"""Analysis bundles: the Analysis base class, its authoring helpers, bundle loading and checks."""

from .authoring import threshold, window
from .base import (
    Analysis,
    AnalysisDefinitionError,
    NetworkNotLoadedError,
    SelectionError,
    cut,
    network_scores,
    with_fields,
)

__all__ = [
    "Analysis",
    "AnalysisDefinitionError",
    "NetworkNotLoadedError",
    "SelectionError",
    "cut",
    "network_scores",
    "threshold",
    "window",
    "with_fields",
]
