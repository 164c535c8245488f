"""``multichat auth``'s work: serve a provider's auth app on loopback until the sign-in ends.

The provider's own ``server_auth.app`` is served (so a hand-written one works too); the wait
ends when the app reports an outcome, or, for an app that cannot report, when a new token
file appears.
"""

from __future__ import annotations

import contextlib
import importlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from multichat.contract import package_name
from multichat.errors import MultichatError, ProviderLoadError
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.loader import activate_workspace
from multichat.runtime.oauth import OAuthFailed, RevocationNotDone, resolve_settings, revoke
from multichat.runtime.token_access import provider_auth
from multichat.runtime.token_store import JsonFileTokenStore, TokenStore

LOOPBACK = "127.0.0.1"


class SignInTimeout(MultichatError):
    """Nobody finished the sign-in in time."""


def _bind(port: int, provider: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise MultichatError(
            f"port {port} on {LOOPBACK} is in use: stop what listens there, or change `port` "
            f"and `callback_url` of {provider} in provider-config.yaml"
        ) from None
    sock.listen(16)
    return sock


@contextlib.contextmanager
def serving(app: Any, port: int, provider: str) -> Iterator[None]:
    """Serve ``app`` on ``127.0.0.1:port`` in a background thread for the ``with`` block."""
    import uvicorn

    sock = _bind(port, provider)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def sign_in(
    config: WorkspaceConfig,
    provider: str,
    *,
    timeout: float = 300.0,
    on_ready: Callable[[str], None] = lambda url: None,
    wait: Callable[[threading.Event, float], bool] | None = None,
) -> str:
    """Run the sign-in; returns the success message or raises with a one-line reason."""
    settings = config.provider(provider)
    resolve_settings(config, provider)  # fail on a bad oauth block before serving anything
    activate_workspace(config)
    try:
        module = importlib.import_module(f"{package_name(provider)}.server_auth")
    except Exception as exc:  # a provider's own bug becomes one line
        raise ProviderLoadError(provider, f"server_auth: {type(exc).__name__}: {exc}") from exc
    app = getattr(module, "app", None)
    if app is None:
        raise ProviderLoadError(provider, "server_auth.py has no `app`")
    outcome = getattr(getattr(app, "state", None), "multichat_outcome", None)
    port = settings.port or 8000
    store = provider_auth(provider).store()
    before = _stamp(store)
    done = outcome.done if outcome is not None else threading.Event()
    with serving(app, port, provider):
        on_ready(f"http://{LOOPBACK}:{port}/auth")
        finished = (
            (wait or _wait)(done, timeout)
            if outcome is not None
            else _wait_for_token(store, before, timeout)
        )
    if not finished:
        raise SignInTimeout(
            f"no sign-in for {provider} within {timeout:g} s; run `multichat auth {provider}` again"
        )
    if outcome is not None and not outcome.succeeded:
        raise OAuthFailed(outcome.message)
    return f"signed in to {provider}; token saved to {store.location}"


def _wait(event: threading.Event, timeout: float) -> bool:
    return event.wait(timeout)


def _stamp(store: TokenStore) -> object:
    """What changes when a token is saved: the file's time and size, or the stored token."""
    if not isinstance(store, JsonFileTokenStore):
        return store.load()
    try:
        stat = store.path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _wait_for_token(store: TokenStore, before: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _stamp(store) not in (None, before):
            return True
        time.sleep(0.2)
    return False


def sign_out(config: WorkspaceConfig, provider: str) -> list[str]:
    """Revoke the stored tokens where the platform allows, then delete the token file.

    A platform that refuses the revocation (an unknown or expired token) has nothing live to
    revoke, so the file goes anyway; one that cannot be reached may still honour the token, so
    the file stays and :class:`RevocationNotDone` says how to retry or forget it by hand.

    Raises:
        RevocationNotDone: the revocation endpoint could not be reached; nothing was deleted.
    """
    auth = provider_auth(provider)
    store = auth.store()
    data = store.load()
    notes: list[str] = []
    if data is None:
        return [f"{provider}: no token to remove ({store.location})"]
    settings = config.provider(provider)
    if settings.oauth and settings.oauth.revoke_url:
        oauth = resolve_settings(config, provider, need_authorize=False)
        for key in ("refresh_token", "access_token"):
            if data.get(key):
                try:
                    revoke(oauth, str(data[key]), key)
                    notes.append(f"{provider}: revoked the {key.replace('_', ' ')}")
                except RevocationNotDone as exc:
                    raise RevocationNotDone(
                        provider,
                        f"{exc.reason}, so the token may still be valid there; kept "
                        f"{store.location}: run `multichat auth {provider} --logout` again once "
                        "the platform is reachable, or delete that file by hand to forget the "
                        "token here without revoking it",
                    ) from None
                except OAuthFailed as exc:
                    reason = str(exc).removeprefix(f"{provider}: ")
                    notes.append(f"{provider}: warning: {reason}; deleting the local token anyway")
    with store.lock():
        store.delete()
    auth.forget()
    notes.append(f"{provider}: deleted {store.location}")
    return notes
