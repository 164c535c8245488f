"""The one shape every platform's API description is read into.

A description becomes :class:`Operation` objects (method, path pattern, parameters, body,
answers, credentials); ``spec.PlatformSpec`` checks requests and answers against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Schema = Mapping[str, Any]
#: Marks "no body at all", which is not the JSON value ``null``.
EMPTY: Any = type("Empty", (), {"__repr__": lambda self: "EMPTY"})()


class Kind(StrEnum):
    """What a problem is about, so tests can assert on it without matching message text."""

    UNKNOWN_PATH = "unknown path"
    WRONG_METHOD = "wrong method"
    MISSING_PARAMETER = "missing parameter"
    UNKNOWN_PARAMETER = "unknown parameter"
    INVALID_PARAMETER = "invalid parameter"
    MEDIA_TYPE = "media type"
    MISSING_BODY = "missing body"
    UNEXPECTED_BODY = "unexpected body"
    INVALID_BODY = "invalid body"
    MISSING_CREDENTIALS = "missing credentials"
    UNDESCRIBED_STATUS = "undescribed status"
    INVALID_RESPONSE = "invalid response"


@dataclass(frozen=True)
class Problem:
    """One thing the description does not allow."""

    kind: Kind
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


class SpecViolation(AssertionError):
    """A request or an answer that the platform's own API description does not allow."""

    def __init__(
        self,
        platform: str,
        subject: str,
        problems: Sequence[Problem],
        operation_id: str | None = None,
    ) -> None:
        self.platform = platform
        self.subject = subject
        self.problems = tuple(problems)
        self.operation_id = operation_id
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{platform}: {subject} breaks the platform's API description:\n{lines}")

    @property
    def kinds(self) -> set[Kind]:
        """The kinds of problem found."""
        return {problem.kind for problem in self.problems}


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter; ``schema`` describes the value after decoding."""

    name: str
    location: str
    required: bool
    schema: Schema


@dataclass(frozen=True)
class Body:
    """A request body: its schema per media type (``None``: the body is not checked)."""

    required: bool
    media_types: Mapping[str, Schema | None]


@dataclass(frozen=True)
class Answer:
    """One described answer: its schema per media type; no media types means no body."""

    media_types: Mapping[str, Schema | None]


@dataclass(frozen=True)
class Credential:
    """One way to present credentials: a header whose value starts with ``prefix``, or a query
    parameter."""

    label: str
    header: str | None = None
    prefix: str = ""
    query: str | None = None

    def present(self, headers: Mapping[str, str], query_names: set[str]) -> bool:
        """Whether the request carries this credential (a non-empty token after the prefix)."""
        if self.query is not None:
            return self.query in query_names
        value = headers.get((self.header or "").lower(), "")
        return value[: len(self.prefix)].lower() == self.prefix.lower() and bool(
            value[len(self.prefix) :].strip()
        )


def bearer(label: str = "Authorization: Bearer <token>") -> Credential:
    """``Authorization: Bearer <token>`` (RFC 6750)."""
    return Credential(label, header="authorization", prefix="Bearer ")


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the description gives it."""

    operation_id: str
    method: str
    path: str
    pattern: re.Pattern[str]
    path_names: tuple[str, ...]
    parameters: Mapping[tuple[str, str], Parameter]
    body: Body | None
    answers: Mapping[str, Answer]
    #: Alternatives, each a set of credentials sent together; empty: no credentials needed.
    credentials: tuple[tuple[Credential, ...], ...] = ()
    #: What a subclass needs beyond this shape (Slack: its arguments and media types).
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def success_status(self) -> int:
        """The first 2xx status the description gives (200 when it gives none)."""
        statuses = sorted(int(key) for key in self.answers if key.isdigit() and key[0] == "2")
        return statuses[0] if statuses else 200

    def parameters_in(self, location: str) -> dict[str, Parameter]:
        """The parameters of one location, by name."""
        return {p.name: p for (loc, name), p in self.parameters.items() if loc == location}


_TEMPLATE_PART = re.compile(r"\{(\+?)([^}]+)\}")


def literal_length(template: str) -> int:
    """How much of a path template is literal: the more, the more specific the path."""
    return len(_TEMPLATE_PART.sub("", template))


def path_pattern(
    template: str, patterns: Mapping[str, str] | None = None
) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A regex for a path template: ``{name}`` is one segment, ``{+name}`` what ``patterns``
    says (a discovery document's ``^spaces/[^/]+$``) or anything."""
    regex, names, end = "", [], 0
    for match in _TEMPLATE_PART.finditer(template):
        regex += re.escape(template[end : match.start()])
        reserved, name = match.groups()
        given = (patterns or {}).get(name)
        if given:
            regex += "(" + given.removeprefix("^").removesuffix("$") + ")"
        else:
            regex += "(.+)" if reserved else "([^/]+)"
        names.append(name)
        end = match.end()
    regex += re.escape(template[end:])
    return re.compile(regex), tuple(names)


@dataclass(frozen=True)
class CheckedRequest:
    """A request that passed: its operation and its decoded parameters."""

    operation: Operation
    path_params: dict[str, Any]
    arguments: dict[str, Any]
    body: Any

    @property
    def operation_id(self) -> str:
        """The operation's id in the description."""
        return self.operation.operation_id


def absolute_refs(node: Any, uri: str) -> Any:
    """A copy of a document whose local ``$ref`` (``#/...``) point into ``uri``."""
    if isinstance(node, dict):
        return {
            str(key): (
                uri + value
                if key == "$ref" and isinstance(value, str) and value.startswith("#")
                else absolute_refs(value, uri)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(item, uri) for item in node]
    if node is None or isinstance(node, str | int | float):
        return node
    return str(node)  # YAML dates in examples: JSON has no such type
