"""Add a function as a FastMCP tool, building each distinct tool's JSON schemas once a process.

FastMCP builds a tool's input and output schemas with pydantic when it is added: about 2.5 ms a
tool, most of what a provider costs at start-up. Every chat provider adds the same fourteen
functions (new closures of the same code), so a tool built the plain way
(``FunctionTool.from_function``) is kept under a key made of everything schema building reads:
the function's name, docstring and signature (resolved annotations, compared by structure;
defaults) and the options it is added with. A later function with the same key gets a copy of
that tool holding its own function. Arguments are still validated against the function's own
signature: FastMCP builds the validator from the tool's function on its first call. Each tool is
built lean (:mod:`.lean_listing`): what it lists leaves out the bytes that tell a client nothing,
as the server's ``LeanListing`` middleware would, so listing it copies nothing.

Besides ``stdio``, this is the one module that reads FastMCP's private state
(``FastMCP._support_tasks_by_default``: what ``mcp.tool`` passes for ``task`` when none is
given), pinned by tests/runtime/test_fastmcp_private.py.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Hashable, Mapping
from typing import Any, get_args, get_origin, get_type_hints

from fastmcp import FastMCP
from fastmcp.tools import FunctionTool
from mcp_types import ToolAnnotations
from pydantic.fields import FieldInfo

from multichat.runtime.lean_listing import lean_tool

#: Options ``FunctionTool.from_function`` takes as ``mcp.tool`` does; any other (``app``) is
#: left to ``mcp.tool`` itself.
_TOOL_OPTIONS = frozenset(
    {
        "version",
        "title",
        "icons",
        "tags",
        "output_schema",
        "meta",
        "task",
        "timeout",
        "auth",
        "run_in_thread",
    }
)
#: Modules whose objects (constraints, field settings) are compared by their attributes.
_STRUCTURAL_MODULES = ("pydantic", "annotated_types")
#: Types compared by value (exactly these: an enum member is compared by identity).
_ATOMS = frozenset({str, bytes, int, float, complex, bool, type(None)})
_FIELD = FieldInfo.__slots__
_MAX_DEPTH = 40

#: Tools built so far, by key; ``None`` marks a key whose tool cannot be shared.
_built: dict[Hashable, FunctionTool | None] = {}
#: Functions described so far, by :func:`_quick_key` (``None``: one that cannot be told).
_described: dict[Hashable, DescribedFunction | None] = {}
#: Shapes of type expressions seen, by id (the expression is held, so its id stays its own).
_generic_shapes: dict[int, tuple[object, Hashable]] = {}


class _Unshapeable(Exception):
    """A value the key cannot describe: the tool is built the plain way."""


class _Same:
    """An object that matches only itself in a key (held there, so its id is never reused)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def add_function_tool(
    mcp: FastMCP[Any],
    function: Callable[..., Any],
    *,
    name: str,
    description: str | None,
    annotations: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> None:
    """Add ``function`` to ``mcp`` as ``mcp.tool(function, name=..., ...)`` would.

    The tool lists exactly as the plain one does through ``LeanListing``; only its schemas may
    be shared with an earlier tool of the same key.
    """
    if not options.keys() <= _TOOL_OPTIONS:
        given = dict(annotations) if annotations is not None else None
        mcp.tool(function, name=name, description=description, annotations=given, **options)
        return
    task = options.get("task")
    settings = {**options, "task": mcp._support_tasks_by_default if task is None else task}
    described = describe_function(function)
    key = (
        None
        if described is None
        else (
            described.key,
            name,
            description,
            _shape(dict(annotations or {})),
            tuple(sorted((option, _shape(value)) for option, value in settings.items())),
        )
    )
    template = _built.get(key) if key is not None else None
    if template is not None and described is not None:
        tool = template.model_copy(
            update={
                "fn": function,
                "return_type": described.returns,
                "tags": set(template.tags),
                "meta": dict(template.meta) if template.meta is not None else None,
            }
        )
    else:
        tool = _build(function, name, description, annotations, settings)
        if key is not None and key not in _built:
            _built[key] = tool if _shareable(tool, function) else None
    mcp.add_tool(tool)


@dataclasses.dataclass(frozen=True)
class DescribedFunction:
    """What building a function's tool reads of the function, as a key, and its return type."""

    key: Hashable
    returns: Any


def describe_function(function: Callable[..., Any]) -> DescribedFunction | None:
    """Describe ``function`` for :func:`add_function_tool`; ``None`` if it cannot be told."""
    if not inspect.isfunction(function):
        return None
    quick = _quick_key(function)
    if quick is None:
        return _describe(function)
    if quick not in _described:
        _described[quick] = _describe(function)
    return _described[quick]


def _quick_key(function: Callable[..., Any]) -> Hashable | None:
    """What a closure shares with every other closure of the same code and the same objects.

    Its code, names and docstring, and its annotations and defaults by identity: two functions
    equal here have the same signature and hints, so :func:`_describe` would describe them
    alike (each provider's chat tools are new closures of one code, with constant annotations).
    ``None`` where a wrapper sets its own signature, or wraps with other annotations.
    """
    inner = function
    while True:
        if "__signature__" in vars(inner):
            return None
        wrapped = getattr(inner, "__wrapped__", None)
        if wrapped is None:
            break
        if not inspect.isfunction(wrapped):
            return None
        inner = wrapped
    annotations = function.__annotations__
    if inner.__annotations__ is not annotations:
        return None
    return (
        inner.__code__,
        _Same(inner.__globals__),  # where string annotations are resolved
        function.__name__,
        function.__qualname__,
        function.__doc__,
        tuple((key, _Same(value)) for key, value in annotations.items()),
        tuple(_Same(value) for value in inner.__defaults__ or ()),
        tuple((key, _Same(value)) for key, value in (inner.__kwdefaults__ or {}).items()),
    )


def _describe(function: Callable[..., Any]) -> DescribedFunction | None:
    try:
        signature = inspect.signature(function)
        hints = get_type_hints(function, include_extras=True)
        parameters = tuple(
            (
                parameter.name,
                parameter.kind,
                _shape(parameter.default),
                _shape(hints.get(parameter.name, parameter.annotation)),
            )
            for parameter in signature.parameters.values()
        )
        # The return type FastMCP records: the signature's, resolved if it is a string.
        returns = signature.return_annotation
        if isinstance(returns, str):
            returns = hints.get("return", returns)
        key = (
            function.__name__,
            function.__qualname__,
            function.__doc__,
            parameters,
            _shape(returns),
        )
    # A signature or annotation this cannot read is FastMCP's to judge (or reject): building
    # the plain way keeps its behaviour, errors included.
    except (_Unshapeable, NameError, TypeError, ValueError, AttributeError, SyntaxError):
        return None
    return DescribedFunction(key, returns)


def forget_built_tools() -> None:
    """Drop every kept tool (tests compare shared and freshly built tools)."""
    _built.clear()
    _described.clear()
    _generic_shapes.clear()


def _build(
    function: Callable[..., Any],
    name: str,
    description: str | None,
    annotations: Mapping[str, Any] | None,
    settings: Mapping[str, Any],
) -> FunctionTool:
    """The tool as ``mcp.tool`` builds it (annotations converted the same way), made lean."""
    built = FunctionTool.from_function(
        function,
        name=name,
        description=description,
        annotations=ToolAnnotations(**annotations) if annotations else None,
        **settings,
    )
    return lean_tool(built)


def _shareable(tool: FunctionTool, function: Callable[..., Any]) -> bool:
    """Whether FastMCP kept ``function`` as it is.

    It rewrites the signature of a function that takes a ``Context``; a copy would miss that.
    """
    return tool.fn is function and "__signature__" not in vars(function)


def _shape(value: Any, depth: int = 0) -> Hashable:
    """``value`` as a hashable key, equal to another's only where pydantic cannot tell them apart.

    Types and other objects compare by identity; type expressions and constraints by structure.
    """
    kind = type(value)
    if kind in _ATOMS:
        return (kind, value)
    if depth > _MAX_DEPTH:
        raise _Unshapeable(value)
    deeper = depth + 1
    if kind is list or kind is tuple:
        return (kind, tuple(_shape(item, deeper) for item in value))
    if kind is set or kind is frozenset:
        return (kind, frozenset(_shape(item, deeper) for item in value))
    if kind is dict:
        return (dict, tuple((_shape(k, deeper), _shape(v, deeper)) for k, v in value.items()))
    if kind is FieldInfo:
        return (FieldInfo, tuple(_shape(getattr(value, slot, None), deeper) for slot in _FIELD))
    origin = get_origin(value)
    if origin is not None:
        # Type expressions do not change once made: the module's constants (``Limit``) are
        # described once, not once a tool.
        known = _generic_shapes.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        arguments = tuple(_shape(argument, deeper) for argument in get_args(value))
        shape = ("generic", _shape(origin, deeper), arguments)
        _generic_shapes[id(value)] = (value, shape)
        return shape
    if isinstance(value, type) or callable(value):
        return _Same(value)
    if dataclasses.is_dataclass(value):
        fields = tuple(getattr(value, field.name) for field in dataclasses.fields(value))
        return (_Same(kind), _shape(fields, deeper))
    if kind.__module__.startswith(_STRUCTURAL_MODULES) and hasattr(value, "__dict__"):
        return (_Same(kind), _shape(vars(value), deeper))
    return _Same(value)
