"""Fuzzing the sandbox's OpenAPI with schemathesis, in-process over ASGI, plus the bugs it found.

Every operation of ``/openapi.json`` gets positive and negative cases with a Bearer token that
holds every scope; the chat API also gets cases without a usable token. Each response must be
below 500 and match the status, content type, headers and body schema the description gives.
A hook mixes well-formed cursors that carry hostile positions into the generated queries, since
no schema-driven generator can guess a base64 JSON cursor.

The OAuth endpoints and ``/admin`` are fuzzed too: ``/admin`` never sees the admin token, so
the fuzzer cannot switch on the fault injector whose whole point is to answer 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_PASSWORDS,
    SANDBOX_REDIRECT_URI,
    create_app,
    issue_tokens,
)
from multichat.sandbox.device_store import DEVICE_CODE_GRANT, decide, start_device_authorization
from multichat.sandbox.oauth_store import get_client
from multichat.sandbox.pagination import encode_cursor
from multichat.sandbox.scopes import ALL_SCOPES

AUTHENTICATED_EXAMPLES = 30  # per operation and generation mode
UNAUTHENTICATED_EXAMPLES = 5
MIN_CASES = 1000


def _raw_cursor(kind: str, position: Any) -> str:
    raw = json.dumps({"k": kind, "p": position}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HOSTILE_POSITIONS = st.one_of(
    st.integers(),
    st.sampled_from([-1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]),  # SQLite's INTEGER: 64 bits
    st.text(),
    st.text(st.characters(categories=["Cs"]), min_size=1),  # lone surrogates, as JSON escapes
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
TIME_BOUNDS = st.one_of(
    st.floats().map(repr),
    st.datetimes(
        timezones=st.builds(timezone, st.timedeltas(timedelta(hours=-23), timedelta(hours=23)))
    ).map(lambda moment: moment.isoformat()),
)


def _hostile_query(context: Any, query: dict[str, Any] | None) -> Any:
    """Sometimes swap in a well-formed cursor with a hostile position, or an extreme time."""
    operation = context.operation
    names = {parameter.name for parameter in operation.iter_parameters()}
    base = dict(query) if isinstance(query, dict) else {}
    choices = [st.just(query)]
    if "cursor" in names:
        # Cursors name their list by the last literal part of its path: /channels/{id}/messages
        kind = [part for part in operation.path.split("/") if part[:1] not in ("", "{")][-1]
        cursors = st.builds(_raw_cursor, st.sampled_from([kind, "users"]), HOSTILE_POSITIONS)
        choices.append(cursors.map(lambda cursor: {**base, "cursor": cursor}))
    for bound in ("oldest", "latest"):
        if bound in names:
            choices.append(TIME_BOUNDS.map(lambda value, bound=bound: {**base, bound: value}))
    return st.one_of(choices)


def _device_codes(app: Any) -> tuple[list[str], list[str]]:
    """Device and user codes of live device requests: one pending, one allowed, one denied."""
    db, client = app.state.db, get_client(app.state.db, SANDBOX_CLIENT_ID)
    pairs = [
        start_device_authorization(db, client, list(ALL_SCOPES), ttl=3600, interval=5)
        for _ in range(3)
    ]
    for (device_code, _), allow in zip(pairs[1:], (True, False), strict=True):
        digest = hashlib.sha256(device_code.encode()).hexdigest()
        decide(db, digest, "U01", allow=allow)
    return [device for device, _ in pairs], [user for _, user in pairs]


def _known_values(app: Any, container: str) -> Callable[[Any, Any], Any]:
    """A hook that sometimes puts values that exist into a container, to get past 404s and 400s.

    Ids from the seeded database; the sandbox's own client, redirect URI and a PKCE challenge;
    seeded usernames and passwords; live device and user codes.
    """
    db = app.state.db
    device_codes, user_codes = _device_codes(app)
    messages = st.sampled_from([f"M{row[0]}" for row in db.query("SELECT seq FROM messages")])
    known = {
        "channel_id": st.sampled_from([row[0] for row in db.query("SELECT id FROM channels")]),
        "user_id": st.sampled_from([row[0] for row in db.query("SELECT id FROM users")]),
        "message_id": messages,
        "thread_id": messages,
        "client_id": st.just(SANDBOX_CLIENT_ID),
        "redirect_uri": st.sampled_from([SANDBOX_REDIRECT_URI, "http://localhost:9/auth/callback"]),
        "response_type": st.just("code"),
        "code_challenge_method": st.just("S256"),
        "code_challenge": st.from_regex(r"\A[A-Za-z0-9_-]{43}\Z"),
        "grant_type": st.sampled_from(
            ["authorization_code", "refresh_token", "password", DEVICE_CODE_GRANT]
        ),
        "decision": st.sampled_from(["allow", "deny"]),
        "username": st.sampled_from(["ada", "grace", "nobody"]),
        "password": st.sampled_from([*SANDBOX_PASSWORDS.values(), "wrong"]),
        "scope": st.sampled_from(["chat:read", " ".join(ALL_SCOPES), "admin:all"]),
        "expires_in": st.sampled_from(["", "3600", "0", "99999999999999999999"]),
        "device_code": st.sampled_from(device_codes),
        "user_code": st.sampled_from([*user_codes, *(code.lower() for code in user_codes)]),
    }

    def hook(context: Any, value: Any) -> Any:
        names = known.keys() & _declared_names(context.operation, container)
        if not names or not isinstance(value, dict):
            return st.just(value)
        found = st.fixed_dictionaries({name: known[name] for name in sorted(names)})
        return st.one_of(st.just(value), found.map(lambda known_values: {**value, **known_values}))

    return hook


def _declared_names(operation: Any, container: str) -> set[str]:
    """The parameters an operation declares in ``container``, or the top fields of its body."""
    raw = operation.schema.raw_schema
    definition = raw["paths"][operation.path][operation.method.lower()]
    if container != "body":
        location = {"path_parameters": "path", "query": "query"}[container]
        parameters = definition.get("parameters", [])
        return {parameter["name"] for parameter in parameters if parameter["in"] == location}
    names: set[str] = set()
    for content in definition.get("requestBody", {}).get("content", {}).values():
        schema = content["schema"]
        if "$ref" in schema:
            schema = raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        names |= set(schema.get("properties", {}))
    return names


def _is_free_text(schema: dict[str, Any]) -> bool:
    kept = {key: value for key, value in schema.items() if key not in ("title", "description")}
    return kept in ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})


def _can_be_invalid(definition: dict[str, Any], *, security: bool) -> bool:
    """Whether some input of an operation can break its schema, so negative cases exist.

    Hypothesis proves the opposite only by failing ~500 draws (a second or more), so the fuzz
    loop skips negative cases where every input is optional free text (or a path segment).
    """
    if security and definition.get("security"):
        return True
    for parameter in definition.get("parameters", []):
        required = parameter.get("required") and parameter["in"] != "path"
        if required or not _is_free_text(parameter["schema"]):
            return True
    for media_type, content in definition.get("requestBody", {}).get("content", {}).items():
        schema = content["schema"]
        fields = schema.get("properties", {}).values()
        if media_type != "application/x-www-form-urlencoded" or schema.get("required"):
            return True
        if not all(_is_free_text(field) for field in fields):
            return True
    return False


def _fuzz(
    schema: Any,
    examples: int,
    check: Callable[[Any], None] = lambda response: None,
    *,
    security: bool = False,
) -> int:
    """Run ``examples`` positive and negative cases of every operation; how many ran."""
    ran = 0
    paths = schema.raw_schema["paths"]
    for result in schema.get_all_operations():
        operation = result.ok()
        definition = paths[operation.path][operation.method.lower()]
        modes = [GenerationMode.POSITIVE]
        if _can_be_invalid(definition, security=security):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal ran
                ran += 1
                check(case.call_and_validate())

            run()
    return ran


def _schema(app: Any, **config: Any) -> Any:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )
    schema.hook("flatmap_query")(_hostile_query)
    for container in ("path_parameters", "query", "body"):
        schema.hook(f"flatmap_{container}")(_known_values(app, container))
    return schema


# The schema cannot say "a cursor this server issued" or "an id that exists", so valid-looking
# values get the documented 400 or 404: that is not a rejected valid request.
CHECKS = {"positive_data_acceptance": {"enabled": False}}


def test_fuzzing_the_sandbox_api_finds_no_5xx_and_no_off_schema_response():
    app = create_app()
    token = issue_tokens(app.state.db, SANDBOX_CLIENT_ID, "U01", list(ALL_SCOPES))
    authenticated = _schema(
        app,
        headers={"Authorization": f"Bearer {token['access_token']}"},
        generation={"with-security-parameters": False},
        checks=CHECKS,
    )
    ran = _fuzz(authenticated, AUTHENTICATED_EXAMPLES)

    def refused(response: Any) -> None:
        # 401 mostly; a body that is not JSON is refused (400) before the token is looked at.
        assert 400 <= response.status_code < 500, response.text

    # Drawn or missing Authorization headers: the chat API must refuse every one of them.
    unauthenticated = _schema(app, checks=CHECKS).include(path_regex="^/api/")
    ran_without_token = _fuzz(unauthenticated, UNAUTHENTICATED_EXAMPLES, refused, security=True)

    print(f"sandbox API: {ran} authenticated and {ran_without_token} unauthenticated cases")
    assert ran + ran_without_token >= MIN_CASES
    assert ran_without_token > 0


# ---- regressions: the 5xx and the undocumented answers the fuzzing found ---------------------


@pytest.fixture
async def api():
    app = create_app()
    token = issue_tokens(app.state.db, SANDBOX_CLIENT_ID, "U01", list(ALL_SCOPES))
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        client.headers.update(headers)
        yield client


def _assert_invalid_cursor(response: httpx2.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert "cursor" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "kind", "params"),
    [
        ("/api/v1/channels/C01/messages", "messages", {}),
        ("/api/v1/messages/M1/replies", "replies", {}),
        ("/api/v1/mentions", "mentions", {}),
        ("/api/v1/search", "search", {"query": "deploy"}),
    ],
)
@pytest.mark.parametrize("position", [2**63, 10**30, -(2**63) - 1])
async def test_a_cursor_position_outside_sqlite_integers_is_400_not_500(
    api, path, kind, params, position
):
    response = await api.get(path, params={**params, "cursor": encode_cursor(kind, position)})
    _assert_invalid_cursor(response)


async def test_a_cursor_with_a_lone_surrogate_is_400_not_500(api):
    response = await api.get("/api/v1/users", params={"cursor": _raw_cursor("users", "\ud800")})
    _assert_invalid_cursor(response)


async def test_a_cursor_of_deeply_nested_json_is_400_not_500(api):
    nested = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    _assert_invalid_cursor(await api.get("/api/v1/users", params={"cursor": nested}))


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
async def test_basic_credentials_with_non_ascii_bytes_are_401_not_500(api, path):
    response = await api.post(
        path,
        data={"grant_type": "refresh_token", "token": "x"},
        headers={"Authorization": b"Basic \xe9t\xe9"},
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


async def test_the_oauth_endpoints_document_every_status_they_send(api):
    schema = (await api.get("/openapi.json")).json()["paths"]
    authorize = {"client_id": SANDBOX_CLIENT_ID, "redirect_uri": "http://127.0.0.1/auth/callback"}
    pkce = {"response_type": "code", "code_challenge": "a" * 43, "code_challenge_method": "S256"}
    sent = [
        ("get", "/oauth/authorize", await api.get("/oauth/authorize")),
        ("get", "/oauth/authorize", await api.get("/oauth/authorize", params=authorize | pkce)),
        (
            "get",
            "/oauth/authorize",
            await api.get("/oauth/authorize", params=authorize | pkce | {"scope": "nope"}),
        ),
        ("post", "/oauth/authorize", await api.post("/oauth/authorize", data={"decision": "x"})),
        ("post", "/oauth/token", await api.post("/oauth/token", data={})),
        ("post", "/oauth/token", await api.post("/oauth/token", data={"client_id": "nobody"})),
        ("post", "/oauth/revoke", await api.post("/oauth/revoke", data={})),
        ("post", "/oauth/revoke", await api.post("/oauth/revoke", data={"token": "unknown"})),
        ("get", "/oauth/userinfo", await api.get("/oauth/userinfo")),
        ("get", "/oauth/userinfo", await api.get("/oauth/userinfo", headers={"Authorization": ""})),
    ]
    statuses = {response.status_code for _, _, response in sent}
    assert statuses == {200, 302, 400, 401}
    for method, path, response in sent:
        documented = schema[path][method]["responses"]
        assert str(response.status_code) in documented, (method, path, response.status_code)
