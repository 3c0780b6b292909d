"""The listing of recast-nn's bundles for HEPData: its "analyses JSON", schema 1.0.0.

HEPData links each record to the tools that implement the analysis from one JSON file per
tool: the tool's name and version, URL templates (``main_url``, ``val_url``) filled with each
implementation's ``name``, and per analysis its INSPIRE id and implementations. This module
builds that file from the shipped bundles' ``analysis.json`` alone (no bundle code is run).

A bundle is listed when its ``provenance.inspire`` names the published paper; the others (the
demonstration and the documentation's example) are left out, each with its reason. Every
bundle links to its page under the docs site (:data:`BUNDLE_PAGE` under the base URL), the
page that ``recast bundle report`` writes: its status, cutflows and validation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..arguments import given
from ..errors import UsageError
from ..io import PathLike, check_output, write_json
from ..version import __version__
from .bundle import available, read_document

__all__ = [
    "BUNDLE_PAGE",
    "DEFAULT_BASE_URL",
    "HEPDATA_SCHEMA_VERSION",
    "HEPDataListing",
    "bundle_page_template",
    "hepdata_listing",
    "write_hepdata_listing",
]

log = logging.getLogger(__name__)

#: the version of HEPData's analyses schema this module writes
HEPDATA_SCHEMA_VERSION = "1.0.0"
#: where the recast-nn docs site is published (``--base-url`` replaces it)
DEFAULT_BASE_URL = "https://recast-nn.org/docs/"
#: the page of one bundle under the docs site, {name} its id: the one place the pattern lives
BUNDLE_PAGE = "bundles/{name}/"
#: the tool's name on HEPData
TOOL = "recast-nn"
#: HEPData's words for what each link leads to
IMPLEMENTATIONS_DESCRIPTION = "recast-nn analysis bundle"
#: an SPDX license identifier (every one has its page at spdx.org/licenses/ID.html)
_SPDX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")


@dataclass(frozen=True)
class HEPDataListing:
    """The analyses document, which bundles it lists, and those left out with the reason."""

    document: dict[str, Any]
    listed: tuple[str, ...]
    left_out: dict[str, str] = field(default_factory=dict)


def bundle_page_template(base_url: str = DEFAULT_BASE_URL) -> str:
    """The URL template of a bundle's page under ``base_url``, with HEPData's ``{name}``
    placeholder: ``https://recast-nn.org/docs/bundles/{name}/`` by default."""
    parts = urlsplit(base_url)
    problem = None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problem = "is not an http(s) address with a host"
    elif parts.query or parts.fragment:
        problem = "has a query or a fragment, which the bundle's path cannot follow"
    elif re.search(r"[{}\s]", base_url):
        problem = "holds braces or spaces, which HEPData would read as placeholders or breaks"
    if problem:
        raise UsageError(
            f"{given('base_url', base_url, quoted=True)}: {problem}; give the address where "
            f"the docs site is published, e.g. {DEFAULT_BASE_URL}"
        )
    return base_url.rstrip("/") + "/" + BUNDLE_PAGE


