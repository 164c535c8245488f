"""OAuth sign-in with discovery (issue 13): only the issuer is configured, the endpoints come
from the sandbox's RFC 8414 metadata, and the token is checked with who-am-I before saving."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from helpers import MULTICHAT, LinePump, clean_env, free_port, set_provider_keys

from multichat.demo.consent_form import answer_consent
from multichat.generator.provider import add_provider
from multichat.sandbox import SandboxServer

PROVIDER = "chat"
BOUND = 60.0


def test_only_the_issuer_is_configured_and_the_sign_in_works(
    workspace: Path, sandbox: SandboxServer
):
    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": free_port()},
    )
    config = workspace / "provider-config.yaml"
    set_provider_keys(
        workspace, PROVIDER, oauth={"client_id": "multichat-sandbox", "issuer": sandbox.url}
    )
    assert "authorize_url: " not in config.read_text()

    process = subprocess.Popen(
        [MULTICHAT, "auth", PROVIDER, "--no-browser", "--timeout", "60"],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    out, err = LinePump(process.stdout), LinePump(process.stderr)
    try:
        deadline = time.monotonic() + BOUND
        line = err.next_line(deadline)
        assert line is not None, "".join(err.seen)
        url = re.match(rf"Sign in to {PROVIDER}: (\S+)", line)
        assert url is not None, line
        page = answer_consent(url[1])
        process.wait(timeout=BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert page.status_code == 200, page.text
    assert process.returncode == 0, "".join(err.seen)
    assert f"signed in to {PROVIDER}" in out.join(10)
    saved = json.loads((workspace / "src" / "providers" / PROVIDER / "token.json").read_text())
    assert saved["mode"] == "oauth"
    assert saved["user"]["username"] == "ada"
