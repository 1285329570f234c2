"""Optimistic concurrency: which versions of a resource a change may apply to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Versions:
    """Any version (``ANY``), or only these."""

    numbers: frozenset[int] = frozenset()
    any: bool = False

    ANY: ClassVar[Versions]

    @classmethod
    def of(cls, numbers: Iterable[int]) -> Versions:
        return cls(numbers=frozenset(numbers))

    def allow(self, version: int) -> bool:
        return self.any or version in self.numbers


Versions.ANY = Versions(any=True)
