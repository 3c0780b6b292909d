"""Read a network's published preprocessing and cross-check its sources.

Three published conventions are read, each kept literally (formula and numbers as written):

1. SimpleAnalysis/CheckMATE side-car ``{variables, scale, offset}``: x' = (x - offset) / scale.
2. Side-car ``{branches, normalization: {mean, stddev}, parameters}``: x' = (x - mean) / std;
   names used as keys of the ``parameters`` points are model parameters of the network.
3. lwtnn-style ONNX ``metadata_props`` (``input_<i>``, ``<var>_mean``, ``<var>_std``):
   x' = (x + mean) * std, i.e. ``mean`` is minus an offset and ``std`` is a factor.

With a side-car *and* metadata, both are read and must agree (real side-cars have been
published with scale and offset swapped); otherwise :class:`SidecarMismatchError`.
Building cards from what is read here is :mod:`recast.preserve.importers`' job.

>>> norm = read_sidecar("model_variables.json")                  # doctest: +SKIP
>>> check_agreement(norm, read_metadata(onnx.load("model.onnx"), "model.onnx"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from ..errors import ImportFormatError, InvalidSidecarError, SidecarMismatchError
from ..schema import load_json
from .card import linear_form

log = logging.getLogger(__name__)

#: Two published sources of one preprocessing agree when (centre, factor) agree this closely.
AGREEMENT_RTOL = 1e-6
FORMS = (
    "form 1 {variables, scale, offset} (SimpleAnalysis/CheckMATE, x' = (x - offset) / scale)",
    "form 2 {branches, normalization: {mean, stddev}, parameters} (x' = (x - mean) / std)",
    "form 3: no side-car, lwtnn-style ONNX metadata_props input_<i>, <var>_mean, <var>_std "
    "(x' = (x + mean) * std)",
)


@dataclass(frozen=True)
class Normalisation:
    """One published source of the preprocessing: names and one card preprocessing per name."""

    names: list[str]
    preprocessing: list[dict[str, Any]]
    origin: str
    #: How the publication calls the step's two numbers, for messages ({name} = the variable)
    published_as: tuple[str, str]
    parameters: list[str] = field(default_factory=list)
    parameter_points: list[dict[str, float]] = field(default_factory=list)

    def published(self, i: int) -> str:
        """Variable i's two numbers as the publication writes them, at full precision."""
        name, step = self.names[i], self.preprocessing[i]
        values = [v for k, v in step.items() if k != "formula"]
        return " and ".join(
            f"{key.format(name=name)} {value!r}"
            for key, value in zip(self.published_as, values, strict=True)
        )


# -- side-cars (forms 1 and 2) ----------------------------------------------------------------
def read_sidecar(path: str | Path) -> Normalisation:
    """Read a side-car, recognising its form by its keys (form 1 or 2)."""
    path = Path(path)
    document = load_json(path)
    keys = sorted(document) if isinstance(document, Mapping) else []
    if {"variables", "scale", "offset"} <= set(keys):
        return _form1(document, str(path))
    if {"branches", "normalization"} <= set(keys):
        return _form2(document, str(path))
    found = f"keys {keys}" if isinstance(document, Mapping) else f"a JSON {type(document).__name__}"
    raise InvalidSidecarError(
        f"{path}: not a side-car form recast-nn knows; found {found}. Accepted: "
        + "; ".join(FORMS[:2])
        + ". Or import without a side-car ("
        + FORMS[2]
        + ")."
    )


