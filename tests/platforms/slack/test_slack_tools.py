"""Every chat tool of the Slack preset, through a real MCP client (in memory) and a fake Slack.

The fake checks each request against Slack's description (tests/support/specs/slack) and each
answer too; the workspace it answers for is ``slack_world``. What each tool sends is asserted
from the requests the fake recorded.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from slack_support import EXTRAS, PROVIDER, READERS, WRITERS, call, forget_names
from slack_world import (
    DESIGN,
    DM_GRACE,
    GENERAL,
    GRACE,
    GROUP_DM,
    LEADS,
    LINUS,
    ME,
    RANDOM,
    slack_error,
    ts,
)

from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted


def texts(page: dict[str, Any]) -> list[str]:
    return [unmark_untrusted(m["text"]) for m in page["messages"]]


def ids(page: dict[str, Any]) -> list[str]:
    return [m["id"] for m in page["messages"]]


# ---- what is served --------------------------------------------------------------------------


async def test_the_twelve_tools_and_mark_read_are_served_with_annotations(client, slack):
    tools = {tool.name: tool for tool in await client.list_tools()}

    assert set(tools) == {f"{PROVIDER}_{name}" for name in READERS | WRITERS | EXTRAS}
    for name in READERS:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is True, name
    for name in WRITERS | {"mark_read"}:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is False, name


async def test_provider_info_and_whoami(client, slack):
    fake, _ = slack
    info = await call(client, "provider_info")
    me = await call(client, "whoami")

    assert info["platform"] == "Slack"
    assert info["unavailable_tools"] == {}
    assert info["sign_in_mode"] == "token"
    assert "search:read" in info["scopes"]
    assert me == {"id": ME, "username": "ada", "name": "Ada Lovelace", "is_bot": False}
    [test] = fake.calls("auth_test")
    assert test.headers["authorization"] == "Bearer xoxp-1-user-token"
    assert [r.arguments["user"] for r in fake.calls("users_info")] == [ME]


# ---- readers ---------------------------------------------------------------------------------


async def test_list_channels_names_every_kind_and_pages(client, slack):
    fake, _ = slack
    everything = await call(client, "list_channels")
    first = await call(client, "list_channels", limit=4)
    rest = await call(client, "list_channels", limit=4, cursor=first["next_cursor"])
    private = await call(client, "list_channels", types=["private", "direct"])

    channels = {c["id"]: c for c in everything["channels"]}
    assert list(channels) == [GENERAL, RANDOM, DESIGN, LEADS, DM_GRACE, GROUP_DM]
    assert channels[GENERAL]["kind"] == "public"
    assert channels[GENERAL]["topic"] == "All about general"
    assert channels[GENERAL]["member_count"] == 4
    assert channels[DESIGN]["is_member"] is False
    assert channels[LEADS]["kind"] == "private"
    assert (channels[DM_GRACE]["kind"], channels[DM_GRACE]["name"]) == ("direct", "@Grace Hopper")
    assert channels[DM_GRACE]["is_member"] is True
    assert channels[GROUP_DM]["kind"] == "group"
    assert everything["next_cursor"] is None
    assert [c["id"] for c in first["channels"] + rest["channels"]] == list(channels)
    assert rest["next_cursor"] is None
    assert [c["id"] for c in private["channels"]] == [LEADS, DM_GRACE]
    sent = [r.arguments for r in fake.calls("conversations_list")]
    assert sent[0]["types"] == "public_channel,private_channel,im,mpim"
    assert sent[-1]["types"] == "private_channel,im"
    assert all(arguments["exclude_archived"] is True for arguments in sent)


async def test_channel_history_reads_mrkdwn_as_markdown_with_names(client, slack):
    fake, _ = slack
    forget_names()
    page = await call(client, "get_channel_history", channel_id=GENERAL, limit=50)

    assert page["notice"] == UNTRUSTED_NOTICE
    by_ts = {m["id"].split(":")[1]: m for m in page["messages"]}
    assert list(by_ts) == [ts(n) for n in (11, 10, 8, 7, 3, 2, 1)]  # newest first, no replies
    assert unmark_untrusted(by_ts[ts(1)]["text"]) == "Welcome to **general** & friends"
    assert unmark_untrusted(by_ts[ts(2)]["text"]) == (
        "See [the release notes](https://example.org/release) in #random"
    )
    assert unmark_untrusted(by_ts[ts(7)]["text"]) == "@Ada Lovelace review please: *small* change"
    assert unmark_untrusted(by_ts[ts(8)]["text"]) == "Deployed `v1.2` to #general"
    assert unmark_untrusted(by_ts[ts(11)]["text"]) == "@here standup in 5"
    root = by_ts[ts(3)]
    assert (root["reply_count"], root["thread_id"]) == (3, None)
    assert by_ts[ts(7)]["reactions"] == {"eyes": 1}
    assert by_ts[ts(8)]["edited"] is True
    assert (by_ts[ts(8)]["author"], by_ts[ts(8)]["author_id"]) == ("Deploy Bot", "U0DEPLOY01")
    assert by_ts[ts(1)]["author"] == "Grace Hopper"
    assert by_ts[ts(1)]["sent_at"] == "2025-06-15T15:07:40.000001Z"
    assert {m["channel_name"] for m in page["messages"]} == {"general"}
    # Each person and channel was looked up once, however often they appear.
    looked_up = [r.arguments["user"] for r in fake.calls("users_info")]
    assert sorted(looked_up) == sorted(set(looked_up))


async def test_channel_history_keeps_to_the_window_and_pages_without_repeats(client, slack):
    fake, _ = slack
    oldest, latest = (
        "2025-06-15T15:08:00Z",
        "2025-06-15T15:16:00Z",
    )  # ts(1) < oldest, ts(9) > latest
    pages: list[list[str]] = []
    cursor = None
    for _ in range(10):
        page = await call(
            client,
            "get_channel_history",
            channel_id=GENERAL,
            limit=2,
            cursor=cursor,
            oldest=oldest,
            latest=latest,
        )
        pages.append(ids(page))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    seen = [message for chunk in pages for message in chunk]
    assert seen == [f"{GENERAL}:{ts(n)}" for n in (8, 7, 3, 2)]
    assert [len(chunk) for chunk in pages] == [2, 2]
    first = fake.calls("conversations_history")[0].arguments
    assert (first["oldest"], first["latest"], first["limit"]) == (1750000080.0, 1750000560.0, 2)


async def test_get_thread_returns_the_root_and_its_replies_from_any_message_of_it(client, slack):
    fake, _ = slack
    thread = await call(client, "get_thread", message_id=f"{GENERAL}:{ts(3)}")
    from_reply = await call(client, "get_thread", message_id=f"{GENERAL}:{ts(5)}")
    first = await call(client, "get_thread", message_id=f"{GENERAL}:{ts(3)}", limit=2)
    second = await call(
        client, "get_thread", message_id=f"{GENERAL}:{ts(3)}", limit=2, cursor=first["next_cursor"]
    )

    assert thread["root"]["id"] == f"{GENERAL}:{ts(3)}"
    assert [r["id"] for r in thread["replies"]] == [f"{GENERAL}:{ts(n)}" for n in (4, 5, 6)]
    assert {r["thread_id"] for r in thread["replies"]} == {f"{GENERAL}:{ts(3)}"}
    assert unmark_untrusted(thread["replies"][2]["text"]) == "@Ada Lovelace can you ship it?"
    assert from_reply == thread
    assert [r["id"] for r in first["replies"] + second["replies"]] == [
        r["id"] for r in thread["replies"]
    ]
    assert second["root"]["id"] == thread["root"]["id"]
    assert second["next_cursor"] is None
    assert fake.calls("conversations_replies")[0].arguments["ts"] == float(ts(3))


async def test_search_messages_narrows_to_a_channel_and_pages_by_number(client, slack):
    fake, _ = slack
    everywhere = await call(client, "search_messages", query="flamegraph")
    first = await call(client, "search_messages", query="flamegraph", limit=1)
    second = await call(client, "search_messages", query="flamegraph", limit=1, cursor="2")
    in_random = await call(client, "search_messages", query="flamegraph", channel_id=RANDOM)
    many = await call(client, "search_messages", query="random", limit=200)

    assert ids(everywhere) == [f"{GENERAL}:{ts(3)}", f"{GENERAL}:{ts(4)}"]
    reply = everywhere["messages"][1]
    assert reply["thread_id"] == f"{GENERAL}:{ts(3)}"  # from the permalink's thread_ts
    assert (reply["channel_name"], reply["author"]) == ("general", "Linus Torvalds")
    assert (ids(first), first["next_cursor"]) == ([f"{GENERAL}:{ts(3)}"], "2")
    assert (ids(second), second["next_cursor"]) == ([f"{GENERAL}:{ts(4)}"], None)
    assert in_random["messages"] == []
    sent = [r.arguments for r in fake.calls("search_messages")]
    assert sent[3]["query"] == f"flamegraph in:<#{RANDOM}>"
    assert sent[4]["count"] == 100  # search.messages takes at most 100 per page
    assert len(many["messages"]) == 6


async def test_list_users_leaves_out_deactivated_accounts_and_pages(client, slack):
    everyone = await call(client, "list_users")
    first = await call(client, "list_users", limit=3)
    rest = await call(client, "list_users", limit=3, cursor=first["next_cursor"])

    users = {u["id"]: u for u in everyone["users"]}
    assert list(users) == [ME, GRACE, LINUS, "U0DEPLOY01"]
    assert users["U0DEPLOY01"]["is_bot"] is True
    assert users[GRACE] == {
        "id": GRACE,
        "username": "grace",
        "name": "Grace Hopper",
        "is_bot": False,
    }
    assert [u["id"] for u in first["users"] + rest["users"]] == list(users)


async def test_get_my_mentions_searches_for_the_signed_in_user_newest_first(client, slack):
    fake, _ = slack
    mentions = await call(client, "get_my_mentions")

    assert ids(mentions) == [f"{LEADS}:{ts(40)}", f"{GENERAL}:{ts(7)}", f"{GENERAL}:{ts(6)}"]
    [search] = fake.calls("search_messages")
    assert search.arguments["query"] == f"<@{ME}>"
    assert (search.arguments["sort"], search.arguments["sort_dir"]) == ("timestamp", "desc")


async def test_catch_up_counts_from_each_read_marker_with_mentions_first(client, slack):
    fake, _ = slack
    news = await call(client, "catch_up", per_channel=3)

    assert news["channels_checked"] == 5  # Ada's conversations; she is not in #design
    assert [
        (c["channel_name"], c["unread_count"], c["mentions_of_me"]) for c in news["channels"]
    ] == [
        ("leads", 2, 1),
        ("general", 5, 0),
        ("@Grace Hopper", 1, 0),
    ]
    assert news["total_unread"] == 8
    general = news["channels"][1]
    assert [m["id"] for m in general["latest"]] == [f"{GENERAL}:{ts(n)}" for n in (11, 10, 8)]
    histories = {r.arguments["channel"]: r.arguments for r in fake.calls("conversations_history")}
    # The group DM's info shows its latest message as read: no history asked. A channel's info
    # has no `latest`, so #random (read to its end) is asked, and answers nothing newer.
    assert set(histories) == {GENERAL, RANDOM, LEADS, DM_GRACE}
    assert histories[GENERAL]["oldest"] == float(ts(2))
    assert histories[DM_GRACE]["limit"] == 1  # Slack's unread count for the DM
    assert histories[GENERAL]["limit"] == 15  # no count from Slack: count up to 15
    assert "nothing is marked as read" in news["note"]


async def test_catch_up_never_asks_history_for_more_than_fifteen(client, slack):
    fake, world = slack
    world.messages[DM_GRACE] += [
        {"type": "message", "user": GRACE, "text": f"ping {n}", "ts": ts(70 + n)} for n in range(30)
    ]
    news = await call(client, "catch_up", per_channel=50)

    limits = {
        r.arguments["channel"]: r.arguments["limit"] for r in fake.calls("conversations_history")
    }
    assert limits == {GENERAL: 15, RANDOM: 15, LEADS: 15, DM_GRACE: 15}
    dm = next(c for c in news["channels"] if c["channel_id"] == DM_GRACE)
    assert dm["unread_count"] == 31  # Slack's own count, beyond what one call brings
    assert len(dm["latest"]) == 15


async def test_catch_up_keeps_at_most_eight_requests_in_flight(client, slack):
    import asyncio

    fake, world = slack
    in_flight = 0
    most = 0

    async def slow_info(request):
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)  # holds the request open so that overlap can happen
        in_flight -= 1
        return world.conversations_info(request)

    for n in range(20):
        world.channels[f"C0EXTRA{n:03d}"] = world.channels[RANDOM] | {"id": f"C0EXTRA{n:03d}"}
        world.messages[f"C0EXTRA{n:03d}"] = []
    fake.on("conversations_info", slow_info)
    news = await call(client, "catch_up")

    assert news["channels_checked"] == 25
    assert 1 < most <= 8


# ---- writers ---------------------------------------------------------------------------------


async def test_send_message_writes_mrkdwn_and_mentions_only_known_people(client, slack):
    fake, _ = slack
    await call(client, "list_users")  # Ada's agent has met @grace
    sent = await call(
        client,
        "send_message",
        channel_id=RANDOM,
        text=(
            "**Deploy** is done @grace, see [notes](https://x.org/a?b=1&c=2) "
            "`@grace <b>` @nobody @channel"
        ),
    )

    [post] = fake.calls("chat_postMessage")
    assert post.arguments == {
        "channel": RANDOM,
        "text": (
            f"*Deploy* is done <@{GRACE}>, see <https://x.org/a?b=1&amp;c=2|notes> "
            "`@grace &lt;b&gt;` @nobody @channel"
        ),
    }
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent["channel_id"] == RANDOM
    assert sent["author_id"] == ME
    assert unmark_untrusted(sent["text"]) == (
        "**Deploy** is done @Grace Hopper, see [notes](https://x.org/a?b=1&c=2) "
        "`@grace <b>` @nobody @channel"
    )


async def test_reply_to_thread_posts_under_the_root_even_from_a_reply(client, slack):
    fake, _ = slack
    reply = await call(client, "reply_to_thread", message_id=f"{GENERAL}:{ts(5)}", text="on it")
    thread = await call(client, "get_thread", message_id=f"{GENERAL}:{ts(3)}")

    [post] = fake.calls("chat_postMessage")
    assert post.arguments["thread_ts"] == ts(3)
    assert reply["thread_id"] == f"{GENERAL}:{ts(3)}"
    assert thread["replies"][-1]["id"] == reply["id"]


async def test_edit_delete_and_react_round_trip(client, slack):
    fake, _ = slack
    sent = await call(client, "send_message", channel_id=RANDOM, text="first draft")
    edited = await call(client, "edit_message", message_id=sent["id"], text="_final_ draft")
    reacted = await call(client, "add_reaction", message_id=sent["id"], emoji="eyes")
    again = await call(client, "add_reaction", message_id=sent["id"], emoji="eyes")
    deleted = await call(client, "delete_message", message_id=sent["id"])
    history = await call(client, "get_channel_history", channel_id=RANDOM, limit=3)

    assert edited["id"] == sent["id"]
    assert edited["edited"] is True
    assert unmark_untrusted(edited["text"]) == "*final* draft"
    assert fake.calls("chat_update")[0].arguments["text"] == "_final_ draft"
    assert reacted["reactions"] == again["reactions"] == {"eyes": 1}
    assert len(fake.calls("reactions_add")) == 2  # the second answered already_reacted
    assert deleted == {"message_id": sent["id"], "deleted": True}
    assert sent["id"] not in ids(history)


async def test_mark_read_marks_up_to_the_newest_message(client, slack):
    fake, world = slack
    marked = await call(client, "mark_read", channel_id=GENERAL)

    assert marked == {"channel_id": GENERAL, "marked_read": True}
    [mark] = fake.calls("conversations_mark")
    assert mark.arguments["ts"] == float(ts(11))
    assert world.read_markers[GENERAL] == ts(11)


# ---- Slack's errors ----------------------------------------------------------------------------


async def test_ok_false_becomes_one_line_with_slacks_reason(client, slack):
    with pytest.raises(ToolError) as missing:
        await call(client, "get_channel_history", channel_id="C0MISSING1")
    with pytest.raises(ToolError) as outside:
        await call(client, "send_message", channel_id=DESIGN, text="hello designers")
    with pytest.raises(ToolError) as not_mine:
        await call(client, "edit_message", message_id=f"{GENERAL}:{ts(1)}", text="mine now")

    assert str(missing.value) == (
        "slack: Slack refused conversations.history: channel_not_found "
        "(no such channel, or the signed-in user cannot see it)"
    )
    assert "not_in_channel (the signed-in user is not a member of that channel)" in str(
        outside.value
    )
    assert "cant_update_message (only the author of a message can edit it)" in str(not_mine.value)
    for error in (missing, outside, not_mine):
        assert "\n" not in str(error.value)


async def test_missing_scope_names_the_scope_to_add(client, slack):
    fake, _ = slack
    fake.on(
        "search_messages",
        slack_error("missing_scope", needed="search:read", provided="channels:read,chat:write"),
    )
    with pytest.raises(ToolError) as refused:
        await call(client, "search_messages", query="deploy")

    assert str(refused.value) == (
        "slack: Slack refused search.messages: the token lacks the `search:read` scope (it has: "
        "channels:read,chat:write); add `search:read` to the app's User Token Scopes, reinstall "
        "the app, then run `multichat auth slack`"
    )


@pytest.mark.parametrize("code", ["invalid_auth", "token_revoked", "token_expired", "not_authed"])
async def test_a_rejected_token_names_the_command_that_signs_in_again(client, slack, code):
    fake, _ = slack
    fake.on("conversations_list", slack_error(code))
    with pytest.raises(ToolError) as refused:
        await call(client, "list_channels")

    assert str(refused.value) == (
        f"slack is not authenticated (Slack refused the token: {code}): run `multichat auth slack`"
    )


async def test_a_429_is_retried_after_retry_after(client, slack):
    fake, world = slack
    fake.on("users_list", fake.rate_limited(0), fake.rate_limited(0), world.users_list)
    users = await call(client, "list_users")

    assert len(users["users"]) == 4
    assert len(fake.calls("users_list")) == 3


async def test_a_429_every_time_fails_after_the_retries_in_one_line(client, slack):
    fake, _ = slack
    fake.on("users_list", fake.rate_limited(0))
    with pytest.raises(ToolError) as failed:
        await call(client, "list_users")

    assert "still failed after 4 attempts (rate limited (HTTP 429))" in str(failed.value)
    assert len(fake.calls("users_list")) == 4


@pytest.mark.parametrize(
    "bad", ["M322", "C0GENERAL1", "C0GENERAL1:now", "../../auth.revoke:1.2", "#general:1.000001"]
)
async def test_a_malformed_message_id_is_refused_before_any_request(client, slack, bad):
    fake, _ = slack
    with pytest.raises(ToolError, match="is not a Slack message id"):
        await call(client, "delete_message", message_id=bad)

    assert fake.requests == []


# ---- the 40,000-character limit ----------------------------------------------------------------


async def test_a_message_over_forty_thousand_characters_is_refused_before_any_request(
    client, slack
):
    fake, _ = slack
    with pytest.raises(ToolError) as refused:
        await call(client, "send_message", channel_id=RANDOM, text="x" * 40_001)
    # Escaping happens first: 10,000 "&" are 50,000 characters of mrkdwn.
    with pytest.raises(ToolError, match="this one has 50,000 characters"):
        await call(client, "reply_to_thread", message_id=f"{GENERAL}:{ts(3)}", text="&" * 10_000)

    assert str(refused.value) == (
        "Slack takes at most 40,000 characters per message; this one has 40,001 characters"
    )
    assert fake.requests == []
    exactly = await call(client, "send_message", channel_id=RANDOM, text="y" * 40_000)
    assert len(unmark_untrusted(exactly["text"])) == 40_000
