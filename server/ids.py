"""Ids for rows and messages: unique, not secret, made without a system call.

They come from a Mersenne Twister and show when they were made: never make one a
capability (a secret, a token, a link that grants access); ``secrets`` makes those."""

from __future__ import annotations

import os
import random
import time

_random = random.Random()  # seeded from os.urandom once per process...
# ...and again in a forked child (gunicorn --preload, multiprocessing's fork), which would
# otherwise go on from its parent's state and make the parent's next ids too.
os.register_at_fork(after_in_child=_random.seed)


def new_id(digits: int = 32) -> str:
    """``digits`` hex digits (at least 20): the milliseconds since the epoch (48 bits),
    then random bits (80 in the default 32 digits). Time first, as UUIDv7 orders them, so
    the rows keyed by these ids go in at the end of their primary-key index instead of at
    random places in it (a random key touches a different page each insert as the tables
    grow). Without the system call per id that ``uuid4`` or ``secrets`` makes, which gives
    up the GIL (measured: 6% of a dispatch's time went there, waiting for the database
    threads to hand it back)."""
    if digits < 20:
        raise ValueError(f"an id needs at least 20 hex digits, not {digits}")
    rest = digits - 12
    return f"{time.time_ns() // 1_000_000:012x}{_random.getrandbits(4 * rest):0{rest}x}"
