"""Where the gateway may go: destination URLs in the one form the transport dials, and
the optional allow-list of hosts (the gateway's SSRF guard).

A URL is parsed the way browsers and Node.js parse it (the WHATWG URL standard, by ada):
``http://2130706433/``, ``http://127.1/`` and ``http://0x7f.0.0.1/`` all mean
``127.0.0.1``, a trailing dot names the same host as without it, ``HTTP://A.test:80/x``
is ``http://a.test/x``. (The spec's pattern refuses the legacy IPv4 spellings before a
request gets here; URLs stored by older versions may still hold one.) Only that canonical
form is stored and dialled, and the
allow-list compares canonical hosts with canonical entries, so no spelling of an address
slips past the list or reaches a transport that would refuse it (aiohttp refuses legacy
IPv4 forms; every call to such a URL used to fail and count against the breaker).

Allow-list entries are ``host``, ``host:port`` or ``*.domain`` (any subdomain, not the
domain itself); IPv6 literals go in brackets: ``[::1]:8080``. An empty list allows every
host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import ada_url
import httpx

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# Browsers read ``http:///x`` and ``http:x`` as the host ``x``; an API takes the host
# from the authority, after ``//``, or refuses the URL.
_AUTHORITY = re.compile(r"[a-z][a-z0-9+.-]*://(?P<authority>[^/?#]+)", re.IGNORECASE)
_PORT = re.compile(r":(?P<port>[0-9]+)$")
_HOST_TYPE_DOMAIN = 0  # ada's host_type: 0 domain, 1 IPv4, 2 IPv6
MAX_URL_LENGTH = 2000  # the spec's maxLength and the column's size


class UndialableURL(ValueError):
    """The URL cannot be a destination; the message says why, for the field ``url``."""


def dialable_url(url: str) -> str:
    """``url`` in the canonical form the gateway stores and dials, or ``UndialableURL``."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UndialableURL("must not contain spaces or control characters")
    if url.partition(":")[0].lower() not in ("http", "https"):
        raise UndialableURL("must be an http or https URL")
    authority = _AUTHORITY.match(url)
    if authority is None:
        raise UndialableURL("must name a host")
    port = _PORT.search(authority["authority"])
    if port is not None and not 0 < int(port["port"]) < 65536:
        raise UndialableURL("has a port outside 1-65535")
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        raise UndialableURL("is not a valid URL") from None
    if parsed.protocol not in ("http:", "https:"):
        raise UndialableURL("must be an http or https URL")
    if parsed.username or parsed.password:
        raise UndialableURL("must not carry credentials (user:password@)")
    if parsed.hash:
        raise UndialableURL("must not have a #fragment")
    if parsed.host_type == _HOST_TYPE_DOMAIN:
        parsed.hostname = _domain(parsed.hostname)
    canonical = parsed.href
    if len(canonical) > MAX_URL_LENGTH:  # percent-encoding makes it longer than it came
        raise UndialableURL(f"is longer than {MAX_URL_LENGTH} characters once normalised")
    try:  # httpx builds the request; it must read the host exactly as ada wrote it
        if httpx.URL(canonical).host.encode("idna").decode("idna") == "":
            raise UndialableURL("must name a host")
    except (httpx.InvalidURL, UnicodeError):
        raise UndialableURL("has a host name that is not valid") from None
    return canonical


def why_not_dialable(url: str) -> str:
    """In words, why ``url`` cannot be a destination (for a URL the spec's pattern refused)."""
    try:
        dialable_url(url)
    except UndialableURL as refused:
        return str(refused)
    return (
        "must be an http or https URL whose host is a DNS name (the last label starting "
        "with a letter), an IPv4 address or a bracketed IPv6 address"
    )


def _domain(host: str) -> str:
    """A domain name without its trailing dot, each label a valid one."""
    name = host[:-1] if host.endswith(".") else host
    if not name:
        raise UndialableURL("must name a host")
    if len(name) > 253:  # RFC 1035 §2.3.4, written out as 253 characters without the dot
        raise UndialableURL("has a host name longer than 253 characters")
    labels = name.split(".")
    if any(len(label) > 63 for label in labels):
        raise UndialableURL("has a host name with a label longer than 63 characters")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise UndialableURL("has a host name that is not valid")
    return name


def canonical_host(host: str) -> str:
    """A host (name or IP literal, IPv6 without brackets) as ``dialable_url`` writes it."""
    literal = f"[{host}]" if ":" in host else host
    parsed = httpx.URL(dialable_url(f"http://{literal}/"))
    return parsed.host


def _split(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else None
    elif entry.count(":") == 1:
        host, text = entry.split(":")
        port = int(text)
    else:
        host, port = entry, None
    if host.startswith("*."):
        return "*." + canonical_host(host[2:]), port
    return canonical_host(host), port


class HostAllowList:
    def __init__(self, entries: Iterable[str]) -> None:
        """ValueError, naming the entry, for one that is not host, host:port or *.domain."""
        self.entries = [_split(check_entry(entry)) for entry in entries if entry.strip()]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, url: httpx.URL) -> bool:
        """Whether the list admits ``url``, which must be in ``dialable_url``'s form."""
        if not self.entries:
            return True
        host = url.host
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
    refused = ValueError(f"{entry!r} is not host, host:port or *.domain")
    if "/" in entry or "@" in entry:
        raise refused
    try:
        host, port = _split(entry)
    except ValueError:
        raise refused from None
    if not host or (port is not None and not 0 < port < 65536):
        raise refused
    return entry
