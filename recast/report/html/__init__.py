"""HTML reports: a static, self-contained site of a run, its validation and a scan.

    from recast.report.html import write_report
    index = write_report("report", results="results.json", validation="validation.json")

:func:`write_report` writes one folder (``index.html`` and its ``figures/``) that opens
offline from disk; `recast report` is its command.
"""

from .inputs import Source, kind_of, read_source, sort_sources
from .site import check_report_folder, write_report

__all__ = [
    "Source",
    "check_report_folder",
    "kind_of",
    "read_source",
    "sort_sources",
    "write_report",
]
