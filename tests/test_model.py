"""recast.model: SLHA templates over a grid, production processes by name, the decay report,
`recast points`, and docs/model.md."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import recast.commands.model  # noqa: F401  (registers `recast points` on the group)
from recast.commands.group import cli
from recast.errors import DigestMismatchError, SLHAError, UsageError
from recast.events.slha import gluino_slha
from recast.model import (
    PRODUCTIONS,
    decay_report,
    format_value,
    grid_points,
    load_template,
    points,
    process_settings,
    production,
    production_problems,
    read_points,
    template_from_text,
    write_points,
)
from recast.model.decays import read_spectrum
from recast.xsec import ALIASES, NAMES

from .docs_pages import check_worked_example, page_files

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "model.md"

GTT = gluino_slha(1800, 100)
#: the Gtt spectrum with the two masses as parameters
TEMPLATE = GTT.replace("1.80000000E+03", "{m_gluino}").replace(
    "1.00000000E+02   # ~chi_10", "{m_lsp}   # ~chi_10"
)


def _mass(text: str, pdg: int) -> float:
    return read_spectrum(text)[0][pdg]


def _write_template(folder: Path, text: str = TEMPLATE) -> Path:
    path = folder / "gtt.slha.in"
    path.write_text(text)
    return path


# --- templates -----------------------------------------------------------------------------


def test_the_template_names_its_parameters_in_order() -> None:
    assert template_from_text(TEMPLATE).parameters == ("m_gluino", "m_lsp")


@pytest.mark.parametrize(
    "value", [1800, 1800.0, 2000.5, 0.1 + 0.2, 1e-300, 123456789.123456789, 1e20, -5]
)
def test_a_filled_value_reads_back_as_the_same_number(value: float) -> None:
    assert float(format_value(value)) == value
    (point,) = points(template_from_text(TEMPLATE), {"m_gluino": 3000, "m_lsp": value})
    if value >= 0:
        assert _mass(point.slha, 1000022) == abs(value)


def test_filling_changes_only_the_placeholders() -> None:
    (point,) = points(template_from_text(TEMPLATE), {"m_gluino": 1800, "m_lsp": 100.0})
    expected = GTT.replace("1.80000000E+03", "1800").replace(
        "1.00000000E+02   # ~chi_10", "100   # ~chi_10"
    )
    assert point.slha == expected


def test_a_plain_slha_with_locations_is_the_same_template() -> None:
    locations = {
        "m_gluino": "MASS 1000021",
        "width": "DECAY 1000021",
        "br": "DECAY 1000021 6 1000022 -6",  # daughters in any order
    }
    template = template_from_text(GTT, "gtt.slha", locations)
    assert template.parameters == ("m_gluino", "width", "br")
    (point,) = points(template, {"m_gluino": 2200, "width": 0.5, "br": 1})
    assert _mass(point.slha, 1000021) == 2200
    assert "DECAY   1000021   0.5   # gluino decays" in point.slha
    assert re.search(r"^     1    3   1000022   -6   6", point.slha, re.M)
    by_line = template_from_text(GTT, "gtt.slha", {"br": "DECAY 1000021 line 1"})
    assert by_line.text == template_from_text(GTT, "gtt.slha", {"br": locations["br"]}).text


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("MASS 1000099", "no number at 'MASS 1000099'"),
        ("DECAY 1000021 5 -5 1000022", "no number at"),
        ("NMIX 1", "no number at 'NMIX 1'"),  # NMIX rows have two keys
        ("MASS", "is not 'BLOCK KEY...'"),
        ("MASS gluino", "is not 'BLOCK KEY...'"),
    ],
)
def test_a_location_that_names_no_single_number_is_refused(where: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as e:
        template_from_text(GTT, "gtt.slha", {"p": where})
    assert "gtt.slha" in str(e.value) and "'p'" in str(e.value)


def test_a_location_with_several_numbers_is_refused_naming_the_lines() -> None:
    twice = GTT + "BLOCK MASS\n   1000021   2.0E+03\n"
    with pytest.raises(UsageError, match="names 2 numbers"):
        template_from_text(twice, "gtt.slha", {"m": "MASS 1000021"})


def test_a_template_without_parameters_is_refused() -> None:
    with pytest.raises(UsageError, match="has no parameter"):
        template_from_text(GTT, "gtt.slha")


# --- grids ---------------------------------------------------------------------------------


def test_a_mapping_grid_is_the_cartesian_product_first_parameter_slowest() -> None:
    grid = {"m_gluino": [1800, 2000, 2200], "m_lsp": [1, 400]}
    chosen = grid_points(grid)
    assert len(chosen) == 6
    assert chosen[:3] == [
        {"m_gluino": 1800, "m_lsp": 1},
        {"m_gluino": 1800, "m_lsp": 400},
        {"m_gluino": 2000, "m_lsp": 1},
    ]
    names = [p.name for p in points(template_from_text(TEMPLATE), grid)]
    assert names[0] == "m_gluino_1800__m_lsp_1" and names[-1] == "m_gluino_2200__m_lsp_400"
    assert len(set(names)) == 6


def test_names_follow_the_grids_order_and_a_list_of_points_is_kept() -> None:
    grid: list[dict[str, float]] = [
        {"m_lsp": 100, "m_gluino": 1500.5},
        {"m_lsp": 200, "m_gluino": 1600},
    ]
    chosen = points(template_from_text(TEMPLATE), grid)
    assert [p.name for p in chosen] == ["m_lsp_100__m_gluino_1500.5", "m_lsp_200__m_gluino_1600"]
    assert chosen[0].file_name == "m_lsp_100__m_gluino_1500.5.slha"


# --- the folder and its index --------------------------------------------------------------


def test_the_index_lists_parameters_points_files_and_the_templates_digest(tmp_path: Path) -> None:
    source = _write_template(tmp_path)
    template = load_template(source)
    chosen = points(template, {"m_gluino": [1800, 2000], "m_lsp": [1, 400]})
    index = write_points(template, chosen, tmp_path / "out", process="gluino-pairs")
    document = json.loads(index.read_text())
    assert document["template"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert document["parameters"] == ["m_gluino", "m_lsp"]
    assert document["process"] == "gluino-pairs"
    assert [p["file"] for p in document["points"]] == [p.file_name for p in chosen]
    for entry, point in zip(document["points"], chosen, strict=True):
        data = (tmp_path / "out" / entry["file"]).read_bytes()
        assert data == point.slha.encode()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    back = read_points(tmp_path / "out")
    assert [p.name for p in back.points] == [p.name for p in chosen]
    assert back.points[3].values == {"m_gluino": 2000, "m_lsp": 400}
    assert back.process == "gluino-pairs" and back.template_sha256 == template.sha256


def test_a_changed_point_file_is_refused_when_read_back(tmp_path: Path) -> None:
    template = template_from_text(TEMPLATE, "gtt.slha.in")
    write_points(template, points(template, {"m_gluino": 1800, "m_lsp": 1}), tmp_path)
    (tmp_path / "m_gluino_1800__m_lsp_1.slha").write_text(GTT)
    with pytest.raises(DigestMismatchError, match=r"m_gluino_1800__m_lsp_1\.slha"):
        read_points(tmp_path)


def test_a_folder_holding_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    template = template_from_text(TEMPLATE, "gtt.slha.in")
    with pytest.raises(Exception, match="holds other files"):
        write_points(template, points(template, {"m_gluino": 1800, "m_lsp": 1}), tmp_path)


# --- bad input: refused before anything is written -----------------------------------------

BAD_GRIDS = [
    (["--set", "m_gluino=1800"], "template parameter 'm_lsp' is not given"),
    (["--set", "m_gluino=1800", "--set", "m_lsp=1", "--set", "m_sq=900"],
     "parameter 'm_sq' is not in the template"),
    (["--set", "m_gluino=1800,nan", "--set", "m_lsp=1"], "'m_gluino' at point 2 is nan"),
    (["--set", "m_gluino=inf", "--set", "m_lsp=1"], "'m_gluino' at point 1 is inf"),
    (["--set", "m_gluino=1800,1800.0", "--set", "m_lsp=1"],
     "are the same point m_gluino_1800__m_lsp_1"),
    (["--set", "m_gluino=1800,x", "--set", "m_lsp=1"], "'x' is not a number"),
    (["--set", "m_gluino=1800", "--set", "m_lsp=-1e400"], "'m_lsp' at point 1 is -inf"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_GRIDS)
def test_a_bad_grid_is_refused_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    source = _write_template(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, ["points", str(source), *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert list(out.iterdir()) == []


def test_a_point_pythia_would_misread_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    template = template_from_text(GTT, "gtt.slha", {"br": "DECAY 1000021 line 1"})
    with pytest.raises(SLHAError, match=r"gtt.slha at point br_0.5: 1 problem"):
        points(template, {"br": [1, 0.5]})
    source = tmp_path / "gtt.slha"
    source.write_text(GTT)
    args = ["points", str(source), "--param", "br=DECAY 1000021 line 1", "--set", "br=1,-1"]
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "br_-1" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"m_gluino": [1800, None], "m_lsp": [1]}, "'m_gluino' at point 2 is None"),
        ({"m_gluino": [1800, True], "m_lsp": [1]}, "'m_gluino' at point 2 is True"),
        ([{"m_gluino": 1800, "m_lsp": 1}, {"m_gluino": 1800}], "at point 2"),
        ({"m_gluino": [], "m_lsp": [1]}, "'m_gluino' has no values"),
        ("m_gluino", "a grid file holds a mapping"),
    ],
)
def test_a_bad_grid_file_is_refused_naming_it(
    tmp_path: Path, document: object, message: str
) -> None:
    source = _write_template(tmp_path)
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(document))
    args = ["points", str(source), "--grid", str(grid), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output and "grid.json" in result.output
    assert not (tmp_path / "out").exists()


# --- processes -----------------------------------------------------------------------------


def test_gluino_pairs_are_what_recast_generate_slha_generates() -> None:
    from recast.events.pythia import pythia_settings

    assert process_settings("gluino-pairs", "a.slha") == pythia_settings("a.slha")


def test_every_production_is_named_as_its_cross_section_table() -> None:
    for chosen in PRODUCTIONS.values():
        assert chosen.xsec in NAMES
        assert chosen.name in NAMES or chosen.name in ALIASES
    unselectable = {"wino-n2c1-plus", "wino-n2c1-minus"}
    assert set(NAMES) - set(PRODUCTIONS) == unselectable
    for name in unselectable:
        with pytest.raises(UsageError, match="absolute PDG id"):
            production(name)


def test_every_setting_is_one_pythia_accepts() -> None:
    pythia8mc = pytest.importorskip("pythia8mc")
    pythia = pythia8mc.Pythia("", False)
    for name in PRODUCTIONS:
        for line in process_settings(name, "point.slha"):
            assert pythia.readString(line), (name, line)
    assert process_settings("stop-pairs", "p.slha")[1:] == [
        "SUSY:gg2squarkantisquark = on",
        "SUSY:qqbar2squarkantisquark = on",
        "SUSY:idA = 1000006",
        "SUSY:idB = 1000006",
        "SLHA:file = p.slha",
    ]


def test_gluino_pairs_generate_events_from_a_point(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    from recast.events.pythia import generate

    slha = tmp_path / "gtt.slha"
    slha.write_text(gluino_slha(1400, 100))
    chunks = list(generate(process_settings("gluino-pairs", slha), n_events=5, seed=3))
    assert sum(len(chunk) for chunk in chunks) == 5


WINO_HMIX = """BLOCK MINPAR
     3     1.00000000E+01   # tan beta
