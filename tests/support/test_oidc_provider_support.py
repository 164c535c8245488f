"""The oidc-provider test server, spoken to with authlib: discovery, registration, code flow with
PKCE, refresh rotation, revocation, introspection and the device flow (RFC 8628), including its
verification pages over HTTP and in headless Chromium.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from helpers import CHROMIUM, CHROMIUM_ARGS, free_port

from support.oidc_provider import (
    DEVICE_CODE_GRANT,
    OidcInteractionError,
    OidcProviderServer,
    redirect_params,
)

WAIT = 30.0


def public_client(server: OidcProviderServer, **kwargs: Any) -> OAuth2Client:
    """authlib's client for the native public client, PKCE S256, on a loopback port of its own."""
    return OAuth2Client(
        client_id=server.public_client.client_id,
        token_endpoint_auth_method="none",
        code_challenge_method="S256",
        redirect_uri=f"http://127.0.0.1:{free_port()}/callback",
        timeout=10,
        **kwargs,
    )


def sign_in(server: OidcProviderServer, client: OAuth2Client, scope: str) -> dict[str, Any]:
    """The authorization code flow with PKCE, the user's part answered by ``complete_login``."""
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        server.endpoint("authorization_endpoint"), code_verifier=verifier, scope=scope
    )
    redirect = server.complete_login(url)
    assert redirect_params(redirect)["iss"] == server.url  # RFC 9207
    return dict(
        client.fetch_token(
            server.endpoint("token_endpoint"),
            authorization_response=redirect,
            state=state,
            code_verifier=verifier,
        )
    )


