"""The columnar HepMC3 parser reads every file exactly as pyhepmc does: whole chunks compared.

Every case reads a file twice, ``parser="columnar"`` (the default) and ``parser="pyhepmc"`` (every
event through HepMC3), and compares the chunks field by field and the readers' metadata. The
files: the HepMC3 files of the shared data, Pythia8 full-history events (several processes and
seeds), the same events rewritten by HepMC3's own writer in MeV and cm with positions,
attributes and several weights, compressed copies, and text the columnar parser must refuse
(which it hands to pyhepmc).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import math
import re
from pathlib import Path
from typing import Any

import awkward as ak
import pyhepmc
import pytest

from recast.errors import EventFileError
from recast.events import hepmc_stream
from recast.events.hepmc import HepMCReader
from recast.events.partition import partition_hepmc

from .conftest import GttSample

TTBAR = ["Beams:eCM = 13000", "Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]
DRELL_YAN = ["Beams:eCM = 13000", "WeakSingleBoson:ffbar2gmZ = on", "PhaseSpace:mHatMin = 60"]


def read(path: Path, parser: str, **options: Any) -> tuple[list[ak.Array], HepMCReader]:
    reader = HepMCReader(path, parser=parser, **options)
    return list(reader), reader


def metadata(reader: HepMCReader) -> dict[str, Any]:
    found = reader.metadata()
    for key in ("cross_section_pb", "cross_section_error_pb"):
        if found[key] is not None and math.isnan(found[key]):
            found[key] = "nan"
    return found


def assert_read_alike(path: Path, **options: Any) -> HepMCReader:
    """The columnar read equals pyhepmc's, chunk by chunk; returns the columnar reader."""
    columnar, fast = read(path, "columnar", **options)
    reference, slow = read(path, "pyhepmc", **options)
    assert [len(c) for c in columnar] == [len(c) for c in reference]
    for mine, theirs in zip(columnar, reference, strict=True):
        assert mine.fields == theirs.fields
        assert ak.array_equal(mine, theirs, equal_nan=True, dtype_exact=True)
    assert metadata(fast) == metadata(slow)
    return fast


def assert_fails_alike(path: Path, **options: Any) -> str:
    with pytest.raises(EventFileError) as columnar:
        read(path, "columnar", **options)
    with pytest.raises(EventFileError) as reference:
        read(path, "pyhepmc", **options)
    assert str(columnar.value) == str(reference.value)
    return str(columnar.value)


@pytest.fixture(scope="module")
def pythia_files(tmp_path_factory: pytest.TempPathFactory, gtt: GttSample) -> list[Path]:
    """Full-history Pythia8 files: the Gtt sample and tt̄ and Drell-Yan at two seeds."""
    pytest.importorskip("pythia8mc")
    from recast.events.pythia import generate_to_hepmc

    folder = tmp_path_factory.mktemp("pythia")
    files = [gtt.first]
    for name, setup, seed in (("ttbar", TTBAR, 11), ("ttbar", TTBAR, 12), ("dy", DRELL_YAN, 13)):
        path = folder / f"{name}_{seed}.hepmc"
        generate_to_hepmc(setup, 12, seed, path)
        files.append(path)
    return files


