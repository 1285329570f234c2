"""What the repositories report in their own terms; the services decide what it means."""

from __future__ import annotations


class Duplicate(Exception):
    """The row would break a uniqueness rule of its table (a taken name or e-mail address)."""
