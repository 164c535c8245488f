"""Slack's Web API description (Swagger 2.0), and the ways Slack takes arguments and answers.

Slack methods are RPC calls, not resources (https://docs.slack.dev/apis/web-api):

- arguments come as query parameters, a form body, or a mix; a method whose ``consumes`` lists
  ``application/json`` also takes a JSON object, and then the token must be in
  ``Authorization: Bearer`` (https://api.slack.com/changelog/2017-10-keeping-up-with-the-jsons);
- any method may be POSTed; GET only where the description says GET;
- the token goes as ``Authorization: Bearer <token>`` (the description's ``token`` header
  parameter) or a ``token`` form field, never in the query string: Slack refuses that for apps
  created since 2021-02-24
  (https://api.slack.com/changelog/2020-11-no-more-tokens-in-querystrings-for-newly-created-apps);
- answers are HTTP 200, ``ok: true`` (the ``200`` schema) or ``ok: false`` (``default``), or
  HTTP 429 with ``Retry-After`` and ``error: ratelimited``
  (https://docs.slack.dev/apis/web-api/rate-limits).

Deliberate leniencies on answers, each because Slack's own examples in the file break it:

- ``additionalProperties: false`` is dropped: Slack adds fields, and conversations.history's own
  example carries ``response_metadata``, which its schema forbids;
- ``minItems`` is dropped: an empty channel answers ``messages: []``;
- the ``error`` enums also take Slack's common errors, listed on every method's page
  (e.g. https://api.slack.com/methods/calls.info#errors), such as ``ratelimited`` and
  ``token_expired``, which no enum in the file has.

In a JSON body a ``string`` argument also takes a boolean or a number (``as_user: true``), and
one whose description says it is JSON (``blocks``, ``attachments``) an array or object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jsonschema_rs

from .model import (
    EMPTY,
    Answer,
    Credential,
    Kind,
    Operation,
    Problem,
    absolute_refs,
    bearer,
    path_pattern,
)
from .spec import PlatformSpec, decode_body, is_json, media_type

URI = "urn:multichat-spec:slack"
FORM = "application/x-www-form-urlencoded"

#: Errors every Slack method may answer: the common rows of each method page's Errors table
#: (e.g. https://api.slack.com/methods/calls.info#errors) and the rate limit's ``ratelimited``.
COMMON_ERRORS = (
    "access_denied",
    "accesslimited",
    "account_inactive",
    "deprecated_endpoint",
    "ekm_access_denied",
    "enterprise_is_restricted",
    "fatal_error",
    "internal_error",
    "invalid_arg_name",
    "invalid_arguments",
    "invalid_array_arg",
    "invalid_auth",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "method_deprecated",
    "missing_post_type",
    "missing_scope",
    "no_permission",
    "not_allowed_token_type",
    "not_authed",
    "not_implemented",
    "org_login_required",
    "ratelimited",
    "request_timeout",
    "service_unavailable",
    "team_access_not_granted",
    "team_added_to_org",
    "token_expired",
    "token_revoked",
    "two_factor_setup_required",
)
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Argument:
    """One Slack argument: a scalar type, and whether its text is JSON (``blocks``)."""

    name: str
    type: str
    required: bool
    json_text: bool


class SlackSpec(PlatformSpec):
    """Slack's arguments (query, form or JSON), credentials, and ``ok``-keyed answers."""

    boolean_words: ClassVar[Mapping[str, bool]] = {
        "true": True,
        "false": False,
        "1": True,
        "0": False,
    }

    def _pick(self, methods: Mapping[str, Operation], method: str) -> Operation | None:
        op = next(iter(methods.values()))
        return op if method in (op.method, "POST") else None

    def _check_parts(
        self,
        op: Operation,
        pairs: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: Any,
        problems: list[Problem],
    ) -> tuple[dict[str, Any], Any]:
        declared: dict[str, Argument] = op.extra["arguments"]
        sources: list[tuple[str, Any, str]] = [(name, value, "query") for name, value in pairs]
        decoded, origin = self._read_body(op, headers, body, problems)
        if isinstance(decoded, dict):
            for name, value in decoded.items():
                for item in value if origin == "form" and isinstance(value, list) else [value]:
                    sources.append((name, item, origin))
        arguments: dict[str, Any] = {}
        token_field = False
        for name, value, where in sources:
            if name == "token":
                token_field = token_field or self._token_argument(where, problems)
                continue
            argument = declared.get(name)
            if argument is None:
                takes = ", ".join(sorted(declared)) or "none"
                problems.append(
                    Problem(
                        Kind.UNKNOWN_PARAMETER,
                        f"argument {name!r} is not one of {op.operation_id}'s (it takes: {takes})",
                    )
                )
            elif name in arguments:
                problems.append(Problem(Kind.INVALID_PARAMETER, f"argument {name!r} given twice"))
            else:
                arguments[name] = self._argument_value(argument, value, where, problems)
        for name, argument in declared.items():
            if argument.required and name not in arguments:
                problems.append(
                    Problem(Kind.MISSING_PARAMETER, f"required argument {name!r} is missing")
                )
        has_bearer = bearer().present(headers, set())
        if op.credentials and not (has_bearer or token_field):
            problems.append(Problem(Kind.MISSING_CREDENTIALS, "send Authorization: Bearer <token>"))
        elif origin == "json" and decoded is not None and not has_bearer:
            problems.append(
                Problem(Kind.MISSING_CREDENTIALS, "a JSON body needs Authorization: Bearer <token>")
            )
        return arguments, decoded

    def _read_body(
        self, op: Operation, headers: Mapping[str, str], body: Any, problems: list[Problem]
    ) -> tuple[dict[str, Any] | None, str]:
        """The body's arguments and where they came from (``form`` or ``json``)."""
        if body is None or body in (b"", ""):
            return None, "form"
        content_type = media_type(headers.get("content-type"))
        if content_type is None and not isinstance(body, bytes | str):
            content_type = "application/json"
        consumes: list[str] = op.extra["consumes"]
        if content_type not in (FORM, *consumes):
            problems.append(
                Problem(
                    Kind.MEDIA_TYPE,
                    f"body of type {content_type or 'unknown'}; {op.operation_id} takes "
                    f"{', '.join(dict.fromkeys([*consumes, FORM]))}",
                )
            )
            return None, "form"
        origin = "json" if is_json(content_type) else "form"
        decoded = decode_body(body, content_type, problems, Kind.INVALID_BODY)
        if decoded is EMPTY:
            return None, origin
        if not isinstance(decoded, dict):
            problems.append(Problem(Kind.INVALID_BODY, "the body must be a JSON object"))
            return None, origin
        return decoded, origin

    def _token_argument(self, where: str, problems: list[Problem]) -> bool:
        """A ``token`` argument: fine in a form body only."""
        if where == "form":
            return True
        why = (
            "Slack refuses query-string tokens for apps created since 2021-02-24"
            if where == "query"
            else "Slack does not read a token from a JSON body"
        )
        problems.append(
            Problem(Kind.INVALID_PARAMETER, f"token in the {where}: {why}; send Authorization")
        )
        return False

    def _argument_value(
        self, argument: Argument, value: Any, where: str, problems: list[Problem]
    ) -> Any:
        wanted = argument.type
        if where == "json":
            ok = {
                "string": isinstance(value, str | bool | int | float)
                or (argument.json_text and isinstance(value, list | dict)),
                "integer": isinstance(value, int) and not isinstance(value, bool),
                "number": isinstance(value, int | float) and not isinstance(value, bool),
                "boolean": isinstance(value, bool),
            }.get(wanted, True)
            converted = value
        else:
            converted, ok = self._from_text(argument, str(value))
        if not ok:
            problems.append(
                Problem(
                    Kind.INVALID_PARAMETER,
                    f"argument {argument.name!r} must be {wanted}"
                    f"{' (JSON text)' if argument.json_text else ''}, got {value!r:.80}",
                )
            )
        return converted

    def _from_text(self, argument: Argument, text: str) -> tuple[Any, bool]:
        if argument.type == "integer":
            return (int(text), True) if _INTEGER.fullmatch(text) else (text, False)
        if argument.type == "number":
            try:
                return float(text), True
            except ValueError:
                return text, False
        if argument.type == "boolean":
            return self.boolean_words.get(text, text), text in self.boolean_words
        if argument.json_text:
            try:
                json.loads(text)
            except ValueError:
                return text, False
        return text, True

    def _answer_for(self, op: Operation, status: int, body: Any) -> Answer | None:
        if status == 200:
            failed = isinstance(body, dict) and body.get("ok") is False
            return op.answers.get("default" if failed else "200")
        if status == 429:
            return op.answers.get("default")
        return None

    def _check_answer_headers(
        self, op: Operation, status: int, headers: Mapping[str, str], problems: list[Problem]
    ) -> None:
        if status == 429 and headers and "retry-after" not in headers:
            problems.append(Problem(Kind.INVALID_RESPONSE, "Slack's 429 carries Retry-After"))


