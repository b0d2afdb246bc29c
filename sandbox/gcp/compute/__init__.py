"""Compute Engine v1: networks, subnetworks, routers, firewalls, reservations (stored), routes,
instances and disks (what another API, GKE, registered as derived), regions, zones and
operations."""
