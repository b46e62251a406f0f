"""RevokeService: which tokens a revocation event matches, and its event cache."""
from __future__ import annotations

import datetime
import os
from typing import Any, Iterator

import pytest

from common.db import engine
from identity.db import models as M
from identity.service import base
from identity.service import cache as cache_mod
from identity.service import revoke

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def store(tmp_path: os.PathLike[str]) -> Iterator[base.Store]:
    db = engine.Database(engine.create_engine(
        "sqlite:///" + os.path.join(str(tmp_path), "identity.sqlite")))
    M.Base.metadata.create_all(db.engine)
    yield base.Store(db, cache_mod.Cache(0))
    db.dispose()


@pytest.fixture
def service(store: base.Store) -> revoke.RevokeService:
    return revoke.RevokeService(store, cache_time=0, keep_seconds=7 * 24 * 3600)


def _past(delta: datetime.timedelta = HOUR) -> datetime.datetime:
    return revoke.base_now() - delta


def _token(**overrides: Any) -> dict[str, Any]:
    """is_revoked arguments of a project-scoped token issued an hour ago."""
    values: dict[str, Any] = dict(user_id="alice", project_id="p1", domain_id=None,
                                  audit_ids=["audit-self"], app_cred_id=None,
                                  issued_at=_past())
    values.update(overrides)
    return values


def test_nothing_revoked(service: revoke.RevokeService) -> None:
    assert service.is_revoked(**_token()) is False


def test_by_audit_id(service: revoke.RevokeService) -> None:
    service.revoke(audit_id="audit-self")
    assert service.is_revoked(**_token()) is True
    assert service.is_revoked(**_token(audit_ids=["audit-other"])) is False
    # a token rescoped from the revoked one has its own audit id: not matched
    assert service.is_revoked(**_token(audit_ids=["audit-child", "audit-self"])) is False


def test_by_audit_chain(service: revoke.RevokeService) -> None:
    service.revoke(audit_chain_id="chain")
    assert service.is_revoked(**_token(audit_ids=["chain"])) is True
    assert service.is_revoked(**_token(audit_ids=["child", "chain"])) is True
    assert service.is_revoked(**_token(audit_ids=["child", "other"])) is False


def test_by_user(service: revoke.RevokeService) -> None:
    service.revoke(user_id="alice")
    assert service.is_revoked(**_token()) is True
    assert service.is_revoked(**_token(project_id=None)) is True
    assert service.is_revoked(**_token(project_id=None, domain_id="d1")) is True
    assert service.is_revoked(**_token(user_id="bob")) is False


def test_by_project(service: revoke.RevokeService) -> None:
    service.revoke(project_id="p1")
    assert service.is_revoked(**_token()) is True
    assert service.is_revoked(**_token(user_id="bob")) is True
    assert service.is_revoked(**_token(project_id="p2")) is False
    assert service.is_revoked(**_token(project_id=None)) is False


def test_by_domain(service: revoke.RevokeService) -> None:
    service.revoke(domain_id="d1")
    assert service.is_revoked(**_token(project_id=None, domain_id="d1")) is True
    assert service.is_revoked(**_token(project_id=None, domain_id="d2")) is False


def test_by_application_credential(service: revoke.RevokeService) -> None:
    service.revoke(app_cred_id="app1")
    assert service.is_revoked(**_token(app_cred_id="app1")) is True
    assert service.is_revoked(**_token(app_cred_id="app2")) is False
    assert service.is_revoked(**_token()) is False


def test_every_field_of_an_event_must_match(service: revoke.RevokeService) -> None:
    service.revoke(user_id="alice", project_id="p1")
    assert service.is_revoked(**_token()) is True
    assert service.is_revoked(**_token(project_id="p2")) is False
    assert service.is_revoked(**_token(user_id="bob")) is False


def test_tokens_issued_later_are_not_revoked(service: revoke.RevokeService) -> None:
    service.revoke(user_id="alice")
    later = revoke.base_now() + datetime.timedelta(seconds=1)
    assert service.is_revoked(**_token(issued_at=later)) is False


def test_issued_before_is_respected(service: revoke.RevokeService) -> None:
    cutoff = _past(datetime.timedelta(minutes=30))
    service.revoke(issued_before=cutoff, user_id="alice")
    assert service.is_revoked(**_token(issued_at=_past(HOUR))) is True
    assert service.is_revoked(**_token(issued_at=cutoff)) is True
    assert service.is_revoked(**_token(issued_at=_past(datetime.timedelta(minutes=10)))) \
        is False


def test_events_are_stored(service: revoke.RevokeService) -> None:
    service.revoke(user_id="alice")
    service.revoke(audit_id="a1")
    events = service.list_events()
    assert {(e.user_id, e.audit_id) for e in events} == {("alice", None), (None, "a1")}
    assert all(e.issued_before <= e.revoked_at for e in events)


def test_old_events_are_pruned(store: base.Store) -> None:
    service = revoke.RevokeService(store, cache_time=0, keep_seconds=3600)
    with store.writer() as session:
        session.add(M.RevocationEvent(user_id="ancient", issued_before=_past(3 * HOUR),
                                      revoked_at=_past(2 * HOUR)))
    service.revoke(user_id="recent")
    assert [e.user_id for e in service.list_events()] == ["recent"]


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_other_processes_see_events_after_the_cache_time(store: base.Store,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    clock = _Clock(10_000.0)
    monkeypatch.setattr(revoke.time, "monotonic", clock)
    here = revoke.RevokeService(store, cache_time=5, keep_seconds=3600)
    there = revoke.RevokeService(store, cache_time=5, keep_seconds=3600)
    assert there.is_revoked(**_token()) is False  # loads (empty) events
    here.revoke(user_id="alice")
    assert here.is_revoked(**_token()) is True  # the revoking process sees it at once
    clock.now += 4
    assert there.is_revoked(**_token()) is False  # still within its cache time
    clock.now += 2
    assert there.is_revoked(**_token()) is True


def test_events_are_read_on_a_recently_booted_host(store: base.Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(revoke.time, "monotonic", _Clock(30.0))
    service = revoke.RevokeService(store, cache_time=60, keep_seconds=3600)
    service.revoke(user_id="alice")
    assert service.is_revoked(**_token()) is True
