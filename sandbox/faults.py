"""Fault injection: error rates per API method, and operations that end in error.

Configuration (JSON or YAML file at start, or `PUT /faults` on the admin endpoint):

    seed: 7
    rules:
      - {method: cloudresourcemanager.projects.get, rate: 0.3, code: 503}
      - {api: compute, method: "compute.networks.*", rate: 0.1, code: 429, retryAfter: 2}
      - {method: "*", rate: 0.01, code: deadline, delay: 1.5}     # a 504 after 1.5 s
      - {method: compute.reservations.insert, rate: 1.0,
         operation: {status: RESOURCE_EXHAUSTED, reason: ZONE_RESOURCE_POOL_EXHAUSTED,
                     message: "The zone does not have enough resources"}}
      - {method: container.projects.locations.clusters.create, times: 1,
         operation: {status: INTERNAL, message: "Cluster creation failed"}}   # only the first
      - {method: compute.networks.get, rate: 1.0, malformed: truncated}
      - {method: "k8s.list.*", malformed: wrong-type, field: items}
      - {method: container.projects.locations.clusters.get, malformed: unknown-enum}
      - {method: iam.projects.serviceAccounts.setIamPolicy, times: 1, code: 403}  # a refusal

`times` caps how often a rule fires (no cap when absent).

A `malformed` rule serves the request for real (a write is done) and then corrupts its
successful JSON answer (2xx with a JSON body; errors and other bodies pass untouched; see
`sandbox.malformed`):
- `truncated`: the body cut in half (a proxy that dropped the connection midway);
- `wrong-type`: one field's value of the wrong JSON type: an object or a list becomes a string,
  a string becomes a number, a number or boolean becomes a string;
- `unknown-enum`: one enum-like field (`status`, `state`, `phase`, `code`, `lifecycleState`
  holding a string) becomes `"FROBNICATING"`, a value no client knows.
`field` (a dotted path, list indices as numbers: `state.code`, `items.0.status`) picks the
field; without it, wrong-type takes the first top-level field holding an object or a list (else
the first holding a scalar) and unknown-enum the first enum-like field, breadth first. A rule
fires only on answers it can corrupt (an answer without the field is served as it is), and the
request log shows `malformed <kind>` as the request's fault.

`method` is a discovery method id or a glob over ids. Each (rule, method) pair draws from its own
random stream seeded from `seed`, so one method's sequence does not depend on other traffic.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox.errors import ApiError, resource_exhausted
from sandbox.malformed import MALFORMED_KINDS, corrupt

HTTP_BY_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_REQUEST_CODES = {403, 429, 500, 502, 503, 504}  # 403: a refusal no retry cures


@dataclass(frozen=True)
class RequestFault:
    """An error to answer instead of serving a request."""

    error: ApiError
    delay: float  # seconds to wait before answering (a deadline)
    label: str


@dataclass(frozen=True)
class Malformed:
    """A successful answer's body, corrupted."""

    body: bytes
    label: str


@dataclass(frozen=True)
class _Rule:
    api: str
    method: str
    rate: float
    code: int | None
    delay: float
    retry_after: float
    operation: dict[str, str] | None
    times: int | None = None
    malformed: str | None = None
    field: str | None = None

    def matches(self, api: str, method: str) -> bool:
        return fnmatch.fnmatchcase(api, self.api) and fnmatch.fnmatchcase(method, self.method)


def load_file(path: Path) -> dict[str, Any]:
    """Read a faults configuration from a JSON or YAML file."""
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a faults configuration is a mapping with `rules`")
    return data


def _rule(index: int, raw: Any) -> _Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping")
    known = {"api", "method", "rate", "code", "delay", "retryAfter", "operation", "times"}
    unknown = set(raw) - known - {"malformed", "field"}  # a response rule's keys
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    rate = float(raw.get("rate", 1.0))
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{where}.rate: must be between 0 and 1")
    code_raw = raw.get("code")
    operation = raw.get("operation")
    malformed, field = _malformed(where, raw)
    if sum(x is not None for x in (code_raw, operation, malformed)) != 1:
        raise ValueError(
            f"{where}: give exactly one of `code` (request), `operation` or `malformed` (response)"
        )
    code: int | None = None
    delay = float(raw.get("delay", 0.0))
    if code_raw == "deadline":
        code, delay = 504, float(raw.get("delay", 2.0))
    elif code_raw is not None:
        code = int(code_raw)
        if code not in _REQUEST_CODES:
            raise ValueError(f"{where}.code: one of {sorted(_REQUEST_CODES)} or 'deadline'")
    if operation is not None:
        status = str(operation.get("status", "INTERNAL"))
        if status not in HTTP_BY_STATUS:
            raise ValueError(f"{where}.operation.status: unknown status {status!r}")
        operation = {key: str(value) for key, value in operation.items()}
    return _Rule(
        api=str(raw.get("api", "*")),
        method=str(raw.get("method", "*")),
        rate=rate,
        code=code,
        delay=delay,
        retry_after=float(raw.get("retryAfter", 1.0)),
        operation=operation,
        times=None if raw.get("times") is None else int(raw["times"]),
        malformed=malformed,
        field=field,
    )


