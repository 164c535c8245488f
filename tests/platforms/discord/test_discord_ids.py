"""Discord ids as the tools show them, and the catch_up state file, without a server.

Snowflake times: https://discord.com/developers/docs/reference#snowflakes ("Milliseconds since
Discord Epoch, the first second of 2015 or 1420070400000"; a time's snowflake is
``(timestamp_ms - DISCORD_EPOCH) << 22``).
"""

from __future__ import annotations

import datetime
import json

import pytest

from multichat.errors import UserError
from multichat.platforms import _discord_ids as ids
from multichat.platforms import _discord_state as state

UTC = datetime.UTC


def test_the_discord_epoch_is_the_first_second_of_2015():
    assert ids.snowflake_at(datetime.datetime(2015, 1, 1, tzinfo=UTC)) == "0"
    assert ids.snowflake_at(datetime.datetime(2014, 12, 31, tzinfo=UTC)) == "0"
    assert ids.time_of("0") == datetime.datetime(2015, 1, 1, tzinfo=UTC)


def test_a_snowflake_carries_its_time_in_its_top_bits():
    # 175928847299117063 >> 22 == 41944705796 ms after the Discord epoch.
    made = ids.time_of("175928847299117063")
    assert made == datetime.datetime(2016, 4, 30, 11, 18, 25, 796_000, tzinfo=UTC)
    assert int(ids.snowflake_at(made)) == 41944705796 << 22
    assert int(ids.snowflake_at(made)) <= 175928847299117063


def test_message_ids_carry_their_channel():
    assert ids.message_id("290926798999357250", "334385199974967042") == (
        "290926798999357250:334385199974967042"
    )
    assert ids.split_message_id(" 1:2 ") == ("1", "2")
    for bad in ("334385199974967042", "a:b", "1:2:3", "1:", "../1:2", ""):
        with pytest.raises(UserError, match="is not a Discord message id"):
            ids.split_message_id(bad)


def test_cursors_are_checked():
    assert ids.read_guild_cursor("1:0,2:25") == [("1", 0), ("2", 25)]
    assert ids.write_guild_cursor([("1", 25)]) == "1:25"
    assert ids.write_guild_cursor([]) is None
    assert ids.read_member_cursor("1:2") == ("1", "2")
    for bad in ("", "1", "1:x", "1:2,", "1:9999999"):
        with pytest.raises(UserError, match="not a cursor"):
            ids.read_guild_cursor(bad)
    with pytest.raises(UserError, match="not a Discord channel id"):
        ids.snowflake("general", "channel id")


def test_markers_merge_and_never_move_back(tmp_path):
    path = tmp_path / "state" / "dc" / "catch_up.json"
    state.save_markers(path, {"1": "100", "2": "200"})
    state.save_markers(path, {"1": "50", "3": "300"})

    assert state.read_markers(path) == {"1": "100", "2": "200", "3": "300"}
    document = json.loads(path.read_text())
    assert document["version"] == 1
    assert list(document["last_reported"]) == ["3", "2", "1"]  # newest first


def test_an_unreadable_or_odd_state_file_reads_as_empty(tmp_path, caplog):
    path = tmp_path / "catch_up.json"
    assert state.read_markers(path) == {}
    path.write_text("[1, 2]")
    assert state.read_markers(path) == {}
    path.write_text('{"last_reported": {"1": "x", "2": "20"}}')
    assert state.read_markers(path) == {"2": "20"}
    path.write_text("{")
    assert state.read_markers(path) == {}
    assert "cannot be read" in caplog.text


def test_the_state_file_keeps_the_channels_heard_from_last(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "MAX_CHANNELS", 2)
    path = tmp_path / "catch_up.json"
    state.save_markers(path, {"1": "10", "2": "30", "3": "20"})

    assert state.read_markers(path) == {"2": "30", "3": "20"}
