"""What each sign-in mode needs: the one rule ``doctor`` lists and the runtime enforces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import set_provider_keys

from multichat.errors import ConfigError
from multichat.runtime import load_config
from multichat.runtime.device_flow import device_sign_in
from multichat.runtime.sign_in_needs import ENDPOINTS, unmet_needs, unset_endpoints


def test_each_grant_lists_the_endpoints_it_calls() -> None:
    endpoints = {"authorize_url": "a", "token_url": "", "device_authorization_url": None}
    assert unset_endpoints("oauth", endpoints) == ["token_url"]
    assert unset_endpoints("device", endpoints) == ["device_authorization_url", "token_url"]
    assert unset_endpoints("refresh", endpoints) == ["token_url"]
    assert unset_endpoints("token", endpoints) == []  # no OAuth endpoint at all
    assert set(ENDPOINTS) == {"oauth", "device", "refresh"}


def test_a_device_mode_without_its_endpoint_is_refused_as_doctor_says(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("dev")
    set_provider_keys(
        workspace,
        "dev",
        auth={"mode": "device", "whoami": "me"},
        oauth={"client_id": "public", "token_url": "http://127.0.0.1:9/token"},
    )
    config = load_config(workspace / "provider-config.yaml")

    [need] = unmet_needs(config, "dev")
    with pytest.raises(ConfigError) as caught:
        device_sign_in(config, "dev", show=lambda code: None)

    assert need.what == "`oauth.device_authorization_url`"
    assert str(caught.value) == (
        f"{config.path}: `providers.dev.oauth.device_authorization_url` is not set; copy it from "
        "the platform's OAuth documentation, or set `oauth.issuer` to discover it"
    )


def test_a_mode_with_every_piece_needs_nothing(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    set_provider_keys(
        workspace,
        "alpha",
        auth={"mode": "device", "whoami": "me"},
        oauth={"issuer": "http://127.0.0.1:9"},  # discoverable: not fetched here
    )
    assert unmet_needs(load_config(workspace / "provider-config.yaml"), "alpha") == []
