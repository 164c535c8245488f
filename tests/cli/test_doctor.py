"""``multichat doctor`` on what signing in needs: the mode's endpoints, who-am-I call and hooks,
the client's ``credentials.json``, and the token path. Each check is run as a user runs it, the
installed console script in a subprocess, and where the runtime refuses the same thing,
``multichat auth`` is run too, to show both name the same missing piece.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env, run_cli, set_provider_keys

from multichat.docs_pages import docs_page
from multichat.generator.provider import add_provider as generate

#: Nothing listens there: doctor never calls the platform, and ``auth`` must fail before it does.
PLATFORM_URL = "http://127.0.0.1:9"
SECRET = "s3cr3t-never-shown"
#: A trailing comma: JSON has none, so the parser stops at the closing brace.
NOT_JSON = b'{"client_id": "id", "client_secret": "' + SECRET.encode() + b'",}'
#: The two password hooks, as docs/provider-guide.md ("Hooks for password sign-in") shows them.
PASSWORD_HOOKS = '''

def exchange_password(username: str, password: str) -> dict[str, Any]:
    """Trade user and password for tokens."""
    raise NotImplementedError


def refresh_credentials(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """New tokens for expired ones."""
    raise NotImplementedError
'''


def lines_of(output: str, provider: str, level: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{provider}: {level}: ")]


def sign_in_lines(output: str, provider: str) -> list[str]:
    return [line for line in lines_of(output, provider, "warning") if ": sign-in mode " in line]


def set_oauth_keys(workspace: Path, provider: str, **values: str | None) -> None:
    """Set keys of a provider's ``oauth:`` block; ``None`` removes one."""
    from ruamel.yaml import YAML

    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    block = document["providers"][provider]["oauth"]
    for key, value in values.items():
        if value is None:
            del block[key]
        else:
            block[key] = value
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)


@pytest.fixture
def add_sandbox(workspace: Path) -> Callable[..., Path]:
    """Generate a provider from the sandbox preset; returns its package folder."""

    def add(name: str) -> Path:
        generate(
            name,
            config_path=workspace / "provider-config.yaml",
            preset="sandbox",
            data={"platform_url": PLATFORM_URL},
        )
        return workspace / "src" / "providers" / name

    return add


def test_each_sign_in_mode_that_lacks_a_piece_is_one_warning_naming_it_and_where(
    workspace: Path, add_provider: Callable[..., Path], add_sandbox: Callable[..., Path]
) -> None:
    config = workspace / "provider-config.yaml"
    password = add_sandbox("pw")
    set_provider_keys(workspace, "pw", auth={"mode": "password", "whoami": "me"})
    add_sandbox("dev")
    set_provider_keys(workspace, "dev", auth={"mode": "device", "whoami": "me"})
    add_sandbox("found")
    set_provider_keys(workspace, "found", auth={"mode": "device", "whoami": "me"})
    add_sandbox("fine")
    set_oauth_keys(workspace, "dev", device_authorization_url=None)
    set_oauth_keys(workspace, "found", device_authorization_url=None, issuer=PLATFORM_URL)
    add_provider("blank")
    add_provider("pasted")
    set_provider_keys(workspace, "pasted", auth={"mode": "token", "whoami": ""})

    doctor = run_cli("doctor", cwd=workspace)

    assert sign_in_lines(doctor.stdout, "pw") == [
        "pw: warning: sign-in mode password is missing exchange_password(username, password) "
        "and refresh_credentials(credentials) in api/auth.py; fix: define them in "
        f'{password / "api" / "auth.py"} as {docs_page("provider-guide.md")} shows ("Hooks '
        'for password sign-in")'
    ], doctor.stdout
    assert sign_in_lines(doctor.stdout, "dev") == [
        "dev: warning: sign-in mode device is missing `oauth.device_authorization_url`; fix: set "
        f"`oauth.device_authorization_url` under `providers.dev` in {config} (or `oauth.issuer` "
        "to discover it)"
    ], doctor.stdout
    assert sign_in_lines(doctor.stdout, "blank") == [
        "blank: warning: sign-in mode oauth is missing `oauth.authorize_url` and "
        "`oauth.token_url`; fix: set `oauth.authorize_url` and `oauth.token_url` under "
        f"`providers.blank` in {config} (or `oauth.issuer` to discover them)"
    ], doctor.stdout
    assert sign_in_lines(doctor.stdout, "pasted") == [
        "pasted: warning: sign-in mode token is missing `auth.whoami` (the who-am-I call that "
        f"checks a new token); fix: set `auth.whoami` under `providers.pasted` in {config} (a "
        "path under api_base_url, or a URL)"
    ], doctor.stdout
    assert sign_in_lines(doctor.stdout, "found") == []  # discoverable from its issuer
    assert sign_in_lines(doctor.stdout, "fine") == []
    assert doctor.returncode == 0, doctor.stdout  # sign-in pieces are warnings, as before

    # The runtime refuses for the same missing pieces, before it calls anything.
    device = run_cli("auth", "dev", cwd=workspace)
    assert device.returncode == 2, device
    assert "`providers.dev.oauth.device_authorization_url` is not set" in device.stderr
    signing_in = subprocess.run(
        [MULTICHAT, "auth", "pw", "--username", "ada", "--password-stdin"],
        cwd=workspace, input="a-password\n", capture_output=True, text=True, timeout=120,
        env=clean_env(), check=False,
    )  # fmt: skip
    assert signing_in.returncode == 1, signing_in
    assert "defines no `exchange_password(username, password)`" in signing_in.stderr

    auth_module = password / "api" / "auth.py"
    auth_module.write_text(auth_module.read_text() + PASSWORD_HOOKS)
    mended = run_cli("doctor", "--json", cwd=workspace)
    findings = json.loads(mended.stdout)["findings"]
    assert [
        f for f in findings if f["provider"] == "pw" and f["message"].startswith("sign-in mode")
    ] == []


