"""The benchmark's schedules of the provisioning graph (pure)."""

from __future__ import annotations

from bench import schedule
from bench.schedule import Graph, Step


def _graph(*steps: Step) -> Graph:
    return Graph({s.name: s for s in steps})


def test_critical_path_is_the_longest_chain() -> None:
    graph = _graph(
        Step("a", 10), Step("b", 5, ("a",)), Step("c", 30, ("a",)), Step("d", 1, ("b", "c"))
    )
    assert schedule.critical_path(graph) == 41
    assert schedule.sequential(graph) == 46


def test_terraform_serializes_a_cluster_and_rounds_to_its_poll() -> None:
    graph = _graph(
        Step("cluster", 95, lock="c"),
        Step("pool-1", 12, ("cluster",), lock="c"),
        Step("pool-2", 12, ("cluster",), lock="c"),
        Step("sleep", 15, polled=False),
    )
    assert schedule.critical_path(graph) == 107
    assert schedule.terraform(graph) == 100 + 20 + 20


def test_terraform_parallelism_caps_concurrent_steps() -> None:
    graph = _graph(*(Step(f"s{i}", 10) for i in range(4)))
    assert schedule.terraform(graph, parallelism=2) == 20
    assert schedule.terraform(graph, parallelism=10) == 10


def test_the_platform_graph_grows_with_environments_and_teams() -> None:
    one = schedule.platform(1, 2)
    assert schedule.critical_path(one) == schedule.critical_path(schedule.platform(3, 20))
    assert schedule.terraform(schedule.platform(3, 20)) > schedule.terraform(one)


def test_root_sync_lands_once_both_config_sync_and_policy_controller_are_in() -> None:
    """Its constraints' kinds come with Policy Controller: a slow Policy Controller install
    holds back the first sync and everything after it; the seed waits for it in the same step
    as Config Sync's install."""
    calm = schedule.platform(1, 2)
    slow = schedule.platform(1, 2, {"env0": {"policy-controller-install": 400.0}})
    finish = schedule.finish_times(slow)
    assert finish["env0/root-sync"] == finish["env0/policy-controller-install"]
    assert finish["env0/root-sync"] > schedule.finish_times(calm)["env0/root-sync"]
    assert schedule.critical_path(slow) > schedule.critical_path(calm)
    assert schedule.sequential(slow) == schedule.sequential(calm)
