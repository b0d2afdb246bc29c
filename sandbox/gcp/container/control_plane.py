"""A GKE cluster's control-plane access in both of Google's views, kept in step.

GKE answers every cluster with the legacy view (`privateClusterConfig`,
`masterAuthorizedNetworksConfig`) and the network-isolation view
(`networkConfig.defaultEnablePrivateNodes`, `controlPlaneEndpointsConfig.{ipEndpointsConfig,
dnsEndpointConfig}`), whichever a request used (Config Connector's recordings of real clusters,
`containercluster-dnsendpoint-*` and `containercluster-private-masteripv4cidr`). A request may
use either; setting a legacy field and its new equivalent to different values is refused.

Here both views are rendered from one `Access` read out of a request or a stored cluster.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.gcp.container.model_error import ModelError
from sandbox.gcp.container.naming import JSON, version_at_least
from sandbox.gcp.names import digest

DNS_SUFFIX = "gke.goog"
# gke-<hash>-<project number>.<location>.gke.goog, as Google names a cluster's DNS endpoint.
DNS_HOST = re.compile(r"^gke-[0-9a-f]+-(\d+)\.([a-z0-9-]+)\.gke\.goog$")
_MAN = "masterAuthorizedNetworksConfig"


@dataclass(frozen=True)
class Access:
    """Who may reach the control plane, and how (one value per pair of legacy/new fields)."""

    private_nodes: bool = False
    ip_enabled: bool = True
    public_endpoint: bool = True
    global_access: bool = False
    authorized: JSON | None = None  # None: GKE's default for the endpoint kind
    master_cidr: str = ""
    endpoint_subnetwork: str = ""
    dns_external: bool = False
    dns_tokens: bool = False
    dns_certs: bool = False
    extra_private: JSON = field(default_factory=dict)  # peeringName and the like


def _conflict(legacy: str, new: str) -> ModelError:
    return ModelError(
        "INVALID_ARGUMENT",
        f'Invalid value for "{legacy}": it conflicts with "{new}". The legacy field and its '
        "network isolation equivalent cannot be set to different values; set only one of them.",
    )


def _pick(legacy: tuple[str, Any], new: tuple[str, Any], invert: bool = False) -> Any:
    """The value of a legacy/new pair; both given and disagreeing is refused."""
    (legacy_name, legacy_value), (new_name, new_value) = legacy, new
    both = legacy_value is not None and new_value is not None
    if both and (_same(legacy_value, new_value) == invert):
        raise _conflict(legacy_name, new_name)
    if new_value is not None:
        return new_value
    if legacy_value is not None:
        return (not legacy_value) if invert else legacy_value
    return None


def _same(a: Any, b: Any) -> bool:
    return bool(a) == bool(b) if isinstance(a, bool) or isinstance(b, bool) else a == b


def requested_access(body: Mapping[str, Any], base: Access | None = None) -> Access:
    """The access a CreateCluster `cluster` asks for (over `base`, GKE's defaults)."""
    base = base or Access()
    private = dict(body.get("privateClusterConfig") or {})
    endpoints = body.get("controlPlaneEndpointsConfig") or {}
    ip = endpoints.get("ipEndpointsConfig") or {}
    dns = endpoints.get("dnsEndpointConfig") or {}
    network = body.get("networkConfig") or {}
    p = "cluster.private_cluster_config."
    e = "cluster.control_plane_endpoints_config.ip_endpoints_config."
    nodes = _pick(
        (p + "enable_private_nodes", private.get("enablePrivateNodes")),
        (
            "cluster.network_config.default_enable_private_nodes",
            network.get("defaultEnablePrivateNodes"),
        ),
    )
    public = _pick(
        (p + "enable_private_endpoint", private.get("enablePrivateEndpoint")),
        (e + "enable_public_endpoint", ip.get("enablePublicEndpoint")),
        invert=True,
    )
    global_access = _pick(
        (
            p + "master_global_access_config",
            (private.get("masterGlobalAccessConfig") or {}).get("enabled"),
        ),
        (e + "global_access", ip.get("globalAccess")),
    )
    subnetwork = _pick(
        (p + "private_endpoint_subnetwork", private.get("privateEndpointSubnetwork") or None),
        (e + "private_endpoint_subnetwork", ip.get("privateEndpointSubnetwork") or None),
    )
    legacy_man, new_man = body.get(_MAN), ip.get("authorizedNetworksConfig")
    if legacy_man and new_man and _man(legacy_man) != _man(new_man):
        raise _conflict(
            "cluster.master_authorized_networks_config", e + "authorized_networks_config"
        )
    authorized = new_man if new_man is not None else legacy_man
    block = str(private.get("masterIpv4CidrBlock") or "")
    if block:
        try:
            ipaddress.ip_network(block)
        except ValueError as exc:
            raise ModelError(
                "INVALID_ARGUMENT",
                f'Unable to parse cluster.master_ipv4_cidr "{block}" into a valid IP address '
                "and mask.",
            ) from exc
    return replace(
        base,
        private_nodes=base.private_nodes if nodes is None else bool(nodes),
        ip_enabled=bool(ip.get("enabled", base.ip_enabled)) if ip else base.ip_enabled,
        public_endpoint=base.public_endpoint if public is None else bool(public),
        global_access=base.global_access if global_access is None else bool(global_access),
        authorized=base.authorized if authorized is None else dict(authorized),
        master_cidr=block or base.master_cidr,
        endpoint_subnetwork=str(subnetwork or base.endpoint_subnetwork),
        dns_external=bool(dns.get("allowExternalTraffic", base.dns_external)),
        dns_tokens=bool(dns.get("enableK8sTokensViaDns", base.dns_tokens)),
        dns_certs=bool(dns.get("enableK8sCertsViaDns", base.dns_certs)),
    )


def _man(config: Mapping[str, Any]) -> JSON:
    """Authorized networks without defaults, for comparing the two views."""
    return {k: v for k, v in config.items() if v not in (None, False, [], {})}


def stored_access(cluster: Mapping[str, Any]) -> Access:
    """The access of a stored cluster (its new view; the legacy one for older states)."""
    private = cluster.get("privateClusterConfig") or {}
    endpoints = cluster.get("controlPlaneEndpointsConfig")
    extra = {k: v for k, v in private.items() if k == "peeringName"}
    if not endpoints:
        access = requested_access({k: v for k, v in cluster.items() if k != "networkConfig"})
        return replace(access, extra_private=extra)
    ip = endpoints.get("ipEndpointsConfig") or {}
    dns = endpoints.get("dnsEndpointConfig") or {}
    return Access(
        private_nodes=bool((cluster.get("networkConfig") or {}).get("defaultEnablePrivateNodes")),
        ip_enabled=bool(ip.get("enabled")),
        public_endpoint=bool(ip.get("enablePublicEndpoint")),
        global_access=bool(ip.get("globalAccess")),
        authorized=copy.deepcopy(ip.get("authorizedNetworksConfig")),
        master_cidr=str(private.get("masterIpv4CidrBlock") or ""),
        endpoint_subnetwork=str(private.get("privateEndpointSubnetwork") or ""),
        dns_external=bool(dns.get("allowExternalTraffic")),
        dns_tokens=bool(dns.get("enableK8sTokensViaDns")),
        dns_certs=bool(dns.get("enableK8sCertsViaDns")),
        extra_private=extra,
    )


def dns_endpoint(cluster_id: str, project_number: str, location: str) -> str:
    """The cluster's DNS endpoint host, shaped like Google's."""
    return f"gke-{digest(cluster_id, 'dns')[:20]}-{project_number}.{location}.{DNS_SUFFIX}"


def public_address(seed: str) -> str:
    """The control plane's public IP, derived from the cluster's id."""
    return f"34.{int(seed[0:2], 16) % 200 + 20}.{int(seed[2:4], 16)}.{int(seed[4:6], 16) % 250 + 2}"


def render_access(cluster: JSON, access: Access, dns_host: str, *, creating: bool = False) -> None:
    """Write both views of `access` into `cluster`, and its `endpoint`.

    A cluster created without `gcpPublicCidrsAccessEnabled` gets GKE's default for it: true
    exactly when there is a public IP endpoint (Config Connector's recordings)."""
    seed = str(cluster.get("id", ""))
    public_ip = public_address(seed)
    private: JSON = dict(access.extra_private)
    if access.master_cidr:
        private["masterIpv4CidrBlock"] = access.master_cidr
        if access.private_nodes:
            private.setdefault("peeringName", f"gke-n{seed[8:24]}-{seed[24:28]}-{seed[28:32]}-peer")
    if access.endpoint_subnetwork:
        private["privateEndpointSubnetwork"] = access.endpoint_subnetwork
    if access.private_nodes:
        private["enablePrivateNodes"] = True
    ip: JSON = {"enabled": access.ip_enabled}
    authorized = access.authorized
    if authorized is None:
        # Google's defaults: a public IP admits Google Cloud's public ranges; without one, only
        # the VPC (authorized networks on); no IP endpoint, nothing to authorize
        if not access.ip_enabled:
            authorized = {}
        elif access.public_endpoint:
            authorized = {"gcpPublicCidrsAccessEnabled": True}
        else:
            authorized = {"enabled": True}
    if creating and access.ip_enabled and "gcpPublicCidrsAccessEnabled" not in authorized:
        authorized = {**authorized, "gcpPublicCidrsAccessEnabled": access.public_endpoint}
    endpoint = dns_host
    if access.ip_enabled:
        address = _private_address(access.master_cidr, seed)
        private.update(privateEndpoint=address, publicEndpoint=public_ip)
        if not access.public_endpoint:
            private["enablePrivateEndpoint"] = True
        if access.global_access:
            private["masterGlobalAccessConfig"] = {"enabled": True}
        ip.update(
            enablePublicEndpoint=access.public_endpoint,
            globalAccess=access.global_access,
            authorizedNetworksConfig=copy.deepcopy(authorized),
            privateEndpoint=address,
        )
        if access.public_endpoint:
            ip["publicEndpoint"] = public_ip
        endpoint = public_ip if access.public_endpoint else address
    dns: JSON = {
        "allowExternalTraffic": access.dns_external,
        "enableK8sTokensViaDns": access.dns_tokens,
        "endpoint": dns_host,
    }
    if access.dns_certs or version_at_least(str(cluster.get("currentMasterVersion", "")), (1, 34)):
        dns["enableK8sCertsViaDns"] = access.dns_certs  # answered explicitly from GKE 1.34
    cluster["privateClusterConfig"] = private
    cluster[_MAN] = copy.deepcopy(authorized)
    cluster["controlPlaneEndpointsConfig"] = {"dnsEndpointConfig": dns, "ipEndpointsConfig": ip}
    network = cluster.setdefault("networkConfig", {})
    network.pop("defaultEnablePrivateNodes", None)
    if access.private_nodes:
        network["defaultEnablePrivateNodes"] = True
    cluster["endpoint"] = endpoint


def _private_address(block: str, seed: str) -> str:
    if block:
        return str(ipaddress.ip_network(block, strict=False).network_address + 2)
    return f"10.{4 * (1 + int(digest(seed, 'endpoint')[:4], 16) % 62)}.0.2"


# ClusterUpdate fields that change control-plane access, as request-shaped fragments.
ACCESS_UPDATES = (
    "desiredControlPlaneEndpointsConfig",
    "desiredDefaultEnablePrivateNodes",
    "desiredEnablePrivateEndpoint",
    "desiredMasterAuthorizedNetworksConfig",
    "desiredPrivateClusterConfig",
)


def update_access(cluster: JSON, update: Mapping[str, Any]) -> None:
    """Apply the access fields of a ClusterUpdate to a stored cluster, both views."""
    wanted = {k: v for k, v in update.items() if k in ACCESS_UPDATES}
    if not wanted:
        return
    body: JSON = {}
    if "desiredControlPlaneEndpointsConfig" in wanted:
        body["controlPlaneEndpointsConfig"] = wanted["desiredControlPlaneEndpointsConfig"]
    if "desiredDefaultEnablePrivateNodes" in wanted:
        body["networkConfig"] = {
            "defaultEnablePrivateNodes": bool(wanted["desiredDefaultEnablePrivateNodes"])
        }
    if "desiredPrivateClusterConfig" in wanted:  # gcloud's --enable-master-global-access
        body["privateClusterConfig"] = dict(wanted["desiredPrivateClusterConfig"] or {})
    if "desiredEnablePrivateEndpoint" in wanted:
        body["privateClusterConfig"] = {
            **body.get("privateClusterConfig", {}),
            "enablePrivateEndpoint": bool(wanted["desiredEnablePrivateEndpoint"]),
        }
    if "desiredMasterAuthorizedNetworksConfig" in wanted:
        body[_MAN] = wanted["desiredMasterAuthorizedNetworksConfig"] or {}
    access = requested_access(body, stored_access(cluster))
    render_access(cluster, access, dns_host(cluster))


def dns_host(cluster: Mapping[str, Any]) -> str:
    """The DNS endpoint host of a stored cluster."""
    dns = (cluster.get("controlPlaneEndpointsConfig") or {}).get("dnsEndpointConfig") or {}
    return str(dns.get("endpoint") or "")