def rewrite_with_hepmc3(source: Path, target: Path) -> Path:
    """The events of ``source`` written by HepMC3's own writer: MeV and cm, vertex and event
    positions, three named weights, cross-section, PDF and heavy-ion information, particle
    attributes."""
    run = pyhepmc.GenRunInfo()
    run.weight_names = ["nominal", "MUR2", "MUF0.5"]
    run.tools = [("recast-tests", "1", "rewritten by HepMC3")]
    with pyhepmc.open(source) as events, pyhepmc.open(target, "w") as out:
        for i, event in enumerate(events):
            event.run_info = run
            event.weights = [1.0 + i, 0.5, -0.25 * (i + 1)]
            event.set_units(pyhepmc.Units.MEV, pyhepmc.Units.CM)
            for k, vertex in enumerate(event.vertices):
                if k % 3 == 0:
                    vertex.position = pyhepmc.FourVector(0.1 * k, -0.2, 0.3 * i, 0.01 * k)
            pdf = pyhepmc.GenPdfInfo()
            pdf.parton_id1, pdf.parton_id2, pdf.x1, pdf.x2, pdf.scale = 21, 2, 0.1, 0.02, 91.2
            event.pdf_info = pdf
            heavy = pyhepmc.GenHeavyIon()
            heavy.Ncoll = 3
            event.heavy_ion = heavy
            for particle in list(event.particles)[:5]:
                particle.attributes["flow1"] = 501 + particle.id
            xs = pyhepmc.GenCrossSection()
            xs.set_cross_section(12.5 + i, 0.1, 100, 120)
            event.cross_section = xs
            out.write(event)
    return target


def test_the_shared_hepmc3_files(shared_data: Path) -> None:
    folder = shared_data / "hepmc"
    for name in ("hepmc3_inputReaderFactory5.hepmc", "pyhepmc_pythia6.dat", "pyhepmc_sibyll21.dat"):
        reader = assert_read_alike(folder / name)
        assert reader.events_by_parser == {"columnar": reader.n_events, "pyhepmc": 0}, name
    message = assert_fails_alike(folder / "pyhepmc_broken.dat")
    assert "truncated" in message


def test_pythia8_full_history_files(pythia_files: list[Path]) -> None:
    for path in pythia_files:
        reader = assert_read_alike(path, chunk_size=7)
        assert reader.events_by_parser["pyhepmc"] == 0, path.name
        assert reader.n_events > 0


def test_files_of_hepmc3s_own_writer(pythia_files: list[Path], tmp_path: Path) -> None:
    path = rewrite_with_hepmc3(pythia_files[1], tmp_path / "hepmc3.hepmc")
    text = path.read_text()
    assert "U MEV CM" in text and "GenPdfInfo" in text and "flow1" in text and " @ " in text
    reader = assert_read_alike(path)
    assert reader.events_by_parser["pyhepmc"] == 0
    assert reader.weight_names == ("nominal", "MUR2", "MUF0.5")
    assert (reader.momentum_unit, reader.length_unit) == ("MEV", "CM")


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
def test_compressed_files(pythia_files: list[Path], tmp_path: Path, kind: str) -> None:
    data = pythia_files[2].read_bytes()
    path = tmp_path / f"events.hepmc.{kind}"
    if kind == "zstd":
        zstd = pytest.importorskip("backports.zstd")
        path.write_bytes(zstd.compress(data))
    else:
        path.write_bytes({"gzip": gzip, "bzip2": bz2, "xz": lzma}[kind].compress(data))
    reader = assert_read_alike(path)
    assert reader.events_by_parser["pyhepmc"] == 0


