"""Outputs: checked before the work starts, never an input, written whole or not at all.

Every command that writes refuses, before reading a single event, an output that is one of
its inputs (also through a symbolic or a hard link), a folder, a device, a place it cannot
write, a plot of an unknown type, or two outputs in one file. A write that fails at the end
(disk full) names the file and the error and leaves nothing. The signal tests start the real
``recast`` in a subprocess and kill it mid-write: the folder must hold no file, hidden or not.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import recast.io
from recast.events.slha import write_gluino_slha

from ..conftest import linear_onnx
from . import assert_refused, invoke, snapshot

SAME = ["same file as the input", "another file name"]
#: the bundle every run case uses; a benchmark of it with a published cutflow
BUNDLE, BENCHMARK = "EXAMPLE_JETS_MET", "gtt_1200_100"


@pytest.fixture
def work(tmp_path: Path, gtt: Any) -> Path:
    """A folder with the inputs of every command: events, an SLHA, a network, tables."""
    shutil.copy(gtt.tiny_a, tmp_path / "events.hepmc")
    write_gluino_slha(tmp_path / "gtt.slha", 1200.0, 100.0, "ttbar")
    (tmp_path / "pythia.cmnd").write_text("Beams:eCM = 13000.\n")
    linear_onnx(tmp_path / "model.onnx", 3)
    (tmp_path / "model_variables.json").write_text(
        json.dumps({"variables": ["a", "b", "c"], "scale": [1, 1, 1], "offset": [0, 0, 0]})
    )
    regions = [{"name": "SR", "observed": 3, "background": 2.5, "background_uncertainty": 0.5}]
    (tmp_path / "regions.json").write_text(json.dumps(regions))
    (tmp_path / "grid.json").write_text("{}")
    (tmp_path / "train.json").write_text("{}")
    (tmp_path / "template.json").write_text(json.dumps({"name": "model"}))
    (tmp_path / "folder").mkdir()
    return tmp_path


RUN = ["run", BUNDLE, "events.hepmc", "--xsec", "1pb"]
IMPORT = ["card", "import", "model.onnx", "--sidecar", "model_variables.json"]
VALIDATE = ["validate", BUNDLE, "events.hepmc", "--benchmark", BENCHMARK]


# -- an output that is one of the inputs -----------------------------------------------------
@pytest.mark.parametrize(
    ("args", "target"),
    [
        (RUN, "events.hepmc"),
        (VALIDATE, "events.hepmc"),
        (["inspect", "events.hepmc"], "events.hepmc"),
        (["cache", "events.hepmc"], "events.hepmc"),
        (["generate", "--slha", "gtt.slha", "--events", "5", "--seed", "1"], "gtt.slha"),
        (["generate", "--settings", "pythia.cmnd", "--events", "5", "--seed", "1"], "pythia.cmnd"),
        (["card", "import", "model.onnx"], "model.onnx"),
        (
            ["card", "import", "model.onnx", "--sidecar", "model_variables.json"],
            "model_variables.json",
        ),
        (["card", "import", "--fold", "model.onnx=0:model_variables.json"], "model.onnx"),
        (["limits", "--regions", "regions.json"], "regions.json"),
        (["scan", BUNDLE, "--grid", "grid.json"], "grid.json"),
        (["train", "efficiency", "train.json"], "train.json"),
        (["train", "surrogate", "train.json"], "train.json"),
        (["train", "filter", "train.json"], "train.json"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_an_output_that_is_an_input_is_refused(work: Path, args: list[str], target: str) -> None:
    refusal = assert_refused([*args, "-o", target], work, [target, "-o/--output", *SAME], 2)
    assert refusal.message.count("error:") == 1


@pytest.mark.parametrize("link", ["symbolic", "hard"])
@pytest.mark.parametrize(
    "args", [RUN, ["inspect", "events.hepmc"], ["cache", "events.hepmc"]], ids=lambda a: a[0]
)
def test_an_output_linked_to_an_input_is_refused(work: Path, args: list[str], link: str) -> None:
    other = work / "other.hepmc"
    if link == "symbolic":
        other.symlink_to("events.hepmc")
    else:
        os.link(work / "events.hepmc", other)
    assert_refused([*args, "-o", "other.hepmc"], work, ["other.hepmc", "events.hepmc", *SAME], 2)


@pytest.mark.parametrize("name", ["bundle/analysis.json", "bundle/cutflows/new.json"])
def test_an_output_inside_the_bundle_is_refused(work: Path, name: str) -> None:
    """The bundle is an input too: a run may neither replace its analysis.json nor add a
    file to it (a results file landed in a shipped bundle's cutflows/ this way)."""
    shutil.copytree(Path(__file__).parents[2] / "analyses" / BUNDLE, work / "bundle")
    assert_refused(
        ["run", "./bundle", "events.hepmc", "-o", name],
        work,
        [name, "inside the input folder", "outside that folder"],
        2,
    )


def test_card_export_into_the_folder_of_its_model_is_refused(work: Path) -> None:
    """`card export` writes NAME.onnx: here the very model it exports."""
    assert_refused(
        ["card", "export", "template.json", "--model", "model.onnx", "-o", "."],
        work,
        ["model.onnx", *SAME],
        2,
    )


# -- an output that is not a writable file ---------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        RUN,
        VALIDATE,
        ["inspect", "events.hepmc"],
        ["cache", "events.hepmc"],
        ["generate", "--slha", "gtt.slha", "--events", "5", "--seed", "1"],
        ["limits", "--regions", "regions.json"],
        ["card", "import", "model.onnx"],
    ],
    ids=lambda a: a[0] if a[0] != "card" else "card import",
)
def test_a_folder_as_output_is_refused(work: Path, args: list[str]) -> None:
    assert_refused(
        [*args, "-o", "folder"], work, ["-o/--output folder", "is a folder", "file name"], 2
    )


