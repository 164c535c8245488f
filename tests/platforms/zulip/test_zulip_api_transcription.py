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
    # zulip.yaml (get_messages): both are `required: true`.
    query = {name: value for name, value in WINDOW.items() if name != missing}
    with pytest.raises(SpecViolation, match=missing):
        zulip_spec().check_request("GET", "/api/v1/messages", query, SIGNED)
