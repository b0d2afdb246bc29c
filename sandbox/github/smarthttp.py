"""git smart HTTP: `git http-backend` as a CGI, behind GitHub's auth and branch protection.

Protection is checked before receive-pack runs: the ref updates at the head of the request are
read, and a push touching a protected branch it may not is answered here, with GitHub's
`remote: error: GH006` messages and `protected branch hook declined` for every ref (nothing is
applied, like a declined pre-receive hook). When only the fast-forward test is left, the pushed
pack is indexed into the repository first (unreferenced objects are harmless).
"""

from __future__ import annotations

import gzip
import re
import subprocess
import zlib
from dataclasses import dataclass, replace

from sandbox.github import protection
from sandbox.github.accounts import Account, allows, permission
from sandbox.github.credentials import token_from
from sandbox.github.gitrepo import GitRepo, git_env
from sandbox.github.pktline import PushRequest, parse_push, refusal
from sandbox.github.repo_settings import get_repo, repo_key, save_repo
from sandbox.github.service import Service
from sandbox.httpserver import Request, Response

GIT_PATH = re.compile(
    r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/"
    r"(?P<action>info/refs|git-upload-pack|git-receive-pack)$"
)
SERVICES = {"git-upload-pack": "git.upload-pack", "git-receive-pack": "git.receive-pack"}
DECLINED = "protected branch hook declined"


@dataclass(frozen=True)
class GitCall:
    """How a git request is counted."""

    method: str  # git.upload-pack or git.receive-pack ("" when unknown)
    read: bool


def classify(request: Request, action: str) -> GitCall:
    """The counter name of a git request; advertisements and fetches are reads."""
    service = request.query.get("service", [""])[-1] if action == "info/refs" else action
    method = SERVICES.get(service, "")
    return GitCall(method, request.method == "GET" or method == "git.upload-pack")


def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer, as git prints it."""
    return Response(
        status, (message + "\n").encode(), {"Content-Type": "text/plain", **(headers or {})}
    )


def serve(svc: Service, request: Request, owner: str, name: str, action: str) -> Response:
    """Answer one smart HTTP request for owner/name."""
    call = classify(request, action)
    if not call.method:
        return text(403, "Dumb HTTP is not supported; use a git client with smart HTTP.")
    token = token_from(request.headers.get("authorization", ""))
    user = None if token is None else svc.authenticate(token)
    if user is None:
        challenge = {"WWW-Authenticate": 'Basic realm="GitHub"'}
        return text(401, "Invalid username or token.", challenge)
    doc = get_repo(svc.store, owner, name)
    granted = None if doc is None else permission(user, doc)
    if doc is None or granted is None:
        return text(404, "Repository not found.")
    if call.method == "git.receive-pack" and (not allows(granted, "write") or doc.get("archived")):
        reason = "archived so it is read-only" if doc.get("archived") else f"denied to {user.login}"
        return text(403, f"Permission to {doc['owner']}/{doc['name']}.git {reason}.")
    body = _decoded(request)
    git = svc.git(doc)
    if request.method == "POST" and action == "git-receive-pack":
        try:
            push = parse_push(body)
        except ValueError:
            return text(400, "Malformed push request.")
        key = repo_key(doc["owner"], doc["name"])
        refused = _check(svc, git, key, user=user, granted=granted, push=push, body=body)
        if refused is not None:
            return refused
    response = _cgi(svc, request, git, action=action, body=body, user=user)
    if request.method == "POST" and action == "git-receive-pack" and response.status == 200:
        save_repo(svc.store, {**doc, "pushed": svc.now()})
    return response


def _decoded(request: Request) -> bytes:
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(request.body)
    if encoding == "deflate":
        return zlib.decompress(request.body)
    return request.body


def _check(
    svc: Service,
    git: GitRepo,
    key: str,
    *,
    user: Account,
    granted: str,
    push: PushRequest,
    body: bytes,
) -> Response | None:
    """A refusal when the push updates a protected branch it may not; None to let it through."""
    reasons: dict[str, str] = {}
    messages: list[str] = []
    indexed = False
    for command in push.commands:
        if not command.ref.startswith("refs/heads/"):
            continue
        rule = protection.get_rule(svc.store, key, command.ref[len("refs/heads/") :])
        if rule is None:
            continue
        update = protection.Update(user.login, granted == "admin", command.old, command.new)
        if protection.needs_fast_forward_check(rule, update):
            assert command.old is not None and command.new is not None
            if not indexed and git.read_one(command.new) is None:
                git.run("index-pack", "--stdin", "--fix-thin", stdin=body[push.pack_offset :])
                indexed = True
            update = replace(update, fast_forward=git.is_ancestor(command.old, command.new))
        found = protection.violations(rule, update)
        if found:
            reasons[command.ref] = DECLINED
            messages.append(f"error: GH006: Protected branch update failed for {command.ref}.\n")
            messages += [f"error: {reason}\n" for reason in found]
    if not reasons:
        return None
    headers = {
        "Content-Type": "application/x-git-receive-pack-result",
        "Cache-Control": "no-cache, max-age=0, must-revalidate",
    }
    return Response(200, refusal(push, reasons, messages), headers)


def _cgi(
    svc: Service, request: Request, git: GitRepo, *, action: str, body: bytes, user: Account
) -> Response:
    """Run `git http-backend` for the request and turn its CGI answer into a response."""
    owner_dir, repo_dir = git.path.parent.name, git.path.name
    env = git_env(
        {
            "GIT_PROJECT_ROOT": str(svc.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{owner_dir}/{repo_dir}/{action}",
            "REQUEST_METHOD": request.method,
            "QUERY_STRING": request.raw_query,
            "CONTENT_TYPE": request.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user.login,
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GIT_PROTOCOL": request.headers.get("git-protocol", ""),
        }
    )
    done = subprocess.run(
        ["git", "http-backend"], input=body, capture_output=True, env=env, check=False
    )
    head, sep, payload = done.stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, payload = done.stdout.partition(b"\n\n")
    if not sep:
        return text(500, "git http-backend failed.")
    status, headers = 200, {}
    for line in head.decode(errors="replace").splitlines():
        field, _, value = line.partition(":")
        if field.lower() == "status":
            status = int(value.strip().split()[0])
        elif field:
            headers[field.strip()] = value.strip()
    return Response(status, payload, headers)
