"""Read ``provider-config.yaml`` into pydantic models; errors name the file, line and key.

The file is found from an explicit path, then the path set by :func:`use_config` (the CLI's
``--config``), then ``MULTICHAT_CONFIG``, then by walking up from the working directory.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml.comments import CommentedBase

from multichat.contract import (
    CONFIG_ENV,
    CONFIG_FILENAME,
    CREDENTIALS_FILENAME,
    PROVIDER_NAME_PATTERN,
    TOKEN_FILENAME,
    find_config_upwards,
    package_dir,
    validate_provider_name,
)
from multichat.errors import ConfigError, ConfigNotFound, InvalidProviderName, UnknownProvider
from multichat.runtime.addresses import is_loopback
from multichat.runtime.config_cache import remember, remembered
from multichat.yaml_documents import line_of, read_yaml_document, to_plain

TOKEN_DIR_ENV = "MULTICHAT_TOKEN_DIR"  # noqa: S105 - a variable's name


def token_dir() -> Path | None:
    """The folder ``MULTICHAT_TOKEN_DIR`` names (it may not exist yet), or ``None`` when unset.

    Raises:
        ConfigError: it names something that is not a folder (a file).
    """
    value = os.environ.get(TOKEN_DIR_ENV)
    if not value:
        return None
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"{TOKEN_DIR_ENV} is {folder}, which is not a folder: point it at a folder "
            "(it is created if missing), or unset it to keep each token at its token_path"
        )
    return folder


#: A Redis URL that puts every token in Redis instead of files (wins over ``server.token_store``).
REDIS_URL_ENV = "MULTICHAT_REDIS_URL"

AuthMethod = Literal["client_secret_post", "client_secret_basic", "none"]

#: Seconds a tool may run before its call ends in an error (``tool_timeout`` overrides it).
DEFAULT_TOOL_TIMEOUT = 60.0
#: Seconds one HTTP request of the shared platform client may take (``http_timeout``).
DEFAULT_HTTP_TIMEOUT = 15.0


class OAuthSettings(BaseModel):
    """The ``oauth:`` block of a provider: where and how to run the authorization-code flow."""

    model_config = ConfigDict(extra="forbid")

    #: A public client's id (not a secret), when there is no credentials file.
    client_id: str | None = None
    #: Where to discover the endpoints (RFC 8414 / OpenID Connect): the issuer, or the
    #: metadata document's own URL. Endpoints set below win over discovered ones.
    issuer: str | None = None
    metadata_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    #: RFC 8628's device authorization endpoint, for ``auth.mode: device``.
    device_authorization_url: str | None = None
    #: Register a client at the server's ``registration_endpoint`` (RFC 7591) when there is
    #: none yet: servers that hand out clients themselves (Matrix's next-generation auth).
    dynamic_registration: bool = False
    revoke_url: str | None = None
    userinfo_url: str | None = None
    scope_separator: str = " "
    #: The authorize parameter that carries the scopes: ``scope``, or Slack's ``user_scope``
    #: (its ``scope`` asks for a bot's scopes).
    scope_param: str = "scope"
    #: Where in the token response the user's token is, when it is not at the top level:
    #: Slack's ``authed_user``.
    token_key: str | None = None
    pkce: bool = True
    token_endpoint_auth_method: AuthMethod = "client_secret_post"  # noqa: S105 - not a secret
    extra_authorize_params: dict[str, str] = Field(default_factory=dict)


SignInMode = Literal["oauth", "token", "password", "device"]
TokenScheme = Literal["bearer", "bot", "basic"]


class SignInSettings(BaseModel):
    """The ``auth:`` block of a provider: how its user signs in, and how the token is sent."""

    model_config = ConfigDict(extra="forbid")

    mode: SignInMode = "oauth"
    scheme: TokenScheme = "bearer"
    #: The platform's who-am-I call: a path under ``api_base_url``, or an absolute URL.
    whoami: str | None = None


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
    auth: SignInSettings = Field(default_factory=SignInSettings)
    oauth: OAuthSettings | None = None
    api_base_url: str | None = None
    read_only: bool = False
    enabled_tools: list[str] | None = None
    #: Which of the provider's tools are served: ``read``, ``write`` or ``all`` (toolsets.py).
    toolsets: list[Literal["read", "write", "all"]] | None = None
    tool_timeout: float = Field(default=DEFAULT_TOOL_TIMEOUT, gt=0, allow_inf_nan=False)
    http_timeout: float = Field(default=DEFAULT_HTTP_TIMEOUT, gt=0, allow_inf_nan=False)
    #: Advertise the chat tools' result schemas in ``tools/list`` (docs/context.md says why off).
    output_schemas: bool = False

    @field_validator("scopes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("token_path", "credentials_path")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\0" in value:
            raise ValueError("a path cannot hold a NUL character")
        return value


def https_unless_loopback(value: str, example: str) -> str:
    """``value`` if it is an https URL, or http on a loopback name; ``ValueError`` otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL, like {example}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("must use https (plain http is only accepted on localhost)")
    return value


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
        return https_unless_loopback(value, "https://issuer.example/.well-known/jwks.json")


