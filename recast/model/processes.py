"""Production processes by name, as Pythia8 settings.

The names are those of the built-in cross-section tables (:mod:`recast.xsec`), so one name
chooses both what Pythia generates and the σ it is normalised to. Pythia selects final
states by ``SUSY:idA``/``SUSY:idB`` (or the vectors ``SUSY:idVecA``/``SUSY:idVecB``), which
match the absolute PDG id: a charge (``wino-n2c1-plus``) cannot be chosen.

>>> process_settings("gluino-pairs", "gtt.slha")[:2]
['Beams:eCM = 13000', 'SUSY:gg2gluinogluino = on']
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError, among
from .decays import DECOUPLING_GEV, particle_name, read_spectrum

log = logging.getLogger(__name__)

_SQUARK_SWITCHES = ("SUSY:gg2squarkantisquark = on", "SUSY:qqbar2squarkantisquark = on")
#: ũ, d̃, s̃, c̃, b̃, left and right: the ten squarks of the NNLL-fast squark table
_LIGHT_SQUARKS = tuple(base + q for base in (1000000, 2000000) for q in (1, 2, 3, 4, 5))
_SELECTRON_SMUON_L = (1000011, 1000013)
_SELECTRON_SMUON_R = (2000011, 2000013)
N1, N2, C1 = 1000022, 1000023, 1000024


@dataclass(frozen=True)
class Production:
    """A production process: Pythia's switches and final-state selection, and its σ table.

    ``id_a``/``id_b`` restrict the two produced particles (absolute PDG ids; empty: all);
    ``xsec`` names the :mod:`recast.xsec` table and ``xsec_factor`` how many copies of it the
    selection holds (two slepton flavours, one table per flavour)."""

    name: str
    title: str
    switches: tuple[str, ...]
    id_a: tuple[int, ...] = ()
    id_b: tuple[int, ...] = ()
    xsec: str = ""
    xsec_factor: float = 1.0

    def settings(self) -> list[str]:
        """The process part of the settings: the switches and the final-state selection."""
        lines = list(self.switches)
        for label, ids in (("A", self.id_a), ("B", self.id_b)):
            if len(ids) == 1:
                lines.append(f"SUSY:id{label} = {ids[0]}")
            elif ids:  # Pythia reads a vector as a comma-separated list without blanks
                lines.append(f"SUSY:idVec{label} = {','.join(str(i) for i in ids)}")
        return lines


def _ewkino(name: str, title: str, switch: str, a: int, b: int) -> Production:
    return Production(name, title, (f"SUSY:{switch} = on",), (a,), (b,), xsec=name)


def _sleptons(suffix: str, title: str, ids: tuple[int, ...]) -> Production:
    switches = ("SUSY:qqbar2sleptonantislepton = on",)
    return Production(f"slepton-pairs-{suffix}", title, switches, ids, ids,
                      xsec=f"slepton-pairs-{suffix}", xsec_factor=2.0)  # fmt: skip


PRODUCTIONS: dict[str, Production] = {
    p.name: p
    for p in (
        Production(
            "gluino-pairs",
            "g̃ g̃ (what `recast generate --slha` generates)",
            ("SUSY:gg2gluinogluino = on", "SUSY:qqbar2gluinogluino = on"),
            xsec="gluino-pairs",
        ),
        Production(
            "squark-pairs",
            "q̃ q̃* of the ten light-flavour squarks (ũ, d̃, s̃, c̃, b̃; L and R)",
            _SQUARK_SWITCHES,
            _LIGHT_SQUARKS,
            _LIGHT_SQUARKS,
            xsec="squark-pairs",
        ),
        Production(
            "stop-pairs", "t̃₁ t̃₁*", _SQUARK_SWITCHES, (1000006,), (1000006,), xsec="stop-pairs"
        ),
        Production(
            "sbottom-pairs", "b̃₁ b̃₁*", _SQUARK_SWITCHES, (1000005,), (1000005,), xsec="stop-pairs"
        ),
        _ewkino(
            "higgsino-n1n2", "χ̃₁⁰ χ̃₂⁰ (higgsino-like mixing in the SLHA)", "qqbar2chi0chi0", N1, N2
        ),
        _ewkino("higgsino-n2c1", "χ̃₂⁰ χ̃₁± (higgsino-like)", "qqbar2chi+-chi0", N2, C1),
        _ewkino("higgsino-c1c1", "χ̃₁⁺ χ̃₁⁻ (higgsino-like)", "qqbar2chi+chi-", C1, C1),
        _ewkino("wino-n2c1", "χ̃₂⁰ χ̃₁± (wino-like mixing in the SLHA)", "qqbar2chi+-chi0", N2, C1),
        _ewkino("wino-c1c1", "χ̃₁⁺ χ̃₁⁻ (wino-like)", "qqbar2chi+chi-", C1, C1),
        _sleptons("ll", "ẽ_L ẽ_L* and μ̃_L μ̃_L*", _SELECTRON_SMUON_L),
        _sleptons("rr", "ẽ_R ẽ_R* and μ̃_R μ̃_R*", _SELECTRON_SMUON_R),
        _sleptons("llrr", "ẽ and μ̃ pairs, L and R", _SELECTRON_SMUON_L + _SELECTRON_SMUON_R),
    )
}
#: other names: every slepton pair the SLHA makes light
ALIASES = {"slepton-pairs": "slepton-pairs-llrr"}
#: tables whose process Pythia cannot select: the reason and what to use instead
_NOT_SELECTABLE = {
    "wino-n2c1-plus": "wino-n2c1",
    "wino-n2c1-minus": "wino-n2c1",
}


def production(name: str) -> Production:
    """The production process called ``name`` (see :data:`PRODUCTIONS`)."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = ALIASES.get(key, key)
    if key in _NOT_SELECTABLE:
        raise UsageError(
            f"process {name!r}: Pythia selects final states by the absolute PDG id, so one "
            f"chargino charge cannot be chosen; use {_NOT_SELECTABLE[key]!r} (both charges, "
            "with its own cross-section table)"
        )
    if key not in PRODUCTIONS:
        raise UsageError(
            f"process {name!r} is not known; known: {among(key, [*PRODUCTIONS, *ALIASES])} "
            "Or give raw Pythia settings (a list of 'Name = value' lines)"
        )
    return PRODUCTIONS[key]


