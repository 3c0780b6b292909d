"""The one place ``recast.train`` imports torch: absent, it says exactly what to install."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from ...errors import MissingDependencyError

log = logging.getLogger(__name__)

try:
    import torch
except ImportError:  # the runtime core never needs it; only training does
    raise MissingDependencyError(
        "torch", "train", "Training (recast.train: losses, efficiency maps)"
    ) from None


def select_device(requested: str | None = "auto") -> torch.device:
    """The device to train on: ``auto`` (or None) takes CUDA when torch sees one, else the CPU;
    ``cpu``, ``cuda`` or ``cuda:N`` are taken as given, CUDA only if it is there."""
    from ...errors import UsageError

    if requested in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind = str(requested).split(":")[0]
    if kind not in ("cpu", "cuda"):
        raise UsageError(f"device={requested!r}; give 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if kind == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device={requested!r} but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(str(requested))


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` intra-op threads (None: leave torch's setting), restored afterwards.

    The networks here are small: beyond one or two threads the cores only contend.
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch's global generator seeded for the block (initialisation), then restored."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


__all__ = ["seeded", "select_device", "threads", "torch"]
