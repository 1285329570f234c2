"""The one query readiness needs: does the database answer?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_PING = text("SELECT 1")


def ping(*, session: Session) -> None:
    session.execute(_PING)
