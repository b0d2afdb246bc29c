"""Cloud Billing v1: a project's billing link, billing accounts, and the billing gate for others.

Any well-formed account name (`billingAccounts/XXXXXX-XXXXXX-XXXXXX`) exists and is open; the
caller sees (lists) the sandbox's own account and every account a project was linked to. In
realistic mode a new link takes a while to take effect: billing-gated calls still fail meanwhile.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument, permission_denied
from sandbox.gcp.resourcemanager.projects import Project, find, number_of, usable
from sandbox.listing import page
from sandbox.runtime import Runtime

HANDLERS = Handlers("cloudbilling.v1", proto=("google.cloud.billing.v1", "google.cloud.billing_v1"))
LINKS = "billing.links"  # key: project ID
DEFAULT_ACCOUNT = "billingAccounts/012345-6789AB-CDEF01"
_ACCOUNT = re.compile(r"^billingAccounts/[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{6}$")

latency.declare(
    {
        "call:cloudbilling.projects.updateBillingInfo": (2.0, 5.0),
        "window:billing": (15.0, 30.0),
    }
)


def _link(rt: Runtime, project: Project) -> dict[str, Any]:
    return rt.store.get(LINKS, project["projectId"]) or {}


def _project(rt: Runtime, project: Project | str) -> Project:
    return usable(rt, project) if isinstance(project, str) else project


def billing_enabled(rt: Runtime, project: Project | str) -> bool:
    """True when the project (document, ID or number) is linked to a billing account, as
    getBillingInfo reports it (even while the link is still propagating)."""
    return bool(_link(rt, _project(rt, project)).get("billingAccountName"))


def require_billing(rt: Runtime, project: Project | str) -> None:
    """403 BILLING_DISABLED unless the project has billing and the link has taken effect."""
    project = _project(rt, project)
    link = _link(rt, project)
    number = number_of(project)
    if not link.get("billingAccountName"):
        raise permission_denied(
            f"This API method requires billing to be enabled. Please enable billing on project "
            f"#{number} by visiting https://console.developers.google.com/billing/enable"
            f"?project={number} then retry. If you enabled billing recently, wait a few minutes "
            "for the action to propagate to our systems and retry.",
            reason="BILLING_DISABLED",
            legacy_reason="accessNotConfigured",
            metadata={"consumer": f"projects/{number}", "containerInfo": number},
        )
    if rt.now() < float(link.get("effectiveAt", 0.0)):
        raise permission_denied(
            "The project to be billed is associated with an absent billing account.",
            reason="BILLING_DISABLED",
            legacy_reason="accountDisabled",
            metadata={"consumer": f"projects/{number}", "containerInfo": number},
        )


def billing_settled(rt: Runtime, project: Project | str) -> bool:
    """True when billing is linked and past its propagation window."""
    link = _link(rt, _project(rt, project))
    return bool(link.get("billingAccountName")) and rt.now() >= float(link.get("effectiveAt", 0))


def _info(ref: str, project: Project, link: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"projects/{ref}/billingInfo",
        "projectId": project["projectId"],
    }
    # Google answers the empty account and `false` for a project without billing.
    body["billingAccountName"] = link.get("billingAccountName", "")
    body["billingEnabled"] = bool(body["billingAccountName"])
    return body


@HANDLERS("cloudbilling.projects.getBillingInfo")
def get_billing_info(call: Call) -> dict[str, Any]:
    ref = call.params["name"].removeprefix("projects/")
    project = usable(call.rt, ref)
    return _info(ref, project, _link(call.rt, project))


@HANDLERS("cloudbilling.projects.updateBillingInfo")
def update_billing_info(call: Call) -> dict[str, Any]:
    ref = call.params["name"].removeprefix("projects/")
    project = usable(call.rt, ref)
    account = call.body.get("billingAccountName", "")
    if account and not _ACCOUNT.match(account):
        raise invalid_argument(
            f"Invalid billing account name '{account}'.",
            "project_billing_info.billing_account_name",
        )
    rt = call.rt
    with rt.store.transaction():
        previous = _link(rt, project)
        link: dict[str, Any] = {"billingAccountName": account}
        if account and account == previous.get("billingAccountName"):
            link["effectiveAt"] = previous.get("effectiveAt", rt.now())
        elif account:
            link["effectiveAt"] = rt.now() + rt.latency.window("window:billing")
        rt.store.put(LINKS, project["projectId"], link)
    return _info(ref, project, link)


def _account(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "open": True,
        "displayName": f"Sandbox billing account {name.removeprefix('billingAccounts/')}",
        "masterBillingAccount": "",
        "parent": "",
        "currencyCode": "USD",
    }


@HANDLERS("cloudbilling.billingAccounts.get")
def get_account(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    if not _ACCOUNT.match(name):
        raise invalid_argument(f"Invalid billing account name '{name}'.", "name")
    return _account(name)


@HANDLERS("cloudbilling.billingAccounts.list")
def list_accounts(call: Call) -> dict[str, Any]:
    linked = {str(link.get("billingAccountName") or "") for link in call.rt.store.values(LINKS)}
    names = sorted(({DEFAULT_ACCOUNT} | linked) - {""})
    wanted = str(call.arg("filter", "")).replace(" ", "")
    accounts = [_account(name) for name in names]
    if wanted in ("open=false", "open=False"):
        accounts = []
    items, token = page(call.query, accounts, default_size=100)
    body: dict[str, Any] = {"billingAccounts": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


@HANDLERS("cloudbilling.billingAccounts.projects.list")
def list_account_projects(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    linked = []
    for project_id, link in call.rt.store.items(LINKS):
        if link.get("billingAccountName") != name:
            continue
        project = find(call.rt, project_id)
        if project is not None:
            linked.append(_info(project_id, project, link))
    items, token = page(call.query, linked, default_size=1000)
    body: dict[str, Any] = {"projectBillingInfo": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body
