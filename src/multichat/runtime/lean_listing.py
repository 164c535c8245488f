"""Leave out of ``tools/list`` the bytes that tell a client nothing (issue 16).

FastMCP lists three things on chat tools that carry no information for a client:

- ``_meta.fastmcp.tags`` (``{"tags": []}`` on nearly every tool, dynamic mode's own tag on the
  few it lists from the start; a tool author's tags go too). Tags are a server-side concept:
  dynamic mode matches ``ALWAYS_LISTED`` on the server's own ``Tool.tags`` (FastMCP's
  ``Visibility`` reads ``tags`` and ``meta``, never the listed ``_meta``). Of FastMCP 4.2.3's
  own code only its proxy reads them from a listing (``ProxyTool.from_mcp_tool`` in
  ``fastmcp/server/providers/proxy.py``, to give a proxied tool the remote tags); multichat
  proxies no server, and its ``Client`` reads no listed ``_meta`` (``fastmcp/client`` only
  sends ``_meta.fastmcp.version`` in requests). The namespace's other keys (``version``,
  FastMCP Apps' ``app`` and ``tool_hash``, which intermediaries need) are listed as before,
  and so is any other ``_meta`` key a tool's author set.
- ``"default": null`` on an argument whose schema does not admit null (``str |
  SkipJsonSchema[None]`` is ``{"type": "string", "default": null}``): contradictory JSON
  Schema, and an omitted argument is ``None`` to the function either way.
- ``idempotentHint: false`` on a read-only tool: the MCP specification calls it "meaningful
  only when read_only_hint == false" (``mcp_types.ToolAnnotations``), so a client infers the
  same without it. ``readOnlyHint: false`` stays although false is its default: a generated
  provider's own tests check it on every writing tool (template/provider/tests), and a client
  may read a missing hint as "unknown". ``destructiveHint`` (default true) stays as given: a
  client reading a missing hint as false would infer otherwise.

Tools built by :mod:`.tool_schemas` are lean from the start; :class:`LeanListing` makes any
other listed tool lean (the server's own, one added with ``mcp.tool``) and passes lean ones
through untouched, so a listing copies nothing more for the chat tools.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import mcp_types
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import Tool
from mcp_types import ToolAnnotations

from multichat.runtime.identity_memo import IdentityMemo

ToolT = TypeVar("ToolT", bound=Tool)

#: Keywords whose value is a subschema or a list of them, and those whose value maps names to them.
_SUBSCHEMAS = (
    "items",
    "prefixItems",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "anyOf",
    "oneOf",
    "allOf",
)
_NAMED_SUBSCHEMAS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


class LeanTool(Tool):
    """A tool listed without ``_meta.fastmcp.tags`` (and without ``_meta`` left empty)."""

    def get_meta(self) -> dict[str, Any]:
        """FastMCP's meta without the tags (FastMCP's mounting takes ``tags`` on its own)."""
        meta = super().get_meta()
        namespace = meta.get("fastmcp")
        if isinstance(namespace, dict) and "tags" in namespace:
            rest = {key: value for key, value in namespace.items() if key != "tags"}
            if rest:
                meta["fastmcp"] = rest
            else:
                del meta["fastmcp"]
        return meta

    def to_mcp_tool(self, **overrides: Any) -> mcp_types.Tool:
        """The listed tool; no ``_meta`` at all where nothing is left in it."""
        listed = super().to_mcp_tool(**overrides)
        if listed.meta is not None and not listed.meta:
            listed.meta = None
        return listed


_lean_classes: dict[type[Tool], type[Tool]] = {}


def lean_class(kind: type[ToolT]) -> type[ToolT]:
    """``kind`` listed as a :class:`LeanTool` (a subclass made once per class)."""
    if issubclass(kind, LeanTool):
        return kind
    made = _lean_classes.get(kind)
    if made is None:
        made = types.new_class(
            f"Lean{kind.__name__}",
            (LeanTool, kind),
            exec_body=lambda namespace: namespace.update(__module__=__name__),
        )
        _lean_classes[kind] = made
    return made  # type: ignore[return-value]


def lean_tool(tool: ToolT) -> ToolT:
    """``tool`` as it is listed: a lean copy, or ``tool`` itself when it is lean already."""
    return _lean(tool, without_null_defaults, lean_annotations)


def _lean(
    tool: ToolT,
    schema: Callable[[dict[str, Any]], dict[str, Any]],
    annotations: Callable[[ToolAnnotations | None], ToolAnnotations | None],
) -> ToolT:
    updates: dict[str, object] = {}
    parameters = schema(tool.parameters)
    if parameters is not tool.parameters:
        updates["parameters"] = parameters
    hints = annotations(tool.annotations)
    if hints is not tool.annotations:
        updates["annotations"] = hints
    kind = lean_class(type(tool))
    if kind is type(tool) and not updates:
        return tool
    copy = tool.model_copy(update=updates)
    # The same fields and private state under a subclass that adds only methods: the copy
    # lists as a LeanTool and behaves as ``tool`` in every other way.
    object.__setattr__(copy, "__class__", kind)
    return copy


def lean_annotations(annotations: ToolAnnotations | None) -> ToolAnnotations | None:
    """``annotations`` without the hints a client infers the same without (module docstring)."""
    if annotations is None:
        return None
    given = {name: getattr(annotations, name) for name in annotations.model_fields_set}
    given = {name: value for name, value in given.items() if value is not None}
    dropped = set()
    if given.get("read_only_hint") is True and given.get("idempotent_hint") is False:
        dropped.add("idempotent_hint")
    if not dropped:
        return annotations
    return ToolAnnotations(**{name: given[name] for name in given.keys() - dropped})


def without_null_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without ``"default": null`` where null is not allowed (copied only if so)."""
    lean = dict(schema)
    changed = False
    if lean.get("default", ...) is None and not _admits_null(lean):
        del lean["default"]
        changed = True
    for key in _SUBSCHEMAS:
        value = lean.get(key)
        if isinstance(value, dict):
            inner = without_null_defaults(value)
            if inner is not value:
                lean[key] = inner
                changed = True
        elif isinstance(value, list):
            items = [without_null_defaults(v) if isinstance(v, dict) else v for v in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                lean[key] = items
                changed = True
    for key in _NAMED_SUBSCHEMAS:
        value = lean.get(key)
        if isinstance(value, dict):
            named = {
                name: without_null_defaults(v) if isinstance(v, dict) else v
                for name, v in value.items()
            }
            if any(named[name] is not value[name] for name in value):
                lean[key] = named
                changed = True
    return lean if changed else schema


def _admits_null(schema: dict[str, Any]) -> bool:
    """Whether null may be valid here; true unless ``type``, ``enum`` or ``const`` rule it out.

    These keywords constrain the value whatever the schema's other keywords say; a schema
    that leaves null to ``anyOf``, ``$ref`` and the like is taken to admit it.
    """
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        return False
    if isinstance(kind, list) and "null" not in kind:
        return False
    if "enum" in schema and None not in schema["enum"]:
        return False
    return not ("const" in schema and schema["const"] is not None)


class LeanListing(Middleware):
    """List every tool lean (:func:`lean_tool`), each schema and annotations made lean once."""

    def __init__(self) -> None:
        self._schema = IdentityMemo(without_null_defaults)
        self._annotations = IdentityMemo(lean_annotations)

    async def on_list_tools(
        self,
        context: MiddlewareContext[mcp_types.ListToolsRequest],
        call_next: CallNext[mcp_types.ListToolsRequest, Sequence[Tool]],
    ) -> Sequence[Tool]:
        """The tools, lean."""
        return [self.listed(tool) for tool in await call_next(context)]

    def listed(self, tool: ToolT) -> ToolT:
        """``tool`` as this middleware lists it."""
        return _lean(tool, self._schema, self._lean_annotations)

    def _lean_annotations(self, annotations: ToolAnnotations | None) -> ToolAnnotations | None:
        return None if annotations is None else self._annotations(annotations)
