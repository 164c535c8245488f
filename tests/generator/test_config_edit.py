"""Adding a provider entry keeps every byte the user wrote: comments, order, quoting, indents."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from multichat.errors import ConfigError, GenerationError
from multichat.generator.changes import ChangeSet
from multichat.generator.config_edit import add_provider_entry, remove_provider_entry
from multichat.runtime.config import parse_config
from multichat.yaml_documents import read_yaml_document, to_plain

PATH = Path("/somewhere/provider-config.yaml")

# The shape the provider template renders: 2-space mappings, lists at offset 2, comments.
ENTRY = """\
gamma:
  name: "Gamma"
  description: "Chat tools for Gamma"
  # Tokens and client credentials are git-ignored.
  token_path: "src/providers/gamma/token.json"
  credentials_path: "src/providers/gamma/credentials.json"
  callback_url: "http://127.0.0.1:8002/auth/callback"
  port: 8002
  scopes:
    - "chat:read"
    - "chat:write"
  oauth:
    authorize_url: ""
    token_url: ""
  read_only: false
"""

GAMMA = {
    "name": "Gamma",
    "description": "Chat tools for Gamma",
    "token_path": "src/providers/gamma/token.json",
    "credentials_path": "src/providers/gamma/credentials.json",
    "callback_url": "http://127.0.0.1:8002/auth/callback",
    "port": 8002,
    "scopes": ["chat:read", "chat:write"],
    "oauth": {"authorize_url": "", "token_url": ""},
    "read_only": False,
}

USER_FILE = """\
# My providers. Edited by hand; keep this comment.
#   (indented comment line)

providers:
  # alpha first, on purpose
  alpha:
    name: 'Alpha Single'          # trailing comment
    description: "Alpha \\"double\\" quoted"
    token_path: plain/alpha/token.json
    port: 8000
    scopes:
      - 'chat:read'
      - "chat:write"
      - plain_scope
    oauth: {authorize_url: "https://a.example/auth", pkce: yes}
  beta:
    name:   "Beta spaced"
    port: 8001
    scopes: []
    zebra_key: 1
    apple_key: 2
    # a comment that closes the beta block
