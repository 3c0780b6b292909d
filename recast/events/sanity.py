"""Physics sanity of truth events, columnar over a chunk: what makes an event unusable.

Parsing can succeed on numbers no collision makes. These kernels look at flat arrays (one
entry per particle of all the chunk's events, in GeV) and say, per event, the first thing
that is wrong, so that readers can treat the event as *bad* (an error naming it, or skipped
and counted with ``--skip-bad``):

- a negative energy, or a final-state particle far outside its mass shell on the spacelike
  side (|p| ≫ E): ``m² < −(SPACELIKE_TOLERANCE · E)²``;
- an absurd magnitude: |E| or |p| above :data:`ABSURD_FACTOR` times the beams' total energy,
  or above :data:`ABSURD_GEV` in an event without beam particles;
- a cross-section that is present but not positive (≤ 0 or NaN).

And they measure what is not wrong in itself but must be said: the beams' √s (from the
status-4 particles), and the number of final-state (status 1) particles per event.
"""

from __future__ import annotations

import logging
import math

import awkward as ak
import numpy as np

from ..errors import EventFileError

log = logging.getLogger(__name__)

#: (px, py, pz, E) of every particle of a chunk, flat, in GeV
Momenta = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: a final-state particle is refused when m² < −(SPACELIKE_TOLERANCE · E)², i.e. −m²/E² > 1e-4.
#: Real files stay far below: the worst measured −m²/E² was 1.4e-7 (Sibyll 2.1 in
#: ../shared/data, written from single precision), 1.3e-11 in 2000 Pythia8 tt̄ events at
#: 13 TeV with full history (a 0.4 MeV photon) and 2e-14 in the other shared files. Only
#: status-1 particles are held to it: intermediate partons of a shower may be off-shell.
SPACELIKE_TOLERANCE = 1e-2
#: a particle may carry at most the beams' total energy; this factor leaves room for the
#: rounding and boosts of odd generators while catching 1e300 and unit mix-ups
ABSURD_FACTOR = 10.0
#: the limit on |E| and |p| (GeV) in events without beam particles (status 4)
ABSURD_GEV = 1e6
#: the limit whatever the beams say (10⁶ TeV; beams of 1e300 are no excuse)
HARD_LIMIT_GEV = 1e9
#: relative difference of the beams' √s from an analysis's above which they disagree
SQRT_S_TOLERANCE = 0.01
BEAM, FINAL = 4, 1


def event_of(counts: np.ndarray) -> np.ndarray:
    """The event index of each flat entry, from per-event counts."""
    return np.repeat(np.arange(len(counts)), counts)


def starts_of(counts: np.ndarray) -> np.ndarray:
    """The flat index of each event's first entry, from per-event counts."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def per_event_sum(values: np.ndarray, event: np.ndarray, n_events: int) -> np.ndarray:
    return np.bincount(event, weights=values, minlength=n_events)


def _summed_mass(
    momenta: Momenta, chosen: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(invariant mass, energy) in GeV of each event's ``chosen`` particles summed."""
    rows, n = np.flatnonzero(chosen), len(counts)
    event = event_of(counts)[rows]
    px, py, pz, e = (per_event_sum(x[rows], event, n) for x in momenta)
    with np.errstate(over="ignore", invalid="ignore"):  # absurd momenta are refused elsewhere
        s = e**2 - px**2 - py**2 - pz**2
    return np.sqrt(np.maximum(s, 0.0)), e


