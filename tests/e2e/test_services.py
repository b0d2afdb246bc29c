"""The services `mlplat up` runs are its own, and it behaves when they or its user stop it.

On a tiny spec (dev and one team, instant sandbox), as a user runs the commands:
- another "Prefect server" holds the preferred port (`$MLPLAT_PREFECT_PORT`): mlplat starts
  its own on another port and sends the other nothing;
- two `mlplat up` started at once on a fresh state directory leave one sandbox and one Prefect
  server; the one waiting for the environment's lock ends promptly on SIGTERM;
- every file either wrote under the state directory is its owner's only, and so is a
  kubeconfig written over an existing 0644 file;
- a converged re-run writes nothing to Google, Kubernetes or GitHub (the sandbox counts each);
- `mlplat stop` stops both services;
- a running `up` whose Prefect server is killed exits within 2 minutes saying what to do."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.provision import by_side
from mlplat_cli import services
from tests.e2e.prefect_stack import clean_env

MLPLAT = [sys.executable, "-m", "mlplat_cli.main"]
ROOT = Path(__file__).resolve().parents[2]
STARTUP = 600.0  # two Prefect servers and a sandbox start on a shared 2-core machine


@dataclass
class Foreign:
    """Another server on the preferred port, answering as a Prefect server does (any 200 on
    /api/health, its own settings); it keeps every path it was asked."""

    port: int
    asked: list[str] = field(default_factory=list)


def _foreign_handler(foreign: Foreign) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            foreign.asked.append(f"{self.command} {self.path}")
            body = b"true"
            if self.path.startswith("/api/admin/settings"):
                body = json.dumps({"home": "/somebody/elses/.prefect"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def foreign() -> Iterator[Foreign]:
    found = Foreign(port=0)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _foreign_handler(found))
    found.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


_MARK = "\n@@ mlplat command\n"
_EXIT = "\n@@ exit "
_DRIVER = f"""
import json, sys
from mlplat_cli.main import main
for argv in json.loads(sys.argv[1]):
    print({_MARK!r}, end="", flush=True)
    print({_MARK!r}, end="", file=sys.stderr, flush=True)
    code = main(argv)
    print({_EXIT!r} + str(code), flush=True)
