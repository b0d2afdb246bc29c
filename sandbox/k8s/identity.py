"""Who is calling: bearer tokens mapped to users and groups, and impersonation headers.

Tokens are kept in the store (`k8s.tokens`, key `<cluster>|<token>`; cluster `*` for every
cluster). Any token starting with `sandbox-admin` is the sandbox administrator, in
`system:masters`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sandbox.k8s.errors import forbidden, unauthorized
from sandbox.store import Store

TOKENS = "k8s.tokens"
ADMIN_TOKEN_PREFIX = "sandbox-admin"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class UserInfo:
    """An authenticated identity."""

    name: str
    groups: tuple[str, ...] = ()

    @property
    def is_master(self) -> bool:
        """Members of system:masters may do anything."""
        return MASTERS in self.groups


def user_info(name: str, groups: Iterable[str] = ()) -> UserInfo:
    """A user with the groups Kubernetes adds: service-account groups, system:authenticated."""
    listed = list(groups)
    if name.startswith(SA_PREFIX):
        namespace = name[len(SA_PREFIX) :].split(":", 1)[0]
        listed += ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    listed.append(AUTHENTICATED)
    return UserInfo(name, tuple(dict.fromkeys(listed)))


ADMIN = user_info("admin@sandbox", [MASTERS])


def register_token(
    store: Store, cluster: str, token: str, user: str, groups: Iterable[str] = ()
) -> None:
    """Let `token` authenticate as user (with groups) on a cluster, or every cluster (`*`)."""
    store.put(TOKENS, f"{cluster}|{token}", {"user": user, "groups": list(groups)})


def authenticate(store: Store, cluster: str, authorization: str) -> UserInfo:
    """The identity of an `Authorization` header; 401 when absent or unknown."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    if token.startswith(ADMIN_TOKEN_PREFIX):
        return ADMIN
    entry = store.get(TOKENS, f"{cluster}|{token}") or store.get(TOKENS, f"*|{token}")
    if entry is None:
        raise unauthorized()
    return user_info(str(entry["user"]), [str(g) for g in entry.get("groups") or []])


# (user, resource, name, namespace) -> may user impersonate it?
CanImpersonate = Callable[[UserInfo, str, str, str], bool]


def impersonate(
    user: UserInfo, headers: Mapping[str, str], groups: list[str], can: CanImpersonate
) -> UserInfo:
    """The identity a request acts as after `Impersonate-User`/`Impersonate-Group` headers.

    `groups` lists every Impersonate-Group value; `can(user, resource, name, namespace)` asks
    the authorizer for the `impersonate` verb. Denied: 403 like kube-apiserver.
    """
    target = headers.get("impersonate-user", "")
    if not target:
        if groups:
            raise forbidden("requested impersonation of groups without impersonating a user")
        return user
    if target.startswith(SA_PREFIX):
        namespace, _, name = target[len(SA_PREFIX) :].partition(":")
        checks = [("serviceaccounts", name, namespace)]
    else:
        checks = [("users", target, "")]
    checks += [("groups", group, "") for group in groups]
    for resource, name, namespace in checks:
        if not can(user, resource, name, namespace):
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            raise forbidden(
                f'{resource} "{name}" is forbidden: User "{user.name}" cannot impersonate '
                f'resource "{resource}" in API group "" {scope}',
                None,
                name,
                kind=resource,
            )
    return user_info(target, groups)
