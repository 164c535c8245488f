"""A small stateful Mattermost behind the spec-checked fake platform.

Every request and every answer goes through ``support.fake_platform.FakePlatform("mattermost")``,
so both are checked against mattermost-api-reference v4 (tests/support/specs/mattermost/). The
objects are shaped as definitions.yaml's schemas: User, Team, Channel, ChannelMember, Post,
PostList, Reaction, AppError; ``reply_count`` on a Post is the server's own field
(server/public/model/post.go), which the description leaves out and does not forbid. Behaviour
follows the operations' descriptions in posts.yaml / channels.yaml / users.yaml:

* GetPostsForChannel answers newest first (``order``) with ``posts`` keyed by id; ``before``
  a post id pages back; replies are in the channel's posts.
* SearchPosts behaves as the database search does without Elasticsearch
  (server/channels/store/sqlstore/post_store.go, SearchPostsForUser: "we don't support paging
  for DB search", pages after the first are empty), newest first, every word must match.
* GetChannelsForTeamForUser lists the team's channels the user is in plus their direct and
  group channels (the web app's sidebar relies on it).
* A token other than :data:`TOKEN` answers 401 with the AppError of an expired session.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from support.fake_platform import FakePlatform, RecordedRequest, Reply

TOKEN = "9xuqwrwgstrb3mzrxb83nb357a"  # support.canned.MATTERMOST
#: 2025-10-09T08:53:20Z, in milliseconds as Mattermost counts.
T0 = 1_760_000_000_000
MINUTE = 60_000


def mm_id(kind: str, number: int) -> str:
    """A 26-character Mattermost id (lowercase letters and digits) that names what it is."""
    return f"{kind}{number:04d}".ljust(26, "x")


ADA, GRACE, LINUS, BOT = (mm_id("user", n) for n in range(1, 5))
TEAM_ENG, TEAM_OPS = mm_id("team", 1), mm_id("team", 2)
TOWN, DEV, OPS, DM, GM = (mm_id("chan", n) for n in range(1, 6))


def town_text(number: int) -> str:
    """The text of Town Square's top-level post ``number`` (1 to 30)."""
    return f"town post {number}" + (" about the flamegraph" if number in (7, 21) else "")


def _not_found(what: str) -> Reply:
    # introduction.yaml, tag "errors": the AppError body.
    body = {
        "id": "app.post.get.app_error",
        "message": f"Unable to get the {what}.",
        "request_id": "fakerequestid",
        "status_code": 404,
    }
    return Reply(body, 404)


