"""Import pyhepmc without running Graphviz's ``dot``.

``import pyhepmc`` imports ``pyhepmc.view``, which runs ``dot -T...`` at import time to list
the picture formats it could render: a ``dot`` on PATH that is not executable makes every
events command fail (PermissionError), one that hangs hangs it. recast never renders events,
so while pyhepmc is first imported, ``pyhepmc.view`` is a stand-in whose ``to_dot`` loads the
real module on first use (probing ``dot`` only then, for whoever asked for a picture).
"""

from __future__ import annotations

import sys
import types
from typing import Any


def _to_dot(*args: Any, **kwargs: Any) -> Any:
    from pyhepmc.view import to_dot  # the real module, imported on demand

    return to_dot(*args, **kwargs)


def import_pyhepmc() -> types.ModuleType:
    """pyhepmc, imported (once) without its ``dot`` probe."""
    if "pyhepmc" in sys.modules:
        return sys.modules["pyhepmc"]
    stand_in = types.ModuleType("pyhepmc.view", "stand-in while pyhepmc is imported by recast")
    stand_in.to_dot = _to_dot  # type: ignore[attr-defined]
    sys.modules["pyhepmc.view"] = stand_in
    try:
        import pyhepmc
    finally:
        if sys.modules.get("pyhepmc.view") is stand_in:
            del sys.modules["pyhepmc.view"]  # a later `import pyhepmc.view` gets the real one
    return pyhepmc
