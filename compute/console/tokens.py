"""Console auth tokens: made by the API for a server's VNC console, checked by
``stratus-compute-novncproxy`` before it connects a browser to the guest.

Only a hash of each token is stored; a token names the guest's VNC endpoint on
its compute node and expires after ``[consoleauth] token_ttl`` seconds.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import sqlalchemy as sa

from common import exception as common_exception
from common.db import engine
from compute.db import models


class InvalidToken(common_exception.Unauthorized):
    msg_fmt = "The console token is invalid or has expired."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleTokens:
    def __init__(self, db: engine.Database, clock: Any = time.time) -> None:
        self.db = db
        self._clock = clock

    def create(self, instance_uuid: str, console_type: str, host: str, port: int,
               access_url_base: str | None, ttl: int) -> str:
        """Store a new token for the guest's console at ``host:port``; returns it."""
        token = secrets.token_urlsafe(32)
        now = int(self._clock())
        with self.db.writer() as session:
            session.execute(sa.delete(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.expires < now))
            session.add(models.ConsoleAuthToken(
                token_hash=_hash(token), instance_uuid=instance_uuid,
                console_type=console_type, host=host, port=int(port),
                access_url_base=access_url_base, expires=now + int(ttl)))
        return token

    def validate(self, token: str) -> dict[str, Any]:
        """The console a token opens: ``instance_uuid``, ``console_type``, ``host``,
        ``port``. :raises: InvalidToken (401) for an unknown or expired token."""
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.token_hash == _hash(token))).first()
            if row is None or row.expires < int(self._clock()):
                raise InvalidToken()
            return {"instance_uuid": row.instance_uuid, "console_type": row.console_type,
                    "host": row.host, "port": row.port}

    def delete_for_instance(self, instance_uuid: str) -> None:
        """Forget every token of an instance (it was deleted or moved)."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.instance_uuid == instance_uuid))
