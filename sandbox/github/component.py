"""The GitHub sandbox component: one port for the REST API (/api/v3) and git over smart HTTP.

    github = GitHub(state_dir)
    with Sandbox(state_dir, components=[github]) as sandbox:
        Github(base_url=github.api_url, auth=Auth.Token(ADMIN_TOKEN), retry=None,
               seconds_between_requests=0, seconds_between_writes=0)
        # git clone http://x-access-token:<token>@127.0.0.1:PORT/mlplat/gitops.git

Seeded at every start (idempotent; pass `users=`/`orgs=` to replace them): organization `mlplat`
and user `mlplat-bot`, a site admin and member of `mlplat`, with token `ADMIN_TOKEN`
(`ghp_sandboxMlplatBotAdminToken0000000000`). More users: `create_user(login, token, orgs, admin)`.
Site admins administer every repository, organization members write its repositories, a user
administers their own; everyone authenticated reads public ones. Every call needs a token.

Repositories are bare git repositories under `<state_dir>/github/repos/<owner>/<repo>.git`;
users, tokens (as digests), settings, protection, pull requests and reviews live in the sandbox
store. Both survive a restart; the rate-limit windows (in memory) do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sandbox.github.accounts import Account, SeedUser, create_org, create_user, permission
from sandbox.github.ratelimit import RateLimiter
from sandbox.github.repo_settings import get_repo
from sandbox.github.server import ChunkedHttpServer, make_server
from sandbox.github.service import Service
from sandbox.github.treeedit import clean_path
from sandbox.runtime import Runtime

ADMIN_LOGIN = "mlplat-bot"
ADMIN_TOKEN = "ghp_sandboxMlplatBotAdminToken0000000000"
DEFAULT_ORG = "mlplat"
DEFAULT_USERS = (SeedUser(ADMIN_LOGIN, ADMIN_TOKEN, (DEFAULT_ORG,), admin=True),)


class GitHub:
    """A GitHub (REST subset + git smart HTTP) sandbox component named `github`."""

    name = "github"

    def __init__(
        self,
        state_dir: Path | str,
        *,
        users: Sequence[SeedUser] = DEFAULT_USERS,
        orgs: Sequence[str] = (DEFAULT_ORG,),
        rate_limit: int = 5000,
        port: int = 0,
    ) -> None:
        self.state_dir = Path(state_dir)
        self._users = tuple(users)
        self._orgs = tuple(orgs)
        self._rate_limit = rate_limit
        self._port = port
        self._svc: Service | None = None
        self._server: ChunkedHttpServer | None = None

    @property
    def root(self) -> Path:
        """Where the bare repositories live."""
        return self.state_dir / "github" / "repos"

    def start(self, rt: Runtime) -> str:
        """Seed the accounts, serve on a loopback port; returns `http://127.0.0.1:PORT`."""
        self.root.mkdir(parents=True, exist_ok=True)
        svc = Service(rt, self.root, RateLimiter(self._rate_limit), self._users, self._orgs)
        svc.seed()
        self._server = make_server(svc, self._port)
        self._server.start()
        self._svc = svc
        return self._server.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
        self._server = None
        self._svc = None

    @property
    def _service(self) -> Service:
        if self._svc is None:
            raise RuntimeError("the github component is not started")
        return self._svc

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`: git remotes are `<url>/<owner>/<repo>.git`."""
        if self._server is None:
            raise RuntimeError("the github component is not started")
        return self._server.url

    @property
    def api_url(self) -> str:
        """PyGithub's `base_url`: `http://127.0.0.1:PORT/api/v3`."""
        return self.url + "/api/v3"

    def create_user(
        self, login: str, token: str, orgs: Sequence[str] = (), admin: bool = False
    ) -> Account:
        """Create (or update) a user with a token; orgs are joined (created as needed)."""
        svc = self._service
        return create_user(svc.store, login, token, orgs=orgs, admin=admin, now=svc.now())

    def create_org(self, login: str) -> None:
        """Create an organization."""
        svc = self._service
        create_org(svc.store, login, svc.now())

    def check_token(self, token: str) -> Account | None:
        """The user a token authenticates, or None."""
        return self._service.authenticate(token)

    def resolve(self, owner: str, repo: str, ref: str) -> str | None:
        """The commit SHA a branch, tag or SHA names in owner/repo; None when unknown."""
        svc = self._service
        doc = get_repo(svc.store, owner, repo)
        return None if doc is None else svc.git(doc).resolve(ref)

    def read_tree(self, owner: str, repo: str, ref: str, directory: str = "") -> dict[str, bytes]:
        """Every file under directory at ref, by path from the repository root.

        Raises LookupError when the repository or ref is unknown; an absent directory is empty.
        """
        svc = self._service
        doc = get_repo(svc.store, owner, repo)
        if doc is None:
            raise LookupError(f"repository {owner}/{repo} not found")
        git = svc.git(doc)
        sha = git.resolve(ref)
        if sha is None:
            raise LookupError(f"{owner}/{repo}: no commit found for the ref {ref}")
        prefix = clean_path(directory) if directory.strip("/") else ""
        top = git.read_one(f"{sha}:{prefix}" if prefix else f"{sha}^{{tree}}")
        if top is None or top.kind != "tree":
            return {}
        entries = [e for e in git.ls_tree(top.sha, recursive=True) if e.kind == "blob"]
        blobs = git.read([entry.sha for entry in entries])
        return {
            f"{prefix}/{entry.path}" if prefix else entry.path: blob.body
            for entry, blob in zip(entries, blobs, strict=True)
            if blob is not None
        }

    def can_read(self, token: str, owner: str, repo: str) -> bool:
        """True when the token's user can read owner/repo (Config Sync's git-creds check)."""
        svc = self._service
        user = svc.authenticate(token)
        doc = get_repo(svc.store, owner, repo)
        return user is not None and doc is not None and permission(user, doc) is not None
