"""`recast bundle cutflow`: a published cutflow added from a table, recorded with its digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from recast import schema
from recast.analysis.bundle import check_bundle
from recast.analysis.packaging import new_bundle
from recast.analysis.publishing import add_cutflow, read_table
from recast.errors import OutputError, UsageError
from recast.events.slha import write_gluino_slha
from recast.io import sha256_file, write_json

from .bad_inputs import assert_refused, invoke, snapshot

TABLE = """# HEPData table 12: cutflow of SR at the benchmark
"Cut","Events","Uncertainty"
initial,100.0,0
two_jets,95.5,1.2
met_100,80.1,2.5
"""


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return new_bundle("MY_SEARCH", tmp_path)


def test_a_table_becomes_a_recorded_cutflow_with_its_spectrum(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "sr.csv").write_text(TABLE)
    slha = write_gluino_slha(tmp_path / "gtt.slha", 1400.0, 100.0, "ttbar")
    result = invoke(
        ["bundle", "cutflow", str(bundle), "sr.csv", "--region", "SR", "--benchmark", "gtt",
         "--slha", str(slha), "--xsec", "284fb", "--generator", "MadGraph + Pythia8"],
        tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cutflow = schema.load_json(bundle / "cutflows" / "gtt_SR.json")
    assert cutflow["initial"] == 100.0 and cutflow["unit"] == "events"
    assert cutflow["steps"] == [
        {"cut": "two_jets", "value": 95.5, "uncertainty": 1.2},
        {"cut": "met_100", "value": 80.1, "uncertainty": 2.5},
    ]
    assert cutflow["benchmark"] == {
        "name": "gtt",
        "slha": "gtt.slha",
        "generator": "MadGraph + Pythia8",
        "cross_section_pb": pytest.approx(0.284),
    }
    assert (bundle / "cutflows" / "gtt.slha").read_text() == slha.read_text()
    document = schema.load_json(bundle / "analysis.json")
    assert document["cutflows"] == [
        {"path": "cutflows/gtt_SR.json", "sha256": sha256_file(bundle / "cutflows" / "gtt_SR.json")}
    ]
    assert any("1 published cutflow(s)" in line for line in check_bundle(bundle))


def test_replacing_keeps_the_entrys_place_and_a_second_name_is_refused(bundle: Path) -> None:
    add_cutflow(bundle, "SR", "a", [("two_jets", 0.9), ("met_100", 0.5)], unit="fraction")
    add_cutflow(bundle, "SR", "b", [("two_jets", 0.8)], unit="fraction")
    with pytest.raises(OutputError, match="exists; give --replace"):
        add_cutflow(bundle, "SR", "a", [("two_jets", 0.7)], unit="fraction")
    added = add_cutflow(bundle, "SR", "a", [("two_jets", 0.7)], unit="fraction", replace=True)
    assert added.replaced
    paths = [c["path"] for c in schema.load_json(bundle / "analysis.json")["cutflows"]]
    assert paths == ["cutflows/a_SR.json", "cutflows/b_SR.json"]
    assert schema.load_json(added.path)["steps"] == [{"cut": "two_jets", "value": 0.7}]
    check_bundle(bundle)
    # the same region and benchmark under a name written by hand: a second cutflow
    (bundle / "cutflows" / "a_SR.json").rename(bundle / "cutflows" / "by_hand.json")
    document = schema.load_json(bundle / "analysis.json")
    document["cutflows"][0]["path"] = "cutflows/by_hand.json"
    write_json(bundle / "analysis.json", document)
    before = snapshot(bundle)
    with pytest.raises(OutputError, match=r"by_hand\.json: already the cutflow of region 'SR'"):
        add_cutflow(bundle, "SR", "a", [("two_jets", 0.6)], unit="fraction", replace=True)
    assert snapshot(bundle) == before


@pytest.mark.parametrize(
    ("table", "args", "message"),
    [
        ("cut,value\ntwo_jet,95\n", [], "sr.csv: step 'two_jet' is not a cut of region 'SR'"),
        ("cut,value\nmet_100,80\ntwo_jets,95\n", [], "steps are not in the region's cut order"),
        ("cut,value\ntwo_jets,nan\n", [], "the value is 'nan': give a finite number"),
        ("cut,value\ntwo_jets,lots\n", [], "the value 'lots' is not a number"),
        ("cut,value,uncertainty\ntwo_jets,9,-1\n", [], "the uncertainty -1 is negative"),
        ("cut,value\ntwo_jets,95\n", ["--unit", "fraction"], "95 is not a fraction in [0, 1]"),
        ("cut;value\ntwo_jets;95\n", [], "give cut,value or cut,value,uncertainty"),
        ("# only a comment\n", [], "sr.csv: no rows"),
        ("cut,value\ntwo_jets,95\n", ["--region", "SRX"], "no region 'SRX'"),
        ("cut,value\ntwo_jets,95\n", ["--slha", "missing.slha"], "missing.slha: cannot read"),
        ("cut,value\ntwo_jets,95\n", ["--xsec", "12"], "--xsec"),
    ],
)
def test_a_bad_table_or_option_writes_nothing(
    bundle: Path, tmp_path: Path, table: str, args: list[str], message: str
) -> None:
    (tmp_path / "sr.csv").write_text(table)
    region = [] if "--region" in args else ["--region", "SR"]
    args = ["bundle", "cutflow", str(bundle), "sr.csv", "--benchmark", "b", *region, *args]
    assert_refused(args, tmp_path, [message], exit_code=2)  # tmp_path holds the bundle


def test_a_spectrum_that_does_not_parse_is_refused(bundle: Path, tmp_path: Path) -> None:
    slha = write_gluino_slha(tmp_path / "gtt.slha", 1400.0, 100.0, "ttbar")
    slha.write_text(slha.read_text().replace("1.40000000E+03   # ~g", "nan   # ~g"))
    before = snapshot(bundle)
    with pytest.raises(UsageError, match="BLOCK MASS 1000021: the mass is 'nan'"):
        add_cutflow(bundle, "SR", "b", [("two_jets", 9.0)], slha=slha)
    assert snapshot(bundle) == before


def test_read_table_takes_hepdata_csv(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(TABLE)
    assert read_table(tmp_path / "t.csv") == [
        ("initial", 100.0, 0.0),
        ("two_jets", 95.5, 1.2),
        ("met_100", 80.1, 2.5),
    ]


def test_a_failing_analysis_json_write_undoes_the_cutflow(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recast.analysis.publishing as publishing

    add_cutflow(bundle, "SR", "a", [("two_jets", 0.9)], unit="fraction")
    before = snapshot(bundle)
    real = publishing.write_json

    def full_disk(path: Path, document: object) -> None:
        if Path(path).name == "analysis.json":
            raise OutputError(f"{path}: cannot write: No space left on device")
        real(path, document)

    monkeypatch.setattr(publishing, "write_json", full_disk)
    slha = write_gluino_slha(tmp_path / "new.slha", 1400.0, 100.0, "ttbar")
    for benchmark in ("a", "b"):  # a replaced cutflow comes back, a new one goes
        with pytest.raises(OutputError, match="No space left"):
            add_cutflow(
                bundle, "SR", benchmark, [("two_jets", 0.5)], unit="fraction", slha=slha,
                replace=True,
            )  # fmt: skip
        assert snapshot(bundle) == before
