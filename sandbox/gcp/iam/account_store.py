"""IAM service accounts as stored state, shared by the IAM API and the APIs that name accounts
(GKE node pools, IAM policy members): lookup by email or unique ID, visibility, views.

Accounts live in `iam.service-accounts` keyed `<project id>/<account id>`; `iam.service-account-ids`
maps a unique ID to that key; deleted accounts wait in `iam.deleted-service-accounts` (by unique
ID) for an undelete. In realistic mode a new account stays invisible to other APIs for a
propagation window (GKE answers "does not exist" meanwhile), while IAM itself sees it at once.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import latency
from sandbox.gcp.resourcemanager.projects import public
from sandbox.runtime import Runtime

ACCOUNTS = "iam.service-accounts"
UNIQUE_IDS = "iam.service-account-ids"
DELETED = "iam.deleted-service-accounts"
DOMAIN = ".iam.gserviceaccount.com"
PROPAGATION = "window:iam.serviceAccount.propagation"
# The deprecated ServiceAccount.etag: Google answers this same constant for every account.
ACCOUNT_ETAG = "MDEwMjE5MjA="
# Unique IDs are 21-digit numbers on Google.
_UNIQUE_BASE = 100_000_000_000_000_000_000
_UNIQUE_ID = re.compile(r"^\d{1,25}$")
_EMAIL = re.compile(
    r"^([a-z][a-z0-9-]*[a-z0-9])@([a-z][a-z0-9-]*[a-z0-9])\.iam\.gserviceaccount\.com$"
)

Account = dict[str, Any]

latency.declare({PROPAGATION: (30.0, 90.0)})


def email_of(account_id: str, project_id: str) -> str:
    """`<account id>@<project id>.iam.gserviceaccount.com`."""
    return f"{account_id}@{project_id}{DOMAIN}"


def split_email(email: str) -> tuple[str, str] | None:
    """(account ID, project ID) of a user-managed service account email, else None."""
    found = _EMAIL.match(email)
    return None if found is None else (found.group(1), found.group(2))


def key_for(rt: Runtime, ref: str) -> str | None:
    """The store key of an account named by email or unique ID (it may not exist), or None."""
    parts = split_email(ref)
    if parts is not None:
        return f"{parts[1]}/{parts[0]}"
    if _UNIQUE_ID.match(ref):
        index = rt.store.get(UNIQUE_IDS, ref)
        return None if index is None else str(index["key"])
    return None


def find(rt: Runtime, ref: str) -> Account | None:
    """The live account with this email or unique ID, or None."""
    key = key_for(rt, ref)
    return None if key is None else rt.store.get(ACCOUNTS, key)


def service_account_visible(rt: Runtime, email: str) -> bool:
    """True when the account exists and other APIs (GKE, policy members) can see it: in
    realistic mode only once its propagation window after creation has passed."""
    doc = find(rt, email)
    return doc is not None and rt.now() >= float(doc.get("_visibleAt", 0))


def view(doc: Account) -> dict[str, Any]:
    """The ServiceAccount JSON of a stored account."""
    return public(doc)


def new_account(
    rt: Runtime, project: dict[str, Any], account_id: str, fields: dict[str, str]
) -> Account:
    """Store a new account (the caller checked the ID is free); `fields` holds displayName and
    description when given."""
    project_id = str(project["projectId"])
    email = email_of(account_id, project_id)
    unique_id = str(_UNIQUE_BASE + rt.store.next_value("iam.unique-id") * 7_919)
    doc: Account = {
        "name": f"projects/{project_id}/serviceAccounts/{email}",
        "projectId": project_id,
        "uniqueId": unique_id,
        "email": email,
        **{key: value for key, value in fields.items() if value},
        "etag": ACCOUNT_ETAG,
        "oauth2ClientId": unique_id,
        "_visibleAt": rt.now() + rt.latency.window(PROPAGATION),
    }
    save(rt, doc)
    rt.store.put(UNIQUE_IDS, unique_id, {"key": f"{project_id}/{account_id}"})
    return doc


def save(rt: Runtime, doc: Account) -> None:
    """Write a live account back."""
    account_id, project_id = str(doc["email"]).split("@")[0], str(doc["projectId"])
    rt.store.put(ACCOUNTS, f"{project_id}/{account_id}", doc)


def in_project(rt: Runtime, project_id: str) -> list[Account]:
    """The live accounts of a project, ordered by account ID."""
    return rt.store.values(ACCOUNTS, f"{project_id}/")


def delete(rt: Runtime, doc: Account) -> None:
    """Delete an account; it can be undeleted by unique ID."""
    account_id = str(doc["email"]).split("@")[0]
    rt.store.delete(ACCOUNTS, f"{doc['projectId']}/{account_id}")
    rt.store.delete(UNIQUE_IDS, str(doc["uniqueId"]))
    rt.store.put(DELETED, str(doc["uniqueId"]), doc)


def restore(rt: Runtime, unique_id: str) -> Account | None:
    """Undelete: bring back a deleted account, or None when there is none or its email is
    taken again by a newer account."""
    doc = rt.store.get(DELETED, unique_id)
    if doc is None or find(rt, str(doc["email"])) is not None:
        return None
    rt.store.delete(DELETED, unique_id)
    save(rt, doc)
    account_id = str(doc["email"]).split("@")[0]
    rt.store.put(UNIQUE_IDS, unique_id, {"key": f"{doc['projectId']}/{account_id}"})
    return doc


def deleted(rt: Runtime, unique_id: str) -> Account | None:
    """A deleted account by unique ID, or None."""
    return rt.store.get(DELETED, unique_id)
