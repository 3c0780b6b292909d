"""The page of one bundle: what it is, how far it is validated, and everything it publishes.

    from recast.report.html import write_bundle_page
    index = write_bundle_page("ATLAS_SUSY_2018_30", "page")

:func:`write_bundle_page` writes one folder (``index.html``) with the look of ``recast
report``: the bundle's status and its reason first, its publication as links, its regions
with their cuts and published numbers, every published benchmark with its cutflows, the
likelihood, the networks, options, objects and detector descriptions, and every choice with
its reason; with a validation document (``recast validate -o``) also its comparison. It is
built from the bundle's documents alone (no code of the bundle is run), so it can be built
for every shipped bundle with the docs site, where HEPData's links lead
(:data:`recast.analysis.hepdata.BUNDLE_PAGE`). `recast bundle report` is its command.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import UsageError
from ...version import __version__
from . import content
from .bundle_inputs import DEFAULT_DETECTOR, BundleDocuments, read_bundle
from .content import Cell, Fact, Row, Table, number, plus_minus, text
from .inputs import Source, finite, read_source
from .site import check_report_folder, environment, write_folder

__all__ = ["bundle_page", "write_bundle_page"]

#: an SPDX licence identifier: its page is spdx.org/licenses/ID.html
_SPDX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")
#: what a published cutflow without ``benchmark.process`` was generated as (its schema says)
DEFAULT_PROCESS = "gluino pairs"


def _wrap(value: Any, title: str | None = None) -> Cell:
    """Text that may be long (a description, a reason): the cell wraps."""
    return Cell("—" if value in (None, "") else str(value), None, "wrap", title)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value, 6)
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


# -- summary ---------------------------------------------------------------------------------
def status_fact(document: Mapping[str, Any]) -> Fact:
    """The bundle's state (the label) with its reason, or its notes when validated."""
    status = document["status"]
    state = str(status["state"])
    why = status.get("reason") or status.get("notes") or ""
    return Fact(state, str(why), "pass" if state == "VALIDATED" else "warn")