BLOCK HMIX Q= 1.00000000E+03
     1     1.00000000E+03   # mu
     2     1.00000000E+01   # tan beta
     4     1.00000000E+06   # m_A^2
"""


def _wino_spectrum(hmix: bool) -> str:
    text = re.sub(r"^(   100002[34]   )\S+", r"\g<1>5.00000000E+02", GTT, flags=re.M)
    return text.replace("BLOCK MASS", WINO_HMIX + "BLOCK MASS") if hmix else text


def test_wino_chargino_pairs_are_produced_from_a_spectrum_with_hmix(tmp_path: Path) -> None:
    pythia8mc = pytest.importorskip("pythia8mc")
    slha = tmp_path / "wino.slha"
    slha.write_text(_wino_spectrum(hmix=True))
    pythia = pythia8mc.Pythia("", False)
    extra = ["PartonLevel:all = off", "HadronLevel:all = off", "Print:quiet = on"]
    for line in [*process_settings("wino-c1c1", slha), *extra]:
        assert pythia.readString(line)
    assert pythia.init()
    assert all(pythia.next() for _ in range(5))
    assert pythia.infoPython().sigmaGen() > 0


def test_production_problems_name_what_keeps_a_process_from_producing() -> None:
    assert production_problems("gluino-pairs", GTT) == []
    (heavy,) = production_problems("stop-pairs", GTT)
    assert "~t_1 (1000006)" in heavy and "not below 10000 GeV" in heavy
    (no_hmix,) = production_problems("wino-c1c1", _wino_spectrum(hmix=False))
    assert "no BLOCK HMIX" in no_hmix
    assert production_problems("wino-c1c1", _wino_spectrum(hmix=True)) == []


def test_raw_settings_are_another_way_and_the_beams_and_file_are_ours() -> None:
    raw = ["SUSY:qg2squarkgluino = on"]
    assert process_settings(raw, "p.slha", e_cm=13600) == [
        "Beams:eCM = 13600",
        "SUSY:qg2squarkgluino = on",
        "SLHA:file = p.slha",
    ]
    with pytest.raises(UsageError, match="leave them out"):
        process_settings(["Beams:eCM = 8000"], "p.slha")
    with pytest.raises(UsageError, match=r"not known; known: .*gluino-pairs"):
        process_settings("gluinos", "p.slha")


# --- the decay report ----------------------------------------------------------------------


def test_the_gtt_spectrum_has_no_warning() -> None:
    report = decay_report(GTT)
    assert report.ok
    assert [p.pdg for p in report.particles] == [1000022, 1000021]  # light ones, by mass
    gluino = report.particles[1]
    assert not gluino.stable and gluino.width_gev == 1.0
    assert gluino.channels[0].daughters == (1000022, -6, 6)
    assert report.particles[0].stable
    assert "stable (escapes: missing energy)" in report.text()
    assert report.to_dict()["particles"][1]["channels"][0]["branching_ratio"] == 1.0


def test_a_stable_gluino_is_warned_of() -> None:
    stable = re.sub(
        r"DECAY   1000021   \S+   # gluino decays\n.*\n.*\n",
        "DECAY   1000021   0.00000000E+00   # gluino: stable\n",
        GTT,
    )
    (warning,) = decay_report(stable).warnings
    assert "~g (1000021, 1800 GeV) is stable and coloured" in warning
    assert "R-hadrons" in warning


def test_a_stable_chargino_an_unknown_daughter_and_a_closed_channel_are_warned_of() -> None:
    text = _wino_spectrum(hmix=False)
    text = text.replace("1000022   -6   6", "1000022   -6   7000006")
    closed = GTT.replace("1.80000000E+03   # ~g", "3.00000000E+02   # ~g")
    warnings = decay_report(text).warnings + decay_report(closed).warnings
    joined = "\n".join(warnings)
    assert "~chi_1+ (1000024, 500 GeV) is stable and charged" in joined
    assert "~chi_20 (1000023, 500 GeV) is stable and neutral" in joined
    assert "decays to PDG id 7000006" in joined
    assert "~g (1000021, 300 GeV) -> ~chi_10 t~ t is kinematically closed" in joined


def test_a_light_particle_without_a_decay_block_is_warned_of() -> None:
    text = GTT.replace("DECAY   1000022   0.00000000E+00   # neutralino1: stable\n", "")
    (warning,) = decay_report(text).warnings
    assert "~chi_10 (1000022, 100 GeV) has no DECAY block" in warning


def test_sparticles_missing_from_block_mass_are_warned_of() -> None:
    text = re.sub(r"^   100000[1-6]   .*\n", "", GTT, flags=re.M)
    (warning,) = decay_report(text).warnings
    assert warning.startswith("BLOCK MASS lacks ~d_L (1000001), ~u_L (1000002), ~s_L (1000003)")
    assert "and 2 more: Pythia gives each its default mass (500 GeV)" in warning


# --- the command line ----------------------------------------------------------------------


def test_recast_points_writes_the_grid_and_reports_the_first_points_decays(tmp_path: Path) -> None:
    source = _write_template(tmp_path)
    out = tmp_path / "gtt"
    args = ["points", str(source), "--set", "m_gluino=1800,2000,2200", "--set", "m_lsp=1,400"]
    result = CliRunner().invoke(cli, [*args, "--process", "gluino-pairs", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrote 6 points to")
    assert "m_gluino_1800__m_lsp_1.slha: BSM particles below 10000 GeV" in result.output
    assert "SUSY:gg2gluinogluino = on" in result.output
    assert len(read_points(out).points) == 6
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"points": [{"m_gluino": 1800, "m_lsp": 1}]}))
    again = CliRunner().invoke(cli, ["points", str(source), "--grid", str(grid), "-o", str(out)])
    assert again.exit_code == 0, again.output  # a folder of points may be rewritten
    assert [p.name for p in read_points(out).points] == ["m_gluino_1800__m_lsp_1"]


def test_recast_points_check_prints_the_decay_report_of_one_file(tmp_path: Path) -> None:
    slha = tmp_path / "wino.slha"
    slha.write_text(_wino_spectrum(hmix=False))
    result = CliRunner().invoke(cli, ["points", "--check", str(slha), "--process", "wino-c1c1"])
    assert result.exit_code == 0, result.output
    assert "is stable and charged" in result.output
    assert "no BLOCK HMIX" in result.output
    refused = CliRunner().invoke(cli, ["points", "--check", str(slha), "-o", str(tmp_path)])
    assert refused.exit_code == 2 and "give it alone" in refused.output


def test_recast_points_refuses_an_unknown_process_before_writing(tmp_path: Path) -> None:
    source = _write_template(tmp_path)
    args = ["points", str(source), "--set", "m_gluino=1800", "--set", "m_lsp=1"]
    result = CliRunner().invoke(cli, [*args, "--process", "gluinos", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "'gluinos' is not known" in result.output
    assert not (tmp_path / "o").exists()


# --- docs/model.md -------------------------------------------------------------------------


def test_the_docs_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    check_worked_example(PAGE, tmp_path, monkeypatch, capsys)


def test_the_docs_command_output_is_what_recast_points_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PAGE.read_text()
    (command, shown) = re.findall(r"\n\$ (recast points .*?)\n(.*?)```", text, re.S)[0]
    monkeypatch.chdir(tmp_path)
    _write_template(tmp_path)  # what the worked example writes
    result = CliRunner().invoke(cli, command.split()[1:])
    assert result.exit_code == 0, result.output
    assert result.output == shown


def test_the_docs_grid_file_gives_its_points(tmp_path: Path) -> None:
    grid = tmp_path / "grid.json"
    grid.write_text(page_files(PAGE)["grid.json"])
    args = ["points", str(_write_template(tmp_path)), "--grid", str(grid)]
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    names = [p.name for p in read_points(tmp_path / "out").points]
    assert names == [
        "m_gluino_1800__m_lsp_1",
        "m_gluino_1800__m_lsp_1200",
        "m_gluino_2200__m_lsp_1",
    ]


def test_recast_points_warns_of_the_other_points_problems(tmp_path: Path) -> None:
    args = ["points", str(_write_template(tmp_path)), "--set", "m_gluino=1800,400"]
    result = CliRunner().invoke(cli, [*args, "--set", "m_lsp=100", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "  ! m_gluino_400__m_lsp_100: ~g (1000021, 400 GeV) -> ~chi_10 t~ t is kinemat" in (
        result.output
    )


def test_one_parameter_may_stand_at_several_places_and_numpy_values_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    text = TEMPLATE.replace("1.00000000E+05   # ~t_1", "{m_gluino}   # ~t_1")
    chosen = points(template_from_text(text), {"m_gluino": np.array([2000, 2400]), "m_lsp": 1})
    assert [_mass(p.slha, 1000006) for p in chosen] == [2000, 2400]
    assert [_mass(p.slha, 1000021) for p in chosen] == [2000, 2400]


def test_generate_takes_the_process_by_name(tmp_path: Path) -> None:
    """`recast generate --slha F --process gluino-pairs` is what `--slha F` alone does (the
    same settings, so the same events); a process needs the SLHA, and a typo is named."""
    pytest.importorskip("pythia8mc")
    from click.testing import CliRunner

    from recast.cli import cli
    from recast.events.slha import write_gluino_slha

    slha = write_gluino_slha(tmp_path / "g.slha", 1200, 100)
    runner = CliRunner()
    base = ["generate", "--slha", str(slha), "--events", "5", "--seed", "3", "-o"]
    plain = runner.invoke(cli, [*base, str(tmp_path / "a.hepmc")])
    named = runner.invoke(cli, [*base, str(tmp_path / "b.hepmc"), "--process", "gluino-pairs"])
    assert plain.exit_code == 0 and named.exit_code == 0, (plain.output, named.output)
    assert (tmp_path / "a.hepmc").read_bytes() == (tmp_path / "b.hepmc").read_bytes()
    typo = runner.invoke(cli, [*base, str(tmp_path / "c.hepmc"), "--process", "gluino-pair"])
    assert typo.exit_code == 2 and "Did you mean 'gluino-pairs'" in typo.output
    alone = runner.invoke(
        cli,
        ["generate", "--settings", str(slha), "--process", "stop-pairs", "--events", "5",
         "--seed", "3", "-o", str(tmp_path / "d.hepmc")],
    )  # fmt: skip
    assert alone.exit_code == 2 and "--process NAME goes with --slha FILE" in alone.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.hepmc", "b.hepmc", "g.slha"]
