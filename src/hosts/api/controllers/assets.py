"""The dashboard's static files, shipped in the package (no CDN: the page works offline)."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Final

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

STATIC: Final = files("hosts.api").joinpath("static")
NAME: Final = re.compile(r"^(?:vendor/[a-z0-9.-]+/)?[A-Za-z0-9._-]+\.(?:js|css|txt|svg)$")
MEDIA_TYPES: Final = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "svg": "image/svg+xml",
}


@get(
    "/static/{name:path}",
    include_in_schema=False,
    opt={"public": True},
    sync_to_thread=False,
)
def static_asset(name: FromPath[str]) -> Response[bytes]:
    """Serve one file of `hosts/api/static`; names are checked, so nothing else is reachable."""
    name = name.lstrip("/")
    if not NAME.match(name) or ".." in name:
        raise NotFoundException(detail=f"no static file {name!r}")
    resource = STATIC
    for part in name.split("/"):
        resource = resource.joinpath(part)
    if not resource.is_file():
        raise NotFoundException(detail=f"no static file {name!r}")
    return Response(
        resource.read_bytes(),
        media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
