"""Get, server-side apply and wait on Kubernetes objects, with errors translated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError

from mlplat import retry
from mlplat.errors import MlplatError, PermanentError, TransientError
from mlplat.k8s import answers, connection

FIELD_MANAGER = "mlplat"
T = TypeVar("T")


def _translate(exc: Exception, what: str) -> MlplatError:
    status = int(getattr(exc, "status", 0) or 0)
    reason = getattr(exc, "reason", "") or ""
    message = f"{what}: HTTP {status} {reason}".rstrip()
    if status in (0, 429, 500, 502, 503, 504):
        return TransientError(message)
    return PermanentError(message)


def _resource(api: DynamicClient, api_version: str, kind: str) -> Any:
    """The kind's resource from discovery. A discovery refresh that an error cut short leaves
    the client's cache half-built (KeyError on the next lookup): rebuild it and retry."""
    try:
        found = api.resources.get(api_version=api_version, kind=kind)
        connection.share_discovery(api)
        return found
    except KeyError as exc:
        with suppress(Exception):  # a failed rebuild is retried by the next attempt
            api.resources.invalidate_cache()
        raise TransientError(f"k8s discovery of {kind}: cache half-built ({exc})") from exc
    except ResourceNotFoundError:
        # The library reads a 503 on a group version's resource list as "no resources": only
        # a successful listing without the kind means the kind is not served.
        if not _served(api, api_version, kind):
            raise
        raise TransientError(f"k8s discovery of {kind}: hidden by a failed request") from None


def _served(api: DynamicClient, api_version: str, kind: str) -> bool:
    """Whether the server lists `kind` under `api_version` (a failed request raises)."""
    path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    try:
        listed = api.request("GET", path)
    except NotFoundError:
        return False
    return any(item["kind"] == kind for item in listed.resources or [])


def guarded(what: str, fn: Callable[[], T]) -> T:
    """Call the cluster API; transient failures are retried, all become ours."""

    def once() -> T:
        try:
            return fn()
        except (ApiException, DynamicApiError) as exc:
            raise _translate(exc, what) from exc

    return retry.call(once)


def get(
    api: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None = None
) -> dict[str, Any] | None:
    """The object as a dict, or None when it (or its kind) does not exist."""
    what = f"k8s/{kind} {namespace + '/' if namespace else ''}{name}: get"

    def once() -> dict[str, Any] | None:
        try:
            resource = _resource(api, api_version, kind)
        except ResourceNotFoundError:
            api.resources.invalidate_cache()
            return None
        try:
            found = resource.get(name=name, namespace=namespace, serializer=_as_parsed)
        except (ApiException, DynamicApiError) as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise
        return answers.object_of(what, found, idempotent=True)

    return guarded(what, once)


def apply(api: DynamicClient, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Server-side apply under mlplat's field manager (mlplat owns what it applies)."""
    meta = manifest["metadata"]
    what = f"k8s/{manifest['kind']} {meta.get('namespace', '')}/{meta['name']}: apply"

    def once() -> dict[str, Any]:
        resource = _resource(api, manifest["apiVersion"], manifest["kind"])
        applied = api.server_side_apply(  # type: ignore[no-untyped-call]
            resource,
            body=dict(manifest),
            namespace=meta.get("namespace"),
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
            serializer=_as_parsed,
        )
        return answers.object_of(what, applied, idempotent=True)  # applying again is harmless

    return guarded(what, once)


def create(api: DynamicClient, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Create an object (e.g. a SubjectAccessReview) and return what the server answered."""
    what = f"k8s/{manifest['kind']}: create"

    def once() -> dict[str, Any]:
        resource = _resource(api, manifest["apiVersion"], manifest["kind"])
        created = resource.create(
            body=dict(manifest),
            namespace=manifest.get("metadata", {}).get("namespace"),
            serializer=_as_parsed,
        )
        return answers.object_of(what, created, idempotent=False)

    return guarded(what, once)


def list_(
    api: DynamicClient,
    api_version: str,
    kind: str,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> list[dict[str, Any]]:
    """The objects of a kind (in `namespace`, matching `label_selector` and `field_selector`);
    [] when the kind is not served."""
    what = f"k8s/{kind}: list"

    def once() -> list[dict[str, Any]]:
        try:
            resource = _resource(api, api_version, kind)
        except ResourceNotFoundError:
            api.resources.invalidate_cache()
            return []
        with answers.listing(what):
            found = resource.get(
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                serializer=_as_parsed,
            )
        return answers.items_of(what, _with_kind(found, api_version, kind))

    return guarded(what, once)


def _as_parsed(_client: object, data: Any) -> Any:
    """The parsed JSON as it is: wrapping an answer in the client's ResourceInstance (and back
    to a dict) costs more CPU than the call, for a long list or thousands of access reviews."""
    return data


def _with_kind(found: Any, api_version: str, kind: str) -> Any:
    """A list's items with their apiVersion and kind, which Kubernetes leaves out of them."""
    items = found.get("items") if isinstance(found, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
    return found


def delete(
    api: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None = None
) -> bool:
    """Delete an object; False when it was already gone."""
    what = f"k8s/{kind} {namespace + '/' if namespace else ''}{name}: delete"

    def once() -> bool:
        resource = _resource(api, api_version, kind)
        try:
            resource.delete(name=name, namespace=namespace)
        except (ApiException, DynamicApiError) as exc:
            if getattr(exc, "status", None) == 404:
                return False
            raise
        return True

    return guarded(what, once)
