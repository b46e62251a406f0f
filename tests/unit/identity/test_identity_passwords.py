"""Password hashing and checking (bcrypt)."""
from __future__ import annotations

import pytest

from common import exception
from identity.service import passwords

ROUNDS = 4


def test_hash_and_check() -> None:
    hashed = passwords.hash_password("correct horse", ROUNDS)
    assert hashed.startswith("$2") and "correct horse" not in hashed
    assert passwords.check_password("correct horse", hashed) is True
    assert passwords.check_password("wrong horse", hashed) is False
    assert passwords.check_password("correct horse ", hashed) is False


def test_hashes_are_salted() -> None:
    assert passwords.hash_password("same", ROUNDS) != passwords.hash_password("same", ROUNDS)


def test_cost_is_recorded_in_the_hash() -> None:
    assert passwords.hash_password("pw", ROUNDS).split("$")[2] == "04"
    assert passwords.hash_password("pw", 5).split("$")[2] == "05"


@pytest.mark.parametrize("candidate,hashed", [
    (None, "$2b$04$abcdefghijklmnopqrstuu"), ("", "x"), ("pw", None), ("pw", ""),
    ("pw", "not-a-bcrypt-hash"),
])
def test_missing_or_bad_inputs_never_match(candidate: str | None, hashed: str | None) -> None:
    assert passwords.check_password(candidate, hashed) is False


def test_unicode_passwords() -> None:
    hashed = passwords.hash_password("pässwörd-\u2603", ROUNDS)
    assert passwords.check_password("pässwörd-\u2603", hashed) is True
    assert passwords.check_password("passwort-\u2603", hashed) is False


def test_passwords_longer_than_72_bytes() -> None:
    long_password = "p" * 60 + "q" * 40
    hashed = passwords.hash_password(long_password, ROUNDS)
    assert passwords.check_password(long_password, hashed) is True
    assert passwords.check_password("x" + long_password[1:], hashed) is False
    # bcrypt reads only the first 72 bytes (documented for max_password_length)
    assert passwords.check_password(long_password[:72] + "anything", hashed) is True


def test_too_long_is_a_validation_error() -> None:
    passwords.hash_password("x" * 100, ROUNDS, max_length=100)
    with pytest.raises(exception.ValidationError) as caught:
        passwords.hash_password("x" * 101, ROUNDS, max_length=100)
    assert caught.value.code == 400
    assert "password" in caught.value.message


def test_length_limit_counts_bytes() -> None:
    with pytest.raises(exception.ValidationError):
        passwords.hash_password("\u00fc" * 51, ROUNDS, max_length=100)  # 102 bytes
    passwords.hash_password("\u00fc" * 50, ROUNDS, max_length=100)


def test_default_limit_is_4096_bytes() -> None:
    passwords.hash_password("x" * 4096, ROUNDS)
    with pytest.raises(exception.ValidationError):
        passwords.hash_password("x" * 4097, ROUNDS)
