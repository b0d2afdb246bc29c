"""REST handlers: the caller, users, organizations, repositories."""

from __future__ import annotations

from typing import Any

from sandbox.github.accounts import create_org, get_org, get_user, permission
from sandbox.github.repo_settings import (
    SETTINGS,
    RepoExistsError,
    create_repo,
    delete_repo,
    list_repos,
    save_repo,
)
from sandbox.github.rest import Ctx, GitHubError, Reply, Route, invalid, not_found, paginate, route
from sandbox.github.shapes import account_json, org_json, repo_json, user_json


def owner_json(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """The short form of a repository's owner."""
    return account_json(ctx.api, ctx.web, doc["owner"], int(doc["owner_id"]), doc["owner_type"])


def render_repo(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """A repository as the caller sees it."""
    return repo_json(ctx.api, ctx.web, doc, owner_json(ctx, doc), permission(ctx.user, doc))


def _visible(ctx: Ctx, owner: str) -> list[dict[str, Any]]:
    docs = list_repos(ctx.svc.store, owner)
    return [render_repo(ctx, doc) for doc in docs if permission(ctx.user, doc) is not None]


def get_authenticated(ctx: Ctx) -> Reply:
    """GET /user."""
    return Reply(user_json(ctx.api, ctx.web, ctx.user, len(_visible(ctx, ctx.user.login))))


def get_named_user(ctx: Ctx) -> Reply:
    """GET /users/{username} (organizations answer too, as on GitHub)."""
    user = get_user(ctx.svc.store, ctx.params["username"])
    if user is not None:
        return Reply(user_json(ctx.api, ctx.web, user, len(_visible(ctx, user.login))))
    org = get_org(ctx.svc.store, ctx.params["username"])
    if org is None:
        raise not_found()
    return Reply(org_json(ctx.api, ctx.web, org, len(_visible(ctx, org["login"]))))


def get_organization(ctx: Ctx) -> Reply:
    """GET /orgs/{org}."""
    org = get_org(ctx.svc.store, ctx.params["org"])
    if org is None:
        raise not_found()
    return Reply(org_json(ctx.api, ctx.web, org, len(_visible(ctx, org["login"]))))


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    settings = {key: body[key] for key in SETTINGS if key in body}
    if "visibility" in body:
        settings["private"] = body["visibility"] != "public"
    for key, value in settings.items():
        expected = type(SETTINGS[key])
        if value is not None and not isinstance(value, expected):
            raise invalid("Repository", key)
    return settings


def _create(ctx: Ctx, owner: dict[str, Any]) -> Reply:
    body = ctx.body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise invalid("Repository", "name", "missing_field")
    try:
        doc = create_repo(
            ctx.svc.store,
            ctx.svc.root,
            owner,
            name,
            settings=_settings(body),
            creator=ctx.user,
            now=ctx.svc.now(),
            auto_init=bool(body.get("auto_init")),
        )
    except RepoExistsError:
        raise GitHubError(
            422,
            "Repository creation failed.",
            errors=[
                {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name already exists on this account",
                }
            ],
            documentation_url="https://docs.github.com/rest/repos/repos#create-an-organization-repository",
        ) from None
    except ValueError as exc:
        raise invalid("Repository", "name", "custom", message=str(exc)) from None
    return Reply(render_repo(ctx, doc), 201)


def create_org_repo(ctx: Ctx) -> Reply:
    """POST /orgs/{org}/repos."""
    org = get_org(ctx.svc.store, ctx.params["org"])
    if org is None:
        raise not_found()
    if org["login"].lower() not in ctx.user.orgs and not ctx.user.site_admin:
        raise GitHubError(
            403, "You need admin access to the organization before adding a repository to it."
        )
    return _create(ctx, {"login": org["login"], "type": "Organization", "id": org["id"]})


def create_organization(ctx: Ctx) -> Reply:
    """POST /admin/organizations (GitHub Enterprise Server; site administrators only)."""
    if not ctx.user.site_admin:
        raise GitHubError(403, "Must be a site administrator.")
    login = ctx.body().get("login")
    if not isinstance(login, str) or not login:
        raise invalid("Organization", "login", "missing_field")
    if get_org(ctx.svc.store, login) is not None:
        raise invalid("Organization", "login", "already_exists")
    try:
        org = create_org(ctx.svc.store, login, ctx.svc.now())
    except ValueError:
        raise invalid("Organization", "login", "already_exists") from None
    return Reply(org_json(ctx.api, ctx.web, org, 0), 201)


def create_user_repo(ctx: Ctx) -> Reply:
    """POST /user/repos."""
    return _create(ctx, {"login": ctx.user.login, "type": "User", "id": ctx.user.id})


def list_org_repos(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/repos."""
    org = get_org(ctx.svc.store, ctx.params["org"])
    if org is None:
        raise not_found()
    return paginate(ctx, _visible(ctx, org["login"]))


def list_user_repos(ctx: Ctx) -> Reply:
    """GET /user/repos: the caller's own and their organizations' repositories."""
    found = []
    for owner in (ctx.user.login, *ctx.user.orgs):
        found += _visible(ctx, owner)
    return paginate(ctx, found)


def get_repository(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}."""
    return Reply(render_repo(ctx, ctx.repo().doc))


def edit_repository(ctx: Ctx) -> Reply:
    """PATCH /repos/{owner}/{repo} (renames are not supported by the sandbox)."""
    repo = ctx.repo("read")  # not "admin": an archived repository can still be unarchived
    if repo.permission != "admin":
        raise GitHubError(403, "Must have admin rights to Repository.")
    body = ctx.body()
    doc = dict(repo.doc)
    if body.get("name") not in (None, doc["name"]):
        raise invalid("Repository", "name", "custom", message="renaming is not supported")
    doc.update(_settings(body))
    branch = body.get("default_branch")
    if branch is not None and branch != doc["default_branch"]:
        if repo.git.resolve(f"refs/heads/{branch}") is None:
            raise invalid("Repository", "default_branch")
        repo.git.set_head(branch)
        doc["default_branch"] = branch
    doc["updated"] = ctx.svc.now()
    save_repo(ctx.svc.store, doc)
    return Reply(render_repo(ctx, doc))


def delete_repository(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}."""
    repo = ctx.repo("read")
    if repo.permission != "admin":
        raise GitHubError(403, "Must have admin rights to Repository.")
    delete_repo(ctx.svc.store, ctx.svc.root, repo.doc)
    return Reply(None, 204)


ROUTES: list[Route] = [
    route("GET", "/user", get_authenticated),
    route("GET", "/user/repos", list_user_repos),
    route("POST", "/user/repos", create_user_repo),
    route("GET", "/users/{username}", get_named_user),
    route("GET", "/orgs/{org}", get_organization),
    route("POST", "/admin/organizations", create_organization),
    route("GET", "/orgs/{org}/repos", list_org_repos),
    route("POST", "/orgs/{org}/repos", create_org_repo),
    route("GET", "/repos/{owner}/{repo}", get_repository),
    route("PATCH", "/repos/{owner}/{repo}", edit_repository),
    route("DELETE", "/repos/{owner}/{repo}", delete_repository),
]
