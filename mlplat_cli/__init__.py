"""The `mlplat` command line: the one layer above the flows; nothing imports it."""
