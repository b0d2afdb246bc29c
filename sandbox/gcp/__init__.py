"""Emulated Google Cloud APIs, one module per API (or per resource family for Compute)."""
