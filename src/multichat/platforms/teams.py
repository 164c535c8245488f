"""Microsoft Teams through Microsoft Graph (``graph.microsoft.com/v1.0``, delegated) as the tools.

Channels are the channels of the user's joined teams and the user's chats. Ids are Graph paths
(``teams/{team}/channels/{channel}``, ``chats/{chat}``, then ``/messages/{id}`` and
``/replies/{id}``), checked before they go into a request. Bodies go out as HTML and come back
from HTML (``to_html`` / ``from_html``). Cursors are Graph's ``@odata.nextLink`` below
``api_base_url``, accepted back only for the listing that gave them. Every endpoint and its
shapes are from the Graph v1.0 reference pages cited at each method.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.cache import BoundedCache
from multichat.chat.emoji_names import emoji_character, emoji_name
from multichat.chat.markup.html import from_html, to_html
from multichat.chat.markup.limits import TEAMS
from multichat.chat.models import (
    CatchUp,
    ChannelKind,
    ChannelNews,
    ChannelPage,
    ChatChannel,
    ChatMessage,
    ChatThread,
    ChatUser,
    Deleted,
    MarkedRead,
    MessagePage,
    UserPage,
    message,
)
from multichat.errors import UserError
from multichat.platforms._graph import (
    MessageRef,
    conversation,
    is_shown,
    mentions_of,
    message_ref,
    sender_of,
    when,
)
from multichat.platforms._watermarks import (
    read_watermarks,
    state_file,
    where_kept,
    write_watermarks,
)
from multichat.runtime.config import load_config
from multichat.runtime.platform_client import PlatformError

#: Graph's largest page for chat and channel messages and replies ($top, chat-list-messages,
#: channel-list-messages, chatmessage-list-replies) and for chats (chat-list).
MAX_TOP = 50
#: Search pages of 25, the size in https://learn.microsoft.com/graph/search-concept-chat-messages.
SEARCH_PAGE = 25
#: Answers held back by a time window before history gives up on a call (and returns a cursor).
WINDOW_PAGES = 5
#: A channel's first catch-up (no watermark yet) shows what arrived in this window.
FIRST_CATCH_UP = datetime.timedelta(days=1)
#: KQL for "mentions me" in the Microsoft Search API, as floriscornel/teams-mcp's
#: get_my_mentions uses it (src/tools/search.ts); not on Graph's search page itself.
MENTIONS_QUERY = "IsMentioned:true"
WATERMARKS_FILE = "channel-watermarks.json"
_CHAT_KINDS: dict[str, ChannelKind] = {"oneOnOne": "direct", "group": "group", "meeting": "group"}


class Adapter(ChatAdapter):
    """Microsoft Graph with a user's delegated token."""

    platform = "teams"
    display_name = "Microsoft Teams"
    message_limit = TEAMS
    extra_tools = frozenset({"mark_read"})

    def __init__(self, provider: str) -> None:
        """Caches start empty: names of users, teams and conversations; the user."""
        super().__init__(provider)
        self._names: BoundedCache[str, str] = BoundedCache()
        self._me: ChatUser | None = None

    def to_platform(self, markdown: str) -> str:
        """Markdown as Teams message HTML."""
        return to_html(markdown)

    # ---- paging -------------------------------------------------------------------------

    def _relative(self, link: str | None) -> str | None:
        """An ``@odata.nextLink`` as a cursor: the part after ``api_base_url``.

        Raises:
            PlatformError: the link leaves ``api_base_url`` (never followed).
        """
        if not link:
            return None
        base = (load_config().provider(self.provider).api_base_url or "").rstrip("/") + "/"
        if not link.startswith(base):
            raise PlatformError(f"{self.provider}: Graph gave a next page outside {base}")
        return link[len(base) :]

    async def _follow(self, cursor: str, *prefixes: str) -> dict[str, Any]:
        """The page a cursor points at, if it continues a listing under one of ``prefixes``.

        Raises:
            UserError: not a cursor of this listing.
        """
        path, _, query = cursor.partition("?")
        if not any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            raise UserError(f"{cursor[:80]!r} is not a cursor this tool gave")
        return dict(await self.api.get(path, **dict(parse_qsl(query, keep_blank_values=True))))

    async def _every(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a small listing, following ``@odata.nextLink``."""
        page = await self.api.get(path, **params)
        items = list(page.get("value", []))
        for _ in range(20):
            cursor = self._relative(page.get("@odata.nextLink"))
            if cursor is None:
                break
            page = await self._follow(cursor, path.split("/")[0], "users")
            items += page.get("value", [])
        return items

    # ---- names --------------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``GET /me`` (https://learn.microsoft.com/graph/api/user-get)."""
        me = await self.api.get("me")
        self._me = ChatUser(
            id=me["id"],
            username=me.get("userPrincipalName") or me.get("mail") or me["id"],
            name=me.get("displayName") or me["id"],
        )
        self._names[me["id"]] = self._me.name
        return self._me

    async def _my_id(self) -> str:
        if self._me is None:
            await self.whoami()
        assert self._me is not None
        return self._me.id

    def _chat_name(self, chat: Mapping[str, Any], me: str) -> str:
        """A chat's topic, else the names of the other members."""
        if chat.get("topic"):
            return str(chat["topic"])
        others = [
            str(member.get("displayName") or "")
            for member in chat.get("members") or ()
            if member.get("userId") != me
        ]
        return ", ".join(name for name in others if name) or "chat"

    async def _name_of(self, path: str) -> str:
        """A conversation's name: ``Team / Channel``, or the chat's topic or members."""
        if path in self._names:
            return self._names[path]
        if path.startswith("chats/"):
            chat, me = await asyncio.gather(
                self.api.get(path, **{"$expand": "members"}), self._my_id()
            )
            self._names[path] = self._chat_name(chat, me)
        else:
            team_path = "/".join(path.split("/")[:2])
            team, channel = await asyncio.gather(self._team_name(team_path), self.api.get(path))
            self._names[path] = f"{team} / {channel.get('displayName', '')}"
        return self._names[path]

    async def _team_name(self, team_path: str) -> str:
        if team_path not in self._names:
            team = await self.api.get(team_path)
            self._names[team_path] = str(team.get("displayName") or team_path)
        return self._names[team_path]

    # ---- messages -----------------------------------------------------------------------

    def _message(self, raw: Mapping[str, Any], conversation_path: str, name: str) -> ChatMessage:
        reply_to = raw.get("replyToId")
        root = f"{conversation_path}/messages/{reply_to}" if reply_to else None
        sender = sender_of(raw)
        body = raw.get("body") or {}
        content = str(body.get("content") or "")
        reactions: dict[str, int] = {}
        for reaction in raw.get("reactions") or ():
            key = emoji_name(str(reaction.get("reactionType", "")))
            reactions[key] = reactions.get(key, 0) + 1
        return message(
            id=f"{root}/replies/{raw['id']}"
            if root
            else f"{conversation_path}/messages/{raw['id']}",
            channel_id=conversation_path,
            channel_name=name,
            author_id=str(sender.get("id", "")),
            author=str(sender.get("displayName") or self._names.get(sender.get("id", ""), "")),
            sent_at=str(raw.get("createdDateTime", "")),
            edited=bool(raw.get("lastEditedDateTime")),
            thread_id=root,
            reply_count=len(raw.get("replies") or ()),
            reactions=reactions,
            text=from_html(content) if body.get("contentType") == "html" else content,
        )

    async def _shown(self, items: Iterable[Mapping[str, Any]], path: str) -> list[ChatMessage]:
        name = await self._name_of(path)
        return [self._message(raw, path, name) for raw in items if is_shown(raw)]

    async def _one(self, ref: MessageRef) -> ChatMessage:
        """``GET`` one message or reply (https://learn.microsoft.com/graph/api/chatmessage-get)."""
        raw, name = await asyncio.gather(self.api.get(ref.path), self._name_of(ref.conversation))
        return self._message(raw, ref.conversation, name)

    # ---- the tools ----------------------------------------------------------------------

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """Joined teams' channels (``/me/joinedTeams``, ``/teams/{id}/channels``), then chats.

        Chats come from ``GET /me/chats?$expand=members`` (chat-list), paged by nextLink.
        """
        wanted = set(kinds or ("public", "private", "direct", "group"))
        channels: list[ChatChannel] = []
        if cursor is None or cursor.startswith("t:"):
            offset = cursor[2:] if cursor else "0"
            if not offset.isdigit():
                raise UserError(f"{cursor!r} is not a cursor list_channels gave")
            start = int(offset)
            listed = await self._team_channels() if wanted & {"public", "private"} else []
            listed = [channel for channel in listed if channel.kind in wanted]
            channels = listed[start : start + limit]
            if start + limit < len(listed):
                return ChannelPage(channels=channels, next_cursor=f"t:{start + limit}")
            if not wanted & {"direct", "group"}:
                return ChannelPage(channels=channels)
            if len(channels) == limit:
                return ChannelPage(channels=channels, next_cursor="c:")
            cursor = "c:"
        if not cursor.startswith("c:"):
            raise UserError(f"{cursor!r} is not a cursor list_channels gave")
        room = max(limit - len(channels), 1)
        rest = cursor[2:]
        if rest:
            page = await self._follow(rest, "me/chats", "chats", "users")
        else:
            page = await self.api.get(
                "me/chats", **{"$expand": "members", "$top": min(room, MAX_TOP)}
            )
        me = await self._my_id()
        for chat in page.get("value", []):
            kind = _CHAT_KINDS.get(str(chat.get("chatType")), "group")
            name = self._chat_name(chat, me)
            self._names[f"chats/{chat['id']}"] = name
            if kind in wanted:
                channels.append(
                    ChatChannel(
                        id=f"chats/{chat['id']}",
                        name=name,
                        kind=kind,
                        is_member=True,
                        member_count=len(chat["members"]) if "members" in chat else None,
                        last_message_at=chat.get("lastUpdatedDateTime"),
                    )
                )
        following = self._relative(page.get("@odata.nextLink"))
        return ChannelPage(channels=channels, next_cursor=f"c:{following}" if following else None)

    async def _team_channels(self) -> list[ChatChannel]:
        """user-list-joinedteams, then channel-list for each team, all at once."""
        teams = await self._every("me/joinedTeams")

        async def channels_of(team: Mapping[str, Any]) -> list[ChatChannel]:
            team_path = f"teams/{team['id']}"
            self._names[team_path] = str(team.get("displayName") or team["id"])
            found = []
            for channel in await self._every(f"{team_path}/channels"):
                path = f"{team_path}/channels/{channel['id']}"
                self._names[path] = f"{self._names[team_path]} / {channel.get('displayName', '')}"
                found.append(
                    ChatChannel(
                        id=path,
                        name=self._names[path],
                        kind="private" if channel.get("membershipType") == "private" else "public",
                        topic=channel.get("description") or "",
                        is_member=True,
                    )
                )
            return found

        per_team = await asyncio.gather(*(channels_of(team) for team in teams))
        return [channel for channels in per_team for channel in channels]

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """Chats: chat-list-messages (``$orderby=createdDateTime desc``, ``lt`` for ``latest``).

        Channels: channel-list-messages with ``$expand=replies`` (to count them); that API
        takes no filter, so the window is applied to each page here.
        """
        path = conversation(channel_id)
        shown: list[ChatMessage] = []
        following = cursor
        for _ in range(WINDOW_PAGES):
            if following is not None:
                page = await self._follow(following, f"{path}/messages")
            elif path.startswith("chats/"):
                params: dict[str, Any] = {
                    "$top": min(limit, MAX_TOP),
                    "$orderby": "createdDateTime desc",
                }
                if latest is not None:
                    params["$filter"] = f"createdDateTime lt {iso(latest)}"
                page = await self.api.get(f"{path}/messages", **params)
            else:
                page = await self.api.get(
                    f"{path}/messages", **{"$top": min(limit, MAX_TOP), "$expand": "replies"}
                )
            items = sorted(page.get("value", []), key=lambda raw: raw["createdDateTime"])[::-1]
            inside = [
                raw
                for raw in items
                if (oldest is None or when(raw["createdDateTime"]) > oldest)
                and (latest is None or when(raw["createdDateTime"]) < latest)
            ]
            shown += await self._shown(inside, path)
            following = self._relative(page.get("@odata.nextLink"))
            past_window = oldest is not None and any(
                when(raw["createdDateTime"]) <= oldest for raw in items
            )
            if past_window:
                following = None
            if shown or following is None:
                break
        return MessagePage(messages=shown, next_cursor=following)

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """The root message and chatmessage-list-replies (``$top`` ≤ 50), oldest first.

        Chats have no threads: a chat message comes back with no replies.
        """
        ref = message_ref(message_id)
        root_ref = MessageRef(ref.conversation, ref.root)
        if ref.in_chat:
            return ChatThread(root=await self._one(root_ref), replies=[])
        replies_path = f"{root_ref.path}/replies"
        if cursor is not None:
            listing = self._follow(cursor, replies_path)
        else:
            listing = self.api.get(replies_path, **{"$top": min(limit, MAX_TOP)})
        root, page = await asyncio.gather(self._one(root_ref), listing)
        replies = sorted(page.get("value", []), key=lambda raw: raw["createdDateTime"])
        return ChatThread(
            root=root,
            replies=await self._shown(replies, ref.conversation),
            next_cursor=self._relative(page.get("@odata.nextLink")),
        )

    def _body(self, text: str) -> dict[str, Any]:
        return {"body": {"contentType": "html", "content": self.outgoing(text)}}

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """chatmessage-post: ``POST /chats/{id}/messages`` or ``/teams/.../messages``."""
        path = conversation(channel_id)
        created = await self.api.post(f"{path}/messages", self._body(text))
        return (await self._shown([created], path))[0]

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """chatmessage-post-replies: ``POST /teams/.../messages/{id}/replies`` (channels only).

        Raises:
            UserError: the message is in a chat, where Teams has no threads.
        """
        ref = message_ref(message_id)
        if ref.in_chat:
            raise UserError(
                "Teams chats have no threads: use send_message in the chat to answer there"
            )
        body = self._body(text)
        created = await self.api.post(f"{ref.conversation}/messages/{ref.root}/replies", body)
        return (await self._shown([created], ref.conversation))[0]

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """chatmessage-update (delegated: ``204``), then the message as it is now."""
        ref = message_ref(message_id)
        await self.api.patch(ref.path, self._body(text))
        return await self._one(ref)

    async def delete(self, message_id: str) -> Deleted:
        """chatmessage-softdelete: ``POST /users/{me}/chats/.../softDelete`` or the channel's."""
        ref = message_ref(message_id)
        owner = f"users/{await self._my_id()}/" if ref.in_chat else ""
        await self.api.post(f"{owner}{ref.path}/softDelete")
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """chatmessage-setreaction with the emoji's character, then the message."""
        ref = message_ref(message_id)
        await self.api.post(f"{ref.path}/setReaction", {"reactionType": emoji_character(emoji)})
        return await self._one(ref)

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``POST /search/query`` with ``entityTypes: [chatMessage]`` (KQL in ``queryString``).

        Hits carry a summary, not the body; ``channel_id`` is applied to each page here.
        """
        where = conversation(channel_id) if channel_id else None
        return await self._search(query, where, limit, cursor)

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """The Microsoft Search API with KQL ``IsMentioned:true``."""
        return await self._search(MENTIONS_QUERY, None, limit, cursor)

    async def _search(
        self, query: str, where: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        if cursor is not None and not cursor.isdigit():
            raise UserError(f"{cursor!r} is not a cursor this tool gave")
        start, size = int(cursor or 0), min(limit, SEARCH_PAGE)
        request = {
            "entityTypes": ["chatMessage"],
            "query": {"queryString": query},
            "from": start,
            "size": size,
        }
        answer = await self.api.post("search/query", {"requests": [request]})
        containers = [c for result in answer.get("value", []) for c in result["hitsContainers"]]
        hits = [hit for container in containers for hit in container.get("hits", [])]
        found: list[tuple[str, Mapping[str, Any], str]] = []
        for hit in hits:
            resource = hit.get("resource") or {}
            identity = resource.get("channelIdentity") or {}
            if resource.get("chatId"):
                path = f"chats/{resource['chatId']}"
            elif identity.get("teamId") and identity.get("channelId"):
                path = f"teams/{identity['teamId']}/channels/{identity['channelId']}"
            else:
                continue
            if where is None or path == where:
                found.append((path, resource, str(hit.get("summary", ""))))
        paths = sorted({path for path, _, _ in found})
        names = dict(
            zip(paths, await asyncio.gather(*(self._name_of(p) for p in paths)), strict=True)
        )
        messages = []
        for path, resource, summary in found:
            sender = (resource.get("from") or {}).get("emailAddress") or {}
            messages.append(
                message(
                    id=f"{path}/messages/{resource['id']}",
                    channel_id=path,
                    channel_name=names[path],
                    author_id=str(sender.get("address", "")),
                    author=str(sender.get("name") or sender.get("address", "")),
                    sent_at=str(resource.get("createdDateTime", "")),
                    text=from_html(summary),
                )
            )
        more = any(container.get("moreResultsAvailable") for container in containers)
        return MessagePage(messages=messages, next_cursor=str(start + size) if more else None)

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """user-list: ``GET /users`` with ``$select`` (``User.ReadBasic.All``)."""
        if cursor is not None:
            page = await self._follow(cursor, "users")
        else:
            page = await self.api.get(
                "users",
                **{"$top": min(limit, 999), "$select": "id,displayName,userPrincipalName,mail"},
            )
        people = []
        for user in page.get("value", []):
            name = user.get("displayName") or user["id"]
            self._names[user["id"]] = name
            username = user.get("mail") or user.get("userPrincipalName") or user["id"]
            people.append(ChatUser(id=user["id"], username=username, name=name))
        return UserPage(users=people, next_cursor=self._relative(page.get("@odata.nextLink")))

    # ---- catching up --------------------------------------------------------------------

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """Chats by their read marker; channels since the last catch-up (a local watermark)."""
        me = await self._my_id()
        chats = await self._every("me/chats", **{"$expand": "lastMessagePreview", "$top": MAX_TOP})
        chats.sort(
            key=lambda chat: (chat.get("lastMessagePreview") or {}).get("createdDateTime", ""),
            reverse=True,
        )
        chats = chats[:max_channels]
        channels = [c.id for c in await self._team_channels()][: max_channels - len(chats)]
        watermarks = state_file(self.provider, WATERMARKS_FILE)
        marks = read_watermarks(watermarks)
        first_time = iso(datetime.datetime.now(datetime.UTC) - FIRST_CATCH_UP)
        chat_news = [self._chat_news(chat, me, per_channel) for chat in chats]
        channel_news = [
            self._channel_news(path, marks.get(path, first_time), me, per_channel)
            for path in channels
        ]
        found = await asyncio.gather(*chat_news, *channel_news)
        for path, (_, newest) in zip(channels, found[len(chats) :], strict=True):
            marks[path] = max(newest, marks.get(path, first_time))
        write_watermarks(watermarks, marks)
        busy = sorted(
            (news for news, _ in found if news is not None),
            key=lambda news: (-news.mentions_of_me, -news.unread_count),
        )
        return CatchUp(
            channels_checked=len(chats) + len(channels),
            total_unread=sum(news.unread_count for news in busy),
            channels=busy,
            note=(
                "Chats: from Teams' read marker (viewpoint.lastMessageReadDateTime). Channels: "
                "Microsoft Graph has no read marker for channel messages, so a channel shows "
                "the top-level posts since the last catch_up, remembered in "
                f"{where_kept(self.provider, WATERMARKS_FILE)} (the first catch-up covers the "
                "last 24 hours). Nothing is marked as read in Teams."
            ),
        )

    async def _chat_news(
        self, chat: Mapping[str, Any], me: str, per_channel: int
    ) -> tuple[ChannelNews | None, str]:
        """The chat's messages after its ``viewpoint.lastMessageReadDateTime``.

        chat-list-messages, ``$filter=lastModifiedDateTime gt ...`` with the same ``$orderby``.
        """
        read = (chat.get("viewpoint") or {}).get("lastMessageReadDateTime")
        preview = chat.get("lastMessagePreview") or {}
        last = preview.get("createdDateTime")
        if not last or (read and when(last) <= when(read)):
            return None, ""
        path = f"chats/{chat['id']}"
        params: dict[str, Any] = {"$top": MAX_TOP, "$orderby": "lastModifiedDateTime desc"}
        if read:
            params["$filter"] = f"lastModifiedDateTime gt {read}"
        page = await self.api.get(f"{path}/messages", **params)
        unread = [
            raw
            for raw in page.get("value", [])
            if is_shown(raw)
            and sender_of(raw).get("id") != me
            and (read is None or when(raw["createdDateTime"]) > when(read))
        ]
        unread.sort(key=lambda raw: raw["createdDateTime"], reverse=True)
        self._names.setdefault(path, self._chat_name(chat, me))
        return await self._news(path, unread, me, per_channel), ""

    async def _channel_news(
        self, path: str, since: str, me: str, per_channel: int
    ) -> tuple[ChannelNews | None, str]:
        """Top-level posts after ``since`` (channel-list-messages), and the newest post's time.

        That time is the channel's next watermark.
        """
        page = await self.api.get(f"{path}/messages", **{"$top": MAX_TOP})
        posts = sorted(page.get("value", []), key=lambda raw: raw["createdDateTime"])[::-1]
        newest = posts[0]["createdDateTime"] if posts else since
        fresh = [
            raw
            for raw in posts
            if is_shown(raw)
            and sender_of(raw).get("id") != me
            and when(raw["createdDateTime"]) > when(since)
        ]
        return await self._news(path, fresh, me, per_channel), newest

    async def _news(
        self, path: str, unread: list[Mapping[str, Any]], me: str, per_channel: int
    ) -> ChannelNews | None:
        if not unread:
            return None
        latest = unread[:per_channel]
        return ChannelNews(
            channel_id=path,
            channel_name=await self._name_of(path),
            unread_count=len(unread),
            mentions_of_me=sum(1 for raw in latest if mentions_of(raw, me)),
            latest=await self._shown(latest, path),
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """chat-markchatreadforuser: ``POST /chats/{id}/markChatReadForUser`` (chats only).

        Raises:
            UserError: a channel: Graph has no read marker for channel messages.
        """
        path = conversation(channel_id)
        if not path.startswith("chats/"):
            raise UserError(
                "Microsoft Graph has no read marker for channel messages; catch_up remembers "
                "what it showed of each channel instead"
            )
        chat, me = await asyncio.gather(self.api.get(path, **{"$expand": "members"}), self._my_id())
        tenants = [m.get("tenantId") for m in chat.get("members") or () if m.get("userId") == me]
        tenant = next((tenant for tenant in tenants if tenant), chat.get("tenantId"))
        if not tenant:
            raise UserError(f"Graph did not say which tenant {channel_id} belongs to")
        await self.api.post(f"{path}/markChatReadForUser", {"user": {"id": me, "tenantId": tenant}})
        return MarkedRead(channel_id=path, marked_read=True)
