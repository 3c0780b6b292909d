"""Published histograms of a network's inputs and outputs (issue #19): the flagship publishes
them, `recast validate` records the same ones and compares; a card built with a wrong unit, φ
range or padding fails on the input it breaks, while the bundle's own card passes."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recast.analysis.bundle import BundleCheckError, check_bundle, load_bundle, stamp_bundle
from recast.analysis.network_histograms import (
    HistogramSpec,
    HistogramSums,
    compare_histogram,
    histogram_specs,
)
from recast.errors import DigestMismatchError, InvalidDocumentError
from recast.events.cache import read_cache, read_cache_header, write_cache
from recast.pipeline.run import execute, validation_verdict
from recast.preserve.card import NetworkCard
from recast.report.validation_table import network_histograms_table, validation_tables
from recast.schema import validate

from .test_demo_multib_analysis import BUNDLE

BENCHMARK = "Gtt_2100_800"
NETWORK = "multib_demo"
CARD = "networks/multib_demo.card.json"
#: events of the test sample: about 270 reach the network (the preselection keeps 45 %)
EVENTS = 600
SEED = 7
#: the inputs the flagship histograms
INPUTS = {
    "small_R_jets_pt_0",
    "small_R_jets_phi_0",
    "small_R_jets_isb_0",
    "small_R_jets_pt_7",
    "leptons_pt_0",
    "met",
}
#: a card convention done wrong (feature pattern → fields, as NetworkCard.edited takes them)
#: and the inputs whose histograms must fail; every other input must pass
BROKEN: dict[str, tuple[dict[str, dict[str, Any]], set[str]]] = {
    "jet pT in MeV": (
        {"small_R_jets_pt_*": {"unit": "MeV"}},
        {"small_R_jets_pt_0", "small_R_jets_pt_7"},
    ),
    "φ in [0, 2π)": ({"*phi*": {"angle_range": "[0, 2pi)"}}, {"small_R_jets_phi_0"}),
    "jets padded with −5": (
        {"small_R_jets_*": {"padding": {"value": -5.0, "stage": "before_preprocessing"}}},
        {"small_R_jets_pt_7"},
    ),
}


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Truth objects of the benchmark (a cache of the reference experiment's sample, made with
    a seed of its own: independent of the published events)."""
    pytest.importorskip("pythia8mc")
    from reference_experiment.samples import make_samples

    out = tmp_path_factory.mktemp("histogram_sample")
    make_samples(BENCHMARK, out, events=EVENTS, seed=SEED)
    return out / BENCHMARK / "objects_0000.parquet"


def _bundle_with_card(folder: Path, changes: dict[str, dict[str, Any]] | None) -> Path:
    """A copy of the flagship whose card takes ``changes`` (digests re-recorded)."""
    shutil.copytree(BUNDLE, folder)
    if changes:
        card = NetworkCard.load(folder / CARD)
        card.edited(changes, "a test of the histograms").save(folder / CARD)
        stamp_bundle(folder, artefacts=True)
    return folder


def _validate(bundle: Path | str, inputs: list[Path], **run: Any) -> dict[str, Any]:
    loaded = load_bundle(bundle)
    result, settings = execute(loaded, inputs, record_histograms=BENCHMARK, seed=SEED, **run)
    return validation_verdict(loaded, result, settings, BENCHMARK)


def test_the_flagship_publishes_histograms_its_bundle_check_verifies() -> None:
    bundle = load_bundle(BUNDLE)
    documents = bundle.published_histograms()
    assert {d["benchmark"]["name"] for d in documents} == {
        "Gtt_2100_800",
        "Gbb_2100_800",
        "Gtt_2100_1",
    }
    for document in documents:
        validate(document, "network-histograms", document["benchmark"]["name"])
        assert document["network"] == NETWORK and document["normalisation"] == "sum_of_weights"
        assert {h["feature"] for h in document["inputs"]} == INPUTS
        # one output per network region: P(Gtt) at the Gtt hypotheses, P(Gbb) at the Gbb ones
        assert sorted(h["label"] for h in document["outputs"]) == ["Gbb", "Gbb", "Gtt", "Gtt"]
        rows = sum(document["inputs"][0]["counts"]) + sum(
            document["inputs"][0][f]["count"] for f in ("underflow", "overflow")
        )
        # the preselection keeps 44–49 % of the 20 000 events (docs/flagship.md)
        assert 0.4 * 20000 < rows < 0.55 * 20000
    assert any("network histogram document(s)" in line for line in check_bundle(BUNDLE))


