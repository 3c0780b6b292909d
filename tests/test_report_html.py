"""The HTML report (`recast report`, recast.report.html): what the page holds, read back with
the standard library's HTML parser, its bad inputs and its atomic write.

The documents are built by hand, so every cell can be named: a run with limits and a skipped
region, a validation with a passing region, a failing one and a normalised one, scans of a
grid and of a model, and the network histograms of a validation.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import (
    ArtefactNotFoundError,
    InvalidDocumentError,
    MissingDependencyError,
    OutputError,
    UsageError,
)
from recast.report.html import figures as report_figures
from recast.report.html import kind_of, write_report
from recast.report.html.site import MARKER

from .docs_pages import DOCS, run_example
from .test_plane_plot import grid as plane_grid
from .test_plane_plot import plane

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


# -- documents -------------------------------------------------------------------------------
def _cutflow(values: list[float]) -> dict[str, Any]:
    return {
        "cuts": ["initial", *(f"cut_{i}" for i in range(1, len(values)))],
        "sumw": values,
        "sumw2": [v / 10 for v in values],
        "raw": [int(v) for v in values],
    }


def _limits_entry(observed: float, median: float, excluded: bool) -> dict[str, Any]:
    band = {"minus2": median / 3, "minus1": median / 2, "median": median, "plus1": 2 * median,
            "plus2": 3 * median}  # fmt: skip
    return {
        "cls": {"observed": observed, "expected": band},
        "mu_upper": {"observed": 0.7, "expected": {k: 0.8 * v / median for k, v in band.items()}},
        "excluded": excluded,
        "method": "exact",
        "calculator": "exact",
        "status": "ok",
    }


def results_document() -> dict[str, Any]:
    """A run of TEST: three regions, limits decided by SR-B, one region skipped."""
    regions = {
        "SR-A": {"signal": 4.0, "signal_uncertainty": 0.4, "observed_events": 5,
                 "background": 6.4, "background_uncertainty": 3.5,
                 **_limits_entry(0.25, 0.3, False)},
        "SR-B": {"signal": 9.0, "signal_uncertainty": 0.9, "observed_events": 1,
                 "background": 1.5, "background_uncertainty": 0.9,
                 **_limits_entry(0.0133, 0.0169, True)},
    }  # fmt: skip
    return {
        "schema_version": "1.0.0",
        "analysis": "TEST",
        "normalisation": {
            "cross_section_pb": 0.0123,
            "cross_section_source": "user",
            "luminosity_fb": 139.0,
            "sum_weights": 200.0,
            "factor": 8.5485,
            "events": 200,
        },
        "yields": {
            "SR-A": {"value": 4.0, "mc_uncertainty": 0.4, "raw": 47, "efficiency": 0.235},
            "SR-B": {"value": 9.0, "mc_uncertainty": 0.9, "raw": 105, "efficiency": 0.525},
            "CR-C": {"value": 2.0, "mc_uncertainty": 0.3, "raw": 23, "efficiency": 0.117},
        },
        "cutflows": {
            "SR-A": _cutflow([1709.7, 1200.0, 40.0, 4.0]),
            "SR-B": _cutflow([1709.7, 900.0, 9.0]),
            "CR-C": _cutflow([1709.7, 300.0, 2.0]),
        },
        "skipped": {"SR-NN": "the network file nn.onnx is not shipped"},
        "limits": {
            "alpha": 0.05,
            "regions": regions,
            "best_expected_region": "SR-B",
            "verdict": {
                "source": "region SR-B",
                "cls": regions["SR-B"]["cls"],
                "mu_upper": regions["SR-B"]["mu_upper"],
                "excluded": True,
            },
            "warnings": ["SR-A: a warning the fits gave"],
        },
        "provenance": {
            "recast_version": "0.1.0",
            "packages": {"numpy": "2.3.5", "pyhf": "0.7.6"},
            "seed": 7,
            "inputs": [{"path": "/data/events.hepmc", "sha256": "ab" * 32, "events": 200}],
            "detector": {"name": "default", "path": "detector.json", "sha256": "cd" * 32},
            "options": {"btag_field": "btag_77"},
        },
    }


def _step(cut: str, published: float, recast: float, passed: bool | None, **extra: Any) -> dict:
    ratio = recast / published if published else None
    return {
        "cut": cut,
        "recast": recast,
        "recast_uncertainty": 0.1 * recast,
        "published": published,
        "published_uncertainty": 0.05 * published,
        "recast_efficiency": recast / 1709.7,
        "published_efficiency": published / 1709.7,
        "recast_relative": None,
        "published_relative": None,
        "ratio": ratio,
        "pull": (recast - published) / (0.1 * recast) if recast else None,
        "passed": passed,
        **extra,
    }


def validation_document() -> dict[str, Any]:
    """A validation of TEST: SR-A passes, SR-B fails a step, SR-C is normalised after its
    first cut (which is then not tested)."""
    return {
        "analysis": "TEST",
        "benchmark": "gtt_1200_100",
        "normalisation": results_document()["normalisation"],
        "tolerance": {"relative": 0.2, "max_pull": 2.0},
        "regions": [
            {
                "region": "SR-A",
                "unit": "events",
                "initial": {"recast": 1709.7, "published": 1709.7},
                "steps": [_step("cut_1", 1250.0, 1200.0, True), _step("cut_2", 42.0, 40.0, True)],
                "passed": True,
            },
            {
                "region": "SR-B",
                "unit": "events",
                "initial": {"recast": 1709.7, "published": 1709.7},
                "steps": [_step("cut_1", 910.0, 900.0, True), _step("cut_2", 15.0, 9.0, False)],
                "passed": False,
            },
            {
                "region": "SR-C",
                "unit": "fractions",
                "initial": {"recast": 1.0, "published": 1.0},
                "normalised_after": {"cut": "trigger", "factor": 1.25},
                "steps": [
                    _step("trigger", 0.8, 0.64, None),
                    _step("cut_2", 0.5, 0.49, True),
                    # a published 0: no ratio (null in the JSON)
                    _step("cut_3", 0.0, 0.01, True),
                ],
                "passed": True,
            },
        ],
        "skipped": {},
        "passed": False,
        "provenance": {"recast_version": "0.1.0", "seed": 7},
    }


def histograms() -> list[dict[str, Any]]:
    """Five network histograms as `recast validate` compares them (shapes at unit area,
    worst first), their p-values out of order: one without any, one not compared at all."""

    def entry(feature: str, p: float | None, shift: float, **extra: Any) -> dict[str, Any]:
        published = [0.1, 0.4, 0.3, 0.2]
        recast = [v * (1 + shift * (i - 1.5)) for i, v in enumerate(published)]
        return {
            "network": "multib",
            "feature": feature,
            "kind": "input",
            "edges": [0.0, 0.25, 0.5, 0.75, 1.0],
            "published": {"counts": published, "errors": [0.1 * v for v in published]},
            "recast": {"counts": recast, "errors": [0.1 * v for v in recast], "rows": 180},
            "chi2": None if p is None else 3.0 + 20 * shift,
            "ndf": 4,
            "p_value": p,
            "ks": 0.1 + shift,
            **extra,
        }

    return [
        entry("jet_pt_0", 0.5, 0.0, passed=True, worst={"bin": "[0, 0.25)", "pull": 0.4}),
        entry("score_gtt", 0.001, 0.3, kind="output", passed=False,
              worst={"bin": "[0.75, 1)", "pull": 3.2}),
        entry("met", None, 0.1),
        entry("jet_eta_0", 0.2, 0.05, passed=True, worst={"bin": "[0.5, 0.75)", "pull": -1.3}),
        entry("jet_m_0", 0.0, 0.0, chi2=None, ndf=0, ks=1.0, passed=False,
              problem="all 12 recast row(s) fall outside the published edges"),
    ]  # fmt: skip


# -- reading the page back -------------------------------------------------------------------
class Page(HTMLParser):
    """What a test looks at: tables (by id: header, rows of cell texts, row classes, cells'
    attributes), images, sections, the summary's facts, scripts and outside references."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, Any]] = {}
        self.images: list[dict[str, str | None]] = []
        self.sections: list[str] = []
        self.facts: dict[str, str] = {}
        self.references: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.text = text
        self._stack: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._cell_attrs: dict[str, str | None] = {}
        self._row: list[tuple[str, dict[str, str | None]]] | None = None
        self._row_class = ""
        self._in_head = False
        self._dt: str | None = None
        self._capture: list[str] | None = None
        self._unnamed = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for key in ("src", "href"):
            if found.get(key):
                self.references.append(str(found[key]))
        if tag == "table":
            name = found.get("id") or f"unnamed-{self._unnamed}"
            self._unnamed += not found.get("id")
            table = {"id": name, "class": found.get("class") or "", "header": [], "rows": [],
                     "row_classes": [], "cells": []}  # fmt: skip
            self.tables[name] = table
            self._stack.append(table)
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._stack:
            self._row, self._row_class = [], found.get("class") or ""
        elif tag in ("td", "th") and self._stack:
            self._cell, self._cell_attrs = [], found
        elif tag == "img":
            self.images.append(found)
        elif tag == "section":
            self.sections.append(str(found.get("id")))
        elif tag == "script":
            self.scripts.append(found)
        elif tag in ("dt", "dd") and found.get("class") != "tree":
            self._capture = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((" ".join("".join(self._cell).split()), self._cell_attrs))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._stack:
            table = self._stack[-1]
            if self._in_head:
                table["header"] = [text for text, _ in self._row]
            else:
                table["rows"].append([text for text, _ in self._row])
                table["cells"].append([attrs for _, attrs in self._row])
                table["row_classes"].append(self._row_class)
            self._row = None
        elif tag == "dt" and self._capture is not None:
            self._dt = "".join(self._capture).strip()
            self._capture = None
        elif tag == "dd" and self._capture is not None:
            if self._dt is not None:
                self.facts.setdefault(self._dt, " ".join("".join(self._capture).split()))
            self._capture, self._dt = None, None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._capture is not None:
            self._capture.append(data)

    def column(self, table: str, name: str) -> list[str]:
        found = self.tables[table]
        index = found["header"].index(name)
        return [row[index] for row in found["rows"]]


