"""Request bodies checked before they are parsed: JSON only, and not nested beyond reason.

A body within the size limit can still nest 10,000 arrays deep; the JSON decoder then recurses
until Python's limit and the request ended in a 500 with a traceback. No input of this API nests
more than three levels, so a body nested deeper than `MAX_JSON_DEPTH` is refused with a 400 that
says so. A body sent as anything but JSON is refused with a 415: a browser form can send
`text/plain` cross-site without a preflight, JSON it cannot.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from hosts.api.store_health import refuse_while_unavailable, request_store_health

MAX_JSON_DEPTH: Final = 32
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def json_depth(body: bytes, limit: int) -> int:
    """Return the nesting depth of a JSON text, counting no further than `limit` + 1."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


async def check_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a write while the store is unreachable (503), a non-JSON body (415) or one
    nested deeper than MAX_JSON_DEPTH (400)."""
    if request.method not in BODY_METHODS:
        return
    refuse_while_unavailable(request_store_health(request))
    body = await request.body()
    if not body:
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"the body must be sent as application/json, not {media_type or 'untyped'}",
        )
    # Counting brackets is cheap (C); the byte-by-byte scan runs only for bodies with many.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        depth = json_depth(body, MAX_JSON_DEPTH)
        if depth > MAX_JSON_DEPTH:
            raise ClientException(
                detail=f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"
            )
