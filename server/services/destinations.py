"""The rules for destinations: safe URLs, defaults, merge patches, and picking dispatch targets."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from server import contract
from server.downstream.breaker import BreakerSnapshot
from server.downstream.gateway import Gateway
from server.downstream.hosts import HostAllowList, UndialableURL, dialable_url
from server.downstream.signing import Signer, new_secret
from server.downstream.targets import Target
from server.errors import Conflict, NotFound, ValidationFailed
from server.persistence import destinations as repository
from server.persistence import dispatches as dispatch_rows
from server.persistence.database import Database

# Re-exported (``as``): the rows this service hands out, named by its callers.
from server.persistence.destinations import DestinationRow as DestinationRow
from server.persistence.errors import Duplicate
from server.services.idempotency import Step
from server.services.pagination import CursorCodec, Keyset, Page, as_str, paginate

# Written once, in the spec: what a destination created without them gets.
DESTINATION_DEFAULTS = contract.defaults("DestinationInput")  # timeout_seconds, enabled
RETRY_DEFAULTS = contract.defaults("RetryPolicyInput")
BREAKER_DEFAULTS = contract.defaults("CircuitBreakerInput")
DELIVERY_DEFAULTS = contract.defaults("DeliveryPolicyInput")
ROTATION_DEFAULTS = contract.defaults("SecretRotation")  # overlap_seconds


# A destination's own header fields: names as the spec's pattern has them (HTTP tokens,
# none the gateway sets itself), at most MAX_HEADERS of them.
HEADER_NAME = re.compile(contract.schema("DownstreamHeaderName")["pattern"])
MAX_HEADERS = int(contract.schema("DownstreamHeaders")["maxItems"])
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")


def why_not_header_name(name: str) -> str:
    """Why ``name`` cannot be one of a destination's own header fields (the explainer of
    the spec's pattern: it is too long to quote)."""
    if not _TOKEN.fullmatch(name):
        return "must be an HTTP token of 1 to 100 characters"
    return "is a header field the gateway sets itself"


def checked_headers(
    current: Mapping[str, str], changes: Sequence[Mapping[str, str | None]]
) -> dict[str, str]:
    """``current`` with ``changes`` applied in order (``value`` None removes a field; a
    name given twice keeps the last), names in lower case; 400 naming the field for a name
    the spec refuses, 409 past ``MAX_HEADERS``. Never a value in a message: they are
    write-only."""
    merged = dict(current)
    errors = []
    for index, change in enumerate(changes):
        name, value = str(change["name"]), change["value"]
        if not HEADER_NAME.fullmatch(name):
            errors.append({"field": f"headers.{index}.name", "message": why_not_header_name(name)})
        elif value is None:
            merged.pop(name.lower(), None)
        else:
            merged[name.lower()] = value
    if errors:
        raise ValidationFailed(errors)
    if len(merged) > MAX_HEADERS:
        raise Conflict(
            f"A destination holds at most {MAX_HEADERS} header fields of its own; "
            "remove some (value null) first."
        )
    return dict(sorted(merged.items()))


