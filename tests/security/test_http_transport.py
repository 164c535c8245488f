"""``multichat run --transport http``: refusal off loopback, bearer tokens, JWTs, DNS rebinding.

Every server is the installed console script in a subprocess on 127.0.0.1, driven with real
HTTP requests and a real MCP client. No traffic ever goes to a non-loopback address: binding
one is only checked to be refused.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastmcp import Client
from helpers import MULTICHAT, clean_env, free_port, run_cli, stop_process
from mcp.shared.exceptions import MCPError

DEADLINE = 30.0
TOKEN = "mc-http-" + secrets.token_urlsafe(24)
WRONG_TOKEN = "mc-wrong-" + secrets.token_urlsafe(24)
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "security-test", "version": "0"},
    },
}


# ---- a server in a subprocess ----------------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_listening(served: Served) -> None:
    """Until the port accepts a TCP connection; fails if the server exits first."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"server exited with {served.process.returncode}:\n{served.output()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", served.port), 1):
            return
        time.sleep(0.1)
    pytest.fail(f"server did not listen within {DEADLINE}s:\n{served.output()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start ``multichat run --transport http`` on a free loopback port; stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        workspace: Path,
        *args: str,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> Served:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        argv = command or [MULTICHAT, "run", "--transport", "http"]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(port), *args],
                cwd=workspace,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env if env is not None else clean_env(),
            )
        started.append(process)
        served = Served(process, port, log)
        wait_listening(served)
        return served

    try:
        yield start
    finally:
        for process in started:
            stop_process(process)


@pytest.fixture
def ws(workspace: Path, add_provider: Callable[..., Path]) -> Path:
    add_provider("alpha")
    return workspace


def post(served: Served, token: str | None = None, **headers: str) -> httpx2.Response:
    """One raw MCP ``initialize`` POST to the server, with extra headers."""
    sent = dict(MCP_HEADERS, **headers)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return httpx2.post(served.url, json=INITIALIZE, headers=sent, timeout=10)


async def listed_tools(served: Served, auth: str | None) -> list[str]:
    async with Client(served.url, auth=auth, timeout=DEADLINE) as client:
        return sorted(tool.name for tool in await client.list_tools())


def assert_refused(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def nothing_listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# ---- refusing to serve a non-loopback address unprotected -------------------------------------


def test_non_loopback_without_protection_is_refused(ws: Path) -> None:
    port = free_port()
    result = run_cli("run", "--transport", "http", "--host", "0.0.0.0", "--port", str(port), cwd=ws)
    line = assert_refused(result)
    assert "0.0.0.0" in line
    assert "--auth-token" in line
    assert "MULTICHAT_HTTP_TOKEN" in line
    assert "--allow-unauthenticated" in line
    assert nothing_listens(port)


def test_unusable_token_is_refused_without_showing_it(ws: Path) -> None:
    port = free_port()
    short = "abc123"
    result = run_cli(
        "run", "--transport", "http", "--host", "0.0.0.0", "--port", str(port), cwd=ws,
        env={"MULTICHAT_HTTP_TOKEN": short},
    )  # fmt: skip
    line = assert_refused(result)
    assert "MULTICHAT_HTTP_TOKEN" in line
    assert short not in result.stderr + result.stdout
    assert nothing_listens(port)


def test_guide_server_refuses_non_loopback_too(ws: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "src.server", "--transport", "http", "--host", "0.0.0.0",
         "--port", str(port)],
        cwd=ws, capture_output=True, text=True, timeout=DEADLINE, env=clean_env(),
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    line = assert_refused(result)
    assert "refusing to serve HTTP on 0.0.0.0" in line
    assert nothing_listens(port)


def test_auth_options_need_the_http_transport(ws: Path) -> None:
    result = run_cli("run", "--auth-token", TOKEN, cwd=ws)
    assert "--transport http" in assert_refused(result)
    assert TOKEN not in result.stderr


# ---- static bearer token ---------------------------------------------------------------------


def check_bearer_protection(served: Served) -> None:
    missing = post(served)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")

    wrong = post(served, WRONG_TOKEN)
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]

    assert post(served, Authorization=f"Basic {TOKEN}").status_code == 401
    assert post(served, TOKEN).status_code == 200


