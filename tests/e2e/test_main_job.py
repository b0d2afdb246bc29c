"""The README's main job as a user runs it: `mlplat up` starts the sandbox and a Prefect server
by itself, provisions the reference platform, and a second run changes nothing; then a
kubeconfig from `mlplat kubeconfig` lets kubectl reach the private cluster."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import run_mlplat
from tests.e2e.kubectl_session import run_admin_commands, run_session


@pytest.mark.timeout(900)
def test_up_twice_then_kubectl(user_env: dict[str, str], tmp_path: Path) -> None:
    first = run_mlplat(user_env, "up", "--env", "dev")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "sandbox:" in first.stderr and "started" in first.stderr
    assert "create  gke/cluster mlp-dev" in first.stdout
    assert "Prefect UI" in first.stdout

    second = run_mlplat(user_env, "up", "--env", "dev")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "running" in second.stderr
    assert re.search(r"^  dev: \d+ noop$", second.stdout, re.MULTILINE), second.stdout

    drift = run_mlplat(user_env, "drift", "--env", "dev")
    assert (drift.returncode, drift.stdout.strip()) == (0, "no drift in dev"), drift.stderr[-2000:]

    kubeconfig = tmp_path / "kc"
    made = run_mlplat(user_env, "kubeconfig", "dev", "-o", str(kubeconfig))
    assert made.returncode == 0, made.stderr
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    result = subprocess.run(
        [kubectl, "--request-timeout=20s", "get", "namespaces", "-o", "name"],
        check=False,
        env={**user_env, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "namespace/kube-system" in result.stdout

    def kubectl_dev(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(kubectl), "--request-timeout=20s", *args],
            check=False,
            input=stdin,
            env={**user_env, "KUBECONFIG": str(kubeconfig)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    run_session(kubectl_dev)
    run_admin_commands(kubectl_dev)

    onboard = run_mlplat(user_env, "team", "onboard", "dev", "vision")
    assert onboard.returncode == 0, onboard.stderr[-3000:]
    assert re.search(r"access: \d+ SubjectAccessReviews as expected", onboard.stdout)
    assert "Ray: ray://vision-ray-head-svc.vision.svc:10001" in onboard.stdout
    refused = run_mlplat(user_env, "team", "offboard", "dev", "nlp", "--yes")
    assert refused.returncode == 1
    assert "infra_specs/teams/nlp.yaml: team 'nlp' still lists environment 'dev'" in (
        refused.stderr
    )

    down = run_mlplat(user_env, "down", "dev")
    assert down.returncode == 0, down.stderr[-3000:]
    assert "Would delete (run again with --yes):" in down.stdout
    assert "  gke/cluster mlp-dev" in down.stdout
