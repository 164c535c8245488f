"""``multichat doctor`` on a team server's workspace (docs/deploy.md, "One server for a team"):
secret files its ``.gitignore`` or ``.dockerignore`` would let out, and whose sign-in a
provider without a token needs. Each check runs the installed console script in a workspace
made by the current template, with its ignore files cut back where a test needs an older one;
git itself says what it would commit (``git add --dry-run``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli, set_provider_keys

from multichat.runtime.multi_user import PROXY_DIR
from multichat.runtime.users import USERS_DIR

#: The lines commit 681e8f6 added to the template's .gitignore and .dockerignore: a workspace
#: made before it has neither.
TEAM_LINES = (f"{PROXY_DIR.as_posix()}/", f"{USERS_DIR.as_posix()}/")
PROXY_WHAT = "the OAuth proxy's signing key and people's identity-provider tokens"
USERS_WHAT = "each person's platform tokens"
#: A team server's identity provider, as docs/deploy.md ("Configuration") writes it.
OIDC = (
    "server:\n  auth:\n    oidc:\n      issuer: https://login.example.com/\n      client_id: team\n"
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def lines_of(output: str, subject: str, level: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{subject}: {level}: ")]


def ignore_lines(output: str) -> list[str]:
    return lines_of(output, ".gitignore", "error") + lines_of(output, ".dockerignore", "error")


def git(workspace: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=workspace, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def made_before_team_lines(workspace: Path) -> None:
    """Cut the team server's lines out of the ignore files, as the older template wrote them."""
    for name in (".gitignore", ".dockerignore"):
        path = workspace / name
        kept = [line for line in path.read_text().splitlines() if line not in TEAM_LINES]
        path.write_text("\n".join(kept) + "\n")


def team_server_files(workspace: Path) -> list[str]:
    """What one ``run --multi-user`` leaves (tests/e2e/test_e2e_init.py lists the same)."""
    files = [
        PROXY_DIR / "key",
        PROXY_DIR / "store" / "S_mcp_upstream_tokens-1" / "a.json",
        USERS_DIR / "0f1e" / "alpha" / "token.json",
        USERS_DIR / "0f1e" / "alpha" / "state" / "watermarks.json",
    ]
    for file in files:
        (workspace / file).parent.mkdir(parents=True, exist_ok=True)
        (workspace / file).write_text("{}")
        (workspace / file).chmod(0o600)
    return [file.as_posix() for file in files]


def would_commit(workspace: Path) -> str:
    return git(workspace, "add", "--all", "--dry-run")


def apply_fixes(workspace: Path, output: str) -> None:
    """Append to each ignore file the lines doctor's fix names, as a person would."""
    for line in ignore_lines(output):
        fix = line.partition("; fix: add these lines to ")[2]
        path, _, lines = fix.partition(": ")
        with Path(path).open("a") as handle:
            handle.writelines(f"{pattern}\n" for pattern in re.findall(r"`([^`]+)`", lines))


@needs_git
@pytest.mark.parametrize("team", ["folders exist", "config serves people"])
def test_an_older_workspace_is_told_the_ignore_lines_a_team_server_needs(
    workspace: Path, add_provider: Callable[..., Path], team: str
) -> None:
    add_provider("alpha")
    made_before_team_lines(workspace)
    git(workspace, "init", "--quiet")
    if team == "folders exist":
        files = team_server_files(workspace)
        staged = would_commit(workspace)  # *token*.json already covers the people's tokens
        assert all(file in staged for file in files if "token" not in Path(file).name)
    else:
        config = workspace / "provider-config.yaml"
        config.write_text(config.read_text() + OIDC)

    doctor = run_cli("doctor", cwd=workspace)

    exposed = f".multichat/oauth-proxy/ ({PROXY_WHAT}), .multichat/users/ ({USERS_WHAT})"
    add = "`.multichat/oauth-proxy/`, `.multichat/users/`"
    assert ignore_lines(doctor.stdout) == [
        f".gitignore: error: git would commit {exposed}; fix: add these lines to "
        f"{workspace / '.gitignore'}: {add}",
        f".dockerignore: error: a Docker build copies {exposed}; fix: add these lines to "
        f"{workspace / '.dockerignore'}: {add}",
    ], doctor.stdout
    assert doctor.returncode == 1

    apply_fixes(workspace, doctor.stdout)
    mended = run_cli("doctor", cwd=workspace)
    assert ignore_lines(mended.stdout) == [], mended.stdout
    assert not any(line in would_commit(workspace) for line in TEAM_LINES)


