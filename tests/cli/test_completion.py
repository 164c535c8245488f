"""Shell completion through the console script: click's protocol, in a real subprocess."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env, run_cli

CONFIG = "providers:\n  alpha:\n    name: Alpha\n  beta:\n    name: Beta\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A folder with a provider-config.yaml naming two providers (no code needed to complete)."""
    (tmp_path / "provider-config.yaml").write_text(CONFIG)
    (tmp_path / "sub").mkdir()
    return tmp_path


def complete(cwd: Path, shell: str, line: str, **env: str) -> list[str]:
    """What ``shell`` would offer after ``line`` (bash: the last word is being completed)."""
    words = line.split(" ")
    if shell == "bash":
        protocol = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    else:
        protocol = {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    result = subprocess.run(
        [MULTICHAT],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(_MULTICHAT_COMPLETE=f"complete_{shell}", **protocol, **env),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    "line",
    ["multichat auth ", "multichat remove provider ", "multichat upgrade provider "],
)
def test_provider_arguments_complete_from_the_workspace(ws: Path, line: str) -> None:
    assert complete(ws / "sub", "bash", line) == ["alpha", "beta"]


def test_provider_options_complete_with_a_prefix(ws: Path) -> None:
    assert complete(ws, "bash", "multichat run --provider b") == ["beta"]
    assert complete(ws, "bash", "multichat install mcp-json -p a") == ["alpha"]


def test_fish_gets_the_names_too(ws: Path) -> None:
    assert complete(ws, "fish", "multichat auth ") == ["alpha", "beta"]


def test_config_variable_names_the_workspace(ws: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = {"MULTICHAT_CONFIG": str(ws / "provider-config.yaml")}

    assert complete(elsewhere, "bash", "multichat auth ", **env) == ["alpha", "beta"]
    assert complete(elsewhere, "bash", "multichat auth ") == []


def test_presets_complete(ws: Path) -> None:
    offered = complete(ws, "bash", "multichat new provider x --preset ")

    assert {"blank", "sandbox"} <= set(offered)
    assert complete(ws, "bash", "multichat new provider x --preset sa") == ["sandbox"]


def test_a_broken_config_completes_nothing_quietly(tmp_path: Path) -> None:
    (tmp_path / "provider-config.yaml").write_text("providers: [unclosed\n")

    assert complete(tmp_path, "bash", "multichat auth ") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(tmp_path: Path, shell: str) -> None:
    result = subprocess.run(
        [MULTICHAT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(_MULTICHAT_COMPLETE=f"source_{shell}"),
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "_MULTICHAT_COMPLETE=complete_" in result.stdout


def test_show_completion_prints_a_script(tmp_path: Path) -> None:
    # Typer names the shell from the process tree (shellingham), not from $SHELL: run it from
    # bash, as a person would (the "; exit" keeps bash from exec-ing it, so bash stays its
    # parent), and the test does not depend on how pytest itself was started.
    result = subprocess.run(
        ["/bin/bash", "-c", f"{shlex.quote(MULTICHAT)} --show-completion; exit $?"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(SHELL="/bin/bash"),
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "_MULTICHAT_COMPLETE=complete_bash" in result.stdout


@pytest.mark.parametrize(
    ("shell", "installed"),
    [
        ("bash", ".bash_completions/multichat.sh"),
        ("zsh", ".zfunc/_multichat"),
        ("fish", ".config/fish/completions/multichat.fish"),
    ],
)
def test_install_completion_writes_the_script_for_the_shell(
    tmp_path: Path, shell: str, installed: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # Typer's switch that takes the shell as a value instead of detecting the parent shell
    env = {"HOME": str(home), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}

    result = run_cli("--install-completion", shell, cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert f"_MULTICHAT_COMPLETE=complete_{shell}" in (home / installed).read_text()
