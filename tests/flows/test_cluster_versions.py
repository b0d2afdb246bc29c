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


def _spec_with(tmp_path: Path, **cluster: str) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"), dirs_exist_ok=True)
    dev = root / "environments" / "dev.yaml"
    doc = yaml.safe_load(dev.read_text())
    doc["cluster"].update(cluster)
    dev.write_text(yaml.safe_dump(doc, sort_keys=False))
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