def read_page(index: Path) -> Page:
    return Page(index.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Page]:
    validation = validation_document()
    validation["network_histograms"] = histograms()
    index = write_report(
        tmp_path_factory.mktemp("report") / "report",
        results=results_document(),
        validation=validation,
        title="A test",
    )
    return index, read_page(index)


# -- content ---------------------------------------------------------------------------------
def test_the_summary_names_the_point_and_both_verdicts(report: tuple[Path, Page]) -> None:
    index, page = report
    assert index.name == "index.html" and (index.parent / MARKER).is_file()
    facts = page.facts
    assert facts["analysis"] == "TEST"
    assert facts["benchmark"] == "gtt_1200_100"
    assert facts["cross-section σ"] == "0.0123 pb (user)"
    assert facts["luminosity L"] == "139 fb⁻¹"
    assert facts["events"].startswith("200 (Σw = 200;")
    assert facts["validation"] == "FAILED in SR-B, 2 of 5 network histogram(s)"
    assert facts["limits"].startswith("excluded at 95 % CL by region SR-B: CLs 0.0133")
    assert "μ95 0.7" in facts["limits"]
    assert "<title>A test</title>" in page.text
    for section in ("summary", "cutflows", "yields", "limits", "skipped", "provenance"):
        assert section in page.sections
    # the skipped region and why
    assert page.facts["SR-NN"] == "the network file nn.onnx is not shipped"


