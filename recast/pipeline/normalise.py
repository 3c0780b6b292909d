"""From weighted counts to yields: the cross-section, σ × L / Σw, and ``--xsec`` parsing."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from typing import Any

from ..arguments import arg, given
from ..errors import UsageError
from ..xsec.units import parse_cross_section

log = logging.getLogger(__name__)

#: no search sees more: σ × L beyond it is a unit slip or a typo, and its squares (the MC
#: uncertainties) would leave float64
MAX_EXPECTED_EVENTS = 1e10
#: 1000 ab⁻¹, 300 times the HL-LHC's: a larger --lumi is a typo (and overflows σ × L)
MAX_LUMINOSITY_FB = 1e6
#: σ × L / Σw above this means Σw is a denormal or near-zero sum, not a sample
MAX_FACTOR = 1e150


def cross_section_pb(xsec: str | float | None) -> float | None:
    """A cross-section in pb from a string with a unit (``"12.3fb"``) or a number in pb."""
    if xsec is None:
        return None
    if isinstance(xsec, str):
        return parse_cross_section(xsec)
    if isinstance(xsec, numbers.Real) and not isinstance(xsec, bool):  # numpy's numbers too
        return parse_cross_section(f"{float(xsec)!r}pb")
    raise UsageError(
        f'{given("xsec", xsec)}: give the cross-section as a string with a unit ("12.3fb") '
        "or a number in pb"
    )


def check_luminosity(lumi: float | None) -> None:
    if lumi is not None and not (math.isfinite(lumi) and lumi > 0):
        raise UsageError(
            f"{given('lumi', lumi, quoted=True)}: give a positive integrated luminosity in fb⁻¹"
        )
    if lumi is not None and lumi > MAX_LUMINOSITY_FB:
        raise UsageError(
            f"{given('lumi', lumi, quoted=True)}: {lumi:g} fb⁻¹ is more than any collider "
            "will record "
            f"(at most {MAX_LUMINOSITY_FB:g} fb⁻¹ is accepted): give it in fb⁻¹, "
            f"e.g. {given('lumi', 139)}"
        )


def check_expected_events(cross_section_pb: float, luminosity_fb: float, source: str) -> None:
    """Refuse σ × L above :data:`MAX_EXPECTED_EVENTS`, naming where σ came from
    (``--xsec``, the events' GenCrossSection, a benchmark) and L."""
    expected = cross_section_pb * 1000.0 * luminosity_fb
    if not expected <= MAX_EXPECTED_EVENTS:  # also catches inf and NaN
        raise UsageError(
            f"{source}: σ × L = {cross_section_pb:g} pb × {luminosity_fb:g} fb⁻¹ = {expected:.3g} "
            f"expected events, more than any search sees (at most {MAX_EXPECTED_EVENTS:g}): "
            f"check the cross-section's unit (fb or pb) and {arg('lumi')}"
        )


def generator_cross_section(estimates: Sequence[tuple[float, float, int]]) -> tuple[float, float]:
    """One cross-section from per-input estimates ``(σ, δσ, events)``: the event-weighted mean.

    Inputs of one sample (several files, or Pythia blocks) estimate the same σ; estimates that
    disagree by more than 5 % suggest different processes, which a single --xsec cannot
    describe, so it is said.
    """
    known = [(xs, err, n) for xs, err, n in estimates if math.isfinite(xs) and n > 0]
    if not known:
        return math.nan, math.nan
    total = sum(n for _, _, n in known)
    mean = sum(xs * n for xs, _, n in known) / total
    error = math.sqrt(sum((err * n) ** 2 for _, err, n in known if math.isfinite(err))) / total
    spread = max(abs(xs - mean) for xs, _, _ in known) / mean if mean else 0.0
    if spread > 0.05:
        log.warning(
            "the inputs carry cross-sections differing by up to %.0f%% from their mean %.4g pb; "
            f"if they are different processes, run them separately or give {arg('xsec')}",
            100 * spread,
            mean,
        )
    return mean, error


def normalisation(
    sum_weights: float,
    events: int,
    estimates: Sequence[tuple[float, float, int]],
    cross_section_pb: float | None,
    luminosity_fb: float,
    source: str = "user",
) -> dict[str, Any]:
    """σ × L / Σw, from the given cross-section (its ``source``) or the generator's own."""
    if cross_section_pb is None:
        cross_section_pb, _ = generator_cross_section(estimates)
        if math.isnan(cross_section_pb):
            raise UsageError(
                f"the events carry no cross-section: give one with {arg('xsec')} "
                f"(e.g. {given('xsec', '12.3fb')})"
            )
        source = "generator"
    where = {
        "user": arg("xsec"),
        "generator": "the events' cross-section (GenCrossSection)",
        "benchmark": "the benchmark's published cross-section",
    }.get(source, source)
    check_expected_events(cross_section_pb, luminosity_fb, where)
    if not sum_weights > 0:
        raise UsageError(
            f"the sum of event weights is {sum_weights:g} over {events} event(s): cannot "
            "normalise to σ × L (a sample needs a positive Σw)"
        )
    factor = cross_section_pb * 1000.0 * luminosity_fb / sum_weights
    if not factor <= MAX_FACTOR:  # a denormal Σw (weights of 1e-320) gives inf and NaN yields
        raise UsageError(
            f"the sum of event weights is {sum_weights:g} over {events} event(s): too small to "
            f"normalise (σ × L / Σw = {factor:.3g}); the weights are not those of a sample: "
            "regenerate the events, or check the weights (W lines) of the files"
        )
    return {
        "cross_section_pb": cross_section_pb,
        "cross_section_source": source,
        "luminosity_fb": luminosity_fb,
        "sum_weights": sum_weights,
        "factor": factor,
        "events": events,
    }


__all__ = [
    "check_expected_events",
    "check_luminosity",
    "cross_section_pb",
    "generator_cross_section",
    "normalisation",
    "parse_cross_section",
]
