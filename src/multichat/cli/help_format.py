"""Help and usage errors for people: metavars, option groups, exit codes, the failing command.

Typer's plain help shows ``<list[str]>`` or ``<str>`` after an option with no metavar and wraps
required arguments in braces (``{NAME}``); its option groups (``rich_help_panel``) appear only
in Rich's help, and Rich is too slow to import for ``--help``. These command classes keep the
plain formatter and fix all three. Every command is built with them (a test walks the tree).
"""

from __future__ import annotations

from typing import Any

import typer.core
from typer._click.exceptions import UsageError  # Typer's bundled click

from multichat.errors import EXIT_CODES

#: Where options with no ``rich_help_panel`` are listed, first.
DEFAULT_PANEL = "Options"
#: The groups of options Typer adds itself (it gives them no panel).
TYPER_PANELS = {"install_completion": "Shell completion", "show_completion": "Shell completion"}


def exit_codes_epilog() -> str:
    """The exit codes as an epilog block (a backspace line keeps click from re-wrapping it)."""
    rows = "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES)
    return f"\b\nExit codes:\n{rows}"


def metavar(param: Any) -> str:
    """What a person types for ``param``: its metavar, a choice list, or its name in capitals."""
    if param.metavar:
        return str(param.metavar)
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_choice and descriptor.choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in descriptor.choices)
    return str(param.name).upper()


def _argument_usage(param: Any) -> str:
    """An argument on the usage line: ``NAME``, ``[NAME]``, ``NAME...``."""
    name = metavar(param)
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


def _option_row(param: Any, ctx: Any) -> tuple[str, str] | None:
    """One option's row: its flags with a readable metavar, and its help with the default."""
    record: tuple[str, str] | None = param.get_help_record(ctx)
    if record is None or param.is_flag or param.count:
        return record
    names = [_joined(param.opts)]
    if param.secondary_opts:
        names.append(_joined(param.secondary_opts))
    value = metavar(param) + ("..." if param.nargs != 1 else "")
    return " / ".join(f"{name} {value}" for name in names), record[1]


def _joined(opts: list[str]) -> str:
    """``-d, --data``: short forms first, as click writes them."""
    return ", ".join(sorted(opts, key=lambda opt: len(opt) - len(opt.lstrip("-"))))


class _HumanHelp:
    """The parts of click's help that these classes redo (mixed into Typer's classes)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse; a parser error (``--port`` without a value) learns which command it is for.

        Click's parser raises those without a context, so their message could not name the
        command whose ``--help`` explains the usage.
        """
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc, no-any-return]
        except UsageError as exc:
            if exc.ctx is None:
                exc.ctx, exc.cmd = ctx, ctx.command
            raise

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] NAME`` rather than Typer's ``[OPTIONS] {NAME}``."""
        pieces = [self.options_metavar] if self.options_metavar else []  # type: ignore[attr-defined]
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                pieces.append(_argument_usage(param))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Arguments by metavar alone, then options in their groups, in order of appearance."""
        arguments: list[tuple[str, str]] = []
        panels: dict[str, list[tuple[str, str]]] = {DEFAULT_PANEL: []}
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                record = param.get_help_record(ctx)
                if record is not None:
                    arguments.append((metavar(param), record[1]))
            elif param.param_type_name == "option":
                row = _option_row(param, ctx)
                if row is not None:
                    panel = (
                        getattr(param, "rich_help_panel", None)
                        or TYPER_PANELS.get(param.name)
                        or DEFAULT_PANEL
                    )
                    panels.setdefault(panel, []).append(row)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        for title, rows in panels.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class HumanCommand(_HumanHelp, typer.core.TyperCommand):
    """A command whose help reads as written for people."""


class HumanGroup(_HumanHelp, typer.core.TyperGroup):
    """A command group whose help reads as written for people."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The group's own arguments, then ``COMMAND [ARGS]...``."""
        return [*super().collect_usage_pieces(ctx), self.subcommand_metavar]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The options, then the commands (as Typer's group does)."""
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)
