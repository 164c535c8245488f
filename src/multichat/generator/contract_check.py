"""Check rendered provider code before it reaches the workspace.

Every module must compile and the three contract files must define the names the guide requires
(read from the source: nothing rendered is imported into the CLI's process).
"""

from __future__ import annotations

import ast
from pathlib import Path

from multichat.contract import CONTRACT
from multichat.errors import GenerationError


def defined_names(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level (assignments, functions, classes, imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return names


def check_rendered_provider(rendered: Path, package: Path) -> None:
    """Raise :class:`GenerationError` unless every module compiles and the trio is complete."""
    trees: dict[Path, ast.Module] = {}
    for source in sorted(rendered.rglob("*.py")):
        relative = source.relative_to(rendered)
        try:
            trees[relative] = ast.parse(source.read_text(encoding="utf-8"), str(relative))
        except SyntaxError as exc:
            raise GenerationError(
                f"the template produced invalid Python in {relative}:{exc.lineno}: {exc.msg}"
            ) from None
    for file, required in CONTRACT.items():
        tree = trees.get(package / file)
        if tree is None:
            raise GenerationError(f"the template did not produce {package / file}")
        missing = required - defined_names(tree)
        if missing:
            raise GenerationError(
                f"{package / file} from the template lacks {', '.join(sorted(missing))}"
            )
