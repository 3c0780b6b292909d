"""Reading HepMC3 files: values, units, history, chunking, every kind of bad file, inspect."""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma
import re
import runpy
from pathlib import Path

import awkward as ak
import numpy as np
import pyhepmc
import pytest
from pyhepmc import GenCrossSection, GenEvent, GenParticle, GenRunInfo, GenVertex, Units
from rich.console import Console

from recast.errors import EventFileError, UsageError
from recast.events.hepmc import HepMCReader, read_hepmc
from recast.events.inspect import inspect_file, inspect_table

WEIGHT_NAMES = ["nominal", "MUR2_MUF2"]
#: (pid, status, momentum (px, py, pz) and mass in GeV at scale 1): beams → Z' + gluon;
#: Z' → t t̄ at a displaced vertex; t → b W+ (vertex without position); W+ → μ+ ν; t̄ → b̄ W-
PARTICLES = {
    "beam1": (2212, 4, (0, 0, 6500), 0.938),
    "beam2": (2212, 4, (0, 0, -6500), 0.938),
    "zprime": (32, 22, (10, 5, 100), 1000),
    "gluon": (21, 1, (-10, -5, 30), 0),
    "top": (6, 22, (200, 100, 80), 173),
    "antitop": (-6, 22, (-190, -95, 20), 173),
    "b": (5, 1, (50, 20, 10), 4.8),
    "wplus": (24, 22, (150, 80, 70), 80.4),
    "muon": (-13, 1, (100, 30, 50), 0.1057),
    "neutrino": (14, 1, (50, 50, 20), 0),
    "bbar": (-5, 1, (-90, -45, 10), 4.8),
    "wminus": (-24, 1, (-100, -50, 10), 80.4),
}
#: vertex: (incoming, outgoing, position in cm or None)
DECAYS = [
    (("beam1", "beam2"), ("zprime", "gluon"), None),
    (("zprime",), ("top", "antitop"), "displaced"),
    (("top",), ("b", "wplus"), None),
    (("wplus",), ("muon", "neutrino"), "w"),
    (("antitop",), ("bbar", "wminus"), None),
]
PARENTS = {child: set(ins) for ins, outs, _ in DECAYS for child in outs}


def scale(i: int) -> float:
    return 1.0 + 0.1 * i


def nominal_weight(i: int) -> float:
    return (-1.0 if i % 3 == 1 else 1.0) * (0.5 + i)  # NLO-like: some negative


def vertex_position(kind: str | None, i: int) -> tuple[float, float, float, float] | None:
    """Positions in cm: the Z' vertex moves with i (x = 0 for i = 0: only all-zero is unset)."""
    return {"displaced": (0.1 * i, 0.2, 0.3, 0.4), "w": (1.0, 2.0, 3.0, 4.0 + i)}.get(kind or "")


def build_event(run: GenRunInfo, i: int) -> GenEvent:
    """Event ``i`` in MeV and cm, numbered 100 + i, two weights, a cross-section."""
    event = GenEvent(run, Units.MEV, Units.CM)
    event.event_number = 100 + i
    s = scale(i)
    made = {}
    for name, (pid, status, (px, py, pz), m) in PARTICLES.items():
        energy = np.sqrt(px**2 + py**2 + pz**2 + m**2)
        particle = GenParticle(
            (px * 1e3 * s, py * 1e3 * s, pz * 1e3 * s, energy * 1e3 * s), pid, status
        )
        particle.generated_mass = m * 1e3 * s
        made[name] = particle
    for ins, outs, kind in DECAYS:
        position = vertex_position(kind, i)
        vertex = GenVertex(position) if position else GenVertex()
        for name in ins:
            vertex.add_particle_in(made[name])
        for name in outs:
            vertex.add_particle_out(made[name])
        event.add_vertex(vertex)
    event.weights = [nominal_weight(i), 0.25 * (1 + i)]
    xs = GenCrossSection()
    xs.set_cross_section(12.3 + i, 0.1 * (1 + i))
    event.cross_section = xs
    return event


