"""Password hashing with bcrypt (cost from [identity] password_hash_rounds)."""
from __future__ import annotations

import bcrypt

from common import exception

_BCRYPT_MAX = 72


def _prepare(password: str, max_length: int) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > max_length:
        raise exception.ValidationError(field="password",
                                        detail="Password is longer than %d bytes." % max_length)
    return raw[:_BCRYPT_MAX]


def hash_password(password: str, rounds: int, max_length: int = 4096) -> str:
    return bcrypt.hashpw(_prepare(password, max_length), bcrypt.gensalt(rounds)).decode()


def check_password(password: str | None, hashed: str | None) -> bool:
    if not password or not hashed:
        return False
    raw = password.encode("utf-8")[:_BCRYPT_MAX]
    try:
        return bcrypt.checkpw(raw, hashed.encode())
    except ValueError:
        return False
