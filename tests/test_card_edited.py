"""NetworkCard.edited: a copy of a card with other conventions for some features, validated
like any card, finding its files where the original does, saying why in its notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from recast.errors import InvalidDocumentError, UsageError
from recast.preserve.card import NetworkCard

CARD = (
    Path(__file__).resolve().parents[1] / "analyses" / "ATLAS_SUSY_2019_04" / "networks"
    / "nn_6j.card.json"
)  # fmt: skip


def _feature(card: NetworkCard, name: str) -> dict:
    return next(f for _, f in card.features() if f["name"] == name)


def test_patterns_edit_every_matching_feature_and_nothing_else() -> None:
    card = NetworkCard.load(CARD)
    pad = {"value": 1e-7, "stage": "after_preprocessing"}
    edited = card.edited({"jet_eta_*": {"padding": pad}, "met": {"unit": "GeV"}}, "a study")
    changed = [
        f["name"] for (_, f), (_, g) in zip(card.features(), edited.features(), strict=True)
        if f != g
    ]  # fmt: skip
    assert sorted(changed) == sorted([*(f"jet_eta_{i}" for i in range(10)), "met"])
    assert _feature(edited, "jet_eta_3")["padding"] == pad
    assert _feature(card, "jet_eta_3")["padding"]["value"] == -5.0  # the original is untouched
    assert "edited: a study" in edited.document["provenance"]["notes"]
    assert edited.model_files()[0].path == card.model_files()[0].path


def test_a_pattern_that_matches_nothing_is_refused() -> None:
    with pytest.raises(UsageError, match="no feature matches 'jet_etta_\\*'"):
        NetworkCard.load(CARD).edited({"jet_etta_*": {"unit": "1"}}, "a typo")


def test_an_edit_the_schema_forbids_is_refused() -> None:
    with pytest.raises(InvalidDocumentError):
        NetworkCard.load(CARD).edited({"met": {"unit": "furlongs"}}, "a bad unit")
