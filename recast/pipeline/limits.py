"""Limits that know about bundles: the likelihood of a bundle, of a results document, of a scan.

:mod:`recast.likelihood` computes limits from a likelihood and yields; this module finds the
likelihood a user means (a shipped bundle's id, a bundle folder, a likelihood file, a region
table) and hands the yields over::

    from recast.pipeline.limits import limits_for_results
    document = limits_for_results("results.json")      # or the document recast.run returned
    document["limits"]["verdict"]["excluded"]
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Unpack

from .. import schema
from ..analysis.bundle import Bundle, available, installed, is_explicit_path, load_bundle
from ..arguments import entry, given
from ..errors import UsageError
from ..io import sha256_file, write_json
from ..likelihood.errors import LikelihoodError
from ..likelihood.limits import LimitOptions, compute_limits, without_regions
from ..likelihood.spec import (
    LikelihoodSpec,
    likelihood_from_document,
    load_likelihood,
    needed_regions,
)

log = logging.getLogger(__name__)


def bundle_likelihood(bundle: Bundle) -> LikelihoodSpec | None:
    """The bundle's likelihood, or None when it carries none."""
    if "likelihood" not in bundle.document:
        return None
    source = str(bundle.folder / "analysis.json")
    return likelihood_from_document(bundle.document["likelihood"], bundle.folder, source)


def resolve_likelihood(analysis: str | Path | Bundle | LikelihoodSpec) -> LikelihoodSpec:
    """A likelihood from a bundle (loaded, by id or by folder), a likelihood file or a region
    table."""
    if isinstance(analysis, LikelihoodSpec):
        return analysis
    if not isinstance(analysis, Bundle):
        if Path(analysis).is_file():
            known = {*available(), *installed()}
            if not is_explicit_path(analysis) and str(analysis) in known:
                kind = "shipped" if str(analysis) in available() else "installed"
                raise UsageError(
                    f"{analysis!r} is ambiguous: the {kind} bundle {analysis} and the file "
                    f"./{analysis} of the working directory; write ./{analysis} for the file, "
                    "or run from another directory for the bundle"
                )
            return load_likelihood(analysis)
        analysis = load_bundle(analysis)
    spec = bundle_likelihood(analysis)
    if spec is None:
        raise LikelihoodError(
            f"{analysis.folder / 'analysis.json'}: bundle {analysis.id} has no 'likelihood'; "
            "add one (see docs/limits.md) or pass a likelihood file "
            f"({given('likelihood', 'FILE')})"
        )
    return spec


def limits_for_bundle(
    bundle: Bundle,
    yields: Mapping[str, Any],
    skipped: Collection[str] = (),
    **options: Unpack[LimitOptions],
) -> dict[str, Any] | None:
    """The ``limits`` of `recast run`: None when the bundle has no ``likelihood``. Regions in
    ``skipped`` (not run) leave the likelihood, and with them the combinations and the
    workspace that need them; ``options`` as for
    :func:`~recast.likelihood.limits.compute_limits`."""
    spec = bundle_likelihood(bundle)
    if spec is not None and skipped:
        spec = _what_ran(spec, skipped)
    if spec is None:
        return None
    return compute_limits(spec, yields, **options)


def _what_ran(spec: LikelihoodSpec, skipped: Collection[str]) -> LikelihoodSpec | None:
    """The likelihood without the regions a run skipped, their combinations and (if it needs
    them) the workspace; None when nothing of it is left. `recast run` and `recast limits
    RESULTS` both use it, so that they give the same limits."""
    spec = without_regions(spec, set(skipped))
    return spec if spec.regions or spec.workspace is not None else None


def _ran_from_installed(analysis: str, recorded: Mapping[str, Any]) -> bool:
    """Whether the run used the bundle installed under ``analysis`` (``recast bundle
    install``), as it is now: same folder, same analysis.json. The user chose to install it;
    a results file alone never makes recast load a folder it names."""
    folder = installed().get(analysis)
    if folder is None:
        return False
    same_folder = recorded.get("path") == str(folder.resolve())
    return same_folder and recorded.get("sha256") == sha256_file(folder / "analysis.json")


def limits_for_results(
    results: str | Path | Mapping[str, Any],
    *,
    likelihood: str | Path | Bundle | LikelihoodSpec | None = None,
    method: str = "auto",
    negative: str = "clip",
    with_limits: bool = True,
    output: str | Path | None = None,
) -> dict[str, Any]:
    """A results document (a file, or the document :func:`recast.run` returned) with its
    ``limits`` filled in (μ95 besides CLs unless ``with_limits`` is False); written to
    ``output`` only when given.

    The likelihood is the bundle's (found by the results' ``analysis``) unless
    ``likelihood`` names a likelihood file, a bundle (id, folder or loaded) or a region table.
    """
    if isinstance(results, Mapping):
        document, where = dict(results), f"the results of {results.get('analysis', '?')}"
    else:
        document, where = schema.load_json(results), str(results)
    schema.validate(document, "results", where)
    if likelihood is not None:
        spec = resolve_likelihood(likelihood)
    else:
        recorded = document["provenance"].get("bundle", {})
        shipped = document["analysis"] in available() and recorded.get("shipped") is not False
        if not (shipped or _ran_from_installed(document["analysis"], recorded)):
            # the bundle's path in the results is not followed: a document never picks code
            raise UsageError(
                f"{where}: analysis {document['analysis']!r} did not run from a shipped or "
                f"installed bundle (it ran from {recorded.get('path', 'a folder')}); give its "
                f"bundle or likelihood with {given('likelihood', 'PATH')}"
            )
        spec = resolve_likelihood(load_bundle(document["analysis"]))
    # regions the run skipped (no network file) leave the likelihood, as they did in the run
    not_run = set(document.get("skipped", {})) - set(document["yields"])
    if not_run & set(needed_regions(spec)):
        log.warning(
            "%s: region(s) the run skipped leave the likelihood (see its 'skipped'): %s",
            where,
            ", ".join(sorted(not_run & set(needed_regions(spec)))),
        )
        ran = _what_ran(spec, not_run)
        if ran is None:
            raise LikelihoodError(
                f"{where}: the run skipped every region of the likelihood (see 'skipped'); "
                f"run the analysis again with their networks ({entry('networks', 'NAME', 'PATH')})"
            )
        spec = ran
    document["limits"] = compute_limits(
        spec,
        document["yields"],
        source=where,
        method=method,
        negative=negative,
        with_limits=with_limits,
    )
    schema.validate(document, "results", f"{where} with limits")
    if output is not None:
        write_json(output, document)
    return document
