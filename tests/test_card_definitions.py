"""Describing inputs fully: guessed fields, definitions files, `recast card edit`, strict checks."""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast import schema
from recast.cli import cli
from recast.errors import InvalidDocumentError, UnknownSchemaVersionError, UsageError
from recast.io import sha256_file, write_json
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card, description_gaps
from recast.preserve.definitions import (
    apply_definitions,
    check_definitions,
    load_definitions,
    settings_definitions,
)
from recast.preserve.importers import import_network, write_imported_card
from recast.preserve.standin import make_standin_mlp

from .docs_pages import DOCS, page_files, printed_differences, run_example

REPO = Path(__file__).resolve().parents[1]
NAMES = ["HT", "jets_pt_0", "jets_phi_0", "met_phi"]


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in network and its form-1 side-car (met_phi's offset fits [0, 2π))."""
    onnx_path = tmp_path / "net.onnx"
    make_standin_mlp(onnx_path, n_inputs=4, n_outputs=2, hidden=(4,), input_name="input")
    sidecar = write(
        tmp_path / "net_variables.json",
        {"variables": NAMES, "offset": [450.0, 180.0, 0.0, 3.14], "scale": [200, 90, 1.8, 1.8]},
    )
    return onnx_path, sidecar


@pytest.fixture
def card_path(published: tuple[Path, Path], tmp_path: Path) -> Path:
    """The imported card, every guess left in it."""
    path = tmp_path / "net.card.json"
    write_imported_card(import_network(*published, card_path=path), path)
    return path


def write(path: Path, document: Any) -> Path:
    write_json(path, document)
    return path


def features(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for node in document["inputs"] for f in node.get("features", [])}


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


STATED = {
    "inputs": {
        "HT": {"definition": "scalar sum of jet pT", "unit": "GeV", "collection": None},
        "jets_pt_0": {"definition": "pT of the leading jet", "unit": "GeV", "padding": -1},
        "jets_phi_0": {"definition": "φ of the leading jet", "padding": 0},
        "met_phi": {"definition": "φ of the missing pT", "angle_range": "[0, 2pi)"},
    },
    "provenance": {"arxiv": "2401.00001", "license": "CC-BY-4.0", "notes": "stated by hand"},
}


# -- importers mark what they guess ---------------------------------------------------------------
def test_the_importer_marks_what_it_guessed(published: tuple[Path, Path], tmp_path: Path) -> None:
    document = import_network(*published, card_path=tmp_path / "c.card.json")
    assert document["schema_version"] == schema.current_version("network-card") == "1.1.0"
    guessed = {name: f["guessed"] for name, f in features(document).items()}
    assert guessed == {
        "HT": ["definition", "source", "unit"],
        "jets_pt_0": ["definition", "source", "unit", "padding"],
        "jets_phi_0": ["definition", "source", "padding", "angle_range"],
        "met_phi": ["definition", "source", "angle_range"],
    }


def test_stated_options_are_not_guessed(published: tuple[Path, Path], tmp_path: Path) -> None:
    document = import_network(
        *published,
        card_path=tmp_path / "c.card.json",
        unit="MeV",
        padding=-5.0,
        units={"HT": "GeV"},
        angle_ranges={"met_phi": "[0, 2pi)", "jets_phi_0": "(-pi, pi]"},
    )
    guessed = {name: f["guessed"] for name, f in features(document).items()}
    assert guessed == {name: ["definition", "source"] for name in NAMES}


# -- applying a definitions file -----------------------------------------------------------------
def test_apply_definitions_states_fields_and_merges_provenance(card_path: Path) -> None:
    before = json.loads(card_path.read_text())
    before["provenance"]["notes"] = "converted by hand"
    after = apply_definitions(before, STATED, "stated.json")
    assert before["inputs"][0]["features"][0]["guessed"]  # the input is not changed
    f = features(after)
    assert f["HT"]["source"] == {"attribute": "HT"} and f["HT"]["guessed"] == ["source"]
    assert "notes" not in f["HT"]  # "unit not stated by the published files" no longer holds
    assert f["jets_pt_0"]["padding"] == {"value": -1, "stage": "before_preprocessing"}
    assert f["jets_pt_0"]["guessed"] == ["source"]
    assert f["jets_phi_0"]["guessed"] == ["source", "angle_range"]
    assert f["met_phi"]["angle_range"] == "[0, 2pi)" and "notes" not in f["met_phi"]
    assert f["met_phi"]["guessed"] == ["source"]
    provenance = after["provenance"]
    assert (provenance["arxiv"], provenance["license"]) == ("2401.00001", "CC-BY-4.0")
    assert provenance["notes"] == "converted by hand; stated by hand"  # appended, not replaced
    assert provenance["source"] == "net.onnx + net_variables.json"
    assert description_gaps(after) == []
    NetworkCard(after, card_path)


def test_a_stated_padding_rewords_a_guessed_definition(card_path: Path) -> None:
    document = json.loads(card_path.read_text())
    stated = settings_definitions(["jets_pt_0.padding=-1", "jets_pt_0.unit=TeV"])
    jet = features(apply_definitions(document, stated, "--set"))["jets_pt_0"]
    assert jet["definition"].endswith(
        "; -1 TeV (before preprocessing) when there is no such object"
    )
    assert jet["guessed"] == ["definition", "source"]
    after = settings_definitions(
        ['jets_pt_0.padding={"value": -3, "stage": "after_preprocessing"}']
    )
    jet = features(apply_definitions(document, after, "--set"))["jets_pt_0"]
    assert jet["padding"] == {"value": -3, "stage": "after_preprocessing"}
    assert jet["definition"].endswith("; -3 (after preprocessing) when there is no such object")


def test_an_older_card_is_upgraded_and_stays_valid(tmp_path: Path) -> None:
    shipped = REPO / "analyses/EXAMPLE_JETS_MET/networks/signal_mlp.card.json"
    document = json.loads(shipped.read_text())
    assert document["schema_version"] == "1.0.0"
    name = document["inputs"][0]["features"][0]["name"]
    after = apply_definitions(document, {"inputs": {name: {"notes": "checked"}}}, "x.json")
    assert after["schema_version"] == "1.1.0"
    assert features(after)[name]["notes"] == "checked"
    NetworkCard(after, shipped)


def test_a_name_two_nodes_share_is_named_node_by_node() -> None:
    def sequence(name: str) -> dict[str, Any]:
        feature = {
            "index": 0,
            "name": "pt",
            "definition": "pT",
            "role": "feature",
            "source": {"attribute": "pt"},
            "unit": "GeV",
            "padding": {"value": 0, "stage": "before_preprocessing"},
            "preprocessing": {"formula": "x"},
        }
        ordering = {"by": "pt", "descending": True}
        return {
            "name": name,
            "layout": "sequence",
            "collection": name,
            "ordering": ordering,
            "max_count": 2,
            "features": [feature],
        }

    template = {
        "name": "two",
        "inputs": [sequence("jets"), sequence("leptons")],
        "outputs": [{"name": "score", "columns": [{"index": 0, "label": "score"}]}],
    }
    with pytest.raises(
        UsageError,
        match=r"inputs\.pt: .* in 2 input nodes \(jets, leptons\); name one as NODE/FEATURE",
    ):
        apply_definitions(template, {"inputs": {"pt": {"unit": "MeV"}}}, "d.json")
    stated = {"inputs": {"leptons/pt": {"unit": "MeV"}}}
    after = apply_definitions(template, stated, "d.json")
    assert [n["features"][0]["unit"] for n in after["inputs"]] == ["GeV", "MeV"]
    with pytest.raises(UsageError, match=r"sequence 'jets'.*state only the attribute"):
        apply_definitions(template, {"inputs": {"jets/pt": {"collection": "jets"}}}, "d.json")


def test_a_definitions_file_naming_an_unknown_input_is_refused(
    card_path: Path, published: tuple[Path, Path], tmp_path: Path
) -> None:
    definitions = write(tmp_path / "defs.json", {"inputs": {"jet_pt_0": {"unit": "GeV"}}})
    document = json.loads(card_path.read_text())
    with pytest.raises(UsageError) as caught:
        apply_definitions(document, load_definitions(definitions), str(definitions))
    message = str(caught.value)
    assert f"{definitions}: 1 input(s) that are not features of card 'net'" in message
    assert (
        "inputs.jet_pt_0: card 'net' has no input 'jet_pt_0'. Did you mean 'jets_pt_0'" in message
    )
    # on import too, before anything is written
    out = tmp_path / "imported.card.json"
    result = run(
        "card",
        "import",
        published[0],
        "--sidecar",
        published[1],
        "--definitions",
        definitions,
        "-o",
        out,
    )
    assert result.exit_code == 2, result.output
    assert "inputs.jet_pt_0: card 'net' has no input 'jet_pt_0'" in result.output
    assert not out.exists()


def test_a_definitions_file_that_is_not_json_or_has_wrong_types(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"inputs": {"HT": {"unit": "GeV"}}')
    with pytest.raises(
        InvalidDocumentError, match=r"(?s)broken\.json: .*at line 1 column 35: not valid JSON"
    ):
        load_definitions(broken)
    wrong = write(
        tmp_path / "wrong.json",
        {
            "inputs": {"HT": {"unit": "furlong", "padding": "none", "colour": "red"}},
            "provenance": {"arxiv": "soon"},
        },
    )
    with pytest.raises(InvalidDocumentError) as caught:
        load_definitions(wrong)
    paths = [path for path, _ in caught.value.problems]
    assert paths == ["inputs.HT", "inputs.HT.padding", "inputs.HT.unit", "provenance.arxiv"]
    assert str(caught.value).startswith(f"{wrong}: 4 problem(s) against the schema")
    with pytest.raises(InvalidDocumentError, match=r"at inputs\.HT\.padding: is nan"):
        check_definitions({"inputs": {"HT": {"padding": float("nan")}}}, "d.json")
    with pytest.raises(InvalidDocumentError, match=r"at \(document\): expected a JSON object"):
        check_definitions(["HT"], "d.json")


# -- recast card edit ----------------------------------------------------------------------------
def test_card_edit_writes_a_new_card_with_the_digests_kept(card_path: Path, tmp_path: Path) -> None:
    definitions = write(tmp_path / "defs.json", STATED)
    original = card_path.read_bytes()
    out = tmp_path / "stated.card.json"
    result = run(
        "card",
        "edit",
        card_path,
        "--definitions",
        definitions,
        "--set",
        "HT.attribute=HT",
        "--inspire",
        "1234567",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "every definition, unit and padding stated" in result.output
    assert "bundle stamp" not in result.output  # not in a bundle
    assert card_path.read_bytes() == original
    edited = json.loads(out.read_text())
    assert edited["files"] == json.loads(original)["files"]
    assert "guessed" not in features(edited)["HT"]  # its source stated too (--set)
    assert edited["provenance"]["inspire"] == "1234567"
    assert check_card(out, strict=True).gaps == []


def test_card_edit_needs_an_output_or_in_place(card_path: Path, tmp_path: Path) -> None:
    result = run("card", "edit", card_path, "--set", "HT.unit=GeV")
    assert result.exit_code == 2
    assert "give -o OUT to write the edited card to a new file, or --in-place" in result.output
    both = run("card", "edit", card_path, "--set", "HT.unit=GeV", "--in-place", "-o", "x.json")
    assert both.exit_code == 2 and "not both" in both.output
    nothing = run("card", "edit", card_path, "-o", tmp_path / "x.card.json")
    assert nothing.exit_code == 2 and "nothing to state" in nothing.output
    same = run("card", "edit", card_path, "--set", "HT.unit=GeV", "-o", card_path)
    assert same.exit_code == 2 and "would destroy the input" in same.output
    elsewhere = tmp_path / "other" / "net.card.json"
    moved = run("card", "edit", card_path, "--set", "HT.unit=GeV", "-o", elsewhere)
    assert moved.exit_code == 2 and "write the edited card in the folder of" in moved.output
    assert not elsewhere.exists()


def test_card_edit_in_place_checks_the_model_digest(card_path: Path, tmp_path: Path) -> None:
    (tmp_path / "analysis.json").write_text("{}")  # a bundle's card: the reminder is printed
    result = run("card", "edit", card_path, "--set", "HT.unit=GeV", "--in-place")
    assert result.exit_code == 0, result.output
    assert "recast bundle stamp --artefacts" in result.output
    assert "unit" not in features(json.loads(card_path.read_text()))["HT"]["guessed"]
    edited = card_path.read_bytes()
    onnx_path = tmp_path / "net.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    tampered = run("card", "edit", card_path, "--set", "HT.unit=MeV", "--in-place")
    assert tampered.exit_code == 1, tampered.output
    assert "net.onnx" in tampered.output and "sha256" in tampered.output
    assert card_path.read_bytes() == edited


def test_set_refuses_an_unknown_field_or_a_malformed_item(card_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.card.json"
    result = run("card", "edit", card_path, "--set", "HT.unti=GeV", "-o", out)
    assert result.exit_code == 2
    assert "--set 'HT.unti=GeV': 'unti' is not a field of an input" in result.output
    assert "Did you mean 'unit'" in result.output
    for item in ("HT=GeV", "HT.unit", ".unit=GeV"):
        with pytest.raises(UsageError, match=r"expected FEATURE\.FIELD=VALUE"):
            settings_definitions([item])
    with pytest.raises(UsageError, match="given twice"):
        settings_definitions(["HT.unit=GeV", "HT.unit=MeV"])
    with pytest.raises(UsageError, match="finite number"):
        settings_definitions(["jets_pt_0.padding=nan"])
    with pytest.raises(
        InvalidDocumentError, match=r"(?s)--set: .*at inputs\.HT\.unit: 'furlong' is not one of"
    ):
        settings_definitions(["HT.unit=furlong"])
    bad_arxiv = run("card", "edit", card_path, "--arxiv", "soon", "-o", out)
    assert bad_arxiv.exit_code == 2 and "--arxiv: 'soon' does not match" in bad_arxiv.output
    assert not out.exists()


# -- recast card check ---------------------------------------------------------------------------
def test_strict_check_fails_on_guessed_fields(card_path: Path) -> None:
    report = check_card(card_path)
    assert report.gaps == report.warnings[-3:]
    assert report.gaps == [
        "4 inputs have a guessed definition: HT, jets_pt_0, jets_phi_0, met_phi — state them "
        "with --definitions FILE or recast card edit",
        "2 inputs have a guessed unit: HT, jets_pt_0 — state them with --definitions FILE or "
        "recast card edit",
        "2 inputs have a guessed padding: jets_pt_0, jets_phi_0 — state them with "
        "--definitions FILE or recast card edit",
    ]
    warned = run("card", "check", card_path)
    assert warned.exit_code == 0
    assert "does not state every input (--strict fails)" in warned.output
    strict = run("card", "check", "--strict", card_path)
    assert strict.exit_code == 1
    assert "3 problem(s)" in strict.output and "guessed unit: HT, jets_pt_0" in strict.output


def test_gaps_list_todo_definitions_and_slots_without_padding(card_path: Path) -> None:
    document = json.loads(card_path.read_text())
    for feature in document["inputs"][0]["features"]:
        feature.pop("guessed", None)
        feature["definition"] = "TODO: ask the authors"
    del document["inputs"][0]["features"][1]["padding"]  # a slot: only a raw document can
    gaps = description_gaps(document)
    assert gaps == [
        "4 inputs have a definition marked TODO: HT, jets_pt_0, jets_phi_0, met_phi — state "
        "them with --definitions FILE or recast card edit",
        "1 input has no padding (an object slot or a sequence feature): jets_pt_0 — state it "
        "with --definitions FILE or recast card edit",
    ]
    many = copy.deepcopy(document)
    many["inputs"][0]["features"] *= 3
    (todo, _) = description_gaps(many)
    assert todo.startswith("12 inputs have a definition marked TODO: HT, jets_pt_0, jets_phi_0, ")
    assert todo.endswith(" and 6 more — state them with --definitions FILE or recast card edit")


def test_an_unknown_card_version_is_refused_with_the_known_ones(card_path: Path) -> None:
    document = json.loads(card_path.read_text())
    document["schema_version"] = "1.2.0"
    with pytest.raises(
        UnknownSchemaVersionError, match=r"'1\.2\.0'.*known versions: 1\.0\.0, 1\.1\.0"
    ):
        NetworkCard(document, card_path)
    document["schema_version"] = "1.0.0"  # guessed is a 1.1.0 field
    with pytest.raises(InvalidDocumentError, match="'guessed' was unexpected"):
        NetworkCard(document, card_path)
    with pytest.raises(UnknownSchemaVersionError, match=r"known versions: 1\.1\.0\."):
        check_definitions({"schema_version": "1.0.0"}, "d.json")


# -- export ---------------------------------------------------------------------------------------
def test_export_applies_definitions_and_provenance_to_the_template(tmp_path: Path) -> None:
    from recast.toy import multib_template

    from .conftest import linear_onnx

    linear_onnx(tmp_path / "net.onnx", 87, 5, input_name="input_1", output_name="dense_4")
    template = multib_template()
    for column in template["outputs"][0]["columns"]:
        column["activation"] = "linear"
    write(tmp_path / "template.json", template)
    definitions = write(
        tmp_path / "defs.json",
        {"inputs": {"small_R_jets_pt_0": {"definition": "TODO"}}, "provenance": {"inspire": "1"}},
    )
    result = run(
        "card",
        "export",
        tmp_path / "template.json",
        "--model",
        tmp_path / "net.onnx",
        "-o",
        tmp_path / "out",
        "--definitions",
        definitions,
        "--license",
        "CC0",
    )
    assert result.exit_code == 0, result.output
    (card,) = (tmp_path / "out").glob("*.card.json")
    document = json.loads(card.read_text())
    assert document["schema_version"] == "1.1.0"
    assert document["provenance"]["inspire"] == "1" and document["provenance"]["license"] == "CC0"
    assert document["files"][0]["sha256"] == sha256_file(tmp_path / "out" / "multib_87.onnx")
    assert check_card(card).gaps == [
        "1 input has a definition marked TODO: small_R_jets_pt_0 — state it with --definitions "
        "FILE or recast card edit"
    ]


# -- the docs page --------------------------------------------------------------------------------
def section(page: str, title: str) -> str:
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_pages_example_states_every_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("importing.md", "Stating what the published files do not")
    shown = page_files(DOCS / "importing.md")["definitions.json"]
    load_definitions(write(tmp_path / "shown.json", json.loads(shown)))
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    (printed,) = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    run_example(code, tmp_path, monkeypatch)
    problems = printed_differences(capsys.readouterr().out, printed)
    assert not problems, "\n".join(problems)
    # the console lines run as written, and print (at least) the lines shown
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, *expected = command.strip().splitlines()
            args = shlex.split(line)
            assert args[0] == "recast"
            result = CliRunner().invoke(cli, args[1:])
            assert result.exit_code == 0, result.output
            for want in expected:
                assert want in result.output, (line, want, result.output)