@dataclass
class FakeMattermost:
    """Ada's Mattermost: two teams, five channels, threads, a bot, mentions and unreads."""

    fake: FakePlatform = field(default_factory=lambda: FakePlatform("mattermost"))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clock: int = T0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _handlers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._seed()
        for operation, handler in {
            "GetUser": self._get_user,
            "GetUsersByIds": self._users_by_ids,
            "GetUsers": self._get_users,
            "GetTeamsForUser": self._teams,
            "GetChannelsForTeamForUser": self._team_channels,
            "GetChannelMembersForUser": self._team_members,
            "GetChannel": self._get_channel,
            "GetPostsForChannel": self._channel_posts,
            "GetPostThread": self._thread,
            "GetPost": self._get_post,
            "CreatePost": self._create_post,
            "PatchPost": self._patch_post,
            "DeletePost": self._delete_post,
            "SaveReaction": self._save_reaction,
            "SearchPosts": self._search,
            "ViewChannel": self._view,
        }.items():
            self._handlers[operation] = self._authorized(handler)
            self.fake.on(operation, self._handlers[operation])

    def answer_first(self, operation: str, *replies: Reply) -> None:
        """Answer ``operation`` with ``replies`` first, then as usual again."""
        self.fake.on(operation, *replies, self._handlers[operation])

    # ---- the seed ------------------------------------------------------------------------------

    def _seed(self) -> None:
        for user_id, username, first, last, bot in (
            (ADA, "ada", "Ada", "Lovelace", False),
            (GRACE, "grace", "Grace", "Hopper", False),
            (LINUS, "linus", "Linus", "Torvalds", False),
            (BOT, "deploybot", "", "", True),
        ):
            self.users[user_id] = {
                "id": user_id,
                "create_at": T0 - 1000 * MINUTE,
                "update_at": T0 - 1000 * MINUTE,
                "delete_at": 0,
                "username": username,
                "first_name": first,
                "last_name": last,
                "nickname": "",
                "email": f"{username}@example.com",
                "roles": "system_user",
                "locale": "en",
                "is_bot": bot,
            }
        for team_id, name, display in ((TEAM_ENG, "eng", "Engineering"), (TEAM_OPS, "ops", "Ops")):
            self.teams[team_id] = {
                "id": team_id,
                "create_at": T0 - 1000 * MINUTE,
                "update_at": T0 - 1000 * MINUTE,
                "delete_at": 0,
                "display_name": display,
                "name": name,
                "description": "",
                "email": "",
                "type": "O",
                "allowed_domains": "",
                "invite_id": "",
                "allow_open_invite": True,
            }
        for channel_id, team, kind, name, display, header in (
            (TOWN, TEAM_ENG, "O", "town-square", "Town Square", "Everything"),
            (DEV, TEAM_ENG, "P", "dev", "Dev", "Builds and deploys"),
            (OPS, TEAM_OPS, "O", "ops-chat", "Ops Chat", ""),
            (DM, "", "D", f"{ADA}__{GRACE}", "", ""),
            (GM, "", "G", "gm-ada-grace-linus", "ada, grace, linus", ""),
        ):
            self.channels[channel_id] = {
                "id": channel_id,
                "create_at": T0 - 1000 * MINUTE,
                "update_at": T0 - 1000 * MINUTE,
                "delete_at": 0,
                "team_id": team,
                "type": kind,
                "display_name": display,
                "name": name,
                "header": header,
                "purpose": "",
                "last_post_at": 0,
                "total_msg_count": 0,
                "creator_id": ADA,
            }
        # Town Square: 30 top-level posts a minute apart, a system notice, a thread on post 5.
        self._post(
            TOWN, GRACE, "Welcome to the team", at=T0 - 60 * MINUTE, kind="system_join_channel"
        )
        for n in range(1, 31):
            author = (GRACE, LINUS, ADA)[n % 3]
            self._post(TOWN, author, town_text(n), at=T0 + n * MINUTE)
        root = self._by_text("town post 5")
        for n, author in enumerate((GRACE, LINUS, GRACE), start=1):
            self._post(TOWN, author, f"reply {n} to post 5", at=T0 + (40 + n) * MINUTE, root=root)
        self._post(
            DEV, GRACE, "Deploy done, @ada please check the **flamegraph**", at=T0 + 50 * MINUTE
        )
        self._post(DEV, LINUS, "@ada the build is green", at=T0 + 51 * MINUTE)
        self._post(DEV, BOT, "deploy 42 finished", at=T0 + 52 * MINUTE)
        self._post(OPS, LINUS, "ops rota: @ada on call", at=T0 + 53 * MINUTE)
        self._post(DM, GRACE, "lunch?", at=T0 + 54 * MINUTE)
        self._post(GM, LINUS, "group hello", at=T0 + 55 * MINUTE)
        # What Ada has read: everything but two of Dev's three posts and the direct message.
        self.clock = T0 + 100 * MINUTE
        read_up_to = {DEV: (1, T0 + 50 * MINUTE), DM: (0, T0)}
        for channel_id, channel in self.channels.items():
            count, seen = read_up_to.get(channel_id, (channel["total_msg_count"], self.clock))
            self.members[channel_id] = {
                "channel_id": channel_id,
                "user_id": ADA,
                "roles": "channel_user",
                "last_viewed_at": seen,
                "msg_count": count,
                "mention_count": 0,
                "last_update_at": seen,
            }

    def _post(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        at: int | None = None,
        root: str = "",
        kind: str = "",
    ) -> dict[str, Any]:
        if at is None:
            self.clock += MINUTE
            at = self.clock
        post = {
            "id": mm_id("post", next(self._ids)),
            "create_at": at,
            "update_at": at,
            "delete_at": 0,
            "edit_at": 0,
            "user_id": user_id,
            "channel_id": channel_id,
            "root_id": root,
            "original_id": "",
            "message": text,
            "type": kind,
            "props": {},
            "hashtag": "",
            "file_ids": [],
            "pending_post_id": "",
            "reply_count": 0,
            "metadata": {},
        }
        self.posts[post["id"]] = post
        channel = self.channels[channel_id]
        channel["total_msg_count"] += 1
        channel["last_post_at"] = max(channel["last_post_at"], at)
        if root:
            for member in (self.posts[root], *self._replies(root)):
                member["reply_count"] = len(self._replies(root))
        return post

    def _by_text(self, text: str) -> str:
        return next(post["id"] for post in self.posts.values() if post["message"] == text)

    def _replies(self, root: str) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if p["root_id"] == root and not p["delete_at"]]

    def post_id(self, text: str) -> str:
        """The id of the seeded post with this exact text."""
        return self._by_text(text)

    # ---- answers -------------------------------------------------------------------------------

    def _authorized(self, handler: Any) -> Any:
        def guarded(request: RecordedRequest) -> Any:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return self.fake.token_rejected()
            return handler(request)

        return guarded

    def _post_list(self, posts: list[dict[str, Any]]) -> dict[str, Any]:
        newest = sorted(posts, key=lambda post: post["create_at"], reverse=True)
        return {
            "order": [post["id"] for post in newest],
            "posts": {post["id"]: post for post in newest},
            "next_post_id": "",
            "prev_post_id": "",
            "has_next": False,
        }

    def _live(self, channel_id: str) -> list[dict[str, Any]]:
        return [
            p for p in self.posts.values() if p["channel_id"] == channel_id and not p["delete_at"]
        ]

    def _get_user(self, request: RecordedRequest) -> Any:
        user_id = request.path_params["user_id"]
        user = self.users.get(ADA if user_id == "me" else user_id)
        return user if user is not None else _not_found("user")

    def _users_by_ids(self, request: RecordedRequest) -> Any:
        return [self.users[user_id] for user_id in request.body if user_id in self.users]

    def _get_users(self, request: RecordedRequest) -> Any:
        page = int(request.arguments.get("page", 0))
        per_page = int(request.arguments.get("per_page", 60))
        everyone = sorted(self.users.values(), key=lambda user: user["username"])
        return everyone[page * per_page : (page + 1) * per_page]

    def _teams(self, request: RecordedRequest) -> Any:
        return list(self.teams.values())

    def _mine(self, team_id: str) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["team_id"] in (team_id, "")]

    def _team_channels(self, request: RecordedRequest) -> Any:
        return self._mine(request.path_params["team_id"])

    def _team_members(self, request: RecordedRequest) -> Any:
        return [self.members[c["id"]] for c in self._mine(request.path_params["team_id"])]

    def _get_channel(self, request: RecordedRequest) -> Any:
        channel = self.channels.get(request.path_params["channel_id"])
        return channel if channel is not None else _not_found("channel")

    def _channel_posts(self, request: RecordedRequest) -> Any:
        channel_id = request.path_params["channel_id"]
        if channel_id not in self.channels:
            return _not_found("channel")
        posts = sorted(self._live(channel_id), key=lambda p: p["create_at"], reverse=True)
        before = request.arguments.get("before")
        if before:
            at = self.posts[before]["create_at"]
            posts = [post for post in posts if post["create_at"] < at]
        page = int(request.arguments.get("page", 0))
        per_page = int(request.arguments.get("per_page", 60))
        return self._post_list(posts[page * per_page : (page + 1) * per_page])

    def _thread(self, request: RecordedRequest) -> Any:
        post = self.posts.get(request.path_params["post_id"])
        if post is None or post["delete_at"]:
            return _not_found("post")
        root = self.posts[post["root_id"] or post["id"]]
        return self._post_list([root, *self._replies(root["id"])])

    def _get_post(self, request: RecordedRequest) -> Any:
        post = self.posts.get(request.path_params["post_id"])
        return post if post is not None and not post["delete_at"] else _not_found("post")

    def _create_post(self, request: RecordedRequest) -> Any:
        body = request.body
        if body["channel_id"] not in self.channels:
            return _not_found("channel")
        return self._post(body["channel_id"], ADA, body["message"], root=body.get("root_id", ""))

    def _patch_post(self, request: RecordedRequest) -> Any:
        post = self.posts.get(request.path_params["post_id"])
        if post is None or post["delete_at"]:
            return _not_found("post")
        self.clock += MINUTE
        post.update(message=request.body["message"], edit_at=self.clock, update_at=self.clock)
        return post

    def _delete_post(self, request: RecordedRequest) -> Any:
        post = self.posts.get(request.path_params["post_id"])
        if post is None or post["delete_at"]:
            return _not_found("post")
        self.clock += MINUTE
        post["delete_at"] = self.clock
        return {"status": "OK"}

    def _save_reaction(self, request: RecordedRequest) -> Any:
        body = request.body
        post = self.posts.get(body["post_id"])
        if post is None:
            return _not_found("post")
        reactions = post["metadata"].setdefault("reactions", [])
        if not any(
            r["user_id"] == body["user_id"] and r["emoji_name"] == body["emoji_name"]
            for r in reactions
        ):
            self.clock += 1
            reactions.append({**body, "create_at": self.clock})
        return next(
            r
            for r in reactions
            if r["user_id"] == body["user_id"] and r["emoji_name"] == body["emoji_name"]
        )

    def _search(self, request: RecordedRequest) -> Any:
        if request.body.get("page", 0) > 0:
            return self._post_list([])
        team_id = request.path_params["team_id"]
        words = request.body["terms"].split()
        within = [w.removeprefix("in:") for w in words if w.startswith("in:")]
        wanted = [w.lower() for w in words if not w.startswith("in:")]
        found = []
        for post in self.posts.values():
            channel = self.channels[post["channel_id"]]
            if post["delete_at"] or channel["team_id"] not in (team_id, ""):
                continue
            if within and channel["name"] not in within:
                continue
            text = post["message"].lower()
            if all(re.search(rf"(?<![\w@]){re.escape(w)}\b", text) for w in wanted):
                found.append(post)
        return {**self._post_list(found[:100]), "matches": {}}

    def _view(self, request: RecordedRequest) -> Any:
        channel_id = request.body["channel_id"]
        member = self.members[channel_id]
        member.update(
            msg_count=self.channels[channel_id]["total_msg_count"],
            mention_count=0,
            last_viewed_at=self.clock,
        )
        return {"status": "OK", "last_viewed_at_times": {channel_id: self.clock}}
