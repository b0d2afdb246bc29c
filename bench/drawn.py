"""What the sandbox actually drew: the durations of one run's steps, read from its latency
journal (`GET /latency`), keyed like bench.schedule's steps, so the critical-path bound can be
computed for the very run it is compared with rather than for the model's p50s."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from typing import Any

from bench.schedule import READY_APIS, Durations

Sample = dict[str, Any]

# Step → latency key of a one-off resource of the environment (the first such sample).
_SINGLE = {
    "billing": "call:cloudbilling.projects.updateBillingInfo",
    "billing-settle": "window:billing",
    "node-service-account": "call:iam.projects.serviceAccounts.create",
    "iam-propagation": "window:iam.serviceAccount.propagation",
    "network": "compute.networks.insert",
    "subnet": "compute.subnetworks.insert",
    "router": "compute.routers.insert",
    "feature": "gkehub.projects.locations.features.create",
    "membership": "gkehub.projects.locations.memberships.create",
    "config-management": "gkehub.projects.locations.features.patch",
    "cluster": "container.projects.locations.clusters.create",
    "cluster-reconcile": "container.clusters.autoReconcile",
    "config-sync-install": "controllers:configsync.install",
    "policy-controller-install": "controllers:policycontroller.install",
    "ray-operator-addon": "controllers:kuberay.operator",
}
# Step prefix → latency key of resources made several times (the i-th sample is step i).
_REPEATED = {
    "reservation-{}": "compute.reservations.insert",
    "node-pool-{}": "container.projects.locations.clusters.nodePools.create",
}
_ENABLE = ("serviceusage.enable.heavy", "serviceusage.services.enable")
_PROPAGATION = "window:serviceusage.propagation"
_FIRST_SYNC = "controllers:configsync.firstSync"
_RAYCLUSTER = "controllers:kuberay.raycluster"
_PROJECT_CREATE = "cloudresourcemanager.projects.create"


def durations(samples: Iterable[Sample], project_id: str) -> Durations:
    """Model seconds per step of the environment whose project is `project_id`."""
    mine = [s for s in samples if f"projects/{project_id}/" in s["subject"] + "/"]

    def of(key: str, where: Callable[[str], bool] = lambda _: True) -> list[float]:
        return [float(s["seconds"]) for s in mine if s["key"] == key and where(s["subject"])]

    def of_subjects(key: str) -> list[tuple[str, float]]:
        return [(s["subject"], float(s["seconds"])) for s in mine if s["key"] == key]

    drawn: Durations = {}
    for step, key in _SINGLE.items():
        if found := of(key):
            drawn[step] = found[0]
    for pattern, key in _REPEATED.items():
        for i, seconds in enumerate(of(key)):
            drawn[pattern.format(i)] = seconds
    if enabled := [x for key in _ENABLE for x in of(key)]:
        drawn["services"] = max(enabled)
    for api in READY_APIS:
        service = f"/services/{api}.googleapis.com"
        ready = [s for s in of_subjects(_PROPAGATION) if s[0].endswith(service)]
        if ready:
            drawn[f"{api}-ready"] = ready[0][1]
    if root := of(_FIRST_SYNC, lambda subject: "|RootSync|" in subject):
        drawn["first-sync"] = root[0]
    drawn.update(_teams(of_subjects(_FIRST_SYNC), of_subjects(_RAYCLUSTER)))
    return drawn


def _teams(syncs: list[tuple[str, float]], rayclusters: list[tuple[str, float]]) -> Durations:
    """team-i's RepoSync first sync and RayCluster readiness, both of one namespace: a team's
    chain is its own sync, then its own RayCluster (pairing the i-th draw of each would join
    one team's sync to another's RayCluster and overstate the longest chain)."""
    first_sync: dict[str, float] = {}
    for subject, seconds in syncs:  # cluster|RepoSync|namespace|name
        parts = subject.split("|")
        if len(parts) == 4 and parts[1] == "RepoSync":
            first_sync.setdefault(parts[2], seconds)
    ready: dict[str, float] = {}
    for subject, seconds in rayclusters:  # cluster|namespace|name
        parts = subject.split("|")
        if len(parts) == 3:
            ready.setdefault(parts[1], seconds)
    drawn: Durations = {}
    for i, namespace in enumerate(sorted(first_sync)):
        drawn[f"team-{i}/reposync"] = first_sync[namespace]
        if namespace in ready:
            drawn[f"team-{i}/raycluster"] = ready[namespace]
    return drawn


def project_create(samples: Iterable[Sample]) -> float | None:
    """The median project create (its request names no project, so it is not attributed)."""
    found = [float(s["seconds"]) for s in samples if s["key"] == _PROJECT_CREATE]
    return statistics.median(found) if found else None


def platform_durations(samples: list[Sample], project_ids: dict[str, str]) -> dict[str, Durations]:
    """Durations per graph environment label (env0, env1, …) from {label: project id}."""
    created = project_create(samples)
    result: dict[str, Durations] = {}
    for label, project in project_ids.items():
        drawn = durations(samples, project)
        if created is not None:
            drawn["project"] = created
        result[label] = drawn
    return result


def project_of(samples: Iterable[Sample], env: str) -> str:
    """The project ID of environment `env` as the requests named it ("" when none did)."""
    pattern = re.compile(rf"projects/(mlp-{re.escape(env)}-[a-z0-9]+)/")
    for sample in samples:
        if found := pattern.search(sample["subject"] + "/"):
            return found.group(1)
    return ""
