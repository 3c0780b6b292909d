"""recast.xsec: the built-in 13 TeV SUSY cross-sections, SLHA XSECTION blocks, `recast xsec`."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import recast.commands.xsec  # noqa: F401  (registers `recast xsec` on the group)
from recast.commands.group import cli
from recast.errors import UsageError
from recast.xsec import (
    NAMES,
    CrossSection,
    cross_section,
    from_slha_xsection,
    parse_xsections,
    processes,
    table_masses,
)

from .docs_pages import check_worked_example

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "recast" / "xsec" / "tables"
PAGE = ROOT / "docs" / "cross-sections.md"


# --- published numbers --------------------------------------------------------------------


def test_gluino_pairs_at_1800_gev_are_the_published_nnll_fast_numbers() -> None:
    sigma = cross_section("gluino-pairs", 1800)
    assert sigma.order == "NNLO+NNLL"
    assert sigma.value_pb == 2.939522e-03  # NNLL-fast 1.1 gdcpl, 2.94e-03 pb
    assert f"{sigma.value_pb:.2e}" == "2.94e-03"
    assert f"{cross_section('gluino-pairs', 1800, order='LO').value_pb:.2e}" == "1.10e-03"
    # the published μ/2 (-1.939060e-04) and 2μ (+1.620629e-04) variations and 16.4% PDF+αs
    assert sigma.scale_up_pb == 1.620629e-04
    assert sigma.scale_down_pb == 1.939060e-04
    pdf = 2.939522e-03 * 0.1643686
    assert sigma.pdf_up_pb == sigma.pdf_down_pb == pytest.approx(pdf, rel=1e-12)
    assert sigma.total_up_pb == pytest.approx(math.hypot(1.620629e-04, pdf), rel=1e-12)
    assert sigma.total_down_pb == pytest.approx(math.hypot(1.939060e-04, pdf), rel=1e-12)
    assert "NNLL-fast 1.1" in sigma.source and "gdcpl_nnlonnll" in sigma.source


def test_higgsino_n1n2_at_250_gev_is_the_working_groups_number() -> None:
    sigma = cross_section("higgsino-n1n2", 250)
    assert sigma.value_pb == 0.104252  # 104.252 fb
    assert sigma.total_up_pb == sigma.total_down_pb == 0.00548542  # 5.48542 fb, symmetric
    assert sigma.scale_up_pb is None and sigma.pdf_up_pb is None  # only a total is published
    assert sigma.order == "NLO+NLL"
    assert "LHC SUSY Cross Section Working Group" in sigma.source


def test_stop_pairs_at_1000_gev_are_the_decoupled_gluino_row() -> None:
    sigma = cross_section("stop-pairs", 1000)
    assert sigma.value_pb == 6.839864e-03  # the grid's (1000, 5000) row
    assert cross_section("sbottom-pairs", 1000) == sigma  # the same QCD production
    # the total includes the grid's model-parameter uncertainty (+0.41%, -0.39%)
    scale_pdf = math.hypot(sigma.scale_up_pb or 0, sigma.pdf_up_pb or 0)
    assert sigma.total_up_pb == pytest.approx(math.hypot(scale_pdf, 6.839864e-03 * 0.004147232))


def test_slepton_uncertainties_are_the_published_percentages() -> None:
    sigma = cross_section("slepton-pairs-ll", 50)
    assert sigma.value_pb == 3.991
    assert sigma.total_up_pb == pytest.approx(3.991 * 0.022)
    assert sigma.total_down_pb == pytest.approx(3.991 * 0.039)


# --- interpolation --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_grid_mass_gives_the_tables_number_exactly(name: str) -> None:
    table = json.loads((TABLES / f"{name}.json").read_text())
    for order, entry in table["orders"].items():
        values = cross_section(name, np.array(table["masses"]), order=order).value_pb
        assert values.tolist() == entry["cross_section"]
        # and one by one, as a scalar call
        assert cross_section(name, table["masses"][-1], order=order).value_pb == values[-1]


def test_between_grid_masses_log_sigma_is_linear_in_the_mass() -> None:
    # gdcpl at 1800 and 1900 GeV, NNLO+NNLL, as published
    low, high = 2.939522e-03, 1.716823e-03
    for mass in (1810.0, 1850.0, 1899.5):
        t = (mass - 1800) / 100
        expected = low ** (1 - t) * high**t  # geometric interpolation, computed independently
        assert cross_section("gluino-pairs", mass).value_pb == pytest.approx(expected, rel=1e-12)
    # the relative uncertainty is linear in the mass
    a = cross_section("gluino-pairs", 1800)
    b = cross_section("gluino-pairs", 1900)
    mid = cross_section("gluino-pairs", 1850)
    assert mid.total_up_pb is not None and a.total_up_pb and b.total_up_pb
    relative = (a.total_up_pb / a.value_pb + b.total_up_pb / b.value_pb) / 2
    assert mid.total_up_pb / mid.value_pb == pytest.approx(relative, rel=1e-12)


#: where a published table rises with the mass: the working group's high-mass entries carry
#: the statistical noise of their calculation (below 1%), kept as published
PUBLISHED_RISES = {
    "higgsino-n2c1": [1425.0, 1450.0],
    "higgsino-c1c1": [1250.0, 1300.0, 1400.0, 1475.0],
    "wino-n2c1-minus": [1400.0],
}


@pytest.mark.parametrize("name", NAMES)
def test_sigma_falls_with_the_mass(name: str) -> None:
    """σ falls with the mass, except at the published rises; between two grid masses it moves
    monotonically from one published value to the other."""
    grid = np.array(table_masses(name))
    values = cross_section(name, grid).value_pb
    rises = grid[:-1][np.diff(values) >= 0]
    assert rises.tolist() == PUBLISHED_RISES.get(name, [])
    assert np.all(np.diff(values) / values[:-1] < 0.01)
    fine = np.linspace(grid[0], grid[-1], 2000)
    between = cross_section(name, fine).value_pb
    below = np.clip(np.searchsorted(grid, fine, side="right") - 1, 0, len(grid) - 2)
    low = np.minimum(values[below], values[below + 1])
    high = np.maximum(values[below], values[below + 1])
    assert np.all((between >= low * (1 - 1e-12)) & (between <= high * (1 + 1e-12)))
    falling = values[below + 1] < values[below]
    steps = np.diff(between)[falling[:-1] & (below[:-1] == below[1:])]
    assert np.all(steps < 0)


def test_arrays_and_scalars_agree() -> None:
    masses = np.array([612.5, 1000.0, 2999.0])
    many = cross_section("squark-pairs", masses, order="NLO")
    assert len(many) == 3
    for i, mass in enumerate(masses):
        assert many[i] == cross_section("squark-pairs", float(mass), order="NLO")


def test_processes_list_names_ranges_and_orders() -> None:
    listed = {p.name: p for p in processes()}
    assert tuple(listed) == NAMES
    gluino = listed["gluino-pairs"]
    assert (gluino.mass_min_gev, gluino.mass_max_gev) == (500.0, 3000.0)
    assert gluino.orders == ("LO", "NLO", "NNLO+NNLL")
    assert listed["higgsino-n1n2"].orders == ("NLO+NLL",)
    for process in listed.values():
        assert process.source["license"].startswith("MIT")
        assert all(len(f["sha256"]) == 64 for f in process.source["files"])


def test_orders_are_named_case_blind_and_by_their_resummation() -> None:
    assert cross_section("gluino-pairs", 1000, order="nnll").order == "NNLO+NNLL"
    assert cross_section("gluino-pairs", 1000, order="nlo").order == "NLO"
    assert cross_section("wino-c1c1", 500, order="NLL").order == "NLO+NLL"
    assert cross_section("Gluino_Pairs", 1000).process == "gluino-pairs"


def test_shifted_moves_sigma_by_its_total_uncertainty() -> None:
    sigma = cross_section("gluino-pairs", 2000)
    assert sigma.shifted(0) == sigma.value_pb
    assert sigma.shifted(+1) == sigma.value_pb + (sigma.total_up_pb or 0)
    assert sigma.shifted(-1) == sigma.value_pb - (sigma.total_down_pb or 0)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("mass", [499.9, 3000.01, -5.0, float("nan"), float("inf")])
def test_a_mass_outside_the_grid_is_refused_naming_process_mass_and_range(mass: float) -> None:
    with pytest.raises(UsageError, match=r"'gluino-pairs'.*outside the table's range 500–3000 GeV"):
        cross_section("gluino-pairs", mass)


def test_an_array_with_masses_outside_is_refused_counting_them() -> None:
    with pytest.raises(UsageError, match=r"2 of the 4 masses are outside .*the first: 50 GeV"):
        cross_section("higgsino-c1c1", np.array([100.0, 200.0, 50.0, 1600.0]))
    with pytest.raises(UsageError, match=r"2 of the 3 masses .*the first: 79 GeV"):
        cross_section("higgsino-c1c1", [79.0, 200.0, 1501.0])


def test_an_unknown_process_is_refused_with_the_known_ones_and_a_hint() -> None:
    with pytest.raises(UsageError) as caught:
        cross_section("gluino-pair", 1000)
    message = str(caught.value)
    assert "'gluino-pair'" in message and "Did you mean 'gluino-pairs'" in message
    assert all(name in message for name in NAMES)


def test_an_unknown_order_is_refused_with_the_tables_orders() -> None:
    with pytest.raises(UsageError, match=r"no order 'NNLO'.*LO, NLO, NNLO\+NNLL"):
        cross_section("gluino-pairs", 1000, order="NNLO")
    with pytest.raises(UsageError, match=r"'higgsino-n1n2' has no order 'LO'.*NLO\+NLL"):
        cross_section("higgsino-n1n2", 300, order="LO")


def test_a_2d_array_of_masses_is_refused() -> None:
    with pytest.raises(UsageError, match="1-d array"):
        cross_section("gluino-pairs", np.ones((2, 2)) * 1000)


# --- SLHA XSECTION blocks --------------------------------------------------------------------

SLHA = """\
BLOCK MASS  # masses
   1000021  1.80000000E+03  # ~g