class OIDCSettings(BaseModel):
    """``server.auth.oidc``: the identity provider that says who each MCP user is (multi-user).

    Any OpenID Connect issuer: ``config_url`` (its discovery document) or ``issuer`` (the
    document is then ``ISSUER/.well-known/openid-configuration``), and the client the
    deployment registered there, whose redirect URI is ``PUBLIC_URL/oidc/callback``. The secret
    is better kept in ``MULTICHAT_OIDC_CLIENT_SECRET`` than in this file.
    """

    model_config = ConfigDict(extra="forbid")

    config_url: str | None = None
    issuer: str | None = None
    client_id: str = Field(min_length=1)
    client_secret: str | None = Field(default=None, repr=False)
    #: Scopes asked of the identity provider; ``openid`` is what identifies the person.
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    #: An ``audience`` parameter some providers (Auth0) need to issue a JWT access token.
    audience: str | None = None

    @property
    def discovery_url(self) -> str:
        """The discovery document's URL."""
        if self.config_url:
            return self.config_url
        return f"{(self.issuer or '').rstrip('/')}/.well-known/openid-configuration"

    @field_validator("config_url", "issuer")
    @classmethod
    def _over_https(cls, value: str | None) -> str | None:
        return None if value is None else https_unless_loopback(value, "https://idp.example")

    @model_validator(mode="after")
    def _one_source(self) -> OIDCSettings:
        if not self.config_url and not self.issuer:
            raise ValueError("set `config_url` (the discovery document) or `issuer`")
        return self


class ServerAuthSettings(BaseModel):
    """``server.auth``: how HTTP clients prove who they are."""

    model_config = ConfigDict(extra="forbid")

    jwt: JWTSettings | None = None
    oidc: OIDCSettings | None = None


class TokenStoreSettings(BaseModel):
    """``server.token_store``: keep tokens in Redis so several server instances share them.

    Without a ``url`` (and without ``MULTICHAT_REDIS_URL``) each token stays in its 0600 file.
    """

    model_config = ConfigDict(extra="forbid")

    #: ``redis://[:password@]host:port/db``, ``rediss://`` (TLS) or ``unix:///path.sock``.
    url: str | None = Field(default=None, repr=False)
    #: The workspace's part of every key; several workspaces on one Redis need different ones.
    namespace: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    #: Seconds a refresh may hold the lock: an instance that dies holding it blocks no longer.
    lock_lease: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    #: Seconds a caller waits for the lock before giving up (default: twice the lease).
    lock_wait: float | None = Field(default=None, gt=0, le=7200, allow_inf_nan=False)

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        # The message never repeats the value: it may hold a password.
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    def redis_url(self) -> str | None:
        """The Redis URL in force: ``MULTICHAT_REDIS_URL``, else ``url``; ``None``: files."""
        return os.environ.get(REDIS_URL_ENV) or self.url


class ServerSettings(BaseModel):
    """The optional top-level ``server:`` block: settings of ``multichat run`` itself."""

    model_config = ConfigDict(extra="forbid")

    auth: ServerAuthSettings = Field(default_factory=ServerAuthSettings)
    #: Start with no provider tools listed; a client enables toolsets as it needs them.
    dynamic: bool = False
    token_store: TokenStoreSettings = Field(default_factory=TokenStoreSettings)
    #: The URL people and MCP clients reach this server at (``https://mcp.example.com``):
    #: the base of OAuth metadata and of sign-in links. ``--public-url`` overrides it.
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _public_over_https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "?" in value or "#" in value:  # paths are appended to it: /mcp, /signin/NAME/...
            raise ValueError(
                "must not have a query string or a fragment (`?...`, `#...`): give the base "
                "URL, like https://mcp.example.com"
            )
        return https_unless_loopback(value, "https://mcp.example.com").rstrip("/")

    @field_validator("auth", "token_store", mode="before")
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
class UnknownKey:
    """A key multichat does not know: a provider's own setting, or a misspelled one."""

    path: Path
    line: int
    key: str
    suggestion: str | None

    def __str__(self) -> str:
        """``file:line: `providers.x.readonly` is not a multichat setting; did you mean ...``."""
        text = f"{self.path}:{self.line}: `{self.key}` is not a multichat setting"
        if self.suggestion:
            return f"{text}; did you mean `{self.suggestion}`?"
        return f"{text} (fine if your provider's own code reads it)"