def _delivery_columns(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery policy's fields as the table names them (``delivery_`` before each)."""
    return {f"delivery_{key}": value for key, value in policy.items()}


def _missing(name: str) -> NotFound:
    return NotFound(f"There is no destination {name[:63]!r}.")


def check_url(url: str, allowed_hosts: HostAllowList) -> str:
    """The URL in the form it is stored and dialled, if the gateway may call it; 400
    naming ``url`` otherwise."""
    try:
        canonical = dialable_url(url)
    except UndialableURL as exc:
        raise ValidationFailed([{"field": "url", "message": str(exc)}]) from None
    parsed = httpx.URL(canonical)
    if not allowed_hosts.allows(parsed):
        host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        message = f"{host[:100]}:{port} is not on the allow-list"
        raise ValidationFailed([{"field": "url", "message": message}])
    return canonical


def previous_secret_expiry(row: DestinationRow) -> datetime | None:
    """Until when the secret before the current one still signs, or None."""
    expires = row.previous_secret_expires_at
    if row.previous_signing_secret and expires is not None and expires > datetime.now(UTC):
        return expires
    return None


def signing_secrets(row: DestinationRow) -> tuple[str, ...]:
    """The secrets that sign its requests now: the current one, and the one before it
    until its overlap ends."""
    if row.previous_signing_secret and previous_secret_expiry(row) is not None:
        return (row.signing_secret, row.previous_signing_secret)
    return (row.signing_secret,)


def target(row: DestinationRow) -> Target:
    """What the gateway needs from a stored destination."""
    return Target(
        name=row.name,
        url=row.url,
        timeout=row.timeout_seconds,
        max_attempts=row.max_attempts,
        initial_backoff=row.initial_backoff_seconds,
        max_backoff=row.max_backoff_seconds,
        failure_threshold=row.failure_threshold,
        cooldown=row.cooldown_seconds,
        signer=Signer(signing_secrets(row)),
        headers=tuple(row.downstream_headers.items()),
    )


def create_destination(
    *,
    session: Session,
    allowed_hosts: HostAllowList,
    name: str,
    url: str,
    timeout_seconds: float | None = None,
    retry: Mapping[str, Any] | None = None,
    circuit_breaker: Mapping[str, Any] | None = None,
    delivery: Mapping[str, Any] | None = None,
    headers: Sequence[Mapping[str, str | None]] | None = None,
    enabled: bool | None = None,
) -> DestinationRow:
    """Store a destination; 400 on an unsafe URL or header name, 409 if the name is taken."""
    url = check_url(url, allowed_hosts)
    own_headers = checked_headers({}, headers or [])
    values = {
        **RETRY_DEFAULTS,
        **(retry or {}),
        **BREAKER_DEFAULTS,
        **(circuit_breaker or {}),
        **_delivery_columns({**DELIVERY_DEFAULTS, **(delivery or {})}),
    }
    now = datetime.now(UTC)
    try:
        return repository.add(
            session,
            {
                "name": name,
                "url": url,
                "timeout_seconds": DESTINATION_DEFAULTS["timeout_seconds"]
                if timeout_seconds is None
                else timeout_seconds,
                "enabled": DESTINATION_DEFAULTS["enabled"] if enabled is None else enabled,
                "signing_secret": new_secret(),
                "signing_secret_created_at": now,
                "previous_signing_secret": None,
                "previous_secret_expires_at": None,
                "downstream_headers": own_headers,
                "created_at": now,
                "updated_at": now,
                **values,
            },
        )
    except Duplicate:
        raise Conflict(f"A destination named {name!r} already exists.") from None


def get_destination(*, session: Session, name: str) -> DestinationRow:
    """The destination, or 404."""
    row = repository.get(session, name)
    if row is None:
        raise _missing(name)
    return row


def list_destinations(
    *, session: Session, codec: CursorCodec, limit: int, cursor: str | None
) -> Page[DestinationRow]:
    """One page of destinations, by name."""
    return paginate(
        codec=codec,
        keyset=_BY_NAME,
        cursor=cursor,
        query={},
        limit=limit,
        fetch=lambda after, n: repository.page(session, after=after[0] if after else None, limit=n),
    )


_BY_NAME: Keyset[DestinationRow] = Keyset((as_str,), lambda row: [row.name])


def update_destination(
    *, session: Session, allowed_hosts: HostAllowList, name: str, patch: Mapping[str, Any]
) -> DestinationRow:
    """Apply a merge patch (nested ``retry`` and ``circuit_breaker`` merge too); 404, 400."""
    current = get_destination(session=session, name=name)  # 404 before a 400 on the patch
    values: dict[str, Any] = {}
    if patch.get("headers"):
        own = checked_headers(current.downstream_headers, patch["headers"])
        values["downstream_headers"] = own
    if "url" in patch:
        values["url"] = check_url(patch["url"], allowed_hosts)
    for key in ("timeout_seconds", "enabled"):
        if key in patch:
            values[key] = patch[key]
    values.update(patch.get("retry") or {})
    values.update(patch.get("circuit_breaker") or {})
    values.update(_delivery_columns(patch.get("delivery") or {}))
    row = repository.change(session, name, {**values, "updated_at": datetime.now(UTC)})
    if row is None:  # deleted in between
        raise _missing(name)
    return row


def rotate_secret(*, session: Session, name: str, overlap_seconds: int | None) -> DestinationRow:
    """A new signing secret; the current one keeps signing for ``overlap_seconds`` (the
    spec's default when None; none for 0), and one still overlapping from an earlier
    rotation stops at once. 404."""
    if overlap_seconds is None:
        overlap_seconds = int(ROTATION_DEFAULTS["overlap_seconds"])
    now = datetime.now(UTC)
    keep_until = now + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
    row = repository.rotate(session, name, secret=new_secret(), now=now, keep_until=keep_until)
    if row is None:
        raise _missing(name)
    return row


def delete_destination(*, session: Session, name: str) -> None:
    """Remove the destination, and end its pending deliveries ``dead``; 404 if there is
    none."""
    if not repository.remove(session, name):
        raise _missing(name)
    dispatch_rows.end_open_to(session, destination=name, now=datetime.now(UTC))


def targets_for(*, session: Session, names: Sequence[str] | None) -> list[Target]:
    """The destinations to dispatch to: the named ones, or every enabled one.

    Unknown or disabled names are a 400 naming each; nothing to send to at all is a 409.
    """
    rows = repository.named(session, names)
    if names is None:
        enabled = [target(row) for row in rows if row.enabled]
        if not enabled:
            raise Conflict("There is no enabled destination to dispatch to.")
        return enabled
    by_name = {row.name: row for row in rows}
    errors = []
    for index, name in enumerate(names):
        row = by_name.get(name)
        if row is None:
            errors.append({"field": f"destinations.{index}", "message": "no such destination"})
        elif not row.enabled:
            errors.append({"field": f"destinations.{index}", "message": "disabled"})
    if errors:
        raise ValidationFailed(errors)
    return [target(by_name[name]) for name in names]


class Destinations:
    """The destinations service as the handlers see it (built by the composition root):
    the stored destinations, checked against the allow-list, and their circuits' state."""

    def __init__(
        self, db: Database, codec: CursorCodec, *, allowed_hosts: HostAllowList, gateway: Gateway
    ) -> None:
        self._db = db
        self._codec = codec
        self._allowed_hosts = allowed_hosts
        self._gateway = gateway

    def circuit(self, row: DestinationRow) -> BreakerSnapshot:
        """The state of the destination's circuit breaker in this process."""
        return self._gateway.circuit(target(row))

    async def list(self, *, limit: int, cursor: str | None) -> Page[DestinationRow]:
        return await self._db.read(list_destinations, codec=self._codec, limit=limit, cursor=cursor)

    async def create(
        self,
        *,
        name: str,
        url: str,
        timeout_seconds: float | None = None,
        retry: Mapping[str, Any] | None = None,
        circuit_breaker: Mapping[str, Any] | None = None,
        delivery: Mapping[str, Any] | None = None,
        headers: Sequence[Mapping[str, str | None]] | None = None,
        enabled: bool | None = None,
    ) -> DestinationRow:
        return await self._db.write(
            create_destination,
            allowed_hosts=self._allowed_hosts,
            name=name,
            url=url,
            timeout_seconds=timeout_seconds,
            retry=retry,
            circuit_breaker=circuit_breaker,
            delivery=delivery,
            headers=headers,
            enabled=enabled,
        )

    async def get(self, *, name: str) -> DestinationRow:
        return await self._db.read(get_destination, name=name)

    async def update(self, *, name: str, patch: Mapping[str, Any]) -> DestinationRow:
        return await self._db.write(
            update_destination, allowed_hosts=self._allowed_hosts, name=name, patch=patch
        )

    @staticmethod
    def rotating(*, name: str, overlap_seconds: int | None) -> Step[DestinationRow]:
        """Rotating its secret as a step of a larger transaction (an idempotent write's)."""
        return functools.partial(rotate_secret, name=name, overlap_seconds=overlap_seconds)

    async def delete(self, *, name: str) -> None:
        await self._db.write(delete_destination, name=name)
        self._gateway.forget(name)
