"""GKE Hub (Fleet) v1: what Hub refuses in a membership's feature spec today.

- Since April 2025, `configmanagement` 1.21.0 and later no longer installs or updates Policy
  Controller: a spec of such a version (or of no version, which means the latest) that enables
  `policyController` is refused with 400 "PolicyController has its own API …" (the error
  Terraform users met, GoogleCloudPlatform/cloud-foundation-fabric#3287). Older versions still
  accept it, which is how environments built the old way exist.
- Automatic management (`MANAGEMENT_AUTOMATIC`) is unavailable from 1.21.0 (gkehub v1
  discovery: "Automatic Feature management is in Preview and is unavailable in version 1.21.0
  and later").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.gcp.container.validation import ModelError

POLICY_CONTROLLER_MOVED = (1, 21, 0)
POLICY_CONTROLLER_OWN_API = (
    "PolicyController has its own API and cannot use ConfigManagement API. Configure Policy "
    "Controller through the policycontroller feature."
)
INSTALL_SPECS = frozenset(
    {
        "INSTALL_SPEC_UNSPECIFIED",
        "INSTALL_SPEC_NOT_INSTALLED",
        "INSTALL_SPEC_ENABLED",
        "INSTALL_SPEC_SUSPENDED",
        "INSTALL_SPEC_DETACHED",
    }
)
_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def _version(text: str, field: str) -> tuple[int, int, int]:
    found = _SEMVER.fullmatch(text)
    if found is None:
        raise ModelError(
            "INVALID_ARGUMENT",
            f"InvalidValueError for field {field}: {text!r} is not a version of the form X.Y.Z",
        )
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def check_membership_spec(spec: Mapping[str, Any]) -> None:
    """Refuse a MembershipFeatureSpec as Hub does (see the module's docstring)."""
    config = spec.get("configmanagement")
    if isinstance(config, Mapping):
        _check_config_management(config)
    policy = spec.get("policycontroller")
    if isinstance(policy, Mapping):
        _check_policy_controller(policy)


def _check_config_management(config: Mapping[str, Any]) -> None:
    text = config.get("version")
    current = not text or _version(str(text), "configmanagement.version") >= (
        POLICY_CONTROLLER_MOVED
    )
    if not current:
        return
    if (config.get("policyController") or {}).get("enabled"):
        raise ModelError("INVALID_ARGUMENT", POLICY_CONTROLLER_OWN_API)
    if config.get("management") in ("MANAGEMENT_AUTOMATIC", 1):
        raise ModelError(
            "INVALID_ARGUMENT",
            "InvalidValueError for field configmanagement.management: automatic management is "
            "unavailable in version 1.21.0 and later; clear the field for manual upgrades",
        )


def _check_policy_controller(policy: Mapping[str, Any]) -> None:
    if policy.get("version"):
        _version(str(policy["version"]), "policycontroller.version")
    config = policy.get("policyControllerHubConfig") or {}
    install = config.get("installSpec", "INSTALL_SPEC_UNSPECIFIED")
    if install not in INSTALL_SPECS:
        raise ModelError(
            "INVALID_ARGUMENT",
            f"InvalidValueError for field policycontroller.policy_controller_hub_config"
            f".install_spec: {install!r}",
        )