async def test_auth_token_protects_loopback(ws: Path, serve: Callable[..., Served]) -> None:
    served = serve(ws, "--auth-token", TOKEN, "--log-level", "DEBUG")
    check_bearer_protection(served)
    assert await listed_tools(served, TOKEN) == ["alpha_provider_info", "alpha_whoami"]
    stop_process(served.process)
    output = served.output()
    assert "bearer token" in output  # the DEBUG log says how clients authenticate...
    assert TOKEN not in output  # ...never with what
    assert WRONG_TOKEN not in output
    assert hashlib.sha256(TOKEN.encode()).hexdigest() not in output


async def test_token_from_the_environment(ws: Path, serve: Callable[..., Served]) -> None:
    served = serve(ws, "--log-level", "DEBUG", env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN))
    check_bearer_protection(served)
    assert await listed_tools(served, TOKEN) == ["alpha_provider_info", "alpha_whoami"]
    with pytest.raises(MCPError):  # the client's view of the 401
        await listed_tools(served, WRONG_TOKEN)
    stop_process(served.process)
    assert TOKEN not in served.output()
    assert WRONG_TOKEN not in served.output()


async def test_allow_unauthenticated_warns_and_serves(
    ws: Path, serve: Callable[..., Served]
) -> None:
    served = serve(ws, "--allow-unauthenticated")
    assert await listed_tools(served, None) == ["alpha_provider_info", "alpha_whoami"]
    stop_process(served.process)
    warnings = [line for line in served.output().splitlines() if "WITHOUT AUTHENTICATION" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("multichat: WARNING:")


# ---- DNS rebinding: Host and Origin on loopback ---------------------------------------------


def workspace_token(ws: Path) -> str:
    """The token ``run`` made for the workspace (``.multichat/http-token``)."""
    return (ws / ".multichat" / "http-token").read_text().strip()


# ---- loopback without options: the workspace's own token (issue 11, finding 4) ---------------


async def test_loopback_without_a_token_requires_the_workspace_token(
    ws: Path, serve: Callable[..., Served]
) -> None:
    served = serve(ws)
    path = ws / ".multichat" / "http-token"
    token = workspace_token(ws)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert post(served).status_code == 401  # what another local user gets: no token, no tools
    assert post(served, WRONG_TOKEN).status_code == 401
    assert post(served, token).status_code == 200
    assert await listed_tools(served, token) == ["alpha_provider_info", "alpha_whoami"]
    stop_process(served.process)
    first = served.output()
    assert first.count(token) == 1  # shown once, when made
    assert f"saved in {path}" in first

    again = serve(ws)
    assert workspace_token(ws) == token  # kept: configured clients keep working
    assert post(again, token).status_code == 200
    stop_process(again.process)
    assert token not in again.output()
    assert f"bearer token in {path}" in again.output()


def test_foreign_host_and_origin_are_refused_on_loopback(
    ws: Path, serve: Callable[..., Served]
) -> None:
    served = serve(ws)
    port = served.port
    token = workspace_token(ws)
    assert post(served, token).status_code == 200
    assert post(served, token, Host=f"localhost:{port}").status_code == 200
    assert post(served, token, Origin=f"http://127.0.0.1:{port}").status_code == 200
    assert post(served, token, Origin=f"http://localhost:{port}").status_code == 200

    for refused in (
        post(served, token, Host="evil.example"),
        post(served, token, Host=f"evil.example:{port}"),
        post(served, token, Origin="http://evil.example"),
        post(served, token, Origin=f"http://evil.example:{port}"),
        post(served, token, Origin=f"http://localhost:{port + 1}"),  # another local site
        post(served, token, Host=f"127.0.0.1:{port + 1}"),
    ):
        assert 400 <= refused.status_code < 500, (refused.request.headers, refused.text)

    # A rebinding page also cannot reach a protected server's 401 challenge.
    protected = serve(ws, "--auth-token", TOKEN)
    assert post(protected, TOKEN, Host="evil.example").status_code == 421
    assert post(protected, TOKEN).status_code == 200


def test_allowed_host_and_origin_widen_the_loopback_check(
    ws: Path, serve: Callable[..., Served]
) -> None:
    """A local reverse proxy forwarding its public name, and a browser client's site."""
    served = serve(
        ws,
        "--allowed-host", "mcp.example.com",
        "--allowed-host", "other.example:*",
        "--allowed-origin", "https://app.example.com/",
    )  # fmt: skip
    port = served.port
    token = workspace_token(ws)
    for accepted in (
        post(served, token),
        post(served, token, Host="mcp.example.com"),
        post(served, token, Host="other.example:8443"),
        post(served, token, Host="mcp.example.com", Origin="https://app.example.com"),
    ):
        assert accepted.status_code == 200, (accepted.request.headers, accepted.text)
    for refused in (
        post(served, token, Host="evil.example"),
        post(served, token, Host="mcp.example.com:8443"),  # named without a port: that one only
        post(served, token, Host="sub.mcp.example.com"),
        post(served, token, Origin="https://evil.example"),
        post(served, token, Origin="http://app.example.com"),  # another scheme: another site
        post(served, token, Origin=f"http://localhost:{port + 1}"),
    ):
        assert 400 <= refused.status_code < 500, (refused.request.headers, refused.text)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--allowed-host", "http://mcp.example.com"), "--allowed-host 'http://mcp.example.com'"),
        (("--allowed-host", "mcp.example.com/path"), "NAME, NAME:PORT or NAME:*"),
        (("--allowed-origin", "app.example.com"), "http(s)://NAME[:PORT]"),
        (("--allowed-origin", "https://app.example.com/x"), "--allowed-origin"),
        (
            ("--host", "0.0.0.0", "--auth-token", TOKEN, "--allowed-host", "mcp.example.com"),
            "apply to a loopback address",
        ),
    ],
)
def test_bad_allowed_host_or_origin_is_refused(
    ws: Path, args: tuple[str, ...], expected: str
) -> None:
    result = run_cli("run", "--transport", "http", "--port", str(free_port()), *args, cwd=ws)
    line = assert_refused(result)
    assert expected in line, line
    assert TOKEN not in result.stderr


