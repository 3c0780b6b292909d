"""ATLAS_SUSY_2018_30 likelihoods: the published S95 of the 22 regions reproduced through the
likelihood layer, the bundle's simplified likelihood and the HEPData channel map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_atlas_susy_2018_30 import BUNDLE, regions_module

# -- likelihood --------------------------------------------------------------------------------
PUBLISHED = json.loads((BUNDLE / "likelihood" / "published_signal_regions.json").read_text())
#: regions whose one-bin expected S95 misses the published one by more than 10 %
EXPECTED_MISSES = {"SR-Gtt-0L-C", "SR-Gbb-M", "SR-Gtt-1L-M2"}


@pytest.fixture(scope="module")
def s95() -> dict[str, dict[str, Any]]:
    from recast.likelihood.simplified import load_regions, s95_table

    table = s95_table(load_regions(BUNDLE / "likelihood" / "published_signal_regions.json"))
    return {row["region"]: row["s95"] for row in table}


@pytest.mark.parametrize("row", PUBLISHED["signal_regions"], ids=lambda r: r["name"])
def test_simplified_likelihood_reproduces_the_observed_s95(row: dict, s95: dict) -> None:
    assert s95[row["name"]]["observed"] == pytest.approx(row["s95_observed"], rel=0.10)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(r, marks=pytest.mark.xfail(reason="one-bin lognormal model: expected S95 off by 11-18 %, not fixed in the likelihood layer yet", strict=True))  # noqa: E501
        if r["name"] in EXPECTED_MISSES
        else r
        for r in PUBLISHED["signal_regions"]
    ],
    ids=lambda r: r["name"],
)  # fmt: skip
def test_simplified_likelihood_reproduces_the_expected_s95(row: dict, s95: dict) -> None:
    assert s95[row["name"]]["expected"]["median"] == pytest.approx(row["s95_expected"], rel=0.10)


def test_bundle_likelihood_has_every_region_but_gtb() -> None:
    from recast.likelihood.spec import likelihood_from_document

    document = json.loads((BUNDLE / "analysis.json").read_text())
    spec = likelihood_from_document(document["likelihood"], BUNDLE, "analysis.json")
    names = [r.name for r in spec.regions]
    assert len(names) == 19 and not any("Gtb" in n for n in names)
    assert set(names) <= set(document["regions"])
    published = {r["name"]: r for r in PUBLISHED["signal_regions"]}
    for region in spec.regions:
        assert region.observed == published[region.name]["observed"]
        assert region.background == published[region.name]["background"]


def test_hepdata_channel_map_names_bundle_regions() -> None:
    document = json.loads((BUNDLE / "likelihood" / "hepdata_channels.json").read_text())
    regions = regions_module.regions()
    likelihoods = document["likelihoods"]
    assert len(likelihoods) == 19 and not any("Gtb" in k for k in likelihoods)
    assert likelihoods["CC_Gbb_B"]["map"] == {
        "SR-Gbb-B": {"channel": "SR_Gbb_B_cuts", "bin": 0},
        "CR-Gbb-B": {"channel": "CR_Gbb_B_cuts", "bin": 0},
    }
    assert (
        likelihoods["NN_Gbb_2000_1800"]["map"]["CRZ-Gbb-2000-1800"]["channel"]
        == "CRZ_Gbb_2000_1800_cuts"
    )
    assert "CR-Gbb-2800-1400" not in likelihoods["NN_Gbb_2800_1400"]["map"]  # ambiguous CR
    for entry in likelihoods.values():
        assert set(entry["map"]) <= set(regions)


@pytest.mark.shared_data
def test_published_numbers_are_transcribed_from_signal_regions_json(shared_data: Path) -> None:
    source = json.loads((shared_data / "atlas_susy_2018_30" / "signal_regions.json").read_text())
    keys = (
        "name",
        "observed",
        "background",
        "background_uncertainty",
        "s95_observed",
        "s95_expected",
    )
    assert [{k: r[k] for k in keys} for r in source["signal_regions"]] == PUBLISHED[
        "signal_regions"
    ]