def test_card_export_to_a_file_instead_of_a_folder_is_refused(work: Path) -> None:
    assert_refused(
        ["card", "export", "template.json", "--model", "model.onnx", "-o", "regions.json"],
        work,
        ["regions.json", "is a file, and a folder is wanted"],
        2,
    )


@pytest.mark.parametrize("trainer", ["efficiency", "surrogate", "filter"])
def test_a_training_output_folder_that_is_a_file_is_refused(work: Path, trainer: str) -> None:
    """Checked before the training: the study would otherwise be lost at its first file."""
    (work / "train.json").write_text(json.dumps({"output": "events.hepmc"}))
    assert_refused(
        ["train", trainer, "train.json"],
        work,
        ["'output' of train.json", "events.hepmc", "is a file, and a folder is wanted"],
        2,
    )


def test_a_device_as_output_is_refused(work: Path) -> None:
    """An atomic write renames over its target: over /dev/null, as root, it would replace it."""
    before = os.stat("/dev/null")
    assert_refused([*RUN, "-o", "/dev/null"], work, ["/dev/null", "not a regular file", "-"], 2)
    assert os.stat("/dev/null").st_ino == before.st_ino


def test_an_output_below_a_file_is_refused(work: Path) -> None:
    assert_refused(
        ["inspect", "events.hepmc", "-o", "regions.json/summary.json"],
        work,
        ["regions.json/summary.json", "is a file, not a folder"],
        2,
    )


def _chattr(flag: str, folder: Path) -> bool:
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    return subprocess.run([chattr, flag, str(folder)], capture_output=True).returncode == 0


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """A folder nobody may write into: mode 0555, or for root (whom modes do not stop) the
    immutable attribute, which root's writes obey too (CI runs as root)."""
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.access(folder, os.W_OK):
        folder.chmod(0o755)
        immutable = _chattr("+i", folder)
        if not immutable:
            pytest.skip(
                "running as root on a file system without chattr +i: cannot make a "
                "folder root may not write into"
            )
    try:
        yield
    finally:
        if immutable:
            _chattr("-i", folder)
        folder.chmod(0o755)


@pytest.mark.parametrize("args", [RUN, ["cache", "events.hepmc"]], ids=lambda a: a[0])
def test_a_read_only_folder_is_refused_before_the_work(work: Path, args: list[str]) -> None:
    with _read_only(work / "ro"):
        assert_refused([*args, "-o", "ro/out.json"], work, ["ro/out.json", "not writable"], 2)


