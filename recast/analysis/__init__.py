"""Analysis bundles: the Analysis base class, bundle loading and checks, and the runner."""

from .base import Analysis, AnalysisDefinitionError, SelectionError, cut

__all__ = ["Analysis", "AnalysisDefinitionError", "SelectionError", "cut"]
