"""Bundles as packages: `recast bundle new`, `pack` and `install`, the user bundle folder, and
`recast list` with origins and digests (recast.analysis.packaging).

Every case runs in a temporary RECAST_DATA_DIR. A refused input exits with its code, says so
in one line naming the archive, member or folder and the fix, and writes nothing: the working
folder and the user bundle folder are left as they were.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import tarfile
from pathlib import Path
from typing import Any

import pytest

from recast.analysis.bundle import (
    BundleCheckError,
    BundleNotFoundError,
    available,
    check_bundle,
    list_bundles,
    load_bundle,
    locate,
)
from recast.analysis.packaging import (
    MANIFEST,
    BundleArchiveError,
    BundleExistsError,
    install_bundle,
    installed,
    new_bundle,
    pack_bundle,
    read_archive,
    todo_markers,
    todo_summary,
    user_bundles_root,
)
from recast.errors import BundleNameError, OutputError, UsageError

from .bad_inputs import assert_refused, invoke, snapshot
from .docs_pages import DOCS, console_steps

ID = "MY_SEARCH"
SHIPPED = "EXAMPLE_JETS_MET"
TODOS = [
    "title",
    "experiment",
    "status.reason",
    "regions.SR.description",
    "provenance.analysis_id",
    "provenance.license",
    "provenance.notes",
]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A RECAST_DATA_DIR of this test alone (not yet created)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("RECAST_DATA_DIR", str(folder))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return folder


@pytest.fixture
def work(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder of a case."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def scaffold(work: Path) -> Path:
    return new_bundle(ID, work)


@pytest.fixture
def archive(scaffold: Path, tmp_path: Path) -> Path:
    return pack_bundle(scaffold, tmp_path / f"{ID}.tar.gz").path


def members(path: Path) -> dict[str, bytes | None]:
    """An archive's members: name → content (None for a folder)."""
    with tarfile.open(path, "r:gz") as tar:
        return {
            m.name: (tar.extractfile(m).read() if m.isreg() else None)  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def craft(
    path: Path,
    files: dict[str, bytes],
    *,
    manifest: dict[str, Any] | None = None,
    extra: list[tarfile.TarInfo] = (),  # type: ignore[assignment]
    top: str = ID,
) -> Path:
    """A hand-made archive: ``files`` (names with their top folder), the manifest of the
    files under ``top`` (or ``manifest``), and ``extra`` members without content."""
    if manifest is None:
        manifest = {
            "kind": "recast-nn bundle archive",
            "format": 1,
            "bundle": top,
            "files": {
                name[len(top) + 1 :]: hashlib.sha256(content).hexdigest()
                for name, content in files.items()
                if name.startswith(f"{top}/")
            },
        }
    entries = {f"{top}/{MANIFEST}": json.dumps(manifest).encode(), **files}
    with tarfile.open(path, "w:gz") as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for info in extra:
            tar.addfile(info)
    return path


def bundle_contents(archive: Path) -> dict[str, bytes]:
    """The files of a packed archive, manifest left out."""
    return {
        name: content
        for name, content in members(archive).items()
        if content is not None and not name.endswith(MANIFEST)
    }


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


# -- the user bundle folder ---------------------------------------------------------------
def test_the_user_bundle_folder_follows_recast_data_dir_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path / "mine"))
    assert user_bundles_root() == tmp_path / "mine" / "analyses"
    monkeypatch.delenv("RECAST_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_bundles_root() == tmp_path / "xdg" / "recast-nn" / "analyses"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "recast-nn" / "analyses"
    assert user_bundles_root() == expected
    assert installed() == {}  # no folder yet: nothing installed


# -- the whole cycle ----------------------------------------------------------------------
def test_new_check_pack_install_list_and_run_by_id(
    work: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(["bundle", "new", ID], work)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"./{ID}: new bundle {ID} (UNVALIDATED): README.md, analysis.json, analysis.py"
    )
    assert f"7 TODO markers left: {', '.join(TODOS)}" in result.stdout
    result = invoke(["bundle", "check", f"./{ID}"], work)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"./{ID}: bundle passes every check (2 note(s) above)\n")
    assert f"note  7 TODO markers left: {', '.join(TODOS)}" in result.stdout

    result = invoke(["bundle", "pack", f"./{ID}", "-o", f"{ID}.tar.gz"], work)
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256((work / f"{ID}.tar.gz").read_bytes()).hexdigest()
    assert f"{digest}  {ID}.tar.gz" in result.stdout

    elsewhere = work.parent / "elsewhere"  # a bare id in ./ is refused: run from another folder
    elsewhere.mkdir()
    result = invoke(["bundle", "install", work / f"{ID}.tar.gz"], elsewhere)
    assert result.exit_code == 0, result.output
    target = data / "analyses" / ID
    assert result.stdout.splitlines()[-1] == f"{ID}: installed in {target}"
    assert sorted(p.name for p in target.iterdir()) == [
        MANIFEST,
        "README.md",
        "analysis.json",
        "analysis.py",
    ]
    assert [p.name for p in (data / "analyses").iterdir()] == [ID]  # no staging left
    assert installed() == {ID: target}

    result = invoke(["list"], elsewhere)
    assert result.exit_code == 0, result.output
    cells = _rows(result.stdout)[ID]  # the origin cell folds: its lines joined
    assert cells[6] == f"installed({target})".replace(" ", "")
    rows = {row["id"]: row for row in list_bundles()}
    assert list(rows) == [*available(), ID]
    analysis_sha = hashlib.sha256((target / "analysis.json").read_bytes()).hexdigest()
    assert rows[ID]["origin"] == "installed" and rows[ID]["path"] == str(target.resolve())
    assert rows[ID]["digest"] == analysis_sha[:12]
    assert rows[SHIPPED]["origin"] == "shipped" and len(rows[SHIPPED]["digest"]) == 12
    assert cells[7] == rows[ID]["digest"]

    monkeypatch.chdir(elsewhere)
    bundle = load_bundle(ID)
    assert bundle.folder == target.resolve() and bundle.analysis_class.__name__ == "MySearch"
    assert bundle.regions == {"SR": ["two_jets", "met_100"]} and not bundle.shipped
    assert invoke(["bundle", "check", ID], elsewhere).exit_code == 0
    again = pack_bundle(ID, elsewhere / "again.tar.gz")  # by its installed id
    assert again.path.read_bytes() == (work / f"{ID}.tar.gz").read_bytes()  # round trip

    from recast.events.hepmc_writer import write_hepmc
    from recast.objects import toy_truth_chunk
    from recast.pipeline.run import recast_run

    write_hepmc(toy_truth_chunk(60, seed=1), elsewhere / "toy.hepmc")
    results = recast_run(ID, [elsewhere / "toy.hepmc"], xsec="1pb")
    flow = results["cutflows"]["SR"]
    assert flow["cuts"] == ["initial", "two_jets", "met_100"] and flow["raw"][0] == 60
    assert results["provenance"]["bundle"]["path"] == str(target.resolve())