def test_an_unwritable_folder_is_refused_as_root_too(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a read-only mount tells access(2) (EROFS), which even root cannot write through."""
    real = os.access
    (work / "mounted").mkdir()
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: Path(p).name != "mounted" and real(p, mode, **kw)
    )
    assert_refused(
        [*RUN, "-o", "mounted/results.json"],
        work,
        ["mounted/results.json", "the folder", "is not writable", "folder you can write to"],
        2,
    )


def test_a_full_disk_is_refused_before_the_work(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = os.statvfs_result((4096, 4096, 1000, 0, 0, 100, 0, 0, 0, 255))
    monkeypatch.setattr(os, "statvfs", lambda path: full)
    assert_refused(
        ["cache", "events.hepmc", "-o", "objects.parquet"],
        work,
        ["objects.parquet", "disk", "is full", "free some space"],
        2,
    )


# -- plots -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--plot", "x.txt"], ["--plot x.txt", "'.txt'", ".png", ".pdf"]),
        # it was written as a PNG file named "-"
        (["--plot", "-"], ["--plot -", "not written to stdout", "plot.png"]),
        (
            ["-o", "folder/../v.pdf", "--plot", "v.pdf"],
            ["--plot v.pdf", "same file as -o/--output folder/../v.pdf", "its own name"],
        ),
    ],
    ids=["unknown-type", "stdout", "the-output-file"],
)
@pytest.mark.parametrize(
    "args", [VALIDATE, ["scan", BUNDLE, "--grid", "grid.json"]], ids=lambda a: a[0]
)
def test_a_bad_plot_path_is_refused(
    work: Path, args: list[str], options: list[str], words: list[str]
) -> None:
    assert_refused([*args, *options], work, words, 2)


# -- a write that fails at the end -----------------------------------------------------------
@pytest.fixture
def full_disk(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every atomic write (once the inputs are made) goes to /dev/full: the kernel answers
    ENOSPC to each write."""

    def dev_full(folder: Path) -> int:
        return os.open("/dev/full", os.O_WRONLY | os.O_CLOEXEC)

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(recast.io, "_open_unnamed", dev_full)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["inspect", "events.hepmc", "-o", "summary.json"], id="inspect"),
        pytest.param([*RUN, "-o", "results.json"], id="run"),
        pytest.param(["cache", "events.hepmc", "-o", "objects.parquet"], id="cache"),
        pytest.param([*IMPORT, "-o", "model.card.json"], id="card-import"),
    ],
)
@pytest.mark.usefixtures("full_disk")
def test_a_full_disk_at_the_end_leaves_nothing(work: Path, args: list[str]) -> None:
    target = args[args.index("-o") + 1]
    words = [target, "cannot write", "No space left on device", "ENOSPC", "nothing was written"]
    assert_refused(args, work, words, 2)


@pytest.mark.parametrize("name", ["g.hepmc", "g.hepmc.gz"])
@pytest.mark.usefixtures("full_disk")
def test_a_hepmc_file_on_a_full_disk_leaves_nothing(work: Path, name: str) -> None:
    assert_refused(
        ["generate", "--slha", "gtt.slha", "--events", "5", "--seed", "1", "-o", name],
        work,
        [name, "writing the HepMC3 file failed", "disk full"],
        2,
    )


@pytest.mark.parametrize("name", ["g.hepmc.zip", "g.hepmc.lz4"])
def test_a_compression_generate_cannot_write_is_refused_before_generating(
    work: Path, name: str
) -> None:
    suffix = name.rpartition(".")[2]
    assert_refused(
        ["generate", "--slha", "gtt.slha", "--events", "5", "--seed", "1", "-o", name],
        work,
        [name, f"compressed as '.{suffix}'", ".gz, .bz2, .xz, .zst", "plain text"],
        2,
    )


