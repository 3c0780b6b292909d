"""`recast cache`: objects built once, read back by a run with identical results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recast.cli import cli


def test_a_run_on_the_cache_equals_a_run_on_the_hepmc_file(gtt, tmp_path: Path) -> None:
    runner = CliRunner()
    cache = tmp_path / "small.objects.parquet"
    made = runner.invoke(
        cli, ["cache", str(gtt.small), "-o", str(cache), "--analysis", "EXAMPLE_JETS_MET"]
    )
    assert made.exit_code == 0, made.output
    assert "wrote the objects of 30 events" in made.output
    results = {}
    for name, source in (("hepmc", gtt.small), ("cache", cache)):
        out = tmp_path / f"{name}.json"
        run = runner.invoke(
            cli, ["run", "EXAMPLE_JETS_MET", str(source), "--xsec", "0.05pb", "-o", str(out)]
        )
        assert run.exit_code == 0, run.output
        results[name] = json.loads(out.read_text())
    assert results["cache"]["yields"] == results["hepmc"]["yields"]
    assert results["cache"]["cutflows"] == results["hepmc"]["cutflows"]


def test_the_cache_keeps_the_generators_cross_section(gtt, tmp_path: Path) -> None:
    """Without --xsec, a run over the cache normalises as over its HepMC3 file: the same
    document but for the inputs it names."""
    runner = CliRunner()
    cache = tmp_path / "small.objects.parquet"
    made = runner.invoke(cli, ["cache", str(gtt.small), "-o", str(cache)])
    assert made.exit_code == 0, made.output
    results = {}
    for name, source in (("hepmc", gtt.small), ("cache", cache)):
        out = tmp_path / f"{name}.json"
        run = runner.invoke(cli, ["run", "EXAMPLE_JETS_MET", str(source), "-o", str(out)])
        assert run.exit_code == 0, run.output
        results[name] = json.loads(out.read_text())
        assert results[name]["provenance"].pop("inputs")[0]["path"] == str(source)
        results[name]["provenance"].pop("packages")  # versions only; the same here anyway
    norm = results["cache"]["normalisation"]
    assert norm["cross_section_source"] == "generator" and norm["events"] == 30
    # Pythia's running estimate after the 30th event, as the file states it (8 digits)
    assert norm["cross_section_pb"] == pytest.approx(gtt.events["cross_section"][29], rel=1e-7)
    assert results["cache"] == results["hepmc"]


def test_a_cache_written_without_cross_sections_still_reads(gtt, tmp_path: Path) -> None:
    """A cache whose objects lack the cross-section columns (as every cache of recast-nn
    before them): it runs with --xsec, and without asks for one as a file without any."""
    import awkward as ak

    from recast.events.cache import read_cache, read_cache_header, write_cache
    from recast.objects.cache import CROSS_SECTION_FIELDS

    full = tmp_path / "full.objects.parquet"
    made = CliRunner().invoke(cli, ["cache", str(gtt.tiny_a), "-o", str(full)])
    assert made.exit_code == 0, made.output
    header = read_cache_header(full)
    old = tmp_path / "old.objects.parquet"
    chunks = [
        c[[f for f in ak.fields(c) if f not in CROSS_SECTION_FIELDS]] for c in read_cache(full)
    ]
    write_cache(old, chunks, source=gtt.tiny_a, extra=header.extra)
    runner = CliRunner()
    given = runner.invoke(cli, ["run", "EXAMPLE_JETS_MET", str(old), "--xsec", "0.05pb"])
    assert given.exit_code == 0, given.output
    missing = runner.invoke(cli, ["run", "EXAMPLE_JETS_MET", str(old)])
    assert missing.exit_code == 2
    assert "the events carry no cross-section: give one with --xsec" in missing.output


def test_a_cache_built_with_other_object_options_is_refused(gtt, tmp_path: Path) -> None:
    from recast.objects import ObjectConfig
    from recast.objects.cache import write_objects_cache

    cache = tmp_path / "wide.objects.parquet"
    write_objects_cache(gtt.tiny_a, cache, ObjectConfig(jet_radius=0.6))
    run = CliRunner().invoke(cli, ["run", "EXAMPLE_JETS_MET", str(cache), "--xsec", "1pb"])
    assert run.exit_code == 2
    assert "built with other options than this analysis uses (jet_radius: cache 0.6" in run.output
    assert "recast cache FILE" in run.output
