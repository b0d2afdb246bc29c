"""Service Usage v1: which services a project enabled, and the catalog of services the sandbox
knows."""
