"""Loading providers: generated ones load, broken hand-written ones are reported and skipped."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from multichat.errors import ProviderLoadError
from multichat.runtime.config import load_config
from multichat.runtime.loader import (
    DESCRIPTION_HINT,
    activate_workspace,
    load_provider,
    load_providers,
    tool_modules,
)

GUIDE_MCP_INSTANCE = """\
from fastmcp import FastMCP

from src.mcp_core.engine.provider_loader import get_provider_config_value
from src.mcp_core.tools.tool_decorator import tool_decorator_factory

PROVIDER_NAME = "{name}"
mcp = FastMCP(get_provider_config_value(PROVIDER_NAME, "name"), instructions="hand-made")
tool = tool_decorator_factory(PROVIDER_NAME, mcp)
"""

SERVER_AUTH = """\
def run_auth_server(host="127.0.0.1", port=None):
    pass
"""

API_AUTH = """\
_token_info = {"credentials": None, "last_refresh": None, "token_path": None}


def get_credentials(token_path=None):
    return None


def save_credentials(credentials, token_path=None):
    pass
"""


def write_provider(workspace: Path, name: str, files: dict[str, str] | None = None) -> Path:
    """Write a hand-made provider (the guide's three files, overridable) and its config entry."""
    folder = workspace / "src" / "providers" / name
    contents = {
        "__init__.py": "",
        "mcp_instance.py": GUIDE_MCP_INSTANCE.format(name=name),
        "server_auth.py": SERVER_AUTH,
        "api/__init__.py": "",
        "api/auth.py": API_AUTH,
        **(files or {}),
    }
    for relative, text in contents.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    with (workspace / "provider-config.yaml").open("a", encoding="utf-8") as config:
        config.write(f"  {name}:\n    name: {name.title()}\n")
    return folder


def config_of(workspace: Path):
    return load_config(workspace / "provider-config.yaml")


def load_one(workspace: Path, name: str):
    """``load_provider`` after activating the workspace, as ``load_providers`` does."""
    config = config_of(workspace)
    activate_workspace(config)
    return load_provider(config, name)


def test_generated_providers_load_with_their_tools(workspace, add_provider):
    add_provider("alpha")
    add_provider("beta")

    report = load_providers(config_of(workspace))

    assert report.failures == []
    assert sorted(report.providers) == ["alpha", "beta"]
    for name, loaded in report.providers.items():
        assert loaded.name == name
        assert loaded.config.name == name.title()
        assert {"provider_info", "whoami"} <= set(loaded.tools)
        assert all(record.provider == name for record in loaded.tools.values())
        assert loaded.tools["provider_info"].read_only is True


def test_a_provider_that_raises_at_import_is_reported_and_the_others_load(workspace, add_provider):
    add_provider("alpha")
    add_provider("charlie")
    write_provider(
        workspace,
        "bravo",
        {"mcp_instance.py": 'import os\n\nraise RuntimeError("kaboom from bravo")\n'},
    )

    report = load_providers(config_of(workspace))

    assert sorted(report.providers) == ["alpha", "charlie"]
    assert [failure.name for failure in report.failures] == ["bravo"]
    reason = report.failures[0].reason
    assert "src.providers.bravo.mcp_instance: RuntimeError: kaboom from bravo" in reason
    assert f"{workspace / 'src/providers/bravo/mcp_instance.py'}:3" in reason


def test_a_hand_written_guide_provider_loads_through_the_shims(workspace):
    write_provider(
        workspace,
        "handmade",
        {
            "tools/__init__.py": "",
            "tools/messages.py": """\
                from ..mcp_instance import tool


                @tool
                def send_message_tool(text: str) -> str:
                    return text
            """,
        },
    )

    loaded = load_one(workspace, "handmade")

    assert list(loaded.tools) == ["send_message"]


@pytest.mark.parametrize("missing", ["mcp_instance.py", "server_auth.py", "api/auth.py"])
def test_a_missing_contract_file_is_reported(workspace, add_provider, missing):
    folder = add_provider("alpha")
    add_provider("beta")
    (folder / missing).unlink()

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["beta"]
    assert [failure.name for failure in report.failures] == ["alpha"]
    assert report.failures[0].reason == f"missing {missing} in {folder}"


def test_a_configured_provider_without_a_folder_is_reported(workspace, add_provider):
    add_provider("alpha")
    with (workspace / "provider-config.yaml").open("a") as config:
        config.write("  ghost:\n    name: Ghost\n")

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["alpha"]
    assert report.failures[0].name == "ghost"
    assert "no folder" in report.failures[0].reason
    assert "multichat new provider ghost" in report.failures[0].reason


def test_fastmcp_description_keyword_points_at_instructions(workspace, add_provider):
    add_provider("alpha")
    write_provider(
        workspace,
        "guide",
        {
            "mcp_instance.py": """\
                from fastmcp import FastMCP

                from src.mcp_core.engine.provider_loader import get_provider_config_value
                from src.mcp_core.tools.tool_decorator import tool_decorator_factory

                PROVIDER_NAME = "guide"
                name = get_provider_config_value(PROVIDER_NAME, "name")
                description = get_provider_config_value(PROVIDER_NAME, "description")
                mcp = FastMCP(name, description=description)
                tool = tool_decorator_factory(PROVIDER_NAME, mcp)
            """
        },
    )

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["alpha"]
    assert report.failures[0].name == "guide"
    assert report.failures[0].reason == DESCRIPTION_HINT
    assert "instructions=" in DESCRIPTION_HINT
    assert "multichat doctor" in DESCRIPTION_HINT


def test_a_provider_name_that_does_not_match_its_config_key_is_reported(workspace):
    write_provider(
        workspace,
        "gamma",
        {"mcp_instance.py": GUIDE_MCP_INSTANCE.format(name="gama")},
    )

    report = load_providers(config_of(workspace))

    assert report.providers == {}
    reason = report.failures[0].reason
    assert reason.startswith("src.providers.gamma.mcp_instance: ")
    assert "no provider 'gama'" in reason
    assert "configured: gamma" in reason


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("tool = print\n", "has no `mcp` FastMCP instance"),
        (
            "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\n",
            "has no `tool` decorator",
        ),
        (
            "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\ntool = 'not callable'\n",
            "has no `tool` decorator",
        ),
    ],
)
def test_mcp_instance_must_define_mcp_and_tool(workspace, source, expected):
    write_provider(workspace, "partial", {"mcp_instance.py": source})

    with pytest.raises(ProviderLoadError) as caught:
        load_one(workspace, "partial")

    assert caught.value.provider == "partial"
    assert expected in caught.value.reason


