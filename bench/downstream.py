"""A downstream API for the fan-out benchmark: any request, answered after a fixed delay.

Plain ASGI, so that its own overhead is next to nothing beside the delay;
``BENCH_DOWNSTREAM_DELAY_MS`` sets the delay (50 by default).
"""

import asyncio
import os
from typing import Any

DELAY_S = float(os.environ.get("BENCH_DOWNSTREAM_DELAY_MS", "50")) / 1000
BODY = b'{"accepted": true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the request body whole, as a real API would
        message = await receive()
        more = message.get("more_body", False)
    await asyncio.sleep(DELAY_S)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
