"""Bad input: malformed API answers and invalid specs end in clear errors, and nothing is
created twice or half-applied.

Malformed answers come from the sandbox's `malformed` fault rules (the request is served for
real, its successful answer corrupted: truncated JSON, a value of the wrong type, an unknown
enum value). The property that matters: an answer mlplat cannot read is never taken for
"absent" (which would create a duplicate), and never surfaces as a raw KeyError or TypeError.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flows.provision_environment import provision_environment
from mlplat.errors import MalformedResponseError, SpecError, TruncatedResponseError
from mlplat.specs import load_spec
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.flows.conftest import REFERENCE, admin, writes
from tests.reliability.conftest import FULL, scale
from tests.unit.spec_files import paths

GITHUB_REF = "github.GET /repos/{owner}/{repo}/git/ref/{ref+}"
MALFORMED = r"answered a malformed response"
# A cut-short answer to a read stays retryable (TruncatedResponseError) once retries ran out.
UNREADABLE = (MalformedResponseError, TruncatedResponseError)


@dataclass(frozen=True)
class Converged:
    """A sandbox with dev provisioned, and the creates that first run made."""

    sandbox: Sandbox
    creates: dict[str, int]


def _run(sandbox: Sandbox, spec: Path = REFERENCE) -> dict[str, Any]:
    result: dict[str, Any] = provision_environment(
        "dev", spec_dir=str(spec), endpoints=str(sandbox.endpoints_path)
    )
    return result


def _is_create(method: str) -> bool:
    return method.endswith((".create", ".insert")) or method in (
        "github.POST /orgs/{org}/repos",
        "github.POST /repos/{owner}/{repo}/git/refs",
    )


def _creates(counted: dict[str, int]) -> dict[str, int]:
    return {method: n for method, n in counted.items() if _is_create(method)}


def _log(sandbox: Sandbox) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = admin(sandbox, "GET", "/requests")["requests"]
    return requests


@pytest.fixture(scope="module")
def converged(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> Iterator[Converged]:
    """One sandbox for the module with dev provisioned from the reference spec."""
    with (
        pytest.MonkeyPatch.context() as patch,
        Sandbox(tmp_path_factory.mktemp("converged") / "state", latency="instant") as sandbox,
    ):
        github = sandbox.component("github")
        assert isinstance(github, GitHub)
        github.create_org("ml-platform-org")
        patch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
        _run(sandbox)
        creates = _creates(writes(sandbox))
        assert creates["container.projects.locations.clusters.create"] == 1
        yield Converged(sandbox, creates)


# (rule, what the failure says; None: the run converges through retries)
Case = tuple[dict[str, Any], str | None]


def _case(rule: dict[str, Any], fails: str | None, name: str) -> Any:
    return pytest.param(rule, fails, id=name)


ON_CONVERGED = [
    _case(
        {"method": "compute.networks.get", "malformed": "wrong-type"},
        r"compute/network mlp-dev-vpc: get: compute\.networks\.get "
        + MALFORMED
        + r" \(wrong type\)"
        r": routingConfig: expected an object",
        "network-get-wrong-type",
    ),
    _case(
        {"method": "container.projects.locations.clusters.get", "malformed": "unknown-enum"},
        r"container\.projects\.locations\.clusters\.get "
        + MALFORMED
        + r" \(unknown enum value\): status: 'FROBNICATING' is none of",
        "cluster-get-unknown-enum",
    ),
    _case(
        {"method": "iam.projects.serviceAccounts.get", "malformed": "truncated", "times": 2},
        None,
        "service-account-get-truncated-twice",
    ),
    _case(  # a converged run reads the git-creds Secrets in one list (observe first)
        {"api": "k8s", "method": "k8s.list.secrets", "malformed": "wrong-type"},
        r"k8s/Secret: list " + MALFORMED + r" \(wrong type\)",
        "k8s-secret-list-wrong-type",
    ),
    _case(
        {"api": "github", "method": GITHUB_REF, "malformed": "wrong-type", "field": "object"},
        r"git/branch dev: get " + MALFORMED + r" \(wrong type\): expected an object",
        "github-ref-get-wrong-type",
    ),
]
ON_CONVERGED_FULL = [
    _case(
        {"method": "cloudresourcemanager.projects.get", "malformed": "unknown-enum"},
        r"project mlp-dev-a1b2: get: cloudresourcemanager\.projects\.get "
        + MALFORMED
        + r" \(unknown enum value\): state: 'FROBNICATING'",
        "project-get-unknown-enum",
    ),
    _case(
        {"method": "cloudresourcemanager.projects.get", "malformed": "truncated", "rate": 0.3},
        None,
        "project-get-truncated-30pct",
    ),
    _case(
        {
            "method": "compute.subnetworks.get",
            "malformed": "wrong-type",
            "field": "secondaryIpRanges",
        },
        r"compute\.subnetworks\.get " + MALFORMED + r" \(wrong type\): secondaryIpRanges",
        "subnet-get-wrong-type",
    ),
    _case(
        {
            "method": "container.projects.locations.clusters.nodePools.get",
            "malformed": "wrong-type",
        },
        r"nodePools\.get " + MALFORMED + r" \(wrong type\)",
        "node-pool-get-wrong-type",
    ),
    _case(
        {"method": "gkehub.projects.locations.memberships.get", "malformed": "unknown-enum"},
        r"memberships\.get " + MALFORMED + r" \(unknown enum value\): state\.code",
        "membership-get-unknown-enum",
    ),
    _case(
        {"method": "gkehub.projects.locations.features.get", "malformed": "wrong-type"},
        r"features\.get " + MALFORMED + r" \(wrong type\)",
        "feature-get-wrong-type",
    ),
    _case(
        {"method": "serviceusage.services.list", "malformed": "wrong-type", "field": "services"},
        r"services\.list " + MALFORMED + r" \(wrong type\): services: expected a list",
        "services-list-wrong-type",
    ),
    _case(
        {"method": "iam.projects.serviceAccounts.getIamPolicy", "malformed": "wrong-type"},
        r"getIamPolicy " + MALFORMED + r" \(wrong type\)",
        "sa-policy-wrong-type",
    ),
    _case(
        {
            "api": "k8s",
            "method": "k8s.get.customresourcedefinitions",
            "malformed": "unknown-enum",
            "field": "status.conditions.0.status",
        },
        MALFORMED + r" \(unknown enum value\): status\.conditions\[0\]\.status",
        "crd-condition-unknown-enum",
    ),
    _case(
        {"api": "k8s", "method": "k8s.get.rayclusters", "malformed": "unknown-enum"},
        MALFORMED + r" \(unknown enum value\): status\.state: 'FROBNICATING'",
        "raycluster-state-unknown-enum",
    ),
    _case(
        {"api": "k8s", "method": "k8s.get.namespaces", "malformed": "truncated", "times": 1},
        None,
        "namespace-get-truncated-once",
    ),
    _case(
        {"api": "github", "method": "github.GET /repos/{owner}/{repo}", "malformed": "truncated"},
        r"git/repository ml-platform-org/mlp-configsync: get " + MALFORMED + r" \(truncated JSON\)",
        "github-repo-get-truncated-always",
    ),
]


@pytest.mark.parametrize(("rule", "fails"), ON_CONVERGED + (ON_CONVERGED_FULL if FULL else []))
def test_malformed_answer_on_a_converged_environment_writes_nothing(
    converged: Converged, rule: dict[str, Any], fails: str | None
) -> None:
    sandbox = converged.sandbox
    admin(sandbox, "POST", "/counters/reset")
    admin(sandbox, "PUT", "/faults", {"seed": 5, "rules": [rule]})
    try:
        if fails is None:
            _run(sandbox)
        else:
            with pytest.raises(UNREADABLE, match=fails):
                _run(sandbox)
        fired = [r for r in _log(sandbox) if r["fault"].startswith("malformed")]
        assert fired, "the rule never fired: the case tests nothing"
        assert writes(sandbox) == {}, "an unreadable answer led to a change"
    finally:
        admin(sandbox, "PUT", "/faults", {"rules": []})
    admin(sandbox, "POST", "/counters/reset")
    _run(sandbox)
    assert writes(sandbox) == {}


def test_a_plan_does_not_read_an_unreadable_answer_as_absent(converged: Converged) -> None:
    sandbox = converged.sandbox
    admin(sandbox, "POST", "/counters/reset")
    rule = {"api": "k8s", "method": "k8s.get.secrets", "malformed": "wrong-type"}
    admin(sandbox, "PUT", "/faults", {"rules": [rule]})
    try:
        with pytest.raises(
            MalformedResponseError, match=r"k8s/Secret .*/git-creds: get " + MALFORMED
        ):
            provision_environment(
                "dev", dry_run=True, spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
            )
    finally:
        admin(sandbox, "PUT", "/faults", {"rules": []})
    assert writes(sandbox) == {}


ON_FIRST_RUN = [
    _case(
        {"method": "compute.networks.insert", "malformed": "truncated"},
        r"compute/network mlp-dev-vpc: create: compute\.networks\.insert "
        + MALFORMED
        + r" \(truncated JSON\): .*the change was likely made",
        "network-insert-truncated",
    ),
]
ON_FIRST_RUN_FULL = [
    _case(
        {
            "method": "container.projects.locations.clusters.get",
            "malformed": "wrong-type",
            "field": "nodePools",
            "times": 1,
        },
        r"container\.projects\.locations\.clusters\.get "
        + MALFORMED
        + r" \(wrong type\): nodePools: expected a list",
        "cluster-get-wrong-type-once",
    ),
    _case(
        {"method": "cloudresourcemanager.projects.create", "malformed": "truncated"},
        r"cloudresourcemanager\.projects\.create " + MALFORMED + r" \(truncated JSON\)",
        "project-create-truncated",
    ),
    # The GKE operation's outcome cannot be read: mlplat observes the cluster and pools instead.
    _case(
        {"method": "container.projects.locations.operations.get", "malformed": "unknown-enum"},
        None,
        "gke-operation-unknown-enum",
    ),
    _case(
        {"method": "compute.regionOperations.get", "malformed": "truncated", "times": 3},
        None,
        "region-operation-truncated-thrice",
    ),
    _case(
        {"method": "iam.projects.serviceAccounts.create", "malformed": "wrong-type"},
        r"serviceAccounts\.create " + MALFORMED + r" \(wrong type\)",
        "service-account-create-wrong-type",
    ),
    _case(
        {"api": "github", "method": "github.POST /orgs/{org}/repos", "malformed": "truncated"},
        r"git/repository ml-platform-org/mlp-configsync: create "
        + MALFORMED
        + r" \(truncated JSON\)",
        "github-repo-create-truncated",
    ),
]


@pytest.mark.parametrize(("rule", "fails"), ON_FIRST_RUN + (ON_FIRST_RUN_FULL if FULL else []))
def test_malformed_answer_during_the_first_run_creates_nothing_twice(
    sandbox: Sandbox, converged: Converged, rule: dict[str, Any], fails: str | None
) -> None:
    admin(sandbox, "PUT", "/faults", {"seed": 5, "rules": [rule]})
    try:
        if fails is None:
            _run(sandbox)
        else:
            with pytest.raises(UNREADABLE, match=fails):
                _run(sandbox)
        assert any(r["fault"].startswith("malformed") for r in _log(sandbox))
    finally:
        admin(sandbox, "PUT", "/faults", {"rules": []})
    _run(sandbox)
    # Over the faulted run and the one that finished the work, every resource was created
    # once, as in a run without faults, and no create met its own resource (409).
    assert _creates(writes(sandbox)) == converged.creates
    assert not [r for r in _log(sandbox) if r["status"] == 409]
    admin(sandbox, "POST", "/counters/reset")
    _run(sandbox)
    assert writes(sandbox) == {}


# Invalid specs: generated corruptions of the reference spec files.

FILES = sorted(p.relative_to(REFERENCE) for p in REFERENCE.rglob("*.yaml"))
FREE_FORM = {"labels", "gpus"}  # mappings whose keys are the user's: any key is valid there


def _key(path: tuple[Any, ...]) -> str:
    """The last mapping key on `path` (what an error must name)."""
    return str(next(part for part in reversed(path) if isinstance(part, str)))


@dataclass(frozen=True)
class Corruption:
    file: Path
    text: str
    names: tuple[str, ...]  # what the error must name besides the file
    how: str


WRONG_VALUES = st.sampled_from([{"unexpected": "mapping"}, ["a", "list"], "a string", 7, True])


@st.composite
def corruptions(draw: st.DrawFn) -> Corruption:
    file = draw(st.sampled_from(FILES))
    data = yaml.safe_load((REFERENCE / file).read_text())
    how = draw(st.sampled_from(["wrong-type", "unknown-key", "missing-key", "bad-value"]))
    inside = paths(data)[1:]
    if how == "unknown-key":
        mappings = [p for p in [(), *inside] if isinstance(_at(data, p), dict)]
        mappings = [p for p in mappings if not FREE_FORM & {str(x) for x in p}]
        path = draw(st.sampled_from(mappings))
        key = "x_" + draw(st.text("abcdefghij", min_size=3, max_size=6))
        _at(data, path)[key] = draw(WRONG_VALUES)
        names: tuple[str, ...] = (key,)
    else:
        keyed = [p for p in inside if isinstance(p[-1], str) or how != "missing-key"]
        path = draw(st.sampled_from(keyed))
        parent, last = _at(data, path[:-1]), path[-1]
        if how == "missing-key":
            del parent[last]
        elif how == "wrong-type":
            value = draw(WRONG_VALUES.filter(lambda v: type(v) is not type(parent[last])))
            parent[last] = value
        else:
            parent[last] = draw(st.sampled_from(["", "Not_A-Label!", "10.0.0.0/33", -1, 1.5]))
        names = (_key(path),)
    return Corruption(REFERENCE / file, yaml.safe_dump(data, sort_keys=False), names, how)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@settings(
    max_examples=scale(5, 50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(corruption=corruptions())
def test_invalid_spec_is_refused_before_any_call(
    converged: Converged, tmp_path_factory: pytest.TempPathFactory, corruption: Corruption
) -> None:
    root = tmp_path_factory.mktemp("spec") / "infra_specs"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"))
    target = root / corruption.file.relative_to(REFERENCE)
    target.write_text(corruption.text)
    try:
        load_spec(root)
    except SpecError:
        pass
    else:
        assume(False)  # e.g. an optional key removed: still a valid spec
    sandbox = converged.sandbox
    admin(sandbox, "POST", "/counters/reset")
    with pytest.raises(SpecError) as caught:
        _run(sandbox, root)
    message = str(caught.value)
    relative = str(target.relative_to(root.parent))
    assert relative in message, f"{corruption.how}: the error does not name {relative}: {message}"
    for name in corruption.names:
        assert name in message, f"{corruption.how}: the error does not name {name}: {message}"
    counters = admin(sandbox, "GET", "/counters")
    assert (counters["reads"], counters["writes"]) == (0, 0), "an API was called"


def test_invalid_spec_change_leaves_the_environment_untouched(
    converged: Converged, tmp_path: Path
) -> None:
    root = tmp_path / "infra_specs"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"))
    platform = yaml.safe_load((root / "platform.yaml").read_text())
    platform["environment_defaults"]["node_pools"][2]["autoscaling"]["max"] = 8  # valid…
    platform["environment_defaults"]["node_pools"][1]["gpu"]["count"] = "two"  # …and not
    (root / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    sandbox = converged.sandbox
    admin(sandbox, "POST", "/counters/reset")
    with pytest.raises(SpecError, match=r"platform\.yaml:\d+ .*count"):
        _run(sandbox, root)
    assert admin(sandbox, "GET", "/counters")["writes"] == 0
    _run(sandbox)
    assert writes(sandbox) == {}, "the valid half of the change was applied"
