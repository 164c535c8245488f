"""Read ``provider-config.yaml`` into pydantic models; errors name the file, line and key.

The file is found from an explicit path, then the path set by :func:`use_config` (the CLI's
``--config``), then ``MULTICHAT_CONFIG``, then by walking up from the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from multichat.errors import ConfigError, ConfigNotFound, UnknownProvider
from multichat.runtime.addresses import is_loopback

CONFIG_FILENAME = "provider-config.yaml"
CONFIG_ENV = "MULTICHAT_CONFIG"

AuthMethod = Literal["client_secret_post", "client_secret_basic", "none"]

#: Seconds a tool may run before its call ends in an error (``tool_timeout`` overrides it).
DEFAULT_TOOL_TIMEOUT = 60.0
#: Seconds one HTTP request of the shared platform client may take (``http_timeout``).
DEFAULT_HTTP_TIMEOUT = 15.0


class OAuthSettings(BaseModel):
    """The ``oauth:`` block of a provider: where and how to run the authorization-code flow."""

    model_config = ConfigDict(extra="forbid")

    authorize_url: str | None = None
    token_url: str | None = None
    revoke_url: str | None = None
    userinfo_url: str | None = None
    scope_separator: str = " "
    pkce: bool = True
    token_endpoint_auth_method: AuthMethod = "client_secret_post"  # noqa: S105 - not a secret
    extra_authorize_params: dict[str, str] = Field(default_factory=dict)


class ProviderConfig(BaseModel):
    """One entry under ``providers:``; the guide's keys plus multichat's optional extras."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    description: str = ""
    token_path: str | None = None
    credentials_path: str | None = None
    callback_url: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    scopes: list[str] = Field(default_factory=list)
    oauth: OAuthSettings | None = None
    api_base_url: str | None = None
    read_only: bool = False
    enabled_tools: list[str] | None = None
    tool_timeout: float = Field(default=DEFAULT_TOOL_TIMEOUT, gt=0, allow_inf_nan=False)
    http_timeout: float = Field(default=DEFAULT_HTTP_TIMEOUT, gt=0, allow_inf_nan=False)

    @field_validator("scopes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


JWTAlgorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
]


class JWTSettings(BaseModel):
    """``server.auth.jwt``: accept bearer JWTs signed by a key from ``jwks_uri``.

    ``issuer`` and ``audience`` are required so a token minted for another service is refused.
    """

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(min_length=1)
    audience: str | list[str]
    jwks_uri: str
    algorithm: JWTAlgorithm = "RS256"

    @field_validator("audience")
    @classmethod
    def _audience_not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value or (isinstance(value, list) and not all(value)):
            raise ValueError("give the audience your tokens carry in `aud`")
        return value

    @field_validator("jwks_uri")
    @classmethod
    def _jwks_over_https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "must be an http(s) URL, like https://issuer.example/.well-known/jwks.json"
            )
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError("must use https (plain http is only accepted on localhost)")
        return value


class ServerAuthSettings(BaseModel):
    """``server.auth``: how HTTP clients prove who they are."""

    model_config = ConfigDict(extra="forbid")

    jwt: JWTSettings | None = None


