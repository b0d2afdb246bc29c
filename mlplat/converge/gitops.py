"""The GitOps repository: created once, a branch per environment (protected where the
environment asks for approval), and the environment's hydrated manifests committed in one
commit per change."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from github import Github
from github.Repository import Repository

from mlplat.converge.cluster_software import crds_to_release, wait_for_root_sync
from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import ConflictError, PermanentError
from mlplat.gcp.waiting import poll
from mlplat.git import gitops_repo as repos
from mlplat.git import pull_requests as prs
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import repository as render
from mlplat.specs import naming
from mlplat.target import git_url

# The files mlplat renders in each team's folder; the team's own files there are left alone.
TEAM_FILES = ("README.md", "raycluster.yaml", "notebook.yaml")


@dataclass(frozen=True)
class BranchState:
    """Where an environment's branch stands after a run: its head commit."""

    branch: str
    head: str


def owned_by(teams: Collection[str]) -> Callable[[str], bool]:
    """Which files of a branch are mlplat's (rewritten, and deleted once they leave the render):
    the root README, everything under manifests/clusters/, the rendered files of the teams in
    `teams`, and the whole folder of a team that left the environment (offboarding keeps
    nothing behind)."""
    prefix = render.APPS_DIR + "/"

    def owned(path: str) -> bool:
        if path == "README.md" or path.startswith(render.CLUSTERS_DIR + "/"):
            return True
        if not path.startswith(prefix):
            return False
        team, _, rest = path.removeprefix(prefix).partition("/")
        return team not in teams or rest in TEAM_FILES

    return owned


def ensure_repository(ctx: EnvContext, gh: Github) -> tuple[Outcome, Repository | None]:
    """The platform's repository (private, initialised), created when missing."""
    gitops = ctx.platform.gitops
    name = f"{gitops.owner}/{gitops.repository}"
    repo = repos.get_repository(gh, gitops.owner, gitops.repository)
    if repo is not None:
        return report(ctx, Change("git/repository", name, Action.NOOP), applied=False), repo
    change = Change("git/repository", name, Action.CREATE)
    if ctx.dry_run:
        return report(ctx, change, applied=False), None
    try:
        repo = repos.create_repository(
            gh,
            gitops.owner,
            gitops.repository,
            f"GitOps repository of the {ctx.platform.name} ML platform (written by mlplat)",
        )
    except ConflictError:
        repo = repos.get_repository(gh, gitops.owner, gitops.repository)
    return report(ctx, change, applied=True), repo


def ensure_branch(ctx: EnvContext, repo: Repository | None) -> tuple[Outcome, str | None]:
    """The environment's branch, started from the default branch; returns its head."""
    branch = naming.config_sync_branch(ctx.env)
    head = None if repo is None else repos.branch_head(repo, branch)
    if head is not None:
        return report(ctx, Change("git/branch", branch, Action.NOOP), applied=False), head
    change = Change("git/branch", branch, Action.CREATE)
    if ctx.dry_run or repo is None:
        return report(ctx, change, applied=False), None
    base = repos.branch_head(repo, repo.default_branch)
    if base is None:
        raise ConflictError(f"git/repository {repo.full_name}: default branch has no commit")
    repos.create_branch(repo, branch, base)
    return report(ctx, change, applied=True), base


def ensure_protection(ctx: EnvContext, repo: Repository | None) -> Outcome:
    """Branches of environments that require approval take changes only by pull request."""
    branch = naming.config_sync_branch(ctx.env)
    wanted = ctx.platform.gitops.reviewers_required if ctx.env.approval_required else None
    current = None if repo is None else repos.required_reviews(repo, branch)
    if wanted is None or current == wanted:
        return report(ctx, Change("git/protection", branch, Action.NOOP), applied=False)
    action = Action.CREATE if current is None else Action.UPDATE
    change = Change(
        "git/protection",
        branch,
        action,
        (FieldChange("required_approving_review_count", wanted, current),),
    )
    if ctx.dry_run or repo is None:
        return report(ctx, change, applied=False)
    repos.protect(repo, branch, wanted)
    return report(ctx, change, applied=True)


