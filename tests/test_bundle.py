"""Bundles: the shipped example checks, lists, validates against its own reference cutflow, ships
in the wheel; broken copies of it fail `recast bundle check` with every problem named. The
authoring helpers (cut families, options read from analysis.json, network scores) and the
shipped bundles' declarations, pinned cut by cut."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import awkward as ak
import numpy as np
import pytest
from click.testing import CliRunner

from recast.analysis import (
    Analysis,
    AnalysisDefinitionError,
    NetworkNotLoadedError,
    cut,
    network_scores,
    threshold,
    window,
)
from recast.analysis import bundle as bundle_module
from recast.analysis.bundle import (
    BundleCheckError,
    BundleNotFoundError,
    available,
    check_bundle,
    load_bundle,
    stamp_bundle,
)
from recast.cli import cli
from recast.errors import UsageError

from . import test_atlas_susy_2018_30 as atlas
from . import test_demo_multib_analysis as demo
from .conftest import GttSample

BUNDLE = "EXAMPLE_JETS_MET"
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def edit_json(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def rerecord(folder: Path, relative: str) -> None:
    """Record a changed artefact's new digest, as its author would."""
    digest = hashlib.sha256((folder / relative).read_bytes()).hexdigest()

    def update(document: dict[str, Any]) -> None:
        for artefact in document["cutflows"]:
            if artefact["path"] == relative:
                artefact["sha256"] = digest

    edit_json(folder / "analysis.json", update)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / BUNDLE
    shutil.copytree(available()[BUNDLE], folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_the_example_passes_bundle_check() -> None:
    result = run("bundle", "check", BUNDLE)
    assert result.exit_code == 0, result.output
    assert "ok  network 'signal_mlp': card passes every check" in result.output
    assert "ok  detector 'example_detector'" in result.output
    assert "ok  4 published cutflow(s) name only their region's cuts" in result.output
    assert result.output.endswith(f"{BUNDLE}: bundle passes every check\n")


def test_recast_list_shows_the_bundle_and_its_status() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    assert BUNDLE in result.output
    assert "UNVALIDATED (an example for the documentation, not a published analysis)" in (
        result.output
    )
    assert "3 signal, 1 control" in result.output  # names: recast bundle check


def test_the_bundle_document() -> None:
    bundle = load_bundle(BUNDLE)
    assert bundle.status == "UNVALIDATED"
    assert bundle.document["sqrt_s"] == 13 and bundle.document["luminosity"] == 139
    assert {c["region"] for c in bundle.published(benchmark="gtt_1200_100")} == set(bundle.regions)
    topics = {c["topic"] for c in bundle.document["choices"]}
    assert {"b-tagging", "network", "reference cutflow"} <= topics
    for cutflow in bundle.cutflows:
        assert cutflow["benchmark"]["events_generated"] == GttSample.EVENTS
        assert f"seed {GttSample.SEED}" in cutflow["benchmark"]["generator"]
        assert "produced with recast itself" in cutflow["provenance"]["notes"]
    size = sum(p.stat().st_size for p in bundle.folder.rglob("*") if "__pycache__" not in p.parts)
    assert size < 100_000


def test_validate_against_the_bundles_own_cutflow(gtt: GttSample, tmp_path: Path) -> None:
    out, plot = tmp_path / "verdict.json", tmp_path / "verdict.png"
    files = [str(gtt.first), str(gtt.second)]
    result = run(
        "validate",
        BUNDLE,
        *files,
        "--benchmark",
        "gtt_1200_100",
        "-o",
        str(out),
        "--plot",
        str(plot),
    )
    assert result.exit_code == 0, result.output
    assert f"{BUNDLE}, benchmark gtt_1200_100: every step passes" in result.output
    verdict = json.loads(out.read_text())
    assert verdict["passed"] and verdict["normalisation"]["cross_section_source"] == "benchmark"
    assert [r["region"] for r in verdict["regions"]] == ["SR_loose", "SR_btag", "SR_nn", "CR_1L"]
    for region in verdict["regions"]:
        # the reference was made from this very sample: a regression check, to rounding
        assert region["initial"]["recast"] == pytest.approx(region["initial"]["published"], 1e-12)
        for step in region["steps"]:
            assert step["ratio"] == pytest.approx(1.0, abs=1e-12), step
            assert step["pull"] == pytest.approx(0.0, abs=1e-9)
            assert step["recast_relative"] == pytest.approx(step["published_relative"], 1e-12)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_fails_when_the_yields_disagree(gtt: GttSample, tmp_path: Path) -> None:
    out = tmp_path / "verdict.json"
    result = run("validate", BUNDLE, str(gtt.small), "--benchmark", "gtt_1200_100", "--xsec", "1pb")
    assert result.exit_code == 1
    assert "FAILED in SR_loose, SR_btag, SR_nn, CR_1L" in result.output
    assert not out.exists()


def test_validate_an_unknown_benchmark(gtt: GttSample) -> None:
    result = run("validate", BUNDLE, str(gtt.small), "--benchmark", "gtt_1200_10")
    assert result.exit_code == 2
    assert "has no published cutflow for benchmark 'gtt_1200_10'; it has gtt_1200_100." in (
        result.output
    )
    assert "Did you mean 'gtt_1200_100'?" in result.output


def test_a_published_cutflow_naming_an_unknown_cut_fails_the_check(copy: Path) -> None:
    relative = "cutflows/gtt_1200_100_SR_loose.json"

    def rename(document: dict[str, Any]) -> None:
        document["steps"][1]["cut"] = "met_20"

    edit_json(copy / relative, rename)
    rerecord(copy, relative)
    result = run("bundle", "check", str(copy))
    assert result.exit_code == 1
    assert "1 problem(s)" in result.output
    assert (
        f"cutflows[0] ({relative}): step 'met_20' is not a cut of region 'SR_loose'"
        in result.output
    )
    assert "Did you mean 'met_200'" in result.output
    with pytest.raises(BundleCheckError, match="step 'met_20'"):
        load_bundle(copy)  # a run refuses it too


def test_every_problem_is_listed_together(copy: Path) -> None:
    relative = "cutflows/gtt_1200_100_CR_1L.json"

    def wrong(document: dict[str, Any]) -> None:
        document["region"] = "CR_2L"
        document["analysis"] = "OTHER"

    edit_json(copy / relative, wrong)
    rerecord(copy, relative)

    def region(document: dict[str, Any]) -> None:
        document["regions"]["SR_nn"]["cuts"].append("nn_scor")

    edit_json(copy / "analysis.json", region)
    with pytest.raises(BundleCheckError) as caught:
        check_bundle(copy)
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert any("region 'SR_nn' uses cut 'nn_scor'" in p and "'nn_score'" in p for p in problems)
    assert any(
        "region 'CR_2L' is not in analysis.json. Did you mean 'CR_1L'" in p for p in problems
    )
    assert any("analysis 'OTHER' is not this bundle's id" in p for p in problems)


def test_a_tampered_artefact_fails_the_check(copy: Path) -> None:
    card = copy / "networks" / "signal_mlp.card.json"
    card.write_text(card.read_text().replace("sigmoid", "softmax", 1))
    result = run("bundle", "check", str(copy))
    assert result.exit_code == 1
    assert "networks.signal_mlp: networks/signal_mlp.card.json has sha256" in result.output
    assert "the file was modified or replaced" in result.output


def test_an_unknown_bundle() -> None:
    result = run("bundle", "check", "EXAMPLE_JETS_MTE")
    assert result.exit_code == 2
    assert "no analysis bundle 'EXAMPLE_JETS_MTE'" in result.output
    assert "Did you mean 'EXAMPLE_JETS_MET'?" in result.output
    with pytest.raises(BundleNotFoundError):
        load_bundle("NOPE")


# -- authoring helpers ------------------------------------------------------------------------
class Families(Analysis):
    cut_families = (
        threshold("n_jets", ">=", (4, 6), "≥ {value} jets"),
        threshold("met_pt", ">", 200, "E_T^miss > 200 GeV", name="met"),
        threshold("n_jets", ">=", 9, suffix="_n_b_ge_3"),
        threshold("x", "<", -2.0, name="log10_p"),
        window("score", 0.5, 0.8, "window {low}-{high}", name="p", network="net"),
    )
    calls: ClassVar[list[int]] = []

    def variables(self, events: ak.Array) -> dict[str, Any]:
        return {"n_jets": ak.num(events.jets, axis=1), "met_pt": events.met}

    @network_scores("net")
    def scores(self, events: ak.Array, session: Any) -> dict[str, Any]:
        self.calls.append(len(events))
        return {"score": session(events)}

    def setup(self) -> None:
        self.threshold = self.option("threshold")


FAMILY_EVENTS = ak.Array(
    {
        "jets": [[1.0] * 4, [1.0] * 9, [1.0] * 2],
        "met": [250.0, 200.0, 300.0],
        "x": [-3.0, -2.0, -1.0],
        "weight": [1.0, 1.0, 1.0],
    }
)


def test_a_cut_declared_twice_raises_also_across_subclasses() -> None:
    class Base(Analysis):
        @cut("met_200")
        def met(self, events: ak.Array) -> ak.Array:
            return events.met > 200

    with pytest.raises(AnalysisDefinitionError, match="cut 'met_200' is declared twice"):

        class Child(Base):
            @cut("met_200", "the same name on another method")
            def met_again(self, events: ak.Array) -> ak.Array:
                return events.met > 250

    class Override(Base):  # the same method redefined is not a second declaration
        @cut("met_200")
        def met(self, events: ak.Array) -> ak.Array:
            return events.met > 200.0

    assert list(Override.cuts) == ["met_200"]
    with pytest.raises(AnalysisDefinitionError, match="'met_gt_200' is declared twice"):

        class FamilyAndMethod(Families):
            @cut("met_gt_200")
            def met(self, events: ak.Array) -> ak.Array:
                return events.met_pt > 200

    with pytest.raises(AnalysisDefinitionError, match="'n_jets_ge_4' is declared twice"):

        class TwoFamilies(Analysis):
            cut_families = (threshold("n_jets", ">=", (4, 5)), threshold("n_jets", ">=", 4))


@pytest.mark.parametrize("name", ["initial", "2jets", "met 200", ""])
def test_cut_names_must_be_usable_in_analysis_json(name: str) -> None:
    with pytest.raises(AnalysisDefinitionError, match="use letters, digits"):
        cut(name)


def test_a_cut_returning_a_value_outside_zero_one_raises() -> None:
    class Bad(Analysis):
        @cut("weighty")
        def weighty(self, events: ak.Array) -> ak.Array:
            return events.x

    chunk = ak.Array({"x": [0.5, 1.5, float("nan")], "weight": [1.0, 1.0, 1.0]})
    with pytest.raises(AnalysisDefinitionError, match=r"cut 'weighty' returned 1.5 for 2 event"):
        Bad({"SR": ["weighty"]}).process(chunk)


def test_the_wheel_carries_the_bundle(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    prefix = f"recast/_data/analyses/{BUNDLE}/"
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if n.startswith(prefix)}
        document = json.loads(archive.read(prefix + "analysis.json"))
        artefacts = [document["detector"], *document["networks"].values(), *document["cutflows"]]
        for artefact in artefacts:
            data = archive.read(prefix + artefact["path"])
            assert hashlib.sha256(data).hexdigest() == artefact["sha256"], artefact["path"]
    assert {prefix + "analysis.py", prefix + "networks/signal_mlp.onnx"} <= names
    assert not any("__pycache__" in n for n in names)


def test_cut_families_name_each_cut_from_its_declaration() -> None:
    assert list(Families.cuts) == [
        "n_jets_ge_4",
        "n_jets_ge_6",
        "met_gt_200",
        "n_jets_ge_9_n_b_ge_3",
        "log10_p_lt_-2.0",
        "p_in_0.5_0.8",
    ]
    assert Families.cuts["n_jets_ge_6"].description == "≥ 6 jets"
    assert Families.cuts["p_in_0.5_0.8"].description == "window 0.5-0.8"
    ana = Families(
        {"R": ["n_jets_ge_4", "met_gt_200", "log10_p_lt_-2.0"]}, options={"threshold": 1}
    )
    values = ana.cut_values(ana.derive(FAMILY_EVENTS))
    assert values["n_jets_ge_4"].tolist() == [1, 1, 0]
    assert values["met_gt_200"].tolist() == [1, 0, 1]  # strict
    assert values["log10_p_lt_-2.0"].tolist() == [1, 0, 0]


def test_a_network_is_evaluated_once_per_chunk_and_only_when_loaded() -> None:
    Families.calls.clear()
    regions = {"A": ["p_in_0.5_0.8"], "B": ["n_jets_ge_4", "p_in_0.5_0.8"]}
    session = lambda events: np.array([0.6, 0.9, 0.7])  # noqa: E731
    flows = Families(regions, {"net": session}, {"threshold": 1}).process(FAMILY_EVENTS)
    assert Families.calls == [3]  # two regions, one evaluation
    assert flows["A"].raw.tolist() == [3, 2] and flows["B"].raw.tolist() == [3, 2, 1]
    without = Families(regions, options={"threshold": 1})
    assert "score" not in ak.fields(without.derive(FAMILY_EVENTS))
    with pytest.raises(NetworkNotLoadedError, match="--network net=PATH"):
        without.process(FAMILY_EVENTS)


@pytest.mark.parametrize(
    ("family", "message"),
    [
        (lambda: threshold("n jets", ">=", 4), "use letters, digits"),
        (lambda: threshold("n_jets", "=>", 4), "comparison '=>'"),
        (lambda: threshold("n_jets", ">=", ()), "no value"),
    ],
)
def test_bad_families_are_refused(family: Any, message: str) -> None:
    with pytest.raises(AnalysisDefinitionError, match=message):

        class Bad(Analysis):
            cut_families = (family(),)


def test_options_default_to_analysis_json_and_keep_to_its_choices() -> None:
    ana = atlas.analysis.Atlas2018Susy30({})  # no options given: analysis.json's default
    assert ana.option("met_phi_convention") == "[0, 2pi)" and ana.network_name == "multib"
    with pytest.raises(UsageError, match=r"met_phi_convention = '\[0, 360\)'; choose one of"):
        atlas.analysis.Atlas2018Susy30({}, options={"met_phi_convention": "[0, 360)"})
    with pytest.raises(AnalysisDefinitionError, match="option 'threshold' is neither given"):
        Families({})  # defined outside a bundle: no analysis.json to default from


def test_stamp_takes_a_shipped_id_or_a_path(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (copy / "analysis.py").write_text((copy / "analysis.py").read_text() + "\n# edited\n")
    with pytest.raises(BundleCheckError):
        check_bundle(copy)
    monkeypatch.setattr(bundle_module, "bundles_root", lambda: tmp_path)
    recorded = stamp_bundle(BUNDLE)  # the id of a (here: stand-in) shipped bundle
    assert (
        recorded["analysis.py"] == hashlib.sha256((copy / "analysis.py").read_bytes()).hexdigest()
    )
    assert check_bundle(copy)
    (copy / "detector.json").write_text((copy / "detector.json").read_text() + "\n")
    with pytest.raises(BundleCheckError, match=r"detector\.json has sha256"):
        stamp_bundle(copy)  # an artefact that changed is re-recorded only when asked
    assert "detector.json" in stamp_bundle(copy, artefacts=True)
    assert check_bundle(copy)


# -- the shipped bundles' declarations, pinned ------------------------------------------------
GOLDEN = 0.6180339887498949


class FakeCard:
    def __init__(self, points: list[dict[str, float]]) -> None:
        self.parameter_points, self.source = points, "a fake card"


class FakeSession:
    """Network outputs as fixed functions of the event number (no network, no draw): the first
    two classes near 1 for about one event in six, so that the regions' 0.999x cuts pass some;
    the others spread over five decades, for the log10 cuts."""

    def __init__(self, points: list[dict[str, float]], labels: tuple[str, ...]) -> None:
        self.card, self.labels = FakeCard(points), labels

    def evaluate(self, events: ak.Array, parameters: Any = None) -> list[ak.Array]:
        numbers = np.asarray(ak.to_numpy(events.event_number), dtype=np.float64)
        out = []
        for k, _ in enumerate(parameters):
            columns = {}
            for j, label in enumerate(self.labels):
                u = np.modf((numbers * (j + 1) + 0.5 * j) * GOLDEN + 0.1373 * (k + 3 * j))[0]
                columns[label] = 1.0 - 10.0 ** (-6.0 * u) if j < 2 else 10.0 ** (-5.0 * u)
            out.append(ak.zip(columns))
        return out


def pinned_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """Varied events with momenta in whole GeV (exact at the thresholds, as ≥ and > differ)."""
    rng = np.random.default_rng(seed)

    def objects(count: int, base: float, scale: float, eta: float) -> list[dict[str, Any]]:
        return [
            {
                "pt": float(round(base + rng.exponential(scale))),
                "eta": round(float(rng.uniform(-eta, eta)), 2),
                "phi": round(float(rng.uniform(-3.14, 3.14)), 3),
                "mass": float(round(rng.uniform(2, 40))),
                "b": bool(rng.random() < 0.5),
                "charge": int(rng.choice([-1, 1])),
                "iso": float(rng.choice([0.0, 0.05, 0.1, 0.2])),
            }
            for _ in range(count)
        ]

    rows = []
    for _ in range(n):
        jets = objects(int(rng.integers(3, 13)), 30, 160, 2.8)
        electrons = objects(int(rng.choice([0, 0, 0, 1, 2])), 20, 80, 2.4)
        muons = objects(int(rng.choice([0, 0, 0, 1, 2])), 20, 80, 2.4)
        met = (float(round(100 + rng.exponential(350))), round(float(rng.uniform(-3.14, 3.14)), 3))
        rows.append({"jets": jets, "electrons": electrons, "muons": muons, "met": met})
    return rows


def atlas_events(rows: list[dict[str, Any]]) -> ak.Array:
    def leptons(items: list[dict[str, Any]], mass: float) -> list[dict[str, Any]]:
        return [
            atlas.lepton(o["pt"], o["eta"], o["phi"], charge=o["charge"], iso=o["iso"], mass=mass)
            for o in items
        ]

    return atlas.events(
        *(
            {
                "jets": [
                    atlas.jet(j["pt"], j["eta"], j["phi"], j["mass"], b=j["b"]) for j in r["jets"]
                ],
                "electrons": leptons(r["electrons"], 0.000511),
                "muons": leptons(r["muons"], 0.1),
                "met": r["met"],
            }
            for r in rows
        )
    )


def demo_events(rows: list[dict[str, Any]]) -> ak.Array:
    def leptons(items: list[dict[str, Any]], mass: float) -> list[dict[str, Any]]:
        return [demo.lepton(o["pt"], o["eta"], o["phi"], o["iso"] < 0.15, mass) for o in items]

    return demo.make_events(
        [
            {
                "jets": [(j["pt"], j["eta"], j["phi"], j["mass"], j["b"]) for j in r["jets"]],
                "electrons": leptons(r["electrons"], 0.000511),
                "muons": leptons(r["muons"], 0.1),
                "met": r["met"],
            }
            for r in rows
        ]
    )


def pinned_analysis(bundle_id: str) -> tuple[Analysis, ak.Array]:
    """The shipped bundle's class with every region, a fake network, and its pinned events."""
    document = json.loads((available()[bundle_id] / "analysis.json").read_text())
    regions = {name: r["cuts"] for name, r in document["regions"].items()}
    if bundle_id == "ATLAS_SUSY_2018_30":
        card = json.loads((available()[bundle_id] / "networks" / "multib.card.json").read_text())
        session = FakeSession(card["parameter_points"], ("Gtt", "Gbb", "ttbar", "Zjets"))
        ana = atlas.analysis.Atlas2018Susy30(regions, networks={"multib": session})
        return ana, atlas_events(pinned_rows(1500, 2018))
    session = FakeSession([], ("Gtt", "Gbb", "background"))
    ana = demo.demo.DemoMultibGluino(regions, networks={"multib_demo": session})
    return ana, demo_events(pinned_rows(1500, 139))


@pytest.mark.parametrize("bundle_id", ["ATLAS_SUSY_2018_30", "DEMO_MULTIB_GLUINO"])
def test_the_bundles_cut_names_and_cutflows_are_pinned(bundle_id: str) -> None:
    """Rewriting a bundle's declarations (as with the authoring helpers) keeps every cut name
    and every region's cutflow; the numbers were computed with the former declarations."""
    ana, events = pinned_analysis(bundle_id)
    assert sorted(ana.cuts) == PINNED[bundle_id]["cuts"].split()
    flows = ana.process(events)
    raw = {region: " ".join(map(str, flow.raw.tolist())) for region, flow in flows.items()}
    assert raw == PINNED[bundle_id]["raw"]
    for flow in flows.values():  # unit weights: Σw counts the events too
        assert flow.sumw.tolist() == flow.raw.tolist()


#: every cut each bundle declares, and the raw counts after each step of every region on the
#: pinned events (computed with the bundles' former declarations, one factory call a cut)
PINNED: dict[str, dict[str, Any]] = {
    "ATLAS_SUSY_2018_30": {
        "cuts": (
            "MJ_ge_100 MJ_ge_150 MJ_ge_200 MJ_ge_300 MJ_ge_50 MJ_lt_400 MJ_lt_500 MJ_lt_800 "
            "crz_log10_p_ttbar_gbb_2000_1800_lt_-2.2 crz_log10_p_ttbar_gbb_2100_1600_lt_-1.7 "
            "crz_log10_p_ttbar_gbb_2300_1000_lt_-1.3 crz_log10_p_ttbar_gbb_2800_1400_lt_-1.3 "
            "crz_log10_p_z_gbb_2000_1800_gt_-3.7 crz_log10_p_z_gbb_2100_1600_gt_-4.9 "
            "crz_log10_p_z_gbb_2300_1000_gt_-2.7 crz_log10_p_z_gbb_2800_1400_gt_-3.0 "
            "crz_mll_gt_60 crz_mll_lt_120 crz_p_gbb_2000_1800_gt_0.9 crz_p_gbb_2100_1600_gt_0.9 "
            "crz_p_gbb_2300_1000_gt_0.8 crz_p_gbb_2800_1400_gt_0.6 crz_ptll_gt_70 "
            "crz_two_signal_leptons_sfos dphi4j_min_ge_0.4 dphi4j_min_ge_0.6 dphi4j_min_gt_0.5 "
            "leading_jet_pt_ge_65 log10_p_ttbar_gbb_2000_1800_gt_-1.9 "
            "log10_p_ttbar_gbb_2100_1600_gt_-1.3 log10_p_ttbar_gbb_2300_1000_gt_-0.8 "
            "log10_p_ttbar_gtt_1800_1_gt_-2.0 log10_p_ttbar_gtt_2100_1_gt_-1.8 "
            "log10_p_ttbar_gtt_2300_1200_gt_-1.6 mT_bmin_ge_120 mT_bmin_ge_130 mT_bmin_ge_180 "
            "mT_ge_150 mT_ge_200 mT_lt_150 mT_lt_200 meff_ge_1100 meff_ge_1200 meff_ge_1300 "
            "meff_ge_1400 meff_ge_1500 meff_ge_1600 meff_ge_1700 meff_ge_2000 meff_ge_2200 "
            "meff_ge_2300 meff_ge_2500 meff_ge_2600 meff_ge_2900 meff_ge_800 meff_gt_400 "
            "met_ge_300 met_ge_350 met_ge_400 met_ge_450 met_ge_500 met_ge_550 met_ge_600 "
            "met_gt_200 met_hat_gt_200 n_b_ge_3 n_b_ge_4 n_baseline_leptons_eq_0 n_jets_eq_4 "
            "n_jets_eq_5 n_jets_eq_8 n_jets_eq_9 n_jets_ge_10 n_jets_ge_10_n_b_ge_3 n_jets_ge_4 "
            "n_jets_ge_4_n_b_ge_3 n_jets_ge_5 n_jets_ge_5_n_b_ge_3 n_jets_ge_6 n_jets_ge_7 "
            "n_jets_ge_8_n_b_ge_3 n_jets_ge_9_n_b_ge_3 n_signal_leptons_ge_1 nn_gtt_channel "
            "p_gbb_2000_1800_gt_0.997 p_gbb_2000_1800_in_0.92_0.93 p_gbb_2100_1600_gt_0.9993 "
            "p_gbb_2100_1600_in_0.88_0.91 p_gbb_2300_1000_gt_0.9994 p_gbb_2300_1000_in_0.52_0.77 "
            "p_gbb_2800_1400_gt_0.999 p_gtt_1800_1_gt_0.9997 p_gtt_1800_1_in_0.73_0.89 "
            "p_gtt_1900_1400_gt_0.9987 p_gtt_2100_1_gt_0.9997 p_gtt_2100_1_in_0.68_0.86 "
            "p_gtt_2300_1200_gt_0.9993 p_gtt_2300_1200_in_0.78_0.83 "
        ),
        "raw": {
            "SR-Gtt-0L-B": "1500 1349 971 730 257 144 138 34 14 12 4",
            "SR-Gtt-0L-M1": "1500 1349 971 730 257 144 80 18 18 15 3",
            "SR-Gtt-0L-M2": "1500 1349 971 730 257 144 63 24 24 20 9",
            "SR-Gtt-0L-C": "1500 1349 971 730 257 144 63 53 29 29 22 19",
            "SR-Gtt-1L-B": "1500 1349 971 730 387 387 124 90 71 52 26",
            "SR-Gtt-1L-M1": "1500 1349 971 730 387 372 117 104 74 56 25",
            "SR-Gtt-1L-M2": "1500 1349 971 730 387 279 120 120 83 63 46",
            "SR-Gtt-1L-C": "1500 1349 971 730 387 242 181 181 140 99",
            "SR-Gbb-B": "1500 1349 971 730 257 144 113 39 39 15",
            "SR-Gbb-M": "1500 1349 971 730 257 144 113 39 26",
            "SR-Gbb-C": "1500 1349 971 730 257 144 113 39 31",
            "SR-Gtb-B": "1500 1349 971 730 257 144 113 36 15 7",
            "SR-Gtb-M": "1500 1349 971 730 257 144 113 105 84 59 23 9",
            "SR-Gtb-C": "1500 1349 971 730 257 144 113 95 76 76 37 34",
            "SR-Gtt-2100-1": "1500 1349 971 730 531 235",
            "SR-Gtt-1800-1": "1500 1349 971 730 531 221",
            "SR-Gtt-2300-1200": "1500 1349 971 730 531 267",
            "SR-Gtt-1900-1400": "1500 1349 971 730 531 281",
            "SR-Gbb-2800-1400": "1500 1349 971 730 257 111 58",
            "SR-Gbb-2300-1000": "1500 1349 971 730 257 111 51",
            "SR-Gbb-2100-1600": "1500 1349 971 730 257 144 66",
            "SR-Gbb-2000-1800": "1500 1349 971 730 257 144 83",
            "CR-Gtt-1L-B": "1500 1349 971 730 387 15 5 0",
            "CR-Gtt-1L-M1": "1500 1349 971 730 387 16 15 3",
            "CR-Gtt-1L-M2": "1500 1349 971 730 387 37 37 17",
            "CR-Gtt-1L-C": "1500 1349 971 730 387 68 68 20",
            "CR-Gtt-0L-B": "1500 1349 971 730 387 103 61 37",
            "CR-Gtt-0L-M1": "1500 1349 971 730 387 103 76 75 46",
            "CR-Gtt-0L-M2": "1500 1349 971 730 387 103 61 61 47",
            "CR-Gtt-0L-C": "1500 1349 971 730 387 103 61 48 48 41",
            "CR-Gbb-B": "1500 1349 971 730 387 103 43 43 21",
            "CR-Gbb-M": "1500 1349 971 730 387 103 28 26",
            "CR-Gbb-C": "1500 1349 971 730 387 103 28 28",
            "CR-Gtb-B": "1500 1349 971 730 387 103 50 36 15",
            "CR-Gtb-M": "1500 1349 971 730 387 103 99 69 59 42 20",
            "CR-Gtb-C": "1500 1349 971 730 387 103 91 63 60 37 34",
            "CR-Gtt-2100-1": "1500 1349 971 730 531 29 29 18",
            "CR-Gtt-1800-1": "1500 1349 971 730 531 35 0 0",
            "CR-Gtt-2300-1200": "1500 1349 971 730 531 13 1 1",
            "CR-Gbb-2300-1000": "1500 1349 971 730 257 144 3 2 1 1 1",
            "CR-Gbb-2100-1600": "1500 1349 971 730 257 144 3 0 0 0",
            "CR-Gbb-2000-1800": "1500 1349 971 730 257 144 1 1 1 1",
            "CRZ-Gbb-2800-1400": "1500 65 59 19 12 10 7 7 7 2 1",
            "CRZ-Gbb-2300-1000": "1500 65 59 19 12 10 7 7 6 3 2",
            "CRZ-Gbb-2100-1600": "1500 65 59 19 12 10 7 7 7 5 5",
            "CRZ-Gbb-2000-1800": "1500 65 59 19 12 10 7 7 5 5 3",
        },
    },
    "DEMO_MULTIB_GLUINO": {
        "cuts": (
            "MJ_ge_100 MJ_ge_200 MJ_ge_300 MJ_ge_400 dphi4j_min_ge_0.4 mT_bmin_ge_100 "
            "mT_bmin_ge_120 mT_bmin_ge_140 mT_bmin_ge_160 mT_ge_150 mT_lt_150 meff_ge_1000 "
            "meff_ge_1200 meff_ge_1400 meff_ge_1600 meff_ge_1800 meff_ge_2000 meff_ge_2200 "
            "meff_ge_2400 meff_lt_1400 met_ge_300 met_ge_350 met_ge_400 met_ge_450 met_ge_500 "
            "met_ge_550 met_ge_600 met_gt_200 n_b_ge_3 n_b_ge_4 n_baseline_leptons_eq_0 "
            "n_jets_ge_4 n_jets_ge_5 n_jets_ge_6 n_jets_ge_7 n_jets_ge_8 n_signal_leptons_ge_1 "
            "nn_gbb_2100_1_p_gt_0.99999 nn_gbb_2100_800_p_gt_0.99999 nn_gtt_2100_1_p_gt_0.99999 "
            "nn_gtt_2100_800_p_gt_0.99999 nn_gtt_channel "
        ),
        "raw": {
            "SR-Gtt-0L": "1500 1335 929 672 238 132 119 84 67 28",
            "SR-Gtt-1L": "1500 1335 929 672 381 370 279 163 145 51",
            "SR-Gbb-0L": "1500 1335 929 672 238 132 102 49 45",
            "SR-4b-0L": "1500 1335 929 672 238 132 95 80 50 50",
            "CR-ttbar-1L": "1500 1335 929 672 381 94 92 6",
            "SR-NN-Gtt-2100-1": "1500 1335 929 672 513 78 61 45",
            "SR-NN-Gtt-2100-800": "1500 1335 929 672 513 77 49 38",
            "SR-NN-Gbb-2100-1": "1500 1335 929 672 238 132 22",
            "SR-NN-Gbb-2100-800": "1500 1335 929 672 238 132 21",
        },
    },
}  # fmt: skip
