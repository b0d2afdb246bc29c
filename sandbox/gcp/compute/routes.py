"""Compute Engine routes: get and list of the system-generated routes of each network, as Google
makes them: a default route to the Internet per network, and a local route per subnetwork range
(primary and secondary)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import link, visible
from sandbox.gcp.compute.stored import NETWORKS, SUBNETWORKS
from sandbox.gcp.names import digest

HANDLERS = Handlers("compute.v1")


def _route(pid: str, seed: str, created: str, **fields: Any) -> dict[str, Any]:
    name = f"default-route-{digest(seed)[:16]}"
    return {
        "kind": "compute#route",
        "id": str(int(digest(seed, "id")[:15], 16)),
        "creationTimestamp": created,
        "name": name,
        **fields,
        "selfLink": link(f"projects/{pid}/global/routes/{name}"),
    }


def routes(call: Call, pid: str) -> list[dict[str, Any]]:
    """The project's system-generated routes."""
    found: list[dict[str, Any]] = []
    for network in call.rt.store.values(NETWORKS, f"{pid}/"):
        if not visible(network):
            continue
        own = network["selfLink"]
        found.append(
            _route(
                pid,
                network["id"],
                network["creationTimestamp"],
                description="Default route to the Internet.",
                network=own,
                destRange="0.0.0.0/0",
                priority=1000,
                nextHopGateway=link(f"projects/{pid}/global/gateways/default-internet-gateway"),
            )
        )
        for subnet in call.rt.store.values(SUBNETWORKS, f"{pid}/"):
            if not visible(subnet) or subnet.get("network") != own:
                continue
            ranges = [subnet["ipCidrRange"]]
            ranges += [r["ipCidrRange"] for r in subnet.get("secondaryIpRanges", [])]
            for cidr in ranges:
                found.append(
                    _route(
                        pid,
                        f"{subnet['id']}/{cidr}",
                        subnet["creationTimestamp"],
                        description=f"Default local route to the subnetwork {cidr}.",
                        network=own,
                        destRange=cidr,
                        priority=0,
                        nextHopNetwork=own,
                    )
                )
    return found


def _sourced(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [("", route) for route in routes(call, pid)]


COLLECTION = Collection("routes", "route", "global", source=_sourced)
COLLECTION.serve_reads(HANDLERS)
