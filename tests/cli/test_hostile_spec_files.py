"""Files an operator (or an attacker with write access to the spec) can put in infra_specs/:
each is refused by `mlplat validate` with `file:line key: message` and exit 2, no traceback,
within a bounded time and memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplat.errors import SpecError
from mlplat.specs import load_spec
from mlplat.specs.yamlsource import MAX_FILE_BYTES
from mlplat_cli.main import main
from tests.unit.spec_files import copy_reference

ROOT = Path(__file__).resolve().parents[2]


def _billion_laughs(path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path.write_text("\n".join(lines) + "\n")  # ~400 bytes, 9**10 values once expanded


def _recursive_alias(path: Path) -> None:
    path.write_text("name: loop\nquota: &q\n  inner: *q\n")


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path.name)


def _oversized(path: Path) -> None:
    path.write_text("name: big\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))


def _yml_beside_yaml(path: Path) -> None:
    path.write_text((path.parent / "vision.yaml").read_text())


def _binary(path: Path) -> None:
    path.write_bytes(b"name: \xff\xfe\x00bad\n")


def _bad_tag(path: Path) -> None:
    path.write_text("name: !!python/object:os.system ls\n")


CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "alias-bomb": ("bomb.yaml", _billion_laughs, "more than 100000 values"),
    "recursive-alias": ("loop.yaml", _recursive_alias, "nested deeper than 64 levels"),
    "symlink-loop": ("cycle.yaml", _symlink_loop, "cannot read: Too many levels of symbolic links"),
    "oversized": ("big.yaml", _oversized, f"file is larger than {MAX_FILE_BYTES} bytes"),
    "two-files-one-team": (
        "vision.yml",
        _yml_beside_yaml,
        "teams.vision: two files for team 'vision': vision.yaml and vision.yml",
    ),
    "not-utf8": ("binary.yaml", _binary, "not UTF-8 text"),
    "python-tag": ("tag.yaml", _bad_tag, "invalid YAML"),
    "fifo": ("pipe.yaml", os.mkfifo, "cannot read: not a regular file"),  # read would block
    "device": ("zero.yaml", lambda path: path.symlink_to("/dev/zero"), "not a regular file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_team_file_is_refused_with_its_file_and_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, make, message = CASES[case]
    root = copy_reference(tmp_path)
    make(root / "teams" / name)
    assert main(["validate", str(root)]) == 2  # raising would fail the test with its traceback
    err = capsys.readouterr().err
    line = next(text for text in err.splitlines() if f"teams/{name}:" in text)
    assert re.search(rf"teams/{re.escape(name)}:\d+ teams\.", line), line
    assert message in line, line


def test_alias_bomb_stays_within_bounded_memory(tmp_path: Path) -> None:
    """`mlplat validate` as a user runs it, on a 400-byte alias bomb: exit 2, and the
    child's peak resident memory (ru_maxrss) stays far from the 4 GB the bomb grew to before:
    the loader stops expanding at MAX_VALUES."""
    root = copy_reference(tmp_path)
    _billion_laughs(root / "teams" / "bomb.yaml")
    # A child's ru_maxrss starts from the memory of the process it was forked from, so a
    # small Python forks the command and reports its peak, rather than pytest itself.
    probe = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    code, peak_kb = (int(word) for word in probe.stdout.split())
    assert code == 2, probe.stderr
    assert "Traceback" not in probe.stderr, probe.stderr
    assert peak_kb < 200 * 1024, f"{peak_kb} KB"  # Linux counts ru_maxrss in KB


_PEAK = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-m", "mlplat_cli.main", "validate", sys.argv[2]])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


_nested = st.recursive(
    st.sampled_from(["x", "1", "*a", "*b", "&a x", "&b [*a, *a]", "{k: *a}", "[]", "{}", "!!str"]),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["k", "j", "<<", "name"]), inner, max_size=3).map(
            lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(_nested, min_size=1, max_size=4))
def test_fuzzed_yaml_with_anchors_is_a_spec_or_a_spec_error(
    body: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = copy_reference(tmp_path_factory.mktemp("fuzz"))
    text = "\n".join(f"f{i}: &r{i} {value}" for i, value in enumerate(body))
    (root / "teams" / "fuzz.yaml").write_text(text + "\n")
    try:
        load_spec(root)
    except SpecError as exc:
        assert all(issue.line >= 1 and issue.message for issue in exc.issues)


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ("network:\n  master_cidr: 10.0.0.0/8\n", "network.master_cidr", "must be a /28 block"),
        (
            "cluster:\n  autoprovisioning:\n    cpu: {min: 900}\n",
            "cluster.autoprovisioning.cpu",
            "min (900) must not exceed max (600)",
        ),
    ],
)
def test_wrong_value_in_an_environment_file_is_reported_where_it_is_written(
    tmp_path: Path, override: str, key: str, message: str
) -> None:
    """A value that an environment file overrides is reported at that file's line, not at the
    platform.yaml default it replaces (the defaults are merged under every environment)."""
    root = copy_reference(tmp_path)
    staging = root / "environments" / "staging.yaml"
    staging.write_text("name: staging\n" + override)
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    found = [i for i in caught.value.issues if i.path == f"environments.staging.{key}"]
    assert found, caught.value
    assert (found[0].file, found[0].line) == (staging, len(override.splitlines()) + 1)
    assert message in found[0].message


def test_teams_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    root = copy_reference(tmp_path)
    for team in (root / "teams").iterdir():
        team.unlink()
    (root / "teams").rmdir()
    (root / "teams").write_text("vision\n")
    with pytest.raises(SpecError, match="teams:1 teams: not a directory"):
        load_spec(root)


def test_number_key_is_reported_at_its_line(tmp_path: Path) -> None:
    root = copy_reference(tmp_path)
    (root / "teams" / "vision.yaml").write_text("name: vision\nenvironments: [dev]\n1: 2\n")
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    assert [(i.path, i.line) for i in caught.value.issues] == [("teams.vision.1", 3)]
