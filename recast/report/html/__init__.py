"""HTML reports: a static, self-contained site of a run, its validation and a scan, and the
page of a bundle.

    from recast.report.html import write_bundle_page, write_report
    index = write_report("report", results="results.json", validation="validation.json")
    page = write_bundle_page("ATLAS_SUSY_2018_30", "page")

:func:`write_report` writes one folder (``index.html`` and its ``figures/``) that opens
offline from disk; `recast report` is its command. :func:`write_bundle_page` writes a
bundle's page from its documents alone; `recast bundle report` is its command, and the docs
site carries the page of every shipped bundle.
"""

from .bundle_page import write_bundle_page
from .inputs import Source, kind_of, read_source, sort_sources
from .site import check_report_folder, write_report

__all__ = [
    "Source",
    "check_report_folder",
    "kind_of",
    "read_source",
    "sort_sources",
    "write_bundle_page",
    "write_report",
]
