"""What a token carries, and its encrypted, signed wire form."""
from __future__ import annotations

import base64
import dataclasses
import datetime
import os

import msgpack
from cryptography import fernet

from common import exception
from identity import exception as identity_exception
from identity.tokens import keys as token_keys

VERSION = 1
UNSCOPED, PROJECT, DOMAIN, SYSTEM = "unscoped", "project", "domain", "system"


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _epoch(value: datetime.datetime) -> float:
    """Seconds since the epoch of a naive UTC datetime (whatever the host's zone)."""
    return value.replace(tzinfo=datetime.timezone.utc).timestamp()


@dataclasses.dataclass
class TokenPayload:
    user_id: str
    methods: list[str]
    scope_type: str
    scope_id: str | None
    expires_at: datetime.datetime
    issued_at: datetime.datetime
    audit_ids: list[str]
    app_cred_id: str | None = None

    def pack(self) -> bytes:
        return msgpack.packb([VERSION, self.user_id, self.methods, self.scope_type,
                              self.scope_id, _epoch(self.expires_at),
                              _epoch(self.issued_at), self.audit_ids,
                              self.app_cred_id])

    @classmethod
    def unpack(cls, data: bytes) -> "TokenPayload":
        fields = msgpack.unpackb(data)
        if not isinstance(fields, list) or len(fields) != 9 or fields[0] != VERSION:
            raise exception.Unauthorized("The request you have made requires authentication.")
        conv = datetime.datetime.fromtimestamp
        return cls(fields[1], list(fields[2]), fields[3], fields[4],
                   conv(fields[5], datetime.timezone.utc).replace(tzinfo=None),
                   conv(fields[6], datetime.timezone.utc).replace(tzinfo=None),
                   list(fields[7]), fields[8])


def encode(repo: token_keys.KeyRepository, payload: TokenPayload) -> str:
    token = repo.multi().encrypt(payload.pack()).decode()
    return token.rstrip("=")


def decode(repo: token_keys.KeyRepository, token_id: str) -> TokenPayload:
    """Decrypt and verify ``token_id``.

    :raises: NotFound when the token is garbled or signed by an unknown key.
    """
    if not token_id or len(token_id) > 1024:
        raise identity_exception.TokenNotFound(id="(empty)")
    padded = token_id + "=" * (-len(token_id) % 4)
    try:
        data = repo.multi().decrypt(padded.encode())
        return TokenPayload.unpack(data)
    except (fernet.InvalidToken, ValueError, TypeError, msgpack.UnpackException):
        raise identity_exception.TokenNotFound(id=token_id[:16] + "...")
