"""Make an SLHA spectrum Pythia-ready, and say what was changed and why.

Spectra written for MadGraph or published with a search are often not what Pythia 8 needs:

- without ``BLOCK MODSEL`` Pythia keeps its SUSY switched off ("No MODSEL found") and every
  ``SUSY:*`` process fails;
- only the masses of a benchmark may have been overwritten, leaving the electroweakino mixing
  (``NMIX``, ``UMIX``, ``VMIX``) of another spectrum: Pythia takes the couplings from those
  matrices, so a "higgsino" χ̃₁⁰χ̃₂⁰ file with bino/wino mixing gives the wrong σ;
- with a real ``NMIX`` the two states of a pure higgsino pair have masses of opposite sign;
  with both positive Pythia's χ̃₁⁰χ̃₂⁰ σ is about a third of the right one;
- a light sparticle left in the file (a 250 GeV stop whose decays are closed) becomes stable;
- without tan β (``HMIX 2`` or ``MINPAR 3``) every electroweakino process has a vanishing σ;
- a ``DECAY`` block with width 0 makes its particle stable even when channels are listed.

:func:`pythia_ready` fixes the first five on request and refuses the last, returning the new
text with a list of every change (:class:`Prepared`). It works on templates too: a mass may
be a ``{name}`` placeholder of :mod:`recast.model.template`.

>>> text = "BLOCK MASS\\n 1000022 {m_lsp} # ~chi_10\\nDECAY 1000022 0.0\\n"
>>> prepared = pythia_ready(text, source="lsp.slha")
>>> prepared.changes[0].split(":")[0]
'added BLOCK MODSEL 1 = 0 (general MSSM)'
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import UsageError, among
from .decays import DECOUPLING_GEV, particle_name

log = logging.getLogger(__name__)

#: the mixings :func:`pythia_ready` can write
MIXINGS = ("higgsino", "wino")
#: the mass a decoupled particle is given (GeV): far above any LHC reach, as in the ATLAS cards
DECOUPLED_MASS_GEV = 5.0e5
N1, N2, N3, N4, C1, C2 = 1000022, 1000023, 1000025, 1000035, 1000024, 1000037
_NEUTRALINOS = (N1, N2, N3, N4)
#: Standard Model particles whose SLHA masses and DECAY tables Pythia ignores (lighter than
#: its SLHA:minMassSM, 100 GeV): a zero-width table for them is not a trap
_IGNORED_BY_PYTHIA = frozenset({*range(1, 6), *range(11, 17), 21, 22, 23, 24})
_PLACEHOLDER = re.compile(r"-?\{[A-Za-z_][A-Za-z0-9_]*\}\Z")
_HEADS = ("BLOCK", "DECAY", "XSECTION")
_ROOT_HALF = math.sqrt(0.5)

#: gauge-eigenstate rows of NMIX (B̃, W̃³, H̃d⁰, H̃u⁰)
_BINO = (1.0, 0.0, 0.0, 0.0)
_WINO = (0.0, 1.0, 0.0, 0.0)
#: the higgsino combinations: with μ > 0 (H̃d − H̃u)/√2 has the mass eigenvalue +μ and
#: (H̃d + H̃u)/√2 the eigenvalue −μ (the higgsino block of the mass matrix is [[0, −μ], [−μ, 0]])
_HIGGSINO_PLUS = (0.0, 0.0, _ROOT_HALF, -_ROOT_HALF)
_HIGGSINO_MINUS = (0.0, 0.0, _ROOT_HALF, _ROOT_HALF)
_COMPONENTS = ("bino", "wino", "higgsino", "higgsino")


@dataclass(frozen=True)
class Prepared:
    """A Pythia-ready SLHA text, the file it came from, and every change made to it."""

    text: str
    source: str
    changes: tuple[str, ...] = field(default=())

    def report(self) -> str:
        """The changes as lines for a terminal or a README."""
        if not self.changes:
            return f"{self.source}: already Pythia-ready, nothing changed"
        lines = [f"{self.source}: {len(self.changes)} change(s)"]
        lines += [f"  - {change}" for change in self.changes]
        return "\n".join(lines)


# -- reading the text as sections ---------------------------------------------------------
@dataclass
class _Section:
    """One ``BLOCK`` or ``DECAY`` of the text: its header line and its data lines."""

    kind: str  # "BLOCK", "DECAY" or "XSECTION"
    name: str  # the block name (upper case) or the DECAY's PDG id as written
    header: int  # index of the header line
    data: list[int]  # indices of the lines with data (not blank, not only a comment)


def _tokens(line: str) -> list[tuple[str, int, int]]:
    """The tokens of ``line`` before its comment, each with its start and end."""
    data = line.split("#", 1)[0]
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", data)]


def _sections(lines: list[str]) -> list[_Section]:
    sections: list[_Section] = []
    for number, line in enumerate(lines):
        tokens = _tokens(line)
        if not tokens:
            continue
        head = tokens[0][0].upper()
        if head in _HEADS:
            name = tokens[1][0] if len(tokens) > 1 else ""
            sections.append(_Section(head, name.upper() if head == "BLOCK" else name, number, []))
        elif sections:
            sections[-1].data.append(number)
    return sections


def _block(sections: list[_Section], name: str) -> _Section | None:
    found = [s for s in sections if s.kind == "BLOCK" and s.name == name]
    return found[0] if found else None


def _int(token: str) -> int | None:
    try:
        return int(token)
    except ValueError:
        try:
            number = float(token)  # some writers print ids as 1.000021E+06
        except ValueError:
            return None
        return int(number) if math.isfinite(number) and number.is_integer() else None


def _float(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _negative(token: str) -> bool:
    """Whether a mass as written (a number or a ``{name}`` placeholder) is negative."""
    number = _float(token)
    return number < 0 if number is not None else token.startswith("-")


def _flipped(token: str) -> str:
    return token[1:] if token.startswith("-") else f"-{token.removeprefix('+')}"


def _replace(line: str, span: tuple[int, int], new: str) -> str:
    start, end = span
    return f"{line[:start]}{new}{line[end:]}"


# -- the editor ---------------------------------------------------------------------------
class _Editor:
    """The lines of an SLHA text, edited in place, with the changes said as they are made."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.source = source
        self.changes: list[str] = []
        self.top = 0  # where the next new block goes: at the top, after those added before

    def sections(self) -> list[_Section]:
        return _sections(self.lines)

    def said(self, change: str) -> None:
        log.debug("%s: %s", self.source, change)
        self.changes.append(change)

    def insert_block(self, lines: list[str]) -> None:
        """New block lines at the top, where a reader sees them first (Pythia reads the
        blocks in any order)."""
        self.lines[self.top : self.top] = lines
        self.top += len(lines)

    # -- BLOCK MASS --
    def mass_lines(self) -> dict[int, tuple[int, str, tuple[int, int]]]:
        """Per PDG id in BLOCK MASS: line index, the mass token and its span."""
        block = _block(self.sections(), "MASS")
        found: dict[int, tuple[int, str, tuple[int, int]]] = {}
        if block is None:
            return found
        for number in block.data:
            tokens = _tokens(self.lines[number])
            pdg = _int(tokens[0][0]) if len(tokens) >= 2 else None
            if pdg is not None:
                found[abs(pdg)] = (number, tokens[1][0], (tokens[1][1], tokens[1][2]))
        return found

    def mass_token(self, pdg: int) -> str | None:
        found = self.mass_lines().get(pdg)
        return None if found is None else found[1]

    def set_mass(self, pdg: int, value: str, why: str) -> None:
        where = f"BLOCK MASS {pdg} ({particle_name(pdg)})"
        found = self.mass_lines().get(pdg)
        if found is None:
            block = _block(self.sections(), "MASS")
            if block is None:
                raise UsageError(
                    f"{self.source}: no BLOCK MASS to set {where} in; is this an SLHA spectrum?"
                )
            at = (block.data[-1] if block.data else block.header) + 1
            self.lines.insert(at, f"   {pdg}   {value}   # {particle_name(pdg)}\n")
            self.said(f"{where}: added at {value} ({why})")
            return
        number, old, span = found
        if old == value or (_float(old) is not None and _float(old) == _float(value)):
            return  # the same number, however written: the line is left as it is
        self.lines[number] = _replace(self.lines[number], span, value)
        self.said(f"{where}: {old} -> {value} ({why})")

    # -- DECAY blocks --
    def decays(self) -> dict[int, tuple[str, list[tuple[float | None, str]]]]:
        """Per PDG id with a DECAY block: its width as written and its channels (BR, line)."""
        found: dict[int, tuple[str, list[tuple[float | None, str]]]] = {}
        for section in self.sections():
            pdg = _int(section.name) if section.kind == "DECAY" else None
            if pdg is None:
                continue
            tokens = _tokens(self.lines[section.header])
            width = tokens[2][0] if len(tokens) > 2 else ""
            channels = []
            for number in section.data:
                line = self.lines[number]
                channels.append((_float(_tokens(line)[0][0]), line.split("#", 1)[0].strip()))
            found[abs(pdg)] = (width, channels)
        return found