def write_sample(path: Path, n_events: int = 4) -> Path:
    """A HepMC3 file written by pyhepmc's own writer (plain or compressed by its suffix)."""
    run = GenRunInfo()
    run.weight_names = WEIGHT_NAMES
    run.tools = [("recast-tests", "1", "hand-made decay chain")]
    with pyhepmc.open(path, "w") as handle:
        for i in range(n_events):
            handle.write(build_event(run, i))
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "sample.hepmc")


def read_all(path: Path, **options: object) -> ak.Array:
    return ak.concatenate(list(HepMCReader(path, **options)))  # type: ignore[arg-type]


def event_blocks(text: str) -> tuple[str, list[str], str]:
    """(header, one text per event, footer) of a HepMC3 file's text."""
    header, _, rest = text.partition("\nE ")
    body, _, footer = ("E " + rest).rpartition("HepMC::Asciiv3-END")
    events = re.split(r"(?m)^(?=E )", body)
    return header + "\n", [e for e in events if e], "HepMC::Asciiv3-END" + footer


# -- what is read -------------------------------------------------------------------------------


def test_values_units_weights_and_cross_sections(sample: Path) -> None:
    events = read_all(sample)
    assert len(events) == 4
    assert events.event_number.tolist() == [100, 101, 102, 103]
    assert ak.num(events.particles).tolist() == [12] * 4
    assert ak.num(events.vertices).tolist() == [5] * 4
    names = list(PARTICLES)
    for i in range(4):
        particles = events.particles[i]
        for k, name in enumerate(names):  # written in MeV, read in GeV
            pid, status, (px, py, pz), m = PARTICLES[name]
            assert particles.pid[k] == pid and particles.status[k] == status
            assert [particles.px[k], particles.py[k], particles.pz[k]] == pytest.approx(
                [px * scale(i), py * scale(i), pz * scale(i)], rel=1e-12, abs=1e-12
            )
            assert particles.generated_mass[k] == pytest.approx(m * scale(i), rel=1e-12)
    # every weight by name, the first one is the nominal, negative ones stay negative
    assert events.weights.fields == WEIGHT_NAMES
    assert events.weight.tolist() == pytest.approx([nominal_weight(i) for i in range(4)])
    assert events.weights.MUR2_MUF2.tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert events.weight[1] == pytest.approx(-1.5)
    assert events.cross_section.tolist() == pytest.approx([12.3, 13.3, 14.3, 15.3])
    assert events.cross_section_error.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    # vector behaviours: E and |p| give back the mass that was written
    assert ak.all(abs(events.particles.mass - events.particles.generated_mass) < 1e-4)


def test_metadata(sample: Path) -> None:
    reader = HepMCReader(sample)
    assert sum(len(chunk) for chunk in reader) == 4
    assert reader.n_events == 4 and reader.n_bad == 0 and reader.bad_events == []
    assert reader.weight_names == tuple(WEIGHT_NAMES)
    assert (reader.momentum_unit, reader.length_unit) == ("MEV", "CM")
    assert reader.writer_version == pyhepmc_writer_version(sample)
    assert (reader.cross_section, reader.cross_section_error) == pytest.approx((15.3, 0.4))
    assert reader.complete
    meta = json.loads(json.dumps(reader.metadata(), allow_nan=False))  # JSON as it stands
    assert meta["events"] == 4 and meta["weight_names"] == WEIGHT_NAMES


def pyhepmc_writer_version(path: Path) -> str:
    return path.read_text().splitlines()[0].split()[1]


def test_parents_and_children_from_vertex_indices_equal_the_written_ones(sample: Path) -> None:
    events = read_all(sample, chunk_size=3)
    names = {pid: name for name, (pid, *_) in PARTICLES.items() if name != "beam2"}
    for event in events.particles:
        pids = event.pid.tolist()
        label = [names[p] if p != 2212 else f"beam{pids[: k + 1].count(2212)}"
                 for k, p in enumerate(pids)]  # fmt: skip
        production, end = event.production_vertex.tolist(), event.end_vertex.tolist()
        for k, name in enumerate(label):
            parents = {label[j] for j in range(len(label)) if production[k] >= 0
                       and end[j] == production[k]}  # fmt: skip
            children = {label[j] for j in range(len(label)) if end[k] >= 0
                        and production[j] == end[k]}  # fmt: skip
            assert parents == PARENTS.get(name, set()), name
            assert children == {c for c, ps in PARENTS.items() if name in ps}, name


