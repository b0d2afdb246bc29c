"""Prefect task wrappers, one module per resource family."""
