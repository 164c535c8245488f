"""OpenAPI 3.0 and 3.1 descriptions read into operations: Discord (3.1) and Mattermost (3.0).

3.1 schemas are JSON Schema 2020-12 and validate as they are. 3.0 schemas validate as draft 4
(what they extend) once ``nullable: true`` is turned into a ``null`` type. Query parameters are
read as OpenAPI's default ``style: form, explode: true`` (a list repeats the name); neither
description uses another style.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from .model import (
    Answer,
    Body,
    Credential,
    Operation,
    Parameter,
    absolute_refs,
    bearer,
    path_pattern,
)
from .spec import PlatformSpec

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def read_openapi(
    name: str,
    document: dict[str, Any],
    *,
    api_key_prefixes: Mapping[str, str] | None = None,
    fallback_answers: Mapping[str, Mapping[str, Any]] | None = None,
) -> PlatformSpec:
    """A spec from one OpenAPI 3.x document.

    ``api_key_prefixes`` gives the value prefix an ``apiKey`` scheme needs (the description
    only names the header); ``fallback_answers`` are answers the description states in prose for
    every operation, as OpenAPI response objects.
    """
    uri = f"urn:multichat-spec:{name}"
    legacy = str(document["openapi"]).startswith("3.0")
    if legacy:
        document = _nullable_as_type(document)
    document = _const_choices_as_enum(absolute_refs(document, uri))
    draft = jsonschema_rs.Draft4 if legacy else jsonschema_rs.Draft202012
    registry = jsonschema_rs.Registry([(uri, document)], draft=draft)
    resolver = registry.resolver(uri)

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            found: Any = resolver.lookup(node["$ref"]).contents
            node = found
        return node

    schemes = document.get("components", {}).get("securitySchemes", {})
    prefixes = dict(api_key_prefixes or {})

    def credentials(security: list[dict[str, Any]]) -> tuple[tuple[Credential, ...], ...]:
        return tuple(
            tuple(_credential(key, schemes[key], prefixes.get(key, "")) for key in alternative)
            for alternative in security
        )

    servers = [server["url"] for server in document.get("servers", [])]
    base_url = next((url for url in servers if url.startswith("https:")), servers[0])
    operations = []
    for path, raw_item in document["paths"].items():
        item = deref(raw_item)
        shared = [deref(p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            declared = {(p["in"], p["name"]): p for p in shared}
            declared.update(
                {(p["in"], p["name"]): p for p in map(deref, raw.get("parameters", []))}
            )
            pattern, names = path_pattern(path)
            operations.append(
                Operation(
                    operation_id=raw.get("operationId") or f"{method.upper()} {path}",
                    method=method.upper(),
                    path=path,
                    pattern=pattern,
                    path_names=names,
                    parameters={
                        key: _parameter(p) for key, p in declared.items() if key[0] != "cookie"
                    },
                    body=_body(deref(raw["requestBody"])) if "requestBody" in raw else None,
                    answers={
                        str(status): _answer(deref(answer))
                        for status, answer in raw.get("responses", {}).items()
                    },
                    credentials=credentials(raw.get("security", document.get("security", []))),
                )
            )
    return PlatformSpec(
        name,
        base_url=base_url,
        operations=operations,
        registry=registry,
        uri=uri,
        validator_class=(
            jsonschema_rs.Draft4Validator if legacy else jsonschema_rs.Draft202012Validator
        ),
        fallback_answers={
            status: _answer(absolute_refs(answer, uri))
            for status, answer in (fallback_answers or {}).items()
        },
    )


def _parameter(raw: dict[str, Any]) -> Parameter:
    schema = raw.get("schema")
    if schema is None:  # `content` instead of `schema`: the first media type's schema
        content: dict[str, dict[str, Any]] = raw.get("content", {})
        schema = next(iter(content.values()), {}).get("schema", {})
    location = raw["in"]
    return Parameter(raw["name"], location, bool(raw.get("required")) or location == "path", schema)


def _body(raw: dict[str, Any]) -> Body:
    media = {key: value.get("schema") for key, value in raw.get("content", {}).items()}
    # multipart bodies carry files; their parts are not checked.
    media = {key: None if key.startswith("multipart/") else schema for key, schema in media.items()}
    return Body(required=bool(raw.get("required")), media_types=media)


def _answer(raw: dict[str, Any]) -> Answer:
    return Answer({key: value.get("schema") for key, value in raw.get("content", {}).items()})


def _credential(key: str, scheme: dict[str, Any], prefix: str) -> Credential:
    kind = scheme["type"]
    if kind == "apiKey" and scheme["in"] == "query":
        return Credential(f"query parameter {scheme['name']} ({key})", query=scheme["name"])
    if kind == "apiKey":
        header = scheme["name"]
        return Credential(f"{header}: {prefix}<token> ({key})", header=header, prefix=prefix)
    if kind == "http" and scheme["scheme"].lower() == "basic":
        return Credential(f"Authorization: Basic <credentials> ({key})", "authorization", "Basic ")
    return bearer(f"Authorization: Bearer <token> ({key})")  # http bearer, oauth2, openIdConnect


def _const_choices_as_enum(node: Any) -> Any:
    """``oneOf`` of titled ``const`` branches (how Discord writes enums) as the ``enum`` it
    means: the same values allowed, validated once instead of once per branch."""
    if isinstance(node, list):
        return [_const_choices_as_enum(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _const_choices_as_enum(value) for key, value in node.items()}
    branches = out.get("oneOf")
    if (
        isinstance(branches, list)
        and branches
        and all(isinstance(b, dict) and "const" in b and set(b) <= _CONST_KEYS for b in branches)
    ):
        values = [b["const"] for b in branches]
        if len({json.dumps(v) for v in values}) == len(values):
            del out["oneOf"]
            out["enum"] = values
    return out


_CONST_KEYS = {"const", "title", "description"}


def _nullable_as_type(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema's ``null`` type (and enum member)."""
    if isinstance(node, list):
        return [_nullable_as_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {str(key): _nullable_as_type(value) for key, value in node.items()}
    if out.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


# ---- the two platforms -----------------------------------------------------------------------


def read_discord(folder: Path) -> PlatformSpec:
    """Discord: bot tokens go as ``Authorization: Bot <token>``.

    The description names only the header; the prefix is from
    https://discord.com/developers/docs/reference#authentication.
    """
    document = json.loads((folder / "openapi.json").read_text())
    return read_openapi("discord", document, api_key_prefixes={"BotToken": "Bot "})


#: Mattermost's introduction.yaml (tags "errors" and "rate limiting") says, for every endpoint:
#: errors answer the AppError JSON body, and a rate-limited request answers HTTP 429 with the
#: text "limit exceeded".
MATTERMOST_FALLBACK_ANSWERS: dict[str, dict[str, Any]] = {
    "429": {"content": {"text/plain": {}}},
    "4XX": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppError"}}}},
}


def read_mattermost(folder: Path) -> PlatformSpec:
    """Mattermost: ``introduction.yaml``, every area file's paths, ``definitions.yaml``.

    The area files are fragments of one document (upstream's Makefile concatenates them,
    https://github.com/mattermost/mattermost-api-reference/blob/master/Makefile).
    """
    document = _load_yaml(folder / "introduction.yaml")
    document.update(_load_yaml(folder / "definitions.yaml"))
    paths: dict[str, Any] = {}
    for area in _area_files(folder):
        fragment = _load_yaml(area)
        if clash := set(fragment) & set(paths):
            raise ValueError(f"{area.name} repeats paths {sorted(clash)}")
        paths.update(fragment)
    document["paths"] = paths
    return read_openapi("mattermost", document, fallback_answers=MATTERMOST_FALLBACK_ANSWERS)


def _area_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.glob("*.yaml")):
        if path.name not in ("introduction.yaml", "definitions.yaml"):
            yield path


def _load_yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=loader)
    return loaded
