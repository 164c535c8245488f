"""What the global options and a command tell the error boundary (a leaf: imports nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CliState:
    """Global options, set by the callback before any command runs."""

    debug: bool = False
    #: What Ctrl-C prints; a command that writes says its changes were rolled back.
    interrupted: str = "interrupted"
    #: Servers stop on Ctrl-C as a matter of course: nothing to report.
    quiet_interrupt: bool = False
    #: The command line as given (after ``multichat``), to hand over to another environment.
    argv: list[str] = field(default_factory=list)


state = CliState()
