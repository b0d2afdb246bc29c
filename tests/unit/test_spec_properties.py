"""Random mutations of the reference spec give a valid model or a SpecError, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplat.errors import SpecError
from mlplat.specs import PlatformSpec, load_spec
from tests.unit.spec_files import REFERENCE, paths

FILES = sorted(p.relative_to(REFERENCE) for p in REFERENCE.rglob("*.yaml"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1.5", "10.0.0.0/8", "nvidia-l4", "dev", "Gi", "1e400"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _mutate(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last]["x_" + str(value)[:8]] = value
    else:
        parent[last] = value
    return data


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[Path, str]]:
    edits = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        file = draw(st.sampled_from(FILES))
        data = yaml.safe_load((REFERENCE / file).read_text())
        path = draw(st.sampled_from(paths(data)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        mutated = _mutate(data, path, action, draw(values))
        text = draw(st.sampled_from(["dump", "raw"]))
        body = yaml.safe_dump(mutated) if text == "dump" else draw(st.text(max_size=60))
        edits.append((file, body))
    return edits


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=mutations())
def test_mutated_spec_is_valid_or_spec_error(
    edits: list[tuple[Path, str]], tmp_path_factory: Any
) -> None:
    root = tmp_path_factory.mktemp("spec")
    for file in FILES:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text((REFERENCE / file).read_text())
    for file, body in edits:
        (root / file).write_text(body)
    try:
        spec = load_spec(root)
    except SpecError as exc:
        assert exc.issues, "a SpecError must name at least one issue"
        for issue in exc.issues:
            assert issue.line >= 1 and issue.path and issue.message
    else:
        assert isinstance(spec, PlatformSpec)
