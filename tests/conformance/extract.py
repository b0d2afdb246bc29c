"""Extract the conformance data from Config Connector's recorded exchanges with Google.

    python -m tests.conformance.extract [--mirror GIT_DIR]

Reads the fixtures' `_http.log` from a git mirror of GoogleCloudPlatform/k8s-config-connector
and writes one JSON per fixture under tests/conformance/data/: each request (method, served
path, query, body) with Google's status, error status and answer field paths. A fixture of
basic/ is taken when Config Connector's mock has its own `_http_mock.log` beside it (its
golden-log convention); it is marked `google` when the two differ beyond the User-Agent, else
`same-as-mock`. The project and service-account IAM policy fixtures (POLICY_FIXTURES) have no
mock log; they are marked `no-mock-log` (their agent lacks the mock's `(mockgcp)` tag).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.conformance import logfile, scope

REPO = "GoogleCloudPlatform/k8s-config-connector"
MIRROR = Path("/work/.mirror/GoogleCloudPlatform+k8s-config-connector/repo")
DATA = Path(__file__).parent / "data"
TESTDATA = "pkg/test/resourcefixture/testdata/"
ROOT = TESTDATA + "basic/"
# The fixtures of the resources mlplat uses (and their dependencies, recorded with them).
FIXTURES = re.compile(
    r"^(container/v1beta1/container(cluster|nodepool)"
    r"|gkehub/v1beta1/gkehub(membership|feature|featuremembership)"
    r"|resourcemanager/v1beta1/project"
    r"|serviceusage/v1beta1/service/service"
    r"|compute/v1beta1/compute(network|subnetwork|router|routernat|reservation)/"
    r"|iam/v1beta1/iamserviceaccount/)"
)
# Project and service-account IAM policy calls are recorded only by these fixtures, outside
# basic/ and with no mock log beside them; their agent lacks the mock's `(mockgcp)` tag.
POLICY_FIXTURES = (
    "iam/iampartialpolicy/resources/project",
    "iam/iampartialpolicy/resources/project-conditions",
    "iam/iampartialpolicy/iam-serviceaccountref",
    "iammemberreferences/serviceaccountref",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=MIRROR, help="git dir of the mirror")
    args = parser.parse_args()
    git = Git(args.mirror)
    commit = git.run("rev-parse", "HEAD").strip()
    files = set(git.run("ls-tree", "-r", "--name-only", "HEAD", ROOT).split())
    DATA.mkdir(parents=True, exist_ok=True)
    for old in DATA.glob("*.json"):
        old.unlink()
    written = skipped = 0
    for path in sorted(files):
        fixture = path.removeprefix(ROOT).removesuffix("/_http.log")
        if not path.endswith("/_http.log") or not FIXTURES.match(fixture):
            continue
        mock = path.removesuffix("_http.log") + "_http_mock.log"
        real = git.show(commit, path)
        if mock not in files:
            skipped += 1
            continue
        same = _without_agent(git.show(commit, mock)) == _without_agent(real)
        written += _write(commit, path, fixture, "same-as-mock" if same else "google", real)
    for fixture in POLICY_FIXTURES:
        path = f"{TESTDATA}{fixture}/_http.log"
        real = git.show(commit, path)
        recording = "same-as-mock" if "(mockgcp)" in real else "no-mock-log"
        written += _write(commit, path, fixture, recording, real)
    print(f"{written} fixtures written to {DATA} ({skipped} without a mock log beside, skipped)")


def _write(commit: str, path: str, fixture: str, recording: str, log: str) -> int:
    """Write one fixture's data file; 1 when it had exchanges in scope, else 0."""
    exchanges = convert(logfile.parse(log))
    if not exchanges:
        return 0
    out = {
        "source": {"repo": REPO, "commit": commit, "path": path},
        "fixture": fixture,
        "recording": recording,
        "exchanges": exchanges,
    }
    name = fixture.split("/", 2)[-1].replace("/", "--")
    (DATA / f"{name}.json").write_text(_dump(out))
    return 1


def convert(recorded: list[logfile.Exchange]) -> list[dict[str, Any]]:
    """The in-scope exchanges, consecutive identical reads (polls) merged into the last."""
    out: list[dict[str, Any]] = []
    for exchange in recorded:
        routed = scope.route(exchange.method, exchange.url)
        if routed is None:
            continue
        item = _item(exchange, routed)
        previous = out[-1] if out else None
        if (
            previous is not None
            and item["method"] == "GET"
            and all(previous.get(k) == item.get(k) for k in ("method", "path", "query"))
        ):
            item["repeats"] = previous.get("repeats", 1) + 1
            out[-1] = item
        else:
            out.append(item)
    return out


def _item(exchange: logfile.Exchange, routed: scope.Routed) -> dict[str, Any]:
    method = routed.method
    item: dict[str, Any] = {
        "api": routed.api,
        "group": routed.group,
        "method_id": method.id,
        "method": exchange.method,
        "path": routed.path,
        "query": routed.query,
        "status": exchange.status,
    }
    if exchange.request is not None and method.request_ref is not None:
        body, dropped = scope.strip_body(method.document, method.request_ref, exchange.request)
        item["body"] = body
        if dropped:
            item["body_fields_not_in_served_version"] = sorted(dropped)
    answer = exchange.answer if isinstance(exchange.answer, dict) else {}
    if exchange.status >= 400:
        item["error_status"] = answer.get("error", {}).get("status", "")
        item["fields"] = sorted(scope.error_paths(answer))
        return item
    declared, undeclared = scope.field_paths(method.document, method.response_ref, answer)
    item["fields"] = sorted(declared)
    if undeclared:
        item["answer_fields_not_in_served_version"] = len(undeclared)
    if method.response_ref == "Operation" or "operations" in method.id.lower():
        item["operation_done"] = answer.get("done") is True or answer.get("status") == "DONE"
        item["returns_operation"] = method.response_ref == "Operation"
    return item


def _without_agent(log: str) -> str:
    """A log less its User-Agent lines: the mock's log tags its agent `(mockgcp)`, so a log that
    differs from the mock's only there is the mock's recording."""
    return "\n".join(line for line in log.splitlines() if not line.startswith("User-Agent:"))


def _dump(data: dict[str, Any]) -> str:
    """JSON with one exchange per line: compact, yet diffs stay readable."""
    head = {k: v for k, v in data.items() if k != "exchanges"}
    lines = [json.dumps(e, sort_keys=True, separators=(",", ":")) for e in data["exchanges"]]
    text = json.dumps(head, sort_keys=True, indent=1)[:-2]
    return text + ',\n "exchanges": [\n' + ",\n".join(lines) + "\n ]\n}\n"


class Git:
    """Read-only access to the bare mirror."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["git", f"--git-dir={self.git_dir}", *args], check=True, capture_output=True, text=True
        ).stdout

    def show(self, commit: str, path: str) -> str:
        return self.run("show", f"{commit}:{path}")


if __name__ == "__main__":
    main()
