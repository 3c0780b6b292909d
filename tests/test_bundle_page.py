"""The page of a bundle (`recast bundle report`, recast.report.html.write_bundle_page) and the
docs site's pages of every shipped bundle (docs/tools/bundle_pages.py, an mkdocs hook).

Pages are read back with the report tests' HTML parser. The validation document is built by
hand from the report tests' one, renamed to a bundle's regions, so that no event is run.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from recast.analysis.bundle import available, read_document
from recast.analysis.hepdata import BUNDLE_PAGE
from recast.cli import cli
from recast.errors import BundleNameError, OutputError, UsageError
from recast.report.html import bundle_page as bundle_page_module
from recast.report.html import write_bundle_page
from recast.report.html.site import MARKER

from .docs_pages import DOCS
from .test_report_html import Page, histograms, read_page, results_document, validation_document

SHIPPED = list(available())
EXAMPLE = "EXAMPLE_JETS_MET"


def example_validation() -> dict[str, Any]:
    """A validation of EXAMPLE_JETS_MET: SR_loose passes, SR_btag fails a step, SR_nn is
    normalised after its first row; with network histograms."""
    document = validation_document()
    document["analysis"] = EXAMPLE
    for region, name in zip(document["regions"], ["SR_loose", "SR_btag", "SR_nn"], strict=True):
        region["region"] = name
    document["network_histograms"] = histograms()
    return document


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    folder = tmp_path_factory.mktemp("pages")
    return {b: read_page(write_bundle_page(b, folder / b)) for b in SHIPPED}


# -- content ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bundle", SHIPPED)
def test_every_shipped_bundle_has_its_status_regions_and_benchmarks(
    pages: dict[str, Page], bundle: str
) -> None:
    _, document = read_document(bundle)
    page = pages[bundle]
    status = document["status"]
    reason = status.get("reason") or status.get("notes") or ""
    assert status["state"] in page.text
    assert " ".join(reason.split()) in " ".join(page.text.split()).replace("&#39;", "'")
    assert page.column("regions-table", "region") == list(document["regions"])
    cutflows = [
        json.loads((read_document(bundle)[0] / c["path"]).read_text())
        for c in document.get("cutflows", [])
    ]
    for cutflow in cutflows:  # every benchmark, with each region's published cutflow
        name = cutflow["benchmark"]["name"]
        assert f">{name}</h3>" in page.text
        captions = re.findall(r"<caption>([^<]*)</caption>", page.text)
        assert any(c.startswith(f"{cutflow['region']} ({cutflow['unit']}") for c in captions)
    benchmarks = list(dict.fromkeys(c["benchmark"]["name"] for c in cutflows))
    assert page.facts["published benchmarks"] == (", ".join(benchmarks) or "none")
    assert page.facts["bundle"] == bundle
    assert page.column("networks-table", "network") == list(document.get("networks", {}))
    assert page.column("choices-table", "topic") == [
        c["topic"] for c in document.get("choices", [])
    ]
    assert {"summary", "regions", "likelihood", "networks", "detector"} <= set(page.sections)
    assert "validation" not in page.sections


@pytest.mark.parametrize("bundle", SHIPPED)
def test_the_page_needs_nothing_from_outside(pages: dict[str, Page], bundle: str) -> None:
    page = pages[bundle]
    assert not page.images and not page.scripts[0].get("src")
    for reference in page.references:  # anchors, the empty icon, and links to read on
        assert reference.startswith(("#", "data:", "https://")), reference
    ids = re.findall(r' id="([^"]+)"', page.text)
    assert len(ids) == len(set(ids))
    assert all(t["rows"] for t in page.tables.values())


def test_regions_with_their_own_status_say_why(pages: dict[str, Page]) -> None:
    page = pages["ATLAS_SUSY_2018_30"]
    names, states = page.column("regions-table", "region"), page.column("regions-table", "status")
    statuses = dict(zip(names, states, strict=True))
    assert statuses["SR-Gtb-B"] == "UNVALIDATED (own)"
    assert statuses["SR-Gtt-0L-B"] == "UNVALIDATED"
    own = next(label for label in page.facts if label.startswith("SR-Gtb-B, SR-Gtb-M"))
    assert "CR-Gtb-C" in own
    assert "no public reimplementation reproduces the published Gtb" in page.facts[own]


def test_publication_links_and_published_numbers(pages: dict[str, Page]) -> None:
    page = pages["ATLAS_SUSY_2019_04"]
    for link in (
        "https://arxiv.org/abs/2106.09609",
        "https://inspirehep.net/literature/1869040",
        "https://doi.org/10.17182/hepdata.104860.v1/r3",
        "https://spdx.org/licenses/CC-BY-4.0.html",
    ):
        assert link in page.references
    rows = {r[0]: r for r in page.tables["regions-table"]["rows"]}
    header = page.tables["regions-table"]["header"]
    assert rows["SR-NN-6j"][header.index("observed")] == "126"  # from the likelihood's table
    assert rows["SR-NN-6j"][header.index("background")] == "145.0 ± 6.0"
    assert rows["SR-NN-6j"][header.index("likelihood")] == "simplified"
    assert rows["SR-NN-4j"][header.index("likelihood")] == "—"
    assert "SR-NN-4j" in page.facts["signal regions without one"]
    cuts = rows["SR-NN-4j"][header.index("cuts")]
    assert cuts.startswith("lead_lepton_pt_gt_27 → one_lepton_channel → n_jets_20_eq_4")
    # the published steps: value, cumulative and relative efficiency of 14491 initial events
    table = next(t for t in page.tables.values() if t["rows"] and t["id"] == "benchmark-1-1")
    assert table["rows"][0] == ["1", "lead_lepton_pt_gt_27", "5413", "0.3735", "0.3735"]
    assert page.facts["process"] == "higgsino-n1n2"
    assert page.facts["cross-section σ"] == "0.1043 pb (104.3 fb)"


def test_networks_options_detectors_and_likelihood(pages: dict[str, Page]) -> None:
    page = pages["ATLAS_SUSY_2018_30"]
    networks = {r[0]: r for r in page.tables["networks-table"]["rows"]}
    header = page.tables["networks-table"]["header"]
    multib = networks["multib"]
    assert multib[header.index("inputs")] == "87 (3 parameter(s))"  # the hypothesis: class, masses
    assert multib[header.index("outputs")].startswith("0 Gtt, 1 Gbb, 2 ttbar")
    assert multib[header.index("distributed")] == "no"  # the user supplies the ONNX file
    assert multib[header.index("digest")].startswith("git blob ")
    assert page.column("options-table", "option") == ["met_phi_convention"]
    assert page.column("options-table", "choices") == ["[0, 2pi), (-pi, pi]"]
    demo = pages["DEMO_MULTIB_GLUINO"]
    # the default detector is one of the named ones: shown once, under both names
    assert "Detector: default, learned (recast run --detector learned)" in demo.text
    assert demo.text.count("Detector: ") == 3
    maps = dict(
        zip(demo.column("maps-table", "map"), demo.column("maps-table", "used by"), strict=True)
    )
    assert maps["maps/muons_id.json"].count("muons efficiency") == 3
    likelihood = dict(zip(demo.column("likelihood-table", "region"),
                          demo.column("likelihood-table", "likelihood"), strict=True))  # fmt: skip
    assert likelihood["SR-Gtt-0L"] == "simplified, workspace SR_Gtt_0L[0]"
    assert likelihood["CR-ttbar-1L"] == "workspace CR_ttbar_1L[0]"
    assert demo.facts["combined"] == "SR-Gtt-0L + SR-Gtt-1L"


def test_a_validation_adds_its_comparison(tmp_path: Path) -> None:
    validation = tmp_path / "validation.json"
    validation.write_text(json.dumps(example_validation()))
    outcome = CliRunner().invoke(
        cli, ["bundle", "report", EXAMPLE, "-o", str(tmp_path / "page"), "--validation",
              str(validation)]
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output == f"wrote {tmp_path / 'page' / 'index.html'}\n"
    page = read_page(tmp_path / "page" / "index.html")
    assert page.sections[:2] == ["summary", "validation"]
    assert page.facts["validation"].startswith("FAILED in SR_btag")
    assert page.facts["benchmark"] == "gtt_1200_100"
    assert page.facts["document"] == str(validation)
    assert page.column("cutflow-1", "verdict") == ["pass", "FAIL"]
    assert page.column("cutflow-2", "verdict") == ["norm.", "pass", "pass"]
    assert page.column("cutflow-0", "ratio") == ["0.96", "0.952"]
    assert page.tables["cutflow-1"]["row_classes"] == ["", "fail"]
    # the network histograms' ranking, without links to plots this page does not have
    assert page.column("network-histograms", "histogram")[0] == "jet_m_0"
    assert not [r for r in page.references if r.startswith("#network_")]
    assert (tmp_path / "page" / MARKER).is_file()


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("unknown id", 2, "no analysis bundle 'NO_SUCH': not a shipped bundle (shipped bundles: "
         + ", ".join(SHIPPED)),
        ("inside the bundle", 2, "lies inside the input folder"),
        ("inside a shipped bundle", 2, "lies inside the input folder"),
        ("holds the validation", 2, "holds the input"),
        ("not a report folder", 2, "exists and is not a recast report"),
        ("another analysis", 2, "is a validation of TEST, not of EXAMPLE_JETS_MET"),
        ("other regions", 2, "validates region(s) SR-A, which EXAMPLE_JETS_MET does not have"),
        ("not a validation", 2, "is a results document (recast run -o), given as validation"),
        ("tampered", 1, "the file was modified or replaced. Restore the original file"),
    ],
)  # fmt: skip
def test_bad_input_gives_one_message_and_writes_nothing(
    tmp_path: Path, case: str, code: int, message: str
) -> None:
    inputs = tmp_path / "in"
    bundle = inputs / EXAMPLE
    shutil.copytree(available()[EXAMPLE], bundle)
    validation = inputs / "validation.json"
    validation.write_text(json.dumps(example_validation()))
    out = tmp_path / "page"
    analysis = str(bundle)
    args = ["--validation", str(validation)]
    shipped_page = available()[EXAMPLE] / "page"
    if case == "unknown id":
        analysis = "NO_SUCH"
    elif case == "inside the bundle":
        out = bundle / "page"
    elif case == "inside a shipped bundle":
        analysis, out = EXAMPLE, shipped_page
    elif case == "holds the validation":
        out = inputs
    elif case == "not a report folder":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "another analysis":
        validation.write_text(json.dumps(validation_document()))
    elif case == "other regions":
        other = example_validation()
        other["regions"][0]["region"] = "SR-A"
        validation.write_text(json.dumps(other))
    elif case == "not a validation":
        validation.write_text(json.dumps(results_document()))
    elif case == "tampered":
        cutflow = bundle / "cutflows" / "gtt_1200_100_SR_nn.json"
        cutflow.write_text(cutflow.read_text().replace("gtt_1200_100", "gtt_1200_101"))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    outcome = CliRunner().invoke(cli, ["bundle", "report", analysis, "-o", str(out), *args])
    assert outcome.exit_code == code, outcome.output
    assert outcome.output.startswith("error: ") and message in outcome.output, outcome.output
    assert "Traceback" not in outcome.output
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing written
    assert not shipped_page.exists()


def test_python_errors_name_the_argument(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="folder -: a report is a folder"):
        write_bundle_page(EXAMPLE, "-")
    with pytest.raises(UsageError, match="given as validation; give it as results= instead"):
        write_bundle_page(EXAMPLE, tmp_path / "p", validation=results_document())
    (tmp_path / EXAMPLE).mkdir()  # a bare name is a shipped id, never a folder of the cwd
    (tmp_path / EXAMPLE / "analysis.json").write_text("{}")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        with pytest.raises(BundleNameError, match="ambiguous"):
            write_bundle_page(EXAMPLE, tmp_path / "p")
    assert sorted(p.name for p in tmp_path.iterdir()) == [EXAMPLE]


def test_a_page_replaces_an_earlier_one_whole_and_a_failure_leaves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = write_bundle_page(EXAMPLE, tmp_path / "p", validation=example_validation())
    assert "validation" in read_page(index).sections
    index = write_bundle_page(EXAMPLE, tmp_path / "p")
    assert "validation" not in read_page(index).sections
    before = index.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> str:
        raise KeyboardInterrupt  # Ctrl-C while the page is made

    monkeypatch.setattr(bundle_page_module, "bundle_page", broken)
    with pytest.raises(KeyboardInterrupt):
        write_bundle_page(EXAMPLE, tmp_path / "p", validation=example_validation())
    assert index.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no hidden folder left


def test_the_same_bundle_gives_the_same_page(tmp_path: Path) -> None:
    first = write_bundle_page("DEMO_MULTIB_GLUINO", tmp_path / "a").read_bytes()
    assert write_bundle_page("DEMO_MULTIB_GLUINO", tmp_path / "b").read_bytes() == first


# -- the docs site ---------------------------------------------------------------------------
def _hook() -> ModuleType:
    path = DOCS / "tools" / "bundle_pages.py"
    spec = importlib.util.spec_from_file_location("bundle_pages_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mkdocs_names_the_hook() -> None:
    text = (DOCS.parent / "mkdocs.yml").read_text()
    assert re.search(r"^hooks:\n  - docs/tools/bundle_pages\.py$", text, re.M)


def test_the_hook_writes_a_page_per_shipped_bundle(tmp_path: Path) -> None:
    hook = _hook()
    site = tmp_path / "site"
    site.mkdir()
    hook.on_post_build({"site_dir": str(site), "docs_dir": str(DOCS), "use_directory_urls": True})
    written = sorted(p.parent.name for p in (site / "bundles").glob("*/index.html"))
    assert written == sorted(SHIPPED)
    for bundle in SHIPPED:
        page = read_page(site / BUNDLE_PAGE.format(name=bundle) / "index.html")
        assert page.facts["bundle"] == bundle
        relative = [r for r in page.references if r.startswith("../../")]
        assert "../../index.html" in relative
        assert "../../reports/index.html#validation-pages" in relative
        for reference in relative:  # each leads to a page of the docs
            stem = reference.removeprefix("../../").partition("#")[0].removesuffix("index.html")
            assert (DOCS / ((stem.rstrip("/") or "index") + ".md")).is_file(), reference
    links = dict(hook.links("ATLAS_SUSY_2018_30", DOCS))
    assert links["the bundle in the docs"] == "../../atlas-susy-2018-30/index.html"
    assert dict(hook.links("ATLAS_SUSY_2018_30", DOCS, False))["recast-nn docs"] == (
        "../../index.html"
    )
    # a rebuild of the site (mkdocs build --dirty, serve) replaces the pages
    hook.on_post_build({"site_dir": str(site), "docs_dir": str(DOCS)})


def test_the_docs_link_every_shipped_bundle_page() -> None:
    text = (DOCS / "reports.md").read_text()
    linked = re.findall(r'<a href="\.\./bundles/([A-Z0-9_]+)/index\.html">\1</a>', text)
    assert linked == SHIPPED
    assert "## Validation pages" in text


# -- in a browser ----------------------------------------------------------------------------
@pytest.mark.slow
def test_a_page_in_a_browser(tmp_path: Path) -> None:
    from .test_report_browser import open_browser

    index = write_bundle_page(EXAMPLE, tmp_path / "page", validation=example_validation())
    driver = open_browser()
    try:
        driver.get_log("browser")
        driver.get(index.resolve().as_uri())
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], json.dumps(severe, indent=1)
        assert driver.title == f"{EXAMPLE}: recast-nn bundle"
        rows = driver.execute_script(
            "return Array.from(document.querySelectorAll('table')).map("
            "t => [t.id, t.tBodies[0].rows.length, t.offsetHeight])"
        )
        assert {"regions-table", "networks-table", "cutflow-0", "benchmark-1-1"} <= {
            r[0] for r in rows
        }
        assert all(count > 0 and height > 0 for _, count, height in rows), rows
        # the regions sort by their name when its header is clicked
        header = driver.execute_script("return document.querySelector('#regions-table thead th')")
        header.click()
        names = driver.execute_script(
            "return Array.from(document.getElementById('regions-table').tBodies[0].rows)"
            ".map(r => r.cells[0].textContent)"
        )
        assert names == sorted(names) and header.get_attribute("aria-sort") == "ascending"
    finally:
        driver.quit()
