"""Where a RootSync or RepoSync reads from: its git spec, its credentials, the sandbox GitHub.

A repository URL must name the sandbox's GitHub component (`http://127.0.0.1:PORT/owner/repo
.git`, as the tool writes it); any other host cannot be resolved, as from a private cluster
without a route to it. Like the sandbox's git server, nothing is read without a token (`auth:
none` fails). Errors read like git-sync's inside Config Sync's KNV codes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sandbox.controllers.knv import INVALID_SYNC, SOURCE_ERROR, SyncError
from sandbox.controllers.settings import parse_duration
from sandbox.github import GitHub
from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Source:
    """spec.git of a RootSync or RepoSync, with Config Sync's defaults."""

    repo: str
    branch: str
    revision: str
    directory: str
    auth: str
    secret: str
    period: float

    @property
    def ref(self) -> str:
        """What is fetched: the revision unless it is HEAD, else the branch."""
        return self.revision if self.revision and self.revision != "HEAD" else self.branch

    def status(self) -> Obj:
        """The `git` block of status.source/rendering/sync."""
        return {
            "repo": self.repo,
            "revision": self.revision,
            "branch": self.branch,
            "dir": self.directory,
        }


def source_of(spec: Obj) -> Source:
    """A sync's Source from its spec."""
    git = spec.get("git") or {}
    return Source(
        repo=str(git.get("repo") or ""),
        branch=str(git.get("branch") or "master"),
        revision=str(git.get("revision") or "HEAD"),
        directory=str(git.get("dir") or ".").strip("/") or ".",
        auth=str(git.get("auth") or "none"),
        secret=str((git.get("secretRef") or {}).get("name") or ""),
        period=parse_duration(git.get("period")),
    )


class SourceError(Exception):
    """The source could not be read; `stalled` when the sync's own spec is at fault."""

    def __init__(self, error: SyncError, stalled: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.stalled = stalled


def _fail(message: str) -> SourceError:
    return SourceError(SyncError(SOURCE_ERROR, f"error in the git-sync container: {message}"))


def _stalled(message: str) -> SourceError:
    return SourceError(SyncError(INVALID_SYNC, message), stalled=True)


def credentials(api: ClusterApi, namespace: str, source: Source) -> str | None:
    """The token of the sync's Secret (None for `auth: none`); stalls like reconciler-manager."""
    if source.auth == "none":
        return None
    if source.auth != "token":
        raise _stalled(f'git secretType is set to unsupported value: "{source.auth}"')
    if not source.secret:
        raise _stalled("spec.git.secretRef.name must be set when spec.git.auth is token")
    secret = api.get("v1", "Secret", source.secret, namespace)
    if secret is None:
        raise _stalled(
            f"Secret {source.secret} not found: create one to allow client authentication"
        )
    data = secret.get("data") or {}
    if "token" not in data:
        raise _stalled(
            f'git secretType was set as "token" but token key is not present in '
            f"{source.secret} secret"
        )
    if "username" not in data:
        raise _stalled(
            f'git secretType was set as "token" but username key is not present in '
            f"{source.secret} secret"
        )
    try:
        return base64.b64decode(str(data["token"])).decode().strip()
    except (binascii.Error, UnicodeDecodeError):
        raise _stalled(f"the token of Secret {source.secret} is not valid base64") from None


class GitReader:
    """Reads sources from the sandbox GitHub component (in-process)."""

    def __init__(self, github: GitHub | None) -> None:
        self.github = github

    def _locate(self, source: Source) -> tuple[GitHub, str, str]:
        url = urlsplit(source.repo)
        host = url.hostname or ""
        if not source.repo or not host:
            raise _stalled("spec.git.repo must be a URL of a git repository")
        github = self.github
        served = urlsplit(github.url) if github is not None else None
        local = host in _LOCAL_HOSTS and served is not None and url.port == served.port
        if github is None or not local:
            raise _fail(f"fatal: unable to access '{source.repo}/': Could not resolve host: {host}")
        parts = [p for p in url.path.split("/") if p]
        if len(parts) != 2:
            raise _fail(f"remote: Not Found\nfatal: repository '{source.repo}/' not found")
        return github, parts[0], parts[1].removesuffix(".git")

    def commit(self, source: Source, token: str | None) -> str:
        """The commit the source's ref names now (after checking the token may read it)."""
        github, owner, name = self._locate(source)
        if token is None:  # the sandbox's git server serves nobody anonymously
            url = urlsplit(source.repo)
            raise _fail(
                f"fatal: could not read Username for '{url.scheme}://{url.netloc}': "
                "terminal prompts disabled"
            )
        if github.check_token(token) is None:
            raise _fail(f"fatal: Authentication failed for '{source.repo}/'")
        if not github.can_read(token, owner, name):
            raise _fail(
                f"remote: Repository not found.\nfatal: repository '{source.repo}/' not found"
            )
        sha = github.resolve(owner, name, source.ref)
        if sha is None:
            raise _fail(f"fatal: couldn't find remote ref refs/heads/{source.ref}")
        return sha

    def files(self, source: Source, commit: str) -> dict[str, bytes]:
        """Every file under the source's directory at commit, by path from the repository root."""
        github, owner, name = self._locate(source)
        directory = "" if source.directory == "." else source.directory
        try:
            return github.read_tree(owner, name, commit, directory)
        except LookupError as exc:
            raise _fail(f"fatal: {exc}") from None
