"""Password hashing with bcrypt (cost from [identity] password_hash_rounds).

bcrypt holds the GIL for its whole run (about 0.3 s at cost 12), which would
stall every other request of a threaded API process. So hashing and checking
run in a small pool of helper processes; and a successful check is remembered
for a few minutes (keyed by an HMAC with a per-process random key, never the
password itself), so clients that authenticate again and again cost one
bcrypt run, not one per token.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time

from common import exception
from identity.service import hashworker

_BCRYPT_MAX = 72
_VERIFIED_TTL = 300.0
_VERIFIED_MAX = 10000

_lock = threading.Lock()
_pool: hashworker.HelperPool | None = None
_memo_key = os.urandom(32)
_verified: dict[bytes, float] = {}


def _helpers() -> hashworker.HelperPool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = hashworker.HelperPool(size=min(4, os.cpu_count() or 2))
        return _pool


def _prepare(password: str, max_length: int) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > max_length:
        raise exception.ValidationError(field="password",
                                        detail="Password is longer than %d bytes." % max_length)
    return raw[:_BCRYPT_MAX]


def hash_password(password: str, rounds: int, max_length: int = 4096) -> str:
    raw = _prepare(password, max_length)
    return str(_helpers().call("hash", raw, rounds))


def check_password(password: str | None, hashed: str | None) -> bool:
    if not password or not hashed:
        return False
    raw = password.encode("utf-8")[:_BCRYPT_MAX]
    memo = hmac.new(_memo_key, hashed.encode() + b"\0" + raw, hashlib.sha256).digest()
    now = time.monotonic()
    if _verified.get(memo, 0.0) > now:
        return True
    try:
        ok = bool(_helpers().call("check", raw, hashed.encode()))
    except ValueError:
        return False
    if ok:
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[memo] = now + _VERIFIED_TTL
    return ok
