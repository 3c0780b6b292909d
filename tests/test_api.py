"""The curated Python API: the docs page runs as written, results are typed, nothing is
written or drawn unasked, messages name keywords, and the API agrees with the command line."""

from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import recast
from recast.errors import UsageError

from .docs_pages import DOCS

FLAGSHIP = "DEMO_MULTIB_GLUINO"


def _python_blocks(page: str) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S))


def test_the_curated_names_are_exported_and_load_lazily() -> None:
    import subprocess

    for name in recast.__all__:
        assert getattr(recast, name) is not None, name
    # `import recast` alone pulls in no stage: the command line and notebooks start fast
    code = "import sys, recast; print(sorted(m for m in sys.modules if m.startswith('recast')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "recast.pipeline" not in loaded.stdout and "recast.events" not in loaded.stdout
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        recast.nonsense  # noqa: B018


@pytest.mark.slow
def test_the_api_page_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pythia8mc")
    import matplotlib

    backend = matplotlib.get_backend()
    script = tmp_path / "api_page.py"
    script.write_text(_python_blocks("api.md"))
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script), run_name="__main__")
    printed = capsys.readouterr().out
    run, validation = namespace["run"], namespace["validation"]
    # the ten-line example: yields, the cutflow beside the published one, CLs, the verdict
    assert "region yields at σ·L" in printed and "benchmark Gtt_2100_1" in printed
    assert "validation passed" in printed and "verdict" in printed
    # the page's numbers, with margins for what a CPU may change (onnxruntime's kernels);
    # Pythia8's events are the same on any x86-64 machine (see test_docs.assert_prints)
    signal = run.yields["SR-NN-Gtt-2100-1"]
    assert signal.raw == pytest.approx(167, abs=3) and signal.value == pytest.approx(6.24, 0.02)
    assert run.limits.excluded and validation.passed
    assert run.limits.source == "region SR-NN-Gtt-2100-1"
    assert run.limits.cls.observed == pytest.approx(0.00497, rel=0.1)
    assert run.limits.mu95.observed == pytest.approx(0.585, rel=0.05)
    assert "excluded at 95 % CL by region SR-NN-Gtt-2100-1" in run.limits.verdict
    assert run.table().num_rows == len(run.yields) == 9
    assert {"cut", "recast", "published", "ratio", "pull"} <= set(validation.table().column_names)
    # files, caches and the saved document
    assert "file and cache agree: True" in printed
    saved = json.loads((namespace["work"] / "results.json").read_text())
    assert saved == json.loads(namespace["from_file"].to_json())
    assert namespace["table"].failed == 0
    # the API chose no backend and wrote nothing beside what the page asked for
    assert matplotlib.get_backend() == backend
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api_page.py"]


@pytest.fixture(scope="module")
def small_run() -> recast.RunResult:
    pytest.importorskip("pythia8mc")
    return recast.run(FLAGSHIP, benchmark="Gtt_2100_1", n_events=200)


