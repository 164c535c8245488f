"""A hostile workspace (issue 11): alias bombs, bytes that are not text, answers that try to
become code, names that are too long or not names. Each gets one line on stderr, exit 2, in
bounded time and memory, and leaves every file as it was.
"""

from __future__ import annotations

import resource
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MULTICHAT, file_tree, run_cli

from multichat.errors import ConfigError
from multichat.runtime import load_config
from multichat.yaml_documents import MAX_YAML_DEPTH, MAX_YAML_VALUES

#: Ten lines that expand to 10**10 values: a0 is ten values, each next line ten of the last.
ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
)
#: The whole run of one command may take this long: the bomb spun for minutes before.
BOUND_SECONDS = 60


@pytest.fixture
def ws(workspace: Path, add_provider: Callable[..., Path]) -> Path:
    add_provider("alpha")
    return workspace


def prepend(ws: Path, text: str) -> None:
    config = ws / "provider-config.yaml"
    config.write_text(text + config.read_text())


def assert_one_line_refusal(result, code: int = 2) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [("doctor",), ("run",), ("auth", "alpha", "--status"), ("new", "provider", "beta")],
)
def test_an_alias_bomb_is_refused_quickly_by_every_command(ws: Path, command: tuple[str, ...]):
    prepend(ws, ALIAS_BOMB)
    before = file_tree(ws)

    result = run_cli(*command, cwd=ws, timeout=BOUND_SECONDS)

    line = assert_one_line_refusal(result)
    assert f"expands to more than {MAX_YAML_VALUES:,} values" in line
    assert file_tree(ws) == before


def test_the_bomb_is_measured_without_expanding_it(tmp_path: Path):
    path = tmp_path / "provider-config.yaml"
    path.write_text(ALIAS_BOMB + "providers: {}\n")
    usage_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()

    with pytest.raises(ConfigError, match="expands to more than"):
        load_config(path)

    # Reported, not asserted as a time: the CPU spent and memory gained are small either way.
    spent = time.process_time() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - usage_before
    assert grown_kib < 50_000, (spent, grown_kib)


def test_aliases_within_bounds_still_work(tmp_path: Path):
    path = tmp_path / "provider-config.yaml"
    path.write_text(
        "common: &common {read_only: true, scopes: [a, b]}\n"
        "providers:\n  alpha: *common\n  beta: {<<: *common, read_only: false}\n"
    )

    config = load_config(path)

    assert config.provider("alpha").read_only is True
    assert config.provider("beta").scopes == ["a", "b"]
    assert config.provider("beta").read_only is False


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ("providers:\n  alpha:\n    name: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        (
            "providers:\n  alpha:\n    name: "
            + "[" * (MAX_YAML_DEPTH + 1)
            + "]" * (MAX_YAML_DEPTH + 1)
            + "\n",
            "nested too deeply",
        ),
    ],
    ids=["5000 deep", "just too deep"],
)
def test_deep_nesting_is_one_line(tmp_path: Path, body: str, phrase: str):
    path = tmp_path / "provider-config.yaml"
    path.write_text(body)

    with pytest.raises(ConfigError, match=phrase):
        load_config(path)
    result = run_cli("doctor", cwd=tmp_path, timeout=BOUND_SECONDS)
    assert phrase in assert_one_line_refusal(result)


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (b'providers:\n  alpha:\n    name: "\xff"\n', ":3: byte 0xff is not UTF-8"),
        (
            b'providers:\n  alpha:\n    token_path: "a\\0b"\n',
            "`providers.alpha.token_path`: Value error, a path cannot hold a NUL character",
        ),
        (b"providers:\n  ../../x: {name: a}\n", "`providers.../../x`: invalid provider name"),
        (
            b"providers:\n  " + b"a" * 256 + b": {name: a}\n",
            "256 characters, at most 32",
        ),
    ],
    ids=["not utf-8", "nul in a path", "a path as a name", "a 256-character name"],
)
def test_broken_config_values_are_one_line_and_exit_2(tmp_path: Path, raw: bytes, phrase: str):
    (tmp_path / "provider-config.yaml").write_bytes(raw)
    before = file_tree(tmp_path)

    for command in (("doctor",), ("run",), ("auth", "alpha", "--status")):
        result = run_cli(*command, cwd=tmp_path, timeout=BOUND_SECONDS)
        assert phrase in assert_one_line_refusal(result), command
    assert file_tree(tmp_path) == before