def hepdata_listing(
    base_url: str = DEFAULT_BASE_URL,
    *,
    bundles: Iterable[str | Path] | None = None,
    created: datetime | None = None,
) -> HEPDataListing:
    """HEPData's analyses document (schema 1.0.0) for ``bundles`` (default: every shipped one).

    One analysis per INSPIRE id, each bundle of it an implementation named by the bundle's id
    (with the non-standard field ``status``, the bundle's state); ``main_url`` and ``val_url``
    both lead to the bundle's page (:func:`bundle_page_template`). The bundles' common
    ``provenance.license`` is the implementations' license. ``created`` (timezone-aware,
    default now) is the document's ``date_created``.
    """
    names = list(available()) if bundles is None else list(bundles)
    analyses: dict[int, dict[str, Any]] = {}
    licenses: dict[str, str | None] = {}
    listed: list[str] = []
    left_out: dict[str, str] = {}
    template = bundle_page_template(base_url)
    for name in names:
        folder, document = read_document(name)
        bundle_id = str(document["id"])
        provenance = document["provenance"]
        if "inspire" not in provenance:
            reason = "its provenance has no INSPIRE id (not a published analysis)"
            log.info("left out of the HEPData listing: %s: %s", bundle_id, reason)
            left_out[bundle_id] = reason
            continue
        inspire_id = int(provenance["inspire"])  # the analysis schema holds it as digits
        entry = analyses.setdefault(inspire_id, {"inspire_id": inspire_id})
        if "title" in document and "pretty_name" not in entry:
            entry["pretty_name"] = str(document["title"])
        implementation = {"name": bundle_id, "status": str(document["status"]["state"])}
        entry.setdefault("implementations", []).append(implementation)
        licenses[bundle_id] = provenance.get("license")
        listed.append(bundle_id)
        log.debug("HEPData listing: %s (INSPIRE %d) from %s", bundle_id, inspire_id, folder)
    if not analyses:
        raise UsageError(
            f"no bundle to list on HEPData among {', '.join(map(str, names)) or 'none'}: none "
            "has an INSPIRE id in its provenance (analysis.json → provenance.inspire)"
        )
    if len(listed) != len(set(listed)):
        raise UsageError(
            f"bundles listed twice for HEPData: {', '.join(sorted(_twice(listed)))}; each "
            "bundle id names one implementation, so give each bundle once"
        )
    document = {
        "schema_version": HEPDATA_SCHEMA_VERSION,
        "tool": TOOL,
        "version": __version__,
        "date_created": _rfc3339(created),
        "implementations_description": IMPLEMENTATIONS_DESCRIPTION,
        "url_templates": {"main_url": template, "val_url": template},
        "analyses": list(analyses.values()),
        "implementations_license": _license(licenses),
    }
    return HEPDataListing(document, tuple(listed), left_out)


def write_hepdata_listing(
    output: PathLike,
    base_url: str = DEFAULT_BASE_URL,
    *,
    bundles: Iterable[str | Path] | None = None,
    created: datetime | None = None,
) -> HEPDataListing:
    """Write :func:`hepdata_listing` to ``output`` atomically (``-``: stdout).

    The output is checked first: never a folder, nor a file inside a bundle it reads."""
    names = list(available()) if bundles is None else list(bundles)
    folders = [read_document(name)[0] for name in names]
    check_output(output, inputs=folders)
    listing = hepdata_listing(base_url, bundles=names, created=created)
    write_json(output, listing.document)
    return listing


def _rfc3339(created: datetime | None) -> str:
    """``2018-11-13T20:20:39+00:00``: RFC 3339 wants the offset, so a naive time is refused."""
    moment = datetime.now(UTC) if created is None else created
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(
            f"{given('created', moment)}: a time without a timezone, which RFC 3339 (HEPData's "
            "date_created) cannot state; give an aware datetime, e.g. datetime.now(UTC)"
        )
    return moment.isoformat(timespec="seconds")


def _license(licenses: dict[str, str | None]) -> dict[str, str]:
    """The one license of every implementation: HEPData's document has room for one only (and
    reads its absence as CC0, so a bundle without one cannot be listed silently)."""
    named = set(licenses.values())
    name = next(iter(named))
    if len(named) != 1 or name is None:
        said = ", ".join(f"{b}: {n or '(none)'}" for b, n in licenses.items())
        raise UsageError(
            f"the bundles to list on HEPData do not share one license ({said}); HEPData's "
            "analyses document has one license for all implementations: give every listed "
            "bundle the same provenance.license in its analysis.json"
        )
    if not _SPDX.fullmatch(name):
        raise UsageError(
            f"provenance.license {name!r} of {', '.join(licenses)} is not an SPDX identifier, "
            "which HEPData's listing needs to link the license; write one in analysis.json, "
            "e.g. CC-BY-4.0 (https://spdx.org/licenses/)"
        )
    return {"name": name, "url": f"https://spdx.org/licenses/{name}.html"}


def _twice(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
