"""State what a network's published files do not say, and apply it to its card.

Importers guess each input's definition, source, unit, padding and φ range from its published
name and their defaults, and mark them ``guessed`` in the card (schema 1.1.0). The authors
state the truth in a *definitions file* (schema kind ``card-definitions``)::

    {
      "inputs": {
        "jet_pt_0": {"definition": "pT of the leading jet", "unit": "GeV", "padding": 0},
        "mHradius": {"definition": "...", "collection": null, "attribute": "mHradius",
                     "unit": "GeV"}
      },
      "provenance": {"analysis_id": "ATLAS-HIGP-2024-32", "arxiv": "2411.02040"}
    }

:func:`apply_definitions` writes each stated field into the card, takes it off the feature's
``guessed`` fields, merges the provenance and validates the result. A padding given as a
number is the raw value of a missing object in the feature's unit, before preprocessing (as
``recast card import --padding``); ``{"value": ..., "stage": ...}`` states the stage.

>>> stated = load_definitions("definitions.json")                      # doctest: +SKIP
>>> card = apply_definitions(card_document, stated, "definitions.json")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import schema
from ..errors import InvalidDocumentError, UsageError, closest
from .card import NetworkCard
from .names import ANGLE_NOTE, GUESSED_FIELDS, NO_OBJECT, UNIT_NOTE, padding_words

log = logging.getLogger(__name__)

KIND = "card-definitions"
#: what a definitions file may state about one input (the schema's ``stated_feature``)
FIELDS = ("definition", "collection", "attribute", "unit", "padding", "angle_range", "notes")
#: the provenance fields the command line states (--analysis-id, --arxiv, ...)
PROVENANCE_OPTIONS = ("analysis_id", "arxiv", "inspire", "hepdata_doi", "license")


# -- reading -----------------------------------------------------------------------------------
def check_definitions(document: Any, source: str) -> dict[str, Any]:
    """A validated copy of a card-definitions document; ``source`` names it in messages.

    ``schema_version`` may be left out (the current one is assumed). Raises
    :class:`~recast.errors.InvalidDocumentError` listing every problem with its JSON path.
    """
    if isinstance(document, Mapping) and "schema_version" not in document:
        document = {"schema_version": schema.current_version(KIND), **document}
    schema.validate(document, KIND, source)
    inputs = document.get("inputs", {})
    bad = [  # the schema takes NaN for a number; a card holds finite numbers only
        (f"inputs.{name}.padding", f"is {value}: give a finite number")
        for name, stated in inputs.items()
        for value in [_padding_value(stated.get("padding"))]
        if value is not None and not math.isfinite(value)
    ]
    if bad:
        raise InvalidDocumentError(source, bad)
    return copy.deepcopy(dict(document))


def _padding_value(padding: Any) -> float | None:
    if isinstance(padding, Mapping):
        padding = padding.get("value")
    return float(padding) if isinstance(padding, int | float) else None


def load_definitions(path: str | Path) -> dict[str, Any]:
    """Read and validate a definitions file (JSON); every error names the file and the JSON
    path (:class:`~recast.errors.InvalidDocumentError`, or
    :class:`~recast.errors.ArtefactNotFoundError` when there is no such file)."""
    path = Path(path)
    return check_definitions(schema.load_json(path), str(path))


def settings_definitions(items: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """``FEATURE.FIELD=VALUE`` settings as a definitions document.

    FIELD is one of :data:`FIELDS`; a padding VALUE is a number (before preprocessing) or a
    JSON object ``{"value": ..., "stage": ...}``; an empty collection means none (the value is
    read from the row itself). Raises :class:`~recast.errors.UsageError` for a malformed item
    or an unknown field, naming it and the fields there are.
    """
    inputs: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        name, dot, field = key.rpartition(".")
        if not sep or not dot or not name:
            raise UsageError(
                f"{option} {item!r}: expected FEATURE.FIELD=VALUE, e.g. jet_pt_0.unit=GeV"
            )
        if field not in FIELDS:
            raise UsageError(
                f"{option} {item!r}: {field!r} is not a field of an input that can be stated; "
                f"the fields are {', '.join(FIELDS)}." + closest(field, FIELDS)
            )
        stated = inputs.setdefault(name, {})
        if field in stated:
            raise UsageError(f"{option} {key}: given twice; give each field of an input once")
        stated[field] = _setting_value(field, text, f"{option} {item!r}")
    return check_definitions({"inputs": inputs}, option)


def _setting_value(field: str, text: str, where: str) -> Any:
    if field == "collection":
        return text or None
    if field != "padding":
        return text
    try:
        value = float(text)
    except ValueError:
        return schema.loads_json(text, where)  # an object; the schema says what is wrong
    if not math.isfinite(value):
        raise UsageError(f"{where}: a padding is a finite number")
    return value


def provenance_definitions(fields: Mapping[str, str | None], source: str) -> dict[str, Any]:
    """A definitions document stating the provenance ``fields`` that are not None (the keys of
    :data:`PROVENANCE_OPTIONS`), validated: ``source`` names where they came from."""
    provenance = {k: v for k, v in fields.items() if v is not None}
    return check_definitions({"provenance": provenance} if provenance else {}, source)


def stated_fields(definitions: Mapping[str, Any], field: str) -> dict[str, Any]:
    """Input name to the value ``definitions`` states for ``field`` (where it states one)."""
    inputs = definitions.get("inputs", {})
    return {name: stated[field] for name, stated in inputs.items() if field in stated}


def is_empty(definitions: Mapping[str, Any]) -> bool:
    """Whether ``definitions`` states nothing."""
    return not any(definitions.get(key) for key in ("inputs", "provenance", "description"))


# -- naming the inputs -----------------------------------------------------------------------
def check_input_names(
    definitions: Mapping[str, Any], names: Iterable[str], source: str, card: str = "the card"
) -> None:
    """Refuse inputs of ``definitions`` that are not among ``names`` (the card's features),
    naming ``source``, the field ``inputs.NAME`` and the closest names."""
    names = list(names)
    unknown = [name for name in definitions.get("inputs", {}) if name not in names]
    if unknown:
        raise _unknown(unknown, names, source, card)


def _unknown(unknown: list[str], names: list[str], source: str, card: str) -> UsageError:
    lines = [
        f"  inputs.{name}: {card} has no input {name!r}.{closest(name, names)}" for name in unknown
    ]
    return UsageError(
        f"{source}: {len(unknown)} input(s) that are not features of {card}:\n"
        + "\n".join(lines)
        + f"\nName each input as the card does ({len(names)} features: "
        + ", ".join(names[:8])
        + (", ..." if len(names) > 8 else "")
        + ")"
    )


def _features_by_name(
    document: Mapping[str, Any],
) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(node, feature) pairs by feature name, and by ``NODE/FEATURE`` (for a name that two
    nodes use, e.g. ``pt`` of two sequences)."""
    found: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for node in document.get("inputs", []):
        for feature in node.get("features", []):
            found.setdefault(feature["name"], []).append((node, feature))
    for node in document.get("inputs", []):
        for feature in node.get("features", []):
            qualified = f"{node['name']}/{feature['name']}"
            found.setdefault(qualified, [(node, feature)])
    return found


# -- applying ----------------------------------------------------------------------------------
def apply_definitions(
    card_document: Mapping[str, Any], definitions: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """A new card document (or card template: a card without ``files``) with what
    ``definitions`` states; ``source`` names the definitions in messages (their file).

    Per input: ``definition``, ``unit``, ``angle_range`` and ``notes`` replace the feature's;
    ``collection`` and ``attribute`` go into its ``source`` (a null collection: the value is
    read from the row itself); a ``padding`` number is ``{"value": n, "stage":
    "before_preprocessing"}``. Every stated field leaves the feature's ``guessed`` list (a
    source once its attribute, and collection where it has one, are stated), and importer
    notes it makes obsolete are dropped; a definition still guessed gets the stated padding
    and unit in its words. ``description`` replaces the card's; ``provenance`` fields replace
    the card's (``notes`` are appended). The result is stamped with the current card schema
    version and validated like any card.

    Raises :class:`~recast.errors.UsageError` for an input that is not a feature of the card
    (naming ``source``, ``inputs.NAME`` and the closest names) or a field its feature cannot
    take, and the card's validation errors.
    """
    definitions = check_definitions(definitions, source)
    document = copy.deepcopy(dict(card_document))
    card = f"card {document.get('name')!r}"
    found = _features_by_name(document)
    inputs = definitions.get("inputs", {})
    unknown = [name for name in inputs if name not in found]
    if unknown:
        plain = [n for n in found if "/" not in n]
        raise _unknown(unknown, plain, source, card)
    for name, stated in inputs.items():
        if len(found[name]) > 1:
            nodes = [node["name"] for node, _ in found[name]]
            raise UsageError(
                f"{source}: inputs.{name}: {card} has a feature {name!r} in {len(nodes)} "
                f"input nodes ({', '.join(nodes)}); name one as NODE/FEATURE, e.g. "
                f"{nodes[0]}/{name}"
            )
        ((node, feature),) = found[name]
        _state(feature, node, stated, f"{source}: inputs.{name}")
    if "description" in definitions:
        document["description"] = definitions["description"]
    _merge_provenance(document.setdefault("provenance", {}), definitions.get("provenance", {}))
    document["schema_version"] = schema.current_version("network-card")
    _validate(document, f"{card} with {source} applied")
    log.info("%s: stated %d input(s) of %s", source, len(inputs), card)
    return document


def _state(
    feature: dict[str, Any], node: Mapping[str, Any], stated: Mapping[str, Any], where: str
) -> None:
    """Write what is stated about one feature into it."""
    guessed = set(feature.get("guessed", []))
    if "definition" in stated:
        feature["definition"] = stated["definition"]
        guessed.discard("definition")
    if "collection" in stated or "attribute" in stated:
        source = dict(feature.get("source") or {})
        if "parameter" in source:
            raise UsageError(
                f"{where}: {feature['name']!r} is a model parameter (source.parameter), "
                "supplied per hypothesis and read from no collection; state its definition "
                "or unit only"
            )
        if "attribute" in stated:
            source["attribute"] = stated["attribute"]
        if stated.get("collection") is not None:
            source["collection"] = stated["collection"]
        elif "collection" in stated:
            source.pop("collection", None)
        feature["source"] = source
        if "attribute" in stated and ("collection" in stated or "collection" not in source):
            guessed.discard("source")
    if "unit" in stated:
        feature["unit"] = stated["unit"]
        guessed.discard("unit")
        if feature.get("notes") == UNIT_NOTE:
            del feature["notes"]
        if feature["unit"] != "rad" and "angle_range" in guessed:
            # inferred only because the guessed unit was an angle
            feature.pop("angle_range", None)
            guessed.discard("angle_range")
    if "padding" in stated:
        padding = stated["padding"]
        if not isinstance(padding, Mapping):
            padding = {"value": padding, "stage": "before_preprocessing"}
        feature["padding"] = dict(padding)
        guessed.discard("padding")
    if "angle_range" in stated:
        feature["angle_range"] = stated["angle_range"]
        guessed.discard("angle_range")
        if str(feature.get("notes", "")).startswith(ANGLE_NOTE):
            del feature["notes"]
    if "notes" in stated:
        feature["notes"] = stated["notes"]
    if "definition" in guessed and ("padding" in stated or "unit" in stated):
        _reword_padding(feature)
    if guessed:
        feature["guessed"] = [g for g in GUESSED_FIELDS if g in guessed]
    else:
        feature.pop("guessed", None)
    if node.get("layout") == "sequence" and "collection" in feature.get("source", {}):
        raise UsageError(
            f"{where}: {feature['name']!r} is a feature of the sequence {node['name']!r}, whose "
            f"collection the node names ({node.get('collection')!r}); state only the attribute"
        )


def _reword_padding(feature: dict[str, Any]) -> None:
    """A guessed slot definition ends with what a missing object becomes: say the stated one."""
    definition, padding = str(feature["definition"]), feature.get("padding")
    head, sep, _ = definition.rpartition("; ")
    if padding is not None and sep and definition.endswith(NO_OBJECT):
        feature["definition"] = (
            f"{head}; {padding_words(padding, str(feature.get('unit', '1')))}{NO_OBJECT}"
        )


def _merge_provenance(provenance: dict[str, Any], stated: Mapping[str, Any]) -> None:
    for key, value in stated.items():
        notes = provenance.get("notes")
        if key == "notes" and notes and value not in notes:  # the importer's records stay
            provenance["notes"] = f"{notes}; {value}"
        else:
            provenance[key] = copy.deepcopy(value)


def _validate(document: dict[str, Any], label: str) -> None:
    if "files" in document:
        NetworkCard(document, label)
        return
    from .export import template_card  # a template: validated as the export will

    template_card(document, label)


__all__ = [
    "FIELDS",
    "KIND",
    "PROVENANCE_OPTIONS",
    "apply_definitions",
    "check_definitions",
    "check_input_names",
    "is_empty",
    "load_definitions",
    "provenance_definitions",
    "settings_definitions",
    "stated_fields",
]