def read_slack(folder: Path) -> SlackSpec:
    """The Slack spec from ``slack_web_openapi_v2.json``."""
    document = json.loads((folder / "slack_web_openapi_v2.json").read_text())
    _relax_answers(document)
    document = absolute_refs(document, URI)
    registry = jsonschema_rs.Registry([(URI, document)], draft=jsonschema_rs.Draft4)
    base_url = f"{document['schemes'][0]}://{document['host']}{document['basePath']}"
    operations = []
    for path, item in document["paths"].items():
        for method, raw in item.items():
            operations.append(_operation(path, method, raw))
    return SlackSpec(
        "slack",
        base_url=base_url,
        operations=operations,
        registry=registry,
        uri=URI,
        validator_class=jsonschema_rs.Draft4Validator,
    )


def _operation(path: str, method: str, raw: dict[str, Any]) -> Operation:
    params = raw.get("parameters", [])
    arguments = {
        p["name"]: Argument(
            p["name"],
            p.get("type", "string"),
            bool(p.get("required")),
            "JSON" in p.get("description", ""),
        )
        for p in params
        if p["in"] in ("query", "formData") and p["name"] != "token"
    }
    needs_token = "security" in raw or any(p["name"] == "token" for p in params)
    credentials: tuple[tuple[Credential, ...], ...] = ((bearer(),),) if needs_token else ()
    answers = {
        str(status): Answer({"application/json": answer.get("schema")})
        for status, answer in raw.get("responses", {}).items()
    }
    pattern, names = path_pattern(path)
    return Operation(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=path,
        pattern=pattern,
        path_names=names,
        parameters={},
        body=None,
        answers=answers,
        credentials=credentials,
        extra={"arguments": arguments, "consumes": list(raw.get("consumes", [FORM]))},
    )


def _relax_answers(document: dict[str, Any]) -> None:
    """The documented leniencies, applied in place (see the module docstring)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("additionalProperties") is False:
                del node["additionalProperties"]
            node.pop("minItems", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document["definitions"])
    for item in document["paths"].values():
        for raw in item.values():
            for answer in raw.get("responses", {}).values():
                walk(answer.get("schema"))
            error = raw.get("responses", {}).get("default", {}).get("schema", {})
            enum = error.get("properties", {}).get("error", {}).get("enum")
            if isinstance(enum, list):
                enum.extend(e for e in COMMON_ERRORS if e not in enum)
