"""The wire under the gateway: one POST over aiohttp's connection pool, its answer read up to
a cap, and every way it can go wrong named in the gateway's terms.

The gateway used httpx over aiohttp (httpx-aiohttp) until the fan-out benchmark showed
httpx's request and response models at about a quarter of the service's CPU per dispatch
(p50 63.5 ms against 54.7 ms straight on aiohttp, two 50 ms destinations, 32 in flight).
The gateway depends only on ``Transport``; tests give it a fake one, and this module's
mapping of aiohttp's errors is tested against real sockets.

What can go wrong, and what the gateway makes of it::

    ConnectFailed       no connection: refused, unreachable, no such host   retried, counts
    ClosedBeforeAnswer  the connection closed before the answer began       retried, counts
                        (mostly a pooled keep-alive connection the
                        destination had just dropped)
    Broken              reset or cut off mid-answer, or not valid HTTP      not retried, counts
    TimeoutError        the destination was too slow (a read timed out)     not retried, counts
    NotSendable         a header or the URL cannot be put on the wire       nothing sent
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL


class TransportError(Exception):
    """The exchange failed; ``str()`` says how, in a line."""


class ConnectFailed(TransportError):
    """No connection to the destination."""


class ClosedBeforeAnswer(TransportError):
    """The destination closed the connection before its answer began."""


class Broken(TransportError):
    """The answer was cut off, or was not HTTP."""


class NotSendable(TransportError):
    """This side could not put the request on the wire: nothing left the process."""


@dataclass
class Answer:
    """One downstream answer, its body read up to the cap (empty when over it)."""

    status: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    too_large: bool


class Transport(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def post(
        self, url: str, content: bytes, headers: Sequence[tuple[str, str]], *, max_bytes: int
    ) -> Answer:
        """POST ``content``; the caller bounds the whole exchange in time."""
        ...


_UNSENDABLE = re.compile("[\r\n\0]")  # searched in C: every request's fields pass here


def check_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The header fields as they go on the wire: ASCII with no line breaks, else
    ``NotSendable`` (aiohttp would send other text as UTF-8, which a receiver may read as
    Latin-1 or refuse)."""
    fields = []
    for name, value in headers.items():
        if not (name.isascii() and value.isascii()):
            raise NotSendable(f"the header {name[:40]!r} cannot be encoded")
        if _UNSENDABLE.search(name) or _UNSENDABLE.search(value):
            raise NotSendable(f"the header {name[:40]!r} holds a line break or NUL")
        fields.append((name, value))
    return fields


def named(exc: BaseException, *, answered: bool) -> BaseException:
    """aiohttp's (or the OS's) error as one of ours; ``answered``: the status line and
    header fields had arrived. Anything else is returned as it is."""
    detail = first_line(exc, type(exc).__name__)
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return TimeoutError(detail)
    if isinstance(exc, aiohttp.ClientConnectorError):  # DNS, refused, unreachable, TLS
        return ConnectFailed(detail)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        if answered:
            return Broken("The destination closed the connection mid-answer.")
        return ClosedBeforeAnswer("The destination closed the connection.")
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        return Broken(f"The connection broke: {detail}")
    if isinstance(exc, aiohttp.InvalidURL | UnicodeError):
        return NotSendable(f"Nothing was sent: {detail}")
    if isinstance(exc, aiohttp.ClientError):  # no status line, a bad header or chunk...
        # the destination's fault, never retried (it may have acted on the request)
        return Broken(f"The answer is not valid HTTP: {detail}")
    return exc


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` for every destination and every caller."""

    def __init__(self, *, max_connections: int, keepalive_seconds: float = 4.0) -> None:
        self.max_connections = max_connections
        self.keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            # Idle connections go before common servers drop them (uvicorn and Node.js
            # after 5 s), so a call rarely picks one the server is closing.
            connector=aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=self.keepalive_seconds
            ),
            # One caller's downstream cookies must never ride along on another caller's
            # dispatch: none are kept.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxy or netrc from the environment: only the stored URL
            timeout=aiohttp.ClientTimeout(total=None),  # the gateway's deadline bounds it all
            skip_auto_headers=("User-Agent",),  # the gateway sends its own
        )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def post(
        self, url: str, content: bytes, headers: Sequence[tuple[str, str]], *, max_bytes: int
    ) -> Answer:
        if self._session is None:
            raise RuntimeError("the transport is not started (the app's lifespan starts it)")
        answered = False
        try:
            async with self._session.post(
                _url(url), data=content, headers=CIMultiDict(headers), allow_redirects=False
            ) as response:
                answered = True
                body, too_large = await _read_capped(response.content, max_bytes)
                return Answer(response.status, CIMultiDictProxy(response.headers), body, too_large)
        except (aiohttp.ClientError, OSError, UnicodeError) as exc:
            raise named(exc, answered=answered) from exc


async def _read_capped(stream: aiohttp.StreamReader, max_bytes: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.readany():
        size += len(chunk)
        if size > max_bytes:
            return b"", True  # leaving unread closes the connection instead of reusing it
        chunks.append(chunk)
    return b"".join(chunks), False


def _url(url: str) -> URL:
    return URL(url, encoded=True)  # dialled as stored (``hosts.dialable_url``), not requoted


def first_line(exc: BaseException, fallback: str) -> str:
    """An error's first line, cut to 200 characters (``fallback`` when it says nothing)."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else fallback
