"""A real Matrix homeserver (Synapse on SQLite) for the tests, and accounts on it.

Synapse is installed once, pinned, into its own virtual environment under
``~/.cache/multichat-tests/`` (never into the project's), and each ``SynapseServer`` runs it
from a fresh temporary folder on a free port of 127.0.0.1. Configuration options are those of
https://element-hq.github.io/synapse/latest/usage/configuration/config_documentation.html
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2
from helpers import stop_process

SYNAPSE_VERSION = "1.163.2"
_REQUIREMENT = f"matrix-synapse=={SYNAPSE_VERSION}"
SYNAPSE_HOME = Path.home() / ".cache" / "multichat-tests" / f"synapse-{SYNAPSE_VERSION}"

DEFAULT_ACCESS_TOKEN_LIFETIME_MS = 5 * 60 * 1000
"""Synapse's own default for ``refreshable_access_token_lifetime`` (5 minutes)."""

_INSTALLED_MARKER = ".installed"
_START_ATTEMPTS = 3  # a free port can be taken between ``_free_port`` and Synapse's bind


class SynapseError(RuntimeError):
    """Synapse could not be installed or started, or answered a helper's request with an error."""


def install_synapse() -> Path:
    """The Python of a virtual environment holding the pinned Synapse; installs it the first time.

    A file lock keeps parallel pytest processes from installing into the same folder at once, and a
    marker written last makes an interrupted install start over instead of being reused.
    """
    from filelock import FileLock

    venv = SYNAPSE_HOME / "venv"
    python = venv / "bin" / "python"
    SYNAPSE_HOME.mkdir(parents=True, exist_ok=True)
    with FileLock(str(SYNAPSE_HOME / ".install.lock")):
        if (SYNAPSE_HOME / _INSTALLED_MARKER).is_file() and python.is_file():
            return python
        uv = shutil.which("uv")
        if uv is None:
            raise SynapseError("`uv` is needed to install matrix-synapse for the Matrix tests")
        shutil.rmtree(venv, ignore_errors=True)
        for command in (
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            # No --compile-bytecode: it takes ~15 s, while the first start compiles only what
            # Synapse imports (~1.5 s more, once; Python writes .pyc files atomically).
            [uv, "pip", "install", "--quiet", "--python", str(python), _REQUIREMENT],
        ):
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=600, check=False
            )
            if result.returncode != 0:
                raise SynapseError(f"{' '.join(command)} failed:\n{result.stderr}")
        (SYNAPSE_HOME / _INSTALLED_MARKER).write_text(SYNAPSE_VERSION)
    return python


@dataclass(frozen=True)
class MatrixUser:
    """An account made through the admin API; its ``access_token`` never expires."""

    user_id: str
    password: str
    display_name: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        """The part of the user ID between ``@`` and ``:``."""
        return self.user_id[1:].split(":", 1)[0]


@dataclass(frozen=True)
class LoginTokens:
    """What ``POST /login`` answered (``refresh_token`` and ``expires_in_ms`` when asked for)."""

    user_id: str
    device_id: str
    access_token: str
    refresh_token: str | None
    expires_in_ms: int | None


