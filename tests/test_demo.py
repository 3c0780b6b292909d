"""`make demo` runs: a small version of it, so a broken demo fails CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_the_demo_publishes_checks_evaluates_and_recasts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pythia8mc")
    from recast.demo import main

    main(["--events", "500", "--signal-events", "60", "--out", str(tmp_path)])
    output = capsys.readouterr().out
    assert output.count("ok  demo_multib_87.onnx") == 4
    assert "Gbb (2800, 1400)" in output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["analysis"] == "EXAMPLE_JETS_MET"
    assert results["normalisation"]["events"] == 60
    assert results["normalisation"]["cross_section_source"] == "generator"
    assert set(results["yields"]) == {"SR_loose", "SR_btag", "SR_nn", "CR_1L"}
