"""LHE files: the <init> block, the event count, the errors, and a Pythia8 shower of them."""

from __future__ import annotations

import bz2
import gzip
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.errors import EventFileError, SLHAError, UsageError
from recast.events.lhe import LHEProcess, lhe_settings, read_lhe_info, shower

SIGMA_PB = 1234.5
BEAM_GEV = 6500.0
ELECTRON_GEV = 0.000511

Vector = tuple[float, float, float, float]  # px, py, pz, E


def two_to_two(m_pair: float, rapidity: float, cos_theta: float, phi: float, m: float) -> dict:
    """Momenta of q(+z) q̄(-z) → X → f f̄ with massless quarks, X of mass m_pair at rapidity
    ``rapidity`` and two daughters of mass ``m`` at angle (cos_theta, phi) in X's frame."""
    x1 = m_pair / (2 * BEAM_GEV) * math.exp(rapidity)
    x2 = m_pair / (2 * BEAM_GEV) * math.exp(-rapidity)
    q1: Vector = (0.0, 0.0, x1 * BEAM_GEV, x1 * BEAM_GEV)
    q2: Vector = (0.0, 0.0, -x2 * BEAM_GEV, x2 * BEAM_GEV)
    p = math.sqrt((m_pair / 2) ** 2 - m**2)
    sin_theta = math.sqrt(1 - cos_theta**2)
    rest = (p * sin_theta * math.cos(phi), p * sin_theta * math.sin(phi), p * cos_theta)
    ch, sh = math.cosh(rapidity), math.sinh(rapidity)

    def boost(px: float, py: float, pz: float, e: float) -> Vector:
        return (px, py, ch * pz + sh * e, ch * e + sh * pz)

    f1 = boost(*rest, m_pair / 2)
    f2 = boost(-rest[0], -rest[1], -rest[2], m_pair / 2)
    pair = tuple(a + b for a, b in zip(q1, q2, strict=True))
    return {"q1": q1, "q2": q2, "pair": pair, "f1": f1, "f2": f2}


def mass(v: Sequence[float]) -> float:
    return math.sqrt(max(v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2, 0.0))


def drell_yan_events(n: int, weight: float) -> list[str]:
    """``n`` events u ū → Z/γ* → e⁻ e⁺ (colour-connected quarks, on-shell electrons)."""
    lines = []
    for i in range(n):
        m_ll = 80.0 + 5.0 * i
        k = two_to_two(m_ll, 0.3 * (i - 2), -0.8 + 0.4 * i, 0.7 * i, ELECTRON_GEV)
        total_in = np.add(k["q1"], k["q2"])
        assert np.allclose(total_in, np.add(k["f1"], k["f2"]), rtol=0, atol=1e-9)
        assert math.isclose(mass(k["f1"]), ELECTRON_GEV, rel_tol=1e-3)
        assert math.isclose(mass(k["pair"]), m_ll, rel_tol=1e-9)

        def row(pid: int, status: int, mothers: str, colours: str, v: Vector, m: float) -> str:
            momenta = " ".join(f"{x:+.12e}" for x in v)
            return f" {pid} {status} {mothers} {colours} {momenta} {m:.6e} 0. 9."

        lines += [
            "<event>",
            f" 5 1 {weight:+.7e} {m_ll:.7e} 7.546771e-03 1.300000e-01",
            row(2, -1, "0 0", "501 0", k["q1"], 0.0),
            row(-2, -1, "0 0", "0 501", k["q2"], 0.0),
            row(23, 2, "1 2", "0 0", k["pair"], m_ll),
            row(11, 1, "3 3", "0 0", k["f1"], ELECTRON_GEV),
            row(-11, 1, "3 3", "0 0", k["f2"], ELECTRON_GEV),
            "</event>",
        ]
    return lines