class ServerSettings(BaseModel):
    """The optional top-level ``server:`` block: settings of ``multichat run`` itself."""

    model_config = ConfigDict(extra="forbid")

    auth: ServerAuthSettings = Field(default_factory=ServerAuthSettings)

    @field_validator("auth", mode="before")
    @classmethod
    def _none_is_default(cls, value: object) -> object:
        return {} if value is None else value


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("server", mode="before")
    @classmethod
    def _none_is_default(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("providers", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value


@dataclass(frozen=True)
class WorkspaceConfig:
    """A parsed ``provider-config.yaml``: where it lives and what it says."""

    path: Path
    providers: Mapping[str, ProviderConfig]
    raw: Mapping[str, Any] = field(repr=False)
    server: ServerSettings = field(default_factory=ServerSettings)

    @property
    def root(self) -> Path:
        """The workspace folder: relative paths in the file resolve against it."""
        return self.path.parent

    def provider(self, name: str) -> ProviderConfig:
        """Return one provider's settings, or raise :class:`UnknownProvider` naming the choices."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers)) or "none yet"
            raise UnknownProvider(
                f"no provider {name!r} in {self.path} (configured: {known}); "
                f"add one with `multichat new provider {name}`"
            ) from None

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path from the file against the workspace folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path

    def provider_dir(self, name: str) -> Path:
        """The provider's package folder, ``src/providers/NAME``."""
        return self.root / "src" / "providers" / name

    def token_path(self, name: str) -> Path:
        """Where the provider's token lives: its ``token_path`` or ``<package>/token.json``."""
        configured = self.provider(name).token_path
        return self.resolve(configured) if configured else self.provider_dir(name) / "token.json"

    def credentials_path(self, name: str) -> Path:
        """Where the provider's client id and secret live (``credentials.json`` by default)."""
        configured = self.provider(name).credentials_path
        if configured:
            return self.resolve(configured)
        return self.provider_dir(name) / "credentials.json"


_active_path: Path | None = None
_cache: dict[Path, tuple[tuple[int, ...], WorkspaceConfig]] = {}


def use_config(path: str | os.PathLike[str] | None) -> None:
    """Make ``path`` the configuration this process uses (``None`` goes back to discovery)."""
    global _active_path
    _active_path = Path(path).resolve() if path is not None else None


def find_config(start: str | os.PathLike[str] | None = None) -> Path:
    """Locate ``provider-config.yaml``: the active path, ``MULTICHAT_CONFIG``, or walking up."""
    if _active_path is not None:
        return _active_path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    raise ConfigNotFound(
        f"no {CONFIG_FILENAME} in {here} or any folder above it: "
        "run `multichat init DIR` to make a workspace, or pass --config PATH"
    )


def load_config(path: str | os.PathLike[str] | None = None) -> WorkspaceConfig:
    """Load and validate the configuration; cached until the file changes on disk."""
    config_path = Path(path).expanduser().resolve() if path is not None else find_config()
    try:
        stat = config_path.stat()
    except FileNotFoundError:
        raise ConfigNotFound(
            f"{config_path} does not exist: run `multichat init DIR` or pass --config PATH"
        ) from None
    stamp = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)
    cached = _cache.get(config_path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    config = parse_config(config_path.read_text(encoding="utf-8"), config_path)
    _cache[config_path] = (stamp, config)
    return config


def read_yaml_document(text: str, path: Path) -> Any:
    """Parse YAML round-trip (no object construction), turning syntax errors into one line."""
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: {problem}; fix the YAML syntax there") from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def parse_config(text: str, path: Path) -> WorkspaceConfig:
    """Validate the text of a configuration file; ``path`` is used in messages."""
    document = read_yaml_document(text, path)
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}:1: the file must be a mapping with a `providers:` key")
    providers = document.get("providers")
    if providers is not None and not isinstance(providers, Mapping):
        line, column = (
            document.lc.key("providers") if isinstance(document, CommentedBase) else (0, 0)
        )
        raise ConfigError(
            f"{path}:{line + 1}:{column + 1}: `providers` must be a mapping of name to settings"
        )
    try:
        parsed = _ConfigFile.model_validate(to_plain(document))
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        key = ".".join(str(part) for part in location)
        line = _line_of(document, location)
        raise ConfigError(f"{path}:{line}: `{key}`: {error['msg']}") from None
    _refuse_paths_leaving(path.parent, parsed.providers, document, path)
    raw = to_plain(providers or {})
    return WorkspaceConfig(path=path, providers=parsed.providers, raw=raw, server=parsed.server)


def _refuse_paths_leaving(
    root: Path, providers: Mapping[str, ProviderConfig], document: Any, path: Path
) -> None:
    """Refuse a relative ``token_path``/``credentials_path`` that resolves outside ``root``.

    An absolute (or ``~``) path is an explicit choice and is kept; a relative one must stay in
    the workspace, so a shared or copied config cannot quietly aim a secret at a file elsewhere.
    """
    inside = root.resolve()
    for name, settings in providers.items():
        for key in ("token_path", "credentials_path"):
            value = getattr(settings, key)
            if not value:
                continue
            relative = Path(value).expanduser()
            if relative.is_absolute() or (inside / relative).resolve().is_relative_to(inside):
                continue
            line = _line_of(document, ("providers", name, key))
            raise ConfigError(
                f"{path}:{line}: `providers.{name}.{key}`: {value!r} resolves outside the "
                f"workspace {inside}; keep it inside, or write an absolute path if you mean it"
            )


def provider_settings(provider: str) -> ProviderConfig | None:
    """The provider's settings in the active configuration; ``None`` without one that has it."""
    try:
        return load_config().provider(provider)
    except (ConfigNotFound, UnknownProvider):
        return None


def to_plain(node: Any) -> Any:
    """Turn ruamel's commented containers and scalar subclasses into plain Python values."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [to_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    for plain in (int, float, str):
        if isinstance(node, plain):
            return plain(node)
    return node


def _line_of(document: Any, location: tuple[Any, ...]) -> int:
    """Best line number (1-based) for a key path, falling back to its nearest parent."""
    line = 1
    node = document
    for part in location:
        if not isinstance(node, CommentedBase):
            break
        try:
            if isinstance(node, Mapping) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, Sequence) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


def get_provider_config_value(provider: str, key: str, default: Any = None) -> Any:
    """The guide's accessor: a provider's raw value for ``key`` (``default`` when absent)."""
    config = load_config()
    config.provider(provider)
    return config.raw.get(provider, {}).get(key, default)
