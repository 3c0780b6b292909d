"""Writing chunks to HepMC3: round trips through bare pyhepmc (and recast's reader), order,
atomicity, weights and cross-sections."""

from __future__ import annotations

import importlib.util
import math
import re
from collections import defaultdict
from pathlib import Path

import awkward as ak
import numpy as np
import pyhepmc
import pytest

from recast.errors import GenerationError, OutputError, UsageError
from recast.events.chunk import make_chunk
from recast.events.hepmc_writer import HepMCWriter, file_order, write_hepmc
from recast.events.pythia import generate, generate_to_hepmc, pythia_settings
from recast.events.slha import write_gluino_slha

N_EVENTS = 12


@pytest.fixture(scope="module")
def slha(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gluino_slha(tmp_path_factory.mktemp("slha") / "gtt.slha", 1200, 100)


@pytest.fixture(scope="module")
def chunks(slha: Path) -> list[ak.Array]:
    return list(generate(slha, N_EVENTS, seed=3, chunk_size=5))


@pytest.fixture(scope="module")
def written(chunks: list[ak.Array], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hepmc") / "gtt.hepmc"
    assert write_hepmc(chunks, path) == N_EVENTS
    return path


def read_all(path: Path) -> list[pyhepmc.GenEvent]:
    with pyhepmc.open(path) as f:
        return list(f)


def chunk_links(event: ak.Record) -> set[tuple[int, int]]:
    """(parent, child) index pairs of one chunk event."""
    prod = np.asarray(event["particles"]["production_vertex"])
    end = np.asarray(event["particles"]["end_vertex"])
    into: dict[int, list[int]] = defaultdict(list)
    for i, v in enumerate(end.tolist()):
        if v >= 0:
            into[v].append(i)
    return {(p, c) for c, v in enumerate(prod.tolist()) if v >= 0 for p in into[v]}


def file_links(event: pyhepmc.GenEvent, order: np.ndarray) -> set[tuple[int, int]]:
    """(parent, child) pairs of a read event, in the chunk's indices."""
    return {
        (int(order[q.id - 1]), int(order[p.id - 1])) for p in event.particles for q in p.parents
    }


def test_round_trip_through_bare_pyhepmc(chunks: list[ak.Array], written: Path) -> None:
    events = ak.concatenate(chunks)
    read = read_all(written)
    assert len(read) == N_EVENTS
    assert read[0].run_info.weight_names == ["Weight"]
    assert read[0].run_info.tools[0].name == "recast-nn"
    orders = file_order(events)
    for n, (event, back, order) in enumerate(zip(events, read, orders, strict=True)):
        order = np.asarray(order)
        assert sorted(order.tolist()) == list(range(len(order)))  # a permutation
        particles = event["particles"][order]
        numpy = back.numpy.particles
        assert len(back.particles) == len(particles)
        assert np.array_equal(np.asarray(numpy.pid), np.asarray(particles["pid"]))
        assert np.array_equal(np.asarray(numpy.status), np.asarray(particles["status"]))
        for ours, theirs in (("px", "px"), ("py", "py"), ("pz", "pz"), ("E", "e")):
            assert np.array_equal(np.asarray(getattr(numpy, theirs)), np.asarray(particles[ours]))
        assert np.array_equal(
            np.asarray(numpy.generated_mass), np.asarray(particles["generated_mass"])
        )
        assert len(back.vertices) == len(event["vertices"])
        if n < 3:  # particle by particle through pyhepmc's objects: slow, a few events suffice
            assert file_links(back, order) == chunk_links(event)
        # each particle's production vertex sits where it sat
        for k, p in enumerate(back.particles if n < 3 else []):
            v = int(particles["production_vertex"][k])
            if v >= 0:
                where = event["vertices"][v]
                assert tuple(p.production_vertex.position) == (
                    where["x"],
                    where["y"],
                    where["z"],
                    where["t"],
                )
        assert back.event_number == event["event_number"]
        assert back.weights == [event["weight"]]
        assert back.momentum_unit == pyhepmc.Units.GEV and back.length_unit == pyhepmc.Units.MM
        # HepMC3 3.2 keeps the cross-section to 8 significant digits
        assert back.cross_section.xsec() == pytest.approx(event["cross_section"], rel=1e-8)
        assert back.cross_section.xsec_err() == pytest.approx(
            event["cross_section_error"], rel=1e-8
        )


def test_parents_come_first_in_the_file_though_not_in_pythia(
    chunks: list[ak.Array], written: Path
) -> None:
    # the trap: Pythia lists initial-state shower ancestors after their daughters
    assert any(p > c for event in chunks[0] for p, c in chunk_links(event))
    for back in read_all(written):
        assert all(q.id < p.id for p in back.particles for q in p.parents)
    # and vertex ids follow their first appearance, which HepMC3 3.2's reader relies on
    text = written.read_text()
    for block in text.split("\nE ")[1:]:
        ids = [int(m) for m in re.findall(r"^V (-\d+) ", block, re.M)]
        assert ids == sorted(ids, reverse=True)


def _hand_made(weights: dict[str, list[float]] | None = None, xsec: float = 2.5) -> ak.Array:
    """One event: beams 0, 1 meet at vertex 0 (stored *after* the particles it makes, as
    Pythia does), giving 2 and 3; 2 decays at vertex 2, placed at (1, 2, 3, 4), to 4 and 5;
    6 comes from vertex 3, a point with no incoming particle."""
    return make_chunk(
        event_number=np.array([17]),
        weights={k: np.array(v) for k, v in (weights or {"nominal": [0.5]}).items()},
        cross_section=np.array([xsec]),
        cross_section_error=np.array([0.1]),
        particle_counts=np.array([7]),
        particles={
            "px": np.array([0.0, 0.0, 1.0, -1.0, 0.5, 0.5, 0.25]),
            "py": np.array([0.0, 0.0, 2.0, -2.0, 1.0, 1.0, 0.0]),
            "pz": np.array([50.0, -50.0, 3.0, -3.0, 1.5, 1.5, 1.0]),
            "E": np.array([50.0, 50.0, 50.0, 50.0, 25.0, 25.0, 2.0]),
            "pid": np.array([2212, 2212, 23, 21, 11, -11, 22]),
            "status": np.array([4, 4, 2, 1, 1, 1, 1]),
            "generated_mass": np.array([0.938, 0.938, 91.2, 0.0, 0.0, 0.0, 0.0]),
            "production_vertex": np.array([-1, -1, 1, 1, 2, 2, 3]),
            "end_vertex": np.array([1, 1, 2, -1, -1, -1, -1]),
        },
        vertex_counts=np.array([4]),
        vertices={
            "x": np.array([0.0, 0.0, 1.0, 7.0]),
            "y": np.array([0.0, 0.0, 2.0, 7.0]),
            "z": np.array([0.0, 0.0, 3.0, 7.0]),
            "t": np.array([0.0, 0.0, 4.0, 7.0]),
        },
    )


def test_hand_made_event_with_a_late_parent_and_an_orphan_vertex(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chunk = _hand_made()
    write_hepmc(chunk, tmp_path / "h.hepmc")
    (back,) = read_all(tmp_path / "h.hepmc")
    order = np.asarray(file_order(chunk)[0])
    assert file_links(back, order) == chunk_links(chunk[0])
    # vertex 0 holds no particle and vertex 3 no incoming one: neither can be written
    assert "dropping 1 vertices without incoming particles" in caplog.text
    assert sorted(tuple(v.position) for v in back.vertices) == [(0.0,) * 4, (1.0, 2.0, 3.0, 4.0)]
    photon = back.particles[int(np.flatnonzero(order == 6)[0])]
    assert photon.pid == 22 and not photon.parents
    assert photon.production_vertex is None or photon.production_vertex.id == 0  # the root
    assert back.event_number == 17 and back.weights == [0.5]


def test_several_named_weights_and_no_cross_section(tmp_path: Path) -> None:
    chunk = _hand_made({"nominal": [0.5], "MUR2_MUF2": [0.7], "pdf_1": [-0.1]}, math.nan)
    write_hepmc(chunk, tmp_path / "w.hepmc")
    (back,) = read_all(tmp_path / "w.hepmc")
    assert back.run_info.weight_names == ["nominal", "MUR2_MUF2", "pdf_1"]
    assert back.weights == [0.5, 0.7, -0.1]
    assert back.cross_section is None
    assert "GenCrossSection" not in (tmp_path / "w.hepmc").read_text()


def test_several_weights_with_a_cross_section(tmp_path: Path) -> None:
    chunk = _hand_made({"nominal": [0.5], "MUR2_MUF2": [0.7]}, 3.25)
    write_hepmc(chunk, tmp_path / "w.hepmc")
    (back,) = read_all(tmp_path / "w.hepmc")
    assert back.weights == [0.5, 0.7]
    assert back.cross_section.xsec() == 3.25 and back.cross_section.xsec_err() == 0.1


def test_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match=r"out\.hepmc: cannot write"):
        write_hepmc([], blocker / "out.hepmc")


def test_weight_names_may_not_change_within_a_file(tmp_path: Path) -> None:
    target = tmp_path / "x.hepmc"
    with pytest.raises(UsageError, match="differ from the file's"):
        write_hepmc([_hand_made(), _hand_made({"other": [1.0]})], target)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_a_failed_write_leaves_the_old_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "keep.hepmc"
    target.write_text("old content\n")
    with pytest.raises(RuntimeError, match="interrupted"), HepMCWriter(target) as writer:
        writer.write(_hand_made())
        raise RuntimeError("interrupted")
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.hepmc"]


def test_no_events_gives_a_valid_empty_file(tmp_path: Path) -> None:
    assert write_hepmc([], tmp_path / "empty.hepmc") == 0
    assert read_all(tmp_path / "empty.hepmc") == []
    assert "HepMC::Asciiv3-END_EVENT_LISTING" in (tmp_path / "empty.hepmc").read_text()


def test_vertex_indices_outside_the_event_are_refused(tmp_path: Path) -> None:
    chunk = _hand_made()
    broken = ak.with_field(chunk["particles"], chunk["particles"]["end_vertex"] + 10, "end_vertex")
    with pytest.raises(UsageError, match="end_vertex points outside"):
        write_hepmc(ak.with_field(chunk, broken, "particles"), tmp_path / "b.hepmc")


def test_generate_to_hepmc(slha: Path, chunks: list[ak.Array], tmp_path: Path) -> None:
    target = tmp_path / "out" / "gtt.hepmc"
    summary = generate_to_hepmc(slha, 5, seed=3, output_path=target, chunk_size=2)
    assert summary["events"] == 5 and summary["seed"] == 3
    assert summary["output"] == str(target) and summary["seconds"] > 0
    read = read_all(target)
    assert [e.event_number for e in read] == list(range(5))
    # same seed, same events as generate(): the last event's cross-section is the summary's
    assert summary["cross_section_pb"] == ak.concatenate(chunks)["cross_section"][4]
    assert read[-1].cross_section.xsec() == pytest.approx(summary["cross_section_pb"], rel=1e-8)
    assert 0 < summary["cross_section_error_pb"] < summary["cross_section_pb"]


def test_shower_variation_weights_keep_their_names(slha: Path, tmp_path: Path) -> None:
    settings = [*pythia_settings(slha), "UncertaintyBands:doVariations = on"]
    settings.append("UncertaintyBands:List = {fsrlo fsr:muRfac=0.5, fsrhi fsr:muRfac=2.0}")
    events = ak.concatenate(list(generate(settings, 2, seed=1)))
    names = ak.fields(events["weights"])
    assert names[0] == "Weight" and {"fsrlo", "fsrhi"} <= set(names)
    assert ak.all(events["weight"] == 1.0) and ak.any(events["weights"]["fsrlo"] != 1.0)
    write_hepmc(events, tmp_path / "v.hepmc")
    back = read_all(tmp_path / "v.hepmc")
    assert back[0].run_info.weight_names == names
    assert [e.weights for e in back] == [[float(w[n]) for n in names] for w in events["weights"]]


def test_failed_generation_leaves_no_file(slha: Path, tmp_path: Path) -> None:
    settings = [*pythia_settings(slha), "Check:epTolErr = 1e-30"]  # Pythia rejects every event
    with pytest.raises(GenerationError, match="in a row"):
        generate_to_hepmc(settings, 3, seed=1, output_path=tmp_path / "never.hepmc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    importlib.util.find_spec("recast.events.hepmc") is None, reason="no HepMC3 reader yet"
)
def test_round_trip_through_recasts_reader(chunks: list[ak.Array], written: Path) -> None:
    from recast.events import hepmc

    if not hasattr(hepmc, "read_hepmc"):
        pytest.skip("recast.events.hepmc has no read_hepmc yet")
    events = ak.concatenate(chunks)
    back = ak.concatenate(list(hepmc.read_hepmc(written)))
    order = file_order(events)
    assert back["event_number"].to_list() == events["event_number"].to_list()
    assert ak.fields(back["weights"]) == ["Weight"]
    assert ak.all(back["weight"] == events["weight"])
    assert np.allclose(back["cross_section"], events["cross_section"], rtol=1e-8, atol=0)
    ours = events["particles"][order]
    for field in ("px", "py", "pz", "E", "pid", "status", "generated_mass"):
        assert ak.all(back["particles"][field] == ours[field]), field
    for event, again, o in zip(events, back, order, strict=True):
        o = np.asarray(o)
        theirs = {(int(o[p]), int(o[c])) for p, c in chunk_links(again)}
        assert theirs == chunk_links(event)
    # production vertex positions survive, whatever the vertex numbering
    for axis in ("x", "y", "z", "t"):
        mine = events["vertices"][axis][
            ak.where(ours.production_vertex < 0, 0, ours.production_vertex)
        ]
        read = back["vertices"][axis][
            ak.where(
                back["particles"].production_vertex < 0, 0, back["particles"].production_vertex
            )
        ]
        assert ak.all(mine == read)


# -- compressed by the name ----------------------------------------------------------------------
def _zstd_missing() -> bool:
    return (
        importlib.util.find_spec("compression.zstd") is None
        if importlib.util.find_spec("compression") is not None
        else importlib.util.find_spec("backports.zstd") is None
    )


COMPRESSED = [
    pytest.param("gz", b"\x1f\x8b", id="gz"),
    pytest.param("bz2", b"BZh", id="bz2"),
    pytest.param("xz", b"\xfd7zXZ\x00", id="xz"),
    pytest.param(
        "zst",
        b"\x28\xb5\x2f\xfd",
        id="zst",
        marks=pytest.mark.skipif(_zstd_missing(), reason="no zstd module"),
    ),
]


@pytest.mark.parametrize(("suffix", "magic"), COMPRESSED)
def test_a_compressed_name_gives_a_compressed_file_of_the_same_text(
    chunks: list[ak.Array], written: Path, tmp_path: Path, suffix: str, magic: bytes
) -> None:
    from recast.events.hepmc_text import open_binary

    target = tmp_path / f"gtt.hepmc.{suffix}"
    assert write_hepmc(chunks, target) == N_EVENTS
    data = target.read_bytes()
    assert data.startswith(magic) and len(data) < written.stat().st_size / 2
    with open_binary(target) as handle:
        assert handle.read() == written.read_bytes()  # the plain file's very bytes
    write_hepmc(chunks, tmp_path / f"again.hepmc.{suffix}")  # no time stamp: same bytes
    assert (tmp_path / f"again.hepmc.{suffix}").read_bytes() == data


def test_an_empty_compressed_file_is_still_a_hepmc3_file(tmp_path: Path) -> None:
    import gzip

    assert write_hepmc([], tmp_path / "empty.hepmc.gz") == 0
    assert b"END_EVENT_LISTING" in gzip.decompress((tmp_path / "empty.hepmc.gz").read_bytes())


@pytest.mark.parametrize("name", ["x.hepmc.zip", "x.hepmc.lz4", "x.7z", "X.HEPMC.ZIP"])
def test_another_compression_is_refused_before_generating(
    slha: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from recast.events import pythia

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pythia was started")

    monkeypatch.setattr(pythia, "PythiaGenerator", never)
    suffix = Path(name).suffix.lower()
    with pytest.raises(
        OutputError,
        match=rf"{re.escape(name)}: cannot write a HepMC3 file "
        rf"compressed as '\{suffix}'; give a name ending in \.gz, \.bz2, \.xz",
    ):
        generate_to_hepmc(slha, 3, seed=1, output_path=tmp_path / name)
    with pytest.raises(OutputError, match="compressed as"):
        HepMCWriter(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_zstd_without_its_module_is_refused_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real = builtins.__import__

    def without_zstd(name: str, *args: object, **kwargs: object) -> object:
        if name in ("compression", "backports"):
            raise ImportError(f"no module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_zstd)
    with pytest.raises(OutputError, match=r"x\.hepmc\.zst: writing zstd needs .*backports\.zstd"):
        HepMCWriter(tmp_path / "x.hepmc.zst")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_under_compression_raises_and_leaves_nothing(
    chunks: list[ak.Array], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import recast.io

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(
        recast.io, "_open_unnamed", lambda folder: os.open("/dev/full", os.O_WRONLY)
    )
    # pyhepmc's Python stream swallows the write's exception: the writer must not
    with pytest.raises(OutputError, match=r"g\.hepmc\.gz: writing the HepMC3 file failed"):
        write_hepmc(chunks, tmp_path / "g.hepmc.gz")
    assert list(tmp_path.iterdir()) == []
