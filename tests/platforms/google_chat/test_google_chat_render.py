"""The generated google_chat and teams providers pass ruff, mypy --strict and their own tests.

Both presets are rendered into one workspace so that each tool runs once for the two (the
generated code differs only in the preset's name; tests/generator/test_provider_render.py
checks the blank preset the same way).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import free_port, run_module

PRESETS = {"gchat": "google_chat", "teams": "teams"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    folder = tmp_path_factory.mktemp("render") / "ws"
    create_workspace(folder)
    for name, preset in PRESETS.items():
        add_provider(
            name,
            config_path=folder / "provider-config.yaml",
            preset=preset,
            data={"port": free_port()},
        )
    return folder


def test_the_generated_code_passes_ruff(generated: Path):
    result = run_module("ruff", "check", "--no-cache", ".", cwd=generated)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_providers_pass_mypy_strict(generated: Path):
    packages = [f"src/providers/{name}" for name in PRESETS]
    result = run_module("mypy", "--strict", "--no-error-summary", *packages, cwd=generated)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_tests_pass(generated: Path):
    result = run_module("pytest", "-v", "-p", "no:cacheprovider", cwd=generated)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    for name in PRESETS:
        test_file = f"tests/providers/{name}/test_{name}_provider.py"
        for test in (
            "test_whoami_before_sign_in_names_the_fix",
            "test_the_chat_tool_set_is_served_with_annotations",
            "test_read_only_hides_every_writer",
        ):
            assert f"{test_file}::{test} PASSED" in output, test
