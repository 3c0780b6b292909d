"""The installed version of recast-nn (a base module: every layer may record it)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("recast-nn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
