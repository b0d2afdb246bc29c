"""Google discovery documents: the methods an API really has, and a route table built from them.

The documents ship with google-api-python-client (`googleapiclient/discovery_cache/documents`).
Each method's URL template (`v3/{+name}:undelete`, `compute/v1/projects/{project}/…`) becomes a
regular expression whose groups are the method's path parameters, so only real methods route.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"

# Custom methods that only read, although they are not GETs.
READ_ONLY_VERBS = frozenset(
    {
        "wait",
        "getIamPolicy",
        "testIamPermissions",
        "getAncestry",
        "getEffectiveOrgPolicy",
        "getOrgPolicy",
        "listOrgPolicies",
        "listAvailableOrgPolicyConstraints",
        "preview",
        "generateConnectManifest",
    }
)

_VARIABLE = re.compile(r"\{(\+?)([^}]+)\}")


@dataclass(frozen=True)
class Method:
    """One discovery method: its id, HTTP verb, URL pattern, parameters and body schema."""

    id: str
    http_method: str
    path: str
    parameters: dict[str, dict[str, Any]]
    request_ref: str | None
    response_ref: str | None
    document: str
    regex: re.Pattern[str] = field(compare=False, repr=False)
    specificity: int = 0

    @property
    def verb(self) -> str:
        """The last part of the id (`create`, `enable`, …)."""
        return self.id.rsplit(".", 1)[-1]

    @property
    def is_read(self) -> bool:
        """GETs and read-only custom methods count as reads; everything else is a write."""
        return self.http_method == "GET" or self.verb in READ_ONLY_VERBS

    def query_parameter(self, name: str) -> dict[str, Any] | None:
        """The declared query parameter `name`, if any."""
        spec = self.parameters.get(name)
        return spec if spec is not None and spec.get("location") == "query" else None


@dataclass(frozen=True)
class Discovery:
    """A loaded discovery document."""

    name: str
    api: str
    version: str
    root_url: str
    service_path: str
    schemas: dict[str, dict[str, Any]]
    methods: dict[str, Method]


@functools.cache
def load(name: str) -> Discovery:
    """Load a discovery document by file stem, e.g. `cloudresourcemanager.v3` or `compute.v1`."""
    raw = json.loads((DOCUMENTS / f"{name}.json").read_text())
    service_path = raw.get("servicePath", "")
    methods: dict[str, Method] = {}
    for spec in _walk_methods(raw):
        method = _method(name, service_path, spec)
        methods[method.id] = method
    return Discovery(
        name=name,
        api=raw["name"],
        version=raw["version"],
        root_url=raw["rootUrl"],
        service_path=service_path,
        schemas=raw.get("schemas", {}),
        methods=methods,
    )


def _walk_methods(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(node.get("methods", {}).values())
    for child in node.get("resources", {}).values():
        found.extend(_walk_methods(child))
    return found


def _method(document: str, service_path: str, spec: dict[str, Any]) -> Method:
    parameters: dict[str, dict[str, Any]] = spec.get("parameters", {})
    template = "/" + service_path + spec["path"]
    regex, literal = _template_regex(template, parameters)
    return Method(
        id=spec["id"],
        http_method=spec["httpMethod"],
        path=template,
        parameters=parameters,
        request_ref=spec.get("request", {}).get("$ref"),
        response_ref=spec.get("response", {}).get("$ref"),
        document=document,
        regex=regex,
        specificity=literal,
    )


def _template_regex(
    template: str, parameters: dict[str, dict[str, Any]]
) -> tuple[re.Pattern[str], int]:
    """Regex for a URL template; `{+name}` takes its parameter's pattern (several segments)."""
    parts: list[str] = []
    literal = 0
    position = 0
    for match in _VARIABLE.finditer(template):
        text = template[position : match.start()]
        parts.append(re.escape(text))
        literal += len(text)
        plus, name = match.groups()
        pattern = parameters.get(name, {}).get("pattern")
        if plus and pattern:
            body = pattern.removeprefix("^").removesuffix("$")
        elif plus:
            body = ".+"
        else:
            body = "[^/]+"
        parts.append(f"(?P<{_group(name)}>{body})")
        position = match.end()
    tail = template[position:]
    parts.append(re.escape(tail))
    literal += len(tail)
    return re.compile("".join(parts)), literal


def _group(name: str) -> str:
    # Regex group names must be identifiers; parameter names are, except for rare `$`/`.` cases.
    return re.sub(r"\W", "_", name)


def path_parameters(method: Method, match: re.Match[str]) -> dict[str, str]:
    """Path parameters of a matched request, by their discovery names."""
    return {name: match.group(_group(name)) for name in _variable_names(method.path)}


@functools.cache
def _variable_names(template: str) -> tuple[str, ...]:
    return tuple(name for _, name in _VARIABLE.findall(template))


class RouteTable:
    """Matches (HTTP method, URL path) to discovery methods, most specific template first."""

    def __init__(self, methods: list[Method]) -> None:
        self._methods = sorted(methods, key=lambda m: (-m.specificity, m.id))

    def match(self, http_method: str, path: str) -> tuple[Method, dict[str, str]] | None:
        """The method answering this request and its path parameters, or None."""
        for method in self._methods:
            if method.http_method != http_method:
                continue
            found = method.regex.fullmatch(path)
            if found is not None:
                return method, path_parameters(method, found)
        return None

    def path_exists(self, path: str) -> bool:
        """True when some method (with any HTTP verb) has this path."""
        return any(m.regex.fullmatch(path) for m in self._methods)