@pytest.mark.slow
def test_the_bundles_card_passes_and_broken_cards_fail_on_the_input_they_break(
    events: Path, tmp_path: Path
) -> None:
    verdict = _validate(BUNDLE, [events])
    entries = verdict["network_histograms"]
    assert len(entries) == 10
    assert all(e["passed"] for e in entries), [(e["feature"], e["p_value"]) for e in entries]
    assert verdict["tolerance"]["histogram_p_value"] == pytest.approx(1e-3)
    # the keys the HTML report reads
    for entry in entries:
        assert {"network", "feature", "edges", "published", "recast", "chi2", "ndf", "p_value",
                "ks", "passed"} <= set(entry)  # fmt: skip
        assert len(entry["published"]["counts"]) == len(entry["edges"]) - 1
        assert len(entry["recast"]["errors"]) == len(entry["edges"]) - 1
    p_values = [e["p_value"] for e in entries]
    assert p_values == sorted(p_values)  # worst first
    for name, (changes, failing) in BROKEN.items():
        folder = _bundle_with_card(tmp_path / name.replace(" ", "_"), changes)
        broken = _validate(folder, [events])
        failed = {e["feature"] for e in broken["network_histograms"] if not e["passed"]}
        assert failed & INPUTS == failing, name
        assert not broken["passed"], name
        worst = broken["network_histograms"][0]  # the broken input leads, before the outputs
        assert worst["feature"] in failing and worst["p_value"] < 1e-6, name
        table = network_histograms_table(broken)
        assert table is not None and "fail" in str(table.caption)


@pytest.mark.slow
def test_histograms_merge_exactly_across_chunks_units_and_pickling(
    events: Path, tmp_path: Path
) -> None:
    bundle = load_bundle(BUNDLE)
    whole, _ = execute(bundle, [events], record_histograms=BENCHMARK, seed=SEED)
    small, _ = execute(bundle, [events], record_histograms=BENCHMARK, seed=SEED, chunk_size=97)
    assert whole.histograms == small.histograms  # exact sums: equal to the last bit
    # two units (two files of the same events), merged as the workers' parts are
    header = read_cache_header(events)
    chunk = next(iter(read_cache(events)))
    rest = [c for k, c in enumerate(read_cache(events)) if k > 0]
    parts = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    write_cache(parts[0], [chunk[:150]], extra=header.extra)
    write_cache(parts[1], [chunk[150:], *rest], extra=header.extra)
    split, _ = execute(bundle, parts, record_histograms=BENCHMARK, seed=SEED)
    assert split.histograms == whole.histograms
    assert pickle.loads(pickle.dumps(split)).histograms == whole.histograms  # what Dask ships
    # recorded only when asked: an ordinary run observes no network
    plain, _ = execute(bundle, [events], seed=SEED)
    assert plain.histograms == {}
    rows = sum(whole.histograms[histogram_specs(bundle.published_histograms(BENCHMARK))[0]].raw)
    assert 0.3 * EVENTS < rows < 0.6 * EVENTS


@pytest.mark.slow
def test_dask_workers_record_what_the_serial_run_records(events: Path, tmp_path: Path) -> None:
    bundle = load_bundle(BUNDLE)
    header = read_cache_header(events)
    chunks = list(read_cache(events))
    parts = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    write_cache(parts[0], chunks[:1], extra=header.extra)
    write_cache(parts[1], chunks[1:], extra=header.extra)
    serial, _ = execute(bundle, parts, record_histograms=BENCHMARK, seed=SEED)
    remote, _ = execute(bundle, parts, record_histograms=BENCHMARK, seed=SEED, workers=2)
    assert remote.histograms == serial.histograms


