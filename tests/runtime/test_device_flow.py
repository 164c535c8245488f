"""The device authorization grant (RFC 8628) and OAuth discovery against a third-party server:
panva's oidc-provider (npm), with its device flow on, started by the ``oidc_provider`` fixture.

The endpoints are never typed: the provider's config names only the issuer (discovery).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import MULTICHAT, clean_env, set_provider_keys
from support.oidc_provider import OidcProviderServer

from multichat.runtime import load_config
from multichat.runtime.device_flow import DeviceCode, poll_for_token, request_device_code
from multichat.runtime.discovery import DiscoveryFailed, discover
from multichat.runtime.loader import activate_workspace
from multichat.runtime.oauth import OAuthFailed, resolve_settings

PROVIDER = "dev"
USER_CODE = re.compile(r"enter the code (\S+)")


@pytest.fixture
def ws(
    workspace: Path, add_provider: Callable[..., Path], oidc_provider: OidcProviderServer
) -> Path:
    """A blank provider that signs in with a device code at oidc-provider, by discovery."""
    add_provider(PROVIDER, scopes=["openid", "offline_access", "profile"])
    set_provider_keys(
        workspace,
        PROVIDER,
        auth={"mode": "device", "whoami": "me"},
        api_base_url=oidc_provider.url,
        oauth={"client_id": oidc_provider.public_client.client_id, "issuer": oidc_provider.url},
    )
    discover.cache_clear()
    return workspace


def settings_of(ws: Path) -> Any:
    config = load_config(ws / "provider-config.yaml")
    activate_workspace(config)
    return resolve_settings(config, PROVIDER, need_authorize=False)


def test_endpoints_come_from_discovery(ws: Path, oidc_provider: OidcProviderServer):
    settings = settings_of(ws)
    assert settings.token_url == oidc_provider.endpoint("token_endpoint")
    assert settings.device_authorization_url == oidc_provider.endpoint(
        "device_authorization_endpoint"
    )
    assert settings.revoke_url == oidc_provider.endpoint("revocation_endpoint")


def test_a_document_naming_another_issuer_is_refused(oidc_provider: OidcProviderServer):
    with pytest.raises(DiscoveryFailed, match="names the issuer"):
        discover("x", "http://127.0.0.1:1", f"{oidc_provider.url}/.well-known/openid-configuration")
    with pytest.raises(DiscoveryFailed, match="no OAuth metadata found"):
        discover("x", f"{oidc_provider.url}/nothing-here", None)


def start(ws: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``multichat auth dev`` in a subprocess, and the user code it shows."""
    process = subprocess.Popen(
        [MULTICHAT, "auth", PROVIDER],
        cwd=ws,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or clean_env(),
    )
    assert process.stderr is not None
    found = None
    line = ""
    while found is None:  # DEBUG records may come first
        line = process.stderr.readline()
        if not line:
            break
        found = USER_CODE.search(line)
    if found is None:
        process.kill()
        pytest.fail(f"no user code shown: {line!r} {process.communicate(timeout=30)}")
    return process, found.group(1)


def test_an_approved_device_code_signs_in(
    ws: Path, oidc_provider: OidcProviderServer, debug_env: dict[str, str]
):
    process, user_code = start(ws, debug_env)
    oidc_provider.approve_device(user_code)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "DEBUG" in err  # logged at DEBUG, and still no secret below
    assert out.startswith(f"signed in to {PROVIDER} as ")
    saved = json.loads((ws / "src" / "providers" / PROVIDER / "token.json").read_text())
    assert saved["mode"] == "device"
    assert saved["refresh_token"]
    for secret in (saved["access_token"], saved["refresh_token"]):
        assert secret not in out + err


def test_a_denied_device_code_saves_nothing(ws: Path, oidc_provider: OidcProviderServer):
    process, user_code = start(ws)
    oidc_provider.deny_device(user_code)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        f"multichat: error: {PROVIDER}: access was denied on the verification page"
    )
    assert not (ws / "src" / "providers" / PROVIDER / "token.json").exists()


def test_an_expired_device_code_says_to_start_again(ws: Path, oidc_provider: OidcProviderServer):
    oidc_provider.configure(device_code_ttl=3)
    process, user_code = start(ws)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 1
    assert f"the code {user_code} expired" in err
    assert f"run `multichat auth {PROVIDER}` again" in err
    assert not (ws / "src" / "providers" / PROVIDER / "token.json").exists()


def test_slow_down_widens_the_interval_and_pending_keeps_polling(
    ws: Path, oidc_provider: OidcProviderServer
):
    """Polled faster than its interval, the server answers slow_down: five seconds more."""
    settings = settings_of(ws)
    waits: list[float] = []
    with httpx2.Client(timeout=10) as http:
        code = request_device_code(settings, http)
        fast = DeviceCode(
            code.verification_uri, code.user_code, code.expires_in, 1.0, None, code.device_code
        )

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 4:
                oidc_provider.approve_device(code.user_code)

        clock = iter(range(0, 10_000, 1))
        token = poll_for_token(settings, fast, http, sleep=sleep, clock=lambda: float(next(clock)))

    assert token["access_token"]
    assert waits[0] == 1.0
    assert any(later - earlier == 5.0 for earlier, later in itertools.pairwise(waits))


def test_the_device_code_is_never_shown(ws: Path, oidc_provider: OidcProviderServer):
    settings = settings_of(ws)
    with httpx2.Client(timeout=10) as http:
        code = request_device_code(settings, http)
    assert code.device_code
    assert code.device_code not in repr(code)
    assert code.user_code in repr(code)


def test_a_server_that_refuses_the_client_is_one_line(ws: Path):
    config = ws / "provider-config.yaml"
    config.write_text(config.read_text().replace("multichat-native", "no-such-client"))
    with httpx2.Client(timeout=10) as http, pytest.raises(OAuthFailed, match="refused the device"):
        request_device_code(settings_of(ws), http)
