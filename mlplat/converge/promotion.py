"""Promotion: the teams' own software moves from one environment's branch to the next (dev →
staging → prod) the way every change reaches a branch (a commit, or a pull request where the
target asks for approval). What mlplat renders is not promoted: each environment renders its
own from the spec."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

from github.Repository import Repository

from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.converge.gitops import TEAM_FILES, publish
from mlplat.errors import PermanentError
from mlplat.git import gitops_repo as repos
from mlplat.git.errors import guarded
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import repository as render
from mlplat.specs import Team, naming


def promotable(ctx: EnvContext, source: str, team: str | None) -> list[Team]:
    """The teams whose software moves: in both environments (or the one named)."""
    both = [t for t in ctx.spec.teams_in(ctx.env_name) if source in t.environments]
    if team is None:
        return both
    chosen = [t for t in both if t.name == team]
    if not chosen:
        raise PermanentError(
            f"team {team!r} is not in both {source!r} and {ctx.env_name!r}; "
            f"teams in both: {', '.join(t.name for t in both) or 'none'}"
        )
    return chosen


def team_owned(teams: Sequence[Team]) -> Callable[[str], bool]:
    """Files the teams keep in their folders themselves (not rendered by mlplat)."""
    prefixes = tuple(f"{render.APPS_DIR}/{t.name}/" for t in teams)

    def owned(path: str) -> bool:
        if not path.startswith(prefixes):
            return False
        rest = path.split("/", 3)[3]
        return rest not in TEAM_FILES

    return owned


def _files(repo: Repository, head: str, owned: Callable[[str], bool]) -> dict[str, str]:
    tree = guarded("git/tree: get", lambda: repo.get_git_tree(head, recursive=True))
    files = {}
    for entry in tree.tree:
        if entry.type == "blob" and owned(entry.path):
            sha = entry.sha
            blob = guarded(f"git/blob {entry.path}: get", lambda sha=sha: repo.get_git_blob(sha))  # type: ignore[misc]
            files[entry.path] = base64.b64decode(blob.content).decode()
    return files


def promote_files(
    ctx: EnvContext, repo: Repository, source_branch: str, teams: Sequence[Team]
) -> tuple[Outcome, str | None]:
    """Make the target branch's team-owned files equal the source branch's; returns the new
    head when something was committed."""
    branch = naming.config_sync_branch(ctx.env)
    source_head = repos.branch_head(repo, source_branch)
    head = repos.branch_head(repo, branch)
    if source_head is None or head is None:
        missing = source_branch if source_head is None else branch
        raise PermanentError(f"git/branch {missing}: not found; provision that environment first")
    owned = team_owned(teams)
    files = _files(repo, source_head, owned)
    changes = repos.file_changes(repo, head, files, owned)
    name = f"{source_branch} → {branch}"
    if not changes:
        return report(ctx, Change("git/promotion", name, Action.NOOP), applied=False), None
    fields = tuple(FieldChange(p, "promoted", "differs") for p in changes.write) + tuple(
        FieldChange(p, None, "present") for p in changes.delete
    )
    change = Change("git/promotion", name, Action.UPDATE, fields)
    if ctx.dry_run:
        return report(ctx, change, applied=False), None
    lines = [f"mlplat: promote {source_branch} → {branch} ({source_head[:12]})", ""]
    lines += [f"- write {p}" for p in changes.write] + [f"- delete {p}" for p in changes.delete]
    sha, detail = publish(
        ctx, repo, head, files, changes=changes, message="\n".join(lines), owned=owned
    )
    return report(ctx, change, applied=True, detail=detail), sha
