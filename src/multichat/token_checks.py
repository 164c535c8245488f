"""Where ``run`` would find each provider's token, and what doctor says about it.

The Redis store (reached as ``run`` reaches it), a token file in each of its states (a
folder, a FIFO, unreadable, not JSON, empty), and who signs in: on a team server, each person.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from multichat.contract import TOKEN_FILENAME, env_name
from multichat.errors import SIGN_IN_HINTS, ConfigError
from multichat.finding import Finding
from multichat.runtime.config import WorkspaceConfig, token_dir
from multichat.runtime.credentials import Credentials
from multichat.runtime.token_access import provider_auth
from multichat.runtime.token_store import JsonFileTokenStore, TokenStoreError


def serves_people(config: WorkspaceConfig) -> bool:
    """Whether the workspace is set up as a team server (``server.auth.oidc``, ``--multi-user``).

    There each person signs in for themselves, and the shared token serves nobody.
    """
    return config.server.auth.oidc is not None


def token_store_findings(config: WorkspaceConfig) -> tuple[list[Finding], bool]:
    """The Redis token store ``run`` would use, found as it does; and whether it answers."""
    if not config.server.token_store.redis_url() or not config.providers:
        return [], True
    try:
        # ProviderAuth.store() and a ping: what `run` does before it serves.
        store = provider_auth(next(iter(config.providers))).store()
        from multichat.runtime.redis_token_store import RedisTokenStore

        if not isinstance(store, RedisTokenStore):
            return [], True
        store.ping()
    except (TokenStoreError, ConfigError) as exc:  # never the password: the URL is masked
        return [Finding("redis", "error", str(exc))], False
    return [Finding("redis", "ok", f"tokens are kept in Redis at {store.url}")], True


def token_file_findings(config: WorkspaceConfig, name: str) -> list[Finding]:
    """The token path: a private file holding a JSON object, or nothing yet (not signed in)."""
    path = config.token_path(name)
    if os.environ.get(env_name(name, "TOKEN")) and not serves_people(config):
        return []  # served from the environment, no file needed
    sign_in = f"`multichat auth {name}`"
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return _no_token_file(config, name, path)
    except OSError as exc:  # a folder on the way that this user cannot search
        return [
            Finding(
                name,
                "error",
                f"cannot look at the token file {path}: {exc.strerror}",
                f"let this user into its folders (`chmod u+rx` on {path.parent} and those above)",
            )
        ]
    if stat.S_ISDIR(info.st_mode):
        elsewhere = (
            ""
            if token_dir() is not None
            else f"; or point `providers.{name}.token_path` at a file, e.g. {path / TOKEN_FILENAME}"
        )
        return [
            Finding(
                name,
                "error",
                f"the token path {path} is a folder, not a file",
                f"remove or rename that folder, then {sign_in} saves the token there{elsewhere}",
            )
        ]
    if not stat.S_ISREG(info.st_mode):
        return [
            Finding(
                name,
                "error",
                f"the token path {path} is not a regular file",
                f"remove it, then {sign_in}",
            )
        ]
    findings = []
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        findings.append(
            Finding(
                name, "error", f"{path} is readable by others (mode {mode:o})", f"chmod 600 {path}"
            )
        )
    if not os.access(path, os.R_OK):
        mine = info.st_uid == os.getuid()
        owner = "" if mine else f" (it belongs to user id {info.st_uid})"
        own_it = (
            f"`chmod 600 {path}`" if mine else f"`chown` it to this user, then `chmod 600 {path}`"
        )
        return [
            *findings,
            Finding(
                name,
                "error",
                f"token file {path} is not readable by this user{owner}",
                f"{own_it}; or {sign_in} replaces it",
            ),
        ]
    try:
        data = JsonFileTokenStore(path).load()
    except TokenStoreError as exc:
        findings.append(
            Finding(name, "error", str(exc), f"{sign_in} signs in again and replaces the file")
        )
    else:
        token = Credentials(data) if data is not None else None
        if token is not None and not token.access_token and not token.get("refresh_token"):
            findings.append(
                Finding(
                    name,
                    "warning",
                    f"token file {path} holds no access_token: {name} counts as not signed in",
                    f"{sign_in} signs in again and replaces the file",
                )
            )
    return findings


def _no_token_file(config: WorkspaceConfig, name: str, path: Path) -> list[Finding]:
    """No token yet: a sign-in will save one, unless a file stands where its folder should be."""
    blocker = next((folder for folder in path.parents if folder.exists()), None)
    if blocker is not None and not blocker.is_dir():
        elsewhere = (
            "" if token_dir() is not None else f", or point `providers.{name}.token_path` elsewhere"
        )
        return [
            Finding(
                name,
                "error",
                f"the token file {path} cannot be saved: {blocker} is a file, not a folder",
                f"move {blocker} away{elsewhere}",
            )
        ]
    return _not_signed_in(config, name, f"no {path}")


def _not_signed_in(config: WorkspaceConfig, name: str, missing: str) -> list[Finding]:
    """No shared token (``missing`` says where): who signs in, and how."""
    if serves_people(config):
        return [
            Finding(
                name,
                "note",
                f"{missing}, and none is needed: on a team server (server.auth.oidc) a shared "
                "token serves nobody",
                f"each person signs in through the link their first call to one of {name}'s "
                'tools returns (docs/deploy.md, "One server for a team")',
            )
        ]
    sign_in = config.provider(name).auth.mode
    hint = f" ({SIGN_IN_HINTS[sign_in]})" if sign_in in SIGN_IN_HINTS else ""
    return [
        Finding(
            name,
            "warning",
            f"not signed in ({missing}; sign-in mode: {sign_in})",
            f"`multichat auth {name}`{hint}",
        )
    ]


def redis_token_findings(config: WorkspaceConfig, name: str) -> list[Finding]:
    """Whether Redis holds the provider's token: where ``run`` and ``auth`` read and save it."""
    if os.environ.get(env_name(name, "TOKEN")) and not serves_people(config):
        return []  # served from the environment, no stored token needed
    try:
        store = provider_auth(name).store()
        data = store.load()
    except (TokenStoreError, ConfigError) as exc:  # names the key, never the token
        return [Finding(name, "error", str(exc), f"`multichat auth {name}` replaces it")]
    if data is None:
        return _not_signed_in(config, name, f"no token in Redis at {store.location}")
    token = Credentials(data)
    if not token.access_token and not token.get("refresh_token"):
        return [
            Finding(
                name,
                "warning",
                f"the token in Redis at {store.location} holds no access_token: {name} counts "
                "as not signed in",
                f"`multichat auth {name}` signs in again and replaces it",
            )
        ]
    return [Finding(name, "note", f"Redis holds its token ({store.location})")]