def test_the_scaffold_passes_its_check_and_lists_its_todo_markers(scaffold: Path) -> None:
    document = json.loads((scaffold / "analysis.json").read_text())
    assert document["id"] == ID and document["status"]["state"] == "UNVALIDATED"
    assert document["status"]["reason"].startswith("TODO")
    assert "cutflows" not in document  # no placeholder results: nothing to validate against
    assert todo_markers(document) == TODOS
    assert todo_summary(document) == f"7 TODO markers left: {', '.join(TODOS)}"
    assert todo_summary({"title": "done"}) is None
    assert todo_markers({"a": [{"b": "x TODO"}, 3, "ok"], "c": {"d": "TODO"}}) == ["a[0].b", "c.d"]
    assert "TODO" in (scaffold / "README.md").read_text()
    checked = check_bundle(scaffold)
    assert checked[-2] == "MySearch: every region's cuts are declared"
    assert document["code"]["files"] == {
        "analysis.py": hashlib.sha256((scaffold / "analysis.py").read_bytes()).hexdigest()
    }
    assert sorted(p.name for p in scaffold.parent.iterdir()) == [ID]  # no staging left


def test_a_new_bundle_goes_into_the_folder_given(work: Path) -> None:
    result = invoke(["bundle", "new", "B2", "-o", "sub/dir"], work)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sub/dir/B2: new bundle B2")
    assert check_bundle(work / "sub" / "dir" / "B2")
    assert json.loads((work / "sub/dir/B2/analysis.json").read_text())["code"]["class"] == "B2"


