"""Readable rich tables summarising a network card (`recast card show`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..preserve.card import NetworkCard
from ..text import Table

_ORDINAL = {1: "st", 2: "nd", 3: "rd"}


def describe_source(source: Mapping[str, Any]) -> str:
    """``jets[0].pt (pt↓, ≤10)``, ``met.phi``, ``parameter mGluino``, ``HT``."""
    if "parameter" in source:
        return f"parameter {source['parameter']}"
    text = source.get("collection", "")
    if "position" in source:
        order = describe_ordering(source["ordering"])
        text += f"[{source['position']}] ({order}, ≤{source['max_count']})"
    return f"{text}.{source['attribute']}" if text else source["attribute"]


def describe_ordering(ordering: Any) -> str:
    """``pt↓`` for pT-descending, ``as given`` for the input order."""
    if ordering == "as_given":
        return "as given"
    return f"{ordering['by']}{'↓' if ordering['descending'] else '↑'}"


def describe_preprocessing(pre: Mapping[str, Any]) -> str:
    """The formula with its numbers substituted, e.g. ``(x - 3.158) / 1.809``."""
    text = str(pre["formula"])
    for key, value in pre.items():
        if key != "formula":
            text = text.replace(key, f"{value:.4g}")
    return text


def _padding(feature: Mapping[str, Any]) -> str:
    padding = feature.get("padding")
    if padding is None:
        return ""
    stage = "raw" if padding["stage"] == "before_preprocessing" else "net"
    return f"{padding['value']:g} ({stage})"


def card_tables(card: NetworkCard) -> list[Table]:
    doc = card.document
    tables = []
    head = Table(title=f"network card {card.name}", show_header=False)
    head.add_row("description", doc["description"])
    head.add_row("evaluated per", card.evaluate_per)
    for key, value in doc["provenance"].items():
        head.add_row(key, str(value))
    head.add_row(
        "runtimes tested", ", ".join(f"{r['name']} {r['version']}" for r in doc["runtimes_tested"])
    )
    if card.parameter_points:
        head.add_row(
            "parameter points",
            "; ".join(", ".join(f"{k}={v:g}" for k, v in p.items()) for p in card.parameter_points),
        )
    tables.append(head)
    for node in card.inputs:
        shape = "×".join("N" if d is None else str(d) for d in node["shape"])
        table = Table(title=f"input {node['name']} [{shape}] {node['dtype']} ({node['layout']})")
        for column in ("#", "name", "source", "unit", "φ range", "padding", "preprocessing"):
            table.add_column(column)
        if node["layout"] != "flat":
            table.caption = (
                f"objects of {node['collection']}, "
                f"{describe_ordering(node['ordering'])}, ≤{node['max_count']}"
            )
        features = sorted(node.get("features", []), key=lambda f: f["index"])
        for feature in features:
            guessed = set(feature.get("guessed", []))

            def shown(field: str, text: str, guessed: set[str] = guessed) -> str:
                return f"{text} ?" if field in guessed and text else text

            table.add_row(
                str(feature["index"]),
                shown("definition", feature["name"]),
                shown("source", describe_source(feature["source"])),
                shown("unit", feature["unit"]),
                shown("angle_range", feature.get("angle_range", "")),
                shown("padding", _padding(feature)),
                describe_preprocessing(feature["preprocessing"]),
            )
        if any(f.get("guessed") for f in features):
            note = (
                "? guessed by the importer, not stated by the authors (beside a name: the "
                "definition); state it with recast card edit --definitions FILE"
            )
            table.caption = f"{table.caption}; {note}" if table.caption else note
        tables.append(table)
    for node in card.outputs:
        table = Table(title=f"output {node['name']}")
        for column in ("index", "label", "activation", "use"):
            table.add_column(column)
        for c in node["columns"]:
            table.add_row(str(c["index"]), c["label"], c.get("activation", ""), c.get("use", ""))
        tables.append(table)
    files = Table(title="files")
    for column in (
        "path",
        "applies to",
        "opset",
        "producer",
        "digest",
        "references",
        "own preprocessing",
    ):
        files.add_column(column)
    for model in card.model_files():
        fold = model.applies_to
        applies = (
            "all events"
            if fold is None
            else (f"event_number % {fold['modulus']} == {fold['remainder']}")
        )
        producer = model.entry.get("producer", {"name": "unknown", "version": ""})
        files.add_row(
            model.entry["path"],
            applies,
            str(model.entry.get("opset", "unknown")),
            f"{producer['name']} {producer['version']}",
            model.digest[:23] + "…" + ("" if model.distributed else " (not distributed)"),
            str(len(model.entry.get("references", []))),
            f"{len(model.entry.get('preprocessing', {}))} input(s)",
        )
    tables.append(files)
    return tables