def test_every_validated_region_has_its_cutflow_beside_the_published_one(
    report: tuple[Path, Page],
) -> None:
    _, page = report
    tables = [page.tables[f"cutflow-{k}"] for k in range(3)]
    assert [len(t["rows"]) for t in tables] == [2, 2, 3]
    assert tables[0]["header"] == [
        "cut", "published", "recast", "cum. eff. published", "cum. eff. recast",
        "rel. eff. published", "rel. eff. recast", "ratio", "pull", "verdict",
    ]  # fmt: skip
    assert page.column("cutflow-0", "published") == ["1250 ± 62", "42.0 ± 2.1"]
    assert page.column("cutflow-0", "verdict") == ["pass", "pass"]
    # the failing step is marked in its row and its verdict cell
    assert page.column("cutflow-1", "verdict") == ["pass", "FAIL"]
    assert tables[1]["row_classes"] == ["", "fail"]
    assert page.column("cutflow-1", "ratio") == ["0.989", "0.6"]
    assert page.column("cutflow-1", "pull") == ["-0.11", "-6.67"]
    # the region headings carry the region's verdict
    assert '>SR-B <span class="badge fail">FAIL</span>' in page.text


def test_rows_before_a_normalisation_are_not_tested(report: tuple[Path, Page]) -> None:
    _, page = report
    assert page.column("cutflow-2", "verdict") == ["norm.", "pass", "pass"]
    assert page.tables["cutflow-2"]["row_classes"][0] == "norm"
    verdict_cell = page.tables["cutflow-2"]["cells"][0][-1]
    assert "not tested" in str(verdict_cell["title"])
    assert "rows up to trigger are not tested (norm.)" in page.text
    assert "ratio (1.25) divided out" in page.text
    # a published 0 has no ratio: a dash, sorted last
    assert page.column("cutflow-2", "ratio")[2] == "—"
    assert page.tables["cutflow-2"]["cells"][2][7]["data-sort"] == ""


