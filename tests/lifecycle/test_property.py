"""Property: any sequence of new/remove/upgrade keeps the config valid and the tree consistent."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifecycle_support import (
    CONFIG,
    assert_comments_kept,
    assert_consistent,
    assert_same_tree,
    tree_snapshot,
)

from multichat.errors import ProviderExists, UnknownProvider
from multichat.generator.provider import add_provider
from multichat.generator.remove import remove_provider
from multichat.generator.upgrade import upgrade_provider

NAMES = ("alpha", "beta", "gamma")
OPERATIONS = ("new", "new --force", "remove", "upgrade", "sign in")

USER_CONFIG = """\
# My providers; multichat keeps these notes.
#   (a second header line)

providers:
  # entries go below; this comment is mine
# after the block, at the top level
settings:  # a key of my own
  theme: dark  # inline, on a nested key
# the last line is a comment too
"""

operations = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.sampled_from(NAMES)), max_size=6)


def _apply(config: Path, operation: str, name: str) -> None:
    if operation == "new":
        add_provider(name, config_path=config)
    elif operation == "new --force":
        add_provider(name, config_path=config, force=True)
    elif operation == "remove":
        remove_provider(config, name, delete_secrets=True, force=False, dry_run=False)
    elif operation == "upgrade":
        plan = upgrade_provider(config, name, dry_run=False)
        assert plan.conflicts == []
    else:  # the user signs in: a token appears in the package
        package = config.parent / "src" / "providers" / name
        if package.is_dir():
            (package / "token.json").write_text('{"access_token": "x"}')


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_any_sequence_keeps_config_valid_comments_and_tree(
    empty_workspace: Path, steps: list[tuple[str, str]]
) -> None:
    with tempfile.TemporaryDirectory(prefix="multichat-property-") as scratch:
        ws = Path(scratch) / "ws"
        shutil.copytree(empty_workspace, ws)
        config = ws / CONFIG
        config.write_text(USER_CONFIG)
        initial = tree_snapshot(ws)
        present: set[str] = set()

        for operation, name in steps:
            before = tree_snapshot(ws)
            try:
                _apply(config, operation, name)
            except ProviderExists:
                assert operation == "new", (operation, name)
                assert name in present, (operation, name)
                assert_same_tree(ws, before, (operation, name))
            except UnknownProvider:
                assert operation in ("remove", "upgrade"), (operation, name)
                assert name not in present, (operation, name)
                assert_same_tree(ws, before, (operation, name))
            else:
                if operation.startswith("new"):
                    present.add(name)
                elif operation == "remove":
                    present.discard(name)
            assert assert_consistent(ws) == present, steps
            assert_comments_kept(USER_CONFIG, config.read_text())

        # removing whatever is left gives back the workspace as it was, byte for byte
        for name in sorted(present):
            remove_provider(config, name, delete_secrets=True, force=False, dry_run=False)
        assert config.read_text() == USER_CONFIG
        assert_same_tree(ws, initial, steps)
