"""Bundles are code, and paths stay inside their folder: the catalogue's bundle cases.

A bundle is named by a shipped id or by an explicit path, never by a folder that happens to be
in the working directory; its code is imported only when every Python file matches the digest
``analysis.json`` records (``code.files``); and every path a document names (bundle
artefacts, ``code.module``, a card's model files, a detector description's maps, a learned
map's card, a scan grid's results, a likelihood's files) stays inside the document's folder
once links are resolved. A refused path is never opened: no digest of it is printed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import py_compile
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recast.analysis.bundle import available, bundles_root, stamp_bundle
from recast.io import sha256_file, write_json

from ..conftest import GttSample
from . import assert_refused, invoke, snapshot

SHIPPED = "EXAMPLE_JETS_MET"
#: a file outside every test folder; its path is what a hostile document names
OUTSIDE = "../../../../../../../../../../etc/passwd"
PASSWD = Path("/etc/passwd")


def _copy(target: Path, source: str = SHIPPED) -> Path:
    shutil.copytree(available()[source], target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _edit(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads((bundle / "analysis.json").read_text())
    change(document)
    write_json(bundle / "analysis.json", document)


def _no_hash_of_outside(message: str) -> None:
    """A refused path is not opened: the digest of the file it names is nowhere."""
    if PASSWD.is_file():
        assert hashlib.sha256(PASSWD.read_bytes()).hexdigest() not in message


def _refused_unread(args: list[str], cwd: Path, words: list[str], **kwargs: Any) -> None:
    """``recast ARGS`` is refused (see :func:`assert_refused`) without opening the file that a
    path leading outside names."""
    _no_hash_of_outside(assert_refused(args, cwd, words, **kwargs).message)


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    """The working directory of a case; an ``outside`` folder beside it holds what a hostile
    bundle points at."""
    (tmp_path / "work").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "work"


@pytest.fixture()
def bundle(work: Path) -> Path:
    """A user's bundle: a copy of the shipped example under another name."""
    return _copy(work / "MY_BUNDLE")


def _marker_code(marker: Path) -> str:
    """Python that leaves a file behind when imported: proof that code ran."""
    return f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"


# -- names: a shipped id or an explicit path ------------------------------------------------
@pytest.mark.parametrize("command", ["run", "check", "validate"])
def test_a_name_both_shipped_and_in_the_working_directory_is_refused(
    work: Path, gtt: GttSample, command: str
) -> None:
    local = _copy(work / SHIPPED)
    (local / "analysis.py").write_text(_marker_code(work.parent / "outside" / "ran"))
    args = {
        "run": ["run", SHIPPED, gtt.tiny_a, "--xsec", "1fb"],
        "check": ["bundle", "check", SHIPPED],
        "validate": ["validate", SHIPPED, gtt.tiny_a, "--benchmark", "gtt_1200_100"],
    }[command]
    refusal = assert_refused(
        args,
        work,
        ["ambiguous", f"./{SHIPPED}", str(available()[SHIPPED]), "shipped"],
        exit_code=2,
        watch=[work.parent / "outside"],
    )
    assert "bundle passes" not in refusal.message


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_bare_name_of_a_folder_in_the_working_directory_is_refused(
    work: Path, bundle: Path, gtt: GttSample, command: str
) -> None:
    args = {
        "run": ["run", "MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb"],
        "check": ["bundle", "check", "MY_BUNDLE"],
    }[command]
    assert_refused(args, work, ["MY_BUNDLE", "./MY_BUNDLE", "shipped"], exit_code=2)


def test_an_explicit_path_without_analysis_json_is_refused(work: Path) -> None:
    (work / "empty").mkdir()
    assert_refused(
        ["bundle", "check", "./empty"], work, ["./empty", "no analysis.json"], exit_code=2
    )


