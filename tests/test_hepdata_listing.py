"""`recast bundle hepdata`: the shipped bundles listed in HEPData's analyses JSON (schema 1.0.0)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast.analysis.bundle import available
from recast.analysis.hepdata import (
    DEFAULT_BASE_URL,
    bundle_page_template,
    hepdata_listing,
    write_hepdata_listing,
)
from recast.cli import cli
from recast.errors import OutputError, UsageError
from recast.version import __version__

from .conftest import SHARED_DATA

SCHEMA = SHARED_DATA / "hepdata" / "analyses_schema_1.0.0" / "analyses_schema.json"
EXAMPLE = SCHEMA.with_name("example_smodels.json")
CREATED = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
#: the published searches shipped, by INSPIRE id
PUBLISHED = {2182381: "ATLAS_SUSY_2018_30", 1869040: "ATLAS_SUSY_2019_04"}
#: RFC 3339 section 5.6 date-time (jsonschema checks "format" only with an optional package)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def implementations(document: dict[str, Any]) -> dict[int, list[str]]:
    return {
        a["inspire_id"]: [i["name"] for i in a["implementations"]] for a in document["analyses"]
    }


def copy_bundle(tmp_path: Path, name: str, **provenance: str | None) -> Path:
    """The shipped example under another id, its provenance changed (None removes a key);
    listing reads analysis.json alone, so the copy need not be re-stamped."""
    folder = tmp_path / name
    shutil.copytree(available()["EXAMPLE_JETS_MET"], folder)
    document = json.loads((folder / "analysis.json").read_text())
    document["id"] = name
    for key, value in provenance.items():
        if value is None:
            document["provenance"].pop(key, None)
        else:
            document["provenance"][key] = value
    (folder / "analysis.json").write_text(json.dumps(document))
    return folder


@pytest.fixture
def schema() -> dict[str, Any]:
    if not SCHEMA.is_file():
        pytest.skip(f"HEPData's analyses schema not found at {SCHEMA} (see DESIGN.md)")
    return json.loads(SCHEMA.read_text())  # type: ignore[no-any-return]


# -- the document, without the shared data -----------------------------------------------------
def test_document_has_every_field_the_schema_requires() -> None:
    document = hepdata_listing(created=CREATED).document
    assert document["schema_version"] == "1.0.0"
    assert document["tool"] == "recast-nn"
    assert document["version"] == __version__
    assert document["date_created"] == "2025-03-14T15:09:26+00:00"
    assert RFC3339.fullmatch(document["date_created"])
    assert document["implementations_description"]
    assert document["implementations_license"] == {
        "name": "CC-BY-4.0",
        "url": "https://spdx.org/licenses/CC-BY-4.0.html",
    }
    for entry in document["analyses"]:
        assert type(entry["inspire_id"]) is int  # the schema's number, not analysis.json's text
        assert entry["implementations"]
    # unique entries, and placeholders that only name an implementation's fields
    assert len({json.dumps(a, sort_keys=True) for a in document["analyses"]}) == len(
        document["analyses"]
    )
    for template in document["url_templates"].values():
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        assert fields == {"name"}


def test_published_bundles_are_listed_with_their_pages() -> None:
    listing = hepdata_listing(created=CREATED)
    document = listing.document
    assert implementations(document) == {i: [n] for i, n in PUBLISHED.items()}
    assert listing.listed == ("ATLAS_SUSY_2018_30", "ATLAS_SUSY_2019_04")
    templates = document["url_templates"]
    for name in PUBLISHED.values():
        page = f"https://recast-nn.org/docs/bundles/{name}/"
        assert templates["main_url"].format(name=name) == page
        assert templates["val_url"].format(name=name) == page
    for entry in document["analyses"]:
        assert entry["pretty_name"].startswith(PUBLISHED[entry["inspire_id"]].replace("_", "-"))
        (implementation,) = entry["implementations"]
        assert implementation["status"] == "UNVALIDATED"  # as analysis.json says today


def test_bundles_without_inspire_id_are_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="recast.analysis.hepdata"):
        listing = hepdata_listing(created=CREATED)
    names = [n for names in implementations(listing.document).values() for n in names]
    for bundle_id in ("EXAMPLE_JETS_MET", "DEMO_MULTIB_GLUINO"):
        assert bundle_id not in names
        assert "no INSPIRE id" in listing.left_out[bundle_id]
        assert any(
            bundle_id in r.getMessage() and "INSPIRE" in r.getMessage() for r in caplog.records
        )
    assert set(listing.listed) | set(listing.left_out) == set(available())


def test_base_url_sets_every_page(tmp_path: Path) -> None:
    for base in ("https://example.org/recast", "https://example.org/recast/"):
        assert bundle_page_template(base) == "https://example.org/recast/bundles/{name}/"
    document = hepdata_listing("http://localhost:8000/", created=CREATED).document
    assert document["url_templates"]["val_url"] == "http://localhost:8000/bundles/{name}/"
    assert bundle_page_template() == DEFAULT_BASE_URL + "bundles/{name}/"


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("recast-nn.org/docs", "http(s) address"),
        ("ftp://recast-nn.org/docs/", "http(s) address"),
        ("https://recast-nn.org/docs/?v=1", "query or a fragment"),
        ("https://recast-nn.org/{version}/", "braces"),
    ],
)
def test_bad_base_url_is_refused(base: str, problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)) as caught:
        hepdata_listing(base)
    assert "base_url=" in str(caught.value) and DEFAULT_BASE_URL in str(caught.value)


def test_a_time_without_timezone_is_refused() -> None:
    with pytest.raises(UsageError, match="timezone"):
        hepdata_listing(created=datetime(2025, 3, 14, 15, 9, 26))


def test_default_date_is_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    created = datetime.fromisoformat(hepdata_listing().document["date_created"])
    assert created.utcoffset() is not None and before <= created <= datetime.now(UTC)


def test_bundles_of_one_paper_are_one_analysis(tmp_path: Path) -> None:
    a = copy_bundle(tmp_path, "PAPER_A", inspire="123", license="CC0-1.0")
    b = copy_bundle(tmp_path, "PAPER_A_NN", inspire="123", license="CC0-1.0")
    c = copy_bundle(tmp_path, "OTHER", inspire="456", license="CC0-1.0")
    none = copy_bundle(tmp_path, "NO_PAPER", inspire=None)
    listing = hepdata_listing(bundles=[a, b, none, c], created=CREATED)
    assert implementations(listing.document) == {123: ["PAPER_A", "PAPER_A_NN"], 456: ["OTHER"]}
    assert list(listing.left_out) == ["NO_PAPER"]
    assert listing.document["implementations_license"]["name"] == "CC0-1.0"
    with pytest.raises(UsageError, match="listed twice"):
        hepdata_listing(bundles=[a, a], created=CREATED)


def test_no_bundle_with_an_inspire_id_is_refused(tmp_path: Path) -> None:
    folder = copy_bundle(tmp_path, "NO_PAPER", inspire=None)
    with pytest.raises(UsageError, match=r"provenance\.inspire"):
        hepdata_listing(bundles=[folder])


@pytest.mark.parametrize("license", ["CC0-1.0", None])
def test_bundles_must_share_one_license(tmp_path: Path, license: str | None) -> None:
    a = copy_bundle(tmp_path, "A", inspire="1", license="CC-BY-4.0")
    b = copy_bundle(tmp_path, "B", inspire="2", license=license)
    with pytest.raises(UsageError, match="one license") as caught:
        hepdata_listing(bundles=[a, b])
    assert f"B: {license or '(none)'}" in str(caught.value)


def test_a_license_that_is_no_spdx_identifier_is_refused(tmp_path: Path) -> None:
    folder = copy_bundle(tmp_path, "A", inspire="1", license="the HEPData record's terms")
    with pytest.raises(UsageError, match="SPDX"):
        hepdata_listing(bundles=[folder])


def test_write_refuses_a_file_inside_a_bundle(tmp_path: Path) -> None:
    folder = copy_bundle(tmp_path, "A", inspire="1", license="CC0-1.0")
    with pytest.raises(OutputError, match="inside the input folder"):
        write_hepdata_listing(folder / "analyses.json", bundles=[folder])
    assert not (folder / "analyses.json").exists()


# -- against HEPData's schema (the shared data) ----------------------------------------------
@pytest.mark.shared_data
def test_document_validates_against_hepdata_schema(schema: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(json.loads(EXAMPLE.read_text()))  # the schema reads as it should
    document = hepdata_listing(created=CREATED).document
    validator.validate(document)
    # the validation has teeth: a wrong type of INSPIRE id, a missing template are caught
    broken = json.loads(json.dumps(document))
    broken["analyses"][0]["inspire_id"] = "2182381"
    del broken["url_templates"]["main_url"]
    assert len(list(validator.iter_errors(broken))) == 2


@pytest.mark.shared_data
def test_written_file_validates_against_hepdata_schema(
    schema: dict[str, Any], tmp_path: Path
) -> None:
    import jsonschema

    output = tmp_path / "analyses.json"
    result = run("bundle", "hepdata", "-o", str(output))
    assert result.exit_code == 0, result.output
    jsonschema.Draft202012Validator(schema).validate(json.loads(output.read_text()))


# -- the command line --------------------------------------------------------------------------
def test_cli_writes_the_file(tmp_path: Path) -> None:
    output = tmp_path / "out" / "analyses.json"
    result = run("bundle", "hepdata", "-o", str(output), "--base-url", "https://example.org/d")
    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text())
    assert implementations(document) == {i: [n] for i, n in PUBLISHED.items()}
    assert document["url_templates"]["main_url"] == "https://example.org/d/bundles/{name}/"
    assert "listed: ATLAS_SUSY_2018_30, ATLAS_SUSY_2019_04" in result.stdout
    assert "left out: EXAMPLE_JETS_MET: its provenance has no INSPIRE id" in result.stdout
    assert f"{output}: HEPData analyses JSON written" in result.stdout


def test_cli_prints_the_document_alone_on_stdout() -> None:
    result = run("bundle", "hepdata", "-o", "-")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing else on stdout
    assert implementations(document) == {i: [n] for i, n in PUBLISHED.items()}
    assert "left out: DEMO_MULTIB_GLUINO" in result.stderr


def test_cli_default_base_url_is_the_library_s() -> None:
    result = run("bundle", "hepdata", "-o", "-")
    assert json.loads(result.stdout)["url_templates"]["val_url"] == bundle_page_template()


def test_cli_refuses_a_folder(tmp_path: Path) -> None:
    result = run("bundle", "hepdata", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: -o/--output {tmp_path}: is a folder; give a file name, e.g. "
        f"{tmp_path / 'out.json'}"
    ]
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_cli_refuses_a_file_inside_a_shipped_bundle() -> None:
    target = available()["EXAMPLE_JETS_MET"] / "analyses.json"
    result = run("bundle", "hepdata", "-o", str(target))
    assert result.exit_code == 2
    assert "inside the input folder" in result.stderr and not target.exists()


def test_cli_unknown_option_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "analyses.json"
    result = run("bundle", "hepdata", "-o", str(output), "--inspire", "1")
    assert result.exit_code == 2
    assert "No such option '--inspire'" in result.stderr
    assert not output.exists()


def test_cli_bad_base_url_leaves_an_existing_file_alone(tmp_path: Path) -> None:
    output = tmp_path / "analyses.json"
    output.write_text("the previous listing\n")
    result = run("bundle", "hepdata", "-o", str(output), "--base-url", "recast-nn.org")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --base-url 'recast-nn.org': is not an http(s) address with a host; give the "
        f"address where the docs site is published, e.g. {DEFAULT_BASE_URL}"
    ]
    assert output.read_text() == "the previous listing\n"


def test_cli_needs_an_output() -> None:
    result = run("bundle", "hepdata")
    assert result.exit_code == 2 and "Missing option '-o'" in result.stderr