@dataclass(frozen=True)
class WorkspaceConfig:
    """A parsed ``provider-config.yaml``: where it lives and what it says."""

    path: Path
    providers: Mapping[str, ProviderConfig]
    raw: Mapping[str, Any] = field(repr=False)
    server: ServerSettings = field(default_factory=ServerSettings)
    unknown_keys: tuple[UnknownKey, ...] = ()

    @property
    def warnings(self) -> list[str]:
        """Keys that look like misspelled settings (``readonly``): each silently does nothing."""
        return [str(key) for key in self.unknown_keys if key.suggestion]

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
            # A folder left without its entry (edited out by hand, or removed with its token
            # kept) makes a plain `new provider` refuse: --force generates over it.
            named = PROVIDER_NAME_PATTERN.fullmatch(name) is not None
            leftover = named and self.provider_dir(name).is_dir()
            how = (
                f"`multichat new provider {name} --force` takes over its folder {package_dir(name)}"
                if leftover
                else f"add one with `multichat new provider {name}`"
            )
            raise UnknownProvider(
                f"no provider {name!r} in {self.path} (configured: {known}); {how}"
            ) from None

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path from the file against the workspace folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path

    def provider_dir(self, name: str) -> Path:
        """The provider's package folder, ``src/providers/NAME``."""
        return self.root / package_dir(name)

    def token_path(self, name: str) -> Path:
        """Where the provider's token lives: its ``token_path`` or ``<package>/token.json``.

        ``MULTICHAT_TOKEN_DIR`` puts every token in one folder instead (``NAME.json``): a
        container keeps them on a volume, apart from the code.
        """
        folder = token_dir()
        if folder is not None:
            self.provider(name)
            return folder / f"{name}.json"
        configured = self.provider(name).token_path
        return self.resolve(configured) if configured else self.provider_dir(name) / TOKEN_FILENAME

    def credentials_path(self, name: str) -> Path:
        """Where the provider's client id and secret live (``credentials.json`` by default)."""
        configured = self.provider(name).credentials_path
        if configured:
            return self.resolve(configured)
        return self.provider_dir(name) / CREDENTIALS_FILENAME


_active_path: Path | None = None
_cache: dict[Path, tuple[tuple[int, ...], WorkspaceConfig]] = {}


def use_config(path: str | os.PathLike[str] | None) -> None:
    """Make ``path`` the configuration this process uses (``None`` goes back to discovery)."""
    global _active_path
    _active_path = config_location(path) if path is not None else None


