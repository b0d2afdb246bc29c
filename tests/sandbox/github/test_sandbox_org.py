"""The organization `mlplat up` needs on the sandbox's GitHub: made once, then only read (a
converged run writes nothing to GitHub), and a transient 503 is retried."""

from __future__ import annotations

import pytest

from mlplat_cli.session import sandbox_org
from tests.sandbox.github.conftest import Hub

CREATE = "github.POST /admin/organizations"
READ = "github.GET /orgs/{org}"


def test_the_organization_is_made_once_then_only_read(hub: Hub) -> None:
    rt = hub.sandbox.rt
    rt.counters.reset()
    sandbox_org(hub.sandbox.endpoints_path, "acme-ml")
    assert hub.client().get_organization("acme-ml").login == "acme-ml"
    rt.counters.reset()
    sandbox_org(hub.sandbox.endpoints_path, "acme-ml")
    snapshot = rt.counters.snapshot()
    assert snapshot["writes"] == 0
    assert snapshot["methods"][READ]["reads"] == 1


def test_a_transient_503_is_retried(hub: Hub) -> None:
    rt = hub.sandbox.rt
    rt.faults.configure(
        {"rules": [{"api": "github", "method": "github.*", "code": 503, "times": 2}]}
    )
    rt.counters.reset()
    sandbox_org(hub.sandbox.endpoints_path, "acme-ml")
    assert hub.client().get_organization("acme-ml").login == "acme-ml"
    faulted = [r for r in rt.counters.requests(limit=20) if r.get("fault") == "http 503"]
    assert len(faulted) == 2


def test_a_refusal_is_not_retried(hub: Hub) -> None:
    rt = hub.sandbox.rt
    rt.faults.configure({"rules": [{"api": "github", "method": CREATE, "code": 403}]})
    rt.counters.reset()
    with pytest.raises(Exception, match="403"):
        sandbox_org(hub.sandbox.endpoints_path, "acme-ml")
    assert rt.counters.snapshot()["methods"][CREATE]["count"] == 1