def test_allowed_host_needs_the_http_transport(ws: Path) -> None:
    result = run_cli("run", "--allowed-host", "mcp.example.com", cwd=ws)
    assert "--allowed-host applies to --transport http only" in assert_refused(result)


# ---- JWT verifier from provider-config.yaml --------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Signer:
    """An RSA key that signs RS256 JWTs and publishes itself as a JWKS."""

    key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str) -> Signer:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)

    def jwk(self) -> dict[str, str]:
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big")),
        }

    def token(self, **claims: Any) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


@contextlib.contextmanager
def jwks_server(signer: Signer) -> Iterator[str]:
    """Serve ``/jwks`` on 127.0.0.1 from a thread; yields the JWKS URL."""
    body = json.dumps({"keys": [signer.jwk()]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/jwks" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/jwks"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


ISSUER = "https://issuer.test"
AUDIENCE = "multichat-test-server"


def add_server_block(workspace: Path, block: str) -> Path:
    config = workspace / "provider-config.yaml"
    config.write_text(config.read_text() + block)
    return config


async def test_jwt_verifier_from_the_workspace(ws: Path, serve: Callable[..., Served]) -> None:
    signer = Signer.generate("test-key")
    stranger = Signer.generate("test-key")  # same kid, another key: a forged signature
    with jwks_server(signer) as jwks_uri:
        add_server_block(
            ws,
            f"server:\n  auth:\n    jwt:\n      issuer: {ISSUER}\n"
            f"      audience: {AUDIENCE}\n      jwks_uri: {jwks_uri}\n",
        )
        served = serve(ws, "--log-level", "DEBUG")
        now = int(time.time())
        good = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ci", "iat": now, "exp": now + 300}
        valid = signer.token(**good)

        assert await listed_tools(served, valid) == ["alpha_provider_info", "alpha_whoami"]
        assert post(served, valid).status_code == 200
        assert post(served).status_code == 401
        for rejected in (
            signer.token(**{**good, "exp": now - 60}),
            signer.token(**{**good, "aud": "another-service"}),
            signer.token(**{**good, "iss": "https://elsewhere.test"}),
            stranger.token(**good),
            TOKEN,
        ):
            response = post(served, rejected)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
        stop_process(served.process)
        assert valid not in served.output()


async def test_jwt_and_static_token_together(ws: Path, serve: Callable[..., Served]) -> None:
    signer = Signer.generate("k1")
    with jwks_server(signer) as jwks_uri:
        add_server_block(
            ws,
            f"server:\n  auth:\n    jwt:\n      issuer: {ISSUER}\n"
            f"      audience: [{AUDIENCE}]\n      jwks_uri: {jwks_uri}\n",
        )
        served = serve(ws, env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN))
        now = int(time.time())
        valid = signer.token(iss=ISSUER, aud=AUDIENCE, sub="ci", iat=now, exp=now + 300)
        assert post(served, valid).status_code == 200
        assert post(served, TOKEN).status_code == 200
        assert post(served, WRONG_TOKEN).status_code == 401


@pytest.mark.parametrize(
    ("block", "line", "key"),
    [
        ("server:\n  auth:\n    jwt:\n      issuer: x\n      jwks_uri: https://x/jwks\n",
         "jwt", "server.auth.jwt.audience"),
        ("server:\n  auth:\n    jwt:\n      issuer: x\n      audience: a\n"
         "      jwks_uri: http://issuer.example/jwks\n", "jwks_uri", "server.auth.jwt.jwks_uri"),
        ("server:\n  auth:\n    bearer: yes\n", "bearer", "server.auth.bearer"),
        ("server: [1, 2]\n", "server", "server"),
    ],
)  # fmt: skip
def test_bad_server_block_names_file_and_line(ws: Path, block: str, line: str, key: str) -> None:
    config = add_server_block(ws, block)
    number = next(
        index
        for index, text in enumerate(config.read_text().splitlines(), 1)
        if text.lstrip().startswith(f"{line}:")
    )
    result = run_cli("run", "--transport", "http", "--port", str(free_port()), cwd=ws)
    message = assert_refused(result)  # a broken config is bad input: exit 2
    assert f"{config.resolve()}:{number}:" in message or f"{config}:{number}:" in message
    assert f"`{key}`" in message


# ---- the guide's entry point gets the same rules ---------------------------------------------


def test_guide_server_takes_the_same_token(ws: Path, serve: Callable[..., Served]) -> None:
    guide = [sys.executable, "-m", "src.server", "--transport", "http"]
    served = serve(ws, command=guide, env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN))
    check_bearer_protection(served)
    assert post(served, TOKEN, Host="evil.example").status_code == 421