# -- pack ---------------------------------------------------------------------------------
def test_packing_twice_gives_the_same_bytes(scaffold: Path, tmp_path: Path) -> None:
    (scaffold / ".DS_Store").write_bytes(b"\0")  # hidden files and caches are left out
    (scaffold / ".git").mkdir()
    (scaffold / ".git" / "config").write_text("x")
    (scaffold / "__pycache__").mkdir()
    (scaffold / "__pycache__" / "analysis.cpython-311.pyc").write_bytes(b"\0")
    (scaffold / "cutflows").mkdir()
    (scaffold / "cutflows" / "notes.txt").write_text("a file no document names\n")
    first = pack_bundle(scaffold, tmp_path / "a.tar.gz")
    second = pack_bundle(scaffold, tmp_path / "b.tgz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tgz").read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    with tarfile.open(first.path, "r:gz") as tar:
        infos = tar.getmembers()
    names = [m.name for m in infos]
    assert (
        names
        == sorted(names)
        == [
            ID,
            f"{ID}/{MANIFEST}",
            f"{ID}/README.md",
            f"{ID}/analysis.json",
            f"{ID}/analysis.py",
            f"{ID}/cutflows",
            f"{ID}/cutflows/notes.txt",
        ]
    )
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in infos} == {(0, 0, 0, "", "")}
    assert {m.mode for m in infos if m.isreg()} == {0o644}
    assert first.path.read_bytes()[4:8] == b"\0\0\0\0"  # no time in the gzip header
    manifest = json.loads(members(first.path)[f"{ID}/{MANIFEST}"] or b"")
    assert manifest == first.manifest == read_archive(first.path)
    assert manifest["bundle"] == ID and manifest["status"] == "UNVALIDATED"
    assert manifest["summary"]["files"] == 4 == len(manifest["files"])
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((scaffold / relative).read_bytes()).hexdigest() == digest
    assert manifest["analysis_sha256"] == manifest["files"]["analysis.json"]