def test_an_explicit_path_runs_the_folder_says_so_and_records_it(
    work: Path, bundle: Path, gtt: GttSample, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Correct behaviour, exit 0: ./NAME is the folder; the import is announced (a WARNING,
    which the CLI prints) and the results carry the folder and the digests of its files."""
    out = tmp_path / "results.json"
    with caplog.at_level(logging.WARNING, logger="recast.analysis.bundle"):
        result = invoke(["run", "./MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb", "-o", out], work)
    assert result.exit_code == 0, result.output
    announced = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"importing the code of bundle MY_BUNDLE from {bundle}" in m for m in announced)
    recorded = json.loads(out.read_text())["provenance"]["bundle"]
    assert recorded["path"] == str(bundle.resolve())
    assert recorded["shipped"] is False
    assert recorded["sha256"] == sha256_file(bundle / "analysis.json")
    assert recorded["files"]["analysis.py"] == sha256_file(bundle / "analysis.py")
    assert recorded["files"]["detector.json"] == sha256_file(bundle / "detector.json")
    # the path in the results is not followed to pick a bundle's code for limits
    assert_refused(
        ["limits", out],
        work,
        [
            str(out),
            "did not run from a shipped or installed bundle",
            "--likelihood PATH",
            str(bundle),
        ],
        exit_code=2,
    )


# -- code: digested, verified before import, inside the bundle ------------------------------
@pytest.mark.parametrize("command", ["run", "check"])
def test_tampered_code_is_not_imported(
    work: Path, bundle: Path, gtt: GttSample, command: str
) -> None:
    marker = work.parent / "outside" / "ran"
    with (bundle / "analysis.py").open("a") as handle:
        handle.write("\n" + _marker_code(marker))
    args = {
        "run": ["run", "./MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb"],
        "check": ["bundle", "check", "./MY_BUNDLE"],
    }[command]
    refusal = assert_refused(
        args,
        work,
        ["analysis.json", "code.files", "analysis.py", "differs", "recast bundle stamp"],
        exit_code=1,
        watch=[work.parent / "outside"],
    )
    assert not marker.exists() and "bundle passes" not in refusal.message


def test_a_planted_bytecode_cache_is_never_run(
    work: Path, bundle: Path, gtt: GttSample, tmp_path: Path
) -> None:
    """Correct behaviour, exit 0: a ``.pyc`` whose header matches analysis.py's size and
    time would be run by Python's own loader instead of the verified source; recast compiles
    the verified bytes, and writes no cache into the bundle."""
    marker = work.parent / "outside" / "ran"
    source = bundle / "analysis.py"
    real, stat = source.read_bytes(), source.stat()
    evil = _marker_code(marker).encode()
    fake = tmp_path / "fake.py"
    fake.write_bytes(evil + b"#" * (len(real) - len(evil) - 1) + b"\n")  # the same size
    os.utime(fake, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time
    cache = Path(importlib.util.cache_from_source(str(source)))
    timestamp = py_compile.PycInvalidationMode.TIMESTAMP  # checked by size and time only
    py_compile.compile(str(fake), str(cache), str(source), True, invalidation_mode=timestamp)
    # the trap is real: Python's own loader runs the planted code
    spec = importlib.util.spec_from_file_location("recast_test_planted", source)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert marker.exists()
    marker.unlink()
    before = snapshot(bundle)
    result = invoke(["run", "./MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb"], work)
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert snapshot(bundle) == before


def _unlisted_python_file(bundle: Path, outside: Path) -> None:
    (bundle / "helpers.py").write_text("X = 1\n")


def _listed_python_file_missing(bundle: Path, outside: Path) -> None:
    (bundle / "make_artefacts.py").unlink()


def _no_code_digests(bundle: Path, outside: Path) -> None:
    """Schema 1.0.0 had no code.files: such a bundle still reads, but does not pass."""

    def downgrade(document: dict[str, Any]) -> None:
        document["schema_version"] = "1.0.0"
        del document["code"]["files"]

    _edit(bundle, downgrade)


def _absolute_code_module(bundle: Path, outside: Path) -> None:
    _edit(bundle, lambda d: d["code"].update(module=str(outside / "x.py")))


def _python_file_linked_from_outside(bundle: Path, outside: Path) -> None:
    (outside / "helpers.py").write_text("X = 1\n")
    (bundle / "helpers.py").symlink_to(outside / "helpers.py")


#: a change to the bundle's code or its declaration → what `recast bundle check` must say
CODE_REFUSALS: dict[str, tuple[Callable[[Path, Path], None], list[str]]] = {
    "a Python file not listed": (
        _unlisted_python_file,
        ["helpers.py", "code.files does not list", "recast bundle stamp"],
    ),
    "a listed Python file missing": (
        _listed_python_file_missing,
        ["code.files lists make_artefacts.py", "does not exist"],
    ),
    "no code digests": (
        _no_code_digests,
        ["code.files", "records no digest", "recast bundle stamp"],
    ),
    "an absolute code module": (_absolute_code_module, ["analysis.json", "code.module"]),
    "a Python file linked from outside": (
        _python_file_linked_from_outside,
        ["helpers.py", "leads outside", "after resolving links"],
    ),
}


@pytest.mark.parametrize("case", CODE_REFUSALS)
def test_code_that_is_not_what_analysis_json_declares_fails_the_check(
    work: Path, bundle: Path, case: str
) -> None:
    change, words = CODE_REFUSALS[case]
    change(bundle, work.parent / "outside")
    assert_refused(
        ["bundle", "check", "./MY_BUNDLE"],
        work,
        words,
        exit_code=1,
        watch=[work.parent / "outside"],
    )


def test_code_module_outside_the_bundle_is_refused(work: Path, bundle: Path) -> None:
    marker = work.parent / "outside" / "ran"
    (work.parent / "outside" / "x.py").write_text(_marker_code(marker))

    def point_outside(document: dict[str, Any]) -> None:
        document["code"]["module"] = "../../outside/x.py"
        document["code"]["files"]["../../outside/x.py"] = sha256_file(
            work.parent / "outside" / "x.py"
        )

    _edit(bundle, point_outside)
    assert_refused(
        ["bundle", "check", "./MY_BUNDLE"],
        work,
        ["analysis.json", "code.module", "../../outside/x.py", "leads outside", "move the file"],
        exit_code=1,
        watch=[work.parent / "outside"],
    )
    assert not marker.exists()


def test_a_card_linked_from_outside_is_refused(work: Path, bundle: Path, gtt: GttSample) -> None:
    """The link's target has the right digest: only where it lives is wrong."""
    card = bundle / "networks" / "signal_mlp.card.json"
    moved = work.parent / "outside" / "signal_mlp.card.json"
    shutil.move(card, moved)
    card.symlink_to(moved)
    assert_refused(
        ["run", "./MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb"],
        work,
        ["networks.signal_mlp.path", "leads outside", "after resolving links"],
        exit_code=1,
        watch=[work.parent / "outside"],
    )


def test_stamp_refuses_a_bundle_whose_artefacts_changed(work: Path, bundle: Path) -> None:
    with (bundle / "detector.json").open("a") as handle:
        handle.write(" ")
    assert_refused(
        ["bundle", "stamp", "./MY_BUNDLE"],
        work,
        ["detector", "detector.json", "modified or replaced"],
        exit_code=1,
    )


def test_stamp_records_an_edit_and_the_bundle_passes_again(work: Path, bundle: Path) -> None:
    with (bundle / "analysis.py").open("a") as handle:
        handle.write("\n# a reviewed edit\n")
    result = invoke(["bundle", "stamp", "./MY_BUNDLE"], work)
    assert result.exit_code == 0, result.output
    assert f"{sha256_file(bundle / 'analysis.py')}  analysis.py" in result.stdout
    document = json.loads((bundle / "analysis.json").read_text())
    assert document["schema_version"] == "1.1.0"
    assert set(document["code"]["files"]) == {"analysis.py", "make_artefacts.py"}
    checked = invoke(["bundle", "check", "./MY_BUNDLE"], work)
    assert checked.exit_code == 0, checked.output
    assert "bundle passes every check" in checked.stdout


def test_the_shipped_bundles_record_every_python_file() -> None:
    for name, folder in available().items():
        document = json.loads((folder / "analysis.json").read_text())
        files = document["code"]["files"]
        on_disk = {
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert set(files) == on_disk, name
        assert all(sha256_file(folder / f) == d for f, d in files.items()), name
    assert bundles_root().is_dir()


# -- every path a bundle's documents name stays inside -----------------------------------
def _escape_artefact(field: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        if field == "detector":
            document["detector"]["path"] = OUTSIDE
        elif field == "networks":
            document["networks"]["signal_mlp"]["path"] = OUTSIDE
        elif field == "cutflows":
            document["cutflows"][0]["path"] = OUTSIDE
        elif field == "detectors":
            document["detectors"] = {
                "loose": {"path": OUTSIDE, "sha256": "0" * 64, "description": "x"}
            }
        elif field == "code.files":
            document["code"]["files"][OUTSIDE] = "0" * 64
        elif field == "likelihood":
            document["likelihood"] = {"regions_file": {"path": OUTSIDE, "sha256": "0" * 64}}

    return change


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ("detector", "detector.path"),
        ("networks", "networks.signal_mlp.path"),
        ("cutflows", "cutflows[0].path"),
        ("detectors", "detectors.loose.path"),
        ("code.files", "code.files"),
        ("likelihood", "likelihood.regions_file.path"),
    ],
)
@pytest.mark.parametrize("command", ["run", "check"])
def test_a_bundle_path_leaving_the_bundle_is_refused_unread(
    work: Path, bundle: Path, gtt: GttSample, field: str, named: str, command: str
) -> None:
    _edit(bundle, _escape_artefact(field))
    args = {
        "run": ["run", "./MY_BUNDLE", gtt.tiny_a, "--xsec", "1fb"],
        "check": ["bundle", "check", "./MY_BUNDLE"],
    }[command]
    _refused_unread(
        args, work, ["analysis.json", named, "etc/passwd", "leads outside"], exit_code=1
    )


def _restamp_detector(bundle: Path) -> None:
    digest = sha256_file(bundle / "detector.json")
    _edit(bundle, lambda d: d["detector"].update(sha256=digest))


def test_a_detector_map_leaving_its_folder_is_refused_unread(work: Path, bundle: Path) -> None:
    detector = json.loads((bundle / "detector.json").read_text())
    detector["objects"]["jets"]["tags"][0]["map"] = OUTSIDE
    write_json(bundle / "detector.json", detector)
    _restamp_detector(bundle)
    _refused_unread(
        ["bundle", "check", "./MY_BUNDLE"],
        work,
        ["detector.json", "objects.jets.tags[0].map", "leads outside"],
        exit_code=1,
    )


def _user_detector_refused(work: Path, gtt: GttSample, name: str, words: list[str]) -> None:
    """A run with the detector description ``name`` (in ``work``) is refused, its file named,
    and nothing outside is read."""
    _refused_unread(
        ["run", SHIPPED, gtt.tiny_a, "--xsec", "1fb", "--detector", f"./{name}"],
        work,
        [name, *words],
        exit_code=2,
    )


def test_a_user_detector_s_map_leaving_its_folder_is_refused(work: Path, gtt: GttSample) -> None:
    """The description is given on the command line; the map it names is still confined."""
    detector = json.loads((bundles_root() / SHIPPED / "detector.json").read_text())
    detector["objects"]["jets"]["tags"][0]["map"] = OUTSIDE
    write_json(work / "mine.json", detector)
    _user_detector_refused(work, gtt, "mine.json", ["objects.jets.tags[0].map", "leads outside"])


def test_a_learned_map_s_card_leaving_its_folder_is_refused(work: Path, gtt: GttSample) -> None:
    demo = bundles_root() / "DEMO_MULTIB_GLUINO"
    maps = work / "maps"
    maps.mkdir()
    learned = json.loads((demo / "maps" / "btag_77_learned.json").read_text())
    learned["network"]["card"] = OUTSIDE
    write_json(maps / "learned.json", learned)
    detector = json.loads((bundles_root() / SHIPPED / "detector.json").read_text())
    tag = detector["objects"]["jets"]["tags"][0]
    tag.update(map="maps/learned.json", sha256=sha256_file(maps / "learned.json"))
    write_json(work / "learned_detector.json", detector)
    _user_detector_refused(
        work, gtt, "learned_detector.json", ["learned.json", "network.card", "leads outside"]
    )


def test_a_card_s_model_file_leaving_its_folder_is_refused_unread(work: Path) -> None:
    source = bundles_root() / SHIPPED / "networks" / "signal_mlp.card.json"
    card = json.loads(source.read_text())
    card["files"][0]["path"] = OUTSIDE
    write_json(work / "net.card.json", card)
    _refused_unread(
        ["card", "check", "net.card.json"],
        work,
        ["net.card.json", "files[0].path", "leads outside"],
        exit_code=1,
    )


def test_a_card_s_model_file_linked_from_outside_is_refused(work: Path) -> None:
    networks = bundles_root() / SHIPPED / "networks"
    shutil.copy(networks / "signal_mlp.card.json", work)
    shutil.copy(networks / "signal_mlp.onnx", work.parent / "outside")
    (work / "signal_mlp.onnx").symlink_to(work.parent / "outside" / "signal_mlp.onnx")
    assert_refused(
        ["card", "check", "signal_mlp.card.json"],
        work,
        ["signal_mlp.card.json", "files[0].path", "after resolving links"],
        exit_code=1,
        watch=[work.parent / "outside"],
    )


def _regions(folder: Path) -> Path:
    table = {
        "signal_regions": [
            {"name": "SR", "observed": 3, "background": 2.0, "background_uncertainty": 0.5}
        ]
    }
    write_json(folder / "regions.json", table)
    return folder / "regions.json"


def test_a_scan_grid_s_results_leaving_its_folder_are_refused_unread(work: Path) -> None:
    _regions(work)
    grid = {
        "schema_version": "1.0.0",
        "parameters": ["m"],
        "points": [{"m": 1000, "results": OUTSIDE}],
    }
    write_json(work / "grid.json", grid)
    _refused_unread(
        ["scan", "./regions.json", "--grid", "grid.json"],
        work,
        ["grid.json", "points[0].results", "leads outside"],
        exit_code=1,
    )


@pytest.mark.parametrize("field", ["regions_file", "workspace"])
def test_a_likelihood_file_leaving_its_folder_is_refused_unread(work: Path, field: str) -> None:
    entry: dict[str, Any] = {"path": OUTSIDE, "sha256": "0" * 64}
    if field == "workspace":
        entry["map"] = {"SR": {"channel": "SR", "bin": 0}}
    write_json(work / "likelihood.json", {"likelihood": {field: entry}})
    grid = {"schema_version": "1.0.0", "parameters": ["m"], "points": [{"m": 1, "yields": {}}]}
    write_json(work / "grid.json", grid)
    _refused_unread(
        ["scan", "./likelihood.json", "--grid", "grid.json"],
        work,
        ["likelihood.json", f"likelihood.{field}.path", "leads outside"],
        exit_code=1,
    )


def test_a_scan_likelihood_named_like_a_shipped_bundle_is_refused(work: Path) -> None:
    shutil.copy(_regions(work), work / SHIPPED)
    write_json(work / "grid.json", {"parameters": ["m"], "points": [{"m": 1, "yields": {}}]})
    assert_refused(
        ["scan", SHIPPED, "--grid", "grid.json"],
        work,
        ["ambiguous", f"./{SHIPPED}", "shipped bundle"],
        exit_code=2,
    )


def test_stamp_api_lists_code_only(tmp_path: Path) -> None:
    folder = _copy(tmp_path / "B")
    assert set(stamp_bundle(folder)) == {"analysis.py", "make_artefacts.py"}


# -- training configs name their samples and outputs inside their folder --------------------
_TRAIN = {
    "efficiency": {"train": {"synthetic": "proximity", "events": 10, "seed": 1, "tag_seed": 2}},
    "surrogate": {"train": {"synthetic": "flavoured", "events": 10, "seed": 1, "score_seed": 2}},
    "filter": {
        "sample": {"synthetic": "decay_tree", "events": 400, "seed": 1},
        "decorrelate": "m_vis",
    },
}


@pytest.mark.parametrize("kind", sorted(_TRAIN))
def test_a_training_output_leaving_the_config_s_folder_is_refused(work: Path, kind: str) -> None:
    """Nothing is trained, and nothing is written outside."""
    pytest.importorskip("torch")
    write_json(work / "train.json", {"output": "../outside/maps", **_TRAIN[kind]})
    assert_refused(
        ["train", kind, "train.json"],
        work,
        ["train.json", "output", "'../outside/maps' leads outside"],
        exit_code=1,
        watch=[work.parent / "outside"],
    )


@pytest.mark.parametrize("kind", ["efficiency", "surrogate"])
def test_a_training_sample_leaving_the_config_s_folder_is_refused(work: Path, kind: str) -> None:
    pytest.importorskip("torch")
    field = {"efficiency": "tag", "surrogate": "score"}[kind]
    sample = {"parquet": OUTSIDE, field: "btag", "weight": "weight"}
    config = {"output": "maps", **_TRAIN[kind], "held_out": [sample]}
    write_json(work / "train.json", config)
    assert_refused(
        ["train", kind, "train.json"],
        work,
        ["train.json", "held_out[0].parquet", "leads outside"],
        exit_code=1,
    )
