"""Recorded exchanges the replay sends but does not count, each for a stated reason, and the
answer fields it does not expect because v1 makes their input output-only.

Config Connector recorded GKE Hub through v1beta1, where a membership's `description` is an
input; v1 (which the sandbox, like mlplat, serves) declares it output-only and sets it from
nothing a client sends. A recorded request setting such a field is replayed as sent; the field
is not expected back, and a PATCH whose mask names only such fields is not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.discovery import load
from tests.conformance import scope


@dataclass(frozen=True)
class Exclusion:
    """Exchanges of the named fixtures (all when none are named) that `matches`, and why."""

    reason: str
    matches: Callable[[dict[str, Any]], bool]
    fixtures: tuple[str, ...] = ()


EXCLUSIONS = (
    Exclusion(
        "the subnet takes its ranges from Network Connectivity internal ranges, made by requests"
        " to an API the sandbox does not serve (mlplat does not use it)",
        lambda e: "/subnetworks" in e["path"] or "/regions/" in e["path"],
        ("compute/v1beta1/computesubnetwork/reservedinternalrange",),
    ),
    Exclusion(
        "the node pool is created with `windowsNodeConfig.osVersion: OS_2022`, a value neither"
        " v1's nor v1beta1's discovery document has (OS_VERSION_LTSC2022 is), refused as Google"
        " refuses unknown enum names; the log equals Config Connector's mock log but for the"
        " User-Agent, so the answer accepting it is the mock's",
        lambda e: "/nodePools" in e["path"],
        ("container/v1beta1/containernodepool/containernodepool-windowsnodeconfig",),
    ),
    Exclusion(
        "the project's v1 create names its parent organization `organizations/<number>` where"
        " 430 other recordings of the call give the bare number v1 declares; what Google made of"
        " the prefixed form cannot be told, so the replay sends the number and does not count"
        " the create",
        lambda e: (
            e["method_id"] == "cloudresourcemanager.projects.create"
            and str(e.get("body", {}).get("parent", {}).get("id", "")).startswith("organizations/")
        ),
    ),
    Exclusion(
        "`management: MANAGEMENT_AUTOMATIC` is refused from Config Management 1.21 on, as Google"
        " does (cloud-foundation-fabric#3287); the recording predates it",
        lambda e: (
            e["method"] == "PATCH"
            and e["path"].endswith("/features/configmanagement")
            and "MANAGEMENT_AUTOMATIC" in str(e.get("body"))
        ),
    ),
)


def excluded(
    fixture: str, exchange: dict[str, Any], output_only: dict[str, set[str]]
) -> str | None:
    """Why the exchange is not counted, or None."""
    for exclusion in EXCLUSIONS:
        if (not exclusion.fixtures or fixture in exclusion.fixtures) and exclusion.matches(
            exchange
        ):
            return exclusion.reason
    mask = exchange["query"].get("updateMask")
    only = output_only.get(exchange["group"], set())
    if exchange["method"] == "PATCH" and mask and set(mask.split(",")) <= only:
        return "the PATCH changes only fields v1 makes output-only (set through v1beta1)"
    return None


# The version Config Connector recorded an API through, where it differs from the served one.
_RECORDED = {"container": "container.v1beta1", "gkehub": "gkehub.v1beta1"}


def output_only_inputs(exchanges: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Per report row: top-level request fields of the fixture that the recorded version takes
    as input and the served version declares output-only."""
    out: dict[str, set[str]] = {}
    for exchange in exchanges:
        body = exchange.get("body")
        recorded = _RECORDED.get(exchange["api"])
        if not isinstance(body, dict) or recorded is None:
            continue
        served = _request_properties(exchange["api"], exchange["method_id"], None)
        before = _request_properties(exchange["api"], exchange["method_id"], recorded)
        out.setdefault(exchange["group"], set()).update(
            key
            for key in body
            if served.get(key, {}).get("readOnly") and not before.get(key, {}).get("readOnly")
        )
    return out


def expected(exchange: dict[str, Any], output_only: dict[str, set[str]]) -> list[str]:
    """The recorded answer fields, less those that come from output-only inputs (also as the
    `response` of the API's operations)."""
    fields: list[str] = exchange["fields"]
    group = exchange["group"]
    if group.endswith(" operations"):
        api = group.split()[0]
        keys = {f"response.{k}" for g, ks in output_only.items() if g.startswith(api) for k in ks}
    else:
        keys = output_only.get(group, set())
    return [f for f in fields if not any(f == k or f.startswith(k + ".") for k in keys)]


def _request_properties(api: str, method_id: str, document: str | None) -> dict[str, Any]:
    _, _, served = next(h for h in scope.HOSTS.values() if h[0] == api)
    for name in (document,) if document else served:
        doc = load(name)
        method = next((m for m in doc.methods.values() if m.id == method_id), None)
        if method is not None:
            properties: dict[str, Any] = doc.schemas.get(method.request_ref or "", {}).get(
                "properties", {}
            )
            return properties
    return {}
