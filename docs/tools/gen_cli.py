"""Write docs/cli.md from the click commands themselves: `python docs/tools/gen_cli.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from recast.cli import cli


def render() -> str:
    lines = [
        "# Command line",
        "",
        "Generated from the commands by `python docs/tools/gen_cli.py`; do not edit.",
        "",
    ]

    def walk(command: click.Command, path: list[str]) -> None:
        # the help names the CLI really uses (click caches the help option per command)
        context = click.Context(
            command, info_name=" ".join(path), help_option_names=["-h", "--help"]
        )
        lines.extend([f"## `{' '.join(path)}`", "", "```", command.get_help(context), "```", ""])
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])

    walk(cli, ["recast"])
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "cli.md"
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if target.read_text() == text else 1)
    target.write_text(text)
