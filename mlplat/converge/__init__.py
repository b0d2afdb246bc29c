"""Observe → plan → apply for each resource family, over the adapters; no Prefect here.

The Prefect tasks in `tasks/` are thin wrappers over these functions."""