def test_yields_with_mc_uncertainties_and_the_deciding_region(report: tuple[Path, Page]) -> None:
    _, page = report
    assert page.column("yields-table", "region") == ["SR-A", "SR-B ★", "CR-C"]
    assert page.column("yields-table", "signal") == ["4.00 ± 0.40", "9.00 ± 0.90", "2.00 ± 0.30"]
    assert page.column("yields-table", "background") == ["6.4 ± 3.5", "1.50 ± 0.90", "—"]
    assert page.column("yields-table", "observed") == ["5", "1", "—"]
    assert page.tables["yields-table"]["row_classes"][1] == "deciding"
    assert page.column("limits-table", "from") == ["region SR-A", "region SR-B ★"]
    assert page.column("limits-table", "CLs obs") == ["0.25", "0.0133"]
    assert page.column("limits-table", "excluded") == ["no", "yes"]
    assert "warning: SR-A: a warning the fits gave" in page.text
    # the cutflows of the regions no validation shows: the control region's
    assert page.tables["results-cutflow-2"]["rows"][0][:4] == ["initial", "1710", "13", "1709"]
    assert "results-cutflow-0" not in page.tables  # SR-A is in the validation


def test_numbers_sort_by_their_value(report: tuple[Path, Page]) -> None:
    _, page = report
    for table in page.tables.values():
        if "sortable" in table["class"]:
            assert table["header"] and table["rows"], table["id"]
    cells = page.tables["yields-table"]["cells"]
    assert [c[1]["data-sort"] for c in cells] == ["4.0", "9.0", "2.0"]
    assert cells[0][0].get("data-sort") is None  # names sort as text


def test_plots_are_files_of_the_folder_with_alt_text(report: tuple[Path, Page]) -> None:
    index, page = report
    sources = [str(image["src"]) for image in page.images]
    assert sources[:3] == [f"figures/cutflow_0{k}.png" for k in (1, 2, 3)]
    assert "figures/yields.png" in sources
    for image in page.images:
        assert len(str(image["alt"])) > 40, image
        assert (index.parent / str(image["src"])).read_bytes()[:8] == PNG
    assert sorted(p.name for p in (index.parent / "figures").iterdir()) == sorted(
        Path(s).name for s in sources
    )


def test_the_page_needs_nothing_from_outside(report: tuple[Path, Page]) -> None:
    """No CDN, no server: style and script inline, plots beside the page, links in the page."""
    _, page = report
    assert page.scripts == [{}]  # one inline script, no src
    for reference in page.references:
        assert reference.startswith(("#", "figures/", "data:")), reference
    assert "<style>" in page.text and "table.sortable" in page.text
    assert "@import" not in page.text and "url(" not in page.text


def test_every_id_names_one_element(report: tuple[Path, Page]) -> None:
    """Links and scripts find elements by id: a table must not share one with its section."""
    _, page = report
    ids = re.findall(r'\sid="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for link in re.findall(r'href="#([^"]+)"', page.text):
        assert link in ids, link


def test_provenance_is_folded_away(report: tuple[Path, Page]) -> None:
    _, page = report
    provenance = page.text[page.text.index('<section id="provenance">') :]
    assert provenance.count("<details>") >= 2
    for text in ("results: the results document", "2.3.5", "btag_77", "/data/events.hepmc",
                 "ab" * 32, "detector.json"):  # fmt: skip
        assert text in provenance, text


