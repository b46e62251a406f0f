"""The Fernet key repository: setup, rotation, pruning, and validation across rotations."""
from __future__ import annotations

import datetime
import os

import pytest
from cryptography import fernet

from common import exception as common_exc
from identity import exception
from identity.tokens import keys
from identity.tokens import payload as P


def _read(repo: keys.KeyRepository, index: int) -> bytes:
    with open(os.path.join(repo.path, str(index)), "rb") as handle:
        return handle.read()


def _indexes(repo: keys.KeyRepository) -> list[int]:
    return sorted(int(n) for n in os.listdir(repo.path) if n.isdigit())


def _payload() -> P.TokenPayload:
    now = P.utcnow()
    return P.TokenPayload("user", ["password"], P.UNSCOPED, None,
                          now + datetime.timedelta(hours=1), now, [P.new_audit_id()])


@pytest.fixture
def repo(tmp_path: os.PathLike[str]) -> keys.KeyRepository:
    return keys.KeyRepository(os.path.join(str(tmp_path), "keys"), max_active_keys=3)


def test_setup_creates_staged_and_primary(repo: keys.KeyRepository) -> None:
    assert repo.setup() is True
    assert _indexes(repo) == [0, 1]
    assert oct(os.stat(repo.path).st_mode & 0o777) == oct(0o700)
    for index in (0, 1):
        assert oct(os.stat(os.path.join(repo.path, str(index))).st_mode & 0o777) == oct(0o600)
        fernet.Fernet(_read(repo, index))  # a valid key
    assert _read(repo, 0) != _read(repo, 1)
    assert repo.setup() is False
    assert _indexes(repo) == [0, 1]


def test_highest_key_is_primary(repo: keys.KeyRepository) -> None:
    repo.setup()
    token = repo.multi().encrypt(b"data")
    assert fernet.Fernet(_read(repo, 1)).decrypt(token) == b"data"
    with pytest.raises(fernet.InvalidToken):
        fernet.Fernet(_read(repo, 0)).decrypt(token)


def test_rotate_promotes_the_staged_key(repo: keys.KeyRepository) -> None:
    repo.setup()
    staged = _read(repo, 0)
    assert repo.rotate() == 2
    assert _indexes(repo) == [0, 1, 2]
    assert _read(repo, 2) == staged
    assert _read(repo, 0) != staged
    assert fernet.Fernet(_read(repo, 2)).decrypt(repo.multi().encrypt(b"x")) == b"x"


@pytest.mark.parametrize("max_active", [2, 3, 5])
def test_rotate_respects_max_active_keys(tmp_path: os.PathLike[str], max_active: int) -> None:
    repo = keys.KeyRepository(os.path.join(str(tmp_path), "k"), max_active_keys=max_active)
    repo.setup()
    for expected_primary in range(2, 9):
        assert repo.rotate() == expected_primary
        found = _indexes(repo)
        assert len(found) <= max_active
        assert found[0] == 0 and found[-1] == expected_primary
    assert len(_indexes(repo)) == max_active
    # the newest secondaries are the ones kept
    assert _indexes(repo)[1:] == list(range(9 - max_active + 1, 9))


def test_previous_primary_validates_until_rotated_out(repo: keys.KeyRepository) -> None:
    repo.setup()
    token = P.encode(repo, _payload())
    repo.rotate()
    assert P.decode(repo, token).user_id == "user"
    repo.rotate()  # with three keys, the key that signed it is now gone
    with pytest.raises(exception.TokenNotFound):
        P.decode(repo, token)


def test_staged_key_validates_before_promotion(repo: keys.KeyRepository) -> None:
    repo.setup()
    # another node promoted its copy of key 0 and signs with it already
    token = fernet.Fernet(_read(repo, 0)).encrypt(_payload().pack()).decode()
    assert P.decode(repo, token).user_id == "user"


def test_changes_on_disk_are_picked_up(repo: keys.KeyRepository,
                                       tmp_path: os.PathLike[str]) -> None:
    repo.setup()
    first = repo.multi()
    assert repo.multi() is first  # cached while nothing changes
    other = keys.KeyRepository(repo.path, max_active_keys=3)
    other.rotate()  # e.g. fernet-rotate run by another process
    token = fernet.Fernet(_read(repo, 2)).encrypt(b"new primary")
    assert repo.multi().decrypt(token) == b"new primary"


def test_rotate_without_keys_fails(repo: keys.KeyRepository) -> None:
    with pytest.raises(common_exc.ServiceUnavailable):
        repo.rotate()


def test_missing_repository_is_service_unavailable(repo: keys.KeyRepository) -> None:
    with pytest.raises(common_exc.ServiceUnavailable):
        repo.multi()
    os.makedirs(repo.path)
    with pytest.raises(common_exc.ServiceUnavailable):
        repo.multi()