def write_client_files(workspace: Path, add_provider: Callable[..., Path]) -> dict[str, str]:
    """One blank provider per broken ``credentials.json``; what doctor must say of each."""
    files: dict[str, bytes] = {
        "notjson": NOT_JSON,
        "notutf8": b"\xff\xfe{}",
        "array": json.dumps([{"client_id": "id", "client_secret": SECRET}]).encode(),
        "noid": json.dumps({"client_secret": SECRET}).encode(),
        "idnumber": json.dumps({"client_id": 12345, "client_secret": SECRET}).encode(),
        "secretobject": json.dumps({"client_id": "id", "client_secret": {"v": SECRET}}).encode(),
        "section": json.dumps({"installed": SECRET}).encode(),
        "good": json.dumps({"client_id": "id", "client_secret": SECRET}).encode(),
    }
    expected: dict[str, str] = {}
    for name, content in files.items():
        path = add_provider(name) / "credentials.json"
        path.write_bytes(content)
        path.chmod(0o600)
        expected[name] = str(path)
    path = add_provider("folder") / "credentials.json"
    path.mkdir()
    expected["folder"] = str(path)
    return expected


def test_a_broken_credentials_json_is_one_error_naming_the_file_and_the_fault(
    workspace: Path, add_provider: Callable[..., Path], add_sandbox: Callable[..., Path]
) -> None:
    paths = write_client_files(workspace, add_provider)
    reasons = {
        "notjson": " is not a readable JSON file: Expecting property name enclosed in double "
        f"quotes (line 1, column {len(NOT_JSON)})",  # at the closing brace
        "notutf8": " is not a readable JSON file: it is not UTF-8 text",
        "array": " is a JSON array, not an object with client_id and client_secret",
        "noid": " has no client_id: add it (and client_secret), or set MULTICHAT_NOID_CLIENT_ID",
        "idnumber": ": `client_id` is a JSON number, not a string",
        "secretobject": ": `client_secret` is a JSON object, not a string",
        "folder": " is a folder, not a file",
    }
    sandbox = add_sandbox("sbx") / "credentials.json"
    sandbox.write_text(json.dumps([SECRET]))

    doctor = run_cli("doctor", cwd=workspace)

    assert SECRET not in doctor.stdout + doctor.stderr
    assert doctor.returncode == 1
    fix = (
        '; fix: make it one JSON object: {"client_id": "...", "client_secret": "..."} (the '
        "secret only where the platform gave one)"
    )
    for name, reason in reasons.items():
        assert lines_of(doctor.stdout, name, "error") == [
            f"{name}: error: {paths[name]}" + reason + fix
        ], doctor.stdout
    assert lines_of(doctor.stdout, "section", "error") == [
        f"section: error: `installed` in {paths['section']} is a JSON string, not an object with "
        f"client_id and client_secret{fix}"
    ]
    assert lines_of(doctor.stdout, "good", "error") == []
    assert not [
        line for line in doctor.stdout.splitlines() if "good: " in line and "client" in line
    ]

    # The runtime reads the file the same way: sign-in stops on the same line, before serving.
    refused = run_cli("auth", "sbx", "--no-browser", "--timeout", "3", cwd=workspace)
    assert refused.returncode == 2, refused
    assert refused.stderr.splitlines() == [
        f"multichat: error: {sandbox} is a JSON array, not an object with client_id and "
        "client_secret"
    ]
    assert lines_of(doctor.stdout, "sbx", "error") == [
        f"sbx: error: {sandbox} is a JSON array, not an object with client_id and client_secret"
        + fix
    ]