def test_vertex_positions_are_hepmc3s_in_mm(sample: Path) -> None:
    """Unset positions inherit from the parent's production vertex, as GenVertex.position."""
    events = read_all(sample)
    with pyhepmc.open(sample) as handle:
        for i, event in enumerate(handle):
            expected = [[v.position.x, v.position.y, v.position.z, v.position.t]
                        for v in event.vertices]  # fmt: skip
            got = [[v["x"], v["y"], v["z"], v["t"]] for v in events.vertices[i].to_list()]
            assert np.allclose(got, np.array(expected) * 10.0, rtol=1e-12)  # cm → mm
            # the t → b W+ vertex has no position of its own: it sits where the top was made
            assert got[2] == pytest.approx([10.0 * x for x in vertex_position("displaced", i)])


def test_agrees_with_pyhepmc_on_a_real_file(shared_data: Path) -> None:
    path = shared_data / "hepmc" / "hepmc3_inputReaderFactory5.hepmc"
    events = read_all(path, chunk_size=4)
    with pyhepmc.open(path) as handle:
        for i, event in enumerate(handle):
            view = event.numpy.particles
            mine = events.particles[i]
            assert mine.pid.tolist() == view.pid.tolist()
            assert np.array_equal(ak.to_numpy(mine.E), view.e)
            assert np.array_equal(ak.to_numpy(mine.generated_mass), view.generated_mass)
            production = [p.production_vertex.id if p.production_vertex else 0
                          for p in event.particles]  # fmt: skip
            end = [p.end_vertex.id if p.end_vertex else 0 for p in event.particles]
            assert mine.production_vertex.tolist() == [-v - 1 if v < 0 else -1 for v in production]
            assert mine.end_vertex.tolist() == [-v - 1 if v < 0 else -1 for v in end]
            assert events.weight[i] == event.weight()
            assert events.cross_section[i] == pytest.approx(event.cross_section.xsec())


def test_chunk_boundaries_do_not_matter(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "many.hepmc", n_events=23)
    reference = read_all(path, chunk_size=1000)
    for size in (1, 7, 1000):
        chunks = list(HepMCReader(path, chunk_size=size))
        assert [len(c) for c in chunks] == [size] * (23 // size) + (
            [23 % size] if 23 % size else []
        )
        joined = ak.concatenate(chunks)
        assert ak.array_equal(joined, reference, check_parameters=True)
        assert joined.type == reference.type


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_files_read_like_plain_ones(
    sample: Path, tmp_path: Path, suffix: str, compress: object
) -> None:
    packed = tmp_path / f"sample.hepmc{suffix}"
    packed.write_bytes(compress(sample.read_bytes()))  # type: ignore[operator]
    assert ak.array_equal(read_all(packed, chunk_size=3), read_all(sample))
    renamed = tmp_path / "no_suffix.hepmc"  # recognised by its bytes, not its name
    renamed.write_bytes(packed.read_bytes())
    assert len(read_all(renamed)) == 4
    assert inspect_file(renamed)["compression"] == {".gz": "gzip", ".bz2": "bzip2"}.get(
        suffix, "xz"
    )


def test_a_file_without_weights_counts_each_event_once(shared_data: Path) -> None:
    reader = HepMCReader(shared_data / "hepmc" / "pyhepmc_sibyll21.dat")
    events = ak.concatenate(list(reader))
    assert reader.weight_names == ()
    assert events.weight.tolist() == [1.0] and events.weights.fields == ["nominal"]


@pytest.mark.parametrize(
    ("name", "events", "particles"),
    [
        ("pyhepmc_pythia6.dat", 1, [53]),
        ("pyhepmc_sibyll21.dat", 1, [23]),
        ("hepmc3_inputReaderFactory5.hepmc", 10, [28, 25, 22, 24, 25, 28, 22, 17, 22, 21]),
    ],
)
def test_real_files(shared_data: Path, name: str, events: int, particles: list[int]) -> None:
    reader = HepMCReader(shared_data / "hepmc" / name, chunk_size=3)
    read = ak.concatenate(list(reader))
    assert len(read) == events == reader.n_events
    assert ak.num(read.particles).tolist() == particles
    assert reader.complete and reader.bad_events == []