def test_a_broken_tool_module_is_reported_with_its_module_name(workspace, add_provider):
    add_provider("alpha")
    folder = add_provider("beta")
    (folder / "tools" / "zz_broken.py").write_text("import not_a_module_anywhere_xyz\n")

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["alpha"]
    reason = report.failures[0].reason
    assert "src.providers.beta.tools.zz_broken" in reason
    assert "ModuleNotFoundError" in reason


def test_duplicate_tools_across_modules_fail_only_that_provider(workspace, add_provider):
    add_provider("alpha")
    folder = add_provider("beta")
    (folder / "tools" / "again.py").write_text(
        "from ..mcp_instance import tool\n\n\n@tool\ndef provider_info() -> str:\n    return ''\n"
    )

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["alpha"]
    reason = report.failures[0].reason
    assert "two tools are named 'provider_info'" in reason
    assert f"{folder / 'tools' / 'again.py'}:4" in reason
    assert f"{folder / 'tools' / 'provider_info.py'}:" in reason


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('raise RuntimeError("nested boom")\n', "RuntimeError: nested boom"),
        ("import not_a_module_anywhere_xyz\n", "ModuleNotFoundError"),
    ],
)
def test_a_tool_subpackage_that_fails_is_reported_and_the_others_load(
    workspace, add_provider, source, expected
):
    add_provider("alpha")
    folder = add_provider("beta")
    (folder / "tools" / "nested").mkdir()
    (folder / "tools" / "nested" / "__init__.py").write_text(source)

    report = load_providers(config_of(workspace))

    assert list(report.providers) == ["alpha"]
    assert report.failures[0].name == "beta"
    assert f"src.providers.beta.tools.nested: {expected}" in report.failures[0].reason


