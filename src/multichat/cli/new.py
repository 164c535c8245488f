"""``multichat new provider NAME``: generate a provider package and its config entry."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated, Any

import typer

from multichat.cli.help_format import HumanCommand, HumanGroup
from multichat.cli.options import ConfigOption, complete_preset
from multichat.cli.state import state
from multichat.docs_pages import docs_page
from multichat.errors import UserError

new_app = typer.Typer(
    cls=HumanGroup, help="Generate code into the workspace.", no_args_is_help=True
)


def parse_data(pairs: list[str]) -> dict[str, Any]:
    """Turn Copier-style ``key=value`` pairs into answers (a value may be YAML: ``[a, b]``)."""
    from ruamel.yaml import YAML

    answers: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--data takes key=value, not {pair!r}")
        key = key.strip()
        if key == "scopes":
            answers[key] = _scopes(value, YAML(typ="safe"))
        else:
            answers[key] = value
    return answers


def _scopes(value: str, yaml: Any) -> list[str]:
    """``scopes=``'s value: one scope, or a YAML list of them (``[read, write]``)."""
    from ruamel.yaml.error import YAMLError

    usage = f"--data scopes= takes a scope or a list of scopes like [read, write], not {value!r}"
    try:
        loaded = yaml.load(value) if value.strip() else []
    except YAMLError:
        raise UserError(usage) from None
    scopes = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(scope, str) and scope.strip() for scope in scopes):
        raise UserError(usage)
    return scopes


# A backspace line keeps click from breaking the address over lines.
@new_app.command(
    "provider",
    cls=HumanCommand,
    epilog=f"\b\nEach platform's setup: {docs_page('platforms/README.md')}",
)
def provider(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="Provider name: a lowercase Python identifier."),
    ],
    preset: Annotated[
        str,
        typer.Option(
            "--preset",
            metavar="PRESET",
            autocompletion=complete_preset,
            help="blank (the guide's skeleton), sandbox (the built-in platform), or a chat "
            "platform: slack, discord, mattermost, zulip, matrix, google_chat, teams "
            "(each platform's setup: below).",
        ),
    ] = "blank",
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Ask nothing; use defaults and --data.")
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Regenerate an existing provider: overwrite its generated files; files you "
            "added, and earlier answers not given again, stay.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show every change (with diffs); write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print the changes as JSON.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Render src/providers/NAME (+ tests) and add NAME to provider-config.yaml."""
    state.interrupted = "interrupted; nothing was written"
    from multichat.contract import validate_provider_name

    validate_provider_name(name)  # before Copier is imported, so a typo fails at once
    if as_json and not dry_run:
        raise UserError("--json goes with --dry-run only")
    from multichat.generator.provider import add_provider

    answers = parse_data(data or [])
    interactive = not defaults and sys.stdin.isatty() and sys.stdout.isatty()
    from multichat.cli.progress import spinner

    # Copier asks its questions on the terminal: a spinner would write over them, so an
    # interactive run gets one only for the checks that follow the questions.
    with spinner(f"Rendering and checking provider {name}", enabled=not interactive):
        created = add_provider(
            name,
            config_path=config,
            preset=preset,
            data=answers,
            defaults=not interactive,
            force=force,
            dry_run=dry_run,
            checking=(lambda: spinner(f"Checking provider {name}"))
            if interactive
            else contextlib.nullcontext,
        )
    root = created.config_path.parent
    if as_json:
        typer.echo(json.dumps(created.as_json(), indent=2))
        return
    if dry_run or force:
        typer.echo(created.describe())
    if dry_run:
        typer.echo("(dry run: nothing was written)")
        return
    typer.echo(
        f"Created provider {name} ({len(created.files)} files) "
        f"and its entry in {created.config_path.name}:"
    )
    for path in created.files:
        typer.echo(f"  {path.relative_to(root)}")
    if created.next_steps:
        typer.echo(created.next_steps)
