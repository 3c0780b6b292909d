"""SLHA spectra for simplified gluino models: g̃ → t t̄ χ̃⁰₁ (Gtt) or g̃ → b b̄ χ̃⁰₁ (Gbb).

Example::

    from recast.events.slha import gluino_slha, write_gluino_slha

    text = gluino_slha(1200, 100, decay="ttbar")  # the SLHA file as a string
    write_gluino_slha("gtt_1200_100.slha", 1200, 100)

Only the gluino and the lightest neutralino (a pure bino) are light; every other sparticle
sits at 100 TeV with zero width, so it is neither produced nor exchanged. The gluino decays
with branching ratio 1 to the chosen three-body final state; the neutralino is stable.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from ..errors import SLHAError, UsageError
from ..io import atomic_open

GLUINO = 1000021
NEUTRALINO1 = 1000022
DECAYS = {"ttbar": 6, "bbbar": 5}  # decay name -> quark PDG id
# pole masses (GeV) used only to refuse kinematically closed decays, with margin for the
# Breit-Wigner the generator samples the top mass from
_QUARK_MASS = {6: 175.0, 5: 4.8}
DECOUPLED = 1.0e5  # GeV

# every other sparticle, decoupled: (PDG id, name)
_HEAVY = (
    (1000001, "~d_L"),
    (2000001, "~d_R"),
    (1000002, "~u_L"),
    (2000002, "~u_R"),
    (1000003, "~s_L"),
    (2000003, "~s_R"),
    (1000004, "~c_L"),
    (2000004, "~c_R"),
    (1000005, "~b_1"),
    (2000005, "~b_2"),
    (1000006, "~t_1"),
    (2000006, "~t_2"),
    (1000011, "~e_L"),
    (2000011, "~e_R"),
    (1000012, "~nu_eL"),
    (1000013, "~mu_L"),
    (2000013, "~mu_R"),
    (1000014, "~nu_muL"),
    (1000015, "~tau_1"),
    (2000015, "~tau_2"),
    (1000016, "~nu_tauL"),
    (1000023, "~chi_20"),
    (1000025, "~chi_30"),
    (1000035, "~chi_40"),
    (1000024, "~chi_1+"),
    (1000037, "~chi_2+"),
)


def _identity(block: str, size: int, comment: str) -> list[str]:
    lines = [f"BLOCK {block}  # {comment}"]
    lines += [
        f"  {i} {j}   {1.0 if i == j else 0.0:.8E}"
        for i in range(1, size + 1)
        for j in range(1, size + 1)
    ]
    return lines


def gluino_slha(
    m_gluino: float, m_lsp: float, decay: str = "ttbar", gluino_width: float = 1.0
) -> str:
    """The SLHA text of a simplified gluino model (masses and width in GeV).

    ``decay`` is ``"ttbar"`` (g̃ → t t̄ χ̃⁰₁) or ``"bbbar"`` (g̃ → b b̄ χ̃⁰₁), with branching
    ratio 1. The width only shapes the gluino's Breit-Wigner; 1 GeV is the SModelS default.
    """
    if decay not in DECAYS:
        raise UsageError(f"decay {decay!r} is not known; use one of {', '.join(DECAYS)}")
    for name, value in (("m_gluino", m_gluino), ("m_lsp", m_lsp), ("gluino_width", gluino_width)):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise UsageError(f"{name} must be a finite mass or width >= 0 GeV, not {value!r}")
    quark = DECAYS[decay]
    threshold = m_lsp + 2 * _QUARK_MASS[quark]
    if m_gluino <= threshold:
        raise UsageError(
            f"m_gluino = {m_gluino:g} GeV is below m_lsp + 2 m_q = {threshold:g} GeV: the decay "
            f"g~ -> {decay} chi10 is closed; raise m_gluino or lower m_lsp"
        )
    lines = [
        "# Simplified model written by recast-nn (recast.events.slha.gluino_slha):",
        f"# gluino {m_gluino:g} GeV -> {decay} + neutralino1 {m_lsp:g} GeV, BR = 1;",
        f"# every other sparticle decoupled at {DECOUPLED:g} GeV.",
        "BLOCK SPINFO  # spectrum calculator information",
        "     1   recast-nn   # program",
        "     2   1.0         # version",
        "BLOCK MODSEL  # model selection",
        "     1     0   # general MSSM",
        "BLOCK MASS  # mass spectrum",
        "#  PDG code      mass       particle",
        f"   {GLUINO}   {m_gluino:.8E}   # ~g",
        f"   {NEUTRALINO1}   {m_lsp:.8E}   # ~chi_10",
    ]
    lines += [f"   {pdg}   {DECOUPLED:.8E}   # {name}" for pdg, name in _HEAVY]
    lines += _identity("NMIX", 4, "neutralino mixing: chi_10 is a pure bino")
    lines += _identity("UMIX", 2, "chargino mixing U")
    lines += _identity("VMIX", 2, "chargino mixing V")
    lines += _identity("STOPMIX", 2, "stop mixing")
    lines += _identity("SBOTMIX", 2, "sbottom mixing")
    lines += _identity("STAUMIX", 2, "stau mixing")
    lines += [
        "#         PDG         width",
        f"DECAY   {GLUINO}   {gluino_width:.8E}   # gluino decays",
        "#          BR          NDA   ID1       ID2       ID3",
        f"     1.00000000E+00    3   {NEUTRALINO1}   {-quark}   {quark}"
        f"   # BR(~g -> chi_10 {decay})",
        f"DECAY   {NEUTRALINO1}   0.00000000E+00   # neutralino1: stable",
    ]
    lines += [f"DECAY   {pdg}   0.00000000E+00   # {name}" for pdg, name in _HEAVY]
    return "\n".join(lines) + "\n"


def gluino_template(decay: str = "ttbar") -> str:
    """:func:`gluino_slha` as a template of :mod:`recast.model`: the gluino and LSP masses
    are the parameters ``{m_gluino}`` and ``{m_lsp}`` (a Gtt or Gbb plane's axes)."""
    text = gluino_slha(1800, 100, decay)
    for number, name, parameter in (("1.80000000E+03", "~g", "m_gluino"),
                                    ("1.00000000E+02", "~chi_10", "m_lsp")):  # fmt: skip
        text = text.replace(f"{number}   # {name}\n", f"{{{parameter}}}   # {name}\n", 1)
    return text


def write_gluino_slha(
    path: str | os.PathLike[str],
    m_gluino: float,
    m_lsp: float,
    decay: str = "ttbar",
    gluino_width: float = 1.0,
) -> Path:
    """Write :func:`gluino_slha` to ``path`` atomically; returns the path."""
    text = gluino_slha(m_gluino, m_lsp, decay, gluino_width)
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)