def test_the_validation_table_ranks_and_names_the_histograms() -> None:
    spec = HistogramSpec(NETWORK, "input", "met", (0.0, 1.0, 2.0))
    recorded = HistogramSums.empty(2)
    recorded.fill(np.asarray(spec.edges), np.array([0.5] * 40 + [1.5] * 60 + [3.0]), np.ones(101))
    published = {"edges": [0.0, 1.0, 2.0], "counts": [60.0, 40.0], "errors": [7.7, 6.3],
                 "overflow": {"count": 0.0, "error": 0.0}}  # fmt: skip
    entry = compare_histogram(spec, published, recorded)
    # three bins compared (the overflow is published): ndf 2
    assert entry["feature"] == "met" and entry["ndf"] == 2
    assert len(entry["pulls"]) == 2 and entry["worst"]["bin"].startswith("[")
    assert entry["published"]["counts"] == pytest.approx([0.6, 0.4])
    assert entry["recast"]["counts"] == pytest.approx([40 / 101, 60 / 101])
    assert entry["recast"]["overflow"] == pytest.approx(1 / 101)
    assert entry["ks"] == pytest.approx(0.6 - 40 / 101)
    verdict = {"analysis": "X", "benchmark": "b", "tolerance": {"histogram_p_value": 1e-3},
               "regions": [], "network_histograms": [entry]}  # fmt: skip
    (table,) = validation_tables(verdict)
    assert table.row_count == 1
    # the same shapes pass; no row anywhere fails with a reason
    same = compare_histogram(spec, {**published, "counts": [40.0, 60.0]}, recorded)
    assert same["passed"] and same["p_value"] > 0.5
    empty = compare_histogram(spec, published, None)
    assert not empty["passed"] and "no row" in empty["problem"]


def _toy(rng: np.random.Generator, n: int, padding: float = -0.771) -> np.ndarray:
    """A padded slot's standardised values: 30 % padding, the rest a falling spectrum."""
    padded = rng.random(n) < 0.3
    return np.where(padded, padding, 0.09 + rng.exponential(0.8, n))


def _published(spec: HistogramSpec, values: np.ndarray) -> dict[str, Any]:
    sums = HistogramSums.empty(spec.bins)
    sums.fill(np.asarray(spec.edges), values, np.ones(len(values)))
    counts, errors = sums.counts, sums.errors
    return {
        "edges": list(spec.edges),
        "counts": list(counts[1:-1]),
        "errors": list(errors[1:-1]),
        "underflow": {"count": counts[0], "error": errors[0]},
        "overflow": {"count": counts[-1], "error": errors[-1]},
    }


def test_the_p_values_of_one_shape_are_uniform_and_a_moved_spike_is_seen() -> None:
    """200 recasts of 300 rows drawn from the published shape (9000 rows): p-values spread
    as they should (sparse bins merged, never into the spike); the padding moved one bin
    over is caught in 300 rows."""
    rng = np.random.default_rng(19)
    spec = HistogramSpec(NETWORK, "input", "small_R_jets_pt_7",
                         tuple(round(-1.0 + 0.1 * k, 6) for k in range(46)))  # fmt: skip
    published = _published(spec, _toy(rng, 9000))
    p_values = []
    for _ in range(200):
        recast = HistogramSums.empty(spec.bins)
        recast.fill(np.asarray(spec.edges), _toy(rng, 300), np.ones(300))
        p_values.append(compare_histogram(spec, published, recast)["p_value"])
    p = np.array(p_values)
    assert 0.02 <= (p < 0.05).mean() <= 0.09  # 5 % expected; binomial ±3σ
    assert 0.35 <= np.median(p) <= 0.65
    assert (p < 1e-3).sum() <= 2
    moved = HistogramSums.empty(spec.bins)
    moved.fill(np.asarray(spec.edges), _toy(rng, 300, padding=-0.915), np.ones(300))
    entry = compare_histogram(spec, published, moved)
    assert entry["p_value"] < 1e-20 and entry["worst"]["bin"] == "[-1, -0.9)"


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    return _bundle_with_card(tmp_path / "DEMO_MULTIB_GLUINO", None)


