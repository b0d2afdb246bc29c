"""The dependency graph of provisioning, with the sandbox latency model's p50 durations, and three
ways to schedule it: unlimited parallelism (the critical-path bound no schedule can beat),
Terraform's (parallelism 10, one operation at a time per cluster, a 10 s LRO poll), and the
seed's (its README's steps one after the other)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

# Model p50s in seconds (../shared/reference/latency-model.md, as the sandbox declares them).
P50 = {
    "project": 8.0,
    "billing": 2.0,
    "billing-settle": 15.0,
    "services": 45.0,
    "iam-propagation": 30.0,
    "network": 20.0,
    "subnet": 15.0,
    "router": 12.0,
    "reservation": 15.0,
    "feature": 15.0,
    "cluster": 480.0,
    "node-pool": 90.0,
    "membership": 30.0,
    "config-management": 15.0,
    "config-sync-install": 120.0,
    "first-sync": 45.0,
    "kuberay-operator": 30.0,
    "reposync-first-sync": 45.0,
    "raycluster": 60.0,
}
TERRAFORM_PARALLELISM = 10
TERRAFORM_POLL = 10.0


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    after: tuple[str, ...] = ()
    lock: str = ""  # steps sharing a lock run one at a time under Terraform (per-cluster mutex)
    polled: bool = True  # an LRO Terraform polls every 10 s


@dataclass
class Graph:
    steps: dict[str, Step] = field(default_factory=dict)

    def add(self, name: str, kind: str, after: Iterable[str] = (), **extra: object) -> str:
        self.steps[name] = Step(name, P50[kind], tuple(after), **extra)  # type: ignore[arg-type]
        return name


def environment(graph: Graph, env: str, teams: int, pools: int = 3) -> None:
    """One environment's chain, as mlplat orders it (independent steps side by side)."""

    def n(step: str) -> str:
        return f"{env}/{step}"

    project = graph.add(n("project"), "project")
    billing = graph.add(n("billing"), "billing", [project])
    settle = graph.add(n("billing-settle"), "billing-settle", [billing], polled=False)
    services = graph.add(n("services"), "services", [settle])
    identity = graph.add(n("iam-propagation"), "iam-propagation", [services], polled=False)
    network = graph.add(n("network"), "network", [services])
    subnet = graph.add(n("subnet"), "subnet", [network])
    graph.add(n("router"), "router", [network])
    for i in range(pools):
        graph.add(n(f"reservation-{i}"), "reservation", [services])
    feature = graph.add(n("feature"), "feature", [services])
    cluster_lock = n("cluster")
    cluster = graph.add(n("cluster"), "cluster", [subnet, identity], lock=cluster_lock)
    for i in range(pools):
        graph.add(n(f"node-pool-{i}"), "node-pool", [cluster], lock=cluster_lock)
    membership = graph.add(n("membership"), "membership", [cluster])
    config = graph.add(n("config-management"), "config-management", [membership, feature])
    install = graph.add(n("config-sync-install"), "config-sync-install", [config], polled=False)
    synced = graph.add(n("first-sync"), "first-sync", [install], polled=False)
    operator = graph.add(n("kuberay-operator"), "kuberay-operator", [synced], polled=False)
    for t in range(teams):
        repo_sync = graph.add(
            n(f"team-{t}/reposync"), "reposync-first-sync", [synced], polled=False
        )
        graph.add(n(f"team-{t}/raycluster"), "raycluster", [repo_sync, operator], polled=False)


def critical_path(graph: Graph) -> float:
    """The longest chain of durations: the finish time with unlimited parallelism."""
    finish: dict[str, float] = {}

    def done(name: str) -> float:
        if name not in finish:
            step = graph.steps[name]
            finish[name] = max((done(d) for d in step.after), default=0.0) + step.seconds
        return finish[name]

    return max(done(name) for name in graph.steps)


def terraform(graph: Graph, parallelism: int = TERRAFORM_PARALLELISM) -> float:
    """List scheduling as `terraform apply` does: at most `parallelism` resources at once,
    one operation per cluster at a time, LROs observed on a 10 s poll."""
    waiting = {name: set(step.after) for name, step in graph.steps.items()}
    ready = sorted(name for name, deps in waiting.items() if not deps)
    running: list[tuple[float, str]] = []
    locks: set[str] = set()
    now = 0.0
    finished: set[str] = set()
    while len(finished) < len(graph.steps):
        for name in list(ready):
            step = graph.steps[name]
            if len(running) >= parallelism or (step.lock and step.lock in locks):
                continue
            seconds = step.seconds
            if step.polled:
                seconds = math.ceil(seconds / TERRAFORM_POLL) * TERRAFORM_POLL
            heapq.heappush(running, (now + seconds, name))
            if step.lock:
                locks.add(step.lock)
            ready.remove(name)
        now, name = heapq.heappop(running)
        finished.add(name)
        locks.discard(graph.steps[name].lock)
        for other, deps in waiting.items():
            if name in deps:
                deps.discard(name)
                if not deps and other not in finished and other not in ready:
                    ready.append(other)
        ready.sort()
    return now


def sequential(graph: Graph) -> float:
    """The seed's order: its hand-run steps one after the other."""
    return sum(step.seconds for step in graph.steps.values())


def platform(envs: int, teams: int) -> Graph:
    """The graph of `envs` environments with `teams` teams each."""
    graph = Graph()
    for e in range(envs):
        environment(graph, f"env{e}", teams)
    return graph
