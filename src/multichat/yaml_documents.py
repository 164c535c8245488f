"""Reading YAML safely: round-trip (nothing constructed), bounded, errors as one line.

The one reader of the YAML multichat parses (``provider-config.yaml``, an MCP client's config):
tags that construct objects are never run, an alias bomb or a deeply nested document is
refused before anything walks it, and a syntax error names file, line and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from multichat.errors import ConfigError, MultichatError

#: Bounds on a parsed document, aliases counted as often as they are used: a config holds
#: hundreds of values, and ten lines of nested anchors would otherwise expand to 10**10.
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 64


def read_yaml_document(
    text: str,
    path: Path | str,
    *,
    error: type[MultichatError] = ConfigError,
    fix: str = "fix the YAML syntax there",
) -> Any:
    """Parse YAML round-trip (no object construction); any problem is one ``error`` line.

    ``fix`` ends a syntax error's message. A document that would expand past
    :data:`MAX_YAML_VALUES` values or nest deeper than :data:`MAX_YAML_DEPTH` (an alias bomb)
    is refused before anything walks it.
    """
    too_deep = f"{path}: nested too deeply to read (over {MAX_YAML_DEPTH} levels); flatten it"
    try:
        document = YAML(typ="rt").load(text)
    except RecursionError:
        raise error(too_deep) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"{where}: {problem}; {fix}") from None
    except YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc}); {fix}") from None
    # id -> (values once expanded, depth): each shared node is measured once. A node that
    # contains itself never finishes: the depth bound stops it.
    measured: dict[int, tuple[int, int]] = {}

    def measure(node: Any, level: int) -> tuple[int, int]:
        if isinstance(node, Mapping):
            children: Any = [*node.keys(), *node.values()]
        elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
            children = node
        else:
            return 1, 0
        known = measured.get(id(node))
        if level >= MAX_YAML_DEPTH or (known is not None and level + known[1] > MAX_YAML_DEPTH):
            raise error(too_deep)
        if known is not None:
            return known
        values, depth = 1, 0
        for child in children:
            child_values, child_depth = measure(child, level + 1)
            values += child_values
            depth = max(depth, child_depth + 1)
            if values > MAX_YAML_VALUES:
                raise error(
                    f"{path}: expands to more than {MAX_YAML_VALUES:,} values (YAML aliases "
                    "repeated inside each other?); write the values out or use fewer aliases"
                )
        measured[id(node)] = (values, depth)
        return values, depth

    measure(document, 0)
    return document


def to_plain(node: Any) -> Any:
    """Turn ruamel's commented containers and scalar subclasses into plain Python values."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [to_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    for plain in (int, float, str):
        if isinstance(node, plain):
            return plain(node)
    return node


def line_of(document: Any, location: tuple[Any, ...]) -> int:
    """Best line number (1-based) for a key path, falling back to its nearest parent."""
    line = 1
    node = document
    for part in location:
        if not isinstance(node, CommentedBase):
            break
        try:
            if isinstance(node, Mapping) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, Sequence) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line
