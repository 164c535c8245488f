"""A Google discovery document (Google Chat) read into operations.

Each method has ``httpMethod``, a ``path`` whose ``{+name}`` parameters carry a ``pattern``
(``^spaces/[^/]+$``) that tells apart methods on the same template, ``parameters`` (location,
type, format, enum, repeated, required) and ``request``/``response`` ``$ref``s by schema name.
Schemas become JSON Schema 2020-12 under ``$defs``: ``$ref`` by name, ``type: any`` as no type,
and an object with ``properties`` but no ``additionalProperties`` closed, because Google's JSON
mapping rejects a field its message does not have ("Invalid JSON payload received. Unknown
name", https://protobuf.dev/programming-guides/json/); answers are held to the same, so a typo
in a canned answer fails too. The document's top-level ``parameters`` (``alt``, ``fields``,
``key``, ...) are allowed on every method.

Errors are not in discovery documents: every Google API answers them in the shape of
https://cloud.google.com/apis/design/errors#http_mapping (``error.code``, ``message``,
``status``), which :data:`GOOGLE_ERROR` holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs

from .model import (
    Answer,
    Body,
    Credential,
    Operation,
    Parameter,
    bearer,
    path_pattern,
)
from .spec import PlatformSpec

URI = "urn:multichat-spec:google_chat"
_DROPPED = {"id", "description", "enumDescriptions", "enumDeprecated", "annotations", "location"}

#: google.rpc.Code names, the ``status`` of an error answer
#: (https://cloud.google.com/apis/design/errors#handling_errors).
STATUS_CODES = (
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
)
GOOGLE_ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"enum": list(STATUS_CODES)},
                "details": {"type": "array", "items": {"type": "object", "required": ["@type"]}},
            },
        }
    },
}


def read_google_chat(folder: Path) -> PlatformSpec:
    """The Google Chat spec from ``chat.v1.json``."""
    return read_discovery("google_chat", json.loads((folder / "chat.v1.json").read_text()))


def read_discovery(name: str, document: dict[str, Any]) -> PlatformSpec:
    """A spec from a discovery document."""
    converted = {
        "$defs": {key: _schema(schema) for key, schema in document["schemas"].items()},
        "error": GOOGLE_ERROR,
    }
    registry = jsonschema_rs.Registry([(URI, converted)], draft=jsonschema_rs.Draft202012)
    global_query = {
        key: Parameter(key, "query", False, _parameter_schema(raw))
        for key, raw in document["parameters"].items()
    }
    operations = [_operation(method) for method in _methods(document.get("resources", {}))]
    base_url = document["rootUrl"].rstrip("/") + "/" + document.get("servicePath", "")
    return PlatformSpec(
        name,
        base_url=base_url,
        operations=operations,
        registry=registry,
        uri=URI,
        validator_class=jsonschema_rs.Draft202012Validator,
        fallback_answers={"4XX": Answer({"application/json": {"$ref": f"{URI}#/error"}})},
        global_query=global_query,
    )


def _methods(resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _methods(resource.get("resources", {}))


def _operation(method: dict[str, Any]) -> Operation:
    raw_params = method.get("parameters", {})
    patterns = {key: raw["pattern"] for key, raw in raw_params.items() if "pattern" in raw}
    template = "/" + method["path"]
    pattern, names = path_pattern(template, patterns)
    parameters = {
        (raw["location"], key): Parameter(
            key, raw["location"], bool(raw.get("required")), _parameter_schema(raw)
        )
        for key, raw in raw_params.items()
    }
    body = None
    if "request" in method:
        body = Body(True, {"application/json": _ref(method["request"]["$ref"])})
    response = method.get("response")
    answer = Answer({"application/json": _ref(response["$ref"])} if response else {})
    # Google Chat takes OAuth 2.0 access tokens only (every method lists scopes).
    credentials: tuple[tuple[Credential, ...], ...] = ()
    if method.get("scopes"):
        credentials = (
            (bearer(),),
            (Credential("query parameter access_token", query="access_token"),),
            (Credential("query parameter oauth_token", query="oauth_token"),),
        )
    return Operation(
        operation_id=method["id"],
        method=method["httpMethod"],
        path=template,
        pattern=pattern,
        path_names=names,
        parameters=parameters,
        body=body,
        answers={"200": answer},
        credentials=credentials,
    )


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"{URI}#/$defs/{name}"}


def _parameter_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """A parameter as JSON Schema: type, format, enum, pattern, bounds; ``repeated``: a list."""
    schema: dict[str, Any] = {"type": raw.get("type", "string")}
    for key in ("format", "enum", "pattern"):
        if key in raw:
            schema[key] = raw[key]
    for key in ("minimum", "maximum"):  # numbers written as strings in discovery
        if key in raw:
            schema[key] = float(raw[key])
    return {"type": "array", "items": schema} if raw.get("repeated") else schema


def _schema(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    if "$ref" in raw:
        return _ref(raw["$ref"])
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _DROPPED:
            continue
        if key == "type" and value == "any":
            continue
        if key == "properties":
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _schema(value)
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out