def test_streams_in_chunks_before_reaching_a_bad_end(tmp_path: Path) -> None:
    """The first chunk arrives before the broken last event is parsed: never the whole file."""
    path = write_sample(tmp_path / "long.hepmc", n_events=10)
    cut = path.read_text()
    path.write_text(cut[: cut.rindex("\nP ") + 20])
    chunks = iter(HepMCReader(path, chunk_size=4))
    assert len(next(chunks)) == 4
    assert len(next(chunks)) == 4
    with pytest.raises(EventFileError, match=r"event 109 \(event #10 in the file"):
        next(chunks)


def test_concatenated_files(sample: Path, tmp_path: Path) -> None:
    """cat a.hepmc b.hepmc: one run if the weight names agree, refused if they do not."""
    both = tmp_path / "both.hepmc"
    both.write_text(sample.read_text() * 2)
    assert len(read_all(both, chunk_size=3)) == 8
    both.write_text(sample.read_text() + sample.read_text().replace("MUR2_MUF2", "PDF_1"))
    with pytest.raises(
        EventFileError, match=r"changes at event 100 \(event #5 in the file\): weight names"
    ):
        list(read_hepmc(both, skip_bad=True))


def test_chunk_size_must_be_positive(sample: Path) -> None:
    with pytest.raises(UsageError, match="chunk_size"):
        HepMCReader(sample, chunk_size=0)


# -- bad files ----------------------------------------------------------------------------------


def test_missing_empty_and_directory(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match=r"nope\.hepmc: no such file"):
        read_hepmc(tmp_path / "nope.hepmc")  # raises before the first chunk is asked for
    empty = tmp_path / "empty.hepmc"
    empty.write_bytes(b"")
    with pytest.raises(EventFileError, match=r"empty\.hepmc: the file is empty"):
        list(read_hepmc(empty))
    packed_empty = tmp_path / "empty.hepmc.gz"
    packed_empty.write_bytes(gzip.compress(b""))
    with pytest.raises(EventFileError, match="empty"):
        list(read_hepmc(packed_empty))
    with pytest.raises(EventFileError, match="is a folder"):
        list(read_hepmc(tmp_path))


def test_a_header_without_events(sample: Path) -> None:
    header, _, footer = event_blocks(sample.read_text())
    sample.write_text(header + footer)
    with pytest.raises(EventFileError, match="no readable events"):
        list(read_hepmc(sample))


def test_an_lhe_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.lhe"
    path.write_text(
        '<LesHouchesEvents version="3.0">\n<init>\n2212 2212 6.5e3 6.5e3 0 0 0 0 3 1\n'
        "1.0 0.1 1.0 1\n</init>\n<event>\n2 1 1.0 91.2 0.0078 0.118\n"
        "21 -1 0 0 501 502 0 0 100 100 0 0 9\n</event>\n</LesHouchesEvents>\n"
    )
    with pytest.raises(EventFileError, match=r"events\.lhe: a Les Houches Event \(LHE\) file"):
        list(read_hepmc(path))


def test_a_hepmc2_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.hepmc"  # HepMC2's IO_GenEvent format, written by hand
    path.write_text(
        "\nHepMC::Version 2.06.09\nHepMC::IO_GenEvent-START_EVENT_LISTING\n"
        "E 1 -1 -1.0 -1.0 -1.0 0 -1 1 10001 10002 0 1 1.0\n"
        'N 1 "0"\nU GEV MM\nC 1.0 0.1\n'
        "V -1 0 0 0 0 0 2 2 0\n"
        "P 10001 2212 0 0 6500 6500 0.938 2 0 0 -1 0\n"
        "P 10002 2212 0 0 -6500 6500 0.938 2 0 0 -1 0\n"
        "P 10003 13 10 5 100 100.6 0.1057 1 0 0 0 0\n"
        "P 10004 -13 -10 -5 -100 100.6 0.1057 1 0 0 0 0\n"
        "HepMC::IO_GenEvent-END_EVENT_LISTING\n"
    )
    with pytest.raises(EventFileError, match=r"old\.hepmc: a HepMC2 \(IO_GenEvent\) file"):
        list(read_hepmc(path))
    with pyhepmc.open(path) as handle:  # pyhepmc would have read it, silently as HepMC2
        assert len(list(handle)) == 1