def start_device_flow(
    server: OidcProviderServer, client: OAuth2Client, scope: str = "openid chat:read"
) -> dict[str, Any]:
    response = client.request(
        "POST",
        server.endpoint("device_authorization_endpoint"),
        data={"client_id": client.client_id, "scope": scope},
        withhold_token=True,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def poll_once(server: OidcProviderServer, client: OAuth2Client, device_code: str) -> str | dict:
    """One token request for ``device_code``: the tokens, or the OAuth error code."""
    try:
        return dict(
            client.fetch_token(
                server.endpoint("token_endpoint"),
                grant_type=DEVICE_CODE_GRANT,
                device_code=device_code,
            )
        )
    except OAuthError as error:
        return str(error.error)


def poll_until_decided(
    server: OidcProviderServer, client: OAuth2Client, flow: dict[str, Any]
) -> str | dict:
    """Poll as RFC 8628 s3.5 says (every ``interval`` s, 5 s more after slow_down) until the
    answer is no longer pending; fails after ``WAIT`` seconds."""
    interval = float(flow.get("interval", 5))
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        answer = poll_once(server, client, flow["device_code"])
        if answer == "slow_down":
            interval += 5
        elif answer != "authorization_pending":
            return answer
        time.sleep(interval)
    pytest.fail(f"device code still pending after {WAIT} s")


# ---- discovery and registration ----------------------------------------------------------


def test_discovery_documents_validate_with_authlib(oidc_provider):
    import httpx2

    openid = httpx2.get(f"{oidc_provider.url}/.well-known/openid-configuration").json()
    oauth = httpx2.get(f"{oidc_provider.url}/.well-known/oauth-authorization-server").json()

    OpenIDProviderMetadata(openid).validate()
    AuthorizationServerMetadata(oauth).validate()
    assert oauth == openid
    assert openid["issuer"] == oidc_provider.url
    assert openid["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_CODE_GRANT in openid["grant_types_supported"]
    for endpoint in (
        "device_authorization_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    ):
        assert openid[endpoint].startswith(f"{oidc_provider.url}/")


def test_open_dynamic_registration_gives_a_client_that_can_sign_in(oidc_provider):
    import httpx2

    redirect_uri = "http://127.0.0.1/registered-callback"
    response = httpx2.post(
        oidc_provider.endpoint("registration_endpoint"),
        json={
            "client_name": "registered in a test",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "redirect_uris": [redirect_uri],
        },
    )

    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["client_id"]
    assert "client_secret" not in registered
    assert registered["registration_access_token"]
    client = OAuth2Client(
        client_id=registered["client_id"],
        token_endpoint_auth_method="none",
        code_challenge_method="S256",
        redirect_uri=f"http://127.0.0.1:{free_port()}/registered-callback",
    )
    with client:
        token = sign_in(oidc_provider, client, "openid chat:read")
    assert token["access_token"]


# ---- authorization code flow ---------------------------------------------------------------


def test_code_flow_with_pkce_s256_gets_tokens_including_a_refresh_token(oidc_provider):
    with public_client(oidc_provider) as client:
        token = sign_in(oidc_provider, client, "openid profile chat:read")
        userinfo = client.get(oidc_provider.endpoint("userinfo_endpoint")).json()

    assert token["token_type"] == "Bearer"
    assert token["access_token"]
    assert token["refresh_token"]
    assert token["id_token"]
    assert set(token["scope"].split()) == {"openid", "profile", "chat:read"}
    assert userinfo["sub"] == "alice"
    assert userinfo["preferred_username"] == "alice"


def test_a_public_client_without_pkce_is_refused(oidc_provider):
    with public_client(oidc_provider) as client:
        url, _ = client.create_authorization_url(
            oidc_provider.endpoint("authorization_endpoint"), scope="openid"
        )

    redirect = oidc_provider.complete_login(url)

    params = redirect_params(redirect)
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


def test_the_plain_pkce_method_is_refused(oidc_provider):
    from urllib.parse import urlencode

    query = urlencode(
        {
            "response_type": "code",
            "client_id": oidc_provider.public_client.client_id,
            "redirect_uri": oidc_provider.public_client.redirect_uri,
            "scope": "openid",
            "code_challenge": generate_token(48),
            "code_challenge_method": "plain",
        }
    )

    redirect = oidc_provider.complete_login(
        f"{oidc_provider.endpoint('authorization_endpoint')}?{query}"
    )

    assert redirect_params(redirect)["error"] == "invalid_request"


def test_a_wrong_code_verifier_is_invalid_grant(oidc_provider):
    with public_client(oidc_provider) as client:
        url, state = client.create_authorization_url(
            oidc_provider.endpoint("authorization_endpoint"),
            code_verifier=generate_token(48),
            scope="openid",
        )
        redirect = oidc_provider.complete_login(url)
        with pytest.raises(OAuthError) as caught:
            client.fetch_token(
                oidc_provider.endpoint("token_endpoint"),
                authorization_response=redirect,
                state=state,
                code_verifier=generate_token(48),
            )

    assert caught.value.error == "invalid_grant"


def test_denied_consent_redirects_with_access_denied(oidc_provider):
    with public_client(oidc_provider) as client:
        url, _ = client.create_authorization_url(
            oidc_provider.endpoint("authorization_endpoint"),
            code_verifier=generate_token(48),
            scope="openid",
        )

    redirect = oidc_provider.complete_login(url, decision="deny")

    assert redirect_params(redirect)["error"] == "access_denied"


def test_a_wrong_password_stays_on_the_login_page(oidc_provider):
    with public_client(oidc_provider) as client:
        url, _ = client.create_authorization_url(
            oidc_provider.endpoint("authorization_endpoint"),
            code_verifier=generate_token(48),
            scope="openid",
        )

    with pytest.raises(OidcInteractionError, match="Wrong username or password"):
        oidc_provider.complete_login(url, password="not-the-password")


def test_any_loopback_port_is_accepted_for_the_native_client_only(oidc_provider):
    """RFC 8252 s7.3: oidc-provider ignores the loopback port for application_type native."""
    web = oidc_provider.confidential_client
    with OAuth2Client(
        client_id=web.client_id,
        client_secret=web.client_secret,
        redirect_uri=f"http://127.0.0.1:{free_port()}/callback",
    ) as client:
        url, _ = client.create_authorization_url(
            oidc_provider.endpoint("authorization_endpoint"), scope="openid"
        )

    with public_client(oidc_provider) as native:
        assert sign_in(oidc_provider, native, "openid")["access_token"]
    with pytest.raises(OidcInteractionError, match="redirect_uri"):
        oidc_provider.complete_login(url)


# ---- refresh, revocation, introspection ------------------------------------------------------


def test_refresh_rotates_and_reusing_the_old_token_revokes_the_grant(oidc_provider):
    with public_client(oidc_provider) as client:
        first = sign_in(oidc_provider, client, "openid chat:read")
        second = dict(
            client.refresh_token(
                oidc_provider.endpoint("token_endpoint"), refresh_token=first["refresh_token"]
            )
        )
        with pytest.raises(OAuthError) as reused:
            client.refresh_token(
                oidc_provider.endpoint("token_endpoint"), refresh_token=first["refresh_token"]
            )
        with pytest.raises(OAuthError) as after_reuse:
            client.refresh_token(
                oidc_provider.endpoint("token_endpoint"), refresh_token=second["refresh_token"]
            )

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert reused.value.error == "invalid_grant"
    assert after_reuse.value.error == "invalid_grant"


def test_without_offline_access_the_offline_access_policy_issues_no_refresh_token(oidc_provider):
    oidc_provider.configure(refresh_token_policy="offline_access")

    with public_client(oidc_provider) as client:
        token = sign_in(oidc_provider, client, "openid chat:read")

    assert "refresh_token" not in token


def test_access_token_ttl_is_a_knob(oidc_provider):
    oidc_provider.configure(access_token_ttl=7)

    with public_client(oidc_provider) as client:
        token = sign_in(oidc_provider, client, "openid")

    assert token["expires_in"] == 7


def test_introspection_and_revocation_with_the_confidential_client(oidc_provider):
    web = oidc_provider.confidential_client
    with OAuth2Client(
        client_id=web.client_id,
        client_secret=web.client_secret,
        token_endpoint_auth_method=web.token_endpoint_auth_method,
        code_challenge_method="S256",
        redirect_uri=web.redirect_uri,
    ) as client:
        token = sign_in(oidc_provider, client, "openid chat:read")
        introspection = oidc_provider.endpoint("introspection_endpoint")
        before = client.introspect_token(introspection, token=token["access_token"]).json()
        revoked = client.revoke_token(
            oidc_provider.endpoint("revocation_endpoint"), token=token["refresh_token"]
        )
        after = client.introspect_token(introspection, token=token["refresh_token"]).json()

    assert before["active"] is True
    assert before["sub"] == "alice"
    assert before["client_id"] == web.client_id
    assert revoked.status_code == 200
    assert after == {"active": False}


# ---- device flow (RFC 8628) ---------------------------------------------------------------


def test_device_flow_is_pending_until_approved_then_gives_tokens(oidc_provider):
    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)
        pending = poll_once(oidc_provider, client, flow["device_code"])
        oidc_provider.approve_device(flow["user_code"])
        token = poll_until_decided(oidc_provider, client, flow)

    assert flow["verification_uri"] == f"{oidc_provider.url}/device"
    assert flow["interval"] == 1
    assert pending == "authorization_pending"
    assert isinstance(token, dict)
    assert token["access_token"]
    assert token["refresh_token"]
    assert set(token["scope"].split()) == {"openid", "chat:read"}


def test_device_flow_denied_is_access_denied(oidc_provider):
    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)
        oidc_provider.deny_device(flow["user_code"])
        answer = poll_until_decided(oidc_provider, client, flow)

    assert answer == "access_denied"


def test_device_code_expires(oidc_provider):
    oidc_provider.configure(device_code_ttl=1, device_poll_interval=0)

    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)
        answer = poll_until_decided(oidc_provider, client, {**flow, "interval": 0.2})

    assert flow["expires_in"] == 1
    assert answer == "expired_token"


