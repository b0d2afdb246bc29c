"""mlplat core: specs, naming, render and plan (pure), and adapters over the official clients.

Never imports prefect; the flows and tasks above it do.
"""
