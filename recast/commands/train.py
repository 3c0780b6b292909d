"""recast train: the experimentalist's trainers (needs the [train] extra)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from .group import cli, reports_errors


@cli.group()
def train() -> None:
    """Train efficiency maps, surrogate taggers and event filters, and ship them as cards."""


def load_config(config: Path) -> Any:
    """A training config from JSON, or YAML by its suffix (.yaml, .yml: needs PyYAML)."""
    from ..schema import load_json

    if config.suffix not in (".yaml", ".yml"):
        return load_json(config)
    try:
        import yaml
    except ImportError:
        raise UsageError(f"{config}: YAML configs need PyYAML; give the config as JSON") from None
    if not config.is_file():
        from ..errors import ArtefactNotFoundError

        raise ArtefactNotFoundError(f"{config}: no such file")
    try:
        return yaml.safe_load(config.read_text())
    except yaml.YAMLError as exc:
        raise UsageError(f"{config}: not valid YAML: {exc}") from None


def check_outputs(output: str | None, config: Path, document: Any, default: str) -> None:
    """Refuse, before the training starts, a summary output that cannot be written, and an
    unwritable output folder (the config's ``output``, relative to it; ``default`` without)."""
    from ..io import check_output

    check_output(output, inputs=[config])
    folder = document.get("output", default) if isinstance(document, dict) else None
    if isinstance(folder, str):  # else the trainer's own check of the config says what is wrong
        where = config.resolve().parent / folder
        check_output(where, inputs=[config], field=f"'output' of {config}", folder=True)


def _print(summary: dict[str, Any], output: str | None) -> None:
    from ..io import write_json

    if output:
        write_json(output, summary)
    click.echo(json.dumps(summary, indent=2, default=str))


@train.command("efficiency")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", default=None, help="Also write the study summary as JSON.")
@reports_errors
def train_efficiency_command(config: Path, output: str | None) -> None:
    """Train a learned efficiency map and its binned counterpart; write the closure report.

    Example: recast train efficiency btag_training.json
    """
    from ..train import train_efficiency

    document = load_config(config)
    check_outputs(output, config, document, "maps")
    _print(train_efficiency(document, config).summary(), output)


@train.command("surrogate")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", default=None, help="Also write the study summary as JSON.")
@reports_errors
def train_surrogate_command(config: Path, output: str | None) -> None:
    """Train a surrogate tagger (the score's distribution from truth inputs), export it as
    ONNX + card + surrogate map, and check sampled against observed scores per pT bin.

    Example: recast train surrogate dl1r_surrogate.json
    """
    from ..train import train_surrogate

    document = load_config(config)
    check_outputs(output, config, document, "maps")
    _print(train_surrogate(document, config).summary(), output)
