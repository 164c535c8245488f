"""Matching a request to an operation and checking it, and checking answers.

Schemas are checked with jsonschema-rs against a registry that holds the whole (transformed)
document, every ``$ref`` in it made absolute, so any sub-schema validates on its own; one
validator per schema, compiled on first use (a few ms), then microseconds per check. A
subclass changes only what its platform does differently (Slack's arguments, for one).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema_rs

from .formats import FORMATS
from .model import (
    EMPTY,
    Answer,
    CheckedRequest,
    Kind,
    Operation,
    Parameter,
    Problem,
    Schema,
    SpecViolation,
    literal_length,
)

_INTEGER = re.compile(r"-?\d+")
_JSON_MEDIA = re.compile(r"application/([\w.+-]*\+)?json")


def media_type(value: str | None) -> str | None:
    """``application/json`` from ``application/json; charset=utf-8``."""
    return value.split(";", 1)[0].strip().lower() if value else None


def is_json(media: str | None) -> bool:
    """Whether a media type is JSON (``application/json``, ``application/problem+json``)."""
    return bool(media and _JSON_MEDIA.fullmatch(media))


def query_pairs(query: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A query mapping as wire pairs, the way httpx sends it (lists repeat the name)."""
    pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((name, text))
    return pairs


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _PathGroup:
    """The operations that share one path pattern, by method."""

    path: str
    pattern: re.Pattern[str]
    specificity: int
    methods: dict[str, Operation]


