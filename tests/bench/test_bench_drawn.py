"""The benchmark attributes the sandbox's drawn durations to the steps of each environment."""

from __future__ import annotations

from bench import drawn, schedule, timeline

CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"


def _sample(key: str, subject: str, seconds: float) -> dict[str, object]:
    return {"key": key, "subject": subject, "seconds": seconds}


SAMPLES = [
    _sample("cloudresourcemanager.projects.create", "POST /v3/projects", 10.0),
    _sample("cloudresourcemanager.projects.create", "POST /v3/projects", 30.0),
    _sample(
        "container.projects.locations.clusters.create",
        "POST /v1/projects/mlp-dev-a1b2/locations/us-central1/clusters",
        600.0,
    ),
    _sample(
        "container.projects.locations.clusters.create",
        "POST /v1/projects/mlp-prod-a1b2/locations/us-central1/clusters",
        400.0,
    ),
    _sample(
        "window:serviceusage.propagation",
        "projects/mlp-dev-a1b2/services/container.googleapis.com",
        70.0,
    ),
    _sample("controllers:configsync.firstSync", f"{CLUSTER}|RootSync|cms|root-sync", 40.0),
    _sample("controllers:configsync.firstSync", f"{CLUSTER}|RepoSync|nlp|repo-sync", 20.0),
    _sample("controllers:configsync.firstSync", f"{CLUSTER}|RepoSync|cv|repo-sync", 25.0),
    # drawn when each RayCluster appears: here cv's before nlp's, unlike their syncs
    _sample("controllers:kuberay.raycluster", f"{CLUSTER}|cv|cv-ray", 90.0),
    _sample("controllers:kuberay.raycluster", f"{CLUSTER}|nlp|nlp-ray", 5.0),
]


def test_durations_go_to_their_environment_and_step() -> None:
    assert drawn.project_of(SAMPLES, "dev") == "mlp-dev-a1b2"
    assert drawn.project_of(SAMPLES, "staging") == ""
    dev = drawn.durations(SAMPLES, "mlp-dev-a1b2")
    assert dev["cluster"] == 600.0
    assert dev["container-ready"] == 70.0
    assert dev["first-sync"] == 40.0
    # a team's sync and its RayCluster go together (namespaces in name order: cv, nlp)
    assert (dev["team-0/reposync"], dev["team-0/raycluster"]) == (25.0, 90.0)
    assert (dev["team-1/reposync"], dev["team-1/raycluster"]) == (20.0, 5.0)
    assert drawn.durations(SAMPLES, "mlp-prod-a1b2") == {"cluster": 400.0}
    both = drawn.platform_durations(SAMPLES, {"env0": "mlp-dev-a1b2"})
    assert both["env0"]["project"] == 20.0  # the median: creates name no project


def test_the_bound_follows_what_was_drawn_and_names_its_chain() -> None:
    durations = drawn.platform_durations(SAMPLES, {"env0": "mlp-dev-a1b2"})
    graph = schedule.platform(1, 2, durations)
    p50 = schedule.platform(1, 2)
    # the drawn cluster is 120 s longer than the p50, the propagation 40 s, first sync 5 s less
    assert schedule.critical_path(graph) > schedule.critical_path(p50)
    chain = [name for name, _ in timeline.critical_chain(graph)]
    assert chain[0] == "env0/project"
    assert "env0/cluster" in chain
    assert chain[-1].endswith("/raycluster")
    runs = [{"name": "ensure-cluster[dev]", "start": 1.0, "end": 12.5}]
    rows = timeline.breakdown(graph, runs, {"env0": "dev"}, time_scale=60.0)
    cluster = next(r for r in rows if r["step"] == "env0/cluster")
    assert (
        cluster["task"],
        cluster["mlplat_start_s"],
        cluster["mlplat_done_s"],
        cluster["drawn_s"],
    ) == ("ensure-cluster", 1.0, 12.5, 10.0)


def test_a_control_plane_upgrade_after_create_holds_the_node_pools_and_workloads_back() -> None:
    reconcile = _sample("container.clusters.autoReconcile", CLUSTER, 900.0)
    dev = drawn.durations([*SAMPLES, reconcile], "mlp-dev-a1b2")
    assert dev["cluster-reconcile"] == 900.0
    calm = schedule.finish_times(
        schedule.platform(1, 2, {"env0": drawn.durations(SAMPLES, "mlp-dev-a1b2")})
    )
    upgraded = schedule.finish_times(schedule.platform(1, 2, {"env0": dev}))
    assert upgraded["env0/node-pool-0"] == calm["env0/node-pool-0"] + 900.0
    # the fleet goes on meanwhile, but a RayCluster needs its node pool
    assert upgraded["env0/first-sync"] == calm["env0/first-sync"]
    ray = upgraded["env0/team-1/raycluster"]
    assert ray == upgraded["env0/node-pool-0"] + dev.get("team-1/raycluster", 60.0)


def test_cpu_only_rayclusters_do_not_wait_for_the_node_pools() -> None:
    reconcile = _sample("container.clusters.autoReconcile", CLUSTER, 900.0)
    dev = drawn.durations([*SAMPLES, reconcile], "mlp-dev-a1b2")
    upgraded = schedule.finish_times(schedule.platform(1, 20, {"env0": dev}, gpu_workers=False))
    ray = upgraded["env0/team-1/raycluster"]
    assert ray == max(
        upgraded["env0/team-1/reposync"], upgraded["env0/ray-operator-addon"]
    ) + dev.get("team-1/raycluster", 60.0)
    assert ray < upgraded["env0/node-pool-0"]  # the pools still end the environment later