def test_text_that_is_not_hepmc(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my events are elsewhere\n")
    with pytest.raises(EventFileError, match="not a HepMC3 ASCII file: it starts with b'my events"):
        list(read_hepmc(path))
    path.write_bytes(bytes(x for x in range(256) if x != 10) * 40_000)  # 10 MB, no newline
    with pytest.raises(EventFileError, match="not a HepMC3 ASCII file"):
        list(read_hepmc(path))
    path.write_text("\n \n\n")
    with pytest.raises(EventFileError, match="empty"):
        list(read_hepmc(path))


def test_the_real_broken_file_is_reported(shared_data: Path) -> None:
    path = shared_data / "hepmc" / "pyhepmc_broken.dat"
    with pyhepmc.open(path) as handle:  # the trap: pyhepmc ends quietly with no events
        assert list(handle) == []
    with pytest.raises(EventFileError) as error:
        list(read_hepmc(path))
    message = str(error.value)
    assert message.startswith(f"{path}: event 0 (event #1 in the file, starting at line 4)")
    assert "too few particles were parsed (read 16, the event line says 23)" in message
    assert "the file ends inside this event: it is truncated" in message
    assert "--skip-bad" in message


def test_truncated_mid_event_at_a_line_end_and_mid_line(sample: Path, tmp_path: Path) -> None:
    text = sample.read_text()
    at_line = text[: text.index("\nP 7 ", text.index("E 102")) + 1]
    mid_line = text[: text.index("\nP 7 ", text.index("E 102")) + 30]
    for name, cut in (("line", at_line), ("mid", mid_line)):
        path = tmp_path / f"cut_{name}.hepmc"
        path.write_text(cut)
        with pytest.raises(EventFileError, match=r"event 102 \(event #3 in the file") as error:
            list(read_hepmc(path, chunk_size=1))
        assert "truncated" in str(error.value)
        reader = HepMCReader(path, skip_bad=True)
        assert len(read_all(path, skip_bad=True)) == 2
        list(reader)
        assert [(b.index, b.number) for b in reader.bad_events] == [(2, 102)]
        assert not reader.complete


def test_truncated_between_events_reads_them_and_warns(
    sample: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = sample.read_text()
    sample.write_text(text[: text.index("E 103")])
    reader = HepMCReader(sample)
    with caplog.at_level(logging.WARNING):
        assert sum(len(c) for c in reader) == 3
    assert not reader.complete
    assert "no end-of-listing line: the file may be truncated" in caplog.text


def test_a_truncated_gzip_stream(sample: Path, tmp_path: Path) -> None:
    packed = gzip.compress(sample.read_bytes())
    path = tmp_path / "cut.hepmc.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    with pytest.raises(EventFileError, match="gzip data"):
        list(read_hepmc(path))


def test_a_garbage_line_in_the_middle(sample: Path, caplog: pytest.LogCaptureFixture) -> None:
    header, events, footer = event_blocks(sample.read_text())
    lines = events[1].splitlines(keepends=True)
    events[1] = "".join([*lines[:6], "#@! disk error garbage 0x00ff\n", *lines[6:]])
    sample.write_text(header + "".join(events) + footer)
    with pytest.raises(EventFileError) as error:
        list(read_hepmc(sample))
    line = sample.read_text().splitlines().index(events[1].splitlines()[0]) + 1
    assert f"event 101 (event #2 in the file, starting at line {line})" in str(error.value)
    assert "skipping unrecognised prefix" in str(error.value)
    reader = HepMCReader(sample, skip_bad=True)
    with caplog.at_level(logging.WARNING):
        events_read = ak.concatenate(list(reader))
    assert events_read.event_number.tolist() == [100, 102, 103]
    assert [b.number for b in reader.bad_events] == [101]
    assert "skipped" in caplog.text and "event 101" in caplog.text


def test_hepmc3_settings_of_the_user_change_nothing(sample: Path) -> None:
    """Warnings silenced or debug chatter on: garbage is still caught, good events still pass."""
    saved = (pyhepmc.Setup.print_warnings, pyhepmc.Setup.debug_level)
    pyhepmc.Setup.print_warnings = False
    pyhepmc.Setup.debug_level = 10
    try:
        assert len(read_all(sample)) == 4
        sample.write_text(sample.read_text().replace("\nE 102 ", "\n?garbage\nE 102 "))
        with pytest.raises(EventFileError, match=r"event 101 .*skipping unrecognised prefix"):
            list(read_hepmc(sample))
        assert (pyhepmc.Setup.print_warnings, pyhepmc.Setup.debug_level) == (False, 10)
    finally:
        pyhepmc.Setup.print_warnings, pyhepmc.Setup.debug_level = saved


def test_a_corrupt_particle_line_and_reading_on_after_it(sample: Path) -> None:
    """A line HepMC3 cannot parse kills its reader; skip_bad resumes at the next event."""
    header, events, footer = event_blocks(sample.read_text())
    events[1] = events[1].replace("\nP 5 -2 6 ", "\nP 99 -2 6 ")  # no particle 99 in the event
    sample.write_text(header + "".join(events) + footer)
    with pytest.raises(EventFileError, match=r"event 101 .*could not parse"):
        list(read_hepmc(sample))
    reader = HepMCReader(sample, skip_bad=True, chunk_size=2)
    read = ak.concatenate(list(reader))
    assert read.event_number.tolist() == [100, 102, 103]
    assert read.weights.fields == WEIGHT_NAMES  # the resumed reader re-read the run header
    assert ak.array_equal(read[1:], read_all(write_sample(sample.with_name("ok.hepmc")))[2:])


def test_a_vertex_id_beyond_the_declared_vertices(sample: Path) -> None:
    header, events, footer = event_blocks(sample.read_text())
    events[3] = events[3].replace("\nV -2 0 [3]", "\nV -9 0 [3]")
    sample.write_text(header + "".join(events) + footer)
    with pytest.raises(EventFileError, match=r"event 103 .*links particle 3 and vertex -9, but "
                       r"declares 12 particles and 5 vertices"):  # fmt: skip
        list(read_hepmc(sample))
    assert read_all(sample, skip_bad=True).event_number.tolist() == [100, 101, 102]


def test_nan_momenta(sample: Path) -> None:
    header, events, footer = event_blocks(sample.read_text())
    line = next(ln for ln in events[2].splitlines() if ln.startswith("P 4 "))
    fields = line.split()
    fields[5] = "nan"  # py of the gluon
    events[2] = events[2].replace(line, " ".join(fields))
    sample.write_text(header + "".join(events) + footer)
    with pytest.raises(EventFileError) as error:
        list(read_hepmc(sample))
    assert "event 102 (event #3 in the file" in str(error.value)
    assert "particle 4 of the event has py = nan" in str(error.value)
    reader = HepMCReader(sample, skip_bad=True, chunk_size=7)
    assert ak.concatenate(list(reader)).event_number.tolist() == [100, 101, 103]
    assert reader.bad_events[0].number == 102


def test_a_weight_count_that_disagrees_with_the_names(sample: Path) -> None:
    header, events, footer = event_blocks(sample.read_text())
    events[0] = re.sub(r"(?m)^W (\S+) (\S+)$", r"W \1", events[0])
    sample.write_text(header + "".join(events) + footer)
    with pytest.raises(EventFileError, match=r"event 100 .*number of weights"):
        list(read_hepmc(sample))
    assert len(read_all(sample, skip_bad=True)) == 3


def test_every_event_bad(sample: Path) -> None:
    sample.write_text(re.sub(r"(?m)^(P 3 -1 32) \S+", r"\1 inf", sample.read_text()))
    with pytest.raises(EventFileError, match="no readable events; all 4 event"):
        list(read_hepmc(sample, skip_bad=True))


def test_hepmc3s_printing_stays_off_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = write_sample(tmp_path / "cut.hepmc")
    path.write_text(path.read_text()[:-300])
    with pytest.raises(EventFileError, match="too few particles"):
        list(read_hepmc(path))
    out, err = capfd.readouterr()
    assert "ReaderAscii" not in out + err and "expected" not in out + err
    print("still printing")  # the descriptors were given back
    assert capfd.readouterr().out == "still printing\n"


# -- inspect ------------------------------------------------------------------------------------


def test_inspect(sample: Path) -> None:
    summary = inspect_file(sample)
    assert summary["format"] == "HepMC3 Asciiv3"
    assert summary["writer_version"] == pyhepmc_writer_version(sample)
    assert (summary["momentum_unit"], summary["length_unit"]) == ("MEV", "CM")
    assert summary["events"] == 4 and summary["event_numbers"] == {"first": 100, "last": 103}
    assert summary["particles_per_event"] == {"min": 12, "mean": 12.0, "max": 12}
    nominal = [nominal_weight(i) for i in range(4)]
    assert summary["weights"][0] == {
        "name": "nominal",
        "sum": pytest.approx(sum(nominal)),
        "sum2": pytest.approx(sum(w * w for w in nominal)),
        "negative": 1,
    }
    assert summary["weights"][1]["name"] == "MUR2_MUF2"
    assert summary["cross_section_pb"] == pytest.approx({"value": 15.3, "error": 0.4})
    assert summary["size_bytes"] == sample.stat().st_size and summary["compression"] is None
    assert summary["complete"] and summary["bad_events"] == []
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary  # `-o summary.json`
    text = render(inspect_table(summary))
    assert re.search(r"events +│ 4 \(numbers 100…103\)", text)
    assert re.search(r"cross-section +│ 15.3 ± 0.4 pb", text)
    assert "nominal: Σw = 5, Σw² = 21, negative: 1" in text


def render(table: object) -> str:
    console = Console(record=True, width=200)
    console.print(table)
    return console.export_text()


def test_inspect_real_files(shared_data: Path) -> None:
    summary = inspect_file(shared_data / "hepmc" / "hepmc3_inputReaderFactory5.hepmc")
    assert summary["events"] == 10 and summary["writer_version"] == "3.03.00"
    assert summary["particles_per_event"]["max"] == 28
    assert [w["name"] for w in summary["weights"]] == ["Default"]
    with pytest.raises(EventFileError):
        inspect_file(shared_data / "hepmc" / "pyhepmc_broken.dat")


def test_inspect_with_bad_events(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.hepmc")
    path.write_text(re.sub(r"(?m)^(P 4 -1 21) \S+", r"\1 nan", path.read_text(), count=2))
    summary = inspect_file(path, skip_bad=True)
    assert summary["events"] == 2 and [b["number"] for b in summary["bad_events"]] == [100, 101]
    assert re.search(r"bad events skipped +│ 2: 100, 101", render(inspect_table(summary)))


# -- the docs -----------------------------------------------------------------------------------


def test_the_reading_events_page_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = Path(__file__).resolve().parents[1] / "docs" / "reading-events.md"
    script = tmp_path / "example.py"
    script.write_text("\n".join(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    output = capsys.readouterr().out
    assert "read 20 events" in output
    assert (tmp_path / "example.parquet").is_file()


def test_ctrl_c_while_hepmc3_reads_is_an_interrupt_not_a_corrupt_file(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C lands while HepMC3 waits for bytes from recast's source: HepMC3 would take the
    exception for a broken stream and the user would read 'could not parse' about a good file
    (seen under load in the kill tests of bad_inputs/test_outputs.py)."""
    from recast.events import hepmc_text

    serve, calls = hepmc_text.Source._serve, []

    def interrupted_on_the_second_block(self: hepmc_text.Source, buffer: object) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return serve(self, buffer)

    monkeypatch.setattr(hepmc_text.Source, "_serve", interrupted_on_the_second_block)
    with pytest.raises(KeyboardInterrupt):
        for _ in read_hepmc(sample, chunk_size=1, parser="pyhepmc"):
            pass
