"""mkdocs hook: the page of every shipped bundle, at ``bundles/<ID>/`` of the built site.

mkdocs.yml names this file under ``hooks:``, so ``make docs``, ``mkdocs build`` and ``mkdocs
serve`` write, once the site is built, what ``recast bundle report ID -o
SITE/bundles/ID`` writes (recast.analysis.hepdata.BUNDLE_PAGE: the address HEPData links
to). The pages are built from the bundles' documents alone, into the site folder only:
nothing generated lands in docs/.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from recast.analysis.bundle import available
from recast.analysis.hepdata import BUNDLE_PAGE
from recast.report.html import write_bundle_page

log = logging.getLogger("mkdocs.hooks.bundle_pages")

#: the docs page of a bundle whose page is not named after it (atlas-susy-2018-30.md is)
DOCS_PAGES = {"DEMO_MULTIB_GLUINO": "flagship.md", "EXAMPLE_JETS_MET": "bundles.md"}
#: the docs section that lists the bundles' pages
LISTING = "reports.md#validation-pages"


def _address(page: str, directory_urls: bool) -> str:
    """A docs page (``name.md`` with an optional ``#anchor``) seen from ``bundles/ID/``:
    index.html named, so that the link works from disk as from a server."""
    name, _, anchor = page.partition("#")
    stem = name.removesuffix(".md")
    target = (
        ("index.html" if stem == "index" else f"{stem}/index.html")
        if directory_urls
        else (f"{stem}.html")
    )
    return "../../" + target + (f"#{anchor}" if anchor else "")


def links(bundle_id: str, docs_dir: Path, directory_urls: bool = True) -> list[tuple[str, str]]:
    """The header links of a bundle's page on the site: the docs, the bundle's own docs page
    when there is one, the list of every bundle's page."""
    found = [("recast-nn docs", _address("index.md", directory_urls))]
    page = DOCS_PAGES.get(bundle_id, bundle_id.lower().replace("_", "-") + ".md")
    if (docs_dir / page).is_file():
        found.append(("the bundle in the docs", _address(page, directory_urls)))
    found.append(("every bundle", _address(LISTING, directory_urls)))
    return found


def on_post_build(config: Any, **kwargs: Any) -> None:
    """Write the page of every shipped bundle under the built site."""
    site = Path(config["site_dir"])
    docs = Path(config["docs_dir"])
    directory_urls = bool(config.get("use_directory_urls", True))
    for bundle_id in available():
        folder = site / BUNDLE_PAGE.format(name=bundle_id)
        write_bundle_page(bundle_id, folder, links=links(bundle_id, docs, directory_urls))
    log.info("bundle pages written under %s", site / BUNDLE_PAGE.format(name=""))