"""


def added_lines(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fail if any line of ``before`` changed or moved."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    inserted: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        assert tag in ("equal", "insert"), (tag, old[i1:i2], new[j1:j2])
        if tag == "insert":
            inserted.append("".join(new[j1:j2]))
    assert len(inserted) == 1, "the entry must be inserted as one block"
    return inserted[0].splitlines()


def data_of(text: str) -> dict:
    return to_plain(read_yaml_document(text, PATH))


def test_user_file_keeps_every_line_byte_for_byte():
    result = add_provider_entry(USER_FILE, PATH, "gamma", ENTRY)

    inserted = added_lines(USER_FILE, result)

    assert inserted == ["  " + line if line else line for line in ENTRY.splitlines()]
    assert result.startswith(USER_FILE.split("    # a comment that closes")[0])
    assert "    # a comment that closes the beta block\n  gamma:\n" in result


def test_the_result_means_the_old_data_plus_the_entry():
    result = add_provider_entry(USER_FILE, PATH, "gamma", ENTRY)

    before, after = data_of(USER_FILE), data_of(result)
    assert list(after["providers"]) == ["alpha", "beta", "gamma"]
    assert after["providers"]["gamma"] == GAMMA
    assert {k: v for k, v in after["providers"].items() if k != "gamma"} == before["providers"]
    assert list(after["providers"]["beta"]) == ["name", "port", "scopes", "zebra_key", "apple_key"]
    parse_config(result, PATH)


def test_the_workspace_template_file_with_null_providers():
    template = Path(__file__).parents[2] / "template" / "workspace" / "provider-config.yaml"
    text = template.read_text(encoding="utf-8")
    assert text.rstrip().endswith("providers:")

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    added_lines(text, result)
    assert result.startswith(text)
    assert data_of(result) == {"providers": {"gamma": GAMMA}}


@pytest.mark.parametrize(
    "text",
    [
        "providers: {}\n",
        "# header\nproviders: {}   # none yet\nsettings:\n  debug: true\n",
        "providers:   {  }\n",
    ],
)
def test_empty_flow_providers_becomes_a_block(text):
    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    assert "providers: {}" not in result
    assert result.count("{  }") == 0
    before_lines = [line for line in text.splitlines() if not line.startswith("providers:")]
    after_lines = result.splitlines()
    assert all(line in after_lines for line in before_lines)
    if "# none yet" in text:
        assert "providers:   # none yet" in result
    expected = data_of(text)
    expected["providers"] = {"gamma": GAMMA}
    assert data_of(result) == expected


@pytest.mark.parametrize(
    "text",
    [
        "providers:\n",
        "providers:\n# a top-level comment under the key\n\nother: 1\n",
        "# keep 'this'\nproviders: null  # nothing yet\nother: 'q'\n",
        "providers: ~\n",
    ],
)
def test_null_providers_takes_the_entry(text):
    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    kept = [line for line in text.splitlines() if not line.startswith("providers:")]
    after = result.splitlines()
    assert all(line in after for line in kept)
    assert after.index("  gamma:") < min(
        (after.index(line) for line in kept if not line.startswith("# keep")), default=10**6
    )
    expected = data_of(text)
    expected["providers"] = {"gamma": GAMMA}
    assert data_of(result) == expected


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "settings:\n  debug: true\n", "settings: 1"],
)
def test_a_missing_providers_key_is_added_at_the_end(text):
    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    normalised = text if text.endswith("\n") or not text else text + "\n"
    assert result.startswith(normalised)
    assert result[len(normalised) :].startswith("providers:\n  gamma:\n")
    expected = data_of(text) or {}
    expected["providers"] = {"gamma": GAMMA}
    assert data_of(result) == expected


def test_four_space_files_get_a_four_space_entry():
    text = (
        "providers:\n"
        "    alpha:\n"
        "        name: 'A'\n"
        "        scopes:\n"
        "            - a\n"
        "        oauth:\n"
        "            pkce: true\n"
    )

    result = add_provider_entry(text, PATH, "gamma", ENTRY)
    inserted = added_lines(text, result)

    assert inserted[0] == "    gamma:"
    assert inserted[1] == '        name: "Gamma"'
    assert '            - "chat:read"' in inserted
    assert '            authorize_url: ""' in inserted
    assert data_of(result)["providers"]["gamma"] == GAMMA


def test_lists_at_offset_zero_stay_at_offset_zero():
    text = "providers:\n  alpha:\n    scopes:\n    - a\n    - b\n"

    result = add_provider_entry(text, PATH, "gamma", ENTRY)
    inserted = added_lines(text, result)

    assert '    - "chat:read"' in inserted
    assert data_of(result)["providers"]["gamma"] == GAMMA


def test_other_top_level_keys_after_providers_stay_after_it():
    text = (
        "providers:\n"
        "  alpha:\n"
        "    port: 8000\n"
        "\n"
        "# Settings of the server, not of a provider.\n"
        "settings:\n"
        "  debug: true\n"
        "extra: 'x'\n"
    )

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    added_lines(text, result)
    assert result.index("  gamma:\n") < result.index("\n\n# Settings of the server")
    data = data_of(result)
    assert list(data) == ["providers", "settings", "extra"]
    assert data["settings"] == {"debug": True}
    assert list(data["providers"]) == ["alpha", "gamma"]


def test_a_file_without_a_final_newline():
    text = "providers:\n  alpha:\n    port: 8000"

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    assert result.startswith(text + "\n  gamma:\n")
    assert data_of(result)["providers"]["alpha"] == {"port": 8000}


def test_a_flow_style_mapping_falls_back_and_still_means_the_same():
    text = "# keep me\nproviders: {alpha: {port: 8000, name: 'A'}}\nafter: 1\n"

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    assert "# keep me" in result
    data = data_of(result)
    assert data == {
        "providers": {"alpha": {"port": 8000, "name": "A"}, "gamma": GAMMA},
        "after": 1,
    }
    parse_config(result, PATH)


def test_an_existing_name_raises():
    with pytest.raises(ConfigError, match=r"`providers\.alpha` exists already"):
        add_provider_entry(USER_FILE, PATH, "alpha", ENTRY.replace("gamma:", "alpha:", 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("providers:\n  - alpha\n", "`providers` must be a mapping"),
        ("providers: 5\n", "`providers` must be a mapping"),
        ("providers:\n  alpha: {\n", f"{PATH}:3:1: "),
    ],
)
def test_a_broken_file_raises_config_error(text, expected):
    with pytest.raises(ConfigError) as caught:
        add_provider_entry(text, PATH, "gamma", ENTRY)
    assert expected in str(caught.value)


def test_an_entry_for_another_name_is_a_generation_error():
    with pytest.raises(GenerationError, match="gamma"):
        add_provider_entry("providers:\n", PATH, "gamma", "delta:\n  port: 1\n")


def test_an_entry_that_makes_the_file_invalid_is_refused():
    with pytest.raises(ConfigError, match=r"providers\.gamma\.port"):
        add_provider_entry("providers:\n", PATH, "gamma", "gamma:\n  port: not-a-port\n")


def test_writing_the_config_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "provider-config.yaml"
    path.write_text("providers:\n")
    path.chmod(0o640)

    changes = ChangeSet(tmp_path)
    changes.write(Path("provider-config.yaml"), b"providers: {}\n")
    changes.apply()

    assert path.read_text() == "providers: {}\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["provider-config.yaml"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# c\r\nproviders:\r\n  x:\r\n    port: 8000\r\n", id="crlf"),
        pytest.param("providers:\n  x:\n    port: 8000", id="no-final-newline"),
        pytest.param("# c\r\nproviders:\r\n  x:\r\n    port: 8000", id="crlf-no-final-newline"),
        pytest.param(
            "# header\n---\n# my config\nproviders:\n  x:\n    port: 8000  # keep\n...\n",
            id="document-markers",
        ),
        pytest.param(
            "%YAML 1.2\n---\nproviders:\n  x:\n    port: 8000\nother: 1\n...\n# the end\n",
            id="directive-and-epilogue",
        ),
    ],
)
def test_add_then_remove_gives_back_the_same_bytes(text):
    added = add_provider_entry(text, PATH, "gamma", ENTRY)

    assert data_of(added)["providers"]["gamma"] == GAMMA
    assert added.count("\r\n") == (added.count("\n") if "\r\n" in text else 0)
    assert added.endswith("\n") == text.endswith("\n")
    assert remove_provider_entry(added, PATH, "gamma") == text


def test_the_prelude_and_end_marker_stay_where_they_were():
    text = "# header\n---\n# my config\nproviders:\n  x:\n    port: 8000  # keep\n...\n"

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    assert result.startswith("# header\n---\n# my config\nproviders:\n  x:\n")
    assert result.endswith(
        "  gamma:\n" + "".join(f"  {line}\n" for line in ENTRY.splitlines()[1:]) + "...\n"
    )


@pytest.mark.parametrize("empty", ["{}", "~", "null", "NULL"])
def test_an_empty_spelling_loses_only_its_value(empty):
    text = f"# keep 'this'\nproviders: {empty}  # nothing yet\nother:   'q'\nlist:\n- a\n"

    result = add_provider_entry(text, PATH, "gamma", ENTRY)

    before = text.splitlines(keepends=True)
    before[1] = "providers:  # nothing yet\n"
    assert added_lines("".join(before), result)[0] == "  gamma:"
    assert data_of(result)["providers"] == {"gamma": GAMMA}