_EWKINO_SWITCHES = ("qqbar2chi0chi0", "qqbar2chi+-chi0", "qqbar2chi+chi-")


def production_problems(
    process: str, slha_text: str, *, decoupling_gev: float = DECOUPLING_GEV
) -> list[str]:
    """What in the spectrum keeps the named ``process`` from producing anything: a produced
    particle missing from ``BLOCK MASS`` or heavier than ``decoupling_gev``; for
    electroweakinos, no ``BLOCK HMIX`` (Pythia then sets μ = 0 and, for the mixings
    written, the couplings may vanish: "all processes have vanishing cross sections")."""
    chosen = production(process)
    masses, _, _ = read_spectrum(slha_text)
    problems = []
    for side in dict.fromkeys((chosen.id_a, chosen.id_b)):  # stop pairs: one side twice
        if not side:
            continue
        light = [pdg for pdg in side if masses.get(pdg, math.inf) < decoupling_gev]
        if not light:
            names = ", ".join(f"{particle_name(pdg)} ({pdg})" for pdg in side)
            problems.append(
                f"{chosen.name} produces {names}, which the spectrum has not below "
                f"{decoupling_gev:g} GeV: nothing would be generated; lower its mass in BLOCK MASS"
            )
    if chosen.name == "gluino-pairs" and masses.get(1000021, math.inf) >= decoupling_gev:
        problems.append(
            f"gluino-pairs: the gluino (1000021) is not below {decoupling_gev:g} GeV in BLOCK "
            "MASS: nothing would be generated"
        )
    ewkino = any(any(f"SUSY:{s} " in line for s in _EWKINO_SWITCHES) for line in chosen.switches)
    if ewkino and not re.search(r"^\s*BLOCK\s+HMIX\b", slha_text, re.I | re.M):
        problems.append(
            f"{chosen.name}: the spectrum has no BLOCK HMIX; Pythia then takes mu = 0 and the "
            "electroweakino couplings can vanish; write BLOCK HMIX (1: mu, 2: tan beta)"
        )
    return problems


def process_settings(
    process: str | Sequence[str], slha_path: str | os.PathLike[str], *, e_cm: float = 13000.0
) -> list[str]:
    """Pythia8 settings generating ``process`` for the spectrum ``slha_path`` at ``e_cm`` GeV.

    ``process`` is a name (:data:`PRODUCTIONS`, e.g. ``"stop-pairs"``) or raw Pythia
    settings for the process (e.g. ``["SUSY:qg2squarkgluino = on"]``); the beams and the SLHA
    file are added here, in the order :func:`recast.events.pythia.pythia_settings` uses, and
    must not be among raw settings."""
    if isinstance(process, str):
        lines = production(process).settings()
    elif isinstance(process, Sequence) and all(isinstance(s, str) for s in process):
        lines = [line.strip() for line in process if line.strip()]
        for line in lines:
            name, equals, _ = line.partition("=")
            if not equals:
                raise UsageError(f"process setting {line!r} is not 'Name = value'")
            if name.strip().lower() in ("beams:ecm", "slha:file"):
                raise UsageError(
                    f"process setting {line!r}: the beam energy and the SLHA file are set "
                    "from the e_cm and slha_path arguments; leave them out"
                )
        if not lines:
            raise UsageError("no process settings given: name a process or give settings")
    else:
        raise UsageError(f"process must be a name or a list of Pythia settings, not {process!r}")
    return [f"Beams:eCM = {e_cm:g}", *lines, f"SLHA:file = {Path(slha_path)}"]