def test_guide_server_takes_the_allowed_host(ws: Path, serve: Callable[..., Served]) -> None:
    guide = [sys.executable, "-m", "src.server", "--transport", "http"]
    served = serve(ws, "--allowed-host", "mcp.example.com", command=guide)
    token = workspace_token(ws)
    assert post(served, Host="mcp.example.com").status_code == 401
    assert post(served, token, Host="mcp.example.com").status_code == 200
    assert post(served, token, Host="evil.example").status_code == 421


# ---- the policy, in process ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.5"])
def test_loopback_is_protected_by_the_workspace_token(host: str, tmp_path: Path) -> None:
    from multichat.errors import UnprotectedHttp
    from multichat.runtime.http_security import http_protection

    decided = http_protection(host, environ={}, workspace=tmp_path)
    assert not (tmp_path / ".multichat" / "http-token").exists()  # saved once serving starts
    made = decided.with_token_kept()
    kept = http_protection(host, environ={}, workspace=tmp_path).with_token_kept()

    assert made.auth is not None
    assert made.loopback
    token = (tmp_path / ".multichat" / "http-token").read_text().strip()
    assert decided.workspace_token is not None
    assert decided.workspace_token.token == token
    assert token in (made.notice(8000) or "")
    assert token not in (kept.notice(8000) or "")
    assert kept.workspace_token is not None
    assert kept.workspace_token.token == token
    with pytest.raises(UnprotectedHttp, match="without protection"):
        http_protection(host, environ={})  # no workspace to keep a token in
    assert http_protection(host, allow_unauthenticated=True, environ={}).auth is None


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    from multichat.errors import InvalidHttpToken
    from multichat.runtime.http_security import http_protection

    http_protection("127.0.0.1", environ={}, workspace=tmp_path).with_token_kept()
    path = tmp_path / ".multichat" / "http-token"
    path.chmod(0o644)
    with pytest.raises(InvalidHttpToken, match="chmod 600") as caught:
        http_protection("127.0.0.1", environ={}, workspace=tmp_path)
    assert path.read_text().strip() not in str(caught.value)


