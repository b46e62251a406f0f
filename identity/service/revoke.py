"""Revocation events, and a check against them that reads the DB at most once
per ``[token] revocation_cache_time`` seconds."""
from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import sqlalchemy as sa

from identity.db import models as M
from identity.service import base


class RevokeService:
    def __init__(self, store: base.Store, cache_time: float, keep_seconds: int) -> None:
        self.store = store
        self.cache_time = cache_time
        self.keep_seconds = keep_seconds
        self._events: list[Any] = []
        self._loaded_at = -float("inf")
        self._lock = threading.Lock()

    def revoke(self, issued_before: datetime.datetime | None = None, **fields: Any) -> None:
        """Record that tokens matching ``fields`` and issued before now are invalid."""
        now = base_now()
        with self.store.writer() as session:
            session.add(M.RevocationEvent(issued_before=issued_before or now, revoked_at=now,
                                          **fields))
            cutoff = now - datetime.timedelta(seconds=self.keep_seconds)
            session.execute(sa.delete(M.RevocationEvent).where(
                M.RevocationEvent.revoked_at < cutoff))
        self._loaded_at = -float("inf")

    def _current(self) -> list[Any]:
        if time.monotonic() - self._loaded_at < self.cache_time:
            return self._events
        with self._lock:
            if time.monotonic() - self._loaded_at >= self.cache_time:
                with self.store.reader() as session:
                    self._events = [
                        (e.user_id, e.project_id, e.domain_id, e.audit_id, e.audit_chain_id,
                         e.app_cred_id, e.issued_before)
                        for e in session.scalars(sa.select(M.RevocationEvent))]
                self._loaded_at = time.monotonic()
        return self._events

    def is_revoked(self, user_id: str, project_id: str | None, domain_id: str | None,
                   audit_ids: list[str], app_cred_id: str | None,
                   issued_at: datetime.datetime) -> bool:
        audit_id = audit_ids[0] if audit_ids else None
        chain_id = audit_ids[-1] if audit_ids else None
        for e_user, e_project, e_domain, e_audit, e_chain, e_app, before in self._current():
            if issued_at > before:
                continue
            if e_audit is not None and e_audit != audit_id:
                continue
            if e_chain is not None and e_chain != chain_id:
                continue
            if e_user is not None and e_user != user_id:
                continue
            if e_project is not None and e_project != project_id:
                continue
            if e_domain is not None and e_domain != domain_id:
                continue
            if e_app is not None and e_app != app_cred_id:
                continue
            return True
        return False

    def list_events(self) -> list[Any]:
        with self.store.reader() as session:
            return list(session.scalars(sa.select(M.RevocationEvent)))


def base_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
