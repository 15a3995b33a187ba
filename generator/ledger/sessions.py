"""Workbench sessions ended by 退出, in the ledger database every replica shares.

A session cookie is signed with the secret all replicas share, so any of them
accepts it; ending one (退出) must therefore be written where all of them look.
The ledger's ``ended_sessions`` table holds each ended session's id until its
absolute lifetime is over (rows past it are removed as new ones are written);
each replica asks it, by primary key, on every signed-in request.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import OperationalError

from ..clock import utc_text
from .schema import ENDED_SESSIONS
from .store import Ledger

__all__ = ["end_session", "session_ended"]


def end_session(ledger: Ledger, session_id: str, login: str, expires: float) -> None:
    """Record a session as ended until ``expires`` (a POSIX time); ending it twice is once."""
    until = utc_text(dt.datetime.fromtimestamp(expires, dt.UTC))
    with ledger.writing() as conn:
        conn.execute(delete(ENDED_SESSIONS).where(ENDED_SESSIONS.c.expires_at < utc_text()))
        known = select(ENDED_SESSIONS.c.session_id).where(ENDED_SESSIONS.c.session_id == session_id)
        if conn.execute(known).first() is None:
            conn.execute(
                insert(ENDED_SESSIONS).values(
                    session_id=session_id, login=login, ended_at=utc_text(), expires_at=until
                )
            )


def session_ended(ledger: Ledger, session_id: str) -> bool:
    """Return whether a session was ended by 退出 on any replica sharing this ledger."""
    query = select(ENDED_SESSIONS.c.session_id).where(ENDED_SESSIONS.c.session_id == session_id)
    try:
        with ledger.engine.connect() as conn:
            return conn.execute(query).first() is not None
    except OperationalError as exc:
        raise ledger.unreachable(exc) from exc