def test_a_secret_without_an_id_is_fine_where_the_config_names_the_client(
    workspace: Path, add_sandbox: Callable[..., Path]
) -> None:
    """The sandbox's config has ``oauth.client_id``: a file with the secret alone completes it."""
    path = add_sandbox("sbx") / "credentials.json"
    path.write_text(json.dumps({"client_secret": SECRET}))
    path.chmod(0o600)

    doctor = run_cli("doctor", cwd=workspace)

    assert lines_of(doctor.stdout, "sbx", "error") == [], doctor.stdout
    assert str(path) not in doctor.stdout


def test_each_token_path_state_gets_the_advice_that_mends_it(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    folders = {name: add_provider(name) for name in ("folder", "notutf8", "badjson", "fifo")}
    (folders["folder"] / "token.json").mkdir()  # 0755, as mkdir makes it
    (folders["notutf8"] / "token.json").write_bytes(b"\xff\xfe{}")
    (folders["badjson"] / "token.json").write_text('{"access_token": ')
    os.mkfifo(folders["fifo"] / "token.json", 0o600)  # reading it would wait forever
    for name in ("notutf8", "badjson"):
        (folders[name] / "token.json").chmod(0o600)
    add_provider("blocked")
    set_provider_keys(workspace, "blocked", token_path="README.md/token.json")
    (workspace / "README.md").touch()

    doctor = run_cli("doctor", cwd=workspace, timeout=120)

    token = {name: folder / "token.json" for name, folder in folders.items()}
    assert lines_of(doctor.stdout, "folder", "error") == [
        f"folder: error: the token path {token['folder']} is a folder, not a file; fix: remove "
        "or rename that folder, then `multichat auth folder` saves the token there; or point "
        f"`providers.folder.token_path` at a file, e.g. {token['folder'] / 'token.json'}"
    ], doctor.stdout
    assert "chmod" not in doctor.stdout
    for name in ("notutf8", "badjson"):
        assert lines_of(doctor.stdout, name, "error") == [
            f"{name}: error: token file {token[name]} is not valid JSON; delete it and "
            f"authenticate again; fix: `multichat auth {name}` signs in again and replaces the "
            "file"
        ], doctor.stdout
    assert lines_of(doctor.stdout, "fifo", "error") == [
        f"fifo: error: the token path {token['fifo']} is not a regular file; fix: remove it, "
        "then `multichat auth fifo`"
    ]
    blocker = workspace / "README.md"
    assert lines_of(doctor.stdout, "blocked", "error") == [
        f"blocked: error: the token file {blocker / 'token.json'} cannot be saved: {blocker} is "
        f"a file, not a folder; fix: move {blocker} away, or point `providers.blocked.token_path` "
        "elsewhere"
    ]
    assert "Traceback" not in doctor.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_token_file_says_so_and_how_to_mend_it(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    token = add_provider("alpha") / "token.json"
    token.write_text('{"access_token": "x"}')
    token.chmod(0o000)

    doctor = run_cli("doctor", cwd=workspace)

    assert lines_of(doctor.stdout, "alpha", "error") == [
        f"alpha: error: token file {token} is not readable by this user; fix: `chmod 600 "
        f"{token}`; or `multichat auth alpha` replaces it"
    ], doctor.stdout


def test_a_token_without_an_access_token_counts_as_not_signed_in(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    token = add_provider("alpha") / "token.json"
    token.write_text('{"token_type": "Bearer", "user": {"name": "Ada"}}')
    token.chmod(0o600)

    doctor = run_cli("doctor", cwd=workspace)

    assert (
        f"alpha: warning: token file {token} holds no access_token: alpha counts as not signed "
        "in; fix: `multichat auth alpha` signs in again and replaces the file"
    ) in doctor.stdout.splitlines()
