"""The runner end to end on the EXAMPLE_JETS_MET bundle: identical results however the work is
cut (chunks, files, workers, sources), exact weighted sums, and clear errors that leave nothing
behind."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
from click.testing import CliRunner

from recast import schema
from recast.analysis.bundle import available, stamp_bundle
from recast.cli import cli
from recast.errors import RecastError, UsageError
from recast.pipeline import runner
from recast.pipeline.normalise import generator_cross_section, parse_cross_section
from recast.pipeline.run import recast_run
from recast.pipeline.runner import Chain, ChainOptions, RemoteError

from .conftest import GttSample

BUNDLE = "EXAMPLE_JETS_MET"
REGIONS = {"SR_loose", "SR_btag", "SR_nn", "CR_1L"}
XSEC = "48.8fb"  # given, so that runs over differently split files normalise alike


def counts(document: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on how the work was cut."""
    return {
        "yields": document["yields"],
        "cutflows": document["cutflows"],
        "normalisation": document["normalisation"],
    }


def test_cli_run_gives_yields_in_every_region(gtt: GttSample, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    files = [str(gtt.first), str(gtt.second)]
    result = CliRunner().invoke(cli, ["run", BUNDLE, *files, "--xsec", XSEC, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "region yields at σ·L" in result.output and "cutflow SR_nn" in result.output
    document = json.loads(out.read_text())
    schema.validate(document, "results", str(out))
    assert set(document["yields"]) == REGIONS
    for region, value in document["yields"].items():
        assert value["value"] > 0 and value["raw"] > 0, region
        assert value["mc_uncertainty"] < value["value"]
        assert 0 < value["efficiency"] < 1
    norm = document["normalisation"]
    assert norm["events"] == 200 and norm["sum_weights"] == 200.0
    assert norm["factor"] == pytest.approx(0.0488 * 1000 * 139 / 200)
    assert [i["events"] for i in document["provenance"]["inputs"]] == [100, 100]
    assert document["provenance"]["seed"] == 1


def test_api_run_with_the_generator_cross_section(gtt: GttSample, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    document = recast_run(BUNDLE, [gtt.small], output=out)
    assert json.loads(out.read_text()) == document
    assert set(document["yields"]) == REGIONS
    norm = document["normalisation"]
    assert norm["cross_section_source"] == "generator"
    assert norm["cross_section_pb"] == pytest.approx(float(gtt.events.cross_section[29]), 1e-7)
    assert norm["factor"] == pytest.approx(norm["cross_section_pb"] * 1000 * 139 / 30)
    flow = document["cutflows"]["SR_loose"]
    assert flow["cuts"][0] == "initial" and flow["raw"][0] == 30


def test_two_dask_workers_give_the_serial_result(gtt: GttSample) -> None:
    files = [gtt.tiny_a, gtt.tiny_b]
    serial = recast_run(BUNDLE, files, xsec=XSEC)
    parallel = recast_run(BUNDLE, files, xsec=XSEC, workers=2)
    assert counts(parallel) == counts(serial)
    assert parallel["provenance"]["inputs"] == serial["provenance"]["inputs"]
    # and the same events in one file: sums are exact, so the split changes nothing
    assert counts(recast_run(BUNDLE, [gtt.small], xsec=XSEC)) == counts(serial)


def test_chunk_sizes_give_identical_results(gtt: GttSample) -> None:
    runs = [recast_run(BUNDLE, [gtt.tiny_a], xsec=XSEC, chunk_size=n) for n in (1, 7, 1000)]
    assert counts(runs[0]) == counts(runs[1]) == counts(runs[2])
    assert runs[0]["cutflows"]["SR_btag"]["sumw"][-1] > 0


def test_pythia_in_process_and_a_cache_give_the_file_result(gtt: GttSample, tmp_path: Path) -> None:
    from recast.events.cache import write_cache

    seed = GttSample.SEED  # --seed seeds Pythia8 (block 0: the seed itself) and the detector
    from_file = recast_run(BUNDLE, [gtt.tiny_a], xsec=XSEC, seed=seed)
    generated = recast_run(BUNDLE, [], xsec=XSEC, pythia_slha=gtt.slha, n_events=15, seed=seed)
    write_cache(tmp_path / "truth.parquet", [gtt.events[:15]])
    cached = recast_run(BUNDLE, [tmp_path / "truth.parquet"], xsec=XSEC, seed=seed)
    assert counts(cached) == counts(generated)
    assert generated["provenance"]["generation"][0]["seed"] == seed
    # the HepMC3 file lists each event's particles in another order (see hepmc_writer), so
    # jets may differ in the last bits of their momenta
    for region, flow in from_file["cutflows"].items():
        np.testing.assert_allclose(generated["cutflows"][region]["sumw"], flow["sumw"], rtol=1e-9)
        assert generated["cutflows"][region]["raw"] == flow["raw"]


@pytest.mark.parametrize("suffix", ["gz", "xz"])
def test_a_compressed_file_gives_the_plain_files_results(
    gtt: GttSample, tmp_path: Path, suffix: str
) -> None:
    """`recast generate -o x.hepmc.gz` writes the plain file's text compressed: a run over it
    gives the same document, the generator's cross-section included, but for its inputs."""
    from recast.events.hepmc_writer import write_hepmc

    packed = tmp_path / f"tiny.hepmc.{suffix}"
    write_hepmc(gtt.events[:15], packed)
    runs = [recast_run(BUNDLE, [path]) for path in (gtt.tiny_a, packed)]
    assert [run["provenance"].pop("inputs")[0]["events"] for run in runs] == [15, 15]
    assert runs[1] == runs[0]
    assert runs[0]["normalisation"]["cross_section_source"] == "generator"


def test_mixed_sign_weights_give_the_right_sums(gtt: GttSample, tmp_path: Path) -> None:
    events = gtt.events[:15]
    w = np.array([(1.0 + 0.5 * (i % 3)) * (-1.0 if i % 4 == 3 else 1.0) for i in range(15)])
    events = ak.with_field(events, w, "weight")
    events = ak.with_field(events, ak.zip({"Weight": w}), "weights")
    path = tmp_path / "mixed.hepmc"
    from recast.events.hepmc_writer import write_hepmc

    write_hepmc(events, path)
    document = recast_run(BUNDLE, [path], xsec=XSEC, chunk_size=4)
    norm = document["normalisation"]
    assert norm["sum_weights"] == pytest.approx(w.sum(), abs=1e-12)
    assert (w < 0).sum() == 3
    # Σw and Σw² of every step by hand, from the analysis's own per-event pass factors
    chain = Chain(ChainOptions(str(available()[BUNDLE]), seed=1))
    reco = chain.reconstructed(chain.objects(events))
    values = chain.analysis.cut_values(chain.analysis.derive(reco))
    for region, cuts in chain.analysis.regions.items():
        weight = np.asarray(reco.weight, dtype=np.float64)
        expected_w, expected_w2 = [weight.sum()], [np.square(weight).sum()]
        for name in cuts:
            weight = weight * values[name]
            expected_w.append(weight.sum())
            expected_w2.append(np.square(weight).sum())
        flow = document["cutflows"][region]
        factor = norm["factor"]
        np.testing.assert_allclose(flow["sumw"], factor * np.array(expected_w), rtol=1e-12)
        np.testing.assert_allclose(flow["sumw2"], factor**2 * np.array(expected_w2), rtol=1e-12)


@pytest.fixture
def broken_bundle(tmp_path: Path) -> Path:
    """A copy of the bundle whose selection raises on events numbered 10 and above."""
    folder = tmp_path / BUNDLE
    shutil.copytree(available()[BUNDLE], folder)
    code = folder / "analysis.py"
    text = code.read_text().replace(
        "        return events.n_leptons == 0\n",
        "        if ak.max(events.event_number) >= 10:\n"
        "            raise ZeroDivisionError('a bug in the selection')\n"
        "        return events.n_leptons == 0\n",
        1,
    )
    code.write_text(text)
    stamp_bundle(folder)  # the edit is recorded, or the bundle's code would be refused
    return folder


def test_a_selection_error_names_analysis_file_and_chunk_and_leaves_no_output(
    gtt: GttSample, broken_bundle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.json"
    args = ["run", str(broken_bundle), str(gtt.tiny_a), "--xsec", XSEC, "--chunk-size", "5"]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 2
    message = result.output
    assert f"analysis {BUNDLE} failed on {gtt.tiny_a}, chunk 2 (events 10–14" in message
    assert "event numbers 10–14" in message
    assert "ZeroDivisionError: a bug in the selection" in message
    assert "Traceback" not in message
    assert not out.exists() and not list(tmp_path.glob(".results.json*"))


def test_an_interrupted_run_leaves_no_results_file(
    gtt: GttSample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = Chain.reconstructed

    def interrupt(self: Chain, objects: ak.Array) -> ak.Array:
        calls.append(len(objects))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, objects)

    monkeypatch.setattr(Chain, "reconstructed", interrupt)
    out = tmp_path / "results.json"
    with pytest.raises(KeyboardInterrupt):
        recast_run(BUNDLE, [gtt.small], xsec=XSEC, chunk_size=10, output=out)
    assert calls == [10, 10, 10]  # the third chunk of three
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("xsec", ["12.3", "fb", "-1fb", "0pb", "nanpb", "12 furlongs", "1.2.3pb"])
def test_xsec_parsing_errors(gtt: GttSample, xsec: str) -> None:
    result = CliRunner().invoke(cli, ["run", BUNDLE, str(gtt.small), "--xsec", xsec])
    assert result.exit_code == 2
    assert f"--xsec {xsec!r}: expected a positive number with a unit, e.g. 12.3fb" in result.output


def test_cross_section_units() -> None:
    assert parse_cross_section("12.3fb") == pytest.approx(0.0123)
    assert parse_cross_section(" 1.2e-3 nb ") == pytest.approx(1.2)
    assert parse_cross_section("0.046PB") == pytest.approx(0.046)
    assert parse_cross_section("500ab") == pytest.approx(5e-4)
    assert generator_cross_section([(2.0, 0.1, 100), (1.0, 0.1, 300)]) == pytest.approx(
        (1.25, 0.1 * np.sqrt(100**2 + 300**2) / 400)
    )


def test_a_missing_event_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", BUNDLE, str(tmp_path / "nope.hepmc"), "-o", "x"])
    assert result.exit_code == 2
    assert f"error: {tmp_path / 'nope.hepmc'}: no such event file" in result.output


def test_argument_errors_come_before_any_event_is_read(gtt: GttSample) -> None:
    for args, message in (
        ([], "no input: give HepMC3 files"),
        (["--lumi", "-5"], "--lumi -5.0: give a positive integrated luminosity"),
        (["--chunk-size", "0"], "--chunk-size must be positive"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--events", "10"], "--events is the number of events to generate"),
    ):
        files = [str(gtt.small)] if args else []
        result = CliRunner().invoke(cli, ["run", BUNDLE, *files, *args])
        assert result.exit_code == 2, args
        assert message in result.output, result.output


def test_no_cross_section_and_no_xsec_is_a_clear_error(gtt: GttSample, tmp_path: Path) -> None:
    from recast.events.hepmc_writer import write_hepmc

    events = gtt.events[:5]
    nan = np.full(len(events), np.nan)
    events = ak.with_field(events, nan, "cross_section")
    events = ak.with_field(events, nan, "cross_section_error")
    write_hepmc(events, tmp_path / "no_xsec.hepmc")
    result = CliRunner().invoke(cli, ["run", BUNDLE, str(tmp_path / "no_xsec.hepmc")])
    assert result.exit_code == 2
    assert "the events carry no cross-section: give one with --xsec (e.g. --xsec 12.3fb)" in (
        result.output
    )


class Unpicklable(RecastError):
    """Like BundleCheckError: pickle cannot call this __init__ with the message alone."""

    exit_code = 1

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: {problems}")


def test_errors_come_back_from_workers_with_their_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise Unpicklable("bundle", ["a", "b"])

    monkeypatch.setattr(runner, "run_unit", fail)
    unit, options = runner.WorkUnit("hepmc", "x"), ChainOptions("b")
    # whichever way it travels (tblib, once distributed is imported, pickles it as it is)
    with pytest.raises(RecastError) as caught:
        runner._run_remote(unit, options)
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == "bundle: ['a', 'b']" and again.exit_code == 1

    def refuse(data: bytes) -> None:
        raise TypeError("missing 1 required positional argument")

    monkeypatch.setattr(runner.pickle, "loads", refuse)
    with pytest.raises(RemoteError) as remote:
        runner._run_remote(unit, options)
    assert str(remote.value) == "bundle: ['a', 'b']" and remote.value.exit_code == 1


def test_pythia_blocks_do_not_depend_on_workers() -> None:
    units = runner.pythia_units("gtt.slha", 1200, seed=899_999_999)
    assert [(u.first_event, u.n_events) for u in units] == [(0, 500), (500, 500), (1000, 200)]
    seeds = [u.seed for u in units]
    assert seeds[0] == 899_999_999  # block 0 is `recast generate --seed SEED`
    assert all(1 <= s <= 900_000_000 for s in seeds) and len(set(seeds)) == 3
    assert seeds == [u.seed for u in runner.pythia_units("gtt.slha", 1200, seed=899_999_999)]
    # neighbouring user seeds must not share blocks (seed + i made runs 1 and 2 share 7 of 8)
    one = {u.seed for u in runner.pythia_units("gtt.slha", 4000, seed=1)}
    two = {u.seed for u in runner.pythia_units("gtt.slha", 4000, seed=2)}
    assert not one & two
    with pytest.raises(UsageError, match="seeds run from 1 to 900000000"):
        runner.pythia_units("gtt.slha", 10, seed=0)


def test_byte_ranges_of_one_file_give_the_whole_file_result(gtt: GttSample) -> None:
    partition = pytest.importorskip("recast.events.partition")
    options = ChainOptions(str(available()[BUNDLE]), seed=1)
    ranges = partition.partition_hepmc(gtt.small, 3)
    assert len(ranges) == 3
    whole = runner.run_units([runner.WorkUnit("hepmc", str(gtt.small))], options)
    parts = [runner.WorkUnit("hepmc", str(gtt.small), byte_range=r) for r in ranges]
    split = runner.run_units(parts, options)
    assert split.sum_weights_exact == whole.sum_weights_exact and split.events == 30
    assert {k: v.to_dict() for k, v in split.cutflows.items()} == {
        k: v.to_dict() for k, v in whole.cutflows.items()
    }
    assert split.inputs == whole.inputs  # one entry for the file, its 30 events
    assert "bytes" in parts[1].label


def test_one_file_split_across_two_workers_equals_the_serial_run(gtt) -> None:
    """With more workers than files, the file is read in byte ranges: same results, and the
    generator's cross-section is the final estimate, as in the serial run."""
    from recast.pipeline.run import recast_run
    from recast.pipeline.runner import units_for

    units = units_for([gtt.first], workers=2)
    assert [u.parts for u in units] == [2, 2]
    serial = recast_run("EXAMPLE_JETS_MET", [gtt.first])
    parallel = recast_run("EXAMPLE_JETS_MET", [gtt.first], workers=2)
    assert parallel["yields"] == serial["yields"]
    assert parallel["cutflows"] == serial["cutflows"]
    assert parallel["normalisation"] == serial["normalisation"]
    assert parallel["provenance"]["inputs"] == serial["provenance"]["inputs"]
    assert serial["provenance"]["inputs"][0]["events"] == 100