def test_source_date_epoch_sets_every_time(
    scaffold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    packed = pack_bundle(scaffold, tmp_path / "a.tar.gz")
    with tarfile.open(packed.path, "r:gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1_700_000_000}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH='yesterday'"):
        pack_bundle(scaffold, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


# -- install ------------------------------------------------------------------------------
def test_install_from_a_folder_and_replace(scaffold: Path, data: Path, tmp_path: Path) -> None:
    done = install_bundle(scaffold)
    target = data / "analyses" / ID
    assert done.folder == target and not done.replaced and done.files == 3
    assert not (target / MANIFEST).exists()  # a folder has none
    with pytest.raises(BundleExistsError, match=r"already installed .*--replace"):
        install_bundle(scaffold)
    (scaffold / "analysis.py").write_text(
        (scaffold / "analysis.py").read_text() + "\n# version 2\n"
    )
    with pytest.raises(BundleCheckError, match="not installed, the bundle fails") as caught:
        install_bundle(scaffold, replace=True)  # not stamped: the check of the copy fails
    assert f"recast bundle stamp {scaffold}`" in str(caught.value)  # the source, not the copy
    assert "version 2" not in (target / "analysis.py").read_text()
    invoke(["bundle", "stamp", scaffold], scaffold.parent)
    archive = pack_bundle(scaffold, tmp_path / "v2.tar.gz").path
    result = invoke(["bundle", "install", archive, "--replace"], tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{ID}: replaced in {target}"
    assert "version 2" in (target / "analysis.py").read_text()
    assert [p.name for p in (data / "analyses").iterdir()] == [ID]  # the old one is gone


def test_install_sweeps_what_a_killed_install_left(scaffold: Path, data: Path) -> None:
    """SIGKILL mid-install leaves a hidden staging folder; the next install removes it once
    it is a day old (a recent one may be an install running now)."""
    import os
    import time

    root = data / "analyses"
    (root / ".install-killed" / ID).mkdir(parents=True)
    (root / ".install-running").mkdir()
    old = time.time() - 2 * 24 * 3600
    os.utime(root / ".install-killed", (old, old))
    install_bundle(scaffold)
    assert sorted(p.name for p in root.iterdir()) == [".install-running", ID]


def test_replace_without_an_atomic_exchange(
    scaffold: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where renameat2 is missing, two renames replace the folder."""
    from recast.analysis import packaging

    install_bundle(scaffold)
    monkeypatch.setattr(packaging, "_exchange", lambda a, b: False)
    assert install_bundle(scaffold, replace=True).replaced
    assert [p.name for p in (data / "analyses").iterdir()] == [ID]
    assert check_bundle(data / "analyses" / ID)


def test_an_installed_id_is_named_in_lookups(scaffold: Path, data: Path) -> None:
    install_bundle(scaffold)
    target = data / "analyses" / ID
    with pytest.raises(BundleNameError, match=f"ambiguous: it is the installed bundle {target}"):
        locate(ID)  # ./MY_SEARCH is in the working directory too
    assert locate(f"./{ID}") == Path(ID)
    with pytest.raises(BundleNotFoundError) as caught:
        locate("NO_SUCH")
    message = str(caught.value)
    assert message.startswith(
        "no analysis bundle 'NO_SUCH': not a shipped bundle (shipped bundles: "
        + ", ".join(available())
    )  # as tests/test_bundle_page.py pins it
    assert f"installed in {data / 'analyses'}: {ID}" in message
    with pytest.raises(BundleNotFoundError, match="Did you mean 'MY_SEARCH'"):
        locate("MY_SEARC")


# -- refused: new and pack ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["my_search"], 2, ["'my_search' is not a bundle id", "^[A-Z][A-Z0-9_]*$", "MY_SEARCH"]),
        (["1ST"], 2, ["'1ST' is not a bundle id", "starting with a letter"]),
        (["MY-SEARCH"], 2, ["'MY-SEARCH' is not a bundle id", "e.g. MY_SEARCH"]),
        ([SHIPPED], 2, [f"{SHIPPED} is the id of a shipped bundle", "another id"]),
        (["OLD"], 2, ["OLD: exists", "never touches an existing one", "another id"]),
        (["NEW", "-o", "afile"], 2, ["afile/NEW", "is a file, not a folder"]),
    ],
    ids=["lowercase", "digit first", "dash", "shipped id", "existing folder", "parent a file"],
)
def test_bundle_new_refuses(work: Path, args: list[str], code: int, words: list[str]) -> None:
    (work / "OLD").mkdir()
    (work / "OLD" / "keep.txt").write_text("mine\n")
    (work / "afile").write_text("a file\n")
    refusal = assert_refused(["bundle", "new", *args], work, words, exit_code=code)
    assert len(refusal.result.stderr.strip().splitlines()) == 1


def test_bundle_new_raises_typed_errors(work: Path) -> None:
    with pytest.raises(UsageError):
        new_bundle("bad id")
    (work / "TAKEN").write_text("")
    with pytest.raises(OutputError):
        new_bundle("TAKEN")
    with pytest.raises(BundleNameError):
        new_bundle(SHIPPED)


def test_pack_refuses_a_bundle_that_fails_its_check(scaffold: Path, work: Path) -> None:
    with open(scaffold / "analysis.py", "a") as handle:
        handle.write("# an edit nobody stamped\n")
    refusal = assert_refused(
        ["bundle", "pack", f"./{ID}", "-o", "out.tar.gz"],
        work,
        [f"{ID}/analysis.json: not packed, the bundle fails `recast bundle check`", "stamp"],
        exit_code=1,
    )
    assert refusal.result.stderr.startswith("error: ") and not (work / "out.tar.gz").exists()


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("out.zip", ["out.zip", "give a name ending in .tar.gz"]),
        ("-", ["-o/--output -", "ending in .tar.gz"]),
        (f"{ID}/inside.tar.gz", ["inside.tar.gz", "lies inside the input folder"]),
    ],
    ids=["not tar.gz", "stdout", "inside the bundle"],
)
def test_pack_refuses_an_output(scaffold: Path, work: Path, output: str, words: list[str]) -> None:
    assert_refused(["bundle", "pack", f"./{ID}", "-o", output], work, words, exit_code=2)


def test_pack_refuses_a_symbolic_link_in_the_bundle(scaffold: Path, work: Path) -> None:
    (work / "elsewhere.txt").write_text("outside\n")
    (scaffold / "notes.txt").symlink_to(work / "elsewhere.txt")
    assert_refused(
        ["bundle", "pack", f"./{ID}", "-o", "out.tar.gz"],
        work,
        ["notes.txt: a symbolic link", "replace the link"],
        exit_code=2,
    )


# -- refused: install ---------------------------------------------------------------------
BAD_ARCHIVES: list[tuple[str, int, list[str]]] = [
    ("path escape", 1, [f"member '{ID}/../evil.py'", "leads outside its folder",
                        "recast bundle pack"]),
    ("absolute path", 1, ["member '/tmp/evil.py'", "has an absolute path"]),
    ("symbolic link", 1, [f"member '{ID}/link'", "is a symbolic link (to '/etc/passwd')"]),
    ("hard link", 1, [f"member '{ID}/hard'", "is a hard link"]),
    ("device", 1, [f"member '{ID}/dev'", "is a device"]),
    ("hidden file", 1, [f"member '{ID}/.hidden.py'", "hidden file or a cache"]),
    ("digest mismatch", 1, [f"member '{ID}/analysis.py' has sha256",
                            f"{ID}/MANIFEST.json records", "changed after it was packed",
                            "re-pack"]),
    ("unlisted file", 1, [f"member '{ID}/extra.py'", "is not listed in", "re-pack"]),
    ("listed file missing", 1, [f"{ID}/MANIFEST.json lists {ID}/README.md", "does not hold"]),
    ("two top folders", 1, ["holds 2 top folders (MY_SEARCH, OTHER)",
                            "pack each bundle on its own"]),
    ("no manifest", 1, [f"has no {ID}/MANIFEST.json", "recast bundle pack"]),
    ("manifest of another bundle", 1, [f"{ID}/MANIFEST.json: bundle is 'OTHER'"]),
    ("not gzip", 1, ["not a gzip-compressed tar archive", "recast bundle pack"]),
    ("truncated", 1, ["truncated or corrupt", "fetch the archive again"]),
    ("id differs from folder", 1, [f"its folder {ID} holds the bundle 'OTHER'", "re-pack"]),
    ("fails its check", 1, ["not installed, the bundle fails `recast bundle check`",
                            "code.files", "stamp ./MY_SEARCH", "pack it again"]),
    ("shipped id", 2, [f"{SHIPPED} is the id of a shipped bundle", "another id"]),
    ("already installed", 2, [f"bundle {ID} is already installed", "--replace"]),
    ("missing", 2, ["nothing.tar.gz: no such file or folder"]),
]  # fmt: skip


def _bad_archive(case: str, good: Path, folder: Path) -> Path:
    """The archive of ``case``, made from the good archive of the scaffold."""
    bad = folder / "bad.tar.gz"
    files = bundle_contents(good)
    code = files[f"{ID}/analysis.py"]
    if case == "path escape":
        return craft(bad, {**files, f"{ID}/../evil.py": b"x = 1\n"})
    if case == "absolute path":
        return craft(bad, {**files, "/tmp/evil.py": b"x = 1\n"})
    if case == "symbolic link":
        return craft(bad, files, extra=[special(f"{ID}/link", tarfile.SYMTYPE, "/etc/passwd")])
    if case == "hard link":
        return craft(bad, files, extra=[special(f"{ID}/hard", tarfile.LNKTYPE, "/etc/passwd")])
    if case == "device":
        return craft(bad, files, extra=[special(f"{ID}/dev", tarfile.CHRTYPE)])
    if case == "hidden file":
        return craft(bad, {**files, f"{ID}/.hidden.py": b"x = 1\n"})
    if case == "digest mismatch":
        return _tamper_copy(good, bad)
    if case == "unlisted file":
        manifest = json.loads(members(good)[f"{ID}/{MANIFEST}"] or b"")
        return craft(bad, {**files, f"{ID}/extra.py": b"x = 1\n"}, manifest=manifest)
    if case == "listed file missing":
        manifest = json.loads(members(good)[f"{ID}/{MANIFEST}"] or b"")
        kept = {k: v for k, v in files.items() if not k.endswith("README.md")}
        return craft(bad, kept, manifest=manifest)
    if case == "two top folders":
        return craft(bad, {**files, "OTHER/analysis.json": b"{}"})
    if case == "no manifest":
        with tarfile.open(bad, "w:gz") as tar:
            for name, content in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        return bad
    if case == "manifest of another bundle":
        manifest = json.loads(members(good)[f"{ID}/{MANIFEST}"] or b"")
        return craft(bad, files, manifest={**manifest, "bundle": "OTHER"})
    if case == "not gzip":
        bad.write_bytes(b"plain text, not an archive\n")
        return bad
    if case == "truncated":
        content = good.read_bytes()
        bad.write_bytes(content[: len(content) // 2])
        return bad
    if case == "id differs from folder":
        document = json.loads(files[f"{ID}/analysis.json"])
        document["id"] = "OTHER"
        return craft(bad, {**files, f"{ID}/analysis.json": json.dumps(document).encode()})
    if case == "fails its check":
        return craft(bad, {**files, f"{ID}/analysis.py": code + b"# unstamped\n"})
    if case == "shipped id":
        renamed = {n.replace(ID, SHIPPED, 1): c for n, c in files.items()}
        return craft(bad, renamed, top=SHIPPED)
    if case == "already installed":
        install_bundle(good)
        return good
    if case == "missing":
        return folder / "nothing.tar.gz"
    raise AssertionError(case)


def _tamper_copy(good: Path, bad: Path) -> Path:
    """The good archive with its code changed but its manifest kept."""
    manifest = json.loads(members(good)[f"{ID}/{MANIFEST}"] or b"")
    files = bundle_contents(good)
    files[f"{ID}/analysis.py"] += b"import os  # added after packing\n"
    return craft(bad, files, manifest=manifest)


@pytest.mark.parametrize(("case", "code", "words"), BAD_ARCHIVES, ids=[c[0] for c in BAD_ARCHIVES])
def test_install_refuses_a_bad_archive_and_installs_nothing(
    archive: Path, work: Path, data: Path, case: str, code: int, words: list[str]
) -> None:
    incoming = work.parent / "incoming"
    incoming.mkdir()
    bad = _bad_archive(case, archive, incoming)
    before = snapshot(data)
    refusal = assert_refused(
        ["bundle", "install", bad], work, [str(bad), *words], exit_code=code, watch=[incoming]
    )
    assert snapshot(data) == before  # the user bundle folder as it was (or still absent)
    errors = [line for line in refusal.result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, refusal.result.stderr
    if case != "fails its check":  # which lists the check's problems below its line
        assert len(refusal.result.stderr.strip().splitlines()) == 1, refusal.result.stderr
    if case in ("path escape", "absolute path"):
        assert not (data / "evil.py").exists() and not Path("/tmp/evil.py").exists()


def test_read_archive_raises_typed_errors(archive: Path, tmp_path: Path) -> None:
    assert read_archive(archive)["bundle"] == ID
    with pytest.raises(BundleArchiveError, match="symbolic link"):
        read_archive(
            craft(
                tmp_path / "x.tar.gz",
                bundle_contents(archive),
                extra=[special(f"{ID}/l", tarfile.SYMTYPE, "../../x")],
            )
        )


def test_a_failed_install_removes_the_folders_it_made(archive: Path, data: Path) -> None:
    assert not data.exists()
    bad = craft(
        archive.with_name("bad.tar.gz"),
        {
            **bundle_contents(archive),
            f"{ID}/analysis.py": bundle_contents(archive)[f"{ID}/analysis.py"] + b"#\n",
        },
    )
    with pytest.raises(BundleCheckError):
        install_bundle(bad)
    assert not data.exists()  # neither the data folder nor analyses/ is left behind


# -- docs/bundles.md ----------------------------------------------------------------------
PAGE = DOCS / "bundles.md"


def _transcript() -> list[tuple[str, list[str]]]:
    """The sharing example's commands and what the page shows each prints."""
    block = re.search(r"<!-- example: sharing -->\n```console\n(.*?)```", PAGE.read_text(), re.S)
    assert block is not None
    return console_steps(block.group(1))


def _pattern(text: str, data: Path) -> str:
    """A regex of the page's text: DATA the data folder, SHA256 and DIGEST digests."""
    return (
        re.escape(text)
        .replace("DATA", re.escape(str(data)))
        .replace("SHA256", "[0-9a-f]{64}")
        .replace("DIGEST", "[0-9a-f]{12}")
    )


def _rows(table: str) -> dict[str, list[str]]:
    """The rows of a printed table by id: each cell's text with its folded lines joined and
    every space removed (a cell folds differently with the width of the data folder)."""
    rows: dict[str, list[str]] = {}
    current: list[str] = []
    for line in table.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0]:
            current = ["" for _ in cells]
            rows[cells[0]] = current
        for i, cell in enumerate(cells):
            current[i] += cell.replace(" ", "")
    return rows


def test_the_sharing_example_prints_what_the_page_says(
    work: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _transcript()
    assert steps[0][0] == 'export RECAST_DATA_DIR="$(mktemp -d)"'  # the `data` fixture
    ran = []
    for command, shown in steps[1:]:
        args = shlex.split(command)
        assert args[0] == "recast"
        result = invoke(args[1:], work)
        assert result.exit_code == 0, f"{command}:\n{result.output}"
        ran.append(args[1])
        if args[1] != "list":
            expected = _pattern("\n".join(shown), data)
            assert re.fullmatch(expected, result.stdout.rstrip("\n")), (
                f"{command}:\n{result.stdout}"
            )
            continue
        printed, page = _rows(result.stdout), _rows("\n".join(shown))
        assert list(printed) == [*available(), "MY_NEW_SEARCH"]
        for bundle_id, cells in page.items():
            if bundle_id == "…":  # the shipped bundles
                continue
            for got, want in zip(printed[bundle_id], cells, strict=True):
                assert re.fullmatch(_pattern(want, data), got), (got, want)
    assert ran == ["bundle", "bundle", "bundle", "bundle", "list"]