class PlatformSpec:
    """A platform's API description, ready to check requests and answers.

    Built once per process by :func:`load_spec`; checks are plain method calls.
    """

    #: Query and form words read as booleans (OpenAPI and discovery: ``true``/``false``).
    boolean_words: ClassVar[Mapping[str, bool]] = {"true": True, "false": False}

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        operations: Iterable[Operation],
        registry: jsonschema_rs.Registry,
        uri: str,
        validator_class: type[jsonschema_rs.Validator],
        fallback_answers: Mapping[str, Answer] | None = None,
        global_query: Mapping[str, Parameter] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.base_path = urlsplit(self.base_url).path
        self._operations = {op.operation_id: op for op in operations}
        self._registry = registry
        self._resolver = registry.resolver(uri)
        self._validator_class = validator_class
        self._validators: dict[int, tuple[Schema, jsonschema_rs.Validator]] = {}
        self._resolved: dict[str, Schema] = {}
        self._fallback_answers = dict(fallback_answers or {})
        self._global_query = dict(global_query or {})
        groups: dict[str, _PathGroup] = {}
        for op in self._operations.values():
            group = groups.get(op.pattern.pattern)
            if group is None:
                literal = literal_length(op.path)
                group = groups[op.pattern.pattern] = _PathGroup(op.path, op.pattern, literal, {})
            group.methods[op.method] = op
        self._groups = sorted(groups.values(), key=lambda g: -g.specificity)

    def __repr__(self) -> str:
        return f"<PlatformSpec {self.name}: {len(self._operations)} operations>"

    @property
    def operations(self) -> Mapping[str, Operation]:
        """Every operation, by id."""
        return self._operations

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id; a KeyError names the closest ids."""
        try:
            return self._operations[operation_id]
        except KeyError:
            close = difflib.get_close_matches(operation_id, list(self._operations), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"{self.name} has no operation {operation_id!r}{hint}") from None

    # ---- requests ------------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        url_or_path: str,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> str:
        """The id of the operation a request calls; SpecViolation if the description refuses it.

        ``url_or_path`` may carry a query string (merged with ``query``); its host is ignored
        and its path must start with the description's base path. ``body`` is raw (bytes or
        str, read per ``Content-Type``) or an already decoded JSON value (a Mapping is form
        fields when ``Content-Type`` says so).
        """
        return self.validate_request(method, url_or_path, query, headers, body).operation_id

    def validate_request(
        self,
        method: str,
        url_or_path: str,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> CheckedRequest:
        """Like :meth:`check_request`, with the decoded path parameters, arguments and body."""
        method = method.upper()
        split = urlsplit(url_or_path)
        pairs = parse_qsl(split.query, keep_blank_values=True) + query_pairs(query)
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        subject = f"{method} {split.path}"
        op, raw_path_values = self._match(method, split.path or "/", subject)
        problems: list[Problem] = []
        path_params = self._check_path(op, raw_path_values, problems)
        arguments, decoded = self._check_parts(op, pairs, lowered, body, problems)
        if problems:
            raise SpecViolation(
                self.name, f"{subject} ({op.operation_id})", problems, op.operation_id
            )
        return CheckedRequest(op, path_params, arguments, decoded)

    def _match(self, method: str, path: str, subject: str) -> tuple[Operation, dict[str, str]]:
        if self.base_path and not (path == self.base_path or path.startswith(self.base_path + "/")):
            raise SpecViolation(
                self.name,
                subject,
                [Problem(Kind.UNKNOWN_PATH, f"{path} is not under the API's base {self.base_url}")],
            )
        relative = path[len(self.base_path) :]
        # Decode everything but an encoded slash, which must not split a segment.
        relative = unquote(re.sub(r"%2[fF]", "%252F", relative))
        for group in self._groups:
            match = group.pattern.fullmatch(relative)
            if match is None:
                continue
            op = self._pick(group.methods, method)
            if op is None:
                allowed = ", ".join(sorted(group.methods))
                raise SpecViolation(
                    self.name,
                    subject,
                    [Problem(Kind.WRONG_METHOD, f"{group.path} takes {allowed}, not {method}")],
                )
            return op, dict(zip(op.path_names, match.groups(), strict=True))
        close = difflib.get_close_matches(relative, [g.path for g in self._groups], n=3)
        hint = f" (closest: {', '.join(close)})" if close else ""
        problem = Problem(Kind.UNKNOWN_PATH, f"{relative} is not a path of the description{hint}")
        raise SpecViolation(self.name, subject, [problem])

    def _pick(self, methods: Mapping[str, Operation], method: str) -> Operation | None:
        """The operation a method calls on a matched path (Slack also takes POST everywhere)."""
        return methods.get(method)

    def _check_path(
        self, op: Operation, raw: Mapping[str, str], problems: list[Problem]
    ) -> dict[str, Any]:
        params = op.parameters_in("path")
        values: dict[str, Any] = {}
        for name, text in raw.items():
            param = params.get(name)
            values[name] = text if param is None else self._parameter_value(param, [text], problems)
        return values

    def _check_parts(
        self,
        op: Operation,
        pairs: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: Any,
        problems: list[Problem],
    ) -> tuple[dict[str, Any], Any]:
        """Query, headers, body and credentials; a subclass replaces this whole step."""
        arguments = self._check_query(op, pairs, problems)
        self._check_headers(op, headers, problems)
        decoded = self._check_body(op, headers.get("content-type"), body, problems)
        self._check_credentials(op, headers, {name for name, _ in pairs}, problems)
        return arguments, decoded

    def _credential_query_names(self, op: Operation) -> set[str]:
        return {c.query for alt in op.credentials for c in alt if c.query is not None}

    def _check_query(
        self, op: Operation, pairs: list[tuple[str, str]], problems: list[Problem]
    ) -> dict[str, Any]:
        declared = op.parameters_in("query")
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name, []).append(value)
        values: dict[str, Any] = {}
        for name, raw in grouped.items():
            param = declared.get(name) or self._global_query.get(name)
            if param is None:
                if name not in self._credential_query_names(op):
                    allowed = ", ".join(sorted(declared)) or "none"
                    problems.append(
                        Problem(
                            Kind.UNKNOWN_PARAMETER,
                            f"query parameter {name!r} is not one of {op.operation_id}'s "
                            f"(it takes: {allowed})",
                        )
                    )
                continue
            values[name] = self._parameter_value(param, raw, problems)
        for name, param in declared.items():
            if param.required and name not in grouped:
                problems.append(
                    Problem(Kind.MISSING_PARAMETER, f"required query parameter {name!r} is missing")
                )
        return values

    def _check_headers(
        self, op: Operation, headers: Mapping[str, str], problems: list[Problem]
    ) -> None:
        """Declared header parameters only: clients send many headers no description lists."""
        for name, param in op.parameters_in("header").items():
            if name.lower() in headers:
                self._parameter_value(param, [headers[name.lower()]], problems)
            elif param.required:
                problems.append(
                    Problem(Kind.MISSING_PARAMETER, f"required header {name!r} is missing")
                )

    def _check_credentials(
        self,
        op: Operation,
        headers: Mapping[str, str],
        query_names: set[str],
        problems: list[Problem],
    ) -> None:
        if not op.credentials:
            return
        if any(all(c.present(headers, query_names) for c in alt) for alt in op.credentials):
            return
        wanted = " or ".join(" and ".join(c.label for c in alt) for alt in op.credentials)
        problems.append(Problem(Kind.MISSING_CREDENTIALS, f"send {wanted}"))

    def _parameter_value(self, param: Parameter, raw: list[str], problems: list[Problem]) -> Any:
        where = f"{param.location} parameter {param.name!r}"
        types = self._types(param.schema)
        if "array" in types and not ({"string", "integer", "number", "boolean"} & types):
            items = self._resolve(param.schema).get("items", {})
            value: Any = [self._coerce(text, items) for text in raw]
        elif len(raw) > 1:
            problems.append(
                Problem(Kind.INVALID_PARAMETER, f"{where} is given {len(raw)} times, takes one")
            )
            return raw
        else:
            value = self._coerce(raw[0], param.schema)
        self._validate(param.schema, value, where, Kind.INVALID_PARAMETER, problems)
        return value

    def _coerce(self, text: str, schema: Schema) -> Any:
        """A wire string as the type its schema wants; left a string when it cannot be one, so
        the schema check names the type it wanted."""
        types = self._types(schema)
        if not types or "string" in types:
            return text
        if types & {"integer", "number"} and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in types:
            try:
                return float(text)
            except ValueError:
                return text
        if "boolean" in types and text in self.boolean_words:
            return self.boolean_words[text]
        return text

    def _check_body(
        self, op: Operation, content_type: str | None, body: Any, problems: list[Problem]
    ) -> Any:
        if body is None or body in (b"", ""):
            if op.body is not None and op.body.required:
                problems.append(Problem(Kind.MISSING_BODY, f"{op.operation_id} needs a body"))
            return None
        if op.body is None:
            problems.append(Problem(Kind.UNEXPECTED_BODY, f"{op.operation_id} takes no body"))
            return None
        media = media_type(content_type) or (
            None if isinstance(body, bytes | str) else "application/json"
        )
        if media is None or media not in op.body.media_types:
            accepted = ", ".join(op.body.media_types)
            problems.append(
                Problem(Kind.MEDIA_TYPE, f"body of type {media or 'unknown'}; it takes {accepted}")
            )
            return None
        schema = op.body.media_types[media]
        decoded = decode_body(body, media, problems, Kind.INVALID_BODY)
        if decoded is EMPTY or schema is None:
            return None if decoded is EMPTY else decoded
        if media == "application/x-www-form-urlencoded" and isinstance(decoded, dict):
            properties = self._resolve(schema).get("properties", {})
            decoded = {k: self._coerce(v, properties.get(k, {})) for k, v in decoded.items()}
        self._validate(schema, decoded, "body", Kind.INVALID_BODY, problems)
        self._check_unknown_fields(schema, decoded, problems)
        return decoded

    def _check_unknown_fields(self, schema: Schema, body: Any, problems: list[Problem]) -> None:
        """Top-level fields the body schema does not name: a typo is never what a preset means,
        though JSON Schema leaves objects open unless told otherwise."""
        declared = self._declared_fields(schema)
        if declared is None or not isinstance(body, dict):
            return
        unknown = sorted(set(body) - declared)
        if unknown:
            problems.append(
                Problem(
                    Kind.INVALID_BODY,
                    f"body fields {unknown} are not in the description "
                    f"(it names: {', '.join(sorted(declared))})",
                )
            )

    def _declared_fields(self, schema: Schema) -> set[str] | None:
        resolved = self._resolve(schema)
        if {"additionalProperties", "patternProperties", "oneOf", "anyOf"} & set(resolved):
            return None  # open, or closed by the schema itself (then the validator reports)
        names = set(resolved.get("properties", {}))
        for branch in resolved.get("allOf", []):
            more = self._declared_fields(branch)
            if more is None:
                return None
            names |= more
        return names or None

    # ---- answers -------------------------------------------------------------------------------

    def check_response(
        self,
        operation: str,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """SpecViolation unless the description gives this answer for ``operation``.

        ``body`` is raw (bytes or str: JSON unless ``Content-Type`` says otherwise) or an
        already decoded JSON value. 5xx answers the operation does not describe are not
        checked: proxies and load balancers send them as often as the API does.
        """
        op = self.operation(operation)
        if status >= 500 and self._answer_for(op, status, EMPTY) is None:
            return
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        problems: list[Problem] = []
        media = media_type(lowered.get("content-type"))
        if isinstance(body, bytes | str) and media is not None and not is_json(media):
            decoded: Any = body.decode() if isinstance(body, bytes) else body
        elif body is None or isinstance(body, bytes | str):
            decoded = decode_body(body or b"", "application/json", problems, Kind.INVALID_RESPONSE)
            media = media or ("application/json" if decoded is not EMPTY else None)
        else:
            decoded, media = body, media or "application/json"
        subject = f"HTTP {status} answer to {op.operation_id}"
        if not problems:
            answer = self._answer_for(op, status, decoded)
            if answer is None:
                given = ", ".join(sorted(op.answers)) or "none"
                problems.append(
                    Problem(
                        Kind.UNDESCRIBED_STATUS,
                        f"HTTP {status} is not described (it gives: {given})",
                    )
                )
            else:
                self._check_answer_body(answer, media, decoded, problems)
                self._check_answer_headers(op, status, lowered, problems)
        if problems:
            raise SpecViolation(self.name, subject, problems, op.operation_id)

    def _answer_for(self, op: Operation, status: int, body: Any) -> Answer | None:
        """The described answer for a status: exact, then ``4XX``, then ``default``, then what
        the description says in prose for every operation (``fallback_answers``)."""
        for table in (op.answers, self._fallback_answers):
            for key in (str(status), f"{status // 100}XX", "default"):
                if key in table:
                    return table[key]
        return None

    def _check_answer_body(
        self, answer: Answer, media: str | None, body: Any, problems: list[Problem]
    ) -> None:
        if not answer.media_types:
            if body is not EMPTY:
                problems.append(Problem(Kind.INVALID_RESPONSE, "the description gives no body"))
            return
        if body is EMPTY:
            given = ", ".join(answer.media_types)
            problems.append(Problem(Kind.INVALID_RESPONSE, f"empty body; described: {given}"))
            return
        if media is None or media not in answer.media_types:
            given = ", ".join(answer.media_types)
            problems.append(
                Problem(Kind.INVALID_RESPONSE, f"body of type {media}; described: {given}")
            )
            return
        schema = answer.media_types[media]
        if schema is not None:
            self._validate(schema, body, "body", Kind.INVALID_RESPONSE, problems)

    def _check_answer_headers(
        self, op: Operation, status: int, headers: Mapping[str, str], problems: list[Problem]
    ) -> None:
        """Headers a platform promises on an answer (Slack: ``Retry-After`` on 429)."""

    # ---- schemas -------------------------------------------------------------------------------

    def validator(self, schema: Schema) -> jsonschema_rs.Validator:
        """The cached validator for a schema that lives in this description."""
        cached = self._validators.get(id(schema))
        if cached is None:
            validator = self._validator_class(
                dict(schema), registry=self._registry, validate_formats=True, formats=FORMATS
            )
            # The schema is kept with its validator so that its id cannot be reused meanwhile.
            cached = self._validators[id(schema)] = (schema, validator)
        return cached[1]

    def _validate(
        self, schema: Schema, value: Any, where: str, kind: Kind, problems: list[Problem]
    ) -> None:
        validator = self.validator(schema)
        if validator.is_valid(value):
            return
        errors = list(validator.iter_errors(value))
        # The deepest error is the most specific one (a field, not "oneOf failed" above it).
        error = max(errors, key=lambda e: len(e.instance_path))
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        location = f" at ${path}" if path else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        problems.append(Problem(kind, f"{where}{location}: {_short(error.message)}{more}"))

    def _resolve(self, schema: Schema) -> Schema:
        """The schema a ``$ref`` chain ends at (each lookup copies out of Rust: cached)."""
        for _ in range(32):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            if ref not in self._resolved:
                contents: Any = self._resolver.lookup(ref).contents
                self._resolved[ref] = contents
            schema = self._resolved[ref]
        return schema

    def _types(self, schema: Schema) -> set[str]:
        resolved = self._resolve(schema)
        declared = resolved.get("type")
        types = {declared} if isinstance(declared, str) else set(declared or ())
        for key in ("allOf", "oneOf", "anyOf"):
            for branch in resolved.get(key, []):
                types |= self._types(branch)
        for value in resolved.get("enum", []) + (
            [resolved["const"]] if "const" in resolved else []
        ):
            types.add(_json_type(value))
        return types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else "object"


def decode_body(body: Any, media: str | None, problems: list[Problem], kind: Kind) -> Any:
    """Raw bytes or text read per media type (JSON, form fields); decoded values pass as they
    are. ``EMPTY`` when there is nothing."""
    if not isinstance(body, bytes | str):
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return EMPTY
    if media == "application/x-www-form-urlencoded":
        grouped: dict[str, list[str]] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            grouped.setdefault(name, []).append(value)
        return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}
    if is_json(media):
        try:
            return json.loads(text)
        except ValueError as exc:
            problems.append(Problem(kind, f"body is not JSON ({exc})"))
            return EMPTY
    return text
