"""Before writing, the rendered provider is imported in a child process (issue 5's validation).

The templates here are copies of the real one with one line changed, so the only reason a
provider fails is that line. Each test gets its own verdict cache unless it is about the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli
from lifecycle_support import (
    BLANK_CLIENT,
    BLANK_TOOLS,
    PACKAGE_TEMPLATE,
    assert_same_tree,
    copy_template,
    one_line,
    tree_snapshot,
)

from multichat.generator import import_check
from multichat.generator.import_check import _environment as environment
from multichat.generator.import_check import verdict_key


def _env(cache: Path, template: Path | None = None) -> dict[str, str]:
    env = {"MULTICHAT_CACHE_DIR": str(cache)}
    if template is not None:
        env["MULTICHAT_TEMPLATE"] = str(template)
    return env


def _verdicts(cache: Path) -> list[str]:
    folder = cache / "import-checks"
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return sorted(name for name in names if not name.startswith("kind-"))


def _probes_running(cache: Path) -> list[str]:
    """Command lines of import probes alive now that were started with this test's ``cache``.

    Any process of the machine is looked at; its environment tells this test's probes from
    those of tests running beside it (``pytest -n``).
    """
    marker = f"MULTICHAT_CACHE_DIR={cache}".encode()
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
            if b"multichat.generator.import_probe" not in words:
                continue
            environment = (cmdline.parent / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environment:
            found.append(" ".join(w.decode(errors="replace") for w in words))
    return found


def _template_with(current: Path, target: Path, relative: str, line: str) -> Path:
    """A copy of the template whose ``relative`` (under the package) ends with ``line``."""
    template = copy_template(current, target)
    module = template / PACKAGE_TEMPLATE / relative
    module.write_text(module.read_text() + line)
    return template


@pytest.mark.parametrize(
    ("relative", "line", "expected"),
    [
        pytest.param(
            BLANK_TOOLS,
            'raise RuntimeError("tool module broke")\n',
            ["src.providers.gamma.tools.provider_info", "RuntimeError: tool module broke"],
            id="tool-module-raises",
        ),
        pytest.param(
            "server_auth.py.jinja",
            "import no_such_module_anywhere\n",
            ["src.providers.gamma.server_auth", "ModuleNotFoundError", "no_such_module_anywhere"],
            id="server-auth-imports-missing-module",
        ),
        pytest.param(
            BLANK_CLIENT,
            "VALUE = undefined_name_in_client\n",
            ["src/providers/gamma/api/client.py:", "NameError", "undefined_name_in_client"],
            id="api-module-name-error",
        ),
        pytest.param(
            BLANK_TOOLS,
            "\n@tool()\ndef provider_info() -> str:\n    return 'twice'\n",
            ["provider_info"],
            id="tool-registered-twice",
        ),
        pytest.param(
            "mcp_instance.py.jinja",
            "import os\nos._exit(3)\n",
            ["stopped the interpreter", "exit code 3"],
            id="module-exits-the-process",
        ),
    ],
)
def test_provider_that_does_not_import_is_refused_and_nothing_written(
    workspace: Path,
    add_provider: Callable[..., Path],
    current_template: Path,
    tmp_path: Path,
    relative: str,
    line: str,
    expected: list[str],
) -> None:
    broken = _template_with(current_template, tmp_path / "broken", relative, line)
    add_provider("alpha")
    before = tree_snapshot(workspace)

    for extra in ((), ("--dry-run",)):
        result = run_cli(
            "new", "provider", "gamma", *extra, cwd=workspace, env=_env(tmp_path, broken)
        )
        message = one_line(result, 1)
        assert "the generated provider 'gamma' does not import" in message, message
        for part in expected:
            assert part in message, message
        assert "multichat-import-check-" not in message, "names the scratch copy, not the file"
        assert "nothing was written" in message, message
        assert_same_tree(workspace, before, extra)
    assert _verdicts(tmp_path) == [], "a failing import is never remembered"


def test_import_check_uses_the_new_config_entry(
    workspace: Path, current_template: Path, tmp_path: Path
) -> None:
    """Code that reads its own entry at import time sees the entry being added."""
    template = _template_with(
        current_template,
        tmp_path / "reads-entry",
        "mcp_instance.py.jinja",
        'assert get_provider_config_value(PROVIDER_NAME, "port") == {{ port }}, "entry missing"\n',
    )
    result = run_cli(
        "new", "provider", "gamma", "--data", "port=8123", cwd=workspace,
        env=_env(tmp_path, template),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (workspace / "src/providers/gamma/mcp_instance.py").is_file()


def test_a_passing_verdict_is_reused_only_for_the_same_code(
    workspace: Path, current_template: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = run_cli("new", "provider", "alpha", cwd=workspace, env=_env(cache))
    assert first.returncode == 0, first.stderr
    assert len(_verdicts(cache)) == 1

    # Another name, display name and port: the same code, so the same verdict.
    second = run_cli("new", "provider", "beta", cwd=workspace, env=_env(cache))
    assert second.returncode == 0, second.stderr
    assert len(_verdicts(cache)) == 1

    # A different preset is different code: checked, and remembered on its own.
    third = run_cli(
        "new", "provider", "chat", "--preset", "sandbox", cwd=workspace, env=_env(cache)
    )
    assert third.returncode == 0, third.stderr
    assert len(_verdicts(cache)) == 2

    # With a warm cache, code that does not import is still caught.
    broken = _template_with(current_template, tmp_path / "broken", BLANK_TOOLS, "1 / 0\n")
    before = tree_snapshot(workspace)
    refused = run_cli("new", "provider", "delta", cwd=workspace, env=_env(cache, broken))
    assert "ZeroDivisionError" in one_line(refused, 1)
    assert_same_tree(workspace, before)
    # The probe started early (a kind with no verdict) or unneeded is never left behind.
    assert _probes_running(cache) == []


def test_verdicts_live_in_the_user_cache_unless_turned_off(workspace: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    plain = run_cli("new", "provider", "alpha", cwd=workspace, env={"XDG_CACHE_HOME": str(xdg)})
    assert plain.returncode == 0, plain.stderr
    assert len(_verdicts(xdg / "multichat")) == 1

    off = tmp_path / "off"
    result = run_cli(
        "new", "provider", "beta", cwd=workspace,
        env={"MULTICHAT_CACHE_DIR": "", "XDG_CACHE_HOME": str(off)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not off.exists()


def test_upgrade_refuses_a_template_whose_render_does_not_import(
    old_workspace: Path, current_template: Path, tmp_path: Path
) -> None:
    broken = _template_with(
        current_template, tmp_path / "broken", "api/auth.py.jinja", "raise ImportError('nope')\n"
    )
    before = tree_snapshot(old_workspace)
    result = run_cli("upgrade", "provider", "alpha", cwd=old_workspace, env=_env(tmp_path, broken))
    message = one_line(result, 1)
    assert "the generated provider 'alpha' does not import" in message, message
    assert "ImportError: nope (src/providers/alpha/api/auth.py:" in message, message
    assert_same_tree(old_workspace, before)


# ---- the verdict's key ----------------------------------------------------------------------


def _key(template: Path, preset: str = "blank", workspace: Path | None = None) -> str:
    return verdict_key(template, preset, workspace or template / "no-workspace")


def test_key_follows_the_template_the_preset_and_the_workspace_modules(
    current_template: Path, workspace: Path, tmp_path: Path
) -> None:
    base = verdict_key(current_template, "blank", workspace)
    assert verdict_key(current_template, "blank", workspace) == base
    assert verdict_key(current_template, "sandbox", workspace) != base
    changed = _template_with(current_template, tmp_path / "changed", BLANK_TOOLS, "x = 1\n")
    assert verdict_key(changed, "blank", workspace) != base
    shim = workspace / "src" / "mcp_core" / "engine" / "provider_loader.py"
    shim.write_text(shim.read_text() + "import os\n")
    assert verdict_key(current_template, "blank", workspace) != base


def test_key_leaves_out_other_providers_and_answers(
    current_template: Path, workspace: Path, add_provider: Callable[..., Path]
) -> None:
    base = verdict_key(current_template, "blank", workspace)
    add_provider("alpha", display_name="Something Else", port=9123)
    assert verdict_key(current_template, "blank", workspace) == base


def test_key_follows_the_python_environment(
    current_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment.cache_clear()  # computed once per process; other tests changed sys.path
    base = _key(current_template)
    monkeypatch.setattr("sys.executable", "/elsewhere/python")
    environment.cache_clear()  # computed once per process; this test changes the process
    try:
        assert _key(current_template) != base
    finally:
        monkeypatch.undo()
        environment.cache_clear()
    assert _key(current_template) == base


def test_the_probe_caches_bytecode_as_python_does(workspace: Path, tmp_path: Path) -> None:
    # Forcing PYTHONDONTWRITEBYTECODE on the child made every first check of a kind compile
    # FastMCP from source again (seconds) until some other command happened to cache it.
    prefix = tmp_path / "pycache"
    env = {
        **_env(tmp_path / "cache"),
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(prefix),
    }
    result = run_cli("new", "provider", "alpha", cwd=workspace, env=env)
    assert result.returncode == 0, result.stderr
    assert list(prefix.rglob("fastmcp/server/server.*.pyc"))  # only the probe imports FastMCP


# ---- the probe started as the command begins ------------------------------------------------


def test_an_early_probe_is_used_when_no_verdict_exists_and_stopped_when_one_does(
    current_template: Path, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MULTICHAT_CACHE_DIR", str(tmp_path / "cache"))
    key = verdict_key(current_template, "blank", workspace)

    import_check.start_early_probe()
    early = import_check._early_probe
    assert early is not None
    with import_check.import_probe(key) as probe:
        assert probe is early  # taken, not a second child
        assert import_check._early_probe is None
    assert early._process.poll() is not None  # stopped with the check

    import_check._remember(tmp_path / "cache" / "import-checks", key)
    import_check.start_early_probe()
    unneeded = import_check._early_probe
    assert unneeded is not None
    with import_check.import_probe(key) as probe:
        assert probe is None
        assert unneeded._process.poll() is not None  # a verdict exists: stopped at once


def test_a_command_that_fails_before_rendering_leaves_no_probe(
    workspace: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    before = tree_snapshot(workspace)
    result = run_cli("new", "provider", "Not-A-Name", cwd=workspace, env=_env(cache))
    assert "Not-A-Name" in one_line(result, 2)
    assert_same_tree(workspace, before)
    assert _probes_running(cache) == []
