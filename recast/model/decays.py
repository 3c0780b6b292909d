"""What the BSM particles of an SLHA spectrum do: their decays, and the surprises among them.

A theorist's spectrum may leave a particle stable that a search assumes decays (a stable
gluino forms R-hadrons; a stable chargino is a charged track, not missing energy), name a
daughter that no generator knows, list a channel that is kinematically closed, or leave a
light particle without a ``DECAY`` block (Pythia then computes its own widths).
:func:`decay_report` lists each light BSM particle and warns of each of these.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: particles heavier than this (GeV) are taken as decoupled: not produced, not reported
DECOUPLING_GEV = 10000.0
BSM = 1000000

_NAMES = {
    1: "d", 2: "u", 3: "s", 4: "c", 5: "b", 6: "t",
    11: "e-", 12: "nu_e", 13: "mu-", 14: "nu_mu", 15: "tau-", 16: "nu_tau",
    21: "g", 22: "gamma", 23: "Z", 24: "W+", 25: "h", 35: "H", 36: "A", 37: "H+",
    1000021: "~g", 1000022: "~chi_10", 1000023: "~chi_20", 1000025: "~chi_30",
    1000035: "~chi_40", 1000024: "~chi_1+", 1000037: "~chi_2+", 1000039: "~G",
    1000012: "~nu_eL", 1000014: "~nu_muL", 1000016: "~nu_tauL",
    1000011: "~e_L-", 2000011: "~e_R-", 1000013: "~mu_L-", 2000013: "~mu_R-",
    1000015: "~tau_1-", 2000015: "~tau_2-",
    1000005: "~b_1", 2000005: "~b_2", 1000006: "~t_1", 2000006: "~t_2",
}  # fmt: skip
for _q, _letter in enumerate("dusc", start=1):
    _NAMES[1000000 + _q] = f"~{_letter}_L"
    _NAMES[2000000 + _q] = f"~{_letter}_R"
#: the MSSM sparticles of SLHA1; one missing from BLOCK MASS gets Pythia's default mass (500 GeV)
MSSM = frozenset(
    {base + q for base in (1000000, 2000000) for q in (1, 2, 3, 4, 5, 6, 11, 13, 15)}
    | {1000012, 1000014, 1000016, 1000021, 1000022, 1000023, 1000025, 1000035, 1000024, 1000037}
)
#: masses (GeV) of the heavy Standard Model daughters, to find kinematically closed channels
_SM_MASS = {
    111: 0.135,
    211: 0.1396,
    6: 172.5,
    5: 4.18,
    4: 1.27,
    15: 1.777,
    23: 91.19,
    24: 80.38,
    25: 125.0,
}
#: stable BSM particles that are expected to be: neutral, weakly interacting, missing energy
INVISIBLE = frozenset({1000022, 1000012, 1000014, 1000016, 1000039})
_COLOURED = frozenset({1000021} | {b + q for b in (1000000, 2000000) for q in range(1, 7)})
_NEUTRAL = frozenset({1000022, 1000023, 1000025, 1000035, 1000039, 1000012, 1000014, 1000016})
#: Standard Model ids a decay may name (quarks, leptons, bosons, the MSSM Higgs bosons)
_SM = frozenset({*range(1, 7), *range(11, 17), 21, 22, 23, 24, 25, 35, 36, 37})
_ODD_HADRONS = frozenset({130, 310})  # K_L, K_S: PDG numbers outside the quark-digit rule


def particle_name(pdg: int) -> str:
    """A short name (``~g``, ``~chi_1+``, ``t``); the antiparticle with a bar or flipped sign."""
    name = _NAMES.get(abs(pdg))
    if name is None:
        return str(pdg)
    if pdg > 0:
        return name
    if name.endswith("+"):
        return name[:-1] + "-"
    if name.endswith("-"):
        return name[:-1] + "+"
    if abs(pdg) in (21, 22, 23, 25, 35, 36, 1000021) or abs(pdg) in _NEUTRAL:
        return name  # its own antiparticle
    return name + "~"


def _is_hadron(pdg: int) -> bool:
    """A hadron by the PDG numbering scheme: quark digits and a spin digit."""
    n = abs(pdg)
    if n in _ODD_HADRONS:
        return True
    if not 100 <= n < 100000:
        return False
    spin, q3, q2 = n % 10, (n // 10) % 10, (n // 100) % 10
    return spin > 0 and 0 < q3 <= 6 and 0 < q2 <= 6


@dataclass(frozen=True)
class Channel:
    """One decay channel: its branching ratio and daughters' PDG ids."""

    branching_ratio: float
    daughters: tuple[int, ...]

    def text(self) -> str:
        return " ".join(particle_name(d) for d in self.daughters)


