"""In-process Pythia8 generation: SLHA spectra, chunks, statuses, history, seeds, errors."""

from __future__ import annotations

import logging
import re
import runpy
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.errors import GenerationError, UsageError
from recast.events.chunk import PARTICLE_FIELDS, VERTEX_FIELDS
from recast.events.pythia import GLUINO_PAIR, PythiaGenerator, generate, pythia_settings
from recast.events.pythia_record import (
    COLUMNS,
    _unpack_slow,
    build_event_vertices,
    build_vertices,
    hepmc_status,
    inherit_positions,
    is_hadron,
    mother_list,
    unpack_batch,
)
from recast.events.slha import gluino_slha, write_gluino_slha

DOCS = Path(__file__).resolve().parents[1] / "docs"
N_EVENTS = 25


@pytest.fixture(scope="module")
def gtt_slha(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gluino_slha(tmp_path_factory.mktemp("slha") / "gtt.slha", 1200, 100)


@pytest.fixture(scope="module")
def gtt_events(gtt_slha: Path) -> ak.Array:
    return ak.concatenate(list(generate(gtt_slha, N_EVENTS, seed=7, chunk_size=7)))


# --- history helpers: what downstream code does with the vertex indices ---------------------


def _history(event: ak.Record) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p = event["particles"]
    return (
        np.asarray(p["pid"]),
        np.asarray(p["status"]),
        np.asarray(p["production_vertex"]),
        np.asarray(p["end_vertex"]),
    )


def children(prod: np.ndarray, end: np.ndarray, i: int) -> np.ndarray:
    return np.flatnonzero((prod == end[i]) & (end[i] >= 0))


def parents(prod: np.ndarray, end: np.ndarray, i: int) -> np.ndarray:
    return np.flatnonzero((end == prod[i]) & (prod[i] >= 0))


def last_copies(pid: np.ndarray, prod: np.ndarray, end: np.ndarray, code: int) -> list[int]:
    """Particles with |pid| == code none of whose children is another copy of them."""
    return [
        i
        for i in np.flatnonzero(np.abs(pid) == code)
        if not np.any(pid[children(prod, end, i)] == pid[i])
    ]


# --- SLHA -----------------------------------------------------------------------------------


def test_gluino_slha_has_the_masses_and_the_decay() -> None:
    text = gluino_slha(1400, 300, decay="bbbar")
    mass = text[text.index("BLOCK MASS") :].split("BLOCK", 2)[1]
    assert re.search(r"^\s+1000021\s+1\.40000000E\+03", mass, re.M)
    assert re.search(r"^\s+1000022\s+3\.00000000E\+02", mass, re.M)
    assert re.search(r"^DECAY\s+1000021\s+1\.0+E\+00", text, re.M)
    assert re.search(r"^\s+1\.0+E\+00\s+3\s+1000022\s+-5\s+5\b", text, re.M)
    assert re.search(r"^DECAY\s+1000022\s+0\.0+E\+00", text, re.M)
    assert "1000022   -6   6" in gluino_slha(1200, 100)  # ttbar is the default


def test_write_gluino_slha_writes_the_text(tmp_path: Path) -> None:
    path = write_gluino_slha(tmp_path / "sub" / "p.slha", 1000, 0, decay="ttbar")
    assert path.read_text() == gluino_slha(1000, 0)
    assert [p.name for p in path.parent.iterdir()] == ["p.slha"]  # no temporary left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((500, 200, "ttbar"), "closed"),  # 500 < 200 + 2 m_t
        ((1000, 100, "cc"), "not known"),
        ((-1, 0, "ttbar"), "finite"),
        ((float("nan"), 0, "bbbar"), "finite"),
    ],
)
def test_gluino_slha_refuses_impossible_points(args: tuple, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        gluino_slha(*args)


# --- the chunks -----------------------------------------------------------------------------


def test_chunks_follow_the_layout(gtt_events: ak.Array) -> None:
    assert len(gtt_events) == N_EVENTS
    assert ak.fields(gtt_events["particles"]) == list(PARTICLE_FIELDS)
    assert ak.fields(gtt_events["vertices"]) == list(VERTEX_FIELDS)
    assert gtt_events["event_number"].to_list() == list(range(N_EVENTS))
    assert ak.fields(gtt_events["weights"]) == ["Weight"]
    assert ak.all(gtt_events["weight"] == 1.0)
    assert ak.min(ak.num(gtt_events["particles"], axis=1)) > 300  # showered and hadronised
    pid, status, _, _ = _history(gtt_events[0])
    assert pid[:2].tolist() == [2212, 2212] and status[:2].tolist() == [4, 4]  # the beams
    # momenta in GeV: the two beams carry 6.5 TeV each, the final state 13 TeV in total
    final = gtt_events["particles"][gtt_events["particles"]["status"] == 1]
    assert ak.all(abs(ak.sum(final["E"], axis=1) - 13000.0) < 1e-3)
    assert ak.all(abs(ak.sum(final["pz"], axis=1)) < 1e-3)


def test_each_gtt_event_has_four_decaying_tops_and_two_neutralinos(gtt_events: ak.Array) -> None:
    for event in gtt_events:
        pid, status, prod, end = _history(event)
        tops = last_copies(pid, prod, end, 6)
        assert len(tops) == 4
        assert sorted(np.sign(pid[tops])) == [-1, -1, 1, 1]
        for top in tops:  # t -> W b, with matching charges
            decay = sorted(pid[children(prod, end, top)] * np.sign(pid[top]))
            assert decay == [5, 24]
        assert np.count_nonzero((pid == 1000022) & (status == 1)) == 2
        gluinos = last_copies(pid, prod, end, 1000021)
        assert len(gluinos) == 2
        for gluino in gluinos:  # g~ -> t t~ chi10
            decay = sorted(np.abs(pid[children(prod, end, gluino)]))
            assert decay == [6, 6, 1000022]


def test_gbb_events_have_four_b_from_gluinos_and_no_top(tmp_path: Path) -> None:
    slha = write_gluino_slha(tmp_path / "gbb.slha", 1200, 100, decay="bbbar")
    events = ak.concatenate(list(generate(slha, 20, seed=3)))
    assert not ak.any(abs(events["particles"]["pid"]) == 6)
    for event in events:
        pid, status, prod, end = _history(event)
        from_gluino = [
            i
            for i in np.flatnonzero(np.abs(pid) == 5)
            if np.any(pid[parents(prod, end, i)] == 1000021)
        ]
        assert sorted(pid[from_gluino]) == [-5, -5, 5, 5]
        assert np.count_nonzero((pid == 1000022) & (status == 1)) == 2


def test_cross_section_is_reported_in_pb(gtt_slha: Path) -> None:
    with PythiaGenerator(gtt_slha, seed=11) as generator:
        events = ak.concatenate(list(generator.chunks(30)))
        final = generator.cross_section, generator.cross_section_error
    sigma = np.asarray(events["cross_section"])
    error = np.asarray(events["cross_section_error"])
    assert np.all(sigma > 0) and np.all(error > 0)
    # LO gg/qq -> g~g~ at 13 TeV for a 1.2 TeV gluino is 0.046 pb: the estimate after 30
    # events has a statistical error of a few per cent
    assert 0.03 < sigma[-1] < 0.07
    assert error[-1] < 0.3 * sigma[-1]
    assert (sigma[-1], error[-1]) == final


@pytest.mark.shared_data
def test_the_published_gluino_spectrum_generates(shared_data: Path) -> None:
    slha = shared_data / "slha" / "gluinoToTops.slha"
    events = ak.concatenate(list(generate(slha, 20, seed=5)))
    for event in events:
        pid, status, prod, end = _history(event)
        assert len(last_copies(pid, prod, end, 6)) == 4
        assert np.count_nonzero((pid == 1000022) & (status == 1)) == 2
    assert 0.03 < events["cross_section"][-1] < 0.07


def test_same_seed_same_events_other_seed_other_events(
    gtt_slha: Path, gtt_events: ak.Array
) -> None:
    again = ak.concatenate(list(generate(gtt_slha, N_EVENTS, seed=7, chunk_size=N_EVENTS)))
    assert ak.array_equal(again, gtt_events)
    other = ak.concatenate(list(generate(gtt_slha, 5, seed=8)))
    assert not ak.array_equal(other, gtt_events[:5])
    assert ak.sum(ak.num(other["particles"], axis=1)) != ak.sum(
        ak.num(gtt_events["particles"][:5], axis=1)
    )


def test_chunk_size_does_not_change_the_events(gtt_slha: Path, gtt_events: ak.Array) -> None:
    for size in (1, 50):  # 7 is the fixture's
        chunks = list(generate(gtt_slha, N_EVENTS, seed=7, chunk_size=size))
        assert [len(c) for c in chunks] == ([1] * N_EVENTS if size == 1 else [N_EVENTS])
        assert ak.array_equal(ak.concatenate(chunks), gtt_events)


def test_statuses_and_history_are_pythias_own(gtt_slha: Path) -> None:
    """Against Pythia's per-particle accessors: statusHepMC(), motherList(), daughterList()."""
    with PythiaGenerator(gtt_slha, seed=2) as generator:
        for _ in range(3):
            (chunk,) = list(generator.chunks(1))
            record = generator.pythia.event
            n = record.size()
            pid, status, prod, end = _history(chunk[0])
            assert len(pid) == n - 1  # entry 0, the system, is dropped
            assert pid.tolist() == [record[i].id() for i in range(1, n)]
            assert status.tolist() == [record[i].statusHepMC() for i in range(1, n)]
            for i in range(1, n):
                assert set((children(prod, end, i - 1) + 1).tolist()) == set(
                    record[i].daughterList()
                )
                mothers = set(record[i].motherList()) - {0}
                assert set((parents(prod, end, i - 1) + 1).tolist()) == mothers


def test_generation_is_quiet_and_logged(
    gtt_slha: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="recast.events.pythia"):
        list(generate(gtt_slha, 2, seed=1))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert any("SusyLesHouches" in r.getMessage() for r in caplog.records)


def test_slha_path_with_blanks(tmp_path: Path, gtt_slha: Path, gtt_events: ak.Array) -> None:
    # Pythia's SLHA:file stops at the first blank: the generator reads a copy instead
    folder = tmp_path / "my spectra"
    folder.mkdir()
    slha = folder / "gtt 1200.slha"
    slha.write_text(gtt_slha.read_text())
    events = ak.concatenate(list(generate(slha, 2, seed=7)))
    assert ak.array_equal(events, gtt_events[:2])


def test_buffer_and_general_unpacking_agree(gtt_slha: Path) -> None:
    with PythiaGenerator(gtt_slha, seed=4) as generator:
        batch = generator.pythia.nextBatch(1, "skip")
    fast, w_fast = unpack_batch(batch.layout)
    slow, w_slow = _unpack_slow(batch)
    assert fast.keys() == slow.keys() and np.array_equal(w_fast, w_slow)
    for name in COLUMNS:
        assert np.array_equal(fast[name], slow[name]), name
    assert np.any(fast["z"] != 0)  # some vertices are displaced


def test_settings_can_be_given_explicitly(gtt_slha: Path, gtt_events: ak.Array) -> None:
    settings = ["Beams:eCM = 13000", *GLUINO_PAIR, f"SLHA:file = {gtt_slha}"]
    assert pythia_settings(gtt_slha) == settings
    events = ak.concatenate(list(generate(settings, 3, seed=7)))
    assert ak.array_equal(events, gtt_events[:3])


# --- errors ---------------------------------------------------------------------------------


def test_missing_slha_file(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match=r"nope\.slha: SLHA file not found"):
        list(generate(tmp_path / "nope.slha", 1, seed=1))


def test_file_that_is_not_slha(tmp_path: Path) -> None:
    path = tmp_path / "text.slha"
    path.write_text("hello\n")
    with pytest.raises(GenerationError, match=r"text\.slha: not an SLHA spectrum"):
        list(generate(path, 1, seed=1))


def test_broken_slha_is_refused_before_pythia_reads_it(tmp_path: Path) -> None:
    from recast.errors import SLHAError

    path = tmp_path / "broken.slha"
    path.write_text("BLOCK MASS\n 1000021 abc\n")
    with pytest.raises(SLHAError, match=r"(?s)broken\.slha.*line 2: BLOCK MASS: '1000021 abc'"):
        PythiaGenerator(path, seed=1)


def test_setting_pythia_refuses(gtt_slha: Path) -> None:
    with pytest.raises(GenerationError, match="does not accept the setting 'Foo:bar = 3'"):
        PythiaGenerator([*pythia_settings(gtt_slha), "Foo:bar = 3"], seed=1)


def test_init_failure_names_the_cause(gtt_slha: Path) -> None:
    settings = ["Beams:eCM = 2000", *GLUINO_PAIR, f"SLHA:file = {gtt_slha}"]
    with pytest.raises(GenerationError, match=r"vanishing cross sections.*Beams:eCM = 2000"):
        PythiaGenerator(settings, seed=1)


def test_repeated_next_failures_stop_the_run(gtt_slha: Path) -> None:
    # an impossible energy-momentum tolerance makes Pythia reject every event
    settings = [*pythia_settings(gtt_slha), "Check:epTolErr = 1e-30"]
    with pytest.raises(GenerationError, match=r"failed 3 times in a row after 0 events"):
        list(generate(settings, 2, seed=1, max_failures=3))


@pytest.mark.parametrize(
    ("setup", "seed", "message"),
    [
        (["Beams:eCM = 13000"], 0, "out of Pythia's range"),
        (["Beams:eCM = 13000"], 900_000_001, "out of Pythia's range"),
        (["Beams:eCM = 13000"], 1.5, "must be an integer"),
        (["Random:seed = 4"], 1, "pass the seed as the `seed` argument"),
        (42, 1, "SLHA path or a list of Pythia settings"),
    ],
)
def test_bad_arguments(setup: object, seed: object, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        PythiaGenerator(setup, seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n_events", "chunk_size", "message"),
    [(1, 0, "chunk_size must be an integer >= 1"), (-1, 10, "n_events must be an integer >= 0")],
)
def test_bad_event_counts(gtt_slha: Path, n_events: int, chunk_size: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        generate(gtt_slha, n_events, seed=1, chunk_size=chunk_size)  # checked before Pythia


def test_missing_slha_is_reported_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="SLHA file not found"):
        generate(tmp_path / "nope.slha", 1, seed=1)


# --- the record conversion, on hand-made records ----------------------------------------------


def test_is_hadron() -> None:
    pids = np.array([211, -211, 111, 2212, 130, 310, 511, 21, 5, 2101, 1000021, 990, 22, 11])
    want = [True] * 7 + [False] * 7
    assert is_hadron(pids).tolist() == want


def test_hepmc_status_mapping() -> None:
    # entry 0 system; beams; a gluino (-22); a pi0 decayed by Pythia (-91 -> its photons 91);
    # a final photon pair; a B+ whose first daughter has status 2 (not a 91-94 decay)
    pid = [90, 2212, 2212, 1000021, 111, 22, 22, 521, 521]
    status = [-11, -12, -12, -22, -91, 91, 91, -84, 1]
    daughter1 = [0, 3, 3, 0, 5, 0, 0, 8, 0]
    got = hepmc_status(np.array([9]), np.array(pid), np.array(status), np.array(daughter1))
    assert got.tolist() == [11, 4, 4, 22, 2, 1, 1, 84, 1]


def _record(rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, ...]:
    status, m1, m2 = (np.array(c) for c in zip(*rows, strict=True))
    return status, m1, m2


def test_vertices_of_a_consistent_record_match_the_particle_by_particle_reference() -> None:
    # 0 system; 1, 2 beams; 3, 4 initiators listed before their ISR mother 7 (as in Pythia);
    # 5, 6 produced by 3 and 4; 7 ISR mother of 3 from beam 1; 8 from beam 2; 9-11 a string
    # of 5, 6 fragmenting (a mother range)
    rows = [(-11, 0, 0), (-12, 0, 0), (-12, 0, 0), (-21, 7, 0), (-21, 8, 8)]
    rows += [(-22, 3, 4), (-22, 3, 4), (-41, 1, 0), (-61, 2, 0)]
    rows += [(83, 5, 6), (84, 5, 6), (83, 5, 6)]
    status, m1, m2 = _record(rows)
    position = np.zeros((len(rows), 4))
    position[10] = [1.0, 2.0, 3.0, 4.0]
    vertices = build_vertices(np.array([len(rows)]), status, m1, m2, position)
    prod, end, where = build_event_vertices(status, m1, m2, position)
    assert vertices.n_fallback == 0
    assert vertices.production_vertex.tolist() == prod[1:].tolist()
    assert vertices.end_vertex.tolist() == end[1:].tolist()
    assert vertices.counts.tolist() == [len(where)]
    assert np.array_equal(np.stack([vertices.x, vertices.y, vertices.z, vertices.t], 1), where)
    assert mother_list(83, 5, 7) == [5, 6, 7] and mother_list(-22, 4, 3) == [3, 4]


def test_inconsistent_records_use_the_particle_by_particle_construction() -> None:
    # particle 3 is a mother of 4 alone and of 5 together with 6: Pythia's converter puts
    # 5 on the vertex where 3 already ends
    bad = [
        (-11, 0, 0),
        (-12, 0, 0),
        (-12, 0, 0),
        (-21, 1, 0),
        (-22, 3, 0),
        (-22, 3, 6),
        (-21, 2, 0),
    ]
    good = [(-11, 0, 0), (-12, 0, 0), (-12, 0, 0), (-21, 1, 0), (1, 3, 0)]
    status, m1, m2 = _record(bad + good)
    counts = np.array([len(bad), len(good)])
    vertices = build_vertices(counts, status, m1, m2, np.zeros((len(status), 4)))
    assert vertices.n_fallback == 1
    for e, span in enumerate((slice(0, len(bad)), slice(len(bad), None))):
        prod, end, where = build_event_vertices(status[span], m1[span], m2[span], np.zeros((9, 4)))
        keep = slice(e * (len(bad) - 1), e * (len(bad) - 1) + len(prod) - 1)
        assert vertices.production_vertex[keep].tolist() == prod[1:].tolist()
        assert vertices.end_vertex[keep].tolist() == end[1:].tolist()
        assert vertices.counts[e] == len(where)


def test_particles_from_nowhere_get_a_vertex_of_their_own() -> None:
    # entry 3 has no mothers and no daughters (a hanging particle), entry 4 no mothers but a
    # production point: each gets a vertex, as in Pythia8ToHepMC3
    status, m1, m2 = _record([(-11, 0, 0), (-12, 0, 0), (1, 1, 0), (-12, 0, 0), (-12, 0, 0)])
    position = np.zeros((5, 4))
    position[4] = [0.0, 0.0, 5.0, 5.0]
    vertices = build_vertices(np.array([5]), status, m1, m2, position)
    assert vertices.production_vertex.tolist() == [-1, 0, 2, 1]
    assert vertices.end_vertex.tolist() == [0, -1, -1, -1]
    assert vertices.z.tolist() == [0.0, 5.0, 0.0]


def test_unset_vertex_positions_are_inherited_as_hepmc3_does() -> None:
    # vertex 0 at a point; particle 0 runs from it into vertex 1 (stored at zero)
    position = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    got = inherit_positions(
        np.array([3]), np.array([3]), np.array([0, 1, -1]), np.array([1, 2, 0]), position
    )
    assert got.tolist() == [[1.0] * 4] * 3


# --- the worked example of docs/generating.md ---------------------------------------------------


def test_generating_page_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "\n".join(re.findall(r"```python\n(.*?)```", (DOCS / "generating.md").read_text(), re.S))
    script = tmp_path / "example.py"
    script.write_text(code)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    output = capsys.readouterr().out
    assert "decaying tops per event: [4]" in output
    assert (tmp_path / "gtt_1200_100.hepmc").is_file()
