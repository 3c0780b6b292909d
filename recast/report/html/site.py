"""Assemble a report: one self-contained folder with ``index.html`` and its ``figures/``.

The page has no outside reference (its style and its sorting script are inline, its plots
files beside it), so it opens offline from disk, from a mail attachment unpacked or a web
server alike. The folder is built beside its target under a hidden name and renamed into
place at the end: a failure or Ctrl-C leaves no half-written report, and a previous report
stays whole until the new one is complete.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...arguments import arg
from ...errors import OutputError, UsageError
from ...io import check_output
from ...version import __version__
from . import content, figures
from .inputs import SLOTS, Source, read_source

log = logging.getLogger(__name__)

#: the file that marks a folder as a report (so that a rerun may replace it, and nothing else)
MARKER = ".recast-report"
#: the page of a report
INDEX = "index.html"

#: an input: a document, an object holding one (``RunResult``, ``Validation``, ``Scan``,
#: ``Plane``), its JSON file, a model scan's folder, or a Source from ``sort_sources``
ReportInput = str | os.PathLike[str] | Mapping[str, Any] | Source | Any


@functools.cache
def environment() -> Any:
    """The templates of the pages (``templates/``), escaping every value."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("recast.report.html", "templates"),
        autoescape=True,  # names of regions and files are data, never markup
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _field() -> str:
    """The report folder as the caller named it: ``-o/--output`` or ``folder``."""
    name = arg("output")
    return "folder" if name == "output" else name


def check_report_folder(
    folder: str | os.PathLike[str], inputs: list[Path] | None = None, field: str | None = None
) -> None:
    """Refuse, before any work, a report folder that must not be written: a file, a link, a
    folder that is not an earlier report (it would be replaced whole), a folder holding an
    input or inside an input folder, an unwritable place. ``field`` names the folder in
    messages (default: ``-o/--output`` on the command line, ``folder`` in Python)."""
    target = Path(folder)
    field = field or _field()
    paths = [Path(p) for p in inputs or []]
    if str(folder) == "-":
        raise OutputError(f"{field} -: a report is a folder, not a stream; give a folder name")
    if target.is_symlink():
        raise OutputError(
            f"{field} {target}: is a symbolic link, which writing the report would replace; "
            "give the folder it points to, or another name"
        )
    check_output(target, inputs=paths, field=field, folder=True)
    for path in paths:
        if target.exists() and path.exists():
            inside = path.resolve().is_relative_to(target.resolve())
            if inside:
                raise OutputError(
                    f"{field} {target}: holds the input {path}, which replacing the folder "
                    "would delete; give another folder for the report"
                )
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise OutputError(
            f"{field} {target}: exists and is not a recast report (it has no {MARKER}), and a "
            "report replaces its folder whole; give a new folder name, or empty or remove "
            f"{target} first"
        )


def _sources(**values: ReportInput | None) -> dict[str, Source]:
    found = {}
    for slot in SLOTS:
        value = values.get(slot)
        if value is None:
            continue
        if isinstance(value, Source):
            if value.slot != slot:
                raise UsageError(f"{value.name}: is a {value.slot} input, given as {slot}=")
            found[slot] = value
        else:
            found[slot] = read_source(value, slot)
    if not found:
        raise UsageError("a report needs at least one of results=, validation=, scan=")
    results, validation = found.get("results"), found.get("validation")
    if results is not None and validation is not None:
        ours, theirs = results.document["analysis"], validation.document["analysis"]
        if ours != theirs:
            raise UsageError(
                f"{results.name} is a run of {ours} and {validation.name} a validation of "
                f"{theirs}: a report shows one analysis; give the documents of one"
            )
    return found


def write_report(
    folder: str | os.PathLike[str],
    *,
    results: ReportInput | None = None,
    validation: ReportInput | None = None,
    scan: ReportInput | None = None,
    title: str | None = None,
) -> Path:
    """Write the HTML report of a run (``results``), its cutflow validation (``validation``)
    and a scan (``scan``) into ``folder``; return the path of its ``index.html``.

    Each input is a document (a mapping), an object holding one (``recast.run``'s
    ``RunResult``, ``Validation``, ``Scan``, ``Plane``), the path of its JSON file, or, for
    ``scan``, a model scan's folder; the kind is read from the content and must fit the
    argument. ``folder`` is new, empty or an earlier report, which is replaced whole.
    Needs matplotlib (``pip install 'recast-nn[plot]'``).

        write_report("report", results="results.json", validation="validation.json")
    """
    sources = _sources(results=results, validation=validation, scan=scan)
    figures.require_matplotlib()
    folder = Path(folder)
    check_report_folder(folder, [s.path for s in sources.values() if s.path is not None])
    return _build(folder, sources, title)


def _build(folder: Path, sources: Mapping[str, Source], title: str | None) -> Path:
    def render(work: Path) -> str:
        (work / figures.FOLDER).mkdir()
        return _page(work, sources, title)

    return write_folder(folder, render)


