"""IAM v1 service account keys: create, get, list, delete, disable, enable.

A new account has no keys listed (Google shows its system-managed keys only once they exist);
user-managed keys are kept in `iam.keys` keyed `<account key>/<key id>`.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from sandbox.api import Call, Handlers
from sandbox.clock import rfc3339
from sandbox.errors import not_found
from sandbox.gcp.iam import service_accounts
from sandbox.gcp.iam.account_store import Account

HANDLERS = Handlers("iam.v1")
KEYS = "iam.keys"
_M = "iam.projects.serviceAccounts.keys."
_NEVER = "9999-12-31T23:59:59Z"


def _prefix(doc: Account) -> str:
    return f"{doc['projectId']}/{str(doc['email']).split('@')[0]}/"


def _name(doc: Account, key_id: str) -> str:
    return f"projects/{doc['projectId']}/serviceAccounts/{doc['email']}/keys/{key_id}"


def _view(doc: Account, key_id: str, key: dict[str, Any]) -> dict[str, Any]:
    body = {
        "name": _name(doc, key_id),
        "keyAlgorithm": key["keyAlgorithm"],
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": "USER_MANAGED",
        "validAfterTime": key["validAfterTime"],
        "validBeforeTime": _NEVER,
    }
    if key.get("disabled"):
        body["disabled"] = True
    return body


def _key(call: Call, permission: str) -> tuple[Account, str, dict[str, Any]]:
    doc = service_accounts.account_of(call, permission)
    key_id = call.params["name"].rpartition("/keys/")[2]
    key = call.rt.store.get(KEYS, _prefix(doc) + key_id)
    if key is None:
        raise not_found(f"Service account key {key_id} does not exist.")
    return doc, key_id, key


@HANDLERS(_M + "create")
def create(call: Call) -> dict[str, Any]:
    doc = service_accounts.account_of(call, "iam.serviceAccountKeys.create")
    key_id = secrets.token_hex(20)
    algorithm = call.body.get("keyAlgorithm") or "KEY_ALG_RSA_2048"
    if algorithm == "KEY_ALG_UNSPECIFIED":
        algorithm = "KEY_ALG_RSA_2048"
    key = {"keyAlgorithm": algorithm, "validAfterTime": _now(call)}
    call.rt.store.put(KEYS, _prefix(doc) + key_id, key)
    private_type = call.body.get("privateKeyType") or "TYPE_GOOGLE_CREDENTIALS_FILE"
    if private_type == "TYPE_UNSPECIFIED":
        private_type = "TYPE_GOOGLE_CREDENTIALS_FILE"
    credentials = {
        "type": "service_account",
        "project_id": doc["projectId"],
        "private_key_id": key_id,
        "private_key": "-----BEGIN PRIVATE KEY-----\nsandbox\n-----END PRIVATE KEY-----\n",
        "client_email": doc["email"],
        "client_id": doc["uniqueId"],
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return {
        **_view(doc, key_id, key),
        "privateKeyType": private_type,
        "privateKeyData": base64.b64encode(json.dumps(credentials).encode()).decode(),
    }


def _now(call: Call) -> str:
    return rfc3339(call.now).split(".")[0] + "Z"


@HANDLERS(_M + "get")
def get(call: Call) -> dict[str, Any]:
    return _view(*_key(call, "iam.serviceAccountKeys.get"))


@HANDLERS(_M + "list")
def list_(call: Call) -> dict[str, Any]:
    doc = service_accounts.account_of(call, "iam.serviceAccountKeys.list")
    wanted = set(call.arg("keyTypes") or [])
    if wanted and "USER_MANAGED" not in wanted and "KEY_TYPE_UNSPECIFIED" not in wanted:
        return {}
    found = [
        _view(doc, key.rpartition("/")[2], value)
        for key, value in call.rt.store.items(KEYS, _prefix(doc))
    ]
    return {"keys": found} if found else {}


@HANDLERS(_M + "delete")
def delete(call: Call) -> dict[str, Any]:
    doc, key_id, _ = _key(call, "iam.serviceAccountKeys.delete")
    call.rt.store.delete(KEYS, _prefix(doc) + key_id)
    return {}


def _set_disabled(call: Call, disabled: bool) -> dict[str, Any]:
    doc, key_id, key = _key(call, "iam.serviceAccountKeys.disable")
    key["disabled"] = disabled
    call.rt.store.put(KEYS, _prefix(doc) + key_id, key)
    return {}


@HANDLERS(_M + "disable")
def disable(call: Call) -> dict[str, Any]:
    return _set_disabled(call, True)


@HANDLERS(_M + "enable")
def enable(call: Call) -> dict[str, Any]:
    return _set_disabled(call, False)