@needs_git
def test_a_token_or_client_file_git_would_commit_is_an_error_naming_the_line(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    for name in ("alpha", "beta", "gamma"):
        add_provider(name)
    set_provider_keys(workspace, "gamma", token_path="secrets/gamma.json")
    (workspace / ".gitignore").write_text("__pycache__/\n")  # written by hand
    (workspace / "Dockerfile").unlink()  # no image to build: .dockerignore is not read
    secrets = {
        "src/providers/alpha/token.json": "alpha's token",
        "src/providers/beta/credentials.json": "beta's OAuth client",
        "secrets/gamma.json": "gamma's token",
    }
    for path in secrets:
        (workspace / path).parent.mkdir(exist_ok=True)
        (workspace / path).write_text('{"client_id": "id"}' if "credentials" in path else "{}")
        (workspace / path).chmod(0o600)
    git(workspace, "init", "--quiet")
    assert all(path in would_commit(workspace) for path in secrets)

    doctor = run_cli("doctor", cwd=workspace)

    exposed = ", ".join(f"{path} ({what})" for path, what in secrets.items())
    assert ignore_lines(doctor.stdout) == [
        f".gitignore: error: git would commit {exposed}; fix: add these lines to "
        f"{workspace / '.gitignore'}: `token.json`, `credentials.json`, `secrets/gamma.json`"
    ], doctor.stdout
    apply_fixes(workspace, doctor.stdout)
    assert not [path for path in secrets if path in would_commit(workspace)]


@needs_git
def test_a_workspace_from_the_current_template_lets_no_secret_out(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    token = add_provider("alpha") / "token.json"
    token.write_text("{}")
    token.chmod(0o600)
    team_server_files(workspace)
    config = workspace / "provider-config.yaml"
    config.write_text(config.read_text() + OIDC)
    git(workspace, "init", "--quiet")

    doctor = run_cli("doctor", cwd=workspace)

    assert ignore_lines(doctor.stdout) == [], doctor.stdout
    assert not any(line in would_commit(workspace) for line in TEAM_LINES)
    assert "token.json" not in would_commit(workspace)


def test_without_git_or_a_repository_the_gitignore_is_not_judged(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    made_before_team_lines(workspace)
    team_server_files(workspace)

    outside = run_cli("doctor", cwd=workspace)  # no `git init`: not a repository
    if shutil.which("git"):
        git(workspace, "init", "--quiet")  # a repository, but git is not on PATH below
    no_git = run_cli("doctor", cwd=workspace, env={"PATH": str(workspace / "no-such-folder")})

    for doctor in (outside, no_git):
        assert lines_of(doctor.stdout, ".gitignore", "error") == [], doctor.stdout
        assert len(lines_of(doctor.stdout, ".dockerignore", "error")) == 1, doctor.stdout
        assert "Traceback" not in doctor.stderr


def test_on_a_team_server_a_provider_without_a_token_points_each_person_to_their_link(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    token = add_provider("alpha") / "token.json"
    config = workspace / "provider-config.yaml"
    single = run_cli("doctor", cwd=workspace)
    config.write_text(config.read_text() + OIDC)

    team = run_cli("doctor", cwd=workspace)

    assert (
        f"alpha: warning: not signed in (no {token}; sign-in mode: oauth); fix: `multichat "
        "auth alpha`" in single.stdout.splitlines()
    )
    assert lines_of(team.stdout, "alpha", "note") == [
        f"alpha: note: no {token}, and none is needed: on a team server (server.auth.oidc) a "
        "shared token serves nobody; fix: each person signs in through the link their first "
        'call to one of alpha\'s tools returns (docs/deploy.md, "One server for a team")'
    ], team.stdout
    assert "multichat auth alpha" not in team.stdout
    assert team.returncode == 0, team.stdout


@needs_git
def test_a_secret_committed_before_it_was_ignored_is_an_error_with_the_commands(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    token = add_provider("alpha") / "token.json"
    token.write_text("{}")
    token.chmod(0o600)
    git(workspace, "init", "--quiet")
    git(workspace, "add", "--force", "src/providers/alpha/token.json")
    team_server_files(workspace)
    git(workspace, "add", "--force", PROXY_DIR.as_posix())
    assert "token.json" not in would_commit(workspace)  # ignored, and yet tracked

    doctor = run_cli("doctor", cwd=workspace)

    tracked = lines_of(doctor.stdout, "git", "error")
    assert tracked == [
        f"git: error: git already tracks {PROXY_DIR.as_posix()}/ ({PROXY_WHAT}), "
        "src/providers/alpha/token.json (alpha's token): an ignore line does not take a "
        f"committed file back; fix: `git rm -r --cached {PROXY_DIR.as_posix()}/ "
        "src/providers/alpha/token.json`, then replace each secret (sign in again, a new "
        "client secret): earlier commits still hold it"
    ], doctor.stdout
    assert doctor.returncode != 0
    command = tracked[0].partition("fix: `")[2].partition("`")[0]
    subprocess.run(command.split(), cwd=workspace, check=True, capture_output=True, timeout=60)
    assert lines_of(run_cli("doctor", cwd=workspace).stdout, "git", "error") == []
    assert token.is_file()  # untracked, not deleted
