"""`recast cache`: objects built once, read back by a run with identical results."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_cache_built_with_other_object_options_is_refused(gtt, tmp_path: Path) -> None:
    from recast.objects import ObjectConfig
    from recast.objects.cache import write_objects_cache

    cache = tmp_path / "wide.objects.parquet"
    write_objects_cache(gtt.tiny_a, cache, ObjectConfig(jet_radius=0.6))
    run = CliRunner().invoke(cli, ["run", "EXAMPLE_JETS_MET", str(cache), "--xsec", "1pb"])
    assert run.exit_code == 2
    assert "built with other options than this analysis uses (jet_radius: cache 0.6" in run.output
    assert "recast cache FILE" in run.output