def test_servers_starting_together_agree_on_one_token(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from multichat.runtime.http_token import workspace_http_token

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: workspace_http_token(tmp_path), range(16)))
    assert len({item.token for item in made}) == 1
    assert sum(item.created for item in made) == 1
    assert list((tmp_path / ".multichat").iterdir()) == [tmp_path / ".multichat" / "http-token"]


async def test_a_server_second_to_save_its_token_requires_the_first_ones(tmp_path: Path) -> None:
    from multichat.runtime.http_security import http_protection

    first = http_protection("127.0.0.1", environ={}, workspace=tmp_path)
    second = http_protection("127.0.0.1", environ={}, workspace=tmp_path)
    assert first.workspace_token is not None
    assert second.workspace_token is not None
    assert first.workspace_token.token != second.workspace_token.token  # neither saved yet

    saved = first.with_token_kept()
    late = second.with_token_kept()

    token = (tmp_path / ".multichat" / "http-token").read_text().strip()
    assert token == first.workspace_token.token
    assert late.workspace_token is not None
    assert (late.workspace_token.token, late.workspace_token.created) == (token, False)
    assert saved.workspace_token is not None
    assert (saved.workspace_token.saved, saved.workspace_token.created) == (True, True)
    assert saved.auth is first.auth  # its own token was saved: the same verifier serves
    assert late.auth is not None
    assert await late.auth.verify_token(token) is not None
    assert await late.auth.verify_token(second.workspace_token.token) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "mcp.example.com"])
def test_every_other_address_needs_protection(host: str) -> None:
    from multichat.errors import UnprotectedHttp, UserError
    from multichat.runtime.http_security import http_protection

    with pytest.raises(UnprotectedHttp, match="refusing to serve HTTP") as caught:
        http_protection(host, environ={})
    assert isinstance(caught.value, UserError)
    assert caught.value.exit_code == 2
    assert http_protection(host, token=TOKEN, environ={}).auth is not None
    assert http_protection(host, environ={"MULTICHAT_HTTP_TOKEN": TOKEN}).auth is not None
    opted_out = http_protection(host, allow_unauthenticated=True, environ={})
    assert opted_out.auth is None
    assert "WITHOUT AUTHENTICATION" in (opted_out.notice(8000) or "")


@pytest.mark.parametrize("bad", ["", "short", "x" * 15, "has spaces in it here", "é" * 20])
def test_unusable_tokens_are_refused(bad: str) -> None:
    from multichat.errors import InvalidHttpToken
    from multichat.runtime.http_security import http_protection

    with pytest.raises(InvalidHttpToken) as caught:
        http_protection("127.0.0.1", environ={"MULTICHAT_HTTP_TOKEN": bad})
    assert bad not in str(caught.value) or not bad


def test_run_server_refuses_for_existing_callers(ws: Path) -> None:
    from multichat.errors import UnprotectedHttp
    from multichat.runtime.config import load_config
    from multichat.runtime.server import build_server, run_server

    server, _ = build_server(load_config(ws / "provider-config.yaml"))
    port = free_port()
    with pytest.raises(UnprotectedHttp):
        run_server(server, "http", "0.0.0.0", port)
    assert nothing_listens(port)


async def test_static_verifier_keeps_the_token_to_itself() -> None:
    from multichat.runtime.http_security import BearerTokenVerifier

    verifier = BearerTokenVerifier(TOKEN)
    granted = await verifier.verify_token(TOKEN)
    assert granted is not None
    assert TOKEN not in repr(granted) + repr(verifier) + str(vars(verifier))
    for wrong in (WRONG_TOKEN, TOKEN[:-1], TOKEN + "x", "", TOKEN.upper()):
        assert await verifier.verify_token(wrong) is None