def _names(values: Any, where: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise InvalidSidecarError(f"{where}: expected a list of variable names")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise InvalidSidecarError(f"{where}: names {repeated} appear more than once")
    return values


def _numbers(values: Any, where: str) -> list[float]:
    ok = isinstance(values, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not ok:
        raise InvalidSidecarError(f"{where}: expected a list of finite numbers")
    return [float(v) for v in values]


def _same_lengths(source: str, **lists: list[Any]) -> None:
    lengths = {k: len(v) for k, v in lists.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InvalidSidecarError(f"{source}: lists of different lengths: {listed}")


def _form1(document: Mapping[str, Any], source: str) -> Normalisation:
    names = _names(document["variables"], f"{source}: field 'variables'")
    scale = _numbers(document["scale"], f"{source}: field 'scale'")
    offset = _numbers(document["offset"], f"{source}: field 'offset'")
    _same_lengths(source, variables=names, scale=scale, offset=offset)
    zero = [n for n, s in zip(names, scale, strict=True) if s == 0]
    if zero:
        raise InvalidSidecarError(
            f"{source}: scale is 0 for {zero} (field 'scale'): x' = (x - offset) / 0 divides by "
            "zero; fix the side-car (the scale the network was trained with)"
        )
    steps = [
        {"formula": "(x - offset) / scale", "offset": o, "scale": s}
        for o, s in zip(offset, scale, strict=True)
    ]
    return Normalisation(
        names, steps, f"side-car {Path(source).name} (form 1)", ("offset", "scale")
    )


def _form2(document: Mapping[str, Any], source: str) -> Normalisation:
    names = _names(document["branches"], f"{source}: field 'branches'")
    norm = document["normalization"]
    if not isinstance(norm, Mapping) or not {"mean", "stddev"} <= set(norm):
        found = sorted(norm) if isinstance(norm, Mapping) else type(norm).__name__
        raise InvalidSidecarError(
            f"{source}: field 'normalization' needs 'mean' and 'stddev'; found {found}"
        )
    mean = _numbers(norm["mean"], f"{source}: field 'normalization.mean'")
    std = _numbers(norm["stddev"], f"{source}: field 'normalization.stddev'")
    _same_lengths(source, branches=names, mean=mean, stddev=std)
    bad = [n for n, s in zip(names, std, strict=True) if s <= 0]
    if bad:
        raise InvalidSidecarError(
            f"{source}: field 'normalization.stddev' is not positive for {bad}: x' = (x - mean) "
            "/ std needs std > 0; fix the side-car (the std the network was trained with)"
        )
    steps = [
        {"formula": "(x - mean) / std", "mean": m, "std": s} for m, s in zip(mean, std, strict=True)
    ]
    parameters, points = _parameters(document.get("parameters", []), names, source)
    return Normalisation(
        names,
        steps,
        f"side-car {Path(source).name} (form 2)",
        ("mean", "stddev"),
        parameters,
        points,
    )


def _parameters(
    items: Any, names: list[str], source: str
) -> tuple[list[str], list[dict[str, float]]]:
    """Parameter names (in branch order) and the published points, from form 2's 'parameters'."""
    if not isinstance(items, list):
        raise InvalidSidecarError(f"{source}: field 'parameters' must be a list")
    points = [p for p in items if isinstance(p, Mapping)]
    listed = {p for p in items if isinstance(p, str)}
    if len(points) + len(listed) != len(items):
        raise InvalidSidecarError(
            f"{source}: field 'parameters' must hold parameter points (objects) or names"
        )
    keys = listed | {k for p in points for k in p}
    unknown = sorted(keys - set(names))
    if unknown:
        raise InvalidSidecarError(f"{source}: parameters {unknown} are not among the branches")
    for k, point in enumerate(points):
        if set(point) != {k2 for p in points for k2 in p}:
            raise InvalidSidecarError(
                f"{source}: parameters[{k}] names {sorted(point)}, unlike the other points"
            )
        _numbers(list(point.values()), f"{source}: parameters[{k}]")
    return [n for n in names if n in keys], [dict(p) for p in points]


# -- ONNX metadata (form 3) -----------------------------------------------------------------
def read_metadata(model: onnx.ModelProto, source: str) -> Normalisation | None:
    """Form 3 from the ONNX file's own ``metadata_props``, or None if it has none."""
    props = {p.key: p.value for p in model.metadata_props}
    if "input_0" not in props:
        return None
    names: list[str] = []
    while f"input_{len(names)}" in props:
        names.append(props[f"input_{len(names)}"])
    stray = sorted(k for k in props if re.fullmatch(r"input_\d+", k) and int(k[6:]) >= len(names))
    if stray:
        raise InvalidSidecarError(f"{source}: metadata_props has {stray} but no input_{len(names)}")
    names = _names(names, f"{source}: metadata_props input_<i>")
    missing = [k for n in names for k in (f"{n}_mean", f"{n}_std") if k not in props]
    if missing:
        raise InvalidSidecarError(f"{source}: metadata_props lacks {missing}")
    steps = []
    for n in names:
        try:
            offset, scale = float(props[f"{n}_mean"]), float(props[f"{n}_std"])
        except ValueError:
            raise InvalidSidecarError(
                f"{source}: metadata_props of {n!r} are not numbers"
            ) from None
        if scale == 0 or not (math.isfinite(offset) and math.isfinite(scale)):
            raise InvalidSidecarError(
                f"{source}: metadata_props {n}_std is {scale} and {n}_mean {offset}: x' = "
                "(x + mean) * std needs a finite mean and a finite, non-zero std; give the "
                "published side-car with --sidecar instead"
            )
        steps.append({"formula": "(x + offset) * scale", "offset": offset, "scale": scale})
    return Normalisation(
        names,
        steps,
        f"ONNX metadata_props of {Path(source).name} (form 3)",
        ("{name}_mean", "{name}_std"),
    )


# -- cross-checks ----------------------------------------------------------------------------
def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=AGREEMENT_RTOL, abs_tol=1e-12)


def same_transformation(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two preprocessing steps give the same (centre, factor) within AGREEMENT_RTOL."""
    (ca, fa), (cb, fb) = linear_form(a), linear_form(b)
    return _close(ca, cb) and _close(fa, fb)


def _swapped(step: Mapping[str, Any]) -> dict[str, Any] | None:
    """The same step with its two numbers exchanged (the classic publishing slip)."""
    a, b = (k for k in step if k != "formula")
    if step[a] == 0 or step[b] == 0:  # the swapped step would divide by zero
        return None
    return {"formula": step["formula"], a: step[b], b: step[a]}


def check_agreement(sidecar: Normalisation, metadata: Normalisation) -> None:
    """Refuse when a side-car and the ONNX metadata describe different preprocessing."""
    if sidecar.names != metadata.names:
        only_s = [n for n in sidecar.names if n not in metadata.names]
        only_m = [n for n in metadata.names if n not in sidecar.names]
        detail = (
            f"only in the side-car: {only_s}; only in the metadata: {only_m}"
            if only_s or only_m
            else "same names in another order"
        )
        raise SidecarMismatchError(
            f"{sidecar.origin} lists {sidecar.names} but {metadata.origin} lists "
            f"{metadata.names} ({detail}); one of them describes another network"
        )
    lines, swaps = [], 0
    for i, (name, s, m) in enumerate(
        zip(sidecar.names, sidecar.preprocessing, metadata.preprocessing, strict=True)
    ):
        if same_transformation(s, m):
            continue
        centre, factor = linear_form(s)  # metadata x' = (x + mean) * std: mean -centre, std factor
        lines.append(
            f"  {name}: side-car {sidecar.published(i)} (x' = {s['formula']}) imply "
            f"{name}_mean {-centre:.10g} and {name}_std {factor:.10g}, but the metadata has "
            f"{metadata.published(i)}"
        )
        swapped = _swapped(s)
        swaps += swapped is not None and same_transformation(swapped, m)
    if lines:
        hint = (
            " The side-car's two numbers look swapped for every one of them."
            if swaps == len(lines)
            else ""
        )
        raise SidecarMismatchError(
            f"{sidecar.origin} and {metadata.origin} disagree for {len(lines)} variable(s) "
            f"(relative tolerance {AGREEMENT_RTOL:g}):\n" + "\n".join(lines) + "\n"
            "Find out which one the network was trained with; import with that one alone." + hint
        )
    log.info("%s agrees with %s", sidecar.origin, metadata.origin)


def differing_steps(reference: Normalisation, other: Normalisation) -> dict[str, dict[str, Any]]:
    """``other``'s steps, as published, for the names whose transformation is not the
    reference's (folds normalised separately); both must list the same names."""
    return {
        name: dict(mine)
        for name, mine, theirs in zip(
            reference.names, other.preprocessing, reference.preprocessing, strict=True
        )
        if not same_transformation(mine, theirs)
    }


def inferred_angle_range(step: Mapping[str, Any]) -> tuple[str, float, float]:
    """The φ range a published normalisation fits, with the mean and std it implies.

    φ uniform in [0, 2π) has mean π and std π/√3 ≈ 1.81; in (-π, π] its mean is 0.
    """
    centre, factor = linear_form(step)
    std = 1.0 / abs(factor)
    fits = abs(centre - math.pi) < 0.5 and std < 2.5
    return ("[0, 2pi)" if fits else "(-pi, pi]"), centre, std


def published_normalisation(
    model: onnx.ModelProto,
    onnx_path: Path,
    sidecar: str | Path | None,
    input_name: str,
    width: int | None,
) -> tuple[Normalisation, bool]:
    """The side-car's preprocessing checked against the metadata's, or either one alone.

    ``width`` is the graph input's number of columns (None when not fixed). The flag says
    whether two sources were read and compared.
    """
    metadata = read_metadata(model, str(onnx_path))
    chosen = read_sidecar(sidecar) if sidecar is not None else metadata
    if chosen is None:
        raise ImportFormatError(
            f"{onnx_path}: no side-car given and no lwtnn-style metadata_props in the file; "
            "give the published side-car. Accepted: " + "; ".join(FORMS)
        )
    for source in (chosen, metadata):
        if source is not None and width is not None and len(source.names) != width:
            raise InvalidSidecarError(
                f"{source.origin} lists {len(source.names)} variables but input "
                f"{input_name!r} of {onnx_path.name} has {width} columns"
            )
    if sidecar is not None and metadata is not None:
        check_agreement(chosen, metadata)
        return chosen, True
    return chosen, False


__all__ = [
    "AGREEMENT_RTOL",
    "FORMS",
    "Normalisation",
    "check_agreement",
    "differing_steps",
    "inferred_angle_range",
    "published_normalisation",
    "read_metadata",
    "read_sidecar",
    "same_transformation",
]
