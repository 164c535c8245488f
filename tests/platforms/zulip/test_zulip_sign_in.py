"""``multichat auth NAME --zuliprc PATH`` against the fake Zulip: the key is checked with
``GET /users/me`` (HTTP Basic, email:key) before it is saved; a wrong key saves nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fake_zulip import API_KEY, EMAIL
from helpers import MULTICHAT, clean_env
from platforms.preset_workspace import generate

PROVIDER = "zrc"


def auth(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, "auth", PROVIDER, *args],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_zuliprc_signs_in_and_a_wrong_key_saves_nothing(zulip, tmp_path: Path):
    _, url = zulip
    ws = generate(tmp_path / "ws", PROVIDER, "zulip", url)
    token = ws / "src" / "providers" / PROVIDER / "token.json"
    wrong = tmp_path / "wrong-zuliprc"
    wrong.write_text(f"[api]\nemail={EMAIL}\nkey=not-the-key\nsite={url}\n")
    right = tmp_path / "zuliprc"
    right.write_text(f"[api]\nemail={EMAIL}\nkey={API_KEY}\nsite={url}\n")

    refused = auth(ws, "--zuliprc", str(wrong))
    assert refused.returncode == 1
    assert "Invalid API key" in refused.stderr
    assert not token.exists()

    signed = auth(ws, "--zuliprc", str(right))
    assert signed.returncode == 0, signed.stderr
    assert API_KEY not in signed.stdout + signed.stderr
    saved = json.loads(token.read_text())
    assert (saved["username"], saved["access_token"], saved["mode"]) == (EMAIL, API_KEY, "token")

    missing = auth(ws, "--zuliprc", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
