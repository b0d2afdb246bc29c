"""Checks across fields and files that no single model can make alone."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from mlplat.errors import SpecIssue
from mlplat.specs import naming
from mlplat.specs.platform_spec import PlatformSpec
from mlplat.specs.yamlsource import Document, KeyPath

_RANGES = ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")


def cross_file_issues(
    spec: PlatformSpec,
    env_docs: Mapping[str, Document],
    team_docs: Mapping[str, Document],
) -> list[SpecIssue]:
    """Every issue that needs more than one model: names, references, overlaps, lengths."""
    issues: list[SpecIssue] = []

    def at(doc: Document, prefix: str, path: KeyPath, message: str) -> None:
        origin = doc.origin(path)
        dotted = ".".join([prefix, *(str(p) for p in path)])
        issues.append(SpecIssue(origin.file, origin.line, dotted, message))

    for stem, env in spec.environments.items():
        doc, prefix = env_docs[stem], f"environments.{stem}"
        if env.name != stem:
            at(doc, prefix, ("name",), f"must equal the file name {stem!r} (found {env.name!r})")
        for path, message in _network_overlaps(env.network.model_dump()):
            at(doc, prefix, path, message)
        for message in _derived_name_problems(spec, stem):
            at(doc, prefix, ("name",), message)

    namespaces: dict[str, list[str]] = {}
    for stem, team in sorted(spec.teams.items()):
        namespaces.setdefault(team.namespace_name, []).append(stem)
    for stem, team in spec.teams.items():
        doc, prefix = team_docs[stem], f"teams.{stem}"
        if team.name != stem:
            at(doc, prefix, ("name",), f"must equal the file name {stem!r} (found {team.name!r})")
        for index, env_name in enumerate(team.environments):
            if env_name not in spec.environments:
                known = ", ".join(sorted(spec.environments))
                at(
                    doc,
                    prefix,
                    ("environments", index),
                    f"unknown environment {env_name!r} (known: {known})",
                )
        others = [other for other in namespaces[team.namespace_name] if other != stem]
        if others:
            at(
                doc,
                prefix,
                ("namespace",) if team.namespace else ("name",),
                f"namespace {team.namespace_name!r} is already used by team "
                f"{', '.join(repr(o) for o in others)}",
            )
        try:
            naming.reconciler_name(team.namespace_name)
        except naming.NamingError as exc:
            at(doc, prefix, ("namespace",), str(exc))
        for env_name in team.environments if team.ray.enabled else ():
            team_env = spec.environments.get(env_name)
            if team_env is not None and not team_env.cluster.ray_operator.enabled:
                message = f"environment {env_name!r} has cluster.ray_operator disabled"
                at(doc, prefix, ("ray", "enabled"), message)
        for index, worker in enumerate(team.ray.workers):
            if worker.accelerator is None:
                continue
            for env_name in team.environments:
                team_env = spec.environments.get(env_name)
                if team_env is None:
                    continue
                types = {pool.gpu.type for pool in team_env.node_pools if pool.gpu}
                if worker.accelerator not in types:
                    at(
                        doc,
                        prefix,
                        ("ray", "workers", index, "accelerator"),
                        f"environment {env_name!r} has no node pool with {worker.accelerator}",
                    )
    return issues


def _network_overlaps(network: Mapping[str, object]) -> Iterator[tuple[KeyPath, str]]:
    blocks = [(key, ipaddress.ip_network(str(network[key]))) for key in _RANGES]
    for i, (key, block) in enumerate(blocks):
        for other_key, other in blocks[:i]:
            if block.overlaps(other):
                yield (
                    ("network", key),
                    f"{block} overlaps {other_key} {other} (ranges must be disjoint)",
                )


def _derived_name_problems(spec: PlatformSpec, env_name: str) -> Iterator[str]:
    env = spec.environments[env_name]
    for derive in (
        naming.project_id,
        naming.cluster_name,
        naming.network_name,
        naming.node_service_account_id,
    ):
        try:
            derive(spec.platform, env)
        except naming.NamingError as exc:
            yield str(exc)
    for pool in env.node_pools:
        try:
            naming.reservation_name(spec.platform, env, pool)
        except naming.NamingError as exc:
            yield str(exc)
