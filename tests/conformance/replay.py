"""Replaying the extracted exchanges against a fresh sandbox, over raw HTTP, in order.

Each fixture starts from an empty sandbox (its state is reset) and its own project, created
beforehand with billing, the APIs and the `default` auto-mode network a new Google project has;
so are the other projects a fixture uses without creating them. Placeholders take the
sandbox's values:
`${projectId}`/`${projectNumber}` the project's, `${operationID}` the last operation the sandbox
answered on that API, `${uniqueId}` and other `${…ID}` names fixed per fixture. A recorded poll
of an operation (merged by the extractor) is polled until the operation is done.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sandbox.cloud import Sandbox
from sandbox.discovery import load
from tests.conformance import scope

DATA = Path(__file__).parent / "data"
BILLING_ACCOUNT = "012345-6789AB-CDEF01"
SERVICES = [
    "compute.googleapis.com",
    "container.googleapis.com",
    "gkehub.googleapis.com",
    "anthosconfigmanagement.googleapis.com",
    "anthospolicycontroller.googleapis.com",
    "mesh.googleapis.com",
    "iam.googleapis.com",
    "cloudkms.googleapis.com",
]
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_FIXED = {"billingAccountID": BILLING_ACCOUNT, "folderID": "100", "organizationID": "123456789"}


@dataclass
class Result:
    """One replayed exchange."""

    fixture: str
    recording: str
    index: int
    group: str
    request: str
    recorded_status: str
    sandbox_status: str
    recorded_fields: list[str]
    missing_fields: list[str]
    sandbox_message: str = ""

    @property
    def status_matches(self) -> bool:
        """Same HTTP status, and the same error status where Google's answer names one
        (Compute's errors carry none)."""
        recorded_code, _, recorded_error = self.recorded_status.partition(" ")
        code, _, error = self.sandbox_status.partition(" ")
        return recorded_code == code and (not recorded_error or recorded_error == error)


@dataclass
class Row:
    """Per-API figures."""

    exchanges: int = 0
    status_matched: int = 0
    fields: int = 0
    fields_present: int = 0
    from_google: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    mismatches: list[Result] = field(default_factory=list)

    @property
    def status_pct(self) -> float:
        return 100.0 * self.status_matched / self.exchanges if self.exchanges else 100.0

    @property
    def coverage_pct(self) -> float:
        return 100.0 * self.fields_present / self.fields if self.fields else 100.0


def fixtures(selection: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The extracted fixtures, in name order (optionally only those whose name is given)."""
    wanted = set(selection or ())
    out = []
    for path in sorted(DATA.glob("*.json")):
        if wanted and path.stem not in wanted:
            continue
        out.append(json.loads(path.read_text()))
    return out


def run(state_dir: Path, selection: Iterable[str] | None = None) -> list[Result]:
    """Start a fresh sandbox (instant latency) and replay every fixture; the results in order."""
    results: list[Result] = []
    with Sandbox(state_dir, latency="instant", components=[], ticker_interval=0.01) as sandbox:
        http = requests.Session()
        for number, fixture in enumerate(fixtures(selection)):
            sandbox.rt.reset()
            replayer = Replayer(sandbox, http, f"cf{number:02d}")
            results.extend(replayer.replay(fixture))
    return results


def summarize(results: list[Result]) -> dict[str, Row]:
    """Figures per API (report row), sorted by name."""
    rows: dict[str, Row] = {}
    for result in results:
        row = rows.setdefault(result.group, Row())
        row.exchanges += 1
        row.from_google += result.recording == "google"
        row.status_matched += result.status_matches
        row.fields += len(result.recorded_fields)
        row.fields_present += len(result.recorded_fields) - len(result.missing_fields)
        row.missing.update(result.missing_fields)
        if not result.status_matches:
            row.mismatches.append(result)
    return dict(sorted(rows.items()))


class Replayer:
    """Replays one fixture in its own project."""

    def __init__(self, sandbox: Sandbox, http: requests.Session, tag: str) -> None:
        self.sandbox = sandbox
        self.http = http
        self.uid = f"{tag}x{int(time.time() * 1000) % 100000:05d}"
        self.values: dict[str, str] = {"uniqueId": self.uid, **_FIXED}
        self.operations: dict[str, str] = {}

    def replay(self, fixture: dict[str, Any]) -> list[Result]:
        regions = _regions(fixture)
        self._project(f"conf-{self.uid}", regions, main=True)
        for project in _preexisting_projects(fixture):
            self._project(project, regions)
        out = []
        for index, exchange in enumerate(fixture["exchanges"]):
            status, answer = self._send(exchange)
            out.append(self._compare(fixture, index, exchange, status, answer))
        return out

    # -- setup -------------------------------------------------------------------------------

    def _project(self, project_id: str, regions: list[str], *, main: bool = False) -> None:
        rm = self.sandbox.url("cloudresourcemanager")
        op = self._ok(
            "POST", f"{rm}/v3/projects", {"projectId": project_id, "parent": "folders/100"}
        )
        self._wait(f"{rm}/v3/{op['name']}")
        number = self._ok("GET", f"{rm}/v3/projects/{project_id}")["name"].split("/")[-1]
        if main:
            self.values.update(projectId=project_id, projectNumber=number)
        billing = f"{self.sandbox.url('cloudbilling')}/v1/projects/{project_id}/billingInfo"
        self._ok("PUT", billing, {"billingAccountName": f"billingAccounts/{BILLING_ACCOUNT}"})
        su = self.sandbox.url("serviceusage")
        body = {"serviceIds": SERVICES}
        op = self._ok("POST", f"{su}/v1/projects/{project_id}/services:batchEnable", body)
        self._wait(f"{su}/v1/{op['name']}")
        compute = f"{self.sandbox.url('compute')}/compute/v1/projects/{project_id}"
        network = {"name": "default", "autoCreateSubnetworks": True}
        op = self._ok("POST", f"{compute}/global/networks", network)
        self._ok("POST", f"{compute}/global/operations/{op['name']}/wait")
        for number, region in enumerate(regions):
            subnet = {
                "name": "default",
                "network": f"projects/{project_id}/global/networks/default",
                "ipCidrRange": f"10.{128 + number}.0.0/20",
            }
            url = f"{compute}/regions/{region}/subnetworks"
            response = self.http.post(url, json=subnet, timeout=30)
            if response.status_code == 200:
                name = response.json()["name"]
                self._ok("POST", f"{compute}/regions/{region}/operations/{name}/wait")

    def _ok(self, method: str, url: str, body: Any = None) -> dict[str, Any]:
        response = self.http.request(method, url, json=body, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"setup {method} {url}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def _wait(self, url: str) -> None:
        for _ in range(200):
            if self._ok("GET", url).get("done"):
                return
            time.sleep(0.02)
        raise RuntimeError(f"setup: {url} never done")

    # -- replay ------------------------------------------------------------------------------

    def _fill(self, text: str, api: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "operationID":
                return self.operations.get(api, "unknown-operation")
            if name not in self.values:
                self.values[name] = f"{name.removesuffix('ID').lower()}-{self.uid}"
            return self.values[name]

        return _PLACEHOLDER.sub(value, text)

    def _send(self, exchange: dict[str, Any]) -> tuple[int, Any]:
        api = exchange["api"]
        url = self.sandbox.url(api) + self._fill(exchange["path"], api)
        query = {k: self._fill(v, api) for k, v in exchange["query"].items()}
        body = None
        if "body" in exchange:
            body = json.loads(self._fill(json.dumps(exchange["body"]), api))
        polls = 200 if exchange.get("operation_done") and exchange["method"] == "GET" else 1
        for attempt in range(polls):
            response = self.http.request(
                exchange["method"], url, params=query, json=body, timeout=30
            )
            try:
                answer = response.json()
            except ValueError:
                answer = None
            done = isinstance(answer, dict) and (
                answer.get("done") is True or answer.get("status") == "DONE"
            )
            if response.status_code != 200 or done or attempt == polls - 1:
                break
            time.sleep(0.02)
        if exchange.get("returns_operation") and isinstance(answer, dict) and "name" in answer:
            self.operations[api] = str(answer["name"]).split("operations/")[-1]
        return response.status_code, answer

    def _compare(
        self,
        fixture: dict[str, Any],
        index: int,
        exchange: dict[str, Any],
        status: int,
        answer: Any,
    ) -> Result:
        recorded_status = f"{exchange['status']} {exchange.get('error_status', '')}".strip()
        error = answer.get("error", {}) if isinstance(answer, dict) and status >= 400 else {}
        sandbox_status = f"{status} {error.get('status', '') if isinstance(error, dict) else ''}"
        present = answer_paths(exchange["method_id"], exchange["api"], status, answer)
        recorded = exchange["fields"]
        return Result(
            fixture=fixture["fixture"],
            recording=fixture["recording"],
            index=index,
            group=exchange["group"],
            request=f"{exchange['method']} {exchange['path']}",
            recorded_status=recorded_status,
            sandbox_status=sandbox_status.strip(),
            sandbox_message=str(error.get("message", ""))[:300] if isinstance(error, dict) else "",
            recorded_fields=recorded,
            missing_fields=[f for f in recorded if f not in present],
        )


def _regions(fixture: dict[str, Any]) -> list[str]:
    """The regions a fixture's paths name (zones count as their region)."""
    found = {"us-central1"}
    for exchange in fixture["exchanges"]:
        for match in re.finditer(
            r"/(?:locations|regions|zones)/([a-z]+-[a-z]+\d+)", exchange["path"]
        ):
            found.add(match.group(1))
    return sorted(found)


def _preexisting_projects(fixture: dict[str, Any]) -> list[str]:
    """Projects named literally in a fixture's paths that existed before it ran on Google:
    those whose first request was not refused as absent (403/404)."""
    first: dict[str, int] = {}
    for exchange in fixture["exchanges"]:
        found = re.search(r"/projects/([a-z][a-z0-9-]{4,28}[a-z0-9])(/|$)", exchange["path"])
        if found is not None and "${" not in found.group(1):
            first.setdefault(found.group(1), exchange["status"])
    return [project for project, status in first.items() if status not in (403, 404)]


def answer_paths(method_id: str, api: str, status: int, answer: Any) -> set[str]:
    """Field paths of a sandbox answer, collapsed as the extractor collapses Google's."""
    if status >= 400 or not isinstance(answer, dict):
        return scope.error_paths(answer)
    _, _, documents = next(h for h in scope.HOSTS.values() if h[0] == api)
    for document in documents:
        method = next((m for m in load(document).methods.values() if m.id == method_id), None)
        if method is not None:
            declared, undeclared = scope.field_paths(document, method.response_ref, answer)
            return declared | undeclared
    return scope.error_paths(answer)