# -- what is written: permissions, and fine cases --------------------------------------------
def test_every_writer_gives_the_permissions_open_would(work: Path) -> None:
    previous = os.umask(0o022)
    try:
        for args in (
            ["generate", "--slha", "gtt.slha", "--events", "3", "--seed", "1", "-o", "g.hepmc"],
            ["generate", "--slha", "gtt.slha", "--events", "3", "--seed", "1", "-o", "g.hepmc.gz"],
            ["cache", "events.hepmc", "-o", "objects.parquet"],
            ["inspect", "events.hepmc", "-o", "new/summary.json"],
            [*IMPORT, "-o", "model.card.json"],
        ):
            result = invoke(args, work)
            assert result.exit_code == 0, result.output
        written = ("g.hepmc", "g.hepmc.gz", "objects.parquet", "new/summary.json")
        for name in (*written, "model.card.json"):
            assert stat.S_IMODE((work / name).stat().st_mode) == 0o644, name
    finally:
        os.umask(previous)
    assert not [p for p in work.rglob(".*")], "a hidden file was left behind"


def test_stdout_and_a_new_folder_are_fine(work: Path) -> None:
    result = invoke(["limits", "--regions", "regions.json", "-o", "-"], work)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["s95"][0]["region"] == "SR"
    result = invoke(["limits", "--regions", "regions.json", "-o", "a/b/s95.json"], work)
    assert result.exit_code == 0, result.output
    assert json.loads((work / "a/b/s95.json").read_text())["s95"][0]["region"] == "SR"


def test_the_demo_refuses_a_file_as_its_out_folder(work: Path) -> None:
    from recast.demo import main

    before = snapshot(work)
    assert main(["--out", str(work / "regions.json"), "--events", "10"]) == 2
    assert snapshot(work) == before


# -- signals: a subprocess killed mid-write leaves nothing -----------------------------------
#: the recast command line, optionally without O_TMPFILE (the named-temporary-file fallback)
NAMED = "import recast.io as io; io._open_unnamed = lambda folder: None; "
MAIN = "import sys; from recast.cli import main; sys.argv[0] = 'recast'; main()"


def _start(args: list[str], cwd: Path, named: bool) -> subprocess.Popen[bytes]:
    code = (NAMED if named else "") + MAIN
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _writing(process: subprocess.Popen[bytes], folder: Path, named: bool) -> bool:
    """Whether ``process`` holds its output open in ``folder`` (unnamed, or as a hidden file)."""
    if named:
        return any(p.name.startswith(".") for p in folder.iterdir())
    fds = Path(f"/proc/{process.pid}/fd")
    with_links = []
    for fd in list(fds.iterdir()) if fds.is_dir() else []:
        try:
            with_links.append(os.readlink(fd))
        except OSError:
            continue
    return any(link.startswith(f"{folder}/#") for link in with_links)


def _kill_mid_write(args: list[str], folder: Path, number: int, named: bool) -> int:
    """Start ``recast ARGS``, send it signal ``number`` while it writes; its exit code."""
    deadline = time.monotonic() + 60
    with _start(args, folder.parent, named) as process:
        try:
            while not _writing(process, folder, named):
                assert process.poll() is None, process.communicate()[1].decode()
                assert time.monotonic() < deadline, "the output was never opened"
                time.sleep(0.05)
            time.sleep(0.3)  # well into the writing
            assert process.poll() is None, "it finished before the signal: give it more work"
            process.send_signal(number)
            _, stderr = process.communicate(timeout=30)
            if process.returncode != _expected_exit(number):
                print(stderr.decode(errors="replace"))  # shown when the test fails
            return process.returncode
        finally:
            if process.poll() is None:
                process.kill()


#: each scheme under the signals it must survive (SIGKILL: only the unnamed file can)
GENERATE_SIGNALS = [
    pytest.param(signal.SIGKILL, False, id="SIGKILL"),
    pytest.param(signal.SIGTERM, False, id="SIGTERM"),
    pytest.param(signal.SIGINT, False, id="SIGINT"),
    pytest.param(signal.SIGTERM, True, id="SIGTERM-named-fallback"),
]
CACHE_SIGNALS = [
    pytest.param(signal.SIGKILL, False, id="SIGKILL"),
    pytest.param(signal.SIGTERM, True, id="SIGTERM-named-fallback"),
    pytest.param(signal.SIGINT, True, id="SIGINT-named-fallback"),
]


def _expected_exit(number: int) -> int:
    return 130 if number == signal.SIGINT else -number


