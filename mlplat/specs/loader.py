"""Load infra_specs/: parse YAML, merge environment defaults, validate, and collect every issue."""

from __future__ import annotations

import difflib
from collections import Counter
from inspect import isclass
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from mlplat.errors import SpecError, SpecIssue
from mlplat.specs.checks import cross_file_issues
from mlplat.specs.models import Environment, Platform, Team
from mlplat.specs.platform_spec import PlatformSpec
from mlplat.specs.yamlsource import Document, KeyPath, Origin, YamlSyntaxError, load_document, merge

M = TypeVar("M", bound=BaseModel)

PLATFORM_FILE = "platform.yaml"
ENVIRONMENTS_DIR = "environments"
TEAMS_DIR = "teams"


def load_spec(root: Path) -> PlatformSpec:
    """Validate the spec under `root`; raise SpecError naming every issue, file and line."""
    issues: list[SpecIssue] = []
    platform_file = root / PLATFORM_FILE
    if not root.is_dir():
        raise SpecError([SpecIssue(root, 1, "(spec)", "not a directory")])
    if not platform_file.is_file():
        problem = "cannot read: a broken link or a loop" if platform_file.is_symlink() else ""
        raise SpecError([SpecIssue(platform_file, 1, "platform", problem or "file is missing")])

    platform_doc = _load(platform_file, "platform", issues)
    platform = _validate(Platform, platform_doc, "platform", issues) if platform_doc else None
    defaults = _defaults_document(platform_doc)

    env_docs: dict[str, Document] = {}
    environments: dict[str, Environment] = {}
    for file in _yaml_files(root / ENVIRONMENTS_DIR, "environments", issues):
        doc = _load(file, f"environments.{file.stem}", issues)
        if doc is None:
            continue
        doc = merge(defaults, doc) if defaults else doc
        env_docs[file.stem] = doc
        env = _validate(Environment, doc, f"environments.{file.stem}", issues)
        if env is not None:
            environments[file.stem] = env

    team_docs: dict[str, Document] = {}
    teams: dict[str, Team] = {}
    for file in _yaml_files(root / TEAMS_DIR, "teams", issues):
        doc = _load(file, f"teams.{file.stem}", issues)
        if doc is None:
            continue
        team_docs[file.stem] = doc
        team = _validate(Team, doc, f"teams.{file.stem}", issues)
        if team is not None:
            teams[file.stem] = team

    if not env_docs and not any(i.path.startswith("environments.") for i in issues):
        issues.append(
            SpecIssue(root / ENVIRONMENTS_DIR, 1, "environments", "no environment files found")
        )
    if platform is not None and not issues:
        spec = PlatformSpec(platform=platform, environments=environments, teams=teams)
        spec.remember_origins(
            {
                ("environments", name, *path): origin
                for name, doc in env_docs.items()
                for path, origin in doc.origins.items()
            }
        )
        issues.extend(cross_file_issues(spec, env_docs, team_docs))
        if not issues:
            return spec
    raise SpecError(issues)


def _yaml_files(directory: Path, what: str, issues: list[SpecIssue]) -> list[Path]:
    """The directory's YAML files, one per name: `x.yaml` beside `x.yml` is an issue (two
    files for one environment or team), and neither is read."""
    if not directory.is_dir():
        if directory.is_symlink():
            issues.append(SpecIssue(directory, 1, what, "cannot read: a broken link or a loop"))
        elif directory.exists():
            issues.append(SpecIssue(directory, 1, what, "not a directory"))
        return []
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    stems = Counter(file.stem for file in files)
    for stem in sorted(s for s, n in stems.items() if n > 1):
        both = [file for file in files if file.stem == stem]
        names = " and ".join(file.name for file in both)
        issues.append(
            SpecIssue(both[-1], 1, f"{what}.{stem}", f"two files for {what[:-1]} {stem!r}: {names}")
        )
    return [file for file in files if stems[file.stem] == 1]


def _load(file: Path, prefix: str, issues: list[SpecIssue]) -> Document | None:
    try:
        return load_document(file)
    except YamlSyntaxError as exc:
        issues.append(SpecIssue(exc.file, exc.line, prefix, exc.message))
        return None


def _defaults_document(platform_doc: Document | None) -> Document | None:
    if platform_doc is None:
        return None
    data = platform_doc.data.get("environment_defaults")
    if not isinstance(data, dict) or not data:
        return None
    key = ("environment_defaults",)
    origins = {path[1:]: origin for path, origin in platform_doc.origins.items() if path[:1] == key}
    return Document(data, origins, platform_doc.file)


def _validate(model: type[M], doc: Document, prefix: str, issues: list[SpecIssue]) -> M | None:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path: KeyPath = tuple(error["loc"])
            origin = doc.origin(path)
            issues.append(_issue(model, origin, prefix, path, error))
        return None


def _issue(
    model: type[BaseModel], origin: Origin, prefix: str, path: KeyPath, error: Any
) -> SpecIssue:
    dotted = ".".join([prefix, *(str(part) for part in path)])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {str(path[-1])!r}{_suggestion(model, path)}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    elif kind in ("int_from_float", "int_parsing"):
        message = "must be a whole number"
    else:
        message = str(error["msg"])
        if "input" in error and not isinstance(error["input"], dict | list):
            message = f"{message} (got {error['input']!r})"
    return SpecIssue(origin.file, origin.line, dotted, message)


def _model_at(model: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The spec model that holds the keys at `path` (list indexes are skipped)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = _submodel(field.annotation) if field is not None else None
    return current


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _suggestion(model: type[BaseModel], path: KeyPath) -> str:
    parent = _model_at(model, path[:-1])
    if parent is None:
        return ""
    allowed = sorted(parent.model_fields)
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(allowed)})"
