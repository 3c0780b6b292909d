"""From a published input name and its normalisation to a card feature.

Importers of published networks know each input only by its name (``jet_pt_0``, ``met_phi``,
``mGluino``...) and its published preprocessing; this module guesses what it is: role, source
in the events, unit, angle range (φ's inferred from the normalisation) and a definition.
Each feature lists in ``guessed`` the fields so inferred (from its name, from a default the
caller did not state, from the normalisation), for the authors to state later
(:mod:`recast.preserve.definitions`) and ``recast card check`` to report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError, closest
from .sidecars import Normalisation, inferred_angle_range

log = logging.getLogger(__name__)

# Published attribute token -> (events' field name, words, kind). Kind picks the unit.
_ATTRIBUTES: dict[str, tuple[str, str, str]] = {
    "pt": ("pt", "transverse momentum", "energy"),
    "eta": ("eta", "pseudorapidity", "1"),
    "phi": ("phi", "azimuthal angle", "angle"),
    "m": ("mass", "mass", "energy"),
    "mass": ("mass", "mass", "energy"),
    "e": ("energy", "energy", "energy"),
    "energy": ("energy", "energy", "energy"),
    "isb": ("btag", "b-tag flag (1 if b-tagged, else 0)", "1"),
    "btag": ("btag", "b-tag flag (1 if b-tagged, else 0)", "1"),
    "isbtag": ("btag", "b-tag flag (1 if b-tagged, else 0)", "1"),
    "btagged": ("btag", "b-tag flag (1 if b-tagged, else 0)", "1"),
}
_SLOT = re.compile(
    r"^(?P<collection>[A-Za-z][A-Za-z0-9_]*?)_(?P<attr>" + "|".join(_ATTRIBUTES) + r")_(?P<k>\d+)$",
    re.IGNORECASE,
)
_MET = {"met": "pt", "met_pt": "pt", "met_et": "pt", "etmiss": "pt", "met_phi": "phi"}
_MASS_LIKE = re.compile(r"^(m[A-Z0-9_]|mass)")  # mGluino, mLSP, m_H, mass...
# the order a reader wants: what it is, where it comes from, then how it is transformed
_FEATURE_KEYS = (
    "index",
    "name",
    "definition",
    "role",
    "source",
    "unit",
    "angle_range",
    "padding",
    "preprocessing",
    "notes",
    "guessed",
)
#: the fields a feature may list in ``guessed``, in the order written (the schema's)
GUESSED_FIELDS = ("definition", "source", "unit", "padding", "angle_range")
#: the energy unit and padding assumed when the caller states none
DEFAULT_UNIT = "GeV"
DEFAULT_PADDING = 0.0
#: the note of a variable whose unit nothing states; obsolete once the unit is stated
UNIT_NOTE = "unit not stated by the published files: the value enters the preprocessing as given"
#: the start of the note of a φ range inferred from the normalisation
ANGLE_NOTE = "angle range inferred from the published normalisation"
#: how a slot's definition ends: what a missing object is replaced by
NO_OBJECT = " when there is no such object"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _slot_counts(names: Sequence[str]) -> dict[str, int]:
    """max_count per collection: one more than the largest position named."""
    counts: dict[str, int] = {}
    for name in names:
        match = _SLOT.match(name)
        if match:
            collection = match["collection"]
            counts[collection] = max(counts.get(collection, 0), int(match["k"]) + 1)
    return counts


def padding_words(padding: Mapping[str, Any], unit: str) -> str:
    """A padding as a slot's definition says it: ``0 GeV (before preprocessing)``, ``1e-07
    in units of 100 GeV (before preprocessing)``."""
    value = f"{padding['value']:g}"
    if padding["stage"] == "after_preprocessing":
        return f"{value} (after preprocessing)"
    if unit == "1":
        return f"{value} (before preprocessing)"
    if unit[0].isdigit():  # "100 GeV": "0 100 GeV" would read as one number
        return f"{value} in units of {unit} (before preprocessing)"
    return f"{value} {unit} (before preprocessing)"


def _physics(
    name: str,
    counts: Mapping[str, int],
    norm: Normalisation,
    unit: str | None,
    padding: float | None,
) -> dict[str, Any]:
    """Role, source, unit, definition (and padding) read from a published name, with the
    fields guessed: all but what the side-car says (a parameter's source) and what the caller
    stated (``unit``, ``padding``; None when not stated)."""
    energy = unit or DEFAULT_UNIT
    energy_guessed = ["unit"] if unit is None else []
    if name in norm.parameters:
        mass_like = bool(_MASS_LIKE.match(name))
        return {
            "role": "parameter",
            "source": {"parameter": name},
            "unit": energy if mass_like else "1",
            "definition": f"model parameter {name!r} of the parameterised network, one "
            "value per hypothesis (see parameter_points)",
            "guessed": ["definition", *(energy_guessed if mass_like else ["unit"])],
        }
    match = _SLOT.match(name)
    if match:
        attribute, words, kind = _ATTRIBUTES[match["attr"].lower()]
        collection, k = match["collection"], int(match["k"])
        unit_of = {"energy": energy, "angle": "rad"}.get(kind, "1")
        pad = {
            "value": DEFAULT_PADDING if padding is None else padding,
            "stage": "before_preprocessing",
        }
        return {
            "role": "feature",
            "source": {
                "collection": collection,
                "attribute": attribute,
                "position": k,
                "ordering": {"by": "pt", "descending": True},
                "max_count": counts[collection],
            },
            "unit": unit_of,
            "padding": pad,
            "definition": f"{words} of the {_ordinal(k + 1)} {collection} object "
            f"(pT-descending); {padding_words(pad, unit_of)}{NO_OBJECT}",
            "guessed": [
                "definition",
                "source",
                *(energy_guessed if kind == "energy" else []),
                *(["padding"] if padding is None else []),
            ],
        }
    met = _MET.get(name.lower())
    if met is not None:
        what = "azimuthal angle" if met == "phi" else "magnitude"
        return {
            "role": "feature",
            "source": {"collection": "met", "attribute": met},
            "unit": "rad" if met == "phi" else energy,
            "definition": f"{what} of the missing transverse momentum",
            "guessed": ["definition", "source", *([] if met == "phi" else energy_guessed)],
        }
    return {
        "role": "feature",
        "source": {"attribute": name},
        "unit": "1",
        "definition": f"event-level variable {name!r}, read from the events' field of that "
        "name; the published files do not define it (see the analysis paper)",
        "notes": UNIT_NOTE,
        "guessed": ["definition", "source", "unit"],
    }


def _not_guessed(feature: dict[str, Any], field: str) -> None:
    """``field`` was stated: take it off the feature's guessed fields."""
    guessed = [g for g in feature.get("guessed", []) if g != field]
    if guessed:
        feature["guessed"] = guessed
    else:
        feature.pop("guessed", None)


def _angle_range(feature: dict[str, Any], override: str | None, origin: str) -> None:
    """Set φ's range: stated by the caller, else inferred from the published normalisation."""
    if override is not None:
        feature["angle_range"] = override
        feature["notes"] = f"angle range {override} stated when importing"
        return
    feature["angle_range"], centre, std = inferred_angle_range(feature["preprocessing"])
    feature["guessed"] = [*feature.get("guessed", []), "angle_range"]
    if feature["angle_range"] == "[0, 2pi)":
        feature["notes"] = (
            f"{ANGLE_NOTE}: mean {centre:.4g} and "
            f"std {std:.4g} fit φ in [0, 2π), not (-π, π] (mean ≈ 0)"
        )
        log.warning(
            "%s of %s: normalisation mean %.4g, std %.4g: assuming φ in [0, 2π)",
            feature["name"],
            origin,
            centre,
            std,
        )


def features(
    norm: Normalisation,
    unit: str | None,
    padding: float | None,
    angle_ranges: Mapping[str, str],
    units: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The card's features for ``norm``'s inputs, in order, guessed from their names.

    ``unit`` is the energy unit and ``padding`` the raw value of a missing object (None: not
    stated, :data:`DEFAULT_UNIT` and :data:`DEFAULT_PADDING` are assumed and marked guessed);
    ``angle_ranges`` and ``units`` state, per input name, what is otherwise inferred. Each
    feature's ``guessed`` lists the fields inferred rather than stated.
    """
    for what, names in (("angle_ranges", angle_ranges), ("units", units)):
        for name in names:
            if name not in norm.names:
                raise UsageError(
                    f"{what} names {name!r}, which is not an input of "
                    f"{norm.origin}." + closest(name, norm.names)
                )
    counts = _slot_counts(norm.names)
    result = []
    for index, (name, step) in enumerate(zip(norm.names, norm.preprocessing, strict=True)):
        feature = {
            "index": index,
            "name": name,
            "preprocessing": dict(step),
            **_physics(name, counts, norm, unit, padding),
        }
        if name in units:
            feature["unit"] = units[name]
            feature.pop("notes", None)
            _not_guessed(feature, "unit")
        if feature["unit"] == "rad":
            _angle_range(feature, angle_ranges.get(name), norm.origin)
        elif name in angle_ranges:
            raise UsageError(
                f"angle_ranges names {name!r}, whose unit is {feature['unit']!r}, "
                "not an angle in rad"
            )
        if "guessed" in feature:
            feature["guessed"] = [g for g in GUESSED_FIELDS if g in feature["guessed"]]
        result.append({k: feature[k] for k in _FEATURE_KEYS if k in feature})
    return result


__all__ = [
    "ANGLE_NOTE",
    "DEFAULT_PADDING",
    "DEFAULT_UNIT",
    "GUESSED_FIELDS",
    "NO_OBJECT",
    "UNIT_NOTE",
    "features",
    "padding_words",
]