def _edit_histograms(folder: Path, edit: Any) -> Path:
    path = folder / "network_histograms" / f"{BENCHMARK}_{NETWORK}.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("what", "edit", "message"),
    [
        (
            "a feature the card lacks",
            lambda d: d["inputs"][0].update(feature="small_R_jets_pT_0"),
            r"inputs\[0\]\.feature 'small_R_jets_pT_0' is not a feature of .*multib_demo\.card"
            r"\.json\. Did you mean 'small_R_jets_pt_0'",
        ),
        (
            "edges not increasing",
            lambda d: d["inputs"][1]["edges"].__setitem__(3, -2.0),
            r"inputs\[1\]\.edges are not strictly increasing \(edges\[3\] = -2 after "
            r"edges\[2\] = -1\.5\)",
        ),
        (
            "an output label the card lacks",
            lambda d: d["outputs"][0].update(label="ttbar"),
            r"outputs\[0\]\.label 'ttbar' is not an output",
        ),
        (
            "a parameter point without every parameter",
            lambda d: d["outputs"][0]["parameters"].pop("mLSP"),
            r"outputs\[0\]\.parameters must give every parameter of the network "
            r"\(isGtt, mGluino, mLSP\), not isGtt, mGluino",
        ),
    ],
)
def test_a_bad_histogram_document_is_refused_with_one_message(
    copy: Path, what: str, edit: Any, message: str
) -> None:
    _edit_histograms(copy, edit)
    stamp_bundle(copy, artefacts=True)
    for check in (load_bundle, check_bundle):
        with pytest.raises(BundleCheckError, match=message) as caught:
            check(copy)
        assert len(caught.value.problems) == 1, what
        assert f"network_histograms[0] (network_histograms/{BENCHMARK}_{NETWORK}.json)" in str(
            caught.value
        )


def test_a_modified_histogram_document_is_refused_by_its_digest(copy: Path) -> None:
    path = _edit_histograms(copy, lambda d: d["inputs"][0]["counts"].__setitem__(0, 5.0))
    with pytest.raises(DigestMismatchError, match=r"network_histograms\[0\]\.sha256") as caught:
        load_bundle(copy)
    assert str(path) in str(caught.value)
    with pytest.raises(BundleCheckError, match=r"network_histograms\[0\]: .* has sha256"):
        check_bundle(copy)


def test_a_histogram_document_against_its_schema(copy: Path) -> None:
    _edit_histograms(copy, lambda d: d.update(normalisation="area"))
    stamp_bundle(copy, artefacts=True)
    with pytest.raises(InvalidDocumentError, match="normalisation"):
        load_bundle(copy)


def test_a_bundle_of_schema_1_0_0_stays_valid() -> None:
    from recast.analysis.bundle import bundles_root

    document = json.loads((bundles_root() / "EXAMPLE_JETS_MET" / "analysis.json").read_text())
    old = {k: v for k, v in document.items() if k != "network_histograms"}
    old["schema_version"] = "1.0.0"
    old["code"] = {k: v for k, v in old["code"].items() if k != "files"}
    old.get("validation", {}).pop("normalise_after", None)
    validate(old, "analysis", "a 1.0.0 bundle")
    with pytest.raises(InvalidDocumentError, match="network_histograms"):
        validate({**old, "network_histograms": []}, "analysis", "a 1.0.0 bundle")


def test_the_python_api_compares_the_published_histograms_too() -> None:
    """recast.validate (and recast.run with a benchmark) record what the CLI records."""
    import recast

    validation = recast.validate("DEMO_MULTIB_GLUINO", benchmark="Gtt_2100_800", n_events=300)
    compared = validation.document["network_histograms"]
    assert len(compared) == 10
    assert {h["network"] for h in compared} == {"multib_demo"}
