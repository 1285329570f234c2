"""The generated client, authenticated, and one way to call it that turns failures into lines.

Client credentials are exchanged for a token at ``/oauth/token`` once; the token is kept in
``~/.cache/contract-api/tokens.json`` (mode 600) and fetched again a minute before it
expires.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from contract_api_client import AuthenticatedClient, Client
from contract_api_client.api.oauth import issue_token
from contract_api_client.models import TokenRequest
from contract_api_client.types import Response

from cli.config import Config
from cli.errors import CliError, answer_problem, transport_problem

T = TypeVar("T")
REFRESH_MARGIN_S = 60


def token_cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "contract-api" / "tokens.json"


class Session:
    """Clients for one configuration; ``transport`` replaces the network (tests)."""

    def __init__(
        self,
        config: Config,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self.async_transport = async_transport
        self._client: Client | None = None
        self._last: tuple[int, str] | None = None

    def _sync_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"event_hooks": {"response": [self._remember]}}
        if self._transport is not None:
            args["transport"] = self._transport
        return args

    def _remember(self, response: httpx.Response) -> None:
        # The status and type of the last answer, for when the generated client cannot
        # parse it (a synchronous hook: the async client goes without).
        self._last = (response.status_code, response.headers.get("content-type", ""))

    def _anonymous(self) -> Client:
        return self._with_credential(self._sync_args(), credential=False)

    def client(self) -> Client:
        """The synchronous client, with the configured credential (if any)."""
        if self._client is None:
            self._client = self._with_credential(self._sync_args())
        return self._client

    def async_client(self) -> Client:
        transport = self.async_transport
        return self._with_credential({"transport": transport} if transport else {})

    def _with_credential(self, httpx_args: dict[str, Any], *, credential: bool = True) -> Client:
        timeout = httpx.Timeout(self.config.timeout)
        if credential and self.config.api_key:
            return AuthenticatedClient(
                base_url=self.config.api_url,
                token=self.config.api_key,
                prefix="",
                auth_header_name="X-API-Key",
                timeout=timeout,
                httpx_args=httpx_args,
            )
        if credential and self.config.client_id:
            return AuthenticatedClient(
                base_url=self.config.api_url,
                token=self.access_token(),
                timeout=timeout,
                httpx_args=httpx_args,
            )
        return Client(base_url=self.config.api_url, timeout=timeout, httpx_args=httpx_args)

    # Tokens -------------------------------------------------------------------------------

    def _cache_key(self) -> str:
        return f"{self.config.api_url}|{self.config.client_id}"

    def access_token(self, *, fresh: bool = False) -> str:
        """A bearer token for the client credentials: cached, or fetched now."""
        cache = _read_cache()
        entry = cache.get(self._cache_key())
        if not fresh and entry and entry["expires_at"] - time.time() > REFRESH_MARGIN_S:
            return str(entry["access_token"])
        body = TokenRequest(
            grant_type="client_credentials",
            client_id=self.config.client_id or "",
            client_secret=self.config.client_secret or "",
        )
        token = self.call(issue_token.sync_detailed, client=self._anonymous(), body=body)
        cache[self._cache_key()] = {
            "access_token": token.access_token,
            "expires_at": time.time() + token.expires_in,
        }
        _write_cache(cache)
        return str(token.access_token)

    # Calls --------------------------------------------------------------------------------

    def call(self, operation: Callable[..., Response[Any]], **kwargs: Any) -> Any:
        """``operation(client=..., **kwargs)``: the parsed answer, or a CliError saying why."""
        if "client" not in kwargs:
            kwargs["client"] = self.client()
        try:
            response = operation(**kwargs)
        except (httpx.HTTPError, ValueError) as exc:
            raise self.failure(exc) from None
        return self._parsed(response)

    async def acall(self, operation: Callable[..., Awaitable[Response[Any]]], **kwargs: Any) -> Any:
        try:
            response = await operation(**kwargs)
        except (httpx.HTTPError, ValueError) as exc:
            raise self.failure(exc) from None
        return self._parsed(response)

    def failure(self, exc: BaseException) -> CliError:
        """What an exception on the way to the service means, for people."""
        if isinstance(exc, httpx.HTTPError):
            return CliError(transport_problem(exc, self.config.base_url))
        # The generated client parses every documented status as JSON: an answer that is
        # not (a proxy's HTML error page, say) ends up here.
        if self._last is None:
            return CliError("the answer is not JSON")
        status, content_type = self._last
        return CliError(answer_problem(status, content_type, None))

    @staticmethod
    def _parsed(response: Response[Any]) -> Any:
        status = int(response.status_code)
        if status < 400:
            return response.parsed
        content_type = response.headers.get("content-type", "")
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = None
        raise CliError(answer_problem(status, content_type, body))


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(token_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache: dict[str, Any]) -> None:
    path = token_cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600, exist_ok=True)
        temporary.write_text(json.dumps(cache))
        temporary.replace(path)
    except OSError:
        pass  # no cache: the next command fetches a token again
