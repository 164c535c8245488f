"""Where the Copier template lives, and rendering it into a scratch folder.

An installed wheel carries ``copier.yml`` and ``template/`` under ``multichat/_template``; a
source checkout has them at the repository root. Copier would clone a git checkout (and pick its
latest tag), so from a checkout the two are staged into a scratch folder and rendered as they are.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from multichat.contract import STATE_DIR
from multichat.errors import GenerationError, MultichatError, UserError

_PACKAGED = Path(__file__).resolve().parent.parent / "_template"
_CHECKOUT = Path(__file__).resolve().parents[3]


TEMPLATE_ENV = "MULTICHAT_TEMPLATE"


def template_root() -> Path:
    """The folder that holds ``copier.yml`` and ``template/``.

    ``MULTICHAT_TEMPLATE`` points elsewhere: for template development, and for tests that
    generate with an older revision of the template.
    """
    override = os.environ.get(TEMPLATE_ENV)
    if override:
        root = Path(override).expanduser()
        if not (root / "copier.yml").is_file():
            raise GenerationError(f"{TEMPLATE_ENV}={override} has no copier.yml")
        return root
    for candidate in (_PACKAGED, _CHECKOUT):
        if (candidate / "copier.yml").is_file() and (candidate / "template").is_dir():
            return candidate
    raise GenerationError(
        "multichat's template is missing from this installation; reinstall multichat"
    )


@contextlib.contextmanager
def _copier_source() -> Iterator[Path]:
    root = template_root()
    if not (root / ".git").exists():
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="multichat-template-") as scratch:
        staged = Path(scratch)
        shutil.copy2(root / "copier.yml", staged / "copier.yml")
        shutil.copytree(
            root / "template",
            staged / "template",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        yield staged


@contextlib.contextmanager
def render(
    kind: str,
    data: Mapping[str, Any],
    *,
    defaults: bool,
    user_defaults: Mapping[str, Any] | None = None,
) -> Iterator[Path]:
    """Render the ``kind`` template into a scratch folder that is removed afterwards.

    ``user_defaults`` replace the template's defaults: the answers used without a terminal,
    the ones offered at its prompts.
    """
    import copier
    from copier.errors import CopierError

    with _copier_source() as source, tempfile.TemporaryDirectory(prefix="multichat-render-") as out:
        try:
            copier.run_copy(
                str(source),
                out,
                data={**data, "kind": kind},
                defaults=defaults,
                user_defaults=dict(user_defaults or {}),
                quiet=True,
                overwrite=True,
                unsafe=False,
                skip_tasks=True,
            )
        except ValueError as exc:
            if str(exc).startswith("Validation error for question"):  # an answer, not the template
                raise UserError(f"{_first_line(exc)}; nothing was written") from None
            if str(exc).startswith("Question ") and str(exc).endswith(" is required"):
                question = str(exc).split('"')[1] if '"' in str(exc) else str(exc)
                raise UserError(
                    f"this preset needs an answer for {question}: pass --data {question}=..."
                ) from None
            raise GenerationError(
                f"the template did not render: {_first_line(exc)}; nothing was written"
            ) from None
        except CopierError as exc:
            raise GenerationError(
                f"the template did not render: {_first_line(exc)}; nothing was written"
            ) from None
        except KeyboardInterrupt:
            raise
        except MultichatError:
            raise
        except Exception as exc:  # copier and jinja raise many types; report one line
            raise GenerationError(
                f"the template did not render: {_first_line(exc)}; nothing was written"
            ) from None
        _record_source(Path(out))
        yield Path(out)


def _record_source(rendered: Path) -> None:
    """Record what rendered the answers file: multichat's version and the template's digest.

    Copier writes the template's path (``_src_path``): a scratch folder, or this machine's
    install, which a teammate's clone does not have. ``upgrade`` renders the installed
    template, so the version and digest are what it needs, and nothing names a machine.
    """
    from ruamel.yaml import YAML

    from multichat import __version__

    for answers_file in (rendered / STATE_DIR).rglob("*.yml"):
        yaml = YAML(typ="rt")
        answers = yaml.load(answers_file.read_text(encoding="utf-8")) or {}
        answers.pop("_src_path", None)
        answers["_multichat_version"] = __version__
        answers["_template_digest"] = template_digest()
        with answers_file.open("w", encoding="utf-8") as handle:
            yaml.dump(answers, handle)


def template_digest() -> str:
    """A short digest of the installed template's files (what a render came from)."""
    import hashlib

    root = template_root()
    digest = hashlib.sha256((root / "copier.yml").read_bytes())
    for path in sorted((root / "template").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