XSECTION  1.30E+04  2212 2212  2  1000021 1000021  # 10000 events, [pb], pythia8 for LO
  0  0  0  0  0  0  1.10171300E-03  Pythia8 8.317
  0  2  0  0  0  0  2.93952200E-03  NNLL-fast 1.1
DECAY   1000021   1.0E+00
     1.00E+00   3    1000022   6   -6
xsection 13000 2212 2212 2 -1000024 1000023
\t0 1 0 1 1 260000 1.5D-01 Prospino 2.1 # NLO, central scale
0 1 0 2 2 260000 1.2D-01   # twice the scale, no code name
"""


def test_slha_xsection_blocks_are_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "point.slha"
    path.write_text(SLHA)
    found = from_slha_xsection(path)
    assert [x.value_pb for x in found] == [1.101713e-03, 2.939522e-03, 0.15, 0.12]
    lo, nll, nlo, doubled = found
    assert (lo.order, nll.order, nlo.order) == ("LO", "QCD order 2", "NLO")
    assert lo.process == "2212 2212 > 1000021 1000021" and lo.sqrt_s_gev == 13000.0
    assert lo.final_state == (1000021, 1000021) and nlo.final_state == (-1000024, 1000023)
    assert nlo.slha_flags == (0, 1, 0, 1, 1, 260000) and doubled.slha_flags[3:5] == (2, 2)
    assert "Pythia8 8.317" in lo.source and "Prospino 2.1" in nlo.source
    assert "NLO, central scale" not in nlo.source and "twice the scale" in doubled.source
    assert f"{path}:" in lo.source
    only = from_slha_xsection(path, final_state=(1000023, -1000024))
    assert [x.value_pb for x in only] == [0.15, 0.12]


def test_an_slha_file_without_xsection_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.slha"
    path.write_text("BLOCK MASS\n 1000021 1800\n")
    assert from_slha_xsection(path) == []
    with pytest.raises(UsageError, match="no such SLHA file"):
        from_slha_xsection(tmp_path / "missing.slha")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("XSECTION 13000 2212 2212 2 1000021\n", r"x\.slha:1: an XSECTION header"),
        ("XSECTION 13000 2212 2212\n", "an XSECTION header"),
        ("XSECTION 13000 2212 2212 one 1000021\n", "an XSECTION header"),
        ("XSECTION 13000 2212 2212 2 1000021 1000021\n 0 2 0 0 0 2.9E-03 NNLL-fast\n",
         r"x\.slha:2: an XSECTION line reads six flags"),
        ("XSECTION 13000 2212 2212 2 1000021 1000021\n 0 2 0 0 0 0 -1.0 code\n",
         r"σ \[pb\] ≥ 0"),
        ("XSECTION 13000 2212 2212 2 1000021 1000021\n 0 2 0 0 0 0 nan code\n", "six flags"),
        ("XSECTION 13000 2212 2212 2 1000021 1000021\n 0 2 0 0 0 0 inf code\n", "finite σ"),
        ("XSECTION 0 2212 2212 2 1000021 1000021\n", "an XSECTION header"),
    ],
)  # fmt: skip
def test_a_malformed_xsection_block_is_refused_naming_file_and_line(
    text: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        parse_xsections(text, "x.slha")


def test_cross_sections_are_json_records() -> None:
    record = cross_section("higgsino-n1n2", 250).to_dict()
    assert json.loads(json.dumps(record))["value_pb"] == 0.104252
    assert record["scale_up_pb"] is None and record["mass_gev"] == 250.0
    assert CrossSection("p", "LO", 1.0, "s").to_dict()["final_state"] == []


# --- the command line ----------------------------------------------------------------------


def test_recast_xsec_prints_sigma_uncertainties_and_source() -> None:
    result = CliRunner().invoke(cli, ["xsec", "gluino-pairs", "1800"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "gluino-pairs at 1800 GeV, NNLO+NNLL, √s = 13 TeV: σ = 0.00294 pb (2.94 fb)"
    )
    assert lines[1].split()[0] == "scale" and lines[3].split()[0] == "total"
    assert lines[-1].startswith("source: NNLL-fast 1.1")
    lo = CliRunner().invoke(cli, ["xsec", "gluino-pairs", "1800", "--order", "LO"])
    assert "LO, √s = 13 TeV: σ = 0.001102 pb" in lo.output
    hino = CliRunner().invoke(cli, ["xsec", "higgsino-n1n2", "250", "--json"])
    assert json.loads(hino.output)["value_pb"] == 0.104252
    assert "scale" not in CliRunner().invoke(cli, ["xsec", "higgsino-n1n2", "250"]).output


def test_recast_xsec_list_names_every_table() -> None:
    result = CliRunner().invoke(cli, ["xsec", "--list"])
    assert result.exit_code == 0
    for name in NAMES:
        assert re.search(rf"^{re.escape(name)}: ", result.output, re.M)
    assert "gluino-pairs: gluino pairs, squarks decoupled; 500–3000 GeV" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gluino-pair", "1800"], "Did you mean 'gluino-pairs'"),
        (["gluino-pairs", "4000"], "mass 4000 GeV is outside the table's range 500–3000 GeV"),
        (["gluino-pairs", "1800", "--order", "N3LO"], "its orders: LO, NLO, NNLO+NNLL"),
        (["gluino-pairs"], "give PROCESS and MASS"),
        ([], "give PROCESS and MASS"),
        (["gluino-pairs", "--list"], "--list lists every table"),
    ],
)
def test_recast_xsec_refuses_bad_input_in_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["xsec", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_recast_xsec_refuses_a_mass_that_is_not_a_number() -> None:
    result = CliRunner().invoke(cli, ["xsec", "gluino-pairs", "heavy"])
    assert result.exit_code == 2 and "'heavy' is not a valid float" in result.output


# --- the shipped tables and their sources --------------------------------------------------


def test_the_shipped_tables_are_small_and_name_their_source() -> None:
    files = sorted(TABLES.glob("*.json"))
    assert sorted(f.stem for f in files) == sorted(NAMES)
    assert sum(f.stat().st_size for f in files) < 200_000
    for path in files:
        source = json.loads(path.read_text())["source"]
        for field in ("title", "authors", "calculator", "version", "url", "files", "license"):
            assert source[field], (path.name, field)


@pytest.mark.shared_data
def test_the_shipped_tables_are_exactly_what_the_published_grids_give(
    shared_data: Path,
) -> None:
    """Re-derive every table from ../shared/data/xsec: a table cannot drift from its source."""
    from reference_experiment.xsec_tables import build_tables

    source = shared_data / "xsec"
    if not source.is_dir():
        pytest.skip(f"the published cross-section grids are not at {source}")
    derived = build_tables(source)
    assert sorted(derived) == sorted(p.name for p in TABLES.glob("*.json"))
    for name, text in derived.items():
        assert (TABLES / name).read_text(encoding="utf-8") == text, name


# --- docs/cross-sections.md ----------------------------------------------------------------


def test_the_docs_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    check_worked_example(PAGE, tmp_path, monkeypatch, capsys)


def test_the_docs_command_output_is_what_recast_xsec_prints() -> None:
    text = PAGE.read_text()
    shown = re.findall(r"`recast xsec gluino-pairs 1800` prints\n\n```\n(.*?)```", text, re.S)[0]
    result = CliRunner().invoke(cli, ["xsec", "gluino-pairs", "1800"])
    assert result.output == shown