def test_small_blocks_and_any_chunk_size(
    pythia_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks smaller than one event, and chunks that cut blocks."""
    whole = ak.concatenate(read(pythia_files[0], "pyhepmc")[0])
    monkeypatch.setattr(hepmc_stream, "BLOCK_SIZE", 4096)
    for chunk_size in (1, 3, 1000):
        chunks, reader = read(pythia_files[0], "columnar", chunk_size=chunk_size)
        assert all(len(c) == chunk_size for c in chunks[:-1])
        assert ak.array_equal(ak.concatenate(chunks), whole, equal_nan=True)
        assert reader.events_by_parser["pyhepmc"] == 0


def test_byte_ranges(pythia_files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hepmc_stream, "BLOCK_SIZE", 1 << 16)
    path = pythia_files[0]
    whole = ak.concatenate(read(path, "pyhepmc")[0])
    parts = [read(path, "columnar", byte_range=r)[0] for r in partition_hepmc(path, 3)]
    assert ak.array_equal(ak.concatenate([c for p in parts for c in p]), whole, equal_nan=True)
    for byte_range in partition_hepmc(path, 3):
        assert_read_alike(path, byte_range=byte_range)


def edit(path: Path, target: Path, event: int, change: Any) -> Path:
    """``path`` with the lines of its ``event``-th event changed by ``change(lines)``."""
    text = path.read_text()
    head, _, rest = text.partition("\nE ")
    events = ("E " + rest).split("\nE ")
    lines = events[event].split("\n")
    events[event] = "\n".join(change(lines))
    target.write_text(head + "\n" + "\nE ".join(events))
    return target


def first_index(lines: list[str], prefix: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(prefix))


DOUBTFUL = {
    "two spaces in a vertex line": lambda ls: [
        ln.replace(" [", "  [", 1) if ln.startswith("V ") else ln for ln in ls
    ],
    "a tab in a particle line": lambda ls: [
        ln.replace(" ", "\t", 1) if i == first_index(ls, "P ") + 3 else ln
        for i, ln in enumerate(ls)
    ],
    "carriage returns": lambda ls: [ln + "\r" for ln in ls],
    "an attribute line after the particles": lambda ls: [*ls[:-1], "A 0 late 1", ls[-1]],
    "an unknown line": lambda ls: [*ls[:3], "X what", *ls[3:]],
    "a weight HepMC3 reads as none": lambda ls: [
        "W nan" if ln.startswith("W ") else ln for ln in ls
    ],
    "an integer written as a decimal": lambda ls: [ln.replace("P 5 ", "P 5.0 ", 1) for ln in ls],
    "an empty line": lambda ls: [*ls[:4], "", *ls[4:]],
}


@pytest.mark.parametrize("case", sorted(DOUBTFUL))
def test_text_the_parser_doubts_goes_to_pyhepmc(
    pythia_files: list[Path], tmp_path: Path, case: str
) -> None:
    path = edit(pythia_files[1], tmp_path / "edited.hepmc", 4, DOUBTFUL[case])
    try:
        reader = assert_read_alike(path, skip_bad=True)
    except EventFileError:  # pyhepmc refuses the whole file: so must the columnar read
        assert_fails_alike(path, skip_bad=True)
        return
    assert reader.events_by_parser["pyhepmc"] > 0


def test_event_positions_and_an_event_line_without_one(
    pythia_files: list[Path], tmp_path: Path
) -> None:
    """Vertices without a position take their event's; an event line without one has none."""
    path = pythia_files[1]
    for event in (2, 5):
        where = f" @ 0.5 -1 2.5e-1 {event}"
        path = edit(path, tmp_path / f"at{event}.hepmc", event,
                    lambda ls, at=where: [ls[0] + at, *ls[1:]])  # fmt: skip
    reader = assert_read_alike(path)
    assert reader.events_by_parser["pyhepmc"] == 0
    chunk = ak.concatenate(read(path, "columnar")[0])
    assert ak.sum(chunk.vertices.t[2] == 2.0) > 10 and ak.sum(chunk.vertices.t[5] == 5.0) > 10
    assert not ak.any(chunk.vertices.t[3] == 2.0)


def test_a_bad_event_is_reported_alike(pythia_files: list[Path], tmp_path: Path) -> None:
    """A particle count that disagrees with the event line, with and without --skip-bad."""

    def drop_a_particle(lines: list[str]) -> list[str]:
        return [ln for i, ln in enumerate(lines) if i != first_index(lines, "P ") + 2]

    path = edit(pythia_files[1], tmp_path / "short.hepmc", 3, drop_a_particle)
    message = assert_fails_alike(path)
    assert "event #4 in the file" in message
    reader = assert_read_alike(path, skip_bad=True)
    assert [b.index for b in reader.bad_events] == [3]


def test_nan_momentum_is_found_in_a_columnar_block(
    pythia_files: list[Path], tmp_path: Path
) -> None:
    def nan_px(lines: list[str]) -> list[str]:
        at = first_index(lines, "P ") + 4
        fields = lines[at].split(" ")
        fields[4] = "nan"
        return [*lines[:at], " ".join(fields), *lines[at + 1 :]]

    path = edit(pythia_files[1], tmp_path / "nan.hepmc", 2, nan_px)
    assert "px = nan" in assert_fails_alike(path)
    reader = assert_read_alike(path, skip_bad=True)
    assert reader.events_by_parser["pyhepmc"] == 0


def test_a_truncated_gzip_stream(pythia_files: list[Path], tmp_path: Path) -> None:
    data = gzip.compress(pythia_files[2].read_bytes())
    path = tmp_path / "cut.hepmc.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    messages = []
    for parser in ("columnar", "pyhepmc"):  # the stream breaks in another step of reading
        with pytest.raises(EventFileError) as failure:
            read(path, parser)
        messages.append(re.sub(r"(read|says) \d+|line is '.*'", "", str(failure.value)))
    assert messages[0] == messages[1]
    assert "the gzip data breaks off here" in messages[0]
    columnar, reader = read(path, "columnar", skip_bad=True)
    reference, _ = read(path, "pyhepmc", skip_bad=True)
    assert ak.array_equal(ak.concatenate(columnar), ak.concatenate(reference), equal_nan=True)
    assert reader.bad_events[-1].reason.startswith("the gzip data breaks off")


def test_a_run_is_the_same_with_either_parser(gtt: GttSample) -> None:
    from recast.pipeline.run import recast_run

    documents = [
        recast_run("EXAMPLE_JETS_MET", [gtt.small], hepmc_parser=parser)
        for parser in ("columnar", "pyhepmc")
    ]
    for key in ("yields", "cutflows"):
        assert documents[0][key] == documents[1][key], key
    assert documents[0]["provenance"]["inputs"] == documents[1]["provenance"]["inputs"]


def test_the_parser_options(gtt: GttSample) -> None:
    from click.testing import CliRunner

    from recast.cli import cli
    from recast.errors import UsageError
    from recast.pipeline.run import recast_run

    runner = CliRunner()
    result = runner.invoke(cli, ["inspect", "--hepmc-parser", "pyhepmc", str(gtt.tiny_a)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["inspect", "--hepmc-parser", "fast", str(gtt.tiny_a)])
    assert result.exit_code == 2 and "'fast' is not one of 'columnar', 'pyhepmc'" in result.output
    with pytest.raises(UsageError, match="hepmc_parser must be one of columnar, pyhepmc"):
        recast_run("EXAMPLE_JETS_MET", [gtt.tiny_a], hepmc_parser="fast")
    with pytest.raises(UsageError, match="parser must be one of columnar, pyhepmc, not 'fast'"):
        HepMCReader(gtt.tiny_a, parser="fast")


def test_an_interrupt_stops_the_reading_and_parsing_threads(
    pythia_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C reaches the caller as KeyboardInterrupt, and no reader thread outlives it."""
    import threading

    from recast.events import hepmc

    monkeypatch.setattr(hepmc_stream, "BLOCK_SIZE", 1 << 14)
    real, calls = hepmc._parse_block, []

    def interrupted(block: Any, n_weights: int | None) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(block, n_weights)

    monkeypatch.setattr(hepmc, "_parse_block", interrupted)
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        for _ in HepMCReader(pythia_files[0], chunk_size=1):
            pass
    assert threading.active_count() == before


@pytest.mark.parametrize("parser", ["columnar", "pyhepmc"])
def test_a_bad_last_event_alone_in_its_chunk_is_logged(
    pythia_files: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture, parser: str
) -> None:
    def drop_a_particle(lines: list[str]) -> list[str]:
        return [ln for i, ln in enumerate(lines) if i != first_index(lines, "P ") + 2]

    path = edit(pythia_files[1], tmp_path / "last.hepmc", 11, drop_a_particle)
    with caplog.at_level("WARNING"):
        chunks, reader = read(path, parser, skip_bad=True, chunk_size=11)
    assert [len(c) for c in chunks] == [11] and [b.index for b in reader.bad_events] == [11]
    assert "skipped" in caplog.text and "event #12 in the file" in caplog.text
