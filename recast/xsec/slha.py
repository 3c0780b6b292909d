"""Cross-sections from the SLHA ``XSECTION`` blocks a spectrum file may carry.

The block (Les Houches 2013 extension of SLHA) is

.. code-block:: text

    XSECTION  1.30E+04  2212 2212  2  1000021 1000021   # sqrt(s) [GeV], initial, n, final
      0  2  0  0  0  0  2.94E-03  NNLL-fast 1.1          # 6 flags, sigma [pb], code, version

one line per calculation; the six flags are the scale scheme, the QCD order, the EW order,
κ_R, κ_F (0 or 1 for the central scale) and the PDF id. Writers differ in details this reader
takes in its stride: upper or lower case, Fortran ``D`` exponents, tabs, comments after ``#``,
no code name, the block anywhere among the others.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError
from .result import CrossSection

log = logging.getLogger(__name__)

#: SLHA's QCD-order flag; 2 is NNLO in the accord, but NLO+NLL in NLL-fast/SModelS files
QCD_ORDERS = {0: "LO", 1: "NLO"}
#: block keywords that end an XSECTION block
KEYWORDS = ("block", "decay", "xsection")


def _number(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


def _is_number(text: str) -> bool:
    try:
        _number(text)
    except ValueError:
        return False
    return True


def _lines(text: str) -> Iterator[tuple[int, list[str], str]]:
    """(line number, tokens before the comment, the comment) of each non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        body, _, comment = line.partition("#")
        tokens = body.split()
        if tokens:
            yield number, tokens, comment.strip()


def parse_xsections(text: str, source: str) -> list[CrossSection]:
    """Every line of every XSECTION block of an SLHA text, in file order."""
    found: list[CrossSection] = []
    header: tuple[float, tuple[int, ...], tuple[int, ...]] | None = None
    for number, tokens, comment in _lines(text):
        where = f"{source}:{number}"
        keyword = tokens[0].lower()
        if keyword in KEYWORDS:
            header = _header(tokens, where) if keyword == "xsection" else None
            continue
        if header is None:
            continue
        sqrt_s, initial, final = header
        found.append(_line(tokens, comment, where, sqrt_s, initial, final))
    return found


def _header(tokens: list[str], where: str) -> tuple[float, tuple[int, ...], tuple[int, ...]]:
    problem = UsageError(
        f"{where}: an XSECTION header reads 'XSECTION sqrt(s) [GeV], the two initial PDG ids, "
        f"the number of final-state particles, their PDG ids'; got {' '.join(tokens)!r}"
    )
    try:
        values = [_number(t) for t in tokens[1:]]
    except ValueError:
        raise problem from None
    if len(values) < 5 or not values[0] > 0 or values[3] < 1 or int(values[3]) != len(values) - 4:
        raise problem
    return values[0], (int(values[1]), int(values[2])), tuple(int(v) for v in values[4:])


def _line(
    tokens: list[str],
    comment: str,
    where: str,
    sqrt_s: float,
    initial: tuple[int, ...],
    final: tuple[int, ...],
) -> CrossSection:
    numbers: list[float] = []
    for token in tokens:
        if not _is_number(token) or len(numbers) == 7:
            break
        numbers.append(_number(token))
    if len(numbers) != 7 or not (math.isfinite(numbers[6]) and numbers[6] >= 0):
        raise UsageError(
            f"{where}: an XSECTION line reads six flags (scale scheme, QCD order, EW order, "
            f"κ_R, κ_F, PDF id), then a finite σ [pb] ≥ 0, then the code's name and version; got "
            f"{' '.join(tokens)!r}"
        )
    flags = tuple(numbers[:6])
    qcd = int(flags[1])
    order = QCD_ORDERS.get(qcd, f"QCD order {qcd}")
    code = " ".join(tokens[7:]) or comment or "unnamed code"
    process = f"{' '.join(map(str, initial))} > {' '.join(map(str, final))}"
    return CrossSection(
        process=process,
        order=order,
        value_pb=numbers[6],
        source=f"SLHA XSECTION block ({code}), {where}",
        sqrt_s_gev=sqrt_s,
        slha_flags=flags,
        final_state=final,
    )


def from_slha_xsection(
    path: str | Path, *, final_state: tuple[int, ...] | None = None
) -> list[CrossSection]:
    """The cross-sections of an SLHA file's ``XSECTION`` blocks (empty if it has none).

    ``final_state`` keeps only the blocks of those PDG ids (in any order). Each
    :class:`CrossSection` carries √s, the final state, the line's six flags (scale choice
    and PDF: the central line has κ_R and κ_F of 0 or 1) and the code that wrote it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such SLHA file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None
    found = parse_xsections(text, str(path))
    if final_state is not None:
        wanted = sorted(final_state)
        found = [x for x in found if sorted(x.final_state) == wanted]
    log.debug("%s: %d XSECTION line(s)", path, len(found))
    return found
