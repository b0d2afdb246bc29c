"""Versions: the summary shows the cluster's GKE version; a release channel or minimum master
version that GKE's server config does not offer (and the cluster does not already meet) fails
the plan before anything is written, naming the spec file, line and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from flows.provision_environment import provision_environment
from mlplat.errors import SpecError
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.sandbox import gke_setup as gke

CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"


def _spec_with(tmp_path: Path, env: str = "dev", **cluster: str) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"), dirs_exist_ok=True)
    path = root / "environments" / f"{env}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc.setdefault("cluster", {}).update(cluster)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def _plan(sandbox: Sandbox, spec: Path) -> dict:  # type: ignore[type-arg]
    return provision_environment(
        "dev", dry_run=True, spec_dir=str(spec), endpoints=str(sandbox.endpoints_path)
    )


def test_versions_are_shown_and_checked_before_any_write(sandbox: Sandbox, tmp_path: Path) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    summary = provision_environment("dev", **where)
    rows = {row["resource"]: row for row in summary["rows"]}
    version = gke.container(sandbox).get_cluster(name=CLUSTER).current_master_version
    assert rows["gke/cluster mlp-dev"]["detail"] == f"GKE {version}"

    admin(sandbox, "POST", "/counters/reset")
    spec = _spec_with(tmp_path, min_master_version="1.35")
    with pytest.raises(SpecError) as caught:
        _plan(sandbox, spec)
    line = next(
        n
        for n, text in enumerate((spec / "environments/dev.yaml").read_text().splitlines(), 1)
        if text.strip().startswith("min_master_version")
    )
    assert re.fullmatch(
        rf".*environments/dev\.yaml:{line} environments\.dev\.cluster\.min_master_version: "
        r"1\.35 is not offered on the RAPID channel in us-central1 \(offered: 1\.34\..*\)",
        str(caught.value),
    ), str(caught.value)
    assert writes(sandbox) == {}

    # 1.33.4 is offered, but not on the RAPID channel, and the cluster is past it: met
    assert (
        _plan(sandbox, _spec_with(tmp_path, min_master_version="1.33.4"))["counts"]["update"] == 0
    )
    # past the cluster's version and not on its channel
    spec = _spec_with(tmp_path, min_master_version="1.34.9")
    with pytest.raises(SpecError, match=r"1\.34\.9 is not offered on the RAPID channel"):
        _plan(sandbox, spec)
    spec = _spec_with(tmp_path, min_master_version="1.33", release_channel="REGULAR")
    plan = _plan(sandbox, spec)
    cluster_row = next(r for r in plan["rows"] if r["resource"] == "gke/cluster mlp-dev")
    assert cluster_row["fields"] == "releaseChannel.channel"
    assert writes(sandbox) == {}

    # A brand-new environment's plan reads GKE's offer in a project that can answer (dev's).
    def new_env_plan(spec: Path) -> dict:  # type: ignore[type-arg]
        return provision_environment(
            "staging", dry_run=True, spec_dir=str(spec), endpoints=str(sandbox.endpoints_path)
        )

    with pytest.raises(SpecError, match=r"environments\.staging\.cluster\.min_master_version"):
        new_env_plan(_spec_with(tmp_path, "staging", min_master_version="1.35"))
    rows = {row["resource"]: row for row in new_env_plan(REFERENCE)["rows"]}
    assert rows["project mlp-staging-a1b2"]["action"] == "create"
    assert rows["gke/cluster mlp-staging"]["detail"].endswith(
        "(GKE's offer as project mlp-dev-a1b2 sees it)"
    )
    assert writes(sandbox) == {}
