"""recast train filter: the selective-simulation event filter (needs the [train] extra)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .group import reports_errors
from .train import check_outputs, load_config, train


@train.command("filter")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", default=None, help="Also write the study summary as JSON.")
@reports_errors
def train_filter_command(config: Path, output: str | None) -> None:
    """Train the event filter (a graph network over the truth record) without and with the
    dCorr penalty, export both as ONNX + card, and report AUC, kept fraction, speed-up, ESS per
    CPU second and the bias of chosen variables on held-out events.

    Example: recast train filter toy_filter.json -o summary.json
    """
    from ..io import write_json
    from ..train.filter.study import train_filter

    document = load_config(config)
    check_outputs(output, config, document, "filter")
    summary = train_filter(document, config).summary()
    if output:
        write_json(output, summary)
    click.echo(json.dumps(summary, indent=2, default=str, ensure_ascii=False))
