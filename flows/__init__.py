"""Prefect flow entrypoints, one module per deployable flow."""
