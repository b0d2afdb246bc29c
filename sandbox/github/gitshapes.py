"""GitHub's JSON for git data: commits (both forms), refs, trees, blobs and contents.

`url` arguments are a repository's API URL (`…/api/v3/repos/o/r`), `html` its web URL.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from sandbox.github.git_objects import CommitData, Person, api_mode
from sandbox.github.gitrepo import ListedEntry

UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None}


def person_json(person: Person) -> dict[str, str]:
    """An author or committer."""
    return {"name": person.name, "email": person.email, "date": person.iso()}


def _parents(url: str, html: str, commit: CommitData) -> list[dict[str, str]]:
    return [
        {"sha": p, "url": f"{url}/commits/{p}", "html_url": f"{html}/commit/{p}"}
        for p in commit.parents
    ]


def git_commit_json(url: str, html: str, sha: str, commit: CommitData) -> dict[str, Any]:
    """A commit of the git data API (`/git/commits/{sha}`, contents responses)."""
    return {
        "sha": sha,
        "node_id": base64.b64encode(f"C:{sha}".encode()).decode(),
        "url": f"{url}/git/commits/{sha}",
        "html_url": f"{html}/commit/{sha}",
        "author": person_json(commit.author),
        "committer": person_json(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{url}/git/trees/{commit.tree}"},
        "message": commit.message.rstrip("\n"),
        "parents": [
            {"sha": p, "url": f"{url}/git/commits/{p}", "html_url": f"{html}/commit/{p}"}
            for p in commit.parents
        ],
        "verification": dict(UNSIGNED),
    }


def commit_json(url: str, html: str, sha: str, commit: CommitData) -> dict[str, Any]:
    """A commit of the repository API (`/commits`, `/commits/{ref}`, branches)."""
    inner = git_commit_json(url, html, sha, commit)
    return {
        "sha": sha,
        "node_id": inner["node_id"],
        "commit": {
            "author": inner["author"],
            "committer": inner["committer"],
            "message": inner["message"],
            "tree": inner["tree"],
            "url": inner["url"],
            "comment_count": 0,
            "verification": inner["verification"],
        },
        "url": f"{url}/commits/{sha}",
        "html_url": f"{html}/commit/{sha}",
        "comments_url": f"{url}/commits/{sha}/comments",
        "author": None,
        "committer": None,
        "parents": _parents(url, html, commit),
    }


def ref_json(url: str, ref: str, sha: str, kind: str) -> dict[str, Any]:
    """A reference (`refs/heads/main`)."""
    plural = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[kind]
    return {
        "ref": ref,
        "node_id": base64.b64encode(f"REF:{ref}".encode()).decode(),
        "url": f"{url}/git/{quote(ref)}",
        "object": {"sha": sha, "type": kind, "url": f"{url}/git/{plural}/{sha}"},
    }


def tree_entry_json(url: str, entry: ListedEntry) -> dict[str, Any]:
    """An entry of a tree listing."""
    plural = {"blob": "blobs", "tree": "trees", "commit": "commits"}[entry.kind]
    body: dict[str, Any] = {
        "path": entry.path,
        "mode": api_mode(entry.mode),
        "type": entry.kind,
        "sha": entry.sha,
    }
    if entry.size is not None:
        body["size"] = entry.size
    if entry.kind != "commit":
        body["url"] = f"{url}/git/{plural}/{entry.sha}"
    return body


def tree_json(url: str, sha: str, entries: list[ListedEntry]) -> dict[str, Any]:
    """A tree (`/git/trees/{sha}`)."""
    return {
        "sha": sha,
        "url": f"{url}/git/trees/{sha}",
        "tree": [tree_entry_json(url, entry) for entry in entries],
        "truncated": False,
    }


def blob_json(url: str, sha: str, data: bytes) -> dict[str, Any]:
    """A blob with base64 content (`/git/blobs/{sha}`)."""
    return {
        "sha": sha,
        "node_id": base64.b64encode(f"B:{sha}".encode()).decode(),
        "size": len(data),
        "url": f"{url}/git/blobs/{sha}",
        "content": wrapped_base64(data),
        "encoding": "base64",
    }


def wrapped_base64(data: bytes) -> str:
    """Base64 in 60-character lines, as the contents and blobs APIs send it."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def content_json(url: str, html: str, ref: str, entry: ListedEntry) -> dict[str, Any]:
    """A contents entry (path from the repository root) without its content."""
    path, kind, sha, size = entry.path, entry.kind, entry.sha, entry.size or 0
    quoted = quote(path)
    api_kind = {"blob": "file", "tree": "dir", "commit": "submodule"}.get(kind, kind)
    self_url = f"{url}/contents/{quoted}?ref={quote(ref, safe='')}"
    git_url = None if kind == "commit" else f"{url}/git/{kind}s/{sha}"
    view = "tree" if kind == "tree" else "blob"
    html_url = f"{html}/{view}/{quote(ref)}/{quoted}"
    download = f"{html}/raw/{quote(ref)}/{quoted}" if kind == "blob" else None
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": size if kind == "blob" else 0,
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": download,
        "type": api_kind,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }
