"""Emulated Google Cloud APIs: a subpackage per API (`container`, `compute`, `gkehub`, `iam`,
`resourcemanager`, `serviceusage`), a module for the small ones (`billing`, `cloudasset`), and
`apis`, the list of what a sandbox serves."""