def test_network_histograms_are_drawn_and_ranked_worst_first(report: tuple[Path, Page]) -> None:
    index, page = report
    assert "networks" in page.sections
    column = functools.partial(page.column, "network-histograms")
    assert column("histogram") == ["jet_m_0", "score_gtt", "jet_eta_0", "jet_pt_0", "met"]
    assert column("kind") == ["input", "output", "input", "input", "input"]
    assert column("p-value") == ["0", "0.001", "0.2", "0.5", "—"]
    assert column("χ² / ndf") == ["—", "9 / 4", "4 / 4", "3 / 4", "—"]
    assert column("largest pull") == [
        "all 12 recast row(s) fall outside the published edges",
        "+3.2 in [0.75, 1)", "-1.3 in [0.5, 0.75)", "+0.4 in [0, 0.25)", "—",
    ]  # fmt: skip
    # a histogram's own verdict, else its p-value against the tolerance, else none
    assert column("verdict") == ["FAIL", "FAIL", "pass", "pass", "—"]
    assert page.tables["network-histograms"]["row_classes"][:3] == ["fail", "fail", ""]
    assert page.facts["validation"] == "FAILED in SR-B, 2 of 5 network histogram(s)"
    # each row links to its plot, in the same order
    for rank in range(1, 6):
        assert f'<a href="#network-{rank}">' in page.text
        assert f'<figure id="network-{rank}">' in page.text
        assert (index.parent / f"figures/network_{rank:03d}.png").read_bytes()[:8] == PNG
    alts = [str(i["alt"]) for i in page.images if "network_" in str(i["src"])]
    assert alts[0].startswith("Histogram of jet_m_0 of network multib")
    assert alts[0].endswith("not compared: all 12 recast row(s) fall outside the published edges.")
    assert "p = 0.001" in alts[1]


def test_only_failing_histograms_fail_a_validation_of_passing_regions(tmp_path: Path) -> None:
    validation = validation_document()
    validation["regions"] = validation["regions"][:1]
    validation["network_histograms"] = histograms()[:1]
    validation["passed"] = True
    page = read_page(write_report(tmp_path / "ok", validation=validation))
    assert (
        page.facts["validation"] == "passed: every step of 1 region(s) and 1 network histogram(s)"
    )
    validation["network_histograms"] = histograms()[:2]
    validation["passed"] = False
    page = read_page(write_report(tmp_path / "bad", validation=validation))
    assert page.facts["validation"] == "FAILED in 1 of 2 network histogram(s)"


def test_without_network_histograms_the_section_is_left_out(tmp_path: Path) -> None:
    index = write_report(tmp_path / "r", validation=validation_document())
    page = read_page(index)
    assert "networks" not in page.sections and "network-histograms" not in page.tables
    assert not list((index.parent / "figures").glob("network_*"))
    # a validation alone: its cutflows, no yields nor limits
    assert {"summary", "cutflows", "provenance"} <= set(page.sections)
    assert "yields" not in page.sections and "limits" not in page.sections
    empty = validation_document()
    empty["network_histograms"] = []
    assert "networks" not in read_page(write_report(tmp_path / "e", validation=empty)).sections