@pytest.mark.slow
@pytest.mark.parametrize(("number", "named"), GENERATE_SIGNALS)
def test_generate_killed_mid_write_leaves_nothing(tmp_path: Path, number: int, named: bool) -> None:
    slha = write_gluino_slha(tmp_path / "gtt.slha", 1200.0, 100.0, "ttbar")
    out = tmp_path / "out"
    out.mkdir()
    args = ["generate", "--slha", str(slha), "--events", "2000", "--seed", "1", "-o", "out/g.hepmc"]
    assert _kill_mid_write(args, out, number, named) == _expected_exit(number)
    assert list(out.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGKILL])
def test_generate_compressed_killed_mid_write_leaves_nothing(tmp_path: Path, number: int) -> None:
    """Ctrl-C reaches the compressing writer through pyhepmc's stream, which swallows it."""
    slha = write_gluino_slha(tmp_path / "gtt.slha", 1200.0, 100.0, "ttbar")
    out = tmp_path / "out"
    out.mkdir()
    args = ["generate", "--slha", str(slha), "--events", "2000", "--seed", "1", "-o",
            "out/g.hepmc.gz"]  # fmt: skip
    assert _kill_mid_write(args, out, number, False) == _expected_exit(number)
    assert list(out.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(("number", "named"), CACHE_SIGNALS)
def test_cache_killed_mid_write_leaves_nothing(
    tmp_path: Path, gtt: Any, number: int, named: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = ["cache", str(gtt.first), "-o", "out/objects.parquet", "--chunk-size", "5"]
    assert _kill_mid_write(args, out, number, named) == _expected_exit(number)
    assert list(out.iterdir()) == []


def test_the_named_fallback_removes_its_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recast.io, "_open_unnamed", lambda folder: None)
    with pytest.raises(RuntimeError), recast.io.atomic_open(tmp_path / "x.json") as handle:
        handle.write("half")
        raise RuntimeError("the writer failed")
    with recast.io.atomic_open(tmp_path / "y.json") as handle:
        handle.write("{}")
    assert [p.name for p in tmp_path.iterdir()] == ["y.json"]
    assert stat.S_IMODE((tmp_path / "y.json").stat().st_mode) == 0o666 & ~_umask()


def test_a_write_error_in_the_block_names_the_file(tmp_path: Path) -> None:
    from recast.errors import OutputError

    failing = pytest.raises(OutputError, match=r"x\.json: cannot write: No space left on device")
    with failing, recast.io.atomic_open(tmp_path / "x.json") as handle:
        handle.write("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def test_an_unnamed_file_that_cannot_be_linked_is_copied_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where /proc is hidden or linkat(2) refused, the finished work is still not lost."""

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", refused)
    (tmp_path / "x.json").write_text("old")
    with recast.io.atomic_open(tmp_path / "x.json") as handle:
        handle.write("new" * 500_000)
    assert (tmp_path / "x.json").read_text() == "new" * 500_000
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o666 & ~_umask()


def test_an_interrupt_a_library_swallows_still_ends_as_an_interruption() -> None:
    """pyarrow calls back into awkward while it converts a table and turns a Ctrl-C raised in
    the callback into its own ArrowInvalid: the command must still exit 130, not report an
    unexpected failure (seen once in CI in test_cache_killed_mid_write_leaves_nothing)."""
    from recast.commands.group import Interruptions

    with Interruptions() as interruptions:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)  # the handler runs at the next bytecode
        except KeyboardInterrupt:
            pass  # what the library does with it
    assert interruptions.seen
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_file_is_committed_after_a_swallowed_interrupt(tmp_path: Path) -> None:
    """The cache command once ran on to exit 0 after pyarrow swallowed Ctrl-C (in CI): every
    atomic write after such an interrupt is dropped and ends as an interruption."""
    from recast.commands.group import Interruptions

    with Interruptions():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
        except KeyboardInterrupt:
            pass  # swallowed, and the writer runs on
        with pytest.raises(KeyboardInterrupt), recast.io.atomic_open(tmp_path / "x.json") as f:
            f.write("{}")
    assert list(tmp_path.iterdir()) == []
    with Interruptions():  # each invocation starts afresh
        recast.io.write_text(tmp_path / "y.txt", "fine")
    assert (tmp_path / "y.txt").read_text() == "fine"
