"""The one way a generator command changes a workspace, and the one way it renders a provider.

Every writing command (``new``, ``upgrade`` and ``remove provider``) runs as::

    with workspace_transaction(config_path, dry_run=dry_run) as change:
        ...plan into change.changes, reading change.config...

which takes the workspace's lock (recovering a change a killed process left half done),
reads the configuration under it, and on leaving the block applies the plan all-or-nothing
unless it is a dry run or was cancelled (as Copier's ``Worker`` does its work on exit).
:func:`checked_render` renders a provider and checks it as ``multichat run`` would load it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multichat import contract
from multichat.errors import WorkspaceWriteError, os_error_text
from multichat.generator.changes import ChangeSet, workspace_lock
from multichat.generator.contract_check import check_rendered_provider
from multichat.generator.import_check import check_provider_imports, import_probe, verdict_key
from multichat.generator.template_source import render, template_root
from multichat.runtime.config import WorkspaceConfig, load_config


@dataclass
class WorkspaceChange:
    """The configuration as read under the lock, and the changes planned against it."""

    config: WorkspaceConfig
    changes: ChangeSet
    dry_run: bool
    applied: bool = False
    cancelled: bool = field(default=False, repr=False)

    def cancel(self) -> None:
        """Leave the workspace as it is (the user declined)."""
        self.cancelled = True


@contextlib.contextmanager
def workspace_transaction(config_path: Path | None, *, dry_run: bool) -> Iterator[WorkspaceChange]:
    """Plan under the workspace's lock; apply on leaving unless ``dry_run`` or cancelled."""
    root = load_config(config_path).root
    with workspace_lock(root):
        change = WorkspaceChange(load_config(config_path), ChangeSet(root), dry_run)
        yield change
        if not dry_run and not change.cancelled:
            try:
                change.changes.apply()
            except OSError as error:  # rolled back already: say so, in one line
                raise WorkspaceWriteError(
                    f"could not change the workspace ({os_error_text(error)}); every file was "
                    "put back as it was: free space or make the folder writable, then run it again"
                ) from None
            change.applied = True


@dataclass(frozen=True)
class Rendered:
    """A checked render of a provider: its files, config entry, the new config, next steps.

    The next steps are the preset's words to the user, printed by ``new provider``.
    """

    tree: Path
    entry_text: str
    config_text: str
    next_steps: str


@contextlib.contextmanager
def checked_render(
    config: WorkspaceConfig,
    name: str,
    answers: Mapping[str, Any],
    *,
    defaults: bool = True,
    user_defaults: Mapping[str, Any] | None = None,
    new_config_text: Callable[[str], str],
    checking: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> Iterator[Rendered]:
    """Render provider ``name`` and check it: it compiles, honours the contract, and imports.

    ``new_config_text`` turns the rendered config entry into the configuration the provider
    will run with (``new`` adds the entry, ``upgrade`` keeps the file as it is). The render is
    imported under that configuration in a child process (see :mod:`.import_check`) that is
    started before Copier runs unless an earlier identical check passed. ``checking`` wraps
    the checks, which come after Copier's questions (the CLI shows a spinner there).
    ``user_defaults`` stand in for the template's defaults (see :func:`.template_source.render`).
    """
    template = template_root()
    key = verdict_key(template, str(answers.get("preset", "blank")), config.root)
    with (
        import_probe(key) as probe,
        render("provider", answers, defaults=defaults, user_defaults=user_defaults) as tree,
    ):
        entry_text, next_steps = (
            _take(tree / f"{name}.{suffix}")
            for suffix in ("provider-config.yaml", "next-steps.txt")
        )
        config_text = new_config_text(entry_text)
        with checking():
            check_rendered_provider(tree, contract.package_dir(name))
            check_provider_imports(
                tree,
                name,
                key=key,
                workspace=config.root,
                config_name=config.path.name,
                config_text=config_text,
                probe=probe,
            )
        yield Rendered(tree, entry_text, config_text, next_steps.strip())


def _take(path: Path) -> str:
    """The text of a rendered file that is for multichat, not the workspace; then removed."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    path.unlink(missing_ok=True)
    return text