def region_statuses(document: Mapping[str, Any]) -> list[Fact]:
    """Regions with a status of their own: one line per state and reason, naming them."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, region in document["regions"].items():
        own = region.get("status")
        if own:
            groups.setdefault((str(own["state"]), str(own["reason"])), []).append(str(name))
    return [
        Fact(", ".join(names), f"{state}: {reason}", "pass" if state == "VALIDATED" else "warn")
        for (state, reason), names in groups.items()
    ]


def summary(bundle: BundleDocuments) -> list[Fact]:
    document = bundle.document
    kinds = [str(r.get("kind", "signal")) for r in document["regions"].values()]
    counts = {kind: kinds.count(kind) for kind in dict.fromkeys(kinds)}
    benchmarks = list(dict.fromkeys(c["benchmark"]["name"] for c in bundle.cutflows))
    code = document["code"]
    facts = [
        Fact("bundle", bundle.id),
        Fact("title", str(document.get("title") or "—")),
        Fact("experiment", str(document["experiment"])),
        Fact("√s", f"{number(document['sqrt_s'])} TeV"),
        Fact("luminosity", f"{number(document['luminosity'])} fb⁻¹"),
        Fact("regions", ", ".join(f"{n} {kind}" for kind, n in counts.items())),
        Fact("networks", ", ".join(n.name for n in bundle.networks) or "none"),
        Fact("published benchmarks", ", ".join(benchmarks) or "none"),
        Fact(
            "code",
            f"{code['module']}, class {code['class']} ({len(code['files'])} Python file(s), each "
            "recorded with its sha256; not run to build this page)",
        ),
    ]
    return facts


def provenance_facts(provenance: Mapping[str, Any]) -> list[Fact]:
    """The publication: arXiv, INSPIRE, the HEPData record and the licence as links."""
    facts = []
    if "analysis_id" in provenance:
        facts.append(Fact("analysis", str(provenance["analysis_id"])))
    if "experiment" in provenance:
        facts.append(Fact("experiment", str(provenance["experiment"])))
    if "arxiv" in provenance:
        arxiv = str(provenance["arxiv"])
        facts.append(Fact("arXiv", f"arXiv:{arxiv}", href=f"https://arxiv.org/abs/{arxiv}"))
    if "inspire" in provenance:
        inspire = str(provenance["inspire"])
        facts.append(Fact("INSPIRE", inspire, href=f"https://inspirehep.net/literature/{inspire}"))
    if "hepdata_doi" in provenance:
        doi = str(provenance["hepdata_doi"])
        facts.append(Fact("HEPData", f"doi:{doi}", href=f"https://doi.org/{doi}"))
    if "license" in provenance:
        licence = str(provenance["license"])
        link = f"https://spdx.org/licenses/{licence}.html" if _SPDX.fullmatch(licence) else None
        facts.append(Fact("licence", licence, href=link))
    if provenance.get("authors"):
        facts.append(Fact("authors", ", ".join(map(str, provenance["authors"]))))
    for key in ("source", "notes"):
        if key in provenance:
            facts.append(Fact(key, str(provenance[key])))
    return facts


# -- regions ---------------------------------------------------------------------------------
def _likelihood_of(bundle: BundleDocuments) -> dict[str, list[str]]:
    """Per region, the likelihoods it is in: simplified (published numbers), workspace."""
    found: dict[str, list[str]] = {}
    for name in bundle.likelihood_regions:
        found.setdefault(name, []).append("simplified")
    likelihood = bundle.document.get("likelihood")
    workspace = likelihood.get("workspace") if isinstance(likelihood, Mapping) else None
    region_map = workspace.get("map") if isinstance(workspace, Mapping) else None
    for name, place in (region_map or {}).items():
        where = ""
        if isinstance(place, Mapping) and "channel" in place:
            where = f" {place['channel']}[{place.get('bin', 0)}]"
        found.setdefault(str(name), []).append("workspace" + where)
    return found


def regions_table(bundle: BundleDocuments) -> Table:
    """Every region: kind, the cuts in order, networks, status, the published observed count
    and background (the region's own, else the likelihood's), and its likelihoods."""
    document = bundle.document
    analysis_state = str(document["status"]["state"])
    likelihoods = _likelihood_of(bundle)
    rows = []
    for name, region in document["regions"].items():
        own = region.get("status")
        state = str(own["state"]) if own else analysis_state
        published = bundle.likelihood_regions.get(name)
        observed = region.get("observed", published.observed if published else None)
        background = region.get("background", published.background if published else None)
        uncertainty = region.get(
            "background_uncertainty", published.background_uncertainty if published else None
        )
        cuts = list(region["cuts"])
        rows.append(
            Row(
                [
                    text(name),
                    text(region.get("kind", "signal")),
                    _wrap(region.get("description")),
                    Cell(" → ".join(cuts), None, "wrap cuts", f"{len(cuts)} cuts in order"),
                    text(", ".join(region.get("networks") or []) or "—"),
                    Cell(
                        state + (" (own)" if own else ""),
                        None,
                        "pass" if state == "VALIDATED" else "warn",
                        str(own["reason"]) if own else "the analysis's status",
                    ),
                    Cell("—" if observed is None else f"{observed:g}", content._sort(observed)),
                    Cell(plus_minus(background, uncertainty), content._sort(background)),
                    text(", ".join(likelihoods.get(name, [])) or "—"),
                ]
            )
        )
    return content._table(
        "regions-table",
        "every region with its cuts in the order they apply; observed and background as "
        "published, where given",
        [
            "region",
            "kind",
            "description",
            "cuts",
            "networks",
            "status",
            "observed",
            "background",
            "likelihood",
        ],
        rows,
    )


# -- published benchmarks --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A published benchmark: its facts, its published cutflows and network histograms."""

    name: str
    facts: list[Fact]
    cutflows: list[Table]
    histograms: list[str]


def _cross_section(value: Any) -> str:
    pb = finite(value)
    if pb is None:
        return "—"
    return f"{number(pb)} pb ({number(1000 * pb)} fb)"


def _cutflow_source(cutflow: Mapping[str, Any]) -> str | None:
    """Where a published cutflow comes from, in its provenance's words."""
    provenance = cutflow.get("provenance") or {}
    return "; ".join(str(provenance[k]) for k in ("source", "notes") if k in provenance) or None