# -- the public function ------------------------------------------------------------------
def pythia_ready(
    text: str,
    *,
    source: str = "spectrum",
    mixing: str | None = None,
    masses: Mapping[int, float | str] | None = None,
    decouple: Iterable[int] = (),
    decoupled_gev: float = DECOUPLED_MASS_GEV,
    keep_stable: Iterable[int] = (),
) -> Prepared:
    """The SLHA ``text`` made Pythia-ready, with every change said (:class:`Prepared`).

    - ``BLOCK MODSEL`` with ``1 0`` (general MSSM) is added when absent: without it Pythia
      keeps SUSY off. A ``MODSEL 4`` (R-parity violation) other than 0 without the RPV
      mixing blocks (``RVNMIX``...) is refused: Pythia then keeps SUSY processes off too.
    - ``masses`` sets masses in ``BLOCK MASS`` by PDG id, to a number (GeV) or a ``{name}``
      placeholder of :mod:`recast.model.template` (a template's parameter).
    - ``decouple`` sets the masses of these PDG ids to ``decoupled_gev`` (sign kept):
      neither produced nor exchanged.
    - tan β = 10 (``HMIX 2``) is added when the spectrum has no tan β (``HMIX 2`` or
      ``MINPAR 3``) and a mixing is asked for or an electroweakino is light: without it
      every electroweakino process of Pythia has a vanishing σ.
    - ``mixing="higgsino"`` writes ``NMIX``, ``UMIX`` and ``VMIX`` of a pure higgsino χ̃₁⁰,
      χ̃₂⁰, χ̃₁± (χ̃₁⁰ = (H̃d − H̃u)/√2, χ̃₂⁰ = (H̃d + H̃u)/√2, χ̃₃⁰ bino, χ̃₄⁰ wino, χ̃₂± wino)
      and makes m(χ̃₁⁰) positive and m(χ̃₂⁰) negative, as a real ``NMIX`` needs;
      ``mixing="wino"`` those of a pure wino χ̃₁⁰ and χ̃₁± (χ̃₁⁰ = W̃³, χ̃₂⁰ bino, χ̃₃⁰ and χ̃₄⁰
      higgsinos, each by the sign of its mass; U = V = 1) with m(χ̃₁⁰) positive. The states
      that matter must be in ``BLOCK MASS`` (set them with ``masses``); the others' masses
      are kept, so decouple what should not be produced. The matrices follow the μ > 0
      convention; ``HMIX`` is left alone (Pythia 8.317 takes no μ into its electroweakino
      production: the same σ was measured with μ = 2000, 250 and −250 GeV).
    - A ``DECAY`` block with width 0 that lists channels is refused (Pythia makes such a
      particle stable and never uses the channels) unless its PDG id is in ``keep_stable``
      or it is decoupled (mass at or above :data:`~recast.model.decays.DECOUPLING_GEV`).

    Raises :class:`~recast.errors.UsageError` naming ``source``, the block or particle and
    the fix. Nothing else is changed; comments and the order of lines are kept, and the
    changes are also written as comment lines at the top of the text.
    """
    if mixing is not None and mixing not in MIXINGS:
        raise UsageError(
            f"{source}: mixing {mixing!r} is not known; use None (keep the file's) or one of "
            f"{among(str(mixing), MIXINGS)}"
        )
    if not (isinstance(decoupled_gev, int | float) and math.isfinite(decoupled_gev)
            and decoupled_gev >= DECOUPLING_GEV):  # fmt: skip
        raise UsageError(
            f"{source}: decoupled_gev = {decoupled_gev!r}; give a mass of at least "
            f"{DECOUPLING_GEV:g} GeV (a decoupled particle must not be produced)"
        )
    given = _checked_masses(masses or {}, source)
    heavy = sorted({_pdg(p, source, "decouple") for p in decouple})
    both = sorted(set(heavy) & set(given))
    if both:
        raise UsageError(
            f"{source}: PDG id {both[0]} ({particle_name(both[0])}) is both given a mass and "
            "decoupled; give it in one of masses and decouple"
        )
    stable = {_pdg(p, source, "keep_stable") for p in keep_stable}

    editor = _Editor(text, source)
    _check_modsel(editor)
    for pdg, value in given.items():
        editor.set_mass(pdg, value, "set as asked")
    for pdg in heavy:
        old = editor.mass_token(pdg)
        sign = "-" if old is not None and _negative(old) else ""
        editor.set_mass(pdg, f"{sign}{decoupled_gev:.8E}",
                        "decoupled: neither produced nor exchanged")  # fmt: skip
    _check_stable(editor, stable)
    _check_tan_beta(editor, force=mixing is not None)
    if mixing == "higgsino":
        _higgsino(editor)
    elif mixing == "wino":
        _wino(editor)
    header = [f"# Pythia-ready (recast.model.pythia_ready) from {source}; changes:\n"]
    header += [f"#   - {change}\n" for change in editor.changes]
    ready = "".join(header + editor.lines) if editor.changes else "".join(editor.lines)
    if editor.changes:
        log.info("%s: made Pythia-ready with %d change(s)", source, len(editor.changes))
    return Prepared(ready, source, tuple(editor.changes))


