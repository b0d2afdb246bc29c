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
    "api-propagation": 30.0,
    "service-account": 1.0,
    "iam-propagation": 30.0,
    "network": 20.0,
    "subnet": 15.0,
    "router": 12.0,
    "reservation": 15.0,
    "feature": 15.0,
    "cluster": 480.0,
    # A new cluster upgrades its control plane by itself now and then (the model: 10 %, p50
    # 600 s), blocking the node pools' operations; the p50 graph has none.
    "cluster-reconcile": 0.0,
    "node-pool": 90.0,
    "membership": 30.0,
    "config-management": 15.0,
    "config-sync-install": 120.0,
    "policy-controller-install": 120.0,
    "first-sync": 45.0,
    # root-sync's first sync lands only once Policy Controller's constraint kinds exist (before,
    # Config Sync retries: KNV1021): a join of the two, taking no time of its own
    "root-sync": 0.0,
    # GKE's Ray operator add-on: installed and started by GKE once the cluster runs
    "ray-operator-addon": 30.0,
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
    hand_run: bool = True  # a step of its own in the seed's order (else it overlaps another)


Durations = dict[str, float]  # seconds per step name (without the environment prefix)
READY_APIS = ("compute", "container", "gkehub", "iam")  # each API answers 403 until ready


@dataclass
class Graph:
    steps: dict[str, Step] = field(default_factory=dict)

    def add(
        self,
        name: str,
        kind: str,
        after: Iterable[str] = (),
        seconds: float | None = None,
        **extra: object,
    ) -> str:
        """Add a step lasting `seconds` (default: the model's p50 for `kind`)."""
        duration = P50[kind] if seconds is None else seconds
        self.steps[name] = Step(name, duration, tuple(after), **extra)  # type: ignore[arg-type]
        return name


def environment(
    graph: Graph,
    env: str,
    teams: int,
    pools: int = 3,
    durations: Durations | None = None,
    *,
    gpu_workers: bool = True,
) -> None:
    """One environment's chain, as mlplat orders it (independent steps side by side).
    `durations` overrides the model's p50 per step (e.g. with what the sandbox drew)."""
    drawn = durations or {}

    def add(step: str, kind: str, after: Iterable[str] = (), **extra: object) -> str:
        return graph.add(f"{env}/{step}", kind, after, drawn.get(step), **extra)

    project = add("project", "project")
    billing = add("billing", "billing", [project])
    settle = add("billing-settle", "billing-settle", [billing], polled=False)
    services = add("services", "services", [settle])
    ready = {
        api: add(f"{api}-ready", "api-propagation", [services], polled=False) for api in READY_APIS
    }
    node_account = add("node-service-account", "service-account", [ready["iam"]])
    visible = add("iam-propagation", "iam-propagation", [node_account], polled=False)
    network = add("network", "network", [ready["compute"]])
    subnet = add("subnet", "subnet", [network])
    add("router", "router", [network])
    for i in range(pools):
        add(f"reservation-{i}", "reservation", [ready["compute"]])
    feature = add("feature", "feature", [ready["gkehub"]])
    lock = f"{env}/cluster"
    cluster = add("cluster", "cluster", [subnet, visible, ready["container"]], lock=lock)
    settled = add("cluster-reconcile", "cluster-reconcile", [cluster], lock=lock)
    node_pools = [add(f"node-pool-{i}", "node-pool", [settled], lock=lock) for i in range(pools)]
    membership = add("membership", "membership", [cluster, ready["gkehub"]])
    config = add("config-management", "config-management", [membership, feature])
    install = add("config-sync-install", "config-sync-install", [config], polled=False)
    # its own fleet feature's spec, set beside Config Sync's (in the seed's order, the same
    # fleet spec installed both)
    policy_spec = add(
        "policy-controller", "config-management", [membership, feature], hand_run=False
    )
    policy = add(
        "policy-controller-install",
        "policy-controller-install",
        [policy_spec],
        polled=False,
        hand_run=False,
    )
    first = add("first-sync", "first-sync", [install], polled=False)
    synced = add("root-sync", "root-sync", [first, policy], polled=False)
    operator = add("ray-operator-addon", "ray-operator-addon", [cluster], polled=False)
    for t in range(teams):
        repo_sync = add(f"team-{t}/reposync", "reposync-first-sync", [synced], polled=False)
        # GPU workers run on the node pools (the sandbox fails a RayCluster whose pool is
        # missing); CPU-only ones go to nodes that auto-provisioning makes
        nodes = node_pools if gpu_workers else []
        add(f"team-{t}/raycluster", "raycluster", [repo_sync, operator, *nodes], polled=False)


def finish_times(graph: Graph) -> dict[str, float]:
    """When each step finishes with unlimited parallelism."""
    finish: dict[str, float] = {}

    def done(name: str) -> float:
        if name not in finish:
            step = graph.steps[name]
            finish[name] = max((done(d) for d in step.after), default=0.0) + step.seconds
        return finish[name]

    for name in graph.steps:
        done(name)
    return finish


def critical_path(graph: Graph) -> float:
    """The longest chain of durations: the finish time with unlimited parallelism."""
    return max(finish_times(graph).values())


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
    return sum(step.seconds for step in graph.steps.values() if step.hand_run)


def platform(
    envs: int,
    teams: int,
    durations: dict[str, Durations] | None = None,
    *,
    gpu_workers: bool = True,
) -> Graph:
    """The graph of `envs` environments with `teams` teams each; `durations` per environment
    name (env0, env1, …) override the model's p50s. `gpu_workers`: the teams' RayClusters have
    GPU workers, which wait for the node pools."""
    graph = Graph()
    for e in range(envs):
        environment(
            graph,
            f"env{e}",
            teams,
            durations=(durations or {}).get(f"env{e}"),
            gpu_workers=gpu_workers,
        )
    return graph
