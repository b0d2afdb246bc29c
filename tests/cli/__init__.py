"""Tests of the mlplat command and the services it starts and stops (processes, ports)."""