def ensure_manifests(
    ctx: EnvContext, repo: Repository | None, head: str | None
) -> tuple[Outcome, BranchState | None]:
    """Write the environment's hydrated files in one commit when anything differs. Ray CRDs
    Config Sync still manages (from before GKE's Ray add-on) are first committed marked to be
    let go of; once root-sync synced that, a second commit leaves them out."""
    branch = naming.config_sync_branch(ctx.env)
    repo_url = git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    files = render.environment_files(ctx.spec, ctx.env, project=ctx.project, repo_url=repo_url)
    if repo is None or head is None:
        fields = tuple(FieldChange(path, "rendered", None) for path in sorted(files))
        change = Change("git/manifests", branch, Action.CREATE, fields)
        return report(ctx, change, applied=False), None
    teams = {member.name for member in ctx.spec.teams_in(ctx.env_name)}
    changes = repos.file_changes(repo, head, files, owned_by(teams))
    # Only a branch that still holds KubeRay files from before the add-on needs the cluster
    # asked which Ray CRDs Config Sync manages (a converged run asks nothing more).
    holds_ray = any(path.startswith(render.KUBERAY_DIR) for path in changes.delete)
    release = crds_to_release(ctx) if holds_ray else ()
    if release:
        files = render.environment_files(
            ctx.spec, ctx.env, project=ctx.project, repo_url=repo_url, release_crds=release
        )
        changes = repos.file_changes(repo, head, files, owned_by(teams))
    if not changes and release and not ctx.dry_run:  # let go of in Git already (a run cut short)
        sha, detail = _drop_released(ctx, repo, head, release, teams)
        change = Change("git/manifests", branch, Action.UPDATE if detail else Action.NOOP)
        return report(ctx, change, applied=bool(detail), detail=detail), BranchState(branch, sha)
    if not changes:
        change = Change("git/manifests", branch, Action.NOOP)
        return report(ctx, change, applied=False), BranchState(branch, head)
    fields = tuple(FieldChange(path, "rendered", "differs") for path in changes.write) + tuple(
        FieldChange(path, None, "present") for path in changes.delete
    )
    change = Change("git/manifests", branch, Action.UPDATE, fields)
    if ctx.dry_run:
        return report(ctx, change, applied=False), BranchState(branch, head)
    message = _message(ctx, changes)
    sha, detail = publish(
        ctx, repo, head, files, changes=changes, message=message, owned=owned_by(teams)
    )
    if release:
        sha, second = _drop_released(ctx, repo, sha, release, teams)
        detail = f"{detail}, then {second}" if second else detail
    return report(ctx, change, applied=True, detail=detail), BranchState(branch, sha)


def _drop_released(
    ctx: EnvContext,
    repo: Repository,
    head: str,
    release: tuple[str, ...],
    teams: Collection[str],
) -> tuple[str, str]:
    """Once root-sync has synced the commit letting go of `release` (and Config Sync no
    longer manages them), commit the files without them."""
    wait_for_root_sync(ctx, head)
    poll(
        f"k8s/crds {', '.join(release)}: let go of by Config Sync",
        lambda: crds_to_release(ctx),
        lambda still: not still,
        deadline=ctx.deadlines.sync,
    )
    repo_url = git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    files = render.environment_files(ctx.spec, ctx.env, project=ctx.project, repo_url=repo_url)
    changes = repos.file_changes(repo, head, files, owned_by(teams))
    if not changes:
        return head, ""
    sha, second = publish(
        ctx,
        repo,
        head,
        files,
        changes=changes,
        message=_message(ctx, changes),
        owned=owned_by(teams),
    )
    ctx.log(f"git/manifests: Ray CRDs {', '.join(release)} let go of by Config Sync, then left out")
    return sha, second


def publish(
    ctx: EnvContext,
    repo: Repository,
    head: str,
    files: Mapping[str, str],
    *,
    changes: repos.FileChanges,
    message: str,
    owned: Callable[[str], bool],
) -> tuple[str, str]:
    """Land `changes` on the environment's branch: one commit, or, where the environment asks
    for approval, a pull request merged once reviewers approved it. Returns the branch's new
    head and what happened."""
    branch = naming.config_sync_branch(ctx.env)
    if not ctx.env.approval_required:
        sha = repos.commit_files(repo, branch, head, files, changes=changes, message=message)
        return sha, f"commit {sha[:12]}"
    pull = prs.open_pull(repo, branch)
    if pull is None or not prs.carries(repo, pull, files, owned):
        title, _, body = message.partition("\n")
        pull = prs.propose(
            repo, branch, head, files, changes=changes, title=title, body=body.strip()
        )
    number = pull.number
    ctx.log(f"git/manifests {branch}: pull request #{number} ({pull.html_url})")
    try:  # the run itself was approved (approval gate, confirm, --approve)
        sha = prs.merge(repo, number)
    except PermanentError as exc:  # protection binding administrators too: reviews decide
        if "review" not in str(exc).lower():
            raise
        wanted = ctx.platform.gitops.reviewers_required
        ctx.log(f"git/pull-request #{number}: waits for {wanted} approving review(s)")
        poll(
            f"git/pull-request #{number}: {wanted} approval(s)",
            lambda: prs.approvals(repo, number),
            lambda count: count >= wanted,
            deadline=ctx.deadlines.review,
        )
        sha = prs.merge(repo, number)
    return sha, f"pull request #{number} merged as {sha[:12]}"


def _message(ctx: EnvContext, changes: repos.FileChanges) -> str:
    lines = [f"mlplat: {ctx.env_name}: update {len(changes.paths())} file(s)", ""]
    lines += [f"- write {path}" for path in changes.write]
    lines += [f"- delete {path}" for path in changes.delete]
    lines += ["", f"Rendered from infra_specs/ for platform {ctx.platform.name}."]
    return "\n".join(lines)
