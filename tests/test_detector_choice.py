"""`--detector NAME|PATH`: a bundle publishes alternative detector descriptions; a run picks one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast import schema
from recast.analysis.bundle import BundleCheckError, bundles_root, check_bundle
from recast.cli import cli
from recast.errors import DigestMismatchError, InvalidDocumentError, UsageError
from recast.io import sha256_file, write_json
from recast.pipeline.run import recast_run, recast_validate

from .conftest import GttSample

#: the b-tag efficiency of the alternative: half the default's, so SR_btag must lose yield
SCALE = 0.5


def _halve(values: Any) -> Any:
    if isinstance(values, list):
        return [_halve(v) for v in values]
    return values * SCALE


def _bundle_with_alternative(folder: Path) -> Path:
    """A copy of EXAMPLE_JETS_MET publishing detector_loose.json (b-tag efficiencies halved)."""
    bundle = folder / "EXAMPLE_JETS_MET"
    shutil.copytree(bundles_root() / "EXAMPLE_JETS_MET", bundle)
    loose_map = json.loads((bundle / "maps" / "btag.json").read_text())
    loose_map["name"] = "btag_loose"
    loose_map["values"] = _halve(loose_map["values"])
    write_json(bundle / "maps" / "btag_loose.json", loose_map)
    detector = json.loads((bundle / "detector.json").read_text())
    detector["name"] = "example_detector_loose"
    tag = detector["objects"]["jets"]["tags"][0]
    tag["map"] = "maps/btag_loose.json"
    tag["sha256"] = sha256_file(bundle / "maps" / "btag_loose.json")
    write_json(bundle / "detector_loose.json", detector)
    document = json.loads((bundle / "analysis.json").read_text())
    document["detectors"] = {
        "loose": {
            "path": "detector_loose.json",
            "sha256": sha256_file(bundle / "detector_loose.json"),
            "description": "b-tag efficiencies halved",
        }
    }
    write_json(bundle / "analysis.json", document)
    return bundle


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    return _bundle_with_alternative(tmp_path)


def test_the_schema_takes_detectors_and_reserves_default(bundle: Path) -> None:
    document = json.loads((bundle / "analysis.json").read_text())
    schema.validate(document, "analysis", "analysis.json")
    document["detectors"]["default"] = dict(document["detectors"]["loose"])
    with pytest.raises(InvalidDocumentError, match="detectors"):
        schema.validate(document, "analysis", "analysis.json")
    del document["detectors"]["default"]
    del document["detectors"]["loose"]["description"]
    with pytest.raises(InvalidDocumentError, match="description"):
        schema.validate(document, "analysis", "analysis.json")


def test_bundle_check_loads_every_alternative(bundle: Path) -> None:
    checked = check_bundle(bundle)
    assert any(line.startswith("detectors.loose (detector_loose.json") for line in checked)
    assert "7 artefact digest(s) match" in checked  # detector, its alternative, card, 4 cutflows


def test_bundle_check_names_a_wrong_digest_of_an_alternative(bundle: Path) -> None:
    loose = json.loads((bundle / "detector_loose.json").read_text())
    loose["description"] = "edited after the digest was recorded"
    write_json(bundle / "detector_loose.json", loose)
    with pytest.raises(BundleCheckError, match=r"detectors\.loose: detector_loose.json has sha256"):
        check_bundle(bundle)
    # and a run refuses the bundle, whichever detector it asks for
    with pytest.raises(DigestMismatchError, match=r"detectors\.loose\.sha256"):
        recast_run(bundle, ["unused.hepmc"], detector="default")


def test_bundle_check_names_an_alternative_that_does_not_load(bundle: Path) -> None:
    loose = json.loads((bundle / "detector_loose.json").read_text())
    loose["objects"]["jets"]["tags"][0]["sha256"] = "0" * 64  # its map no longer verifies
    write_json(bundle / "detector_loose.json", loose)
    document = json.loads((bundle / "analysis.json").read_text())
    document["detectors"]["loose"]["sha256"] = sha256_file(bundle / "detector_loose.json")
    write_json(bundle / "analysis.json", document)
    with pytest.raises(BundleCheckError, match=r"detectors\.loose \(detector_loose.json\)"):
        check_bundle(bundle)


def test_the_chosen_detector_changes_the_yields_and_is_recorded(
    bundle: Path, gtt: GttSample
) -> None:
    default = recast_run(bundle, [gtt.small], xsec="10fb")
    loose = recast_run(bundle, [gtt.small], xsec="10fb", detector="loose")
    # SR_btag weighs each event by its probability of two b-tags: with four b-jets at 75 %
    # it is 0.95, at 37.5 % 0.53; the other regions do not b-tag
    assert default["yields"]["SR_btag"]["value"] > 0
    ratio = loose["yields"]["SR_btag"]["value"] / default["yields"]["SR_btag"]["value"]
    assert 0.3 < ratio < 0.75
    assert loose["yields"]["SR_loose"] == default["yields"]["SR_loose"]
    assert default["provenance"]["detector"] == {
        "name": "default",
        "path": "detector.json",
        "sha256": sha256_file(bundle / "detector.json"),
    }
    recorded = {
        "name": "loose",
        "path": "detector_loose.json",
        "sha256": sha256_file(bundle / "detector_loose.json"),
    }
    assert loose["provenance"]["detector"] == recorded
    assert loose["provenance"]["artefacts"]["detector_loose.json"] == recorded["sha256"]
    assert "detector.json" not in loose["provenance"]["artefacts"]
    schema.validate(loose, "results", "results")
    # "default" names the bundle's own detector
    again = recast_run(bundle, [gtt.small], xsec="10fb", detector="default")
    assert again["yields"] == default["yields"]


def test_a_detector_file_by_path(bundle: Path, gtt: GttSample, tmp_path: Path) -> None:
    by_name = recast_run(bundle, [gtt.small], xsec="10fb", detector="loose")
    path = bundle / "detector_loose.json"
    by_path = recast_run(bundle, [gtt.small], xsec="10fb", detector=path)
    assert by_path["yields"] == by_name["yields"]
    assert by_path["provenance"]["detector"] == {
        "name": "file",
        "path": str(path),
        "sha256": sha256_file(path),
    }
    verdict = recast_validate(
        bundle, [gtt.small], benchmark="gtt_1200_100", detector=str(path), output=tmp_path / "v"
    )
    assert verdict["provenance"]["detector"]["name"] == "file"
    assert json.loads((tmp_path / "v").read_text())["provenance"]["detector"]["sha256"] == (
        sha256_file(path)
    )


def test_a_bad_detector_file_is_named(bundle: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken_detector.json"
    broken.write_text('{"schema_version": "1.0.0", "name": "x"}')
    with pytest.raises(UsageError, match=r"detector='.*broken_detector.json': not a usable"):
        recast_run(bundle, ["never_read.hepmc"], detector=broken)
    with pytest.raises(UsageError, match=r"detector='missing/detector.json': no such file"):
        recast_run(bundle, ["never_read.hepmc"], detector="missing/detector.json")


def test_an_unknown_name_lists_the_names_before_any_event_is_read(bundle: Path) -> None:
    # the event file does not exist: the detector is checked first
    with pytest.raises(UsageError) as caught:
        recast_run(bundle, ["never_read.hepmc"], detector="lose")
    message = str(caught.value)
    assert "names: default, loose" in message
    assert "Did you mean 'loose'?" in message


def test_the_cli_takes_detector_and_exits_2_on_an_unknown_name(
    bundle: Path, gtt: GttSample, tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["run", str(bundle), str(gtt.small), "--xsec", "10fb"]
    result = runner.invoke(cli, [*base, "--detector", "tight"])
    assert result.exit_code == 2, result.output
    assert "no detector 'tight'" in result.output
    assert "default, loose" in result.output
    output = tmp_path / "results.json"
    result = runner.invoke(
        cli,
        [*base, "--detector", "loose", "-o", str(output)],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["provenance"]["detector"]["name"] == "loose"
    result = runner.invoke(
        cli,
        ["validate", str(bundle), str(gtt.small), "--benchmark", "gtt_1200_100", "--detector", "x"],
    )
    assert result.exit_code == 2, result.output