def config_location(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute, its folder resolved but a symlinked file itself not followed.

    The workspace is the folder the config is found in, not the folder a symlink to it leads to.
    """
    absolute = Path(path).expanduser().absolute()
    if absolute.name in ("", ".."):
        return absolute.resolve()
    return absolute.parent.resolve() / absolute.name


def find_config(start: str | os.PathLike[str] | None = None) -> Path:
    """Locate ``provider-config.yaml``: the active path, ``MULTICHAT_CONFIG``, or walking up."""
    if _active_path is not None:
        return _active_path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return config_location(from_env)
    here = Path(start or Path.cwd()).resolve()
    found = find_config_upwards(here)
    if found is not None:
        return found
    raise ConfigNotFound(
        f"no {CONFIG_FILENAME} in {here} or any folder above it: "
        "run `multichat init DIR` to make a workspace, or pass --config PATH"
    )


def load_config(path: str | os.PathLike[str] | None = None) -> WorkspaceConfig:
    """Load and validate the configuration; cached until the file changes on disk."""
    config_path = config_location(path) if path is not None else find_config()
    try:
        stat = config_path.stat()
    except FileNotFoundError:
        raise ConfigNotFound(
            f"{config_path} does not exist: run `multichat init DIR` or pass --config PATH"
        ) from None
    if S_ISDIR(stat.st_mode):
        raise ConfigError(
            f"{config_path} is a folder, not a file: pass its {CONFIG_FILENAME} "
            f"(--config {config_path / CONFIG_FILENAME})"
        )
    stamp = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)
    cached = _cache.get(config_path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    config = parse_config(read_config_text(config_path), config_path)
    _cache[config_path] = (stamp, config)
    return config


def read_config_text(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 are one line naming where they are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8"
        ) from None


def parse_config(text: str, path: Path) -> WorkspaceConfig:
    """Validate the text of a configuration file; ``path`` is used in messages.

    Text that read cleanly before is not read again (:mod:`.config_cache`): its plain data is
    validated as the file's would be, and any problem sends it through the full reader, whose
    messages carry line numbers.
    """
    known = remembered(path, text)
    if known is not None:
        with contextlib.suppress(ConfigError):
            return _validated(known.document, path, _remembered_line(known.lines))
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
    for name in providers or {}:
        try:
            validate_provider_name(str(name))
        except InvalidProviderName as exc:
            line = line_of(document, ("providers", name))
            raise ConfigError(f"{path}:{line}: `providers.{name}`: {exc}") from None
    plain = to_plain(document)
    config = _validated(plain, path, lambda location: line_of(document, location), document)
    remember(path, text, plain, {key.key: key.line for key in config.unknown_keys})
    return config


class _Unremembered(ConfigError):
    """A line the cache did not keep: the file is read in full instead."""


def _remembered_line(lines: Mapping[str, int]) -> Callable[[tuple[Any, ...]], int]:
    def line_for(location: tuple[Any, ...]) -> int:
        dotted = ".".join(str(part) for part in location)
        if dotted not in lines:
            raise _Unremembered(dotted)
        return lines[dotted]

    return line_for


def _validated(
    plain: Mapping[str, Any],
    path: Path,
    line_for: Callable[[tuple[Any, ...]], int],
    keys: Mapping[str, Any] | None = None,
) -> WorkspaceConfig:
    """The configuration ``plain`` (the file's data as plain values) describes.

    ``line_for`` gives the line of a key for messages; ``keys`` is the document whose keys
    are checked for unknown ones (``plain`` itself when not given).
    """
    providers = plain.get("providers")
    if providers is not None and not isinstance(providers, Mapping):
        raise ConfigError(f"{path}: `providers` must be a mapping of name to settings")
    for name in providers or {}:
        try:
            validate_provider_name(str(name))
        except InvalidProviderName as exc:
            line = line_for(("providers", name))
            raise ConfigError(f"{path}:{line}: `providers.{name}`: {exc}") from None
    try:
        parsed = _ConfigFile.model_validate(plain)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        key = ".".join(str(part) for part in location)
        line = line_for(location)
        raise ConfigError(f"{path}:{line}: `{key}`: {error['msg']}") from None
    _refuse_paths_leaving(path.parent, parsed.providers, line_for, path)
    return WorkspaceConfig(
        path=path,
        providers=parsed.providers,
        raw=to_plain(providers or {}),
        server=parsed.server,
        unknown_keys=tuple(_unknown_keys(plain if keys is None else keys, path, line_for)),
    )


#: How alike a key must be to a known one to be called a misspelling of it (difflib ratio).
_LIKENESS = 0.75


def _unknown_keys(
    document: Mapping[str, Any], path: Path, line_for: Callable[[tuple[Any, ...]], int]
) -> list[UnknownKey]:
    """Top-level and provider keys that no model field has, each with its closest known key."""
    found: list[UnknownKey] = []

    def check(keys: Iterable[Any], known: Collection[str], prefix: tuple[str, ...]) -> None:
        for key in keys:
            if str(key) in known:
                continue
            close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=_LIKENESS)
            location = (*prefix, key)
            found.append(
                UnknownKey(
                    path,
                    line_for(location),
                    ".".join(str(part) for part in location),
                    close[0] if close else None,
                )
            )

    check(document, _ConfigFile.model_fields, ())
    providers = document.get("providers")
    for name, settings in (providers or {}).items():
        if isinstance(settings, Mapping):
            check(settings, ProviderConfig.model_fields, ("providers", str(name)))
    return found


def _refuse_paths_leaving(
    root: Path,
    providers: Mapping[str, ProviderConfig],
    line_for: Callable[[tuple[Any, ...]], int],
    path: Path,
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
            line = line_for(("providers", name, key))
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


def get_provider_config_value(provider: str, key: str, default: Any = None) -> Any:
    """The guide's accessor: a provider's raw value for ``key`` (``default`` when absent)."""
    config = load_config()
    config.provider(provider)
    return config.raw.get(provider, {}).get(key, default)