def cutflow_table(cutflow: Mapping[str, Any], id: str, note: bool = True) -> Table:
    """The published steps of one region: value ± uncertainty, cumulative efficiency (of the
    initial yield) and relative efficiency (of the previous step)."""
    unit = str(cutflow["unit"])
    initial = finite(cutflow.get("initial"))
    if initial is None and unit == "fraction":
        initial = 1.0
    rows = []
    previous = initial
    for k, step in enumerate(cutflow["steps"], 1):
        value = finite(step["value"])
        cumulative = value / initial if value is not None and initial else None
        relative = value / previous if value is not None and previous else None
        rows.append(
            Row(
                [
                    Cell(str(k), repr(k)),
                    text(step["cut"]),
                    Cell(plus_minus(value, step.get("uncertainty")), content._sort(value)),
                    content.num(cumulative),
                    content.num(relative),
                ]
            )
        )
        previous = value
    start = f", initial {number(initial)}" if initial is not None else ""
    return content._table(
        id,
        f"{cutflow['region']} ({unit}{start})",
        ["step", "cut", "published", "cum. eff.", "rel. eff."],
        rows,
        _cutflow_source(cutflow) if note else None,
    )


def benchmarks(bundle: BundleDocuments) -> list[Benchmark]:
    """Every benchmark of a published cutflow, in the bundle's order, with its facts (the
    first cutflow's description of it) and every cutflow and network histogram of it."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for cutflow in bundle.cutflows:
        grouped.setdefault(str(cutflow["benchmark"]["name"]), []).append(cutflow)
    histograms: dict[str, list[str]] = {}
    for path, histogram in bundle.histograms:
        point = histogram.get("benchmark")
        name = point.get("name") if isinstance(point, Mapping) else None
        network = histogram.get("network")
        label = f"{path} (network {network})" if network else path
        histograms.setdefault(str(name), []).append(label)
    found = []
    for i, (name, cutflows) in enumerate(grouped.items()):
        point = cutflows[0]["benchmark"]
        facts = [
            Fact("description", str(point.get("description") or "—")),
            Fact("cross-section σ", _cross_section(point.get("cross_section_pb"))),
            Fact("process", str(point.get("process") or DEFAULT_PROCESS)),
        ]
        for key, label in (
            ("generator", "generator"),
            ("slha", "SLHA"),
            ("events_generated", "events generated"),
        ):
            if key in point:
                facts.append(Fact(label, str(point[key])))
        sources = {_cutflow_source(c) for c in cutflows}
        shared = len(sources) == 1  # said once for the benchmark rather than under each table
        if shared and None not in sources:
            facts.append(Fact("cutflows from", str(next(iter(sources)))))
        tables = [
            cutflow_table(c, f"benchmark-{i + 1}-{j + 1}", note=not shared)
            for j, c in enumerate(cutflows)
        ]
        found.append(Benchmark(name, facts, tables, histograms.get(name, [])))
    return found


# -- likelihood ------------------------------------------------------------------------------
def likelihood_facts(bundle: BundleDocuments) -> list[Fact]:
    """What the likelihood is made of, and which regions have none."""
    likelihood = bundle.document.get("likelihood")
    if not isinstance(likelihood, Mapping):
        return [Fact("likelihood", "none: the bundle publishes no likelihood; no limits")]
    facts = []
    if bundle.likelihood_regions:
        where = []
        if "regions" in likelihood:
            where.append("analysis.json")
        entry = likelihood.get("regions_file")
        if entry is not None:
            where.append(str(entry["path"] if isinstance(entry, Mapping) else entry))
        facts.append(
            Fact(
                "simplified",
                f"{len(bundle.likelihood_regions)} region(s) with published observed count and "
                f"background ({', '.join(where)}); constraint "
                f"{likelihood.get('constraint', 'lognormal')}",
            )
        )
    workspace = likelihood.get("workspace")
    if isinstance(workspace, Mapping):
        facts.append(
            Fact(
                "workspace",
                f"{workspace.get('path')} (parameter of interest {workspace.get('poi', '—')}), "
                f"{len(workspace.get('map') or {})} region(s) mapped to its channels",
            )
        )
    for group in likelihood.get("combine") or []:
        facts.append(Fact("combined", " + ".join(map(str, group))))
    if "signal_uncertainty" in likelihood:
        facts.append(
            Fact("signal uncertainty", f"{number(likelihood['signal_uncertainty'])} (relative)")
        )
    covered = _likelihood_of(bundle)
    signal = [
        str(n) for n, r in bundle.document["regions"].items() if r.get("kind", "signal") == "signal"
    ]
    without = [n for n in signal if n not in covered]
    facts.append(
        Fact(
            "signal regions without one",
            ", ".join(without) if without else "none",
            "warn" if without else "",
        )
    )
    return facts


def likelihood_table(bundle: BundleDocuments) -> Table | None:
    """Every region the likelihood has: its published numbers and where it is."""
    covered = _likelihood_of(bundle)
    if not covered:
        return None
    regions = bundle.document["regions"]
    rows = []
    for name, kinds in covered.items():
        published = bundle.likelihood_regions.get(name)
        rows.append(
            Row(
                [
                    text(name),
                    text(", ".join(kinds)),
                    Cell(
                        "—" if published is None else f"{published.observed:g}",
                        "" if published is None else repr(published.observed),
                    ),
                    Cell(
                        "—"
                        if published is None
                        else plus_minus(published.background, published.background_uncertainty),
                        "" if published is None else repr(published.background),
                    ),
                    text("yes" if name in regions else "no"),
                ]
            )
        )
    return content._table(
        "likelihood-table",
        "the regions of the likelihood (a region of the bundle: its yield enters the limits)",
        ["region", "likelihood", "observed", "background", "region of the bundle"],
        rows,
    )


# -- networks, options, objects, detector, choices -------------------------------------------
def _inputs(card: Mapping[str, Any]) -> Cell:
    parts, total, parameters = [], 0, 0
    for node in card["inputs"]:
        features = node.get("features") or []
        parameters += sum(1 for f in features if f.get("role") == "parameter")
        layout = node["layout"]
        if layout == "sequence":
            total += len(features) * int(node["max_count"])
            parts.append(
                f"{node['name']}: {len(features)} × {node['max_count']} {node['collection']}"
            )
        elif layout == "mask":
            parts.append(f"{node['name']}: mask of {node['max_count']} {node['collection']}")
        else:
            total += len(features)
            parts.append(f"{node['name']}: {len(features)}")
    label = str(total) if len(parts) == 1 and card["inputs"][0]["layout"] == "flat" else None
    words = label or "; ".join(parts)
    if parameters:
        words += f" ({parameters} parameter(s))"
    return Cell(words, repr(total), "", "; ".join(parts))


def _outputs(card: Mapping[str, Any]) -> Cell:
    columns = [c for node in card["outputs"] for c in node["columns"]]
    return Cell(
        ", ".join(f"{c['index']} {c['label']}" for c in columns),
        None,
        "wrap",
        "; ".join(f"{c['label']}: {c['use']}" for c in columns if c.get("use")) or None,
    )


def networks_table(bundle: BundleDocuments) -> Table:
    """Every network: its card, inputs, labelled outputs, model file(s), whether each is
    distributed with the bundle, and its digest."""
    rows = []
    for network in bundle.networks:
        card = network.card
        files = card["files"]
        shipped = [f.get("distributed", True) for f in files]
        digests = [
            f"sha256 {f['sha256']}" if "sha256" in f else f"git blob {f.get('git_blob')}"
            for f in files
        ]
        source = "; ".join(str(f["source"]) for f in files if "source" in f)
        rows.append(
            Row(
                [
                    text(network.name),
                    text(card["name"], title=str(network.entry["path"])),
                    _wrap(network.entry.get("description") or card.get("description")),
                    text(card["evaluate_per"]),
                    _inputs(card),
                    _outputs(card),
                    text(", ".join(str(f["path"]) for f in files)),
                    Cell(
                        ", ".join("yes" if s else "no" for s in shipped),
                        None,
                        "" if all(shipped) else "warn",
                        None if all(shipped) else f"the user supplies it: {source}",
                    ),
                    Cell("; ".join(digests), None, "digest"),
                ]
            )
        )
    return content._table(
        "networks-table",
        "the networks the regions use, as their cards describe them (a file not distributed "
        "is supplied by the user: recast run --network NAME=PATH, checked against its digest)",
        [
            "network",
            "card",
            "description",
            "per",
            "inputs",
            "outputs",
            "model file",
            "distributed",
            "digest",
        ],
        rows,
    )


def options_table(document: Mapping[str, Any]) -> Table | None:
    options = document.get("options") or {}
    if not options:
        return None
    rows = [
        Row(
            [
                text(name),
                text(_value(spec["default"])),
                text(_value(spec["choices"]) if "choices" in spec else "any"),
                _wrap(spec["description"]),
            ]
        )
        for name, spec in options.items()
    ]
    return content._table(
        "options-table",
        "switches a user may set (recast run --option NAME=VALUE)",
        ["option", "default", "choices", "description"],
        rows,
    )


def objects_table(document: Mapping[str, Any]) -> Table | None:
    objects = document.get("objects") or {}
    if not objects:
        return None
    rows = [Row([text(k), text(_value(v))]) for k, v in objects.items()]
    return content._table(
        "objects-table",
        "the settings of the truth objects (recast.objects)",
        ["setting", "value"],
        rows,
    )


def _acceptance(spec: Mapping[str, Any] | None) -> str:
    if not spec:
        return "—"
    parts = []
    if "min_pt" in spec:
        parts.append(f"pT ≥ {number(spec['min_pt'])} GeV")
    if "max_abs_eta" in spec:
        parts.append(f"|η| < {number(spec['max_abs_eta'])}")
    for low, high in spec.get("exclude_abs_eta") or []:
        parts.append(f"not {number(low)} ≤ |η| < {number(high)}")
    return ", ".join(parts) or "—"


def _smearing(steps: Sequence[Mapping[str, Any]] | None) -> str:
    return ", ".join(f"{s['variable']}: {s['model']}" for s in steps or []) or "none"


def detector_tables(bundle: BundleDocuments) -> list[tuple[str, list[Fact], Table]]:
    """Per detector description: its names and words, and a row per collection (smearing,
    acceptance, efficiency, tags) and for MET."""
    found = []
    for k, detector in enumerate(bundle.detectors, 1):
        document = detector.document
        facts = [Fact("file", detector.path), Fact("name", str(document["name"]))]
        if detector.description:
            facts.append(Fact("the bundle says", detector.description))
        if document.get("description"):
            facts.append(Fact("description", str(document["description"])))
        rows = []
        for collection, spec in (document.get("objects") or {}).items():
            efficiency = spec.get("efficiency")
            tags = spec.get("tags") or []
            rows.append(
                Row(
                    [
                        text(collection),
                        text(_smearing(spec.get("smearing"))),
                        text(_acceptance(spec.get("acceptance"))),
                        text(f"{efficiency['map']} ({efficiency['mode']})" if efficiency else "—"),
                        text(
                            ", ".join(f"{t['name']}: {t['map']} ({t['mode']})" for t in tags) or "—"
                        ),
                    ]
                )
            )
        met = document.get("met")
        if met:
            recomputed = ", ".join(met.get("recompute_from") or [])
            rows.append(
                Row(
                    [
                        text("MET"),
                        text(_smearing(met.get("smearing"))),
                        text(f"recomputed from {recomputed}" if recomputed else "—"),
                        text("—"),
                        text("—"),
                    ]
                )
            )
        table = content._table(
            f"detector-{k}",
            "per collection: smearing steps, acceptance, efficiency and tags (map, mode)",
            ["collection", "smearing", "acceptance", "efficiency", "tags"],
            rows,
        )
        names = ", ".join(
            f"{n} (recast run --detector {n})" if n != DEFAULT_DETECTOR else "default"
            for n in detector.names
        )
        found.append((f"Detector: {names}", facts, table))
    return found


def maps_table(bundle: BundleDocuments) -> Table | None:
    """Every map the detector descriptions use, once, with where it is used."""
    if not bundle.maps:
        return None
    rows = []
    for entry in bundle.maps:
        found = entry.document
        rows.append(
            Row(
                [
                    text(entry.path),
                    text(found.get("kind")),
                    text(found.get("object")),
                    text(found.get("working_point")),
                    _wrap(found.get("description")),
                    _wrap("; ".join(entry.used_by)),
                ]
            )
        )
    return content._table(
        "maps-table",
        "the efficiency maps and taggers of the detector descriptions",
        ["map", "kind", "object", "working point", "description", "used by"],
        rows,
    )


def choices_table(document: Mapping[str, Any]) -> Table | None:
    choices = document.get("choices") or []
    if not choices:
        return None
    rows = [Row([text(c["topic"]), _wrap(c["choice"]), _wrap(c["reason"])]) for c in choices]
    return content._table(
        "choices-table",
        "every ambiguity of the published description, the choice made and its reason",
        ["topic", "choice", "reason"],
        rows,
    )


# -- validation ------------------------------------------------------------------------------
def validation_facts(verdict: Mapping[str, Any]) -> list[Fact]:
    facts = [Fact("benchmark", str(verdict["benchmark"])), content.validation_verdict(verdict)]
    norm = verdict.get("normalisation") or {}
    if norm:
        facts.append(content.cross_section_fact(norm))
        if norm.get("events") is not None:
            facts.append(Fact("events", str(norm["events"])))
    return facts


def _check_validation(bundle: BundleDocuments, source: Source) -> None:
    """A validation of this bundle: its analysis, and regions the bundle has."""
    theirs = str(source.document["analysis"])
    if theirs != bundle.id:
        raise UsageError(
            f"{source.name}: is a validation of {theirs}, not of {bundle.id}; give a "
            f"validation document of {bundle.id} (recast validate {bundle.id} ... -o FILE)"
        )
    regions = bundle.document["regions"]
    unknown = [str(r["region"]) for r in source.document["regions"] if r["region"] not in regions]
    if unknown:
        raise UsageError(
            f"{source.name}: validates region(s) {', '.join(unknown)}, which {bundle.id} does "
            "not have (a validation of another version of the bundle?); validate this bundle "
            "again"
        )


# -- the page --------------------------------------------------------------------------------
def bundle_page(
    bundle: BundleDocuments,
    validation: Source | None = None,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The page of ``bundle`` (and of ``validation``, a validation of it), as HTML."""
    document = bundle.document
    sections = [("summary", "Summary")]
    page: dict[str, Any] = {
        "title": f"{bundle.id}: recast-nn bundle",
        "subtitle": str(document.get("title") or ""),
        "version": __version__,
        "links": list(links),
        "status": status_fact(document),
        "region_statuses": region_statuses(document),
        "facts": summary(bundle),
        "provenance": provenance_facts(document["provenance"]),
        "validation": None,
        "validation_facts": [],
        "cutflows": [],
        "histograms": None,
    }
    if validation is not None:
        verdict = validation.document
        page["validation"] = validation.name
        page["validation_facts"] = [Fact("document", validation.name), *validation_facts(verdict)]
        page["cutflows"] = content.validation_cutflows(verdict)
        ranked = content.ranked_histograms(verdict)
        if ranked:  # no plots on this page: the ranking without its links to them
            table = content.histogram_table(ranked, [""] * len(ranked), verdict)
            rows = [
                dataclasses.replace(
                    row, cells=[dataclasses.replace(c, href=None) for c in row.cells]
                )
                for row in table.rows
            ]
            page["histograms"] = dataclasses.replace(table, rows=rows)
        sections.append(("validation", "Validation"))
    if page["provenance"]:
        sections.append(("publication", "Publication"))
    page["regions"] = regions_table(bundle)
    sections.append(("regions", "Regions"))
    page["benchmarks"] = benchmarks(bundle)
    if page["benchmarks"]:
        sections.append(("benchmarks", "Published benchmarks"))
    page["likelihood_facts"] = likelihood_facts(bundle)
    page["likelihood"] = likelihood_table(bundle)
    sections.append(("likelihood", "Likelihood"))
    page["networks"] = networks_table(bundle) if bundle.networks else None
    if page["networks"]:
        sections.append(("networks", "Networks"))
    page["options"] = options_table(document)
    if page["options"]:
        sections.append(("options", "Options"))
    page["objects"] = objects_table(document)
    page["detectors"] = detector_tables(bundle)
    page["maps"] = maps_table(bundle)
    if page["objects"] or page["detectors"]:
        sections.append(("detector", "Objects and detector"))
    page["choices"] = choices_table(document)
    if page["choices"]:
        sections.append(("choices", "Choices"))
    page["sections"] = sections
    return str(environment().get_template("bundle.html.j2").render(**page))


def write_bundle_page(
    analysis: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    validation: Any = None,
    links: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the page of the bundle ``analysis`` (a shipped id or a bundle folder) into
    ``folder``; return the path of its ``index.html``.

    Built from the bundle's documents alone: none of its code is run. ``validation`` (a
    validation document of this bundle, a ``Validation``, or its JSON file) adds its
    comparison, step by step. ``links`` are (label, address) pairs the page's header links
    to (the docs site gives its own pages). ``folder`` is new, empty or an earlier page or
    report, which is replaced whole; it may not be inside the bundle, nor hold an input.

        write_bundle_page("ATLAS_SUSY_2018_30", "page", validation="validation.json")
    """
    bundle = read_bundle(analysis)
    source = read_source(validation, "validation") if validation is not None else None
    if source is not None:
        _check_validation(bundle, source)
    folder = Path(folder)
    inputs = [bundle.folder] + ([source.path] if source is not None and source.path else [])
    check_report_folder(folder, inputs)
    html = bundle_page(bundle, source, links)  # before the folder: a failure writes nothing
    return write_folder(folder, lambda work: html)
