"""scikit-learn's parameter protocol for the trainers, from their constructors' keywords.

A trainer's constructor only stores its keyword arguments (``self._store(locals())``); the
parameters, their defaults, ``get_params``, ``set_params`` and a ``repr`` listing what differs
from the defaults all come from the constructor's signature, so they cannot drift apart.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from ..errors import UsageError

T = TypeVar("T", bound="Parameters")


class Parameters:
    """Mixin: the constructor's keyword arguments are the trainer's parameters."""

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every parameter with its default value, in the constructor's order."""
        signature = inspect.signature(cls.__init__)
        return {n: p.default for n, p in signature.parameters.items() if n != "self"}

    def _store(self, arguments: dict[str, Any]) -> None:
        """Keep the constructor's arguments (pass ``locals()``) as attributes."""
        for name in self.defaults():
            setattr(self, name, arguments[name])

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


__all__ = ["Parameters"]