@pytest.mark.slow
def test_a_run_is_the_document_recast_run_writes(
    small_run: recast.RunResult, tmp_path: Path
) -> None:
    from recast.cli import cli

    point = recast.find_benchmark(FLAGSHIP, "Gtt_2100_1")
    out = tmp_path / "cli.json"
    args = ["run", FLAGSHIP, "--pythia-slha", str(point.slha), "--events", "200"]
    args += ["--xsec", f"{point.cross_section_pb}pb", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    ours = json.loads(small_run.to_json())
    for document in (written, ours):  # versions and where the bundle was: not the result
        document.pop("provenance")
    # the same σ, told by the user on the command line, taken from the benchmark in Python
    assert written["normalisation"].pop("cross_section_source") == "user"
    assert ours["normalisation"].pop("cross_section_source") == "benchmark"
    assert written == ours


@pytest.mark.slow
def test_progress_takes_a_bool_or_a_callback(small_run: recast.RunResult) -> None:
    seen: list[int] = []
    again = recast.run(FLAGSHIP, benchmark="Gtt_2100_1", n_events=200, progress=seen.append)
    assert sum(seen) == 200
    assert again.yields == small_run.yields  # the same seed: the same events
    quiet = recast.run(FLAGSHIP, benchmark="Gtt_2100_1", n_events=200, progress=False)
    assert quiet.yields == small_run.yields
    with pytest.raises(UsageError, match="progress='yes'"):
        recast.run(FLAGSHIP, benchmark="Gtt_2100_1", n_events=10, progress="yes")  # type: ignore[arg-type]


@pytest.mark.slow
def test_validate_names_the_benchmark_and_reuses_the_run(small_run: recast.RunResult) -> None:
    validation = small_run.validate()
    assert validation.benchmark == "Gtt_2100_1"
    assert {r["region"] for r in validation.records()} >= {"SR-Gtt-1L", "SR-NN-Gtt-2100-1"}
    with pytest.raises(UsageError, match="has no published cutflow for benchmark 'Gtt_210'"):
        small_run.validate("Gtt_210")
    with pytest.raises(UsageError, match=r"no region 'SR-Gtt-1l'.*SR-Gtt-1L"):
        small_run.cutflow_records("SR-Gtt-1l")


def test_messages_name_keywords_in_python_and_flags_on_the_command_line(tmp_path: Path) -> None:
    from recast.cli import cli

    with pytest.raises(UsageError) as caught:
        recast.run("EXAMPLE_JETS_MET", [], slha="nonexistent.slha")
    assert "slha needs n_events" in str(caught.value) and "--" not in str(caught.value)
    with pytest.raises(UsageError, match=r"^chunk_size must be positive, not 0"):
        recast.run("EXAMPLE_JETS_MET", [tmp_path / "x.hepmc"], chunk_size=0)
    with pytest.raises(UsageError, match=r"workers=999: this machine"):
        recast.run("EXAMPLE_JETS_MET", [tmp_path / "x.hepmc"], workers=999)
    result = CliRunner().invoke(cli, ["run", "EXAMPLE_JETS_MET", "--pythia-slha", "x.slha"])
    assert result.exit_code == 2 and "--pythia-slha needs --events" in result.output
    # the command line's context does not leak into the library afterwards
    with pytest.raises(UsageError, match=r"^chunk_size must"):
        recast.run("EXAMPLE_JETS_MET", [tmp_path / "x.hepmc"], chunk_size=0)


def test_results_and_limits_from_a_document(tmp_path: Path) -> None:
    """recast.limits takes a results document as recast.run returns it, or its file."""
    from recast.pipeline.limits import limits_for_results

    with pytest.raises(UsageError, match="did not run from a shipped or installed bundle"):
        limits_for_results(
            {
                "schema_version": "1.0.0",
                "analysis": "NOT_A_BUNDLE",
                "normalisation": {
                    "cross_section_pb": 1.0,
                    "luminosity_fb": 1.0,
                    "sum_weights": 1.0,
                    "factor": 1.0,
                },
                "yields": {},
                "cutflows": {},
                "provenance": {"recast_version": "0", "seed": 1, "bundle": {}, "inputs": []},
            }
        )


@pytest.mark.slow
def test_a_benchmark_run_records_the_benchmark_cross_section(
    small_run: recast.RunResult, tmp_path: Path
) -> None:
    norm = small_run.document["normalisation"]
    assert norm["cross_section_source"] == "benchmark"
    assert (
        norm["cross_section_pb"] == recast.find_benchmark(FLAGSHIP, "Gtt_2100_1").cross_section_pb
    )
    # a notebook cell shows the tables; repr is one line
    assert repr(small_run).startswith("<RunResult DEMO_MULTIB_GLUINO: 9 regions, 200 events")
    assert "\n" not in repr(small_run) and "\n" not in repr(small_run.limits)


@pytest.mark.slow
def test_save_never_replaces_what_the_result_was_made_from(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    point = recast.find_benchmark(FLAGSHIP, "Gtt_2100_1")
    events = tmp_path / "gtt.hepmc"
    recast.generate(point.slha, 100, events, seed=3)
    before = events.read_bytes()
    run = recast.run(FLAGSHIP, events, xsec=np.float64(point.cross_section_pb), n_events=None)
    with pytest.raises(recast.RecastError, match="output"):
        run.save(events)
    assert events.read_bytes() == before
    validation = run.validate("Gtt_2100_1")
    with pytest.raises(recast.RecastError, match="plot"):
        validation.plot(events)
    # numpy numbers are numbers: the run above took an np.float64 cross-section
    assert run.document["normalisation"]["cross_section_pb"] == pytest.approx(
        point.cross_section_pb
    )
    # without a cross-section in the files, recast.validate uses the benchmark's published one
    plain = tmp_path / "no_xs.hepmc"
    plain.write_text(
        "".join(x for x in events.read_text().splitlines(True) if "GenCrossSection" not in x)
    )
    checked = recast.validate(FLAGSHIP, plain, benchmark="Gtt_2100_1", lumi=139)
    assert checked.document["normalisation"]["cross_section_source"] == "user"
    assert checked.document["normalisation"]["cross_section_pb"] == pytest.approx(
        point.cross_section_pb
    )
    # the limits of a run come from its own bundle, shipped or copied
    assert recast.limits(run).verdict == run.limits.verdict


@pytest.mark.parametrize(
    ("keywords", "words"),
    [
        ({"n_events": "10"}, "n_events='10': give a whole number"),
        ({"n_events": 1.5}, "n_events=1.5: give a whole number"),
        ({"workers": None}, "workers=None: give a whole number"),
        ({"chunk_size": "1000"}, "chunk_size='1000': give a whole number"),
        ({"seed": True}, "seed=True: give a whole number"),
        ({"lumi": "139fb-1"}, "lumi='139fb-1': give the integrated luminosity in fb⁻¹"),
        ({"networks": "x.onnx"}, "networks='x.onnx': give a dict"),
        ({"options": ["a"]}, "options=['a']: give a dict"),
        ({"xsec": [1.0]}, "xsec=[1.0]: give the cross-section as a string with a unit"),
        ({"options": {"nonsense": 1}}, "options['nonsense']: EXAMPLE_JETS_MET has no such option"),
        ({"detector": "nope"}, "detector='nope'"),
    ],
)
def test_arguments_of_the_wrong_kind_are_refused_before_any_event(
    tmp_path: Path, keywords: dict[str, object], words: str
) -> None:
    events = tmp_path / "never_read.hepmc"
    events.write_text("HepMC::Version 3.02.06\nHepMC::Asciiv3-START_EVENT_LISTING\n")
    with pytest.raises(recast.RecastError) as caught:
        recast.run("EXAMPLE_JETS_MET", events, **keywords)  # type: ignore[arg-type]
    assert words in str(caught.value)
    assert "--" not in str(caught.value).split(":")[0]


def test_a_bundle_is_named_by_id_path_or_bundle() -> None:
    with pytest.raises(recast.RecastError, match="analysis=None: give a shipped bundle's id"):
        recast.run(None, [])  # type: ignore[arg-type]
    with pytest.raises(recast.RecastError, match="results=123"):
        recast.limits(123)  # type: ignore[arg-type]
