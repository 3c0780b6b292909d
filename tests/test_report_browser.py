"""The HTML report in a real browser: Debian's headless chromium, driven by selenium.

A small run of the flagship (100 Pythia8 events, about 4 s), its validation with network
histograms, and a model scan give a report with every section; the page must load with no
error in the browser's console, show rows in every table and every image, and sort a table
when a header is clicked.

Without chromium and chromedriver (``apt-get install chromium chromium-driver``) or selenium
the tests skip, saying which is missing, except when the environment variable CI is set: CI
installs them (.ci/run), so there a missing browser fails instead of hiding the tests.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recast.report.html import write_report

from .test_plane_plot import grid as plane_grid
from .test_plane_plot import plane
from .test_report_html import histograms

#: a run of the flagship and a browser: several seconds
pytestmark = pytest.mark.slow

#: where Debian puts the browser and its driver, besides PATH
BROWSERS = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def _unavailable(why: str) -> None:
    """Skip, or fail in CI, where the browser test must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI must run the browser test (.ci/run installs it)")
    pytest.skip(why)


def open_browser(width: int = 1280, height: int = 1000) -> Any:
    """Headless chromium through selenium with the browser's console log kept; the test is
    skipped (failed in CI) when one of the three is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install selenium)")
    browser, driver = _find(BROWSERS), _find(DRIVERS)
    if browser is None or driver is None:
        missing = [n for n, p in (("chromium", browser), ("chromedriver", driver)) if p is None]
        _unavailable(
            f"{' and '.join(missing)} not found (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(str(driver)), options=options)
    session.set_page_load_timeout(60)
    return session


def report_documents() -> dict[str, Any]:
    """A run of the flagship on one of its benchmarks, its validation with network
    histograms, and a model scan."""
    pytest.importorskip("pythia8mc")
    import recast

    run = recast.run("DEMO_MULTIB_GLUINO", benchmark="Gtt_2100_1", n_events=100, progress=False)
    validation = dict(run.validate().document)
    validation["network_histograms"] = histograms()
    return {"results": run.document, "validation": validation, "scan": plane(plane_grid())}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("matplotlib")
    return write_report(tmp_path_factory.mktemp("browser") / "report", **report_documents())


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    session = open_browser()
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture()
def page(driver: Any, index: Path) -> Any:
    driver.get(index.resolve().as_uri())
    driver.get_log("browser")  # this load's messages only: see the first test
    return driver


def test_the_page_loads_without_errors_in_the_console(driver: Any, index: Path) -> None:
    driver.get_log("browser")  # empty it
    driver.get(index.resolve().as_uri())
    assert driver.title == "DEMO_MULTIB_GLUINO: recast report"
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], json.dumps(severe, indent=1)
    assert driver.execute_script("return document.readyState") == "complete"


def test_every_table_has_rows_and_every_image_is_shown(page: Any) -> None:
    rows = page.execute_script(
        "return Array.from(document.querySelectorAll('table')).map("
        "t => [t.id, t.tBodies.length ? t.tBodies[0].rows.length : 0])"
    )
    assert len(rows) > 10  # cutflows, yields, limits, scan points, histograms, provenance
    assert all(count > 0 for _, count in rows), rows
    images = page.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
        "i.naturalWidth, i.alt.length])"
    )
    sources = [src for src, *_ in images]
    assert "figures/scan.png" in sources and "figures/yields.png" in sources
    assert sum(src.startswith("figures/network_") for src in sources) == len(histograms())
    for source, complete, width, alt in images:
        assert complete and width > 0, source
        assert alt > 40, source


def _column(page: Any, table: str, column: int) -> list[str]:
    return list(
        page.execute_script(
            "return Array.from(document.getElementById(arguments[0]).tBodies[0].rows).map("
            "r => r.cells[arguments[1]].getAttribute('data-sort') || '')",
            table,
            column,
        )
    )


def _header(page: Any, table: str, name: str) -> Any:
    from selenium.webdriver.common.by import By

    for header in page.find_elements(By.CSS_SELECTOR, f"#{table} thead th"):
        if header.text.strip() == name:
            return header
    raise AssertionError(f"no column {name!r} in #{table}")


def _index(page: Any, table: str, name: str) -> int:
    headers = page.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' thead th'))"
        ".map(h => h.textContent.trim())",
        table,
    )
    return list(headers).index(name)


def test_clicking_a_header_sorts_the_rows(page: Any) -> None:
    before = _column(page, "yields-table", 1)  # the signal yield of every region, as numbers
    numbers = [float(v) for v in before if v]
    assert numbers != sorted(numbers)  # the document's order: sorting must change it

    header = _header(page, "yields-table", "signal")
    header.click()
    ascending = [float(v) for v in _column(page, "yields-table", 1) if v]
    assert ascending == sorted(numbers)
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    descending = [float(v) for v in _column(page, "yields-table", 1) if v]
    assert descending == sorted(numbers, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"

    # cells with no number ("—") go last both ways; text sorts as text
    p_value = _header(page, "network-histograms", "p-value")
    column = _index(page, "network-histograms", "p-value")
    p_value.click()
    values = _column(page, "network-histograms", column)
    assert values[-1] == "" and [float(v) for v in values[:-1]] == [0.0, 0.001, 0.2, 0.5]
    p_value.click()
    values = _column(page, "network-histograms", column)
    assert values[-1] == "" and [float(v) for v in values[:-1]] == [0.5, 0.2, 0.001, 0.0]
    _header(page, "network-histograms", "histogram").click()
    names = page.execute_script(
        "return Array.from(document.getElementById('network-histograms').tBodies[0].rows)"
        ".map(r => r.cells[2].textContent)"
    )
    assert names == sorted(names)


def test_a_screenshot_of_the_report(page: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.png"
    assert page.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
