"""build_objects as a whole: MET, chunking invariance, the layout, bad inputs, the docs page."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.errors import UsageError
from recast.objects import DEFAULT_INVISIBLE, ObjectConfig, build_objects, toy_truth_chunk
from recast.objects.ancestry import History
from recast.objects.kinematics import FlatChunk

from .truth_events import Sketch, chunk

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def toy() -> ak.Array:
    return toy_truth_chunk(40, n_particles=100, seed=7)


def test_met_is_the_vector_sum_of_the_invisibles(toy: ak.Array) -> None:
    objects = build_objects(toy)
    p = toy.particles
    final = p.status == 1
    listed = np.isin(np.abs(ak.flatten(p.pid)), DEFAULT_INVISIBLE)
    invisible = final & ak.unflatten(listed, ak.num(p))
    px, py = ak.sum(p.px[invisible], axis=1), ak.sum(p.py[invisible], axis=1)
    assert objects.met.px.tolist() == pytest.approx(px.tolist(), abs=1e-9)
    assert objects.met.py.tolist() == pytest.approx(py.tolist(), abs=1e-9)
    assert objects.met.pt.tolist() == pytest.approx(np.hypot(px, py).tolist(), abs=1e-9)
    assert ak.sum(objects.met.pt > 0) > 10
    visible = final & ~invisible
    assert objects.met_visible.px.tolist() == pytest.approx(
        (-ak.sum(p.px[visible], axis=1)).tolist(), abs=1e-9
    )
    assert ak.all((objects.met.phi > -np.pi) & (objects.met.phi <= np.pi))


def test_met_counts_a_configured_invisible_and_always_neutrinos() -> None:
    s = Sketch()
    v = s.hard_vertex()
    s.add(12, 30.0, 0.0, 0.0, production=v)
    s.add(9000006, 40.0, 0.0, np.pi / 2, production=v, mass=50.0)  # a dark-matter candidate
    default = build_objects(chunk(s))
    assert default.met.pt.tolist() == pytest.approx([30.0])
    dark = build_objects(chunk(s), ObjectConfig(invisible=(9000006,)))
    assert dark.met.pt.tolist() == pytest.approx([50.0])
    assert dark.jets.pt.tolist() == [[]]


def test_chunking_does_not_change_the_objects() -> None:
    events = toy_truth_chunk(15, n_particles=80, seed=11)
    busy = ObjectConfig(
        large_R="reclustered", trim_fcut=0.05, flavour_matching="ghost", large_R_min_pt=40.0
    )
    for config in (ObjectConfig(), busy):
        whole = build_objects(events, config)
        for size in (1, 7):
            parts = [build_objects(events[i : i + size], config) for i in range(0, 15, size)]
            assert ak.to_list(ak.concatenate(parts)) == ak.to_list(whole)


def test_every_collection_is_pt_ordered_with_phi_in_range(toy: ak.Array) -> None:
    objects = build_objects(toy, ObjectConfig(large_R="particles", large_R_min_pt=30.0))
    for name in ("jets", "large_R_jets", "electrons", "muons", "taus", "photons"):
        c = objects[name]
        assert ak.all(c.pt[:, :-1] >= c.pt[:, 1:]), name
        assert ak.all((c.phi > -np.pi) & (c.phi <= np.pi)), name
    assert ak.sum(ak.num(objects.electrons)) + ak.sum(ak.num(objects.muons)) > 5
    assert ak.sum(objects.jets.flavour == 5) > 5
    assert ak.sum(objects.jets.flavour == 4) > 2


def test_record_layout_and_pass_through(toy: ak.Array) -> None:
    objects = build_objects(toy)
    assert objects.fields == [
        "event_number", "weight", "weights", "jets", "electrons", "muons", "taus", "photons",
        "met", "met_visible",
    ]  # fmt: skip
    assert objects.event_number.tolist() == toy.event_number.tolist()
    assert objects.weight.tolist() == toy.weight.tolist()
    assert (objects.jets + objects.jets).pt.ndim == 2  # vector behaviour: Momentum4D
    assert "large_R_jets" in build_objects(toy[:2], ObjectConfig(large_R="reclustered")).fields


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"jet_radius": 0.0}, "jet_radius = 0.0 must be a finite number > 0"),
        ({"jet_min_pt": -1.0}, "jet_min_pt = -1.0 must be a finite number >= 0"),
        ({"isolation_dr": float("nan")}, "isolation_dr = nan"),
        ({"large_R": "fat"}, "large_R = 'fat' must be None or one of"),
        ({"flavour_matching": "dr"}, "flavour_matching = 'dr'"),
        ({"trim_fcut": 1.5}, "trim_fcut = 1.5 must be in [0, 1)"),
        ({"invisible": ("chi10",)}, "invisible = ('chi10',) must be a list of PDG ids"),
    ],
)
def test_bad_settings_are_refused_by_name(settings: dict, words: str) -> None:
    with pytest.raises(UsageError, match=re.escape(words)):
        ObjectConfig(**settings)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(UsageError, match=r"jet_radius = -1.*; flavour_dr = 0"):
        ObjectConfig(jet_radius=-1.0, flavour_dr=0.0)
    assert ObjectConfig(invisible=(-1000022, 12)).invisible == (12, 1000022)


def test_bad_chunks_are_refused_with_the_event_number() -> None:
    s = Sketch()
    s.add(211, 30.0, 0.0, 0.0, production=3)  # the event has no vertex 3
    with pytest.raises(UsageError, match="event_number 2: particle 0 has production_vertex 3"):
        build_objects(chunk(Sketch(), s))
    s = Sketch()
    s.add_p4(211, (np.nan, 1.0, 1.0, 5.0))
    with pytest.raises(UsageError, match="event_number 1: particle 0 has a non-finite"):
        build_objects(chunk(s))
    with pytest.raises(UsageError, match=r"layout of recast\.events\.chunk"):
        build_objects(ak.Array([{"x": 1}]))


def test_nearest_ancestor_through_several_parents_and_nested_seeds() -> None:
    s = Sketch()
    v0, v1, v2, v3 = s.vertex(), s.vertex(), s.vertex(), s.vertex()
    a = s.add(2, 10.0, 0.0, 0.0, status=23, production=v0, end=v1)  # two partons → v1
    b = s.add(21, 10.0, 0.0, 0.0, status=23, production=v0, end=v1)
    h = s.add(511, 10.0, 0.0, 0.0, status=2, production=v1, end=v2)  # seed
    d = s.add(421, 5.0, 0.0, 0.0, status=2, production=v2, end=v3)  # nested seed
    k = s.add(321, 2.0, 0.0, 0.0, production=v3)
    m = s.add(13, 2.0, 0.0, 0.0, production=v2)
    history = History(FlatChunk.from_events(chunk(s)))
    seed = np.zeros(6, bool)
    seed[[h, d]] = True
    label = history.nearest_ancestor(seed)
    assert label.tolist() == [-1, -1, -1, h, d, h]
    assert history.has_child(seed).tolist() == [True, True, True, False, False, False]
    parton = np.zeros(6, bool)
    parton[a] = True
    assert history.descends_from(parton).tolist() == [False, False, True, True, True, True]
    assert b == 1 and k == 4 and m == 5


def test_a_cyclic_history_terminates() -> None:
    s = Sketch()
    v0, v1 = s.vertex(), s.vertex()
    s.add(511, 10.0, 0.0, 0.0, status=2, production=v0, end=v1)
    s.add(511, 10.0, 0.0, 0.0, status=2, production=v1, end=v0)
    history = History(FlatChunk.from_events(chunk(s)))
    # in a cycle the seed is its own ancestor, through the other particle
    assert history.nearest_ancestor(np.array([True, False])).tolist() == [0, 0]


def test_fastjet_banner_goes_to_stderr_not_stdout() -> None:
    probe = (
        "from recast.objects import build_objects, toy_truth_chunk;"
        "build_objects(toy_truth_chunk(2))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout == ""
    assert "FastJet" in result.stderr


def test_docs_example_runs_as_written_and_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (DOCS / "objects.md").read_text()
    script = tmp_path / "example.py"
    script.write_text("\n".join(re.findall(r"```python\n(.*?)```", page, re.S)))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    shown = re.search(r"It prints\n\n```\n(.*?)```", page, re.S)
    assert shown is not None
    assert capsys.readouterr().out == shown.group(1)
