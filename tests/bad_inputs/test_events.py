"""Event inputs: physics sanity and plain refusals, for `inspect`, `cache` and `run`.

The files are small HepMC3 texts made here, 13 TeV p p → Z (→ μ⁺μ⁻) + 2 gluons with beams,
so that each case changes one thing: a unit line, a momentum, a parent link, the
cross-section, a duplicated input. Each refusal names the file, the event or field, and the
fix; the cases that are correct behaviour (a warning and a right number) say so.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import awkward as ak
import pytest

from recast.events.cache import write_cache
from recast.events.hepmc import HepMCReader

from . import assert_refused, invoke

BUNDLE = "EXAMPLE_JETS_MET"  # √s = 13 TeV
HEADER = "HepMC::Version 3.02.05\nHepMC::Asciiv3-START_EVENT_LISTING\nW nominal\n"
FOOTER = "HepMC::Asciiv3-END_EVENT_LISTING\n"
#: (pid, status, px, py, pz, mass) in GeV; (parent field of the P line) in PARENTS
PARTICLES = [
    (2212, 4, 0.0, 0.0, 6500.0, 0.938),
    (2212, 4, 0.0, 0.0, -6500.0, 0.938),
    (23, 2, 30.0, 0.0, 40.0, 91.19),
    (13, 1, 45.0, 10.0, 30.0, 0.10566),
    (-13, 1, -15.0, -10.0, 10.0, 0.10566),
    (21, 1, -60.0, 5.0, 100.0, 0.0),
    (21, 1, 30.0, -5.0, -200.0, 0.0),
]
PARENTS = [0, 0, -1, -2, -2, -1, -1]
VERTICES = ["V -1 0 [1,2]", "V -2 0 [3]"]


def event(
    number: int,
    *,
    scale: float = 1.0,
    unit: str = "GEV",
    xsec: str | None = "1.5 0.01",
    edit: Callable[[list[list[str]]], None] | None = None,
    statuses: dict[int, int] | None = None,
) -> str:
    """One event's text; ``scale`` multiplies every momentum (a unit mix-up, another √s),
    ``edit`` changes the fields of the P lines (particle i is row i - 1)."""
    rows = []
    for i, (pid, status, px, py, pz, m) in enumerate(PARTICLES):
        e = math.sqrt(px * px + py * py + pz * pz + m * m)
        status = (statuses or {}).get(i + 1, status)
        values = [scale * x for x in (px, py, pz, e, m)]
        rows.append(["P", str(i + 1), str(PARENTS[i]), str(pid), *map(repr, values), str(status)])
    if edit is not None:
        edit(rows)
    lines = [f"E {number} {len(VERTICES)} {len(rows)}", f"U {unit} MM", "W 1.0"]
    if xsec is not None:
        lines.append(f"A 0 GenCrossSection {xsec} -1 -1")
    body = [" ".join(r) for r in rows]
    lines += [*body[:2], VERTICES[0], *body[2:3], VERTICES[1], *body[3:]]
    return "\n".join(lines) + "\n"


def hepmc(path: Path, events: list[str] | None = None, n: int = 4, **options: object) -> Path:
    """A HepMC3 file of ``events``, or of ``n`` good events with ``options``."""
    texts = events if events is not None else [event(i, **options) for i in range(n)]
    path.write_text(HEADER + "".join(texts) + FOOTER)
    return path


def with_bad_third(path: Path, **options: object) -> Path:
    """Four events, the third (number 2) made by ``options``."""
    return hepmc(path, [event(0), event(1), event(2, **options), event(3)])


def set_field(particle: int, column: int, value: str) -> Callable[[list[list[str]]], None]:
    """An edit: column 4..8 is px, py, pz, E, m; 2 the parent."""

    def edit(rows: list[list[str]]) -> None:
        rows[particle - 1][column] = value

    return edit


PX, PY, PZ, E = 4, 5, 6, 7


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_the_good_file_is_read_with_its_beams_and_nothing_to_say(work: Path) -> None:
    path = hepmc(work / "good.hepmc")
    result = invoke(["inspect", path.name, "-o", "-"], work)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert summary["events"] == 4 and summary["bad_events"] == []
    assert summary["sqrt_s_gev"] == pytest.approx([13000.0, 13000.0])
    assert summary["empty_events"] == 0 and summary["events_without_beams"] == 0


# -- unphysical momenta, NaN and infinities: bad events, named ------------------------------

MOMENTA = {
    "negative energy": (set_field(4, E, "-500.0"), ["E = -500 GeV < 0"]),
    "px = 1e300": (set_field(6, PX, "1e300"), ["particle 6", "1e+300", "above 10"]),
    "spacelike": (set_field(7, PX, "900.0"), ["particle 7", "> E", "m²"]),
    "NaN": (set_field(5, PY, "nan"), ["particle 5", "py = nan"]),
    "infinity": (set_field(5, PZ, "inf"), ["particle 5", "pz = inf"]),
    "absurd energy": (set_field(3, E, "2e6"), ["particle 3", "above 10", "beams' total energy"]),
}


@pytest.mark.parametrize("case", sorted(MOMENTA))
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_an_unphysical_momentum_is_refused(work: Path, case: str, command: str) -> None:
    edit, words = MOMENTA[case]
    with_bad_third(work / "bad.hepmc", edit=edit)
    args = ["inspect", "bad.hepmc"] if command == "inspect" else ["run", BUNDLE, "bad.hepmc"]
    assert_refused(
        args, work, ["bad.hepmc", "event 2 (event #3 in the file", "--skip-bad", *words], 2
    )


def test_an_unphysical_event_is_skipped_and_counted_with_skip_bad(work: Path) -> None:
    with_bad_third(work / "bad.hepmc", edit=set_field(4, E, "-500.0"))
    result = invoke(["inspect", "bad.hepmc", "--skip-bad", "-o", "-"], work)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert summary["events"] == 3
    assert [b["number"] for b in summary["bad_events"]] == [2]
    assert "E = -500 GeV < 0" in summary["bad_events"][0]["reason"]


def test_a_run_with_skip_bad_counts_the_unphysical_event(work: Path) -> None:
    with_bad_third(work / "bad.hepmc", edit=set_field(6, PX, "1e300"))
    result = invoke(["run", BUNDLE, "bad.hepmc", "--skip-bad", "-o", "out.json"], work)
    assert result.exit_code == 0, result.output
    document = json.loads((work / "out.json").read_text())
    assert document["provenance"]["bad_events_skipped"] == 1
    assert document["normalisation"]["events"] == 3


def test_the_cache_command_refuses_an_unphysical_event(work: Path) -> None:
    with_bad_third(work / "bad.hepmc", edit=set_field(4, E, "-500.0"))
    assert_refused(
        ["cache", "bad.hepmc", "-o", "objects.parquet"],
        work,
        ["bad.hepmc", "event 2", "E = -500 GeV < 0", "--skip-bad"],
        2,
    )


# -- broken links: reported, never mended -----------------------------------------------------

ORPHAN = "no production vertex"
LINKS = {
    # P 4's parent: a vertex that does not exist; HepMC3 would orphan the muon
    "a missing production vertex": (set_field(4, 2, "-9"), ["particle 4 (status 1)", ORPHAN]),
    # P 6's parent: a particle that does not exist
    "a missing parent particle": (set_field(6, 2, "55"), ["particle 6 (status 1)", ORPHAN]),
    # P 3 made by the vertex it decays in
    "a particle made by its own decay": (
        set_field(3, 2, "-2"),
        ["particle 3 (status 2)", "enters the vertex -2 it comes out of"],
    ),
}


@pytest.mark.parametrize("case", sorted(LINKS))
def test_a_broken_parent_link_is_refused(work: Path, case: str) -> None:
    edit, words = LINKS[case]
    with_bad_third(work / "links.hepmc", edit=edit)
    assert_refused(
        ["inspect", "links.hepmc"],
        work,
        ["links.hepmc", "event 2", "broken link", *words, "--skip-bad"],
        2,
    )


def test_a_link_beyond_the_declared_vertices_is_refused_in_a_run(work: Path) -> None:
    path = with_bad_third(work / "links.hepmc")
    text = path.read_text().split("E 2 ", 1)
    path.write_text(text[0] + "E 2 " + text[1].replace("V -2 0 [3]", "V -7 0 [3]", 1))
    assert_refused(
        ["run", BUNDLE, "links.hepmc"],
        work,
        ["links.hepmc", "event 2", "vertex -7", "declares", "--skip-bad"],
        2,
    )


# -- cross-sections -----------------------------------------------------------------------------


@pytest.mark.parametrize("xsec", ["-1 0.1", "0 0", "nan nan"])
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_a_cross_section_that_is_not_positive_is_refused(
    work: Path, xsec: str, command: str
) -> None:
    hepmc(work / "xs.hepmc", xsec=xsec)
    args = ["inspect", "xs.hepmc"] if command == "inspect" else ["run", BUNDLE, "xs.hepmc"]
    value = xsec.split()[0]
    assert_refused(args, work, ["xs.hepmc", "event 0", f"cross-section is {value} pb", "--xsec"], 2)


def test_a_given_cross_section_overrides_a_negative_one_with_a_warning(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hepmc(work / "xs.hepmc", xsec="-1 0.1")
    result = invoke(["run", BUNDLE, "xs.hepmc", "--xsec", "2pb", "-o", "out.json"], work)
    assert result.exit_code == 0, result.output
    document = json.loads((work / "out.json").read_text())
    assert document["normalisation"]["cross_section_pb"] == 2.0
    assert all(y["value"] >= 0 for y in document["yields"].values())
    assert "generator_cross_sections_pb" not in document["provenance"]
    assert "-1 pb; not used (one is given" in caplog.text


@pytest.mark.parametrize("value", [-1.0, 0.0, math.inf])
def test_a_cache_with_a_bad_cross_section_is_refused(work: Path, value: float) -> None:
    source = hepmc(work / "good.hepmc")
    chunks = [
        ak.with_field(c, ak.full_like(c.cross_section, value), "cross_section")
        for c in HepMCReader(source)
    ]
    write_cache(work / "truth.parquet", chunks, source=source)
    assert_refused(
        ["run", BUNDLE, "truth.parquet"],
        work,
        ["truth.parquet", "event 0", f"cross-section of {value:g} pb", "--xsec"],
        2,
    )


def test_a_cache_of_a_file_without_cross_section_asks_for_one_as_the_file_does(
    work: Path,
) -> None:
    """The cache keeps the generator's cross-section; of a file without one it keeps none,
    and normalising needs --xsec with the very message the file gives."""
    hepmc(work / "none.hepmc", xsec=None)
    made = invoke(["cache", "none.hepmc", "-o", "none.parquet", "--analysis", BUNDLE], work)
    assert made.exit_code == 0, made.output
    messages = []
    for name in ("none.hepmc", "none.parquet"):
        refusal = assert_refused(
            ["run", BUNDLE, name], work, ["the events carry no cross-section", "--xsec"], 2
        )
        messages.append(refusal.message)
    assert messages[0] == messages[1]
    given = invoke(["run", BUNDLE, "none.parquet", "--xsec", "1.5pb", "-o", "out.json"], work)
    assert given.exit_code == 0, given.output
    assert json.loads((work / "out.json").read_text())["normalisation"]["cross_section_pb"] == 1.5


def test_a_cache_keeps_the_files_cross_section(work: Path) -> None:
    hepmc(work / "a.hepmc", xsec="1.5 0.01")
    made = invoke(["cache", "a.hepmc", "-o", "a.parquet", "--analysis", BUNDLE], work)
    assert made.exit_code == 0, made.output
    ran = invoke(["run", BUNDLE, "a.parquet", "-o", "out.json"], work)
    assert ran.exit_code == 0, ran.output
    document = json.loads((work / "out.json").read_text())
    assert document["normalisation"]["cross_section_pb"] == 1.5
    assert document["provenance"]["generator_cross_sections_pb"] == [
        {"value": 1.5, "error": 0.01, "events": 4}
    ]


# -- units against the beams ------------------------------------------------------------------


def test_gev_momenta_labelled_mev_are_refused(work: Path) -> None:
    hepmc(work / "mev.hepmc", unit="MEV")  # 6.5 GeV beams for a 13 TeV analysis
    assert_refused(
        ["run", BUNDLE, "mev.hepmc", "--xsec", "1pb"],
        work,
        ["mev.hepmc", "event 0", "√s is 13 GeV", "MEV", "13000 GeV", "'U GEV"],
        2,
    )


def test_mev_momenta_labelled_gev_are_refused(work: Path) -> None:
    hepmc(work / "gev.hepmc", scale=1000.0)
    assert_refused(
        ["run", BUNDLE, "gev.hepmc", "--xsec", "1pb"],
        work,
        ["gev.hepmc", "event 0", "√s is 1.3e+07 GeV", "GEV", "'U MEV"],
        2,
    )


def test_events_at_another_energy_are_refused(work: Path) -> None:
    hepmc(work / "8tev.hepmc", scale=8.0 / 13.0)
    assert_refused(
        ["run", BUNDLE, "8tev.hepmc", "--xsec", "1pb"],
        work,
        ["8tev.hepmc", "event 0", "√s is 8000 GeV", "another collision energy", "13 TeV"],
        2,
    )


def test_inspect_reports_the_beams_sqrt_s_of_a_mislabelled_file(work: Path) -> None:
    hepmc(work / "mev.hepmc", unit="MEV")
    result = invoke(["inspect", "mev.hepmc"], work)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())  # the table wraps long rows
    assert "0.013 TeV" in text and "far too low for the LHC" in text


def test_a_file_without_beams_is_run_with_a_warning(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hepmc(work / "nobeams.hepmc", statuses={1: 3, 2: 3})
    result = invoke(["run", BUNDLE, "nobeams.hepmc", "--xsec", "1pb", "-o", "out.json"], work)
    assert result.exit_code == 0, result.output
    assert "no beam particles (status 4)" in caplog.text
    assert "cannot be checked" in caplog.text


# -- empty events -------------------------------------------------------------------------------

EMPTY = {4: 2, 5: 2, 6: 2, 7: 2}  # every final-state particle made intermediate


def test_a_file_of_empty_events_is_refused(work: Path) -> None:
    hepmc(work / "empty.hepmc", statuses=EMPTY)
    assert_refused(
        ["inspect", "empty.hepmc"],
        work,
        ["empty.hepmc", "none of its 4 event(s)", "final-state particle (status 1)", "generator"],
        2,
    )


def test_a_run_over_a_file_of_empty_events_is_refused(work: Path) -> None:
    hepmc(work / "empty.hepmc", statuses=EMPTY)
    assert_refused(
        ["run", BUNDLE, "empty.hepmc", "--xsec", "1pb"],
        work,
        ["empty.hepmc", "none of its 4 event(s)", "final-state particle"],
        2,
    )


def test_some_empty_events_are_counted_and_reported(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hepmc(work / "some.hepmc", [event(0), event(1, statuses=EMPTY), event(2), event(3)])
    result = invoke(["run", BUNDLE, "some.hepmc", "--xsec", "1pb", "-o", "out.json"], work)
    assert result.exit_code == 0, result.output
    document = json.loads((work / "out.json").read_text())
    assert document["provenance"]["empty_events"] == 1
    assert document["normalisation"]["events"] == 4  # kept: they count in Σw
    assert "1 of 4 event(s) have no final-state particle" in caplog.text
    summary = invoke(["inspect", "some.hepmc", "-o", "-"], work).stdout
    assert json.loads(summary[: summary.rindex("}") + 1])["empty_events"] == 1


# -- the same events twice ----------------------------------------------------------------------


def _copy(work: Path) -> list[str]:
    shutil.copy(work / "a.hepmc", work / "b.hepmc")
    return ["a.hepmc", "b.hepmc"]


def _symlink(work: Path) -> list[str]:
    (work / "b.hepmc").symlink_to(work / "a.hepmc")
    return ["a.hepmc", "b.hepmc"]


def _hardlink(work: Path) -> list[str]:
    os.link(work / "a.hepmc", work / "b.hepmc")
    return ["a.hepmc", "b.hepmc"]


def _twice(work: Path) -> list[str]:
    return ["a.hepmc", "a.hepmc"]


def _through_a_folder(work: Path) -> list[str]:
    (work / "sub").mkdir()
    return ["a.hepmc", "sub/../a.hepmc"]


DUPLICATES = {
    "same path": (_twice, "is given twice"),
    "same file by another path": (_through_a_folder, "are the same file"),
    "symbolic link": (_symlink, "are the same file"),
    "hard link": (_hardlink, "are the same file (hard links)"),
    "copy": (_copy, "have identical contents"),
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_the_same_events_twice_are_refused(work: Path, case: str) -> None:
    make, words = DUPLICATES[case]
    hepmc(work / "a.hepmc")
    inputs = make(work)
    assert_refused(
        ["run", BUNDLE, *inputs, "--xsec", "1pb"],
        work,
        [inputs[0], inputs[1], words, "counted twice", "give each sample once"],
        2,
    )


def test_a_cache_beside_its_source_is_refused(work: Path) -> None:
    hepmc(work / "a.hepmc")
    made = invoke(["cache", "a.hepmc", "-o", "a.parquet", "--analysis", BUNDLE], work)
    assert made.exit_code == 0, made.output
    assert_refused(
        ["run", BUNDLE, "a.hepmc", "a.parquet", "--xsec", "1pb"],
        work,
        ["a.hepmc", "a.parquet", "the cache was made from the file", "counted twice"],
        2,
    )


def test_different_files_of_equal_size_are_fine(work: Path) -> None:
    hepmc(work / "a.hepmc")
    hepmc(work / "b.hepmc", [event(i + 5) for i in range(4)])  # same length, other numbers
    assert (work / "a.hepmc").stat().st_size == (work / "b.hepmc").stat().st_size
    result = invoke(["run", BUNDLE, "a.hepmc", "b.hepmc", "--xsec", "1pb", "-o", "o.json"], work)
    assert result.exit_code == 0, result.output
    assert json.loads((work / "o.json").read_text())["normalisation"]["events"] == 8


# -- files that are not readable HepMC3 ---------------------------------------------------------

LHE = '<LesHouchesEvents version="3.0">\n<header>\n</header>\n</LesHouchesEvents>\n'
HEPMC2 = "HepMC::Version 2.06.09\nHepMC::IO_GenEvent-START_EVENT_LISTING\nE 1 -1\n"


def _truncated(path: Path) -> None:
    text = hepmc(path).read_text()
    path.write_text(text[: text.index("E 2 ") + 120])


def _garbage(path: Path) -> None:
    text = hepmc(path).read_text()
    path.write_text(text.replace("\nV -2 0 [3]\n", "\nV -2 0 [3]\nQ this is no HepMC line\n", 1))


FILES: dict[str, tuple[Callable[[Path], object], list[str]]] = {
    "empty": (lambda p: p.write_bytes(b""), ["the file is empty"]),
    "blank": (lambda p: p.write_text("\n\n  \n"), ["nothing but blank space"]),
    "LHE": (lambda p: p.write_text(LHE), ["Les Houches", "parton shower"]),
    "HepMC2": (lambda p: p.write_text(HEPMC2), ["HepMC2", "convert"]),
    "truncated": (_truncated, ["event 2", "truncated"]),
    "garbage line": (_garbage, ["event 0", "skip-bad"]),
}


@pytest.mark.parametrize("case", sorted(FILES))
@pytest.mark.parametrize("command", ["inspect", "cache", "run"])
def test_an_unreadable_file_is_refused(work: Path, case: str, command: str) -> None:
    make, words = FILES[case]
    make(work / "in.hepmc")
    args = {
        "inspect": ["inspect", "in.hepmc"],
        "cache": ["cache", "in.hepmc", "-o", "in.parquet"],
        "run": ["run", BUNDLE, "in.hepmc", "--xsec", "1pb"],
    }[command]
    assert_refused(args, work, ["in.hepmc", *words], 2)


def test_a_file_of_empty_events_read_by_two_workers_is_refused(work: Path) -> None:
    hepmc(work / "empty.hepmc", n=6, statuses=EMPTY)
    assert_refused(
        ["run", BUNDLE, "empty.hepmc", "--xsec", "1pb", "--workers", "2"],
        work,
        ["empty.hepmc", "none of the 6 event(s)", "final-state particle"],
        2,
    )


def test_validate_refuses_the_same_file_twice(work: Path) -> None:
    hepmc(work / "a.hepmc")
    assert_refused(
        ["validate", BUNDLE, "a.hepmc", work / "a.hepmc", "--benchmark", "gtt_1200_100"],
        work,
        ["a.hepmc and ", str(work / "a.hepmc"), "are the same file", "counted twice"],
        2,
    )


@pytest.mark.parametrize("value", [-2.0, 0.0])
def test_generated_events_with_a_bad_cross_section_are_refused(value: float) -> None:
    from recast.errors import EventFileError
    from recast.events.sanity import checked_cross_sections

    chunk = ak.Array({"event_number": [7, 8], "cross_section": [1.0, value]})
    with pytest.raises(EventFileError, match=rf"Pythia8 .*: event 8 .* {value:g} pb.*--xsec"):
        checked_cross_sections(chunk, "Pythia8 from gtt.slha")
    blanked = checked_cross_sections(chunk, "Pythia8 from gtt.slha", check=False)
    assert blanked.cross_section[0] == 1.0 and math.isnan(blanked.cross_section[1])


def test_skipping_every_event_for_its_cross_section_still_says_what_to_do(work: Path) -> None:
    hepmc(work / "xs.hepmc", xsec="-1 0.1")
    assert_refused(
        ["inspect", "xs.hepmc", "--skip-bad"],
        work,
        ["xs.hepmc", "no readable events; all 4 event(s) were bad", "-1 pb", "--xsec"],
        2,
    )


def test_a_cache_of_events_at_another_energy_is_refused(work: Path) -> None:
    source = hepmc(work / "8tev.hepmc", scale=8.0 / 13.0)
    write_cache(work / "truth.parquet", HepMCReader(source), source=source)
    assert_refused(
        ["run", BUNDLE, "truth.parquet", "--xsec", "1pb"],
        work,
        ["truth.parquet", "event 0", "√s is 8000 GeV", "13000 GeV", "generated at 13 TeV"],
        2,
    )


# -- text HepMC3 would crash on or misread: caught before it parses ------------------------------


def _third_event_text(path: Path, old: str, new: str) -> Path:
    """Four good events, ``old`` replaced by ``new`` in the third (number 2) only."""
    texts = [event(i) for i in range(4)]
    assert old in texts[2]
    texts[2] = texts[2].replace(old, new, 1)
    return hepmc(path, texts)


XSEC_LINE = "A 0 GenCrossSection 1.5 0.01 -1 -1"
TEXT_CASES: dict[str, tuple[str, str, list[str]]] = {
    # a segmentation fault inside HepMC3 before: it reads past a short attribute
    "cross-section with 2 fields": (
        XSEC_LINE,
        "A 0 GenCrossSection 1.5 0.01",
        ["GenCrossSection", "2 field(s)", "needs 4", "--xsec"],
    ),
    "cross-section as text": (
        XSEC_LINE,
        "A 0 GenCrossSection abc 0.01 -1 -1",
        ["'abc'", "not a number"],
    ),
    "infinite cross-section": (
        XSEC_LINE,
        "A 0 GenCrossSection 1e400 0.01 -1 -1",
        ["inf pb", "finite"],
    ),
    # a segmentation fault inside HepMC3 before: it looks the id up without a bounds check
    "vertex naming particle 99999": (
        "V -2 0 [3]",
        "V -2 0 [3,99999]",
        ["names particle 99999", "declares 7 particles"],
    ),
    "no W line under a weight name": ("W 1.0\n", "", ["no W line (0 weights)", "header names 1"]),
    "weight nan": ("W 1.0\n", "W nan\n", ["'W nan'", "finite weight"]),
    "weight 1e200": ("W 1.0\n", "W 1e200\n", ["1e+200", "outside the range", "1e+30"]),
    "subnormal weight": ("W 1.0\n", "W 1e-320\n", ["outside the range", "1e-30"]),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_text_hepmc3_would_crash_on_or_misread_is_a_bad_event(
    work: Path, case: str, command: str
) -> None:
    old, new, words = TEXT_CASES[case]
    _third_event_text(work / "bad.hepmc", old, new)
    args = ["inspect", "bad.hepmc"] if command == "inspect" else ["run", BUNDLE, "bad.hepmc"]
    refusal = assert_refused(
        args, work, ["bad.hepmc", "event 2 (event #3 in the file", "--skip-bad", *words], 2
    )
    assert "skip_bad=True" not in refusal.message  # the command line names its option only


def test_a_vertex_naming_a_missing_particle_is_skipped_with_skip_bad(work: Path) -> None:
    _third_event_text(work / "bad.hepmc", "V -2 0 [3]", "V -2 0 [3,99999]")
    reader = HepMCReader(work / "bad.hepmc", skip_bad=True, chunk_size=2)
    numbers = [int(n) for chunk in reader for n in chunk.event_number]
    assert numbers == [0, 1, 3]
    assert [b.number for b in reader.bad_events] == [2]
    assert "names particle 99999" in reader.bad_events[0].reason


def test_a_short_cross_section_under_xsec_is_only_warned_about(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _third_event_text(work / "a.hepmc", XSEC_LINE, "A 0 GenCrossSection 1.5 0.01")
    result = invoke(["run", BUNDLE, "a.hepmc", "--xsec", "1pb", "-o", "o.json"], work)
    assert result.exit_code == 0, result.output
    assert "needs 4" in caplog.text and "not used" in caplog.text
    assert json.loads((work / "o.json").read_text())["normalisation"]["events"] == 4


@pytest.mark.parametrize("command", ["inspect", "run"])
def test_a_byte_order_mark_is_named(work: Path, command: str) -> None:
    path = hepmc(work / "bom.hepmc")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    args = ["inspect", "bom.hepmc"] if command == "inspect" else ["run", BUNDLE, "bom.hepmc"]
    assert_refused(args, work, ["bom.hepmc", "byte-order mark", "line 1", "remove"], 2)


# -- inputs that are not regular files: refused before anything is read -------------------------

NOT_FILES: dict[str, tuple[Callable[[Path], str], list[str]]] = {
    "folder": (lambda w: (w / "d.hepmc").mkdir() or "d.hepmc", ["is a folder"]),
    "device": (lambda w: "/dev/zero", ["not a regular file", "character device"]),
    "proc file": (lambda w: "/proc/self/status", ["special file", "/proc"]),
}


@pytest.mark.parametrize("case", sorted(NOT_FILES))
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_an_input_that_is_not_a_regular_file_is_named_as_such(
    work: Path, case: str, command: str
) -> None:
    make, words = NOT_FILES[case]
    name = make(work)
    args = ["inspect", name] if command == "inspect" else ["run", BUNDLE, name, "--xsec", "1pb"]
    assert_refused(args, work, [name, *words], 2)


@pytest.mark.parametrize("command", ["inspect", "run"])
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(work: Path, command: str) -> None:
    os.mkfifo(work / "fifo.hepmc")
    args = ["inspect", "fifo.hepmc"] if command == "inspect" else ["run", BUNDLE, "fifo.hepmc"]
    done = subprocess.run(  # a subprocess: a hang would be cut by the timeout, not hang pytest
        [sys.executable, "-c", "from recast.cli import main; main()", *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "fifo.hepmc" in done.stderr and "named pipe (FIFO)" in done.stderr


# -- the same events under other bytes: found by the first event -------------------------------


def _gzip_of(work: Path) -> list[str]:
    (work / "a.hepmc.gz").write_bytes(gzip.compress((work / "a.hepmc").read_bytes()))
    return ["a.hepmc", "a.hepmc.gz"]


def _gzip_and_cache(work: Path) -> list[str]:
    _gzip_of(work)
    made = invoke(["cache", "a.hepmc", "-o", "a.parquet", "--analysis", BUNDLE], work)
    assert made.exit_code == 0, made.output
    return ["a.hepmc.gz", "a.parquet"]


def _cut_from(work: Path) -> list[str]:
    text = (work / "a.hepmc").read_text()
    (work / "first.hepmc").write_text(text[: text.index("E 2 ")] + FOOTER)
    return ["a.hepmc", "first.hepmc"]


SAME_EVENTS = {"gzip": _gzip_of, "gzip and cache of the plain file": _gzip_and_cache,
               "cut from it": _cut_from}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SAME_EVENTS))
def test_the_same_events_under_other_bytes_are_refused(work: Path, case: str) -> None:
    hepmc(work / "a.hepmc")
    inputs = SAME_EVENTS[case](work)
    assert_refused(
        ["run", BUNDLE, *inputs, "--xsec", "1pb"],
        work,
        [*inputs, "begin with the same event", "event 0", "counted twice"],
        2,
    )


# -- pyhepmc's import runs Graphviz's `dot`: it must not matter --------------------------------


@pytest.mark.parametrize("dot", ["#!/bin/sh\nsleep 600\n", "not executable"])
def test_a_broken_dot_program_on_path_does_not_matter(tmp_path: Path, dot: str) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "dot").write_text(dot)
    (tools / "dot").chmod(0o755 if dot.startswith("#!") else 0o644)
    path = hepmc(tmp_path / "a.hepmc")
    done = subprocess.run(
        [sys.executable, "-c", "from recast.cli import main; main()", "inspect", str(path)],
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