def _pdg(value: object, source: str, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise UsageError(f"{source}: {argument}: {value!r} is not a PDG id (a non-zero integer)")
    return abs(value)


def _checked_masses(masses: Mapping[int, float | str], source: str) -> dict[int, str]:
    """``masses`` as the tokens to write: numbers as ``%.8E``, placeholders as given."""
    out: dict[int, str] = {}
    for pdg, value in masses.items():
        key = _pdg(pdg, source, "masses")
        if isinstance(value, str) and _PLACEHOLDER.match(value.strip()):
            out[key] = value.strip()
        elif (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ):
            out[key] = f"{float(value):.8E}"
        else:
            raise UsageError(
                f"{source}: masses[{pdg}] ({particle_name(key)}) is {value!r}; give a mass in "
                "GeV or a template placeholder such as '{m_lsp}'"
            )
    return out


def _check_modsel(editor: _Editor) -> None:
    sections = editor.sections()
    modsel = _block(sections, "MODSEL")
    if modsel is None:
        editor.insert_block(["BLOCK MODSEL  # model selection\n", "    1    0   # general MSSM\n"])
        editor.said(
            "added BLOCK MODSEL 1 = 0 (general MSSM): without MODSEL Pythia keeps its SUSY "
            "switched off and every SUSY process fails"
        )
        return
    if _block(sections, "RVNMIX") is not None:
        return  # Pythia's own RPV set-up: its mixing blocks are there
    for number in modsel.data:
        tokens = _tokens(editor.lines[number])
        if len(tokens) >= 2 and _int(tokens[0][0]) == 4 and _float(tokens[1][0]) not in (0, None):
            raise UsageError(
                f"{editor.source}: BLOCK MODSEL 4 = {tokens[1][0]} (R-parity violation) "
                "without the RPV mixing blocks (RVNMIX, RVUMIX, RVVMIX, ...): Pythia then "
                "uses only the masses and keeps SUSY processes off. Set MODSEL 4 to 0 and "
                "give the RPV decays as DECAY tables, or write the RPV mixing blocks"
            )


def _entry(editor: _Editor, block: str, key: int) -> str | None:
    """The value of ``BLOCK block`` at ``key`` as written; None if absent."""
    found = _block(editor.sections(), block)
    for number in found.data if found else ():
        tokens = _tokens(editor.lines[number])
        if len(tokens) >= 2 and _int(tokens[0][0]) == key:
            return tokens[1][0]
    return None


def _check_tan_beta(editor: _Editor, *, force: bool) -> None:
    """Add tan β when the spectrum has none (``HMIX 2`` or ``MINPAR 3``) and electroweakinos
    may be produced (``force``, or one lighter than the decoupling scale)."""
    if _entry(editor, "HMIX", 2) is not None or _entry(editor, "MINPAR", 3) is not None:
        return
    masses = editor.mass_lines()
    light = any(
        pdg in masses and not abs(_float(masses[pdg][1]) or 0.0) >= DECOUPLING_GEV
        for pdg in (*_NEUTRALINOS, C1, C2)
    )
    if not (force or light):
        return
    line = "     2     1.00000000E+01   # tan beta\n"
    block = _block(editor.sections(), "HMIX")
    if block is None:
        editor.insert_block(["BLOCK HMIX  # Higgs parameters\n", line])
    else:
        editor.lines.insert(block.header + 1, line)
    editor.said(
        "added tan β = 10 as BLOCK HMIX 2: without tan β (HMIX 2 or MINPAR 3) Pythia gives "
        "every electroweakino process a vanishing σ; the σ of pure higgsinos or winos does "
        "not depend on it (the same within 1e-5 for tan β = 1.5, 10 and 50)"
    )


def _check_stable(editor: _Editor, keep: set[int]) -> None:
    """Refuse a DECAY block with width 0 that lists channels (Pythia makes it stable)."""
    masses = editor.mass_lines()
    for pdg, (width, channels) in editor.decays().items():
        value = _float(width)
        if value != 0 or pdg in keep or pdg in _IGNORED_BY_PYTHIA:
            continue
        open_ = [line for ratio, line in channels if ratio is None or ratio > 0]
        mass = _float(masses[pdg][1]) if pdg in masses else None
        if not open_ or (mass is not None and abs(mass) >= DECOUPLING_GEV):
            continue
        raise UsageError(
            f"{editor.source}: DECAY {pdg} ({particle_name(pdg)}) has width {width} and lists "
            f"{len(open_)} channel(s) (first: {open_[0]!r}): Pythia makes a particle with a zero "
            "width stable and never uses its channels. Write its width in GeV in the DECAY "
            f"line (e.g. 'DECAY {pdg} 1.0E+00' for a prompt decay), or, if it is meant to be "
            f"stable, pass keep_stable=({pdg},)"
        )


# -- mixings ------------------------------------------------------------------------------
def _composition(editor: _Editor, rows: tuple[int, ...]) -> str:
    """What the NMIX rows were, e.g. "χ̃₁⁰ was 99.9% bino": each row's largest component."""
    block = _block(editor.sections(), "NMIX")
    if block is None:
        return "the file had no NMIX"
    said = [f"χ̃{'₀₁₂₃₄'[row]}⁰ {_row_composition(editor, block, row)}" for row in rows]
    return "was: " + ", ".join(said)


def _row_composition(editor: _Editor, block: _Section, row: int) -> str:
    weights = [0.0, 0.0, 0.0, 0.0]
    for number in block.data:
        tokens = _tokens(editor.lines[number])
        if len(tokens) >= 3 and _int(tokens[0][0]) == row:
            column, value = _int(tokens[1][0]), _float(tokens[2][0])
            if column in (1, 2, 3, 4) and value is not None:
                weights[column - 1] = value * value
    kinds = {"bino": weights[0], "wino": weights[1], "higgsino": weights[2] + weights[3]}
    best = max(kinds, key=lambda k: kinds[k])
    return f"{kinds[best]:.1%} {best}"


def _matrix(name: str, comment: str, rows: Sequence[Sequence[float]], symbol: str) -> list[str]:
    lines = [f"BLOCK {name}  # {comment}\n"]
    for i, row in enumerate(rows, start=1):
        lines += [
            f"  {i}  {j}   {value: .8E}   # {symbol}_{i}{j}\n" for j, value in enumerate(row, 1)
        ]
    return lines


def _entries(editor: _Editor, block: _Section) -> dict[tuple[int, int], float] | None:
    """The entries of a matrix block; None if a line is not ``i j value``."""
    found: dict[tuple[int, int], float] = {}
    for number in block.data:
        tokens = [t for t, _, _ in _tokens(editor.lines[number])]
        i, j = (_int(t) for t in tokens[:2]) if len(tokens) == 3 else (None, None)
        value = _float(tokens[2]) if len(tokens) == 3 else None
        if i is None or j is None or value is None:
            return None
        found[(i, j)] = value
    return found


def _write_matrix(editor: _Editor, name: str, rows: Sequence[Sequence[float]], comment: str,
                  symbol: str) -> bool:  # fmt: skip
    """Replace the data of BLOCK ``name`` (keeping its header line) or add the block; False
    when it already held these numbers (left as it is)."""
    lines = _matrix(name, comment, rows, symbol)
    block = _block(editor.sections(), name)
    if block is None:
        editor.insert_block(lines)
        return True
    entries = _entries(editor, block)
    wanted = {(i, j): v for i, row in enumerate(rows, 1) for j, v in enumerate(row, 1)}
    if (
        entries is not None
        and set(entries) <= set(wanted)
        and all(abs(entries.get(key, 0.0) - value) < 1e-7 for key, value in wanted.items())
    ):
        return False
    for number in reversed(block.data):
        del editor.lines[number]
    editor.lines[block.header + 1 : block.header + 1] = lines[1:]
    return True


def _write_mixing(editor: _Editor, neutral: Sequence[Sequence[float]],
                  charged: Sequence[Sequence[float]]) -> bool:  # fmt: skip
    """NMIX, UMIX and VMIX written; whether any of them changed."""
    changed = _write_matrix(editor, "NMIX", neutral, "neutralino mixing", "N")
    changed |= _write_matrix(editor, "UMIX", charged, "chargino mixing U", "U")
    changed |= _write_matrix(editor, "VMIX", charged, "chargino mixing V", "V")
    return changed


def _drop_imaginary(editor: _Editor) -> None:
    for name in ("IMNMIX", "IMUMIX", "IMVMIX"):
        block = _block(editor.sections(), name)
        if block is not None:
            for number in reversed([block.header, *block.data]):
                del editor.lines[number]
            editor.said(f"removed BLOCK {name}: the mixing written is real")


def _require(editor: _Editor, pdgs: tuple[int, ...], mixing: str) -> dict[int, str]:
    tokens = {pdg: editor.mass_token(pdg) for pdg in pdgs}
    missing = [pdg for pdg, token in tokens.items() if token is None]
    if missing:
        names = ", ".join(f"{particle_name(p)} ({p})" for p in missing)
        raise UsageError(
            f"{editor.source}: a pure {mixing} spectrum needs {names} in BLOCK MASS; give "
            "their masses (masses={...})"
        )
    return {pdg: token for pdg, token in tokens.items() if token is not None}


def _set_sign(editor: _Editor, pdg: int, negative: bool, why: str) -> None:
    token = editor.mass_token(pdg)
    if token is not None and _negative(token) != negative:
        editor.set_mass(pdg, _flipped(token), why)


def _higgsino(editor: _Editor) -> None:
    _require(editor, (N1, N2, C1), "higgsino")
    was = _composition(editor, (1, 2))
    neutral = [_HIGGSINO_PLUS, _HIGGSINO_MINUS, _BINO, _WINO]
    # chargino 1 is the charged higgsino on both sides (U_12 = V_12 = 1), chargino 2 the wino
    swap = [(0.0, 1.0), (1.0, 0.0)]
    if _write_mixing(editor, neutral, swap):
        editor.said(
            "BLOCK NMIX, UMIX, VMIX: pure higgsino χ̃₁⁰, χ̃₂⁰, χ̃₁± (χ̃₁⁰ = (H̃d − H̃u)/√2, "
            "χ̃₂⁰ = (H̃d + H̃u)/√2, χ̃₃⁰ bino, χ̃₄⁰ wino, χ̃₂± wino; "
            f"{was}): Pythia takes the electroweakino couplings from these matrices"
        )
    _drop_imaginary(editor)
    _set_sign(editor, N1, False, "the higgsino state (H̃d − H̃u)/√2 has a positive mass")
    _set_sign(
        editor,
        N2,
        True,
        "with a real NMIX the second higgsino state (H̃d + H̃u)/√2 has a negative mass; with "
        "both positive the χ̃₁⁰χ̃₂⁰ coupling has the wrong relative phase and Pythia's σ is "
        "about a third of the right one",
    )


def _wino(editor: _Editor) -> None:
    _require(editor, (N1, C1), "wino")
    was = _composition(editor, (1,))
    # the heavy higgsinos: χ̃₃⁰ the combination its mass sign says, χ̃₄⁰ the other one
    third = editor.mass_token(N3)
    negative = third is not None and _negative(third)
    rows = [_WINO, _BINO, *((_HIGGSINO_MINUS, _HIGGSINO_PLUS) if negative
                            else (_HIGGSINO_PLUS, _HIGGSINO_MINUS))]  # fmt: skip
    identity = [(1.0, 0.0), (0.0, 1.0)]
    if _write_mixing(editor, rows, identity):
        editor.said(
            "BLOCK NMIX, UMIX, VMIX: pure wino χ̃₁⁰ and χ̃₁± (χ̃₁⁰ = W̃³, χ̃₂⁰ bino, χ̃₃⁰ and χ̃₄⁰ "
            f"higgsinos, U = V = 1; {was}): Pythia takes the electroweakino couplings from these "
            "matrices"
        )
    _drop_imaginary(editor)
    _set_sign(editor, N1, False, "the neutral wino has the sign of M2, as the chargino (U = V = 1)")
    _set_sign(editor, N4, not negative,
              "the two higgsino states of a real NMIX have masses of opposite sign")  # fmt: skip


__all__ = ["DECOUPLED_MASS_GEV", "MIXINGS", "Prepared", "pythia_ready"]
