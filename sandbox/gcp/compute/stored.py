"""Where Compute keeps the resources it stores (read by its modules and by GKE's checks)."""

from __future__ import annotations

NETWORKS = "compute.networks"  # key: "<project>/<name>"
SUBNETWORKS = "compute.subnetworks"  # key: "<project>/<region>/<name>"
ROUTERS = "compute.routers"  # key: "<project>/<region>/<name>"
FIREWALLS = "compute.firewalls"  # key: "<project>/<name>"
RESERVATIONS = "compute.reservations"  # key: "<project>/<zone>/<name>"
