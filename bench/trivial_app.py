"""The baseline for single-event requests: the least an ASGI handler can do.

It reads the body and answers a small JSON object, served by the same
server (uvicorn, httptools, uvloop) as streamgauge.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

BODY = b'{"accepted":1,"duplicates":0,"rejected":0,"errors":[]}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, loop="uvloop", http="httptools")  # fmt: skip