def test_names_from_documents_are_text_never_markup(tmp_path: Path) -> None:
    results = results_document()
    results["yields"]["<script>alert(1)</script>"] = results["yields"].pop("CR-C")
    results["cutflows"]["<script>alert(1)</script>"] = results["cutflows"].pop("CR-C")
    page = read_page(write_report(tmp_path / "r", results=results))
    assert page.text.count("<script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.column("yields-table", "region")[2] == "<script>alert(1)</script>"


# -- scans -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scan_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from recast.likelihood.demo import gluino_grid
    from recast.likelihood.simplified import Region
    from recast.pipeline.scan import scan

    folder = tmp_path_factory.mktemp("scan")
    table: dict[str, Any] = {
        "SR-A": {"observed": 0, "background": 0.6, "background_uncertainty": 0.3},
        "SR-B": {"observed": 3, "background": 1.3, "background_uncertainty": 0.6},
    }
    regions = [Region(name, **values) for name, values in table.items()]
    grid = gluino_grid(regions, [1700, 2100, 2500], [0, 600, 1200])
    (folder / "grid.json").write_text(json.dumps(grid))
    (folder / "likelihood.json").write_text(json.dumps({"likelihood": {"regions": table}}))
    return scan(folder / "likelihood.json", folder / "grid.json", with_limits=False)


def test_a_scan_gives_its_plot_and_its_points(
    scan_document: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "scan.json").write_text(json.dumps(scan_document))
    index = write_report(tmp_path / "r", scan=tmp_path / "scan.json")
    page = read_page(index)
    assert page.facts["scan"] == (
        f"scan of {scan_document['grid']}: {scan_document['excluded']} of 9 point(s) excluded"
    )
    table = page.tables["scan-points"]
    assert table["header"][:2] == ["m_gluino", "m_lsp"] and len(table["rows"]) == 9
    excluded = page.column("scan-points", "excluded")
    assert excluded.count("yes") == scan_document["excluded"]
    assert [str(i["src"]) for i in page.images] == ["figures/scan.png"]
    assert (index.parent / "figures/scan.png").read_bytes()[:8] == PNG
    assert "<title>recast scan report</title>" in page.text


def test_a_scan_that_cannot_be_drawn_says_why(
    scan_document: dict[str, Any], tmp_path: Path
) -> None:
    few = {**scan_document, "points": scan_document["points"][:2]}
    page = read_page(write_report(tmp_path / "r", scan=few))
    assert not page.images
    assert "No exclusion plot: an exclusion plot needs at least three grid points" in page.text
    assert len(page.tables["scan-points"]["rows"]) == 2


def test_a_model_scan_folder_gives_its_plane(tmp_path: Path) -> None:
    document = plane(plane_grid(), failed=[(1400.0, 1.0)])
    (tmp_path / "plane").mkdir()
    (tmp_path / "plane" / "plane.json").write_text(json.dumps(document))
    page = read_page(write_report(tmp_path / "r", scan=tmp_path / "plane"))
    assert page.tables["scan-points"]["header"][:3] == ["m_gluino", "m_lsp", "σ (fb)"]
    assert len(page.tables["scan-points"]["rows"]) == 20
    assert page.column("scan-points", "excluded")[0] == "failed"
    assert page.column("scan-points", "analysis")[1] == "DEMO_MULTIB_GLUINO"
    assert [str(i["src"]) for i in page.images] == ["figures/scan.png"]


# -- inputs ----------------------------------------------------------------------------------
def write_inputs(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    results, validation = folder / "results.json", folder / "validation.json"
    results.write_text(json.dumps(results_document()))
    validation.write_text(json.dumps(validation_document()))
    return results, validation


def test_kinds_are_read_from_the_content(scan_document: dict[str, Any]) -> None:
    assert kind_of(results_document()) == "results"
    assert kind_of(validation_document()) == "validation"
    assert kind_of(scan_document) == "scan"
    assert kind_of(plane([(1.0, 1.0)])) == "plane"
    assert kind_of({"analysis": "TEST"}) is None
    assert kind_of([1, 2]) is None


def test_the_command_writes_the_report_of_its_inputs_in_any_order(tmp_path: Path) -> None:
    results, validation = write_inputs(tmp_path / "in")
    out = tmp_path / "site"
    outcome = CliRunner().invoke(cli, ["report", str(validation), str(results), "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output == f"wrote {out / 'index.html'}\n"
    page = read_page(out / "index.html")
    assert page.facts["validation"] == "FAILED in SR-B" and "yields-table" in page.tables
    # the paths as given, results first whatever their order
    assert f"report of {results}, {validation}</p>" in page.text


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("unknown", 2, "not a document a report is made of; it must be one of: a results"),
        ("missing", 2, "no such file; give a results, validation or scan JSON file"),
        ("twice", 2, "a second results input (the first is"),
        ("output is an input", 2, "holds the input"),
        ("output is a file", 2, "is a file, and a folder is wanted here"),
        ("not a report", 2, "exists and is not a recast report (it has no .recast-report)"),
        ("two analyses", 2, "a report shows one analysis"),
        ("folder without plane", 2, "a folder, but not a model scan's (it holds no plane.json)"),
        ("bad histograms", 1, "network_histograms[0].recast.counts: expected 4 numbers"),
        ("invalid results", 1, "at normalisation: 'factor' is a required property"),
        ("not JSON", 1, "not valid JSON"),
    ],
)
def test_bad_input_gives_one_message_and_writes_nothing(
    tmp_path: Path, case: str, code: int, message: str
) -> None:
    results, validation = write_inputs(tmp_path / "in")
    out = tmp_path / "site"
    args = [str(results), str(validation)]
    if case == "unknown":
        (tmp_path / "in" / "analysis.json").write_text(json.dumps({"analysis": "TEST"}))
        args = [str(tmp_path / "in" / "analysis.json")]
    elif case == "missing":
        args = [str(tmp_path / "in" / "nothing.json")]
    elif case == "twice":
        args = [str(results), str(results)]
    elif case == "output is an input":
        out = tmp_path / "in"
    elif case == "output is a file":
        out = results
    elif case == "not a report":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "two analyses":
        other = validation_document()
        other["analysis"] = "OTHER"
        validation.write_text(json.dumps(other))
    elif case == "folder without plane":
        args = [str(tmp_path / "in")]
    elif case == "bad histograms":
        broken = validation_document()
        broken["network_histograms"] = histograms()
        broken["network_histograms"][0]["recast"]["counts"] = [1.0]
        validation.write_text(json.dumps(broken))
    elif case == "invalid results":
        document = results_document()
        del document["normalisation"]["factor"]
        results.write_text(json.dumps(document))
    elif case == "not JSON":
        results.write_text("{not json")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    outcome = CliRunner().invoke(cli, ["report", *args, "-o", str(out)])
    assert outcome.exit_code == code, outcome.output
    assert outcome.output.startswith("error: ") and message in outcome.output, outcome.output
    assert "Traceback" not in outcome.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_python_inputs_are_checked_against_their_argument(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"is a validation document .* given as results; give it "
                       r"as validation= instead"):  # fmt: skip
        write_report(tmp_path / "r", results=validation_document())
    with pytest.raises(UsageError, match="at least one of results=, validation=, scan="):
        write_report(tmp_path / "r")
    with pytest.raises(ArtefactNotFoundError, match="no such file"):
        write_report(tmp_path / "r", results=tmp_path / "missing.json")
    broken = validation_document()
    del broken["regions"][1]["steps"][0]["pull"]
    with pytest.raises(InvalidDocumentError, match=r"regions\[1\]\.steps\[0\]\.pull: missing"):
        write_report(tmp_path / "r", validation=broken)
    with pytest.raises(OutputError, match="folder -: a report is a folder"):
        write_report("-", results=results_document())
    assert not (tmp_path / "r").exists()


def test_without_matplotlib_the_extra_is_named_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises
    with pytest.raises(MissingDependencyError, match=r"pip install 'recast-nn\[plot\]'"):
        write_report(tmp_path / "r", results=results_document())
    assert list(tmp_path.iterdir()) == []


# -- the write -------------------------------------------------------------------------------
def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_a_report_replaces_an_earlier_report_whole(tmp_path: Path) -> None:
    validation = validation_document()
    validation["network_histograms"] = histograms()
    write_report(tmp_path / "r", results=results_document(), validation=validation)
    assert (tmp_path / "r/figures/network_001.png").is_file()
    index = write_report(tmp_path / "r", results=results_document())
    assert not (tmp_path / "r/figures/network_001.png").exists()  # nothing of the old one
    assert sorted(p.name for p in (tmp_path / "r/figures").iterdir()) == ["yields.png"]
    assert "cutflows" not in read_page(index).sections
    assert _hidden(tmp_path) == []  # no temporary folder left beside it
    # an empty folder is taken too
    (tmp_path / "empty").mkdir()
    assert write_report(tmp_path / "empty", results=results_document()).is_file()


def test_a_failure_leaves_the_earlier_report_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = write_report(tmp_path / "r", validation=validation_document())
    before = index.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # Ctrl-C in the middle of the plots

    monkeypatch.setattr(report_figures, "yields_figure", broken)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "r", results=results_document(), validation=validation_document())
    assert index.read_bytes() == before
    assert _hidden(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "new", results=results_document())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_the_same_documents_give_the_same_files(tmp_path: Path) -> None:
    """No date, no random name: a report is reproducible, and its plots carry no version."""
    documents: Mapping[str, Any] = {"results": results_document(),
                                    "validation": validation_document()}  # fmt: skip
    first = write_report(tmp_path / "a", **copy.deepcopy(documents)).parent
    second = write_report(tmp_path / "b", **copy.deepcopy(documents)).parent
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.slow
def test_the_docs_example_writes_the_report_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pythia8mc")
    text = (DOCS / "reports.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    (printed,) = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    run_example(code, tmp_path, monkeypatch)
    assert capsys.readouterr().out == printed
    page = read_page(tmp_path / "report" / "index.html")
    assert page.facts["analysis"] == "DEMO_MULTIB_GLUINO"
    assert page.facts["benchmark"] == "Gtt_2100_1"
    assert page.facts["events"].startswith("200 ")
    assert {"cutflows", "yields", "limits", "provenance"} <= set(page.sections)
