"""The σ of a model point: built-in tables at the produced mass, SLHA XSECTION blocks, user
CSV tables, a fixed value or the generator's; refused outside a table, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from recast.errors import UsageError
from recast.events.slha import gluino_slha
from recast.model.normalisation import point_cross_section, read_user_table, xsec_choice
from recast.xsec import cross_section


@pytest.fixture
def gluino(tmp_path: Path) -> Path:
    path = tmp_path / "g.slha"
    path.write_text(gluino_slha(1800, 100))
    return path


def test_the_default_is_the_process_table(gluino: Path) -> None:
    choice = xsec_choice(None, "gluino-pairs")
    assert choice.kind == "table" and "NNLO+NNLL" in choice.describe()
    sigma = point_cross_section(choice, gluino)
    assert sigma is not None
    assert sigma.value_pb == pytest.approx(cross_section("gluino-pairs", 1800).value_pb)
    assert sigma.total_up_pb is not None and sigma.total_down_pb is not None


def test_without_a_process_table_the_generator_decides(gluino: Path) -> None:
    assert xsec_choice(None, None).kind == "generator"
    assert point_cross_section(xsec_choice("generator", "gluino-pairs"), gluino) is None


def test_a_value_with_a_unit_is_the_same_everywhere(gluino: Path) -> None:
    sigma = point_cross_section(xsec_choice("12fb", "gluino-pairs"), gluino)
    assert sigma is not None and sigma.value_pb == pytest.approx(0.012)
    assert sigma.total_up_pb is None


def test_a_user_table_interpolates_in_log_sigma(tmp_path: Path, gluino: Path) -> None:
    table = tmp_path / "sigma.csv"
    table.write_text("# my NLO table\nmass_gev,xsec_pb,uncertainty_pb\n1600,0.01,0.001\n"
                     "2000,0.001,0.0002\n")  # fmt: skip
    choice = xsec_choice(str(table), "gluino-pairs")
    sigma = point_cross_section(choice, gluino)
    assert sigma is not None
    assert sigma.value_pb == pytest.approx(10**-2.5, rel=1e-9)  # halfway in log σ
    assert sigma.total_up_pb == pytest.approx(sigma.value_pb * 10 ** ((-1 + -0.69897) / 2))
    assert str(table) in sigma.source


def test_a_mass_outside_a_user_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "sigma.csv"
    table.write_text("mass_gev,xsec_pb\n1000,0.3\n1500,0.02\n")
    slha = tmp_path / "heavy.slha"
    slha.write_text(gluino_slha(1800, 100))
    with pytest.raises(UsageError, match=r"sigma.csv: mass 1800 GeV is outside the table"):
        point_cross_section(xsec_choice(str(table), "gluino-pairs"), slha)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mass,sigma\n1,2\n", "the header 'mass_gev,xsec_pb"),
        ("mass_gev,xsec_pb\n1000,abc\n2000,1\n", "line 2: column 'xsec_pb' holds 'abc'"),
        ("mass_gev,xsec_pb\n1000,0\n2000,1\n", "must be a finite positive number"),
        ("mass_gev,xsec_pb\n2000,1\n1000,2\n", "strictly increasing mass_gev"),
    ],
)
def test_bad_user_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    table = tmp_path / "sigma.csv"
    table.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_user_table(table)


def test_a_mass_outside_the_builtin_table_names_the_range(tmp_path: Path) -> None:
    slha = tmp_path / "light.slha"
    slha.write_text(gluino_slha(3500, 1))
    with pytest.raises(UsageError, match=r"outside the table.s range"):
        point_cross_section(xsec_choice("table", "gluino-pairs"), slha)


def test_slha_xsection_blocks_are_read(tmp_path: Path) -> None:
    slha = tmp_path / "x.slha"
    slha.write_text(
        gluino_slha(1800, 100)
        + "XSECTION  1.30E+04  2212 2212 2 1000021 1000021\n"
        + "  0  2  0  0  0  0  2.90E-03 NNLL-fast\n"
        + "  0  1  0  0  0  0  1.50E-03 Prospino\n"
    )
    sigma = point_cross_section(xsec_choice("slha", "gluino-pairs"), slha)
    assert sigma is not None and sigma.value_pb == pytest.approx(2.9e-3)  # the highest order


def test_an_slha_without_xsection_is_refused(gluino: Path) -> None:
    with pytest.raises(UsageError, match="no XSECTION block"):
        point_cross_section(xsec_choice("slha", "gluino-pairs"), gluino)


def test_non_degenerate_produced_particles_are_refused(tmp_path: Path) -> None:
    text = gluino_slha(1800, 100)
    slha = tmp_path / "sq.slha"
    # the light squarks at 1000 GeV, but ũ_L at 1500 GeV: the squark table needs them equal
    text = text.replace("1.00000000E+05   # ~u_L", "1.50000000E+03   # ~u_L")
    for squark in ("~d_L", "~d_R", "~u_R", "~s_L", "~s_R", "~c_L", "~c_R", "~b_1", "~b_2"):
        text = text.replace(f"1.00000000E+05   # {squark}", f"1.00000000E+03   # {squark}")
    slha.write_text(text)
    with pytest.raises(UsageError, match="assumes them degenerate"):
        point_cross_section(xsec_choice("table", "squark-pairs"), slha)


@pytest.mark.parametrize(
    ("text", "process", "message"),
    [
        ("nonsense", "gluino-pairs", "give table, slha, generator"),
        ("table", None, "needs a production process"),
        ("stop-pairs", None, "give the production process"),
    ],
)
def test_bad_choices_are_refused(text: str, process: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        xsec_choice(text, process)


def test_two_slepton_flavours_take_the_table_twice(tmp_path: Path) -> None:
    """slepton-pairs selects ẽ and μ̃; the table is per flavour, so σ and its band double."""
    import re

    text = gluino_slha(1800, 100)
    for pdg in ("1000011", "2000011", "1000013", "2000013"):
        text = re.sub(rf"({pdg}\s+)1.00000000E\+05", r"\g<1>5.00000000E+02", text)
    slha = tmp_path / "sleptons.slha"
    slha.write_text(text)
    sigma = point_cross_section(xsec_choice(None, "slepton-pairs-llrr"), slha)
    table = cross_section("slepton-pairs-llrr", 500)
    assert sigma is not None and table.total_up_pb is not None
    assert sigma.value_pb == pytest.approx(2 * table.value_pb)
    assert sigma.total_up_pb == pytest.approx(2 * table.total_up_pb)
    assert sigma.order == table.order
