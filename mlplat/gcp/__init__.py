"""Adapters over Google's official client libraries (REST transport): observe, create, update,
delete, wait; library errors become mlplat's own types."""
