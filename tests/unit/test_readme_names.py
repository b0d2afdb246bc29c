"""What the README names is exercised by a test: every environment variable it mentions, and
every option of every `mlplat` command it shows (the usage block, its code blocks and its
inline code). An inventory: a name that no test under tests/ uses fails here, so a README
that grows a promise grows a test with it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TESTS = ROOT / "tests"
THIS = Path(__file__).resolve()

# Upper-case names in the README that are not environment variables mlplat reads.
NOT_OURS = {
    "OS_2022": "a GKE node pool osVersion value (conformance section)",
    "MANAGEMENT_AUTOMATIC": "a GKE Hub enum value (conformance section)",
    "OUT_DIR": "a placeholder for an argument",
    "GIT_DIR": "a placeholder for an argument",
    "UV_PYTHON_DOWNLOADS": "set by the Makefile for uv (the build), not read by mlplat",
}
SUBCOMMANDS = {"team", "sandbox"}  # their next word is the command


@cache
def _test_sources() -> str:
    return "\n".join(
        path.read_text(errors="replace")
        for path in sorted(TESTS.rglob("*.py"))
        if path.resolve() != THIS
    )


def readme_variables() -> set[str]:
    names = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", README.read_text()))
    return names - set(NOT_OURS)


def readme_commands() -> list[str]:
    """Every `mlplat …` command line the README shows."""
    text = README.read_text()
    # a usage line: the command, then (after two spaces or more) what it does
    lines = [
        re.split(r"\s{2,}", line.strip())[0]
        for line in text.splitlines()
        if line.strip().startswith("mlplat ")
    ]
    lines += re.findall(r"`(mlplat [^`]+)`", text)
    return lines


def command_options() -> set[tuple[str, str]]:
    """(command, option) pairs: `up --env`, `kubeconfig -o`, `sandbox serve --state-dir`…"""
    pairs = set()
    for line in readme_commands():
        words = line.split()[1:]
        if not words:
            continue
        name = words[0]
        if name in SUBCOMMANDS and len(words) > 1:
            for sub in words[1].split("|"):
                name = f"{words[0]} {sub}"
                pairs |= {(name, o) for o in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line)}
            continue
        pairs |= {(name, o) for o in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line)}
    return {(name, option) for name, option in pairs if option not in ("-", "--")}


def test_the_readme_names_what_this_test_reads() -> None:
    """The parsing finds what the README is known to hold (so that it cannot pass on
    nothing)."""
    assert {"MLPLAT_SANDBOX_ENDPOINTS", "MLPLAT_SANDBOX_STATE_DIR", "MLPLAT_HOME"} <= (
        readme_variables()
    )
    pairs = command_options()
    assert {("up", "--approve"), ("kubeconfig", "-o"), ("drift", "--remediate")} <= pairs
    assert ("sandbox serve", "--state-dir") in pairs


def test_every_environment_variable_the_readme_names_is_used_by_a_test() -> None:
    sources = _test_sources()
    unused = sorted(name for name in readme_variables() if name not in sources)
    assert unused == [], f"named in README.md, used by no test: {unused}"


def test_every_option_of_a_command_the_readme_shows_is_used_by_a_test() -> None:
    """A test passes the option to that command: some test file names both as string
    literals (argv as tests build it)."""
    files = [
        path.read_text(errors="replace")
        for path in sorted(TESTS.rglob("*.py"))
        if path.resolve() != THIS
    ]
    missing = []
    for command, option in sorted(command_options()):
        word = command.split()[-1]
        if not any(f'"{option}"' in text and f'"{word}"' in text for text in files):
            missing.append(f"mlplat {command} {option}")
    assert missing == [], f"shown in README.md, exercised by no test: {missing}"
