"""The optional allow-list of downstream hosts (the gateway's SSRF guard).

Entries are ``host``, ``host:port`` or ``*.domain`` (any subdomain, not the domain
itself); IPv6 literals go in brackets: ``[::1]:8080``. An empty list allows every host.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx


def _split(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port)
    return entry, None


class HostAllowList:
    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = [_split(entry) for entry in entries if entry.strip()]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, url: httpx.URL) -> bool:
        if not self.entries:
            return True
        host = url.host.lower()
        port = url.port or (443 if url.scheme == "https" else 80)
        for pattern, wanted_port in self.entries:
            if wanted_port is not None and wanted_port != port:
                continue
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False


def check_entry(entry: str) -> str:
    """Validate one entry of the setting; returns it, or raises ValueError."""
    try:
        host, port = _split(entry)
    except ValueError:
        raise ValueError(f"{entry!r} is not host, host:port or *.domain") from None
    if not host or (port is not None and not 0 < port < 65536) or "/" in host or "@" in host:
        raise ValueError(f"{entry!r} is not host, host:port or *.domain")
    return entry
