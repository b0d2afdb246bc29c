"""What the documents name exists and is exercised by a test: every environment variable they
mention, and every option of every `mlplat` command they show (usage blocks, code blocks and
inline code), in the README and the documents it links. An option must be one the command's
parser accepts, and some test must pass it to that command; a variable must be used by a
test. So a document that grows a promise grows a test with it."""

from __future__ import annotations

import argparse
import re
from functools import cache
from pathlib import Path

from mlplat_cli.main import build_parser
from sandbox import __main__ as sandbox_main

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "docs" / "operating.md",
    ROOT / "infra_specs" / "README.md",
    ROOT / "sandbox" / "README.md",
    ROOT / "bench" / "README.md",
    ROOT / "tests" / "README.md",
]
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
def _documents() -> str:
    return "\n".join(path.read_text() for path in DOCUMENTS)


@cache
def _test_sources() -> str:
    return "\n".join(
        path.read_text(errors="replace")
        for path in sorted(TESTS.rglob("*.py"))
        if path.resolve() != THIS
    )


def readme_variables() -> set[str]:
    names = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", _documents()))
    return names - set(NOT_OURS)


def readme_commands() -> list[str]:
    """Every `mlplat …` command line the documents show."""
    text = _documents()
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
    assert unused == [], f"named in the documents, used by no test: {unused}"


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
    assert missing == [], f"shown in the documents, exercised by no test: {missing}"


def _accepted(command: str) -> set[str]:
    """The option strings `mlplat COMMAND` accepts, read from its parser."""
    words = command.split()
    if words[0] == "sandbox":
        root = sandbox_main.parser()
        words = words[1:]
    else:
        root = build_parser()
    parser = root
    for word in words:
        (choices,) = (
            action.choices
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        )
        parser = choices[word]
    return {option for action in parser._actions for option in action.option_strings}


def test_every_option_the_documents_show_is_one_the_command_accepts() -> None:
    wrong = sorted(
        f"mlplat {command} {option}"
        for command, option in command_options()
        if option not in _accepted(command)
    )
    assert wrong == [], f"shown in the documents, refused by the command's parser: {wrong}"
