"""Replaying the extracted exchanges against a fresh sandbox, over raw HTTP, in order.

Each fixture starts from an empty sandbox (its state is reset) and its own project, created
beforehand with billing, the APIs and the `default` auto-mode network a new Google project has;
so are the other projects, and the networks, a fixture uses without creating them. Placeholders
take the sandbox's values: `${projectId}`/`${projectNumber}` the project's, `${operationID}`
the last operation the sandbox answered on that API (for Compute, in that path's location),
`${uniqueId}` and other `${…ID}` names fixed per fixture, resources named alike told apart by
bindings.py. A recorded poll of an operation (merged by the extractor) is polled until the
operation is done. Exchanges exclusions.py names are sent but not counted.
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
from tests.conformance import exclusions, scope
from tests.conformance.bindings import Bindings

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
# Compute's operation paths: `projects/P/(global|regions/R|zones/Z)/operations/`.
_LOCATION = re.compile(r"projects/[^/]+/(?:global|regions/[^/]+|zones/[^/]+)/operations/")
_LOCATED_OPERATION = re.compile(f"({_LOCATION.pattern})" + re.escape("${operationID}"))
# Firewall rules that APIs the replay does not send left on a fixture's network, which Google's
# recorded answers show (fixture → (after which exchange, network)): in computerouternatprivate
# Network Connectivity Center's spoke left one, so Google failed every deletion of the network.
_OUTSIDE_FIREWALLS = {
    "compute/v1beta1/computerouternat/computerouternatprivate": (3, "${networkID}"),
}
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
    excluded: str = ""  # why it is not counted (exclusions.py), if it is not

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
    excluded: int = 0
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
        if result.excluded:
            row.excluded += 1
            continue
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
        self.bindings = Bindings([], self._default_value)
        self.operations: dict[str, str] = {}  # by API, and Compute's also by location
        self.fingerprints: dict[str, str] = {}  # the sandbox's latest, by field name
        self.etags: dict[str, str] = {}  # the sandbox's latest policy etag, by resource path

    def replay(self, fixture: dict[str, Any]) -> list[Result]:
        regions = _regions(fixture)
        self.bindings = Bindings(fixture["exchanges"], self._default_value)
        self._project(f"conf-{self.uid}", regions, main=True)
        for project in _preexisting_projects(fixture):
            self._project(project, regions)
        for network in _preexisting_networks(fixture):
            self._network(network)
        output_only = exclusions.output_only_inputs(fixture["exchanges"])
        out = []
        for index, exchange in enumerate(fixture["exchanges"]):
            self.bindings.before(index)
            status, answer = self._send(exchange)
            self.bindings.after(index, status)
            result = self._compare(fixture, index, exchange, status, answer, output_only)
            result.excluded = exclusions.excluded(fixture["fixture"], exchange, output_only) or ""
            out.append(result)
            if _OUTSIDE_FIREWALLS.get(fixture["fixture"], (None,))[0] == index:
                self._firewall(_OUTSIDE_FIREWALLS[fixture["fixture"]][1])
            if status == 200 and _enables_compute(exchange):
                # Google gives a project its `default` network when Compute is enabled
                project = self._fill(exchange["path"], exchange["api"]).split("/")[3]
                self._default_network(project, regions)
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
        self._default_network(project_id, regions)

    def _default_network(self, project_id: str, regions: list[str]) -> None:
        compute = f"{self.sandbox.url('compute')}/compute/v1/projects/{project_id}"
        network = {"name": "default", "autoCreateSubnetworks": True}
        response = self.http.post(f"{compute}/global/networks", json=network, timeout=30)
        if response.status_code != 200:
            return  # already there, or Compute is not enabled yet
        self._ok("POST", f"{compute}/global/operations/{response.json()['name']}/wait")
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

    def _network(self, placeholder: str) -> None:
        """A custom-mode network the fixture uses without creating it."""
        compute = f"{self.sandbox.url('compute')}/compute/v1/projects/{self.values['projectId']}"
        body = {"name": self._fill(placeholder, "compute"), "autoCreateSubnetworks": False}
        op = self._ok("POST", f"{compute}/global/networks", body)
        self._ok("POST", f"{compute}/global/operations/{op['name']}/wait")

    def _firewall(self, network: str) -> None:
        """A firewall rule on a network, as an API outside the replay leaves one."""
        compute = f"{self.sandbox.url('compute')}/compute/v1/projects/{self.values['projectId']}"
        name = self._fill(network, "compute")
        body = {
            "name": f"{name}-outside",
            "network": f"projects/{self.values['projectId']}/global/networks/{name}",
            "allowed": [{"IPProtocol": "tcp"}],
        }
        op = self._ok("POST", f"{compute}/global/firewalls", body)
        self._ok("POST", f"{compute}/global/operations/{op['name']}/wait")

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

    def _default_value(self, name: str) -> str:
        return self.values.get(name) or f"{name.removesuffix('ID').lower()}-{self.uid}"

    def _fill(self, text: str, api: str, *, body: bool = False) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "operationID":
                return match.group(0)
            # in a body, a resource path is a reference to another resource: of those named
            # alike, the recording cannot say which; the first made is taken
            first = body and text[match.start() - 1 : match.start()] == "/"
            return self.values.get(name) or self.bindings.value(name, first=first)

        def operation(match: re.Match[str]) -> str:
            known = self.operations.get(match.group(1)) or self.operations.get(api)
            return match.group(1) + (known or "unknown-operation")

        text = _PLACEHOLDER.sub(value, text)
        # a Compute operation lives in one location: the last one answered there
        text = _LOCATED_OPERATION.sub(operation, text)
        return text.replace("${operationID}", self.operations.get(api, "unknown-operation"))

    def _send(self, exchange: dict[str, Any]) -> tuple[int, Any]:
        api = exchange["api"]
        url = self.sandbox.url(api) + self._fill(exchange["path"], api)
        query = {k: self._fill(v, api) for k, v in exchange["query"].items()}
        body = None
        if "body" in exchange:
            body = json.loads(self._fill(json.dumps(exchange["body"]), api, body=True))
            _bare_organization(exchange, body)
            # a recorded policy etag is normalized away: send the one the sandbox last read
            policy = body.get("policy")
            resource = url.rsplit(":", 1)[0]
            if isinstance(policy, dict) and "etag" in policy and resource in self.etags:
                policy["etag"] = self.etags[resource]
            # recorded fingerprints are normalized away: send the sandbox's own
            for key in body:
                if key.lower().endswith("fingerprint") and key in self.fingerprints:
                    body[key] = self.fingerprints[key]
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
        if isinstance(answer, dict):
            for key, value in answer.items():
                if key.lower().endswith("fingerprint") and isinstance(value, str):
                    self.fingerprints[key] = value
            if exchange["method_id"].endswith("IamPolicy") and "etag" in answer:
                self.etags[url.rsplit(":", 1)[0]] = str(answer["etag"])
        if exchange.get("returns_operation") and isinstance(answer, dict) and "name" in answer:
            name = str(answer["name"]).split("operations/")[-1]
            self.operations[api] = name
            located = _LOCATION.search(str(answer.get("selfLink", "")))
            if located is not None:
                self.operations[located.group(0)] = name
        return response.status_code, answer

    def _compare(
        self,
        fixture: dict[str, Any],
        index: int,
        exchange: dict[str, Any],
        status: int,
        answer: Any,
        output_only: dict[str, set[str]],
    ) -> Result:
        recorded_status = f"{exchange['status']} {exchange.get('error_status', '')}".strip()
        error = answer.get("error", {}) if isinstance(answer, dict) and status >= 400 else {}
        sandbox_status = f"{status} {error.get('status', '') if isinstance(error, dict) else ''}"
        present = answer_paths(exchange["method_id"], exchange["api"], status, answer)
        recorded = exclusions.expected(exchange, output_only)
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


_NEEDS_COMPUTE = ("compute.googleapis.com", "container.googleapis.com")


def _bare_organization(exchange: dict[str, Any], body: dict[str, Any]) -> None:
    """v1's `parent.id` is the organization's number. The policy fixtures recorded it as
    `organizations/${organizationID}` (430 other recordings of the call write the bare
    placeholder): the replay sends the number, and does not count that create (exclusions)."""
    parent = body.get("parent")
    if exchange["method_id"] == "cloudresourcemanager.projects.create" and isinstance(parent, dict):
        parent["id"] = str(parent.get("id", "")).removeprefix("organizations/")


def _enables_compute(exchange: dict[str, Any]) -> bool:
    """Enables Compute, itself or as a dependency (Container's)."""
    method: str = exchange["method_id"]
    if method.endswith("services.enable"):
        return any(f"/services/{name}:" in exchange["path"] for name in _NEEDS_COMPUTE)
    if method.endswith("services.batchEnable"):
        ids = exchange.get("body", {}).get("serviceIds", [])
        return any(name in ids for name in _NEEDS_COMPUTE)
    return False


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
    those no request of the fixture creates."""
    named: dict[str, None] = {}
    made = set()
    for exchange in fixture["exchanges"]:
        found = re.search(r"/projects/([a-z][a-z0-9-]{4,28}[a-z0-9])(/|$)", exchange["path"])
        if found is not None and "${" not in found.group(1):
            named.setdefault(found.group(1))
        if exchange["method"] == "POST" and re.search(r"/v[13]/projects$", exchange["path"]):
            made.add(exchange.get("body", {}).get("projectId"))
    return [project for project in named if project not in made]


def _preexisting_networks(fixture: dict[str, Any]) -> list[str]:
    """Network placeholders of the fixture's project that it uses but never creates."""
    used: dict[str, None] = {}
    made = set()
    for exchange in fixture["exchanges"]:
        text = exchange["path"] + json.dumps(exchange.get("body", ""))
        for found in re.finditer(r"projects/\$\{projectId\}/global/networks/(\$\{\w+\})", text):
            used.setdefault(found.group(1))
        if exchange["path"].endswith("/global/networks") and "body" in exchange:
            made.add(exchange["body"].get("name"))
    return [network for network in used if network not in made]


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