#: |Σ BR − 1| above this is refused: Pythia would rescale the ratios without a word; spectrum
#: generators print 8 digits and may drop channels below ~1e-3, which stays well within it
BR_SUM_TOLERANCE = 1e-2


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


_MASS_BLOCK = re.compile(r"^\s*BLOCK\s+MASS\b", re.IGNORECASE | re.MULTILINE)


def has_mass_block(text: str) -> bool:
    """Whether ``text`` looks like an SLHA spectrum at all: it has a ``BLOCK MASS``."""
    return _MASS_BLOCK.search(text) is not None


def slha_problems(text: str) -> list[str]:
    """Every number of an SLHA spectrum Pythia would misread, each with its line, block and PDG
    id: in ``BLOCK MASS`` a mass that is not a finite number (Pythia keeps its default mass
    then, a silent wrong answer); in ``DECAY`` blocks a width that is not a finite number ≥ 0,
    a branching ratio that is not finite or negative, a daughter count that disagrees with the
    ids, ratios that do not sum to 1 within :data:`BR_SUM_TOLERANCE`; in any block, a NaN or
    an infinity."""
    problems: list[str] = []
    block = ""
    decay: tuple[int, str, float] | None = None  # (line, pdg, width) of the open DECAY
    ratios: list[float] = []

    def close_decay() -> None:
        if decay is not None and ratios and decay[2] > 0:
            total = sum(ratios)
            if abs(total - 1.0) > BR_SUM_TOLERANCE:
                problems.append(
                    f"line {decay[0]}: DECAY {decay[1]}: the branching ratios sum to {total:.6g}, "
                    "not 1 (Pythia would rescale them silently): correct them"
                )

    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        head = tokens[0].upper()
        where = f"line {number}"
        if head in ("BLOCK", "DECAY", "XSECTION"):  # XSECTION: the SLHA cross-section extension
            close_decay()
            decay, ratios = None, []
            block = tokens[1].upper() if len(tokens) > 1 and head == "BLOCK" else head
            if head == "XSECTION":
                continue
            if head == "DECAY":
                width = _number(tokens[2]) if len(tokens) > 2 else None
                pdg = tokens[1] if len(tokens) > 1 else "?"
                if width is None or not math.isfinite(width) or width < 0:
                    shown = tokens[2] if len(tokens) > 2 else "nothing"
                    problems.append(
                        f"{where}: DECAY {pdg}: the width is {shown!r}, not a finite number "
                        "≥ 0 GeV: write the width (0 for a stable particle)"
                    )
                    width = 0.0
                decay = (number, pdg, width)
            continue
        if block == "MASS":
            value = _number(tokens[1]) if len(tokens) > 1 else None
            if len(tokens) < 2 or _number(tokens[0]) is None or value is None:
                problems.append(
                    f"{where}: BLOCK MASS: {raw.strip()!r} is not 'PDG-id mass': write the "
                    "particle's PDG id and its mass in GeV"
                )
            elif not math.isfinite(value):
                problems.append(
                    f"{where}: BLOCK MASS {tokens[0]}: the mass is {tokens[1]!r}, not a finite "
                    "number (Pythia would silently keep its default mass): write it in GeV"
                )
            continue
        if block == "DECAY" and decay is not None:
            ratio = _number(tokens[0])
            count = _number(tokens[1]) if len(tokens) > 1 else None
            if ratio is None or not math.isfinite(ratio) or ratio < 0:
                problems.append(
                    f"{where}: DECAY {decay[1]}: the branching ratio {tokens[0]!r} is not a "
                    "finite number ≥ 0 (Pythia reads a negative one as a channel switched "
                    "off): write the ratio, or delete the line"
                )
                ratio = 0.0
            if count is None or not count.is_integer() or count < 1 or len(tokens) != 2 + count:
                problems.append(
                    f"{where}: DECAY {decay[1]}: expected 'BR NDA ID1 … IDNDA' with NDA the "
                    f"number of daughter ids; got {raw.strip()!r}"
                )
            ratios.append(ratio)
            continue
        bad = [t for t in tokens if (v := _number(t)) is not None and not math.isfinite(v)]
        if bad:
            problems.append(
                f"{where}: BLOCK {block or '(none)'}: {bad[0]!r} is not a finite number"
            )
    close_decay()
    return problems


def check_slha(text: str, source: str) -> None:
    """Refuse (:class:`SLHAError`, exit 1) a spectrum with any of :func:`slha_problems`."""
    problems = slha_problems(text)
    if problems:
        raise SLHAError(source, problems)
