"""MkDocs hook: the page of every command and option, rendered from the Typer app at each build.

Nothing of it is committed, so it cannot drift from the CLI: a new command, option or help text
is on the next build. docs/cli.md explains the commands; this page enumerates them, as
``multichat COMMAND --help`` does.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Iterator
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "cli-reference.md"
PROGRAM = "multichat"

# Python-Markdown's backslash escapes; `<` and `&` are escaped as HTML instead.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]])")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the rendered reference to the site's pages."""
    files.append(File.generated(config, PAGE, content=render_reference()))
    return files


def render_reference() -> str:
    """The whole page: the global options, then one section per command, in the CLI's order."""
    import typer
    import typer.main

    from multichat.cli.app import app

    root = typer.main.get_command(app)
    lines = [
        "# Every command and option",
        "",
        f"Rendered from the command line itself when this site was built: it is what "
        f"`{PROGRAM} COMMAND --help` prints. [The command line](cli.md) explains what each "
        "command does, its exit codes and environment variables.",
        "",
    ]
    for command, context in command_tree(root, typer.Context(root, info_name=PROGRAM)):
        lines += _section(command, context)
    return "\n".join(lines)


def command_tree(command: Any, context: Any) -> Iterator[tuple[Any, Any]]:
    """Each visible command with its context, depth first: the group, then its commands.

    Typer bundles its own click, so a group is recognised by ``list_commands``, not by class.
    """
    yield command, context
    if not hasattr(command, "list_commands"):
        return
    for name in command.list_commands(context):
        child = command.get_command(context, name)
        if child is None or getattr(child, "hidden", False):
            continue
        yield from command_tree(child, type(context)(child, info_name=name, parent=context))


def anchor(command_path: str) -> str:
    """The id of a command's section: ``multichat new provider`` -> ``multichat-new-provider``."""
    return command_path.replace(" ", "-")


def _section(command: Any, context: Any) -> list[str]:
    path = context.command_path
    lines = [f"## `{path}` {{ #{anchor(path)} }}", ""]
    if command.help:
        lines += [_text(command.help), ""]
    usage = " ".join([path, *command.collect_usage_pieces(context)])
    lines += ["```text", usage, "```", ""]
    for heading, records in _parameter_groups(command, context).items():
        lines += [f"**{_text(heading)}**", ""]
        lines += [f"- `{names}`" + (f": {_text(help)}" if help else "") for names, help in records]
        lines.append("")
    if hasattr(command, "list_commands"):
        subcommands = [
            (name, sub)
            for name in command.list_commands(context)
            if (sub := command.get_command(context, name)) is not None
            and not getattr(sub, "hidden", False)
        ]
        if subcommands:
            lines += ["**Commands**", ""]
            lines += [
                f"- [`{name}`](#{anchor(f'{path} {name}')}): "
                + _text(sub.get_short_help_str(limit=200))
                for name, sub in subcommands
            ]
            lines.append("")
    if command.epilog:
        lines += [_text(command.epilog), ""]
    return lines


def _parameter_groups(command: Any, context: Any) -> dict[str, list[tuple[str, str]]]:
    """Help records by heading: Arguments, Options, then each of the CLI's own help panels."""
    groups: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
    for parameter in command.get_params(context):
        record = parameter.get_help_record(context)
        if record is None:  # hidden
            continue
        default = "Arguments" if parameter.param_type_name == "argument" else "Options"
        groups.setdefault(getattr(parameter, "rich_help_panel", None) or default, []).append(record)
    return {heading: records for heading, records in groups.items() if records}


def _text(help_text: str) -> str:
    r"""Help text as Markdown that shows it literally (click's ``\b`` no-rewrap marks dropped)."""
    kept = [line for line in inspect.cleandoc(help_text).splitlines() if line.strip() != "\b"]
    escaped = html.escape("\n".join(kept), quote=False)
    return _MARKDOWN_SPECIALS.sub(r"\\\1", escaped)