def test_doctor_never_follows_a_provider_key_out_of_the_workspace(tmp_path: Path):
    outside = tmp_path / "x"
    (outside / "token.json").parent.mkdir(parents=True)
    (outside / "token.json").write_text("{}")
    ws = tmp_path / "a" / "b"
    ws.mkdir(parents=True)
    (ws / "provider-config.yaml").write_text("providers:\n  ../../x: {name: a}\n")

    result = run_cli("doctor", cwd=ws, timeout=BOUND_SECONDS)

    line = assert_one_line_refusal(result)
    assert "chmod" not in result.stdout + line
    assert "invalid provider name" in line


# ---- answers never become code --------------------------------------------------------------

INJECTIONS = {
    "a newline out of the docstring": 'X"""\nimport os; os.system("touch {marker}")\n"""',
    "one line out of the docstring": 'X""" + __import__("os").system("touch {marker}") + """',
    "a YAML break": 'X"\nevil: !!python/object/apply:os.system ["touch {marker}"]',
}


@pytest.mark.parametrize("attack", sorted(INJECTIONS))
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "for real"])
def test_a_display_name_cannot_run_code(ws: Path, attack: str, dry_run: bool):
    marker = Path("/tmp") / f"pwned-{uuid.uuid4().hex[:8]}"  # short: the name takes 80 at most
    value = INJECTIONS[attack].format(marker=marker)
    before = file_tree(ws)
    args = ["new", "provider", "inj", "--defaults", "--data", f"display_name={value}"]

    result = run_cli(*args, *(["--dry-run"] if dry_run else []), cwd=ws)

    assert not marker.exists()
    if "\n" in value:
        assert "must be one line of text" in assert_one_line_refusal(result)
        assert file_tree(ws) == before
        return
    assert result.returncode == 0, result.stderr
    if not dry_run:  # the value is kept as text: in the config, never in Python source
        assert load_config(ws / "provider-config.yaml").provider("inj").name == value
        package = ws / "src" / "providers" / "inj"
        assert not any(value in path.read_text() for path in package.rglob("*.py"))


def test_a_committed_answers_file_cannot_run_code_on_upgrade(ws: Path, tmp_path: Path):
    from ruamel.yaml import YAML

    marker = tmp_path / "pwned"
    answers_file = ws / ".multichat" / "providers" / "alpha.yml"
    yaml = YAML()
    answers = yaml.load(answers_file.read_text())
    answers["display_name"] = INJECTIONS["a newline out of the docstring"].format(marker=marker)
    with answers_file.open("w") as handle:
        yaml.dump(answers, handle)
    before = file_tree(ws)

    result = run_cli("upgrade", "provider", "alpha", "--dry-run", cwd=ws)

    assert not marker.exists()
    assert "display_name must be one line of text" in assert_one_line_refusal(result)
    assert file_tree(ws) == before


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ("kind=workspace", "--data kind=... is not an answer you can give"),
        ("provider_name=other", "--data provider_name=... is not an answer you can give"),
        ("colour=blue", "--data colour=...: the template has no such question"),
        ("description=" + "d" * 301, "description is 301 characters long; at most 300"),
        ("platform_url=http://x\nevil: 1", "Validation error for question 'platform_url'"),
    ],
)
def test_answers_multichat_owns_or_does_not_know_are_refused(ws: Path, data: str, phrase: str):
    before = file_tree(ws)
    result = run_cli("new", "provider", "dq", "--preset", "sandbox", "--data", data, cwd=ws)
    assert phrase in assert_one_line_refusal(result)
    assert file_tree(ws) == before


def test_a_256_character_provider_name_is_one_line(ws: Path):
    before = file_tree(ws)
    result = run_cli("new", "provider", "a" * 256, cwd=ws)
    assert "256 characters, at most 32" in assert_one_line_refusal(result)
    assert file_tree(ws) == before


# ---- misspelled settings ----------------------------------------------------------------------


def test_a_misspelled_key_is_named_with_the_closest_known_one(ws: Path):
    config = ws / "provider-config.yaml"
    config.write_text(config.read_text().replace("  read_only: false", "  readonly: true"))
    expected = "`providers.alpha.readonly` is not a multichat setting; did you mean `read_only`?"

    doctor = run_cli("doctor", cwd=ws)
    status = run_cli("auth", "alpha", "--status", cwd=ws)
    served = subprocess.run(
        [MULTICHAT, "run"],
        cwd=ws,
        input="",  # stdio: the server stops when its input ends
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
        check=False,
    )

    assert f"alpha: warning: {config}" in doctor.stdout
    assert expected in doctor.stdout
    assert f"multichat: warning: {config}" in status.stderr
    assert expected in status.stderr
    assert expected in served.stderr
    assert served.stdout == ""  # never on the MCP channel
