"""The Microsoft Graph v1.0 endpoints the teams preset calls, written down from Graph's pages.

Graph's own OpenAPI description is tens of megabytes (shared/specs/README.md), so this one is
written by hand, only for the endpoints the preset calls, and read by the same reader as
Discord's and Mattermost's (``support.platform_specs.openapi.read_openapi``) so that
``FakePlatform`` checks every request and answer against it. Each operation cites the page its
path, method, query parameters, body and success status come from (read from
microsoftgraph/microsoft-graph-docs-contrib and the learn.microsoft.com pages; no network in
the tests). Resource schemas follow the "JSON representation" of each resource page
(https://learn.microsoft.com/graph/api/resources/chatmessage, .../chat, .../channel,
.../team, .../user, .../searchhitscontainer); answers stay open to properties not listed,
since Graph's examples are "shortened for readability", while request bodies are closed, so a
typo in what the preset sends fails the test.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from support.platform_specs import PlatformSpec
from support.platform_specs.openapi import read_openapi

DOCS = "https://learn.microsoft.com/graph/api/"
BASE = "https://graph.microsoft.com/v1.0"

NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
IDENTITY = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": "string"},
        "displayName": NULLABLE_STRING,
        "userIdentityType": {"type": "string"},
        "applicationIdentityType": {"type": "string"},
    },
}
IDENTITY_SET = {
    "type": ["object", "null"],
    "properties": {"application": IDENTITY, "device": IDENTITY, "user": IDENTITY},
}
ITEM_BODY = {
    "type": "object",
    "required": ["content"],
    "properties": {"contentType": {"enum": ["text", "html"]}, "content": {"type": "string"}},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    # https://learn.microsoft.com/graph/api/resources/chatmessage (JSON representation)
    "chatMessage": {
        "type": "object",
        "required": ["id", "createdDateTime", "body"],
        "properties": {
            "id": {"type": "string", "pattern": r"^\d+$"},
            "replyToId": NULLABLE_STRING,
            "etag": {"type": "string"},
            "messageType": {
                "enum": [
                    "message",
                    "chatEvent",
                    "typing",
                    "systemEventMessage",
                    "unknownFutureValue",
                ]
            },
            "createdDateTime": TIME,
            "lastModifiedDateTime": NULLABLE_TIME,
            "lastEditedDateTime": NULLABLE_TIME,
            "deletedDateTime": NULLABLE_TIME,
            "subject": NULLABLE_STRING,
            "summary": NULLABLE_STRING,
            "chatId": NULLABLE_STRING,
            "importance": {"enum": ["normal", "high", "urgent", "unknownFutureValue"]},
            "locale": {"type": "string"},
            "webUrl": NULLABLE_STRING,
            "channelIdentity": {
                "type": ["object", "null"],
                "properties": {"teamId": {"type": "string"}, "channelId": {"type": "string"}},
            },
            "from": IDENTITY_SET,
            "body": ITEM_BODY,
            "attachments": {"type": "array"},
            "mentions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "mentionText", "mentioned"],
                    "properties": {
                        "id": {"type": "integer"},
                        "mentionText": {"type": "string"},
                        "mentioned": IDENTITY_SET,
                    },
                },
            },
            # https://learn.microsoft.com/graph/api/resources/chatmessagereaction
            "reactions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["reactionType", "createdDateTime"],
                    "properties": {
                        "reactionType": {"type": "string"},
                        "displayName": NULLABLE_STRING,
                        "createdDateTime": TIME,
                        "user": IDENTITY_SET,
                    },
                },
            },
            "replies": {"type": "array", "items": ref("chatMessage")},
        },
    },
    # https://learn.microsoft.com/graph/api/resources/chat and .../chatviewpoint
    "chat": {
        "type": "object",
        "required": ["id", "chatType"],
        "properties": {
            "id": {"type": "string", "pattern": "^19:"},
            "topic": NULLABLE_STRING,
            "createdDateTime": TIME,
            "lastUpdatedDateTime": NULLABLE_TIME,
            "chatType": {"enum": ["oneOnOne", "group", "meeting", "unknownFutureValue"]},
            "tenantId": {"type": "string"},
            "webUrl": NULLABLE_STRING,
            "viewpoint": {
                "type": ["object", "null"],
                "properties": {
                    "isHidden": {"type": "boolean"},
                    "lastMessageReadDateTime": NULLABLE_TIME,
                },
            },
            "lastMessagePreview": {
                "type": ["object", "null"],
                "required": ["id", "createdDateTime"],
                "properties": {
                    "id": {"type": "string"},
                    "createdDateTime": TIME,
                    "isDeleted": {"type": "boolean"},
                    "messageType": {"type": "string"},
                    "body": ITEM_BODY,
                    "from": IDENTITY_SET,
                },
            },
            # https://learn.microsoft.com/graph/api/resources/aaduserconversationmember
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "displayName"],
                    "properties": {
                        "@odata.type": {"const": "#microsoft.graph.aadUserConversationMember"},
                        "id": {"type": "string"},
                        "roles": {"type": "array", "items": {"type": "string"}},
                        "displayName": NULLABLE_STRING,
                        "userId": {"type": "string"},
                        "email": NULLABLE_STRING,
                        "tenantId": {"type": "string"},
                    },
                },
            },
        },
    },
    # https://learn.microsoft.com/graph/api/resources/team
    "team": {
        "type": "object",
        "required": ["id", "displayName"],
        "properties": {
            "id": {"type": "string"},
            "displayName": {"type": "string"},
            "description": NULLABLE_STRING,
            "isArchived": {"type": "boolean"},
            "tenantId": {"type": "string"},
        },
    },
    # https://learn.microsoft.com/graph/api/resources/channel
    "channel": {
        "type": "object",
        "required": ["id", "displayName"],
        "properties": {
            "id": {"type": "string", "pattern": "^19:"},
            "displayName": {"type": "string", "maxLength": 50},
            "description": NULLABLE_STRING,
            "membershipType": {"enum": ["standard", "private", "unknownFutureValue", "shared"]},
            "createdDateTime": NULLABLE_TIME,
            "email": NULLABLE_STRING,
            "webUrl": NULLABLE_STRING,
            "tenantId": {"type": "string"},
        },
    },
    # https://learn.microsoft.com/graph/api/resources/user
    "user": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "displayName": NULLABLE_STRING,
            "userPrincipalName": NULLABLE_STRING,
            "mail": NULLABLE_STRING,
            "givenName": NULLABLE_STRING,
            "surname": NULLABLE_STRING,
            "jobTitle": NULLABLE_STRING,
        },
    },
    # https://learn.microsoft.com/graph/search-concept-chat-messages ("JSON representation")
    # and .../resources/searchresponse, .../searchhitscontainer, .../searchhit
    "searchResponse": {
        "type": "object",
        "required": ["value"],
        "properties": {
            "value": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["hitsContainers"],
                    "properties": {
                        "searchTerms": {"type": "array", "items": {"type": "string"}},
                        "hitsContainers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "total": {"type": "integer"},
                                    "moreResultsAvailable": {"type": "boolean"},
                                    "hits": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["hitId", "resource"],
                                            "properties": {
                                                "hitId": {"type": "string"},
                                                "rank": {"type": "integer"},
                                                "summary": {"type": "string"},
                                                "resource": {
                                                    "type": "object",
                                                    "required": ["@odata.type", "id"],
                                                    "properties": {
                                                        "@odata.type": {
                                                            "const": "microsoft.graph.chatMessage"
                                                        },
                                                        "id": {"type": "string"},
                                                        "chatId": {"type": "string"},
                                                        "createdDateTime": TIME,
                                                        "channelIdentity": {"type": "object"},
                                                        "from": {
                                                            "type": "object",
                                                            "properties": {
                                                                "emailAddress": {
                                                                    "type": "object",
                                                                    "properties": {
                                                                        "name": {"type": "string"},
                                                                        "address": {
                                                                            "type": "string"
                                                                        },
                                                                    },
                                                                }
                                                            },
                                                        },
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            }
        },
    },
    # https://learn.microsoft.com/graph/errors: "the error resource"
    "error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "innerError": {"type": "object"},
                },
            }
        },
    },
}


def collection(item: str) -> dict[str, Any]:
    """An OData collection answer: ``value`` and, when there is more, ``@odata.nextLink``."""
    return {
        "type": "object",
        "required": ["value"],
        "properties": {
            "@odata.context": {"type": "string"},
            "@odata.count": {"type": "integer"},
            "@odata.nextLink": {"type": "string", "format": "uri"},
            "value": {"type": "array", "items": ref(item)},
        },
    }


def query(*names: str) -> list[dict[str, Any]]:
    """OData query parameters; ``$top`` an integer from 1, the rest strings."""
    types = {"$top": {"type": "integer", "minimum": 1}}
    return [{"in": "query", "name": n, "schema": types.get(n, {"type": "string"})} for n in names]


def json_answer(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"content": {"application/json": {"schema": schema}}}}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


NO_CONTENT = {"204": {"description": "No Content"}}
MESSAGE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {"body": {**ITEM_BODY, "additionalProperties": False}},
}
REACTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reactionType"],
    "properties": {"reactionType": {"type": "string", "minLength": 1}},
}


def _operation(page: str, **more: Any) -> dict[str, Any]:
    return {"description": f"{DOCS}{page}", **more}


def _message_operations(prefix: str, where: str) -> dict[str, Any]:
    """Get, update, soft-delete and react to a message or reply under ``prefix``."""
    return {
        prefix: {
            "get": _operation(
                "chatmessage-get",
                operationId=f"{where}_get",
                responses=json_answer(ref("chatMessage")),
            ),
            "patch": _operation(
                "chatmessage-update",
                operationId=f"{where}_update",
                requestBody=json_body(MESSAGE_BODY),
                responses=NO_CONTENT,
            ),
        },
        f"{prefix}/setReaction": {
            "post": _operation(
                "chatmessage-setreaction",
                operationId=f"{where}_setReaction",
                requestBody=json_body(REACTION),
                responses=NO_CONTENT,
            )
        },
    }


CHANNEL = "/teams/{team-id}/channels/{channel-id}"
CHANNEL_MESSAGE = f"{CHANNEL}/messages/{{message-id}}"
REPLY = f"{CHANNEL_MESSAGE}/replies/{{reply-id}}"
CHAT_MESSAGE = "/chats/{chat-id}/messages/{message-id}"

PATHS: dict[str, Any] = {
    "/me": {
        "get": _operation("user-get", operationId="me_get", responses=json_answer(ref("user")))
    },
    "/me/joinedTeams": {
        "get": _operation(
            "user-list-joinedteams",
            operationId="me_joinedTeams",
            responses=json_answer(collection("team")),
        )
    },
    "/teams/{team-id}": {
        "get": _operation("team-get", operationId="team_get", responses=json_answer(ref("team")))
    },
    "/teams/{team-id}/channels": {
        "get": _operation(
            "channel-list",
            operationId="channel_list",
            parameters=query("$filter", "$select"),
            responses=json_answer(collection("channel")),
        )
    },
    CHANNEL: {
        "get": _operation(
            "channel-get", operationId="channel_get", responses=json_answer(ref("channel"))
        )
    },
    f"{CHANNEL}/messages": {
        "get": _operation(
            "channel-list-messages",
            operationId="channel_messages",
            parameters=query("$top", "$expand", "$skiptoken"),
            responses=json_answer(collection("chatMessage")),
        ),
        "post": _operation(
            "chatmessage-post",
            operationId="channel_post",
            requestBody=json_body(MESSAGE_BODY),
            responses=json_answer(ref("chatMessage"), "201"),
        ),
    },
    **_message_operations(CHANNEL_MESSAGE, "channel_message"),
    f"{CHANNEL_MESSAGE}/softDelete": {
        "post": _operation(
            "chatmessage-softdelete", operationId="channel_message_softDelete", responses=NO_CONTENT
        )
    },
    f"{CHANNEL_MESSAGE}/replies": {
        "get": _operation(
            "chatmessage-list-replies",
            operationId="replies",
            parameters=query("$top", "$skiptoken"),
            responses=json_answer(collection("chatMessage")),
        ),
        "post": _operation(
            "chatmessage-post-replies",
            operationId="reply_post",
            requestBody=json_body(MESSAGE_BODY),
            responses=json_answer(ref("chatMessage"), "201"),
        ),
    },
    **_message_operations(REPLY, "reply"),
    f"{REPLY}/softDelete": {
        "post": _operation(
            "chatmessage-softdelete", operationId="reply_softDelete", responses=NO_CONTENT
        )
    },
    "/me/chats": {
        "get": _operation(
            "chat-list",
            operationId="me_chats",
            parameters=query("$expand", "$top", "$filter", "$orderby", "$skiptoken"),
            responses=json_answer(collection("chat")),
        )
    },
    "/chats/{chat-id}": {
        "get": _operation(
            "chat-get",
            operationId="chat_get",
            parameters=query("$expand"),
            responses=json_answer(ref("chat")),
        )
    },
    "/chats/{chat-id}/messages": {
        "get": _operation(
            "chat-list-messages",
            operationId="chat_messages",
            parameters=query("$top", "$orderby", "$filter", "$skiptoken"),
            responses=json_answer(collection("chatMessage")),
        ),
        "post": _operation(
            "chatmessage-post",
            operationId="chat_post",
            requestBody=json_body(MESSAGE_BODY),
            responses=json_answer(ref("chatMessage"), "201"),
        ),
    },
    **_message_operations(CHAT_MESSAGE, "chat_message"),
    "/users/{user-id}/chats/{chat-id}/messages/{message-id}/softDelete": {
        "post": _operation(
            "chatmessage-softdelete", operationId="chat_message_softDelete", responses=NO_CONTENT
        )
    },
    "/chats/{chat-id}/markChatReadForUser": {
        "post": _operation(
            "chat-markchatreadforuser",
            operationId="chat_markRead",
            requestBody=json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["user"],
                    "properties": {
                        "user": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["id", "tenantId"],
                            "properties": {
                                "id": {"type": "string"},
                                "tenantId": {"type": "string"},
                            },
                        }
                    },
                }
            ),
            responses=NO_CONTENT,
        )
    },
    "/search/query": {
        "post": _operation(
            "search-query",
            operationId="search_query",
            requestBody=json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["requests"],
                    "properties": {
                        "requests": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["entityTypes", "query"],
                                "properties": {
                                    "entityTypes": {
                                        "type": "array",
                                        "items": {"const": "chatMessage"},
                                    },
                                    "query": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["queryString"],
                                        "properties": {"queryString": {"type": "string"}},
                                    },
                                    "from": {"type": "integer", "minimum": 0},
                                    "size": {"type": "integer", "minimum": 1},
                                    "enableTopResults": {"type": "boolean"},
                                },
                            },
                        }
                    },
                }
            ),
            responses=json_answer(ref("searchResponse")),
        )
    },
    "/users": {
        "get": _operation(
            "user-list",
            operationId="users_list",
            parameters=query("$top", "$select", "$filter", "$skiptoken"),
            responses=json_answer(collection("user")),
        )
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Microsoft Graph v1.0, the teams preset's endpoints", "version": "v1.0"},
    "servers": [{"url": BASE}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}


@cache
def graph_spec() -> PlatformSpec:
    """The description above, ready to check requests and answers."""
    # https://learn.microsoft.com/graph/errors: every error answers the error resource.
    fallback = {"4XX": {"content": {"application/json": {"schema": ref("error")}}}}
    return read_openapi("teams", DOCUMENT, fallback_answers=fallback)