def test_a_private_tool_subpackage_is_neither_imported_nor_walked(workspace):
    folder = write_provider(
        workspace,
        "private",
        {
            "tools/__init__.py": "",
            "tools/_helpers/__init__.py": "raise RuntimeError('private package imported')\n",
            "tools/_helpers/shown.py": "raise RuntimeError('private module imported')\n",
            "tools/public.py": "",
        },
    )

    report = load_providers(config_of(workspace))

    assert report.failures == []
    assert tool_modules(folder, "src.providers.private") == ["src.providers.private.tools.public"]


CHATTY_INSTANCE = 'print("CHATTY-INSTANCE")\n' + GUIDE_MCP_INSTANCE.format(name="chatty")
CHATTY_TOOL = 'import sys\n\nprint("CHATTY-TOOL")\nsys.stdout.write("CHATTY-WRITE\\n")\n'


def test_import_time_output_does_not_reach_stdout(workspace, add_provider, capfd):
    add_provider("alpha")
    write_provider(
        workspace,
        "chatty",
        {
            "mcp_instance.py": CHATTY_INSTANCE,
            "tools/__init__.py": "",
            "tools/loud.py": CHATTY_TOOL,
            "tools/deep/__init__.py": 'print("CHATTY-PACKAGE")\n',
            "tools/deep/inner.py": 'print("CHATTY-INNER")\n',
        },
    )
    capfd.readouterr()

    report = load_providers(config_of(workspace))
    out, err = capfd.readouterr()

    assert report.failures == []
    assert "CHATTY" not in out
    markers = ("CHATTY-INSTANCE", "CHATTY-TOOL", "CHATTY-WRITE", "CHATTY-PACKAGE", "CHATTY-INNER")
    for marker in markers:
        assert marker in err
    assert sys.stdout is not sys.stderr


def test_tool_modules_are_sorted_and_skip_private_ones(workspace):
    folder = write_provider(
        workspace,
        "sorted_tools",
        {
            "tools/__init__.py": "",
            "tools/zeta.py": "",
            "tools/alpha.py": "",
            "tools/_private.py": "raise RuntimeError('never imported')\n",
            "tools/group/__init__.py": "",
            "tools/group/members.py": "",
        },
    )
    activate_workspace(config_of(workspace))
    package = "src.providers.sorted_tools"

    assert tool_modules(folder, package) == [
        f"{package}.tools.alpha",
        f"{package}.tools.group",
        f"{package}.tools.group.members",
        f"{package}.tools.zeta",
    ]
    assert tool_modules(workspace / "nowhere", package) == []


def test_load_only_the_providers_asked_for(workspace, add_provider):
    add_provider("alpha")
    write_provider(workspace, "broken", {"mcp_instance.py": "raise RuntimeError('x')\n"})

    report = load_providers(config_of(workspace), ["alpha"])

    assert list(report.providers) == ["alpha"]
    assert report.failures == []


def test_activate_workspace_puts_the_root_first_and_selects_the_config(workspace):
    config = config_of(workspace)

    activate_workspace(config)

    assert sys.path[0] == str(config.root)
    assert sys.path.count(str(config.root)) == 1
    assert load_config().path == config.path
    activate_workspace(config)
    assert sys.path.count(str(config.root)) == 1
