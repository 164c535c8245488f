"""The checks behind ``multichat doctor``: each provider against the three-file contract.

And what serves them: the token store ``run`` would use, and the secrets git or a Docker
build would carry off.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import shlex
import stat
from pathlib import Path

from multichat.contract import (
    AUTH_ROUTES,
    CONTRACT_FILES,
    GUIDE_KEYS,
    package_name,
)
from multichat.docs_pages import docs_page
from multichat.errors import ConfigError, ProviderLoadError
from multichat.finding import Finding
from multichat.runtime.client_file import BadClientFile
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.loader import LoadReport, activate_workspace, load_providers
from multichat.runtime.oauth import load_client_credentials
from multichat.runtime.served_names import leave_out_collisions, unknown_enabled_tools
from multichat.runtime.sign_in_needs import unmet_needs
from multichat.runtime.tool_budget import tool_budget
from multichat.token_checks import (
    redis_token_findings,
    serves_people,
    token_file_findings,
    token_store_findings,
)


def check_workspace(config: WorkspaceConfig) -> list[Finding]:
    """Check every configured provider; one finding per problem, or one ``ok`` line."""
    activate_workspace(config)
    store, store_answers = token_store_findings(config)
    findings = _versions(config) + store + _secrets_left_in(config) + _unknown_keys(config, None)
    report = load_providers(config)
    leave_out_collisions(report)  # as run serves them: the dropped tools are not counted
    for name in sorted(config.providers):
        findings.extend(check_provider(config, name, report, store_answers=store_answers))
    return findings


def _versions(config: WorkspaceConfig) -> list[Finding]:
    """Which multichat serves, and whether the workspace was made for it and requires it."""
    import sys

    from packaging.requirements import InvalidRequirement, Requirement
    from ruamel.yaml import YAML

    from multichat import __version__
    from multichat.contract import STATE_DIR
    from multichat.generator.install_source import DISTRIBUTION

    label = config.path.name
    findings = [Finding(label, "ok", f"multichat {__version__} in {sys.prefix}")]
    answers = config.root / STATE_DIR / "workspace.yml"
    made_by = (
        (YAML(typ="safe").load(answers.read_text()) or {}).get("_multichat_version")
        if answers.is_file()
        else None
    )
    if made_by and str(made_by).split(".")[:2] != __version__.split(".")[:2]:
        findings.append(
            Finding(
                label,
                "warning",
                f"the workspace was made by multichat {made_by}, this is {__version__}",
                "`multichat upgrade --all` brings its providers to this template",
            )
        )
    pyproject = config.root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            dependencies = []
        for line in dependencies:
            try:
                requirement = Requirement(str(line))
            except InvalidRequirement:
                continue
            if requirement.name == "multichat":
                findings.append(
                    Finding(
                        label,
                        "error",
                        "pyproject.toml requires `multichat`, which on PyPI is another project",
                        f"require `{DISTRIBUTION}` instead (the command stays `multichat`)",
                    )
                )
            elif requirement.name == DISTRIBUTION and not requirement.specifier.contains(
                __version__, prereleases=True
            ):
                findings.append(
                    Finding(
                        label,
                        "warning",
                        f"pyproject.toml requires {requirement}, but this is {__version__}",
                        f"widen the range, or `uv lock --upgrade-package {DISTRIBUTION}`",
                    )
                )
    return findings


def _secrets_left_in(config: WorkspaceConfig) -> list[Finding]:
    """Secret files git would commit or a Docker build would copy: the ignore lines to add.

    A workspace made before the template ignored a team server's folders lacks their lines,
    and ``multichat upgrade`` leaves ``.gitignore`` and ``.dockerignore`` alone.
    """
    from multichat.ignore_files import (
        DOCKERIGNORE,
        GITIGNORE,
        covering_line,
        docker_would_copy,
        git_tracks,
        git_would_commit,
        template_patterns,
    )

    secrets = _secret_paths(config)
    findings = []
    tracked = git_tracks(config.root, list(secrets))
    if tracked:
        findings.append(
            Finding(
                "git",
                "error",
                "git already tracks "
                + ", ".join(f"{path} ({secrets[path]})" for path in tracked)
                + ": an ignore line does not take a committed file back",
                "`git rm -r --cached "
                + " ".join(shlex.quote(path) for path in tracked)
                + "`, then replace each secret (sign in again, a new client secret): earlier "
                "commits still hold it",
            )
        )
    for ignore_file, carried, verb in (
        (GITIGNORE, git_would_commit(config.root, list(secrets)), "git would commit"),
        (DOCKERIGNORE, docker_would_copy(config.root, list(secrets)), "a Docker build copies"),
    ):
        if not carried:
            continue
        template = template_patterns(ignore_file)
        docker = ignore_file == DOCKERIGNORE
        lines = dict.fromkeys(covering_line(template, path, docker=docker) for path in carried)
        findings.append(
            Finding(
                ignore_file,
                "error",
                f"{verb} " + ", ".join(f"{path} ({secrets[path]})" for path in carried),
                f"add these lines to {config.root / ignore_file}: "
                + ", ".join(f"`{line}`" for line in lines),
            )
        )
    return findings


def _secret_paths(config: WorkspaceConfig) -> dict[str, str]:
    """Secrets in the workspace (relative, a folder ending in ``/``), and what each holds.

    A team server's folders count once they exist or the config serves people; a provider's
    token and client file, and the HTTP token, once they exist.
    """
    from multichat.contract import HTTP_TOKEN_FILE
    from multichat.runtime.multi_user import PROXY_DIR
    from multichat.runtime.users import USERS_DIR

    root = config.root.resolve()
    secrets = {
        f"{folder.as_posix()}/": what
        for folder, what in (
            (PROXY_DIR, "the OAuth proxy's signing key and people's identity-provider tokens"),
            (USERS_DIR, "each person's platform tokens"),
        )
        if serves_people(config) or (root / folder).is_dir()
    }
    files = [(root / HTTP_TOKEN_FILE, "the HTTP server's bearer token")]
    for name in sorted(config.providers):
        files += [
            (config.token_path(name), f"{name}'s token"),
            (config.credentials_path(name), f"{name}'s OAuth client"),
        ]
    for path, what in files:
        try:
            resolved = path.resolve()
            kept = resolved.is_file() and resolved.is_relative_to(root)
        except OSError:  # a folder this user cannot search: the token check names it
            continue
        if kept:
            secrets[resolved.relative_to(root).as_posix()] = what
    return secrets


def _unknown_keys(config: WorkspaceConfig, provider: str | None) -> list[Finding]:
    """Keys multichat does not know: a warning where one looks misspelled, else a note."""
    prefix = f"providers.{provider}." if provider else ""
    return [
        Finding(
            provider or config.path.name,
            "warning" if unknown.suggestion else "note",
            str(unknown),
        )
        for unknown in config.unknown_keys
        if unknown.key.startswith(prefix) and (provider or not unknown.key.startswith("providers."))
    ]


def check_provider(
    config: WorkspaceConfig, name: str, report: LoadReport, *, store_answers: bool = True
) -> list[Finding]:
    """All findings for one provider, loaded (or failed) in ``report``, the workspace's.

    Each tool of this provider that another provider's tool is served as instead is an
    error, and not counted as served. Without ``store_answers`` (the Redis token store is
    down) its token is not looked for.
    """
    folder = config.provider_dir(name)
    if not folder.is_dir():
        return [
            Finding(
                name,
                "error",
                f"no folder {folder}",
                f"`multichat new provider {name} --force` or remove its entry",
            )
        ]
    findings = [
        Finding(
            name,
            "error",
            f"missing {file}",
            f"create {folder / file} as {docs_page('provider-guide.md')} shows",
        )
        for file in CONTRACT_FILES
        if not (folder / file).is_file()
    ]
    findings += _description_keyword(name, folder / "mcp_instance.py")
    served = ""
    if not findings:
        loaded = report.providers.get(name)
        if loaded is None:
            reasons = [failure.reason for failure in report.failures if failure.name == name]
            findings += [Finding(name, "error", reason) for reason in reasons]
        else:
            lost = [collision for collision in report.collisions if collision.dropped == name]
            findings += [
                Finding(name, "error", collision.problem, collision.fix) for collision in lost
            ]
            findings += [
                Finding(name, "warning", unknown.problem, unknown.fix)
                for unknown in unknown_enabled_tools(loaded)
            ]
            budget = tool_budget(loaded)
            served = (
                f"{budget.tools} tool(s) served, {budget.size:,} bytes of tools/list "
                f"(about {budget.tokens:,} tokens)"
            )
            findings += _server_auth(name) + _api_auth(name) + _sign_in_needs(config, name)
    findings += _config_keys(config, name) + _unknown_keys(config, name)
    if not config.server.token_store.redis_url():
        findings += token_file_findings(config, name)
    elif store_answers:
        findings += redis_token_findings(config, name)
    findings += _client_credentials(config, name)
    if not any(f.level == "error" for f in findings):
        findings.insert(0, Finding(name, "ok", f"contract honoured, {served}"))
    return findings


def _description_keyword(name: str, path: Path) -> list[Finding]:
    """Hand-written code from the guide passes ``description=``, which FastMCP 4 rejects."""
    if not path.is_file():
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        return [Finding(name, "error", f"{path}:{exc.lineno}: syntax error: {exc.msg}")]
    return [
        Finding(
            name,
            "error",
            f"{path}:{node.lineno}: FastMCP(..., description=...) is gone in FastMCP 4",
            "pass instructions=description instead",
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "FastMCP"
        and any(keyword.arg == "description" for keyword in node.keywords)
    ]


def _server_auth(name: str) -> list[Finding]:
    module_name = f"{package_name(name)}.server_auth"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # doctor reports whatever a provider's module raises
        return [
            Finding(name, "error", f"{module_name} does not import: {type(exc).__name__}: {exc}")
        ]
    findings = []
    paths = {
        getattr(route, "path", None)
        for route in getattr(getattr(module, "app", None), "routes", [])
    }
    missing = [path for path in AUTH_ROUTES if path not in paths]
    if missing:
        findings.append(
            Finding(
                name,
                "error",
                f"server_auth.app lacks {', '.join(missing)}",
                "expose a FastAPI `app` with /auth, /auth/callback and /status",
            )
        )
    runner = getattr(module, "run_auth_server", None)
    if not callable(runner):
        findings.append(Finding(name, "error", "server_auth has no run_auth_server(host, port)"))
    else:
        parameters = inspect.signature(runner).parameters
        if not {"host", "port"} <= set(parameters):
            findings.append(Finding(name, "error", "run_auth_server must take host and port"))
    return findings


def _api_auth(name: str) -> list[Finding]:
    module_name = f"{package_name(name)}.api.auth"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # doctor reports whatever a provider's module raises
        return [
            Finding(name, "error", f"{module_name} does not import: {type(exc).__name__}: {exc}")
        ]
    findings = [
        Finding(name, "error", f"api/auth.py has no {attribute}()")
        for attribute in ("get_credentials", "save_credentials")
        if not callable(getattr(module, attribute, None))
    ]
    if not isinstance(getattr(module, "_token_info", None), dict):
        findings.append(
            Finding(name, "error", "api/auth.py has no module-level `_token_info` dict")
        )
    if not callable(getattr(module, "get_token_info", None)):
        findings.append(Finding(name, "warning", "api/auth.py has no get_token_info()"))
    return findings


def _config_keys(config: WorkspaceConfig, name: str) -> list[Finding]:
    raw = config.raw.get(name) or {}
    missing = [key for key in GUIDE_KEYS if key not in raw]
    if not missing:
        return []
    return [
        Finding(
            name,
            "warning",
            f"{config.path.name} lacks {', '.join(missing)}",
            f"add them as {docs_page('provider-guide.md')} lists",
        )
    ]


def _sign_in_needs(config: WorkspaceConfig, name: str) -> list[Finding]:
    """One warning naming what the provider's sign-in mode lacks, and where to add it."""
    try:
        needs = unmet_needs(config, name)
    except ProviderLoadError:
        return []  # api/auth.py does not import: _api_auth reports it
    if not needs:
        return []
    mode = config.provider(name).auth.mode
    return [
        Finding(
            name,
            "warning",
            f"sign-in mode {mode} is missing {', plus '.join(need.what for need in needs)}",
            "; ".join(need.fix for need in needs),
        )
    ]


def _client_credentials(config: WorkspaceConfig, name: str) -> list[Finding]:
    """An OAuth client id where the sign-in needs one (oauth and device modes)."""
    if config.provider(name).auth.mode not in ("oauth", "device"):
        return []
    try:
        load_client_credentials(config, name)
    except BadClientFile as exc:  # never a value from the file: the message names none
        return [
            Finding(
                name,
                "error",
                str(exc),
                'make it one JSON object: {"client_id": "...", "client_secret": "..."} '
                "(the secret only where the platform gave one)",
            )
        ]
    except ConfigError as exc:
        return [Finding(name, "warning", str(exc))]
    path = config.credentials_path(name)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0
    if mode & 0o077:
        return [
            Finding(
                name,
                "warning",
                f"{path} is readable by others (mode {mode:o})",
                f"chmod 600 {path}",
            )
        ]
    return []
