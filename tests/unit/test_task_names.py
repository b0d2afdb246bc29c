"""Every task keeps its name and run name (the UI, the benchmarks' timelines and the flow tests
find runs by them) and is never cached."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from prefect import Task
from prefect.cache_policies import NO_CACHE

import tasks
from tasks._runtime import env_task

RUN_NAMES = {
    "cluster_drift.observe_environment_drift": "observe-environment-drift[{ctx.env_name}]",
    "cluster_drift.prune_unmanaged": "prune-unmanaged[{ctx.env_name}]",
    "cluster_drift.restore_cluster_objects": "restore-cluster-objects[{ctx.env_name}]",
    "cluster_software.ensure_cluster_software": "ensure-cluster-software[{ctx.env_name}]",
    "cluster_software.wait_for_root_sync": "wait-for-root-sync[{ctx.env_name}]",
    "clusters.ensure_cluster": "ensure-cluster[{ctx.env_name}]",
    "clusters.ensure_node_pool": "ensure-node-pool[{ctx.env_name}/{pool.name}]",
    "fleet.ensure_config_management": "ensure-config-management[{ctx.env_name}]",
    "fleet.ensure_feature": "ensure-fleet-feature[{feature_id}]",
    "fleet.ensure_membership": "ensure-membership[{ctx.env_name}]",
    "fleet.ensure_policy_controller": "ensure-policy-controller[{ctx.env_name}]",
    "gitops.ensure_gitops": "ensure-gitops[{ctx.env_name}]",
    "identity.ensure_node_service_account": "ensure-node-identity[{ctx.env_name}]",
    "network.ensure_network": "ensure-network[{ctx.env_name}]",
    "network.ensure_reservations": "ensure-reservations[{ctx.env_name}]",
    "network.ensure_router": "ensure-router[{ctx.env_name}]",
    "network.ensure_subnet": "ensure-subnet[{ctx.env_name}]",
    "observation.observe_environment": "observe-environment[{ctx.env_name}]",
    "offboarding.find_team_namespaces": "find-team-namespaces[{ctx.env_name}/{team}]",
    "offboarding.remove_team_identity": "remove-team-identity[{ctx.env_name}/{team}]",
    "offboarding.wait_for_team_pruned": "wait-for-team-pruned[{ctx.env_name}/{team}]",
    "projects.ensure_billing": "ensure-billing[{ctx.project}]",
    "projects.ensure_project": "ensure-project[{ctx.project}]",
    "projects.ensure_services": "ensure-apis[{ctx.project}]",
    "promotion.promote_files": "promote-files[{source}->{ctx.env_name}]",
    "teams.ensure_team_credentials": "ensure-team-credentials[{ctx.env_name}/{member.name}]",
    "teams.ensure_team_identities": "ensure-team-identities[{ctx.env_name}]",
    "teams.ensure_team_space": "ensure-team-space[{ctx.env_name}/{member.name}]",
    "teams.probe_team_access": "verify-team-access[{ctx.env_name}]",
    "teams.verify_team_access": "verify-team-access[{ctx.env_name}]",
    "teams.wait_for_team_sync": "wait-for-team-sync[{ctx.env_name}/{member.name}]",
    "teams.wait_for_team_workloads": "wait-for-team-workloads[{ctx.env_name}/{member.name}]",
    "teardown.remove_branch": "remove-branch[{ctx.env_name}]",
    "teardown.remove_cluster": "remove-cluster[{ctx.env_name}]",
    "teardown.remove_fleet": "remove-fleet[{ctx.env_name}]",
    "teardown.remove_gitops_content": "remove-gitops-content[{ctx.env_name}]",
    "teardown.remove_identities": "remove-identities[{ctx.env_name}]",
    "teardown.remove_network": "remove-network[{ctx.env_name}]",
    "teardown.remove_project": "remove-project[{ctx.env_name}]",
}


def _tasks() -> dict[str, Task[..., object]]:
    found: dict[str, Task[..., object]] = {}
    for module in pkgutil.iter_modules(tasks.__path__):
        loaded = importlib.import_module(f"tasks.{module.name}")
        for attribute, value in vars(loaded).items():
            if isinstance(value, Task):
                found[f"{module.name}.{attribute}"] = value
    return found


def test_every_task_keeps_its_run_name_and_is_never_cached() -> None:
    found = _tasks()
    assert {key: task.task_run_name for key, task in found.items()} == RUN_NAMES
    for key, task in found.items():
        assert task.task_run_name == f"{task.name}[{RUN_NAMES[key].split('[', 1)[1]}"
        assert task.cache_policy is NO_CACHE, key


def test_a_task_without_an_environment_context_is_refused() -> None:
    with pytest.raises(TypeError, match="takes no `ctx`"):
        env_task("no-context")(lambda team: team)
