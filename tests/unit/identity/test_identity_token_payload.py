"""Token payloads: msgpack packing, Fernet encoding, tamper detection."""
from __future__ import annotations

import datetime
import os
import time
from typing import Iterator

import msgpack
import pytest
from cryptography import fernet

from common import exception as common_exc
from identity import exception
from identity.tokens import keys
from identity.tokens import payload as P


@pytest.fixture
def repo(tmp_path: os.PathLike[str]) -> keys.KeyRepository:
    repository = keys.KeyRepository(os.path.join(str(tmp_path), "keys"))
    repository.setup()
    return repository


def _payload(**overrides: object) -> P.TokenPayload:
    now = P.utcnow().replace(microsecond=123456)
    values: dict[str, object] = dict(
        user_id="u" * 32, methods=["password", "token"], scope_type=P.PROJECT,
        scope_id="p" * 32, expires_at=now + datetime.timedelta(hours=1), issued_at=now,
        audit_ids=[P.new_audit_id(), P.new_audit_id()], app_cred_id=None)
    values.update(overrides)
    return P.TokenPayload(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("overrides", [
    {}, {"scope_type": P.UNSCOPED, "scope_id": None}, {"scope_type": P.SYSTEM,
                                                       "scope_id": "system"},
    {"app_cred_id": "a" * 32, "methods": ["application_credential"]},
    {"user_id": "ü-user", "audit_ids": ["only-one"]},
])
def test_pack_unpack_round_trip(overrides: dict[str, object]) -> None:
    original = _payload(**overrides)
    assert P.TokenPayload.unpack(original.pack()) == original


def test_encode_decode_round_trip(repo: keys.KeyRepository) -> None:
    original = _payload()
    token = P.encode(repo, original)
    assert "=" not in token  # padding is stripped from the wire form
    assert P.decode(repo, token) == original


def test_new_audit_ids_are_unique_and_urlsafe() -> None:
    ids = {P.new_audit_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 22 and "=" not in i and "+" not in i and "/" not in i for i in ids)


def test_every_encoding_differs(repo: keys.KeyRepository) -> None:
    payload = _payload()
    assert P.encode(repo, payload) != P.encode(repo, payload)


def test_tampering_is_detected(repo: keys.KeyRepository) -> None:
    token = P.encode(repo, _payload())
    for index in (10, len(token) // 2, len(token) - 5):
        flipped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]
        with pytest.raises(exception.TokenNotFound):
            P.decode(repo, flipped)
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, token[:-4])
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, token + "AAAA")


@pytest.mark.parametrize("garbage", ["", "x", "not a token", "gAAAAA" + "=" * 10, "a" * 1025,
                                     "\u00fc" * 40])
def test_garbage_is_not_found(repo: keys.KeyRepository, garbage: str) -> None:
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, garbage)


def test_token_from_another_repository_is_not_found(repo: keys.KeyRepository,
                                                    tmp_path: os.PathLike[str]) -> None:
    other = keys.KeyRepository(os.path.join(str(tmp_path), "other"))
    other.setup()
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, P.encode(other, _payload()))


def test_wrong_payload_version_is_refused(repo: keys.KeyRepository) -> None:
    fields = msgpack.unpackb(_payload().pack())
    fields[0] = P.VERSION + 1
    with pytest.raises(common_exc.Unauthorized):
        P.TokenPayload.unpack(msgpack.packb(fields))
    with pytest.raises(common_exc.Unauthorized):
        P.TokenPayload.unpack(msgpack.packb(fields[:5]))


def test_encrypted_non_payload_is_not_a_token(repo: keys.KeyRepository) -> None:
    token = repo.multi().encrypt(b"\xc1 not msgpack").decode().rstrip("=")
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, token)


def test_signed_by_any_key_of_the_repository(repo: keys.KeyRepository) -> None:
    staged = open(os.path.join(repo.path, "0"), "rb").read()
    token = fernet.Fernet(staged).encrypt(_payload().pack()).decode()
    assert P.decode(repo, token).user_id == "u" * 32


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with the host's local time zone set to UTC+9."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_round_trip_does_not_depend_on_the_local_time_zone(tokyo: None) -> None:
    original = _payload()
    assert P.TokenPayload.unpack(original.pack()).expires_at == original.expires_at