def lhe_text(
    *,
    strategy: int = 3,
    processes: Sequence[str] = (f"{SIGMA_PB:.6e} 1.234500e+01 {SIGMA_PB:.6e} 1",),
    n_processes: int | None = None,
    events: Sequence[str] | None = None,
    header: Sequence[str] = (),
    weight: float = 1.0,
) -> str:
    nprup = len(processes) if n_processes is None else n_processes
    lines = [
        '<LesHouchesEvents version="3.0">',
        "<header>",
        *header,
        "</header>",
        "<init>",
        f" 2212 2212 {BEAM_GEV:.6e} {BEAM_GEV:.6e} 0 0 247000 247000 {strategy} {nprup}",
        *(f" {p}" for p in processes),
        "<generator name='hand' version='1'>written by tests/test_lhe.py</generator>",
        "</init>",
        *(drell_yan_events(5, weight) if events is None else events),
        "</LesHouchesEvents>",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def dy(tmp_path: Path) -> Path:
    path = tmp_path / "dy.lhe"
    path.write_text(lhe_text())
    return path


@pytest.fixture
def dy_gz(tmp_path: Path) -> Path:
    path = tmp_path / "dy.lhe.gz"
    path.write_bytes(gzip.compress(lhe_text().encode()))
    return path


SLHA_BLOCK = """BLOCK MASS
   1000021   1.23400000E+03   # ~g
   1000022   1.00000000E+02   # ~chi_10
DECAY   1000021   1.00000000E+00
   1.00000000E+00   3   1000022  -6  6
DECAY   1000022   0.00000000E+00
"""


# --- read_lhe_info ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "gzip"])
def test_read_lhe_info_gives_the_init_block_and_the_event_count(
    dy: Path, dy_gz: Path, variant: str
) -> None:
    path = dy if variant == "plain" else dy_gz
    info = read_lhe_info(path)
    assert info.path == path.absolute()
    assert info.beam_ids == (2212, 2212)
    assert info.beam_energies_gev == (6500.0, 6500.0)
    assert info.sqrt_s_gev == pytest.approx(13000.0, rel=1e-12)
    assert info.weighting_strategy == 3
    assert info.processes == (LHEProcess(SIGMA_PB, 12.345, SIGMA_PB, 1),)
    assert info.cross_section_pb == pytest.approx(SIGMA_PB, rel=1e-12)
    assert info.cross_section_error_pb == pytest.approx(12.345, rel=1e-12)
    assert info.pythia_cross_section_pb == info.cross_section_pb
    assert info.n_events == 5
    assert info.mean_weight_pb == 1.0
    assert info.has_slha is False
    assert info.compression == (None if variant == "plain" else "gzip")


def test_processes_add_up_and_their_errors_in_quadrature(tmp_path: Path) -> None:
    path = tmp_path / "two.lhe"
    path.write_text(lhe_text(processes=["3.0 0.3 4.0 11", "4.0 0.4 5.0 12"]))
    info = read_lhe_info(path)
    assert [p.id for p in info.processes] == [11, 12]
    assert info.cross_section_pb == 7.0
    assert info.cross_section_error_pb == pytest.approx(0.5, rel=1e-12)


def test_an_slha_block_in_the_header_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "susy.lhe"
    path.write_text(lhe_text(header=["<slha>", SLHA_BLOCK, "</slha>"]))
    assert read_lhe_info(path).has_slha is True


def test_weights_that_sum_to_sigma_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Strategy -4 (MadGraph's), weights σ/N (event_norm = sum): Pythia would say σ/N."""
    path = tmp_path / "sum.lhe"
    path.write_text(lhe_text(strategy=-4, weight=SIGMA_PB / 5))
    with caplog.at_level(logging.WARNING, logger="recast.events.lhe"):
        info = read_lhe_info(path)
    assert info.pythia_cross_section_pb == pytest.approx(SIGMA_PB / 5, rel=1e-9)
    assert "weights sum to σ instead of averaging to it" in caplog.text
    assert str(path) in caplog.text
    caplog.clear()
    path.write_text(lhe_text(strategy=-4, weight=SIGMA_PB))  # event_norm = average: fine
    with caplog.at_level(logging.WARNING, logger="recast.events.lhe"):
        assert read_lhe_info(path).pythia_cross_section_pb == pytest.approx(SIGMA_PB)
    assert caplog.text == ""


def test_a_file_cut_short_counts_its_complete_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cut.lhe"
    text = lhe_text()
    path.write_text(text[: text.rindex("</event>")])  # inside the fifth event
    with caplog.at_level(logging.WARNING, logger="recast.events.lhe"):
        assert read_lhe_info(path).n_events == 4
    assert "cut short" in caplog.text


# --- errors ----------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(EventFileError) as caught:
        read_lhe_info(path)
    message = str(caught.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    return message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    refused(tmp_path / "nowhere.lhe", "no such file")


def test_a_file_that_is_not_lhe_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "notes.lhe", "just some text\n"), "not an LHE file", "just some")


def test_a_hepmc_file_is_refused_with_the_advice_to_use_it_directly(tmp_path: Path) -> None:
    text = "HepMC::Version 3.02.06\nHepMC::Asciiv3-START_EVENT_LISTING\n"
    refused(write(tmp_path, "events.hepmc", text), "HepMC file", "give it to recast directly")


def test_another_compression_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dy.lhe.bz2"
    path.write_bytes(bz2.compress(lhe_text().encode()))
    refused(path, "bzip2-compressed", "gzip")


def test_a_file_without_init_block_is_refused(tmp_path: Path) -> None:
    text = lhe_text().replace("<init>", "<nit>").replace("</init>", "</nit>")
    refused(write(tmp_path, "noinit.lhe", text), "no <init> block")


def test_an_init_block_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    text = lhe_text().replace(" 2212 2212 ", " 2212 proton ", 1)
    message = refused(write(tmp_path, "badinit.lhe", text), "does not parse", "proton")
    assert "line 5 " in message  # the beams' line: after <LesHouchesEvents>, <header>, ...
    text = lhe_text(strategy=7)
    refused(write(tmp_path, "strategy.lhe", text), "IDWTUP is 7")


@pytest.mark.parametrize(
    ("processes", "n_processes", "shown"),
    [
        (["0.0 0.0 1.0 1"], None, "sum to 0 pb"),
        (["-3.0 0.1 1.0 1"], None, "XSECUP = -3.0 pb"),
        (["nan 0.1 1.0 1"], None, "XSECUP = nan pb"),
        (["inf 0.1 1.0 1"], None, "XSECUP = inf pb"),
        (["1.0 0.1"], None, "is not 'XSECUP XERRUP XMAXUP LPRUP'"),
        (["1.0 0.1 1.0 1"], 2, "declares 2 process(es)"),
    ],
)
def test_an_lhe_without_a_cross_section_is_refused(
    tmp_path: Path, processes: list[str], n_processes: int | None, shown: str
) -> None:
    text = lhe_text(processes=processes, n_processes=n_processes)
    refused(
        write(tmp_path, "nosigma.lhe", text),
        "an LHE without a cross-section",
        shown,
        "normalise the showered events to nothing",
        "--xsec",
        "regenerate",
    )


def test_a_file_without_events_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.lhe", lhe_text(events=[]))
    refused(path, "no events")
    with pytest.raises(EventFileError, match="no events"):
        lhe_settings(path)


# --- lhe_settings ----------------------------------------------------------------------------


def test_settings_read_the_file_by_its_absolute_path(
    dy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(dy.parent)
    settings = lhe_settings("dy.lhe", extra=["PartonLevel:MPI = off"])
    assert settings == [
        "Beams:frameType = 4",
        f"Beams:LHEF = {dy.absolute()}",
        "PartonLevel:MPI = off",
    ]


@pytest.mark.parametrize(
    "setting", ["Beams:frameType = 1", "beams:LHEF = other.lhe", "Random:seed = 3"]
)
def test_settings_owned_by_lhe_settings_are_refused(dy: Path, setting: str) -> None:
    with pytest.raises(UsageError, match="lhe_settings sets it"):
        lhe_settings(dy, extra=[setting])


def test_a_path_with_a_blank_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "my events.lhe", lhe_text())
    with pytest.raises(UsageError, match="blank") as caught:
        lhe_settings(path)
    assert str(path) in str(caught.value)


def test_an_slha_header_is_read_by_pythia_unless_told_otherwise(tmp_path: Path) -> None:
    path = write(tmp_path, "susy.lhe", lhe_text(header=["<slha>", SLHA_BLOCK, "</slha>"]))
    assert lhe_settings(path)[2] == "SLHA:readFrom = 1"
    with pytest.raises(UsageError, match="SLHA:readFrom = 2"):
        lhe_settings(path, extra=["SLHA:file = other.slha"])
    both = ["SLHA:readFrom = 2", "SLHA:file = other.slha"]
    assert lhe_settings(path, extra=both)[-2:] == both
    broken = SLHA_BLOCK.replace("1.23400000E+03", "nan")
    path = write(tmp_path, "broken.lhe", lhe_text(header=["<slha>", broken, "</slha>"]))
    with pytest.raises(SLHAError, match="the <slha> block of its header"):
        lhe_settings(path)


# --- showering with Pythia8 ------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "gzip"])
def test_pythia_showers_the_events_with_the_files_cross_section(
    dy: Path, dy_gz: Path, variant: str
) -> None:
    """Strategy 3 (unweighted, σ in <init>): Pythia's sigmaGen is XSECUP from the first event."""
    pytest.importorskip("pythia8mc")
    from recast.events.pythia import generate

    path = dy if variant == "plain" else dy_gz
    events = ak.concatenate(list(generate(lhe_settings(path), n_events=5, seed=1)))
    assert len(events) == 5
    assert ak.all(ak.num(events.particles) > 20)  # beams, shower, remnants, hadrons
    final = events.particles[events.particles.status == 1]
    assert ak.all(ak.sum(final.pid == 11, axis=1) >= 1)
    assert ak.all(ak.sum(final.pid == -11, axis=1) >= 1)
    sqrt_s = ak.sum(final.E, axis=1).to_numpy()
    assert np.allclose(sqrt_s, 13000.0, rtol=1e-6)
    assert np.allclose(events.cross_section.to_numpy(), SIGMA_PB, rtol=1e-6, atol=0)


def test_pythia_reports_the_mean_weight_for_strategy_4(tmp_path: Path) -> None:
    """Strategy -4 with weights σ/N: Pythia reports σ/N, as read_lhe_info predicts."""
    pytest.importorskip("pythia8mc")
    path = write(tmp_path, "sum.lhe", lhe_text(strategy=-4, weight=SIGMA_PB / 5))
    predicted = read_lhe_info(path).pythia_cross_section_pb
    events = ak.concatenate(list(shower(path, seed=1)))
    assert len(events) == 5
    assert events.cross_section[-1] == pytest.approx(predicted, rel=1e-6)
    with pytest.raises(UsageError, match="holds 5 events"):
        shower(path, seed=1, n_events=6)
