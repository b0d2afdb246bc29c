"""Who mlplat calls Google as, with a user's Application Default Credentials: asked once per
target at the tokeninfo endpoint, the access token in a POST body, never in a URL. A local
server stands in for Google's token and tokeninfo endpoints (the sandbox names its caller in
its endpoints file instead)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import google.auth
import pytest
from google.oauth2 import credentials

from mlplat.gcp import iam
from mlplat.target import Target

ACCESS_TOKEN = "ya29.not-a-real-token"


@dataclass
class _Google:
    """What the stand-in was asked: (method, path with query, form body) per tokeninfo call."""

    tokeninfo: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    busy: int = 0  # answer this many tokeninfo calls 503 first


def _server(stand_in: _Google) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if self.path == "/token":
                self._answer(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600})
                return
            stand_in.tokeninfo.append(("POST", self.path, form))
            if stand_in.busy:
                stand_in.busy -= 1
                self._answer(503, {"error": "backend unavailable"})
            elif form.get("access_token") == [ACCESS_TOKEN]:
                self._answer(200, {"email": "alice@example.com", "expires_in": 3599})
            else:
                self._answer(400, {"error": "invalid_token"})

        def do_GET(self) -> None:
            stand_in.tokeninfo.append(("GET", self.path, {}))
            self._answer(405, {"error": "GET is not used"})

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Google]:
    asked = _Google()
    server = _server(asked)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # A user's credentials, as `gcloud auth application-default login` leaves them, refreshed
    # at the stand-in (an ADC file cannot name another token endpoint).
    user = credentials.Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token="not-a-refresh-token",
        token_uri=f"{url}/token",
        client_id="mlplat-test",
        client_secret="not-a-secret",
    )
    monkeypatch.setattr(google.auth, "default", lambda *args, **kwargs: (user, None))
    monkeypatch.setattr(iam, "TOKENINFO", f"{url}/tokeninfo")
    try:
        yield asked
    finally:
        server.shutdown()


def test_the_user_is_asked_once_per_target_with_the_token_in_the_body(stand_in: _Google) -> None:
    target = Target(name="gcp-caller-once")
    assert [iam.caller(target) for _ in range(5)] == ["user:alice@example.com"] * 5
    assert len(stand_in.tokeninfo) == 1, "one tokeninfo call for the target, not one per check"
    method, path, form = stand_in.tokeninfo[0]
    assert (method, path) == ("POST", "/tokeninfo"), "no token in the URL"
    assert form == {"access_token": [ACCESS_TOKEN]}

    assert iam.caller(Target(name="gcp-caller-other")) == "user:alice@example.com"
    assert len(stand_in.tokeninfo) == 2, "another target is asked on its own"


def test_an_unanswered_tokeninfo_is_asked_again(stand_in: _Google) -> None:
    stand_in.busy = 1
    target = Target(name="gcp-caller-busy")
    assert iam.caller(target) == "", "unknown while Google does not answer"
    assert iam.caller(target) == "user:alice@example.com"
    assert iam.caller(target) == "user:alice@example.com"
    assert len(stand_in.tokeninfo) == 2