def _malformed(where: str, raw: dict[str, Any]) -> tuple[str | None, str | None]:
    """The `malformed` kind and `field` of a rule (None, None for other rules)."""
    kind, field = raw.get("malformed"), raw.get("field")
    if kind is None:
        if field is not None:
            raise ValueError(f"{where}.field: only with `malformed`")
        return None, None
    if kind not in MALFORMED_KINDS:
        raise ValueError(f"{where}.malformed: one of {list(MALFORMED_KINDS)}, not {kind!r}")
    if field is not None:
        if kind == "truncated":
            raise ValueError(f"{where}.field: a truncated body has no field to pick")
        if not isinstance(field, str) or not field or "" in field.split("."):
            raise ValueError(f"{where}.field: a dotted path such as `status` or `state.code`")
    return str(kind), field


class Faults:
    """Decides, deterministically per seed, which requests and operations fail."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._config: dict[str, Any] = {"seed": 0, "rules": []}
        self._rules: list[_Rule] = []
        self._streams: dict[tuple[int, str], random.Random] = {}
        self._fired: dict[int, int] = {}
        self.configure(config or {})

    def configure(self, config: dict[str, Any]) -> None:
        """Replace the rules (and restart every random stream). Raises ValueError."""
        unknown = set(config) - {"seed", "rules"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        rules = [_rule(index, raw) for index, raw in enumerate(config.get("rules") or [])]
        with self._lock:
            self._config = {"seed": int(config.get("seed", 0)), "rules": config.get("rules") or []}
            self._rules = rules
            self._streams = {}
            self._fired = {}

    def config(self) -> dict[str, Any]:
        """The configuration in force."""
        with self._lock:
            copied: dict[str, Any] = json.loads(json.dumps(self._config))
        return copied

    def _draw(self, index: int, rule: _Rule, method: str) -> bool:
        if rule.times is not None and self._fired.get(index, 0) >= rule.times:
            return False
        fired = self._draw_stream(index, rule, method)
        if fired:
            self._fired[index] = self._fired.get(index, 0) + 1
        return fired

    def _draw_stream(self, index: int, rule: _Rule, method: str) -> bool:
        key = (index, method)
        stream = self._streams.get(key)
        if stream is None:
            stream = random.Random(f"{self._config['seed']}:{index}:{method}")
            self._streams[key] = stream
        return stream.random() < rule.rate

    def request_fault(self, api: str, method: str) -> RequestFault | None:
        """The fault to answer for this call, if a request rule fires."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.code is None or not rule.matches(api, method):
                    continue
                if self._draw(index, rule, method):
                    return RequestFault(_request_error(rule), rule.delay, f"http {rule.code}")
        return None

    def malform(self, api: str, method: str, status: int, body: bytes) -> Malformed | None:
        """The corrupted body to answer instead of `body`, if a `malformed` rule fires. Only
        successful JSON answers are corrupted; a rule draws only on answers it can corrupt."""
        if not 200 <= status < 300 or not body.strip():
            return None
        with self._lock:
            if not any(r.malformed is not None and r.matches(api, method) for r in self._rules):
                return None  # most answers: no rule to read them for
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.malformed is None or not rule.matches(api, method):
                    continue
                corrupted = corrupt(rule.malformed, payload, body, rule.field)
                if corrupted is not None and self._draw(index, rule, method):
                    return Malformed(corrupted, f"malformed {rule.malformed}")
        return None

    def operation_failure(self, api: str, method: str) -> ApiError | None:
        """The error an operation started by this call ends with, if an operation rule fires."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.operation is None or not rule.matches(api, method):
                    continue
                if self._draw(index, rule, method):
                    spec = rule.operation
                    status = spec.get("status", "INTERNAL")
                    return ApiError(
                        HTTP_BY_STATUS[status],
                        spec.get("message", "Injected operation failure."),
                        status,
                        reason=spec.get("reason", ""),
                    )
        return None


def _request_error(rule: _Rule) -> ApiError:
    if rule.code == 429:
        return resource_exhausted(
            "Quota exceeded: too many requests, please retry later.",
            retry_after=rule.retry_after,
            reason="RATE_LIMIT_EXCEEDED",
        )
    if rule.code == 403:
        return ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
    if rule.code == 504:
        return ApiError(504, "Deadline exceeded.", "DEADLINE_EXCEEDED")
    if rule.code == 503:
        return ApiError(503, "The service is currently unavailable.", "UNAVAILABLE")
    if rule.code == 502:
        return ApiError(502, "Bad gateway.", "UNAVAILABLE")
    return ApiError(500, "Internal error encountered.", "INTERNAL")
