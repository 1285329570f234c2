"""What the gateway is given about one destination: where, how long, how often, how it is
signed and which header fields of its own it carries."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.downstream.signing import Signer


@dataclass(frozen=True)
class Target:
    """What the gateway needs to know about one destination."""

    name: str
    url: str
    timeout: float
    max_attempts: int
    initial_backoff: float
    max_backoff: float
    failure_threshold: int
    cooldown: float
    # How its requests are signed (every stored destination has a secret).
    signer: Signer | None = field(default=None, repr=False, compare=False)
    # Its own header fields (write-only values: never in a repr, a log line or an answer).
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    @property
    def breaker_settings(self) -> tuple[str, int, float]:
        # A new URL is another server as far as its health goes: the breaker starts afresh.
        return (self.url, self.failure_threshold, self.cooldown)
