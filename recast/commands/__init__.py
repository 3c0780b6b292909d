"""The `recast` sub-commands, one module per area; each registers itself on `recast.cli.cli`."""
