"""The answers a provider is rendered with: which a user may give, and what each may hold.

No answer is ever rendered into Python source (the template uses only the validated provider
name there, and ``tojson`` in YAML), and the free-text answers are checked here too: one line
of printable text, bounded. Answers from ``--data`` and from a committed answers file
(``upgrade``) go through the same checks.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multichat.errors import UserError

#: Answers multichat sets itself: ``--data`` may not change them.
OWN_ANSWERS = frozenset({"kind", "provider_name", "preset", "default_port"})
#: Free-text answers and their longest length: each is one line of printable text.
ONE_LINE_ANSWERS = {"display_name": 80, "description": 300}


@functools.cache
def _copier_questions(copier_yml: Path) -> dict[Any, Any]:
    """``copier.yml`` parsed once a process (both readers below need it)."""
    from ruamel.yaml import YAML

    questions = YAML(typ="safe").load(copier_yml.read_text(encoding="utf-8")) or {}
    return questions if isinstance(questions, dict) else {}


@functools.cache
def template_questions(copier_yml: Path) -> frozenset[str]:
    """The provider questions ``copier.yml`` asks: those whose ``when`` names the provider kind."""
    return frozenset(
        str(key)
        for key, question in _copier_questions(copier_yml).items()
        if not str(key).startswith("_")
        and isinstance(question, dict)
        and "'provider'" in str(question.get("when", ""))
    )


@functools.cache
def template_presets(copier_yml: Path) -> tuple[str, ...]:
    """The presets ``copier.yml`` offers (the values of the ``preset`` question's choices)."""
    choices = (_copier_questions(copier_yml).get("preset") or {}).get("choices") or {}
    return tuple(
        str(value) for value in (choices.values() if isinstance(choices, dict) else choices)
    )


def check_user_answers(data: Mapping[str, Any], copier_yml: Path) -> None:
    """Refuse ``--data`` keys that multichat owns or the template does not ask, and bad text."""
    own = sorted(set(data) & OWN_ANSWERS)
    if own:
        raise UserError(
            f"--data {own[0]}=... is not an answer you can give: multichat sets "
            f"{', '.join(sorted(OWN_ANSWERS))} itself (use the command's arguments and --preset)"
        )
    known = template_questions(copier_yml) - OWN_ANSWERS
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(
            f"--data {unknown[0]}=...: the template has no such question; "
            f"it asks: {', '.join(sorted(known))}"
        )
    check_text_answers(data, "--data")


def check_text_answers(data: Mapping[str, Any], source: str) -> None:
    """Each free-text answer in ``data`` must be one line of printable text, not too long."""
    for key, limit in ONE_LINE_ANSWERS.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str):
            raise UserError(f"{source}: {key} must be text, not {type(value).__name__}")
        bad = next((char for char in value if _breaks_a_line(char)), None)
        if bad is not None:
            raise UserError(
                f"{source}: {key} must be one line of text; it holds the control character "
                f"U+{ord(bad):04X}"
            )
        if len(value) > limit:
            raise UserError(f"{source}: {key} is {len(value)} characters long; at most {limit}")


def _breaks_a_line(char: str) -> bool:
    """Control characters (newlines included) and the Unicode line and paragraph separators."""
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}