class SynapseServer:
    """A Synapse process on 127.0.0.1, stopped (and its folder removed) when the block ends.

    ``access_token_lifetime_ms`` is how long the access tokens of a refreshable login last
    (``refreshable_access_token_lifetime``); tokens from registration never expire.
    """

    def __init__(
        self,
        *,
        access_token_lifetime_ms: int = DEFAULT_ACCESS_TOKEN_LIFETIME_MS,
        server_name: str = "localhost",
        start_timeout: float = 90.0,
    ) -> None:
        self.server_name = server_name
        self.access_token_lifetime_ms = access_token_lifetime_ms
        self.start_timeout = start_timeout
        self.shared_secret = secrets.token_hex(16)
        self.url = ""
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def folder(self) -> Path:
        """The temporary folder with ``homeserver.yaml``, the database and ``homeserver.log``."""
        if self._folder is None:
            raise SynapseError("the server is not running")
        return Path(self._folder.name)

    @property
    def pid(self) -> int:
        """The process id of the running Synapse."""
        if self._process is None:
            raise SynapseError("the server is not running")
        return self._process.pid

    def __enter__(self) -> SynapseServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Install Synapse if needed, write its configuration and wait until it answers."""
        python = install_synapse()
        self._folder = tempfile.TemporaryDirectory(prefix="synapse-", dir=_memory_folder())
        try:
            for _attempt in range(_START_ATTEMPTS):
                port = _free_port()
                config = self.folder / "homeserver.yaml"
                # JSON is YAML, so the configuration needs no YAML writer.
                config.write_text(json.dumps(self._config(port), indent=2))
                if self._launch(python, config, port):
                    return
            raise SynapseError(
                f"Synapse found no free port in {_START_ATTEMPTS} tries:\n{self.log_tail()}"
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the process by its PID (SIGTERM, then SIGKILL after 10 s) and remove its folder."""
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of Synapse's own log and of its stdout/stderr, for failure messages."""
        parts = []
        for name in ("console.log", "homeserver.log"):
            path = self.folder / name
            if path.is_file():
                parts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    def user_id(self, localpart: str) -> str:
        """The full user ID of ``localpart`` on this server."""
        return f"@{localpart}:{self.server_name}"

    def client(self, access_token: str | None = None, *, timeout: float = 30) -> httpx2.Client:
        """An HTTP client on this server, authenticated with ``access_token`` when given."""
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return httpx2.Client(base_url=self.url, headers=headers, timeout=timeout)

    def register_user(
        self,
        localpart: str | None = None,
        *,
        password: str | None = None,
        display_name: str | None = None,
        admin: bool = False,
    ) -> MatrixUser:
        """Create an account with the shared-secret admin API (a fresh random name by default).

        https://element-hq.github.io/synapse/latest/admin_api/register_api.html: fetch a nonce,
        then post the account with an HMAC-SHA1 of nonce, name, password and admin flag.
        """
        localpart = localpart or f"user-{secrets.token_hex(4)}"
        password = password or f"{localpart}-password-{secrets.token_hex(4)}"
        display_name = display_name or localpart
        with self.client() as http:
            nonce = _answer(http.get("/_synapse/admin/v1/register"))["nonce"]
            mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
            for part in (nonce, localpart, password):
                mac.update(part.encode() + b"\x00")
            mac.update(b"admin" if admin else b"notadmin")
            body = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "displayname": display_name,
                "admin": admin,
                "mac": mac.hexdigest(),
            }
            answer = _answer(http.post("/_synapse/admin/v1/register", json=body))
        return MatrixUser(
            user_id=answer["user_id"],
            password=password,
            display_name=display_name,
            access_token=answer["access_token"],
            device_id=answer["device_id"],
        )

    def login(
        self,
        user: str | MatrixUser,
        password: str | None = None,
        *,
        refresh_token: bool = True,
        device_id: str | None = None,
    ) -> LoginTokens:
        """Sign in with a password, as a preset's ``password`` mode does; a new device each time.

        https://spec.matrix.org/latest/client-server-api/#post_matrixclientv3login
        """
        if isinstance(user, MatrixUser):
            password = password or user.password
            user = user.user_id
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "refresh_token": refresh_token,
        }
        if device_id:
            body["device_id"] = device_id
        with self.client() as http:
            answer = _answer(http.post("/_matrix/client/v3/login", json=body))
        return LoginTokens(
            user_id=answer["user_id"],
            device_id=answer["device_id"],
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token"),
            expires_in_ms=answer.get("expires_in_ms"),
        )

    def _config(self, port: int) -> dict[str, Any]:
        folder = self.folder
        (folder / "signing.key").write_text(_signing_key())
        (folder / "log.yaml").write_text(json.dumps(_log_config(folder / "homeserver.log")))
        self.url = f"http://127.0.0.1:{port}"
        return {
            "server_name": self.server_name,
            "public_baseurl": f"{self.url}/",
            "pid_file": str(folder / "homeserver.pid"),
            # The client API only (the admin API rides on it); no federation listener.
            "listeners": [
                {
                    "port": port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
            "log_config": str(folder / "log.yaml"),
            "signing_key_path": str(folder / "signing.key"),
            "media_store_path": str(folder / "media"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "enable_metrics": False,
            "enable_registration": False,
            "refreshable_access_token_lifetime": self.access_token_lifetime_ms,
            # Password hashing at its cheapest: test accounts only.
            "bcrypt_rounds": 4,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "enable_media_repo": False,
            "user_directory": {"enabled": True, "search_all_users": True},
            **_generous_rate_limits(),
        }

    def _launch(self, python: Path, config: Path, port: int) -> bool:
        """Start Synapse and wait for ``/versions``; False when the port was taken meanwhile."""
        console = (self.folder / "console.log").open("wb")
        # A clean environment: nothing of the test run's (PYTHONPATH, MULTICHAT_*) reaches Synapse.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), "LANG": "C.UTF-8"}
        with console:
            self._process = subprocess.Popen(
                [str(python), "-m", "synapse.app.homeserver", "--config-path", str(config)],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                env=env,
            )
        # Ready once Synapse logged that it bound *this* port (so that another server which took
        # the port meanwhile is never mistaken for ours) and the client API answers.
        bound = f"Synapse now listening on TCP port {port}\n"
        log_file = self.folder / "homeserver.log"
        deadline = time.monotonic() + self.start_timeout
        with httpx2.Client(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._process = None
                    log = self.log_tail()
                    if f"Failed to listen on TCP port ({port})" in log:
                        return False
                    raise SynapseError(f"Synapse exited while starting:\n{log}")
                try:
                    listening = log_file.is_file() and bound in log_file.read_text()
                    if listening and http.get("/_matrix/client/versions").is_success:
                        return True
                except httpx2.TransportError:
                    pass
                time.sleep(0.1)
        raise SynapseError(
            f"Synapse did not answer within {self.start_timeout} s:\n{self.log_tail()}"
        )


def _answer(response: httpx2.Response) -> dict[str, Any]:
    """The JSON body of a successful answer; a ``SynapseError`` with Synapse's error otherwise."""
    if response.is_error:
        raise SynapseError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _memory_folder() -> str | None:
    """``/dev/shm`` when writable: SQLite's fsyncs cost nothing there (seeding ~30% faster)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _signing_key() -> str:
    """A fresh ed25519 signing key in Synapse's file format: ``ed25519 <id> <unpadded seed>``.

    Writing it ourselves saves the ~4 s of ``--generate-config``; the format is signedjson's
    ``write_signing_keys`` (https://github.com/matrix-org/python-signedjson).
    """
    seed = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    return f"ed25519 a_test {seed}\n"


def _log_config(path: Path) -> dict[str, Any]:
    """Python logging configuration: warnings and errors (and the listening line) into ``path``."""
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "formatter": "plain", "filename": str(path)}
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        # Its "Synapse now listening on TCP port N" line tells ``_launch`` the port is its own.
        "loggers": {"synapse.app._base": {"level": "INFO"}},
        "disable_existing_loggers": False,
    }


def _generous_rate_limits() -> dict[str, Any]:
    """Every ``rc_*`` limit of Synapse's ``config/ratelimiting.py`` raised out of a test's reach.

    Synapse's defaults (e.g. 10 room creations, then one a minute; 0.2 messages a second) would
    make seeding wait on 429s.
    """
    lots = {"per_second": 10_000, "burst_count": 100_000}
    flat = (
        "rc_message",
        "rc_registration",
        "rc_registration_token_validity",
        "rc_admin_redaction",
        "rc_joins_per_room",
        "rc_key_requests",
        "rc_3pid_validation",
        "rc_third_party_invite",
        "rc_media_create",
        "rc_delayed_event_mgmt",
        "rc_room_creation",
        "rc_reports",
        "rc_user_directory",
        "rc_profile",
    )
    nested = {
        "rc_login": ("address", "account", "failed_attempts"),
        "rc_joins": ("local", "remote"),
        "rc_invites": ("per_room", "per_user", "per_issuer"),
        "rc_presence": ("per_user",),
    }
    limits: dict[str, Any] = dict.fromkeys(flat, lots)
    limits.update({key: dict.fromkeys(parts, lots) for key, parts in nested.items()})
    return limits
