"""recast train: the experimentalist's trainers (needs the [train] extra)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..cli import cli, reports_errors
from ..errors import UsageError


@cli.group()
def train() -> None:
    """Train efficiency maps (and, later, surrogates and filters) and ship them as cards."""


@train.command("efficiency")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", default=None, help="Also write the study summary as JSON.")
@reports_errors
def train_efficiency_command(config: Path, output: str | None) -> None:
    """Train a learned efficiency map and its binned counterpart; write the closure report.

    Example: recast train efficiency btag_training.json
    """
    from ..io import write_json
    from ..schema import load_json
    from ..train import train_efficiency

    if config.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise UsageError(
                f"{config}: YAML configs need PyYAML; give the config as JSON"
            ) from None
        document = yaml.safe_load(config.read_text())
    else:
        document = load_json(config)
    study = train_efficiency(document, config)
    summary = study.summary()
    if output:
        write_json(output, summary)
    click.echo(json.dumps(summary, indent=2, default=str))
