"""Form bodies (``application/x-www-form-urlencoded``): reading them, and their OpenAPI schema.

The OAuth endpoints and the HTML pages read their forms here rather than through FastAPI's
``Form`` (which needs python-multipart and rejects fields it was not told about).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request


def form_schema(*fields: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """``openapi_extra`` describing a form body of string ``fields``."""
    properties = {name: {"type": "string"} for name in fields}
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """Every ``(name, value)`` of the request's form body, repeats included, in order."""
    body = await request.body()
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return []


async def form_fields(
    pairs: Annotated[list[tuple[str, str]], Depends(form_pairs)],
) -> dict[str, str]:
    """The fields of the request's form body (the last of repeats wins)."""
    return dict(pairs)


Form = Annotated[dict[str, str], Depends(form_fields)]
FormPairs = Annotated[list[tuple[str, str]], Depends(form_pairs)]