"""


@dataclass(frozen=True)
class Said:
    """What one command answered: exit code, stdout, the end of stderr."""

    code: int
    out: str
    err: str


@dataclass
class Place:
    """The user's machine: a spec, a state directory and the environment of every command."""

    spec: Path
    state: Path
    env: dict[str, str]
    logs: Path

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        out = (self.logs / f"{name}.out").open("w")
        err = (self.logs / f"{name}.err").open("w")
        return subprocess.Popen(
            [*MLPLAT, *args],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=True,
        )

    def err(self, name: str) -> str:
        return (self.logs / f"{name}.err").read_text(errors="replace")

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MLPLAT, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def commands(self, *commands: tuple[str, ...]) -> list[Said]:
        """Several `mlplat` commands, one after the other in one process (`main(argv)`, the
        `mlplat` entry point, as if typed): Python and the clients load once."""
        done = subprocess.run(
            [sys.executable, "-c", _DRIVER, json.dumps(commands)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        outs = done.stdout.split(_MARK)[1:]
        errs = done.stderr.split(_MARK)[1:]
        assert len(outs) == len(commands), done.stderr[-3000:]
        said = []
        for out, err in zip(outs, errs, strict=True):
            code = int(out.rsplit(_EXIT, 1)[1])
            said.append(Said(code, out.rsplit(_EXIT, 1)[0], err[-3000:]))
        return said

    @property
    def api(self) -> str:
        return (self.state / "prefect.url").read_text().strip()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        admin = json.loads((self.state / "endpoints.json").read_text())["admin"]
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(admin + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def tiny_spec(directory: Path) -> Path:
    """The reference spec with dev only and one team (vision) in it."""
    spec = directory / "infra_specs"
    shutil.copytree(ROOT / "infra_specs", spec, ignore=shutil.ignore_patterns("schema"))
    for name in ("staging", "prod"):
        (spec / "environments" / f"{name}.yaml").unlink()
    (spec / "teams" / "nlp.yaml").unlink()
    vision = spec / "teams" / "vision.yaml"
    team = yaml.safe_load(vision.read_text())
    team["environments"] = ["dev"]
    vision.write_text(yaml.safe_dump(team, sort_keys=False))
    return spec


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory, foreign: Foreign) -> Iterator[Place]:
    root = tmp_path_factory.mktemp("services")
    env = clean_env(root / "home")
    env.update(
        {
            "MLPLAT_SANDBOX_STATE_DIR": str(root / "state"),
            "MLPLAT_PREFECT_PORT": str(foreign.port),
        }
    )
    logs = root / "logs"
    logs.mkdir()
    made = Place(spec=tiny_spec(root), state=root / "state", env=env, logs=logs)
    try:
        yield made
    finally:
        made.run("stop", timeout=120)


def _post(api: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{api}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _environment_runs(api: str) -> list[dict[str, Any]]:
    return list(
        _post(
            api,
            "/flow_runs/filter",
            {"flows": {"name": {"any_": ["provision-environment"]}}, "limit": 50},
        )
    )


def _task_runs(api: str, flow_run: str) -> int:
    return int(_post(api, "/task_runs/count", {"flow_runs": {"id": {"any_": [flow_run]}}}))


def _command_pid(run: dict[str, Any]) -> int:
    """The PID of the mlplat command that ran a flow run (its tag names it)."""
    tag = next(t for t in run["tags"] if t.startswith("mlplat-command-"))
    return int(tag.removeprefix("mlplat-command-").split("-")[0])


def _waiter(place: Place, commands: dict[subprocess.Popen[str], str], deadline: float) -> int:
    """The PID of the command whose environment run waits for the lock the other holds:
    both runs are Running, the holder's has task runs, the waiter's none."""
    while time.monotonic() < deadline:
        for process, name in commands.items():
            assert process.poll() is None, f"{name} exited early:\n{place.err(name)[-3000:]}"
        try:
            runs = [r for r in _environment_runs(place.api) if r["state_type"] == "RUNNING"]
        except (OSError, ValueError):
            runs = []
        if len(runs) == 2:
            counts = {_command_pid(r): _task_runs(place.api, r["id"]) for r in runs}
            idle = [pid for pid, count in counts.items() if count == 0]
            if len(idle) == 1 and set(counts) == {process.pid for process in commands}:
                time.sleep(2)  # still idle two seconds later: it waits
                again = {_command_pid(r): _task_runs(place.api, r["id"]) for r in runs}
                if again[idle[0]] == 0:
                    return idle[0]
        time.sleep(0.5)
    raise AssertionError(
        "never saw one run hold dev's lock while the other waited:\n"
        + "\n".join(place.err(name)[-1500:] for name in commands.values())
    )


def _processes(state: Path) -> dict[str, list[int]]:
    """The running sandboxes and Prefect servers of this state directory, from /proc."""
    found: dict[str, list[int]] = {"sandbox": [], "prefect": []}
    home = f"PREFECT_HOME={services.prefect_home(state)}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if status == "Z":
            continue
        if b"serve" in words and str(state).encode() in words and b"sandbox" in words:
            found["sandbox"].append(int(entry.name))
        elif b"server" in words and b"start" in words and home in environ:
            found["prefect"].append(int(entry.name))
    return found


def _minus(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    methods = {}
    for name, counts in after["methods"].items():
        old = before["methods"].get(name, {})
        methods[name] = {key: counts[key] - old.get(key, 0) for key in ("reads", "writes")}
    return {"methods": methods}


def _exits_within(process: subprocess.Popen[str], seconds: float) -> float:
    started = time.monotonic()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"still running {seconds:.0f}s later") from None
    return time.monotonic() - started


@pytest.mark.timeout(1500)
def test_two_ups_at_once_share_one_set_of_own_services_and_a_waiting_one_stops_on_sigterm(
    place: Place, foreign: Foreign
) -> None:
    # Realistic latency (÷ 60): the holder's run lasts long enough to be seen holding the lock
    # while the other waits (in instant latency a fast machine finished it first).
    up = ("up", "--spec", str(place.spec), "--latency", "realistic", "--time-scale", "60")
    commands = {place.start(name, *up): name for name in ("first", "second")}
    by_pid = {process.pid: name for process, name in commands.items()}
    waiter = _waiter(place, commands, time.monotonic() + STARTUP)
    waiting = next(p for p in commands if p.pid == waiter)
    os.kill(waiter, signal.SIGTERM)
    took = _exits_within(waiting, 15)
    assert waiting.returncode == 128 + signal.SIGTERM, place.err(by_pid[waiter])[-2000:]
    assert "stopped by SIGTERM" in place.err(by_pid[waiter])
    states = {r["state_type"] for r in _environment_runs(place.api) if _command_pid(r) == waiter}
    assert states == {"CRASHED"}, states  # not left Running in the UI
    print(f"SIGTERM to the waiting up: exited in {took:.1f}s")

    holder = next(p for p in commands if p.pid != waiter)
    holder.wait(timeout=600)
    assert holder.returncode == 0, place.err(commands[holder])[-3000:]

    running = _processes(place.state)
    assert len(running["sandbox"]) == 1 and len(running["prefect"]) == 1, running
    both = place.err("first") + place.err("second")
    assert both.count("  started; endpoints in") == 1, both[-3000:]
    assert both.count("(started)") == 1 and both.count("(running)") == 1, both[-3000:]
    assert f":{foreign.port}/" not in place.api  # its own, on another port
    assert foreign.asked == [], "mlplat sent requests to a server it did not start"


@pytest.mark.timeout(300)
def test_what_holds_tokens_is_the_owners_only(place: Place) -> None:
    """After a real `up`: the state directory and everything in it (the sandbox's SQLite and
    its journals, endpoints.json, pid and log files, the Prefect server's database) has no
    group or other permission; a kubeconfig written over a 0644 file is 0600."""
    assert stat.S_IMODE(place.state.stat().st_mode) == 0o700
    for sqlite in ("state.sqlite3", "state.sqlite3-wal", "prefect/prefect.db"):
        assert (place.state / sqlite).exists(), sqlite
    opened = [
        f"{path.relative_to(place.state)} {stat.S_IMODE(path.lstat().st_mode):o}"
        for path in [place.state, *place.state.rglob("*")]
        if not path.is_symlink() and path.lstat().st_mode & 0o077
    ]
    assert opened == [], opened

    kubeconfig = place.logs / "kc.yaml"
    kubeconfig.write_text("old\n")
    kubeconfig.chmod(0o644)
    made = place.run("kubeconfig", "dev", "-o", str(kubeconfig), "--spec", str(place.spec))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert "token" in kubeconfig.read_text()


@pytest.mark.timeout(600)
def test_a_converged_up_writes_nothing_on_any_side(place: Place) -> None:
    before = place.admin("GET", "/counters")
    again = place.run(
        "up", "--spec", str(place.spec), "--env", "dev", "--target", "sandbox", "--approve"
    )
    assert again.returncode == 0, again.stderr[-3000:]
    methods = _minus(place.admin("GET", "/counters"), before)["methods"]
    writes = by_side(methods, "writes")
    assert writes == {"google": 0, "kubernetes": 0, "github": 0}, {
        name: counts for name, counts in methods.items() if counts["writes"]
    }
    # each side was asked (the GitHub organization included): the counters see all three
    assert all(reads > 0 for reads in by_side(methods, "reads").values()), methods


@pytest.mark.timeout(900)
def test_the_readmes_commands_on_a_converged_platform_change_nothing(place: Place) -> None:
    """The options the README shows, on the converged platform: plans, dry runs, drift (as
    JSON, and remediation with nothing to remediate), and a teardown's plan; none writes."""
    spec = ("--spec", str(place.spec))
    before = place.admin("GET", "/counters")
    plan, dry, drift, remediate, onboard, ray, down, promote = place.commands(
        ("plan", "--env", "dev", *spec),
        ("up", "--dry-run", "--env", "dev", *spec),
        ("drift", "--env", "dev", "--json", *spec),
        ("drift", "--env", "dev", "--remediate", *spec),
        ("team", "onboard", "dev", "vision", "--dry-run", *spec),
        ("team", "ray", "dev", "vision", "--dry-run", *spec),
        ("down", "dev", "--delete-project", *spec),
        # promote needs a second environment, which this spec does not have
        ("promote", "dev", "staging", "--team", "vision", "--dry-run", *spec),
    )
    assert plan.code == 0, plan.err
    assert plan.out.startswith("\nPlan:") and re.search(r"^  dev: \d+ noop$", plan.out, re.M)
    assert dry.code == 0 and "\nPlan:" in dry.out, dry.err
    assert drift.code == 0, drift.err
    assert isinstance(json.loads(drift.out), (dict, list))
    assert remediate.code == 0, remediate.err
    assert onboard.code == 0, onboard.err
    assert "team vision on dev: namespace vision" in onboard.out
    assert ray.code == 0 and "Ray of vision on dev" in ray.out, ray.err
    assert down.code == 0, down.err
    assert "Would delete (run again with --yes):" in down.out
    assert "project mlp-dev-a1b2" in down.out, down.out
    assert promote.code != 0 and "staging" in promote.err, promote.err  # refused, naming it

    methods = _minus(place.admin("GET", "/counters"), before)["methods"]
    assert by_side(methods, "writes") == {"google": 0, "kubernetes": 0, "github": 0}, {
        name: counts for name, counts in methods.items() if counts["writes"]
    }


@pytest.mark.timeout(300)
def test_stop_stops_both_services(place: Place) -> None:
    running = _processes(place.state)
    assert len(running["sandbox"]) == 1 and len(running["prefect"]) == 1, running
    stopped = place.run("stop", timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert "sandbox (pid" in stopped.stdout and "prefect (pid" in stopped.stdout
    assert _processes(place.state) == {"sandbox": [], "prefect": []}


@pytest.mark.timeout(900)
def test_an_up_whose_prefect_server_is_killed_exits_saying_what_to_do(place: Place) -> None:
    running = place.start("orphaned", "up", "--spec", str(place.spec))
    deadline = time.monotonic() + STARTUP
    while services.sandbox_endpoints(place.state) is None:
        assert running.poll() is None, place.err("orphaned")[-3000:]
        assert time.monotonic() < deadline, "the sandbox never came up"
        time.sleep(0.5)
    # Every Resource Manager call answers 503 after 3 s: the run goes on retrying its first
    # step (the organization on GitHub, read before the flow, is not touched).
    place.admin(
        "PUT",
        "/faults",
        {"rules": [{"method": "cloudresourcemanager.*", "rate": 1.0, "code": 503, "delay": 3}]},
    )
    while not any(
        r["state_type"] == "RUNNING" and _command_pid(r) == running.pid for r in _safe_runs(place)
    ):
        assert running.poll() is None, place.err("orphaned")[-3000:]
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.5)
    server = services.recorded_process(place.state / "prefect.pid")
    assert server is not None
    os.killpg(server, signal.SIGKILL)
    took = _exits_within(running, 120)
    said = place.err("orphaned")
    assert running.returncode == 1, said[-3000:]
    assert "the Prefect server mlplat started" in said and "has exited" in said, said[-3000:]
    assert "Run the command again" in said
    print(f"up exited {took:.1f}s after its Prefect server was killed")


def _safe_runs(place: Place) -> list[dict[str, Any]]:
    try:
        return _environment_runs(place.api)
    except (OSError, ValueError):
        return []
