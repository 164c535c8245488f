"""Merging the providers' answers into one: a time window, one order across platforms, a limit.

Platforms write times differently (fractions, offsets), so items are ordered by the instant
their ``sent_at`` names; one that does not parse sorts last rather than failing the answer.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from multichat.chat.inbox_models import InboxChannel, InboxMessage
from multichat.chat.models import CatchUp, ChatMessage, MessagePage
from multichat.chat.times import parse_time
from multichat.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """One provider's answer, read into the chat tools' model."""

    provider: str
    platform: str
    content: T


@dataclass(frozen=True)
class Window:
    """Only items sent in ``[since, until)``; an open end when None."""

    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    def holds(self, message: ChatMessage) -> bool:
        """Whether ``message`` was sent inside the window (always, when the window is open)."""
        if self.since is None and self.until is None:
            return True
        when = sent_at(message)
        if math.isinf(when):
            return False
        after = self.since is None or when >= self.since.timestamp()
        return after and (self.until is None or when < self.until.timestamp())


def sent_at(message: ChatMessage) -> float:
    """Unix seconds of ``message``'s ``sent_at``; minus infinity when it does not parse."""
    try:
        when = parse_time(message.sent_at)
    except UserError:
        return -math.inf
    return -math.inf if when is None else when.timestamp()


def tagged(answer: Answer[MessagePage], window: Window) -> list[InboxMessage]:
    """The answer's messages inside ``window``, each naming its provider and platform."""
    return [
        InboxMessage(**message.model_dump(), provider=answer.provider, platform=answer.platform)
        for message in answer.content.messages
        if window.holds(message)
    ]


def newest_first(
    answers: Iterable[Answer[MessagePage]], window: Window, limit: int
) -> list[InboxMessage]:
    """Every provider's messages in ``window``, newest first, at most ``limit``."""
    merged = [message for answer in answers for message in tagged(answer, window)]
    merged.sort(key=lambda message: (-sent_at(message), message.provider))
    return merged[:limit]


def by_rank(
    answers: Sequence[Answer[MessagePage]], window: Window, limit: int
) -> list[InboxMessage]:
    """Each platform's best match, then each one's second, ...; newer first at equal rank.

    Relevance scores of different platforms cannot be compared, their ranks can.
    """
    ranked = [
        (rank, -sent_at(message), message.provider, message)
        for answer in answers
        for rank, message in enumerate(tagged(answer, window))
    ]
    ranked.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in ranked[:limit]]


def channel_news(
    answers: Iterable[Answer[CatchUp]], window: Window
) -> tuple[list[InboxChannel], dict[str, str]]:
    """Every provider's channels with news in ``window``, most urgent first, and their notes.

    Channels with more mentions of the user come first, then those with the newest message.
    With a window, a channel keeps only the messages inside it and goes if none is left.
    """
    channels: list[InboxChannel] = []
    notes: dict[str, str] = {}
    for answer in answers:
        if answer.content.note:
            notes[answer.provider] = answer.content.note
        for news in answer.content.channels:
            latest = [message for message in news.latest if window.holds(message)]
            if not latest and (window.since is not None or window.until is not None):
                continue
            fields = {**news.model_dump(), "latest": latest}
            channels.append(
                InboxChannel(**fields, provider=answer.provider, platform=answer.platform)
            )
    channels.sort(
        key=lambda channel: (
            -channel.mentions_of_me,
            -max((sent_at(message) for message in channel.latest), default=-math.inf),
            channel.provider,
        )
    )
    return channels, notes
