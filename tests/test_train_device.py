"""The training device: CUDA when torch sees it, the CPU otherwise, clear errors for the rest."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from recast.errors import UsageError  # noqa: E402
from recast.train.core._torch import select_device  # noqa: E402


def test_auto_takes_cuda_only_when_there() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device("auto").type == expected
    assert select_device(None).type == expected
    assert select_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(UsageError, match="torch sees no CUDA device; use 'auto' or 'cpu'"):
        select_device("cuda:0")


def test_unknown_device_is_refused() -> None:
    with pytest.raises(UsageError, match="give 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        select_device("gpu")


def test_efficiency_config_refuses_an_unknown_device() -> None:
    from recast.train.core.config import config_problems

    def device_problems(device: str) -> list[tuple[str, str]]:
        problems = config_problems({"trainer": {"device": device}}, "train-efficiency", "c.json")
        return [(where, message) for where, message in problems if "device" in where]

    assert device_problems("auto") == [] and device_problems("cuda:1") == []
    assert device_problems("gpu")