@dataclass(frozen=True)
class ParticleDecays:
    """A BSM particle below the decoupling scale: its mass, width and decay channels.

    ``width_gev`` is None when the spectrum has no ``DECAY`` block for it."""

    pdg: int
    mass_gev: float
    width_gev: float | None
    channels: tuple[Channel, ...]

    @property
    def name(self) -> str:
        return particle_name(self.pdg)

    @property
    def stable(self) -> bool:
        """Its ``DECAY`` block gives a zero width (or lists no channel)."""
        return self.width_gev is not None and (self.width_gev == 0 or not self.channels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pdg": self.pdg,
            "name": self.name,
            "mass_gev": self.mass_gev,
            "width_gev": self.width_gev,
            "stable": self.stable,
            "channels": [
                {"branching_ratio": c.branching_ratio, "daughters": list(c.daughters)}
                for c in self.channels
            ],
        }


@dataclass(frozen=True)
class DecayReport:
    """Every light BSM particle of a spectrum, and the warnings a user should read."""

    source: str
    decoupling_gev: float
    particles: tuple[ParticleDecays, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.warnings

    def text(self) -> str:
        """The report as lines for a terminal."""
        lines = [f"{self.source}: BSM particles below {self.decoupling_gev:g} GeV"]
        for p in self.particles:
            head = f"  {p.name:<9} {p.pdg:>8}  {p.mass_gev:9.6g} GeV"
            if p.width_gev is None:
                lines.append(f"{head}  no DECAY block (Pythia computes its decays)")
            elif p.stable:
                escapes = "escapes: missing energy" if p.pdg in INVISIBLE else "see warnings"
                lines.append(f"{head}  stable ({escapes})")
            else:
                lines.append(f"{head}  width {p.width_gev:.4g} GeV")
                lines += [f"      BR {c.branching_ratio:<8.4g} -> {c.text()}" for c in p.channels]
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines += [f"  ! {w}" for w in self.warnings]
        else:
            lines.append(
                "no warnings: every light BSM particle decays, or is a stable neutral one "
                "that escapes (χ̃⁰₁, a sneutrino, the gravitino)"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "decoupling_gev": self.decoupling_gev,
            "particles": [p.to_dict() for p in self.particles],
            "warnings": list(self.warnings),
        }


def _float(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _int(token: str) -> int | None:
    try:
        return int(token)
    except ValueError:
        number = _float(token)  # some writers print ids as 1.000021E+06
        return int(number) if number is not None and number.is_integer() else None


def read_spectrum(
    text: str,
) -> tuple[dict[int, float], dict[int, float], dict[int, list[Channel]]]:
    """Masses (``BLOCK MASS``), widths and channels (``DECAY``) by PDG id; lines that are not
    numbers are skipped here (:func:`recast.events.slha.slha_problems` reports them)."""
    masses: dict[int, float] = {}
    widths: dict[int, float] = {}
    channels: dict[int, list[Channel]] = {}
    block, parent = "", 0
    for raw in text.splitlines():
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        head = tokens[0].upper()
        if head in ("BLOCK", "DECAY", "XSECTION"):
            block = tokens[1].upper() if head == "BLOCK" and len(tokens) > 1 else head
            if head == "DECAY" and len(tokens) > 2:
                pdg, width = _int(tokens[1]), _float(tokens[2])
                if pdg is not None and width is not None:
                    parent, widths[abs(pdg)] = abs(pdg), width
                    channels.setdefault(parent, [])
                    continue
            parent = 0
            continue
        if block == "MASS" and len(tokens) >= 2:
            pdg, mass = _int(tokens[0]), _float(tokens[1])
            if pdg is not None and mass is not None:
                masses[abs(pdg)] = abs(mass)  # a sign is a phase convention (SLHA1 neutralinos)
        elif block == "DECAY" and parent and len(tokens) >= 3:
            ratio, count = _float(tokens[0]), _int(tokens[1])
            ids = [_int(t) for t in tokens[2:]]
            if ratio is not None and count is not None and None not in ids:
                channels[parent].append(Channel(ratio, tuple(i for i in ids if i is not None)))
    return masses, widths, channels


def decay_report(
    slha_text: str, *, source: str = "spectrum", decoupling_gev: float = DECOUPLING_GEV
) -> DecayReport:
    """The decays of every BSM particle (PDG id ≥ 1000000) lighter than ``decoupling_gev``,
    and warnings for: a stable one other than χ̃⁰₁, a sneutrino or the gravitino (charged or
    coloured it leaves tracks or R-hadrons, neutral it escapes like the LSP); a daughter whose
    PDG id is neither a Standard Model particle, a hadron, nor a particle of the spectrum's
    ``BLOCK MASS``; a channel whose daughters outweigh the parent (Pythia drops it and
    rescales the others); a light particle without a ``DECAY`` block."""
    masses, widths, channels = read_spectrum(slha_text)
    light = sorted(
        (pdg for pdg, mass in masses.items() if pdg >= BSM and mass < decoupling_gev),
        key=lambda pdg: (masses[pdg], pdg),
    )
    particles: list[ParticleDecays] = []
    warnings: list[str] = []
    absent = sorted(MSSM - set(masses))
    if absent and any(pdg >= BSM for pdg in masses):
        shown = ", ".join(f"{particle_name(pdg)} ({pdg})" for pdg in absent[:4])
        more = f" and {len(absent) - 4} more" if len(absent) > 4 else ""
        warnings.append(
            f"BLOCK MASS lacks {shown}{more}: Pythia gives each its default mass (500 GeV), "
            "where it is produced and exchanged; list them, at 1.0E+05 GeV to decouple them"
        )
    for pdg in light:
        p = ParticleDecays(pdg, masses[pdg], widths.get(pdg), tuple(channels.get(pdg, ())))
        particles.append(p)
        warnings += _warnings(p, masses)
    return DecayReport(source, decoupling_gev, tuple(particles), tuple(warnings))


def _warnings(p: ParticleDecays, masses: Mapping[int, float]) -> list[str]:
    where = f"{p.name} ({p.pdg}, {p.mass_gev:g} GeV)"
    if p.width_gev is None:
        return [
            f"{where} has no DECAY block: Pythia computes its decays from the spectrum, which "
            "may not be the decays you intend; write its DECAY block"
        ]
    found = []
    if p.stable and p.pdg not in INVISIBLE:
        if p.pdg in _COLOURED:
            what = "coloured: it forms R-hadrons, which the detector emulation does not model"
        elif p.pdg in _NEUTRAL:
            what = "neutral: it escapes and adds missing energy, like the lightest neutralino"
        else:
            what = "charged: a heavy charged track, not missing energy"
        found.append(f"{where} is stable and {what}; give it a width and decays if it should decay")
    for c in p.channels:
        unknown = [d for d in c.daughters if not _known(d, masses)]
        if unknown:
            found.append(
                f"{where} decays to PDG id {unknown[0]}, which is neither a Standard Model "
                f"particle, a hadron nor in BLOCK MASS (channel -> {c.text()}); check the id"
            )
            continue
        total = sum(_daughter_mass(d, masses) for d in c.daughters)
        if c.branching_ratio > 0 and total > p.mass_gev:
            found.append(
                f"{where} -> {c.text()} is kinematically closed (the daughters weigh "
                f"{total:.6g} GeV): Pythia drops it and rescales the channels left (none left: "
                "it is stable)"
            )
    return found


def _known(pdg: int, masses: Mapping[int, float]) -> bool:
    n = abs(pdg)
    return n in _SM or n in masses or _is_hadron(n)


def _daughter_mass(pdg: int, masses: Mapping[int, float]) -> float:
    return masses.get(abs(pdg), _SM_MASS.get(abs(pdg), 0.0))