def beam_sqrt_s(
    momenta: Momenta, status: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(√s of the beams in GeV, total beam energy in GeV) per event; NaN where no beams."""
    beam = status == BEAM
    has = np.bincount(event_of(counts), weights=beam, minlength=len(counts)) > 0
    sqrt_s, energy = _summed_mass(momenta, beam, counts)
    return np.where(has, sqrt_s, np.nan), np.where(has, energy, np.nan)


def final_state_mass(momenta: Momenta, status: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The invariant mass (GeV) of each event's final state: √s when nothing escaped the
    record (the fallback for files without beam particles)."""
    return _summed_mass(momenta, status == FINAL, counts)[0]


def final_state_counts(status: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Number of final-state (status 1) particles per event."""
    return np.bincount(event_of(counts), weights=status == FINAL, minlength=len(counts)).astype(
        np.int64
    )


def momentum_problems(
    momenta: Momenta, status: np.ndarray, counts: np.ndarray, beam_energy: np.ndarray
) -> dict[int, str]:
    """{event index in the chunk: why} for the first unphysical particle of each event.

    Momenta finite (NaN and infinities are looked for before). ``beam_energy``: per event,
    the beams' total energy (NaN where the event has none).
    """
    px, py, pz, e = momenta
    with np.errstate(over="ignore", invalid="ignore"):  # 1e300² is inf: absurd anyway
        p2 = px * px + py * py + pz * pz
        m2 = e * e - p2
    event = event_of(counts)
    limit = np.where(np.isfinite(beam_energy), ABSURD_FACTOR * beam_energy, ABSURD_GEV)
    limit = np.minimum(limit, HARD_LIMIT_GEV)[event]
    negative = e < 0
    absurd = (np.abs(e) > limit) | (p2 > limit * limit)
    spacelike = (status == FINAL) & (m2 < -((SPACELIKE_TOLERANCE * e) ** 2))
    bad = negative | absurd | spacelike
    found: dict[int, str] = {}
    if not bad.any():
        return found
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    for row in np.flatnonzero(bad)[::-1]:  # reversed: the first bad particle of an event wins
        k = int(event[row])
        what = f"particle {row - start[k] + 1} (status {int(status[row])})"
        p = float(np.sqrt(p2[row]))
        if negative[row]:
            why = f"{what} has E = {e[row]:.6g} GeV < 0"
        elif absurd[row]:
            if not np.isfinite(beam_energy[k]):
                against = f"{ABSURD_GEV:g} GeV (the event has no beam particles)"
            elif ABSURD_FACTOR * beam_energy[k] > HARD_LIMIT_GEV:
                against = f"{HARD_LIMIT_GEV:g} GeV, whatever the beams"
            else:
                against = f"{ABSURD_FACTOR:g} × the beams' total energy {beam_energy[k]:.6g} GeV"
            name, value = max(
                zip(("px", "py", "pz", "E"), (px[row], py[row], pz[row], e[row]), strict=True),
                key=lambda item: abs(item[1]),
            )
            why = f"{what} has {name} = {value:.6g} GeV: above {against}"
        else:
            why = (
                f"{what} has |p| = {p:.6g} GeV > E = {e[row]:.6g} GeV (m² = {m2[row]:.6g} GeV², "
                f"beyond the tolerance m² ≥ −({SPACELIKE_TOLERANCE:g}·E)²)"
            )
        found[k] = why + "; an unphysical momentum"
    return found


#: The weights an event may carry, besides 0: a Σw or Σw² of up to 10¹² such weights stays a
#: normal float64 (no overflow to inf, no underflow to subnormals or 0), so the sums and
#: σ·L/Σw cannot turn to inf or NaN because of the weights; no generator writes weights
#: outside this range (a cross-section of 10⁻³⁰ pb is ~10⁻⁴⁰ of the LHC's total).
MAX_WEIGHT = 1e30
MIN_WEIGHT = 1e-30


def weight_problem(column: int, value: float) -> str:
    """Why weight ``column`` (0-based) of an event, ``value``, is refused."""
    what = f"its weight #{column + 1} (of its W line) is {value:g}"
    if not math.isfinite(value):
        return f"{what}: not a finite number"
    return (
        f"{what}: outside the range recast accepts, {MIN_WEIGHT:g} ≤ |w| ≤ {MAX_WEIGHT:g} "
        "(or 0), where sums of weights and their squares stay finite"
    )


def cross_section_problems(xsec: np.ndarray, present: np.ndarray) -> dict[int, str]:
    """{event index: why} for events whose stated cross-section (pb) is ≤ 0 or NaN."""
    bad = present & ~((xsec > 0) & np.isfinite(xsec))
    rule = "GenCrossSection must be a finite number > 0"
    return {int(k): f"its cross-section is {xsec[k]:g} pb ({rule})" for k in np.flatnonzero(bad)}


def sqrt_s_disagrees(measured: np.ndarray, expected: float) -> np.ndarray:
    """Per event: does √s differ from ``expected`` by more than the tolerance?"""
    return np.abs(measured / expected - 1.0) > SQRT_S_TOLERANCE


_WARNED: set[str] = set()


def checked_cross_sections(chunk: ak.Array, source: str, check: bool = True) -> ak.Array:
    """A chunk read from a cache or generated in process, its cross-sections checked.

    A stated cross-section must be > 0; NaN means none stated (caches keep no other mark),
    except in the generator's own, which always states one. With ``check`` on, one that is not
    raises :class:`~recast.errors.EventFileError` naming ``source`` and the event; off (the
    caller gave its own cross-section), it is blanked to NaN with a warning.
    """
    if "cross_section" not in ak.fields(chunk) or not len(chunk):
        return chunk
    xs = np.asarray(ak.to_numpy(chunk["cross_section"]), dtype=np.float64)
    bad = (xs <= 0) | np.isinf(xs)
    if not bad.any():
        return chunk
    first = int(np.flatnonzero(bad)[0])
    number = int(chunk["event_number"][first])
    what = f"{source}: event {number} (#{first + 1} of its chunk) states a cross-section of "
    if check:
        raise EventFileError(
            f"{what}{xs[first]:g} pb; a cross-section must be > 0. Give the cross-section with "
            "--xsec (the inputs' own are then ignored), or rebuild the input from a good file"
        )
    if source not in _WARNED:
        _WARNED.add(source)
        log.warning("%s%g pb; ignored, since one is given (--xsec)", what, xs[first])
    return ak.with_field(chunk, np.where(bad, np.nan, xs), "cross_section")


def checked_sqrt_s(chunk: ak.Array, source: str, expected: float | None) -> ak.Array:
    """A chunk of truth events whose beams' √s (GeV) is ``expected`` within the tolerance;
    an :class:`~recast.errors.EventFileError` naming ``source`` and the event otherwise.
    Chunks without particles (cached objects) or beams pass unchecked."""
    if expected is None or "particles" not in ak.fields(chunk) or not len(chunk):
        return chunk
    particles = chunk["particles"]
    counts = np.asarray(ak.to_numpy(ak.num(particles)), dtype=np.int64)
    px, py, pz, e = (
        np.asarray(ak.to_numpy(ak.flatten(particles[f]))) for f in ("px", "py", "pz", "E")
    )
    status = np.asarray(ak.to_numpy(ak.flatten(particles["status"])))
    sqrt_s, _ = beam_sqrt_s((px, py, pz, e), status, counts)
    off = np.flatnonzero(np.isfinite(sqrt_s) & sqrt_s_disagrees(sqrt_s, expected))
    if len(off):
        k = int(off[0])
        raise EventFileError(
            f"{source}: event {int(chunk['event_number'][k])}: the beams' √s is "
            f"{sqrt_s[k]:.6g} GeV, but the analysis is at √s = {expected:.6g} GeV (tolerance "
            f"{SQRT_S_TOLERANCE:.0%}); give events generated at {expected / 1000:g} TeV"
        )
    return chunk