def test_polling_faster_than_the_interval_is_slow_down(oidc_provider):
    oidc_provider.configure(device_poll_interval=2)

    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)
        first = poll_once(oidc_provider, client, flow["device_code"])
        second = poll_once(oidc_provider, client, flow["device_code"])

    assert flow["interval"] == 2
    assert first == "authorization_pending"
    assert second == "slow_down"


def test_device_verification_pages_answered_over_http(oidc_provider):
    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client, scope="openid offline_access")
        last_page = oidc_provider.complete_device(flow["user_code"])
        token = poll_until_decided(oidc_provider, client, flow)

    assert "Sign-in Success" in last_page
    assert isinstance(token, dict)
    assert token["refresh_token"]


def test_device_verification_page_abort_is_access_denied(oidc_provider):
    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)
        last_page = oidc_provider.complete_device(flow["user_code"], decision="deny")
        answer = poll_until_decided(oidc_provider, client, flow)

    assert "interrupted" in last_page
    assert answer == "access_denied"


@pytest.fixture
def chromium_page(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is absent (Debian's chromium package); no browser is downloaded")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=WAIT * 1000,
        )
        context.set_default_timeout(WAIT * 1000)
        try:
            yield context.new_page()
        finally:
            context.close()


def test_device_verification_pages_clicked_in_headless_chromium(oidc_provider, chromium_page):
    page = chromium_page
    with public_client(oidc_provider) as client:
        flow = start_device_flow(oidc_provider, client)

        page.goto(flow["verification_uri"])
        page.fill("input[name=user_code]", flow["user_code"])
        page.get_by_role("button", name="Continue").click()
        page.get_by_text(flow["user_code"]).wait_for()
        page.get_by_role("button", name="Continue").click()
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", oidc_provider.password("alice"))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Allow").click()
        page.get_by_text("Sign-in Success").wait_for()

        token = poll_until_decided(oidc_provider, client, flow)

    assert isinstance(token, dict)
    assert token["access_token"]
