"""Saving a token on a full disk or into a read-only folder: one clear line, no partial file.

Both run in a subprocess for real: a file-size limit (RLIMIT_FSIZE, the kernel's EFBIG once a
write crosses it) stands in for a full disk, and a folder with mode 0500 for a read-only one
(as an unprivileged user: root ignores permissions, so a root test process drops to ``nobody``).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SECRET = "sbx_at_never-print-me-6c1f0a"
OLD_TOKEN = {"access_token": "old-token-still-here", "token_type": "Bearer"}

CHILD = """
import json, os, resource, signal, sys
from multichat.runtime import provider_auth, use_config
from multichat.runtime.token_store import TokenStoreError

config, mode, secret = sys.argv[1], sys.argv[2], sys.argv[3]
use_config(config)
auth = provider_auth("alpha")
auth.token_path()  # read the configuration while still allowed to
token = {"access_token": secret, "refresh_token": secret + "-r", "padding": "x" * 200_000}
if mode == "disk-full":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
elif mode == "drop-to":
    uid = int(sys.argv[4])
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
failures = []
for attempt in (lambda: auth.save_credentials(token), lambda: auth.store().save(token)):
    try:
        attempt()
    except TokenStoreError as exc:
        failures.append(str(exc))
print(json.dumps(failures))
"""


def workspace_with_token(root: Path) -> tuple[Path, Path]:
    """A config whose provider ``alpha`` keeps its token in ``tokens/``; an old token is there."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "provider-config.yaml"
    config.write_text("providers:\n  alpha:\n    token_path: tokens/alpha.json\n")
    tokens = root / "tokens"
    tokens.mkdir()
    token_file = tokens / "alpha.json"
    token_file.write_text(json.dumps(OLD_TOKEN))
    token_file.chmod(0o600)
    return config, token_file


def run_child(config: Path, *args: str) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result


def assert_clean_failure(
    messages: list[str], result: subprocess.CompletedProcess[str], token_file: Path, reason: str
) -> None:
    assert len(messages) == 2, messages
    for message in messages:
        assert "\n" not in message
        assert str(token_file) in message
        assert message.endswith(reason), message
        assert SECRET not in message
    assert SECRET not in result.stdout + result.stderr
    assert json.loads(token_file.read_text()) == OLD_TOKEN
    leftovers = sorted(p.name for p in token_file.parent.iterdir())
    assert set(leftovers) <= {"alpha.json", "alpha.json.lock"}, leftovers


def test_a_full_disk_gives_one_line_and_keeps_the_old_token(tmp_path: Path):
    config, token_file = workspace_with_token(tmp_path / "ws")

    messages, result = run_child(config, "disk-full", SECRET)

    assert_clean_failure(messages, result, token_file, ": File too large")
    assert messages[0].startswith(f"cannot write token file {token_file}")


@pytest.fixture
def unprivileged_root() -> Iterator[tuple[Path, list[str]]]:
    """A folder the test's (maybe dropped) user owns, and the child's extra arguments."""
    if os.geteuid() != 0:
        folder = Path(tempfile.mkdtemp(prefix="multichat-ro-"))
        yield folder, ["as-is"]
    else:
        try:
            nobody = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            pytest.skip("running as root and there is no `nobody` user to drop to")
        # Under /tmp, not tmp_path: pytest's base folder is 0700 root and nobody could not enter.
        folder = Path(tempfile.mkdtemp(prefix="multichat-ro-", dir="/tmp"))
        folder.chmod(0o755)
        yield folder, ["drop-to", str(nobody)]
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o700)
    shutil.rmtree(folder)


def test_a_read_only_token_folder_gives_one_line_and_keeps_the_old_token(unprivileged_root):
    folder, mode = unprivileged_root
    config, token_file = workspace_with_token(folder / "ws")
    if mode[0] == "drop-to":
        nobody = int(mode[1])
        for path in (folder / "ws", config, token_file.parent, token_file):
            os.chown(path, nobody, nobody)
        (folder / "ws").chmod(0o755)
        config.chmod(0o644)
    token_file.parent.chmod(0o500)

    messages, result = run_child(config, mode[0], SECRET, *mode[1:])

    assert_clean_failure(messages, result, token_file, ": Permission denied")
    assert messages[0] == f"cannot lock token file {token_file}: Permission denied"
    assert messages[1] == f"cannot write token file {token_file}: Permission denied"
