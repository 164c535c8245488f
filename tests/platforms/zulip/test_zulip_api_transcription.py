"""zulip_api.yaml keeps what Zulip's own description (zerver/openapi/zulip.yaml) requires."""

from __future__ import annotations

import pytest
from fake_zulip import zulip_spec
from support.platform_specs import SpecViolation

WINDOW = {"anchor": "newest", "num_before": "5", "num_after": "0"}
SIGNED = {"Authorization": "Basic YWRhQGV4YW1wbGUuY29tOmtleQ=="}


def test_a_window_of_messages_is_accepted() -> None:
    assert zulip_spec().check_request("GET", "/api/v1/messages", WINDOW, SIGNED) == "get-messages"


@pytest.mark.parametrize("missing", ["num_before", "num_after"])
def test_get_messages_needs_num_before_and_num_after(missing: str) -> None:
    # Required unless `message_ids` (not transcribed) is given.
    query = {name: value for name, value in WINDOW.items() if name != missing}
    with pytest.raises(SpecViolation, match=missing):
        zulip_spec().check_request("GET", "/api/v1/messages", query, SIGNED)


def _message() -> dict[str, object]:
    return {
        "id": 1,
        "sender_id": 8,
        "sender_full_name": "Ada",
        "sender_email": "ada@example.com",
        "timestamp": 1_760_000_000,
        "content": "hi",
        "content_type": "text/x-markdown",
        "display_recipient": "general",
        "type": "stream",
        "stream_id": 1,
        "subject": "town",
        "reactions": [],
        "recipient_id": 101,
    }


def test_an_error_needs_a_code() -> None:
    # zulip.yaml (CodedErrorBase): `required: [result, msg, code]`; exceptions.py's
    # JsonableError always sends one.
    with pytest.raises(SpecViolation, match="code"):
        zulip_spec().check_response("add-reaction", 400, {"result": "error", "msg": "No."})
    coded = {"result": "error", "msg": "Reaction already exists."}
    coded["code"] = "REACTION_ALREADY_EXISTS"
    zulip_spec().check_response("add-reaction", 400, coded)


def test_get_message_needs_no_raw_content() -> None:
    # zulip.yaml (get-message): `raw_content` is "**Deprecated** and to be removed".
    answer = {"result": "success", "msg": "", "message": _message()}
    zulip_spec().check_response("get-message", 200, answer)


def test_the_date_anchor_takes_anchor_date() -> None:
    # zulip.yaml (get-messages): `date` and `anchor_date` are new in 12.0 (feature level 445).
    query = {**WINDOW, "anchor": "date", "anchor_date": "2025-10-09T08:53:20Z"}
    assert zulip_spec().check_request("GET", "/api/v1/messages", query, SIGNED) == "get-messages"