def write_folder(folder: Path, render: Callable[[Path], str]) -> Path:
    """Write a page folder atomically: ``render(work)`` draws whatever files the page needs
    into the hidden folder ``work`` and returns the page, which becomes ``index.html``; the
    finished folder, marked as a report, is renamed to ``folder`` (an earlier report there is
    replaced whole). Check ``folder`` first (:func:`check_report_folder`); return the path
    of its ``index.html``."""
    parent = folder.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=parent))
    except OSError as err:
        raise OutputError(f"{_field()} {folder}: cannot write there ({err.strerror})") from None
    try:
        (work / INDEX).write_text(render(work), encoding="utf-8")
        (work / MARKER).write_text(
            json.dumps({"generator": "recast-nn", "version": __version__}) + "\n"
        )
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)  # mkdtemp's folder is private
        _put_in_place(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("wrote %s", folder / INDEX)
    return folder / INDEX


def _put_in_place(work: Path, folder: Path) -> None:
    """Rename the finished ``work`` folder to ``folder``; an earlier report there is moved
    aside first and removed once the new one is in place (put back if the rename fails)."""
    if not folder.exists():
        os.rename(work, folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=work.parent))
    os.rename(folder, old / "report")
    try:
        os.rename(work, folder)
    except OSError:
        os.rename(old / "report", folder)
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)


def _page(work: Path, sources: Mapping[str, Source], title: str | None) -> str:
    """The page, with its plots drawn into ``work``."""
    results = sources["results"].document if "results" in sources else None
    validation = sources["validation"].document if "validation" in sources else None
    scan_source = sources.get("scan")
    scan = scan_source.document if scan_source is not None else None
    analysis = (results or validation or {}).get("analysis")
    title = title or (f"{analysis}: recast report" if analysis else "recast scan report")
    page: dict[str, Any] = {
        "title": title,
        "version": __version__,
        "inputs": [s.name for s in sources.values()],
        "facts": content.summary(
            results, validation, scan, scan_source.form if scan_source else None
        ),
        "cutflows": [],
        "cutflow_figures": [],
        "results_cutflows": [],
        "yields": None,
        "yields_figure": None,
        "skipped": content.skipped_regions(results, validation),
        "limits": None,
        "limits_verdict": None,
        "warnings": [],
        "scan": None,
        "scan_fact": None,
        "scan_figure": None,
        "scan_problem": None,
        "histograms": None,
        "histogram_figures": [],
        "provenance": [],
    }
    sections = [("summary", "Summary")]
    validated: list[str] = []
    if validation is not None:
        page["cutflows"] = content.validation_cutflows(validation)
        page["cutflow_figures"] = figures.validation_figures(validation, work)
        validated = [r["region"] for r in validation["regions"]]
        sections.append(("cutflows", "Cutflows"))
    if results is not None:
        page["results_cutflows"] = content.results_cutflows(results, validated)
        if page["results_cutflows"]:
            sections.append(("results-cutflows", "Other cutflows" if validated else "Cutflows"))
        page["yields"] = content.yields_table(results)
        page["yields_figure"] = figures.yields_figure(results, work)
        sections.append(("yields", "Yields"))
        limits = results.get("limits")
        if limits is not None:
            page["limits"] = content.limits_table(limits)
            page["limits_verdict"] = content.limits_verdict(limits)
            page["warnings"] = list(limits.get("warnings") or [])
            sections.append(("limits", "Limits"))
    if page["skipped"]:
        sections.append(("skipped", "Not run"))
    if scan is not None and scan_source is not None:
        page["scan"] = content.scan_table(scan, scan_source.form)
        page["scan_fact"] = content.scan_fact(scan, scan_source.form)
        drawn = figures.scan_figure(scan, scan_source.form, work)
        if isinstance(drawn, str):
            page["scan_problem"] = drawn
        else:
            page["scan_figure"] = drawn
        sections.append(("scan", "Scan"))
    ranked = content.ranked_histograms(validation)
    if ranked:
        drawn_histograms = [
            figures.histogram_figure(entry, work, rank) for rank, entry in enumerate(ranked, 1)
        ]
        page["histogram_figures"] = drawn_histograms
        page["histograms"] = content.histogram_table(
            ranked, [f.anchor or "" for f in drawn_histograms], validation or {}
        )
        sections.append(("networks", "Network inputs and outputs"))
    for source in sources.values():
        document = source.document
        provenance = document.get("provenance")
        if provenance is None and source.form == "plane":
            provenance = {
                k: document[k]
                for k in ("recast_version", "analyses", "n_events", "seed", "cross_section")
                if k in document
            }
        elif provenance is None and source.form == "scan":
            provenance = {
                k: document[k]
                for k in ("schema_version", "grid", "likelihood", "method", "alpha")
                if k in document
            }
        if provenance:
            page["provenance"].append((f"{source.slot}: {source.name}", content.tree(provenance)))
    if page["provenance"]:
        sections.append(("provenance", "Provenance"))
    page["sections"] = sections
    return str(environment().get_template("report.html.j2").render(**page))
