"""Compute Engine v1: networks, subnetworks, routers, firewalls, reservations (stored), routes,
instances and disks (derived from what GKE runs), regions, zones and operations."""
